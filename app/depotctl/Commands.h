#pragma once
// The commands of depotctl, by area. Each function returns its area's CommandSpecs (name, options, help, handler).
#include <string>
#include <vector>

#include "CommandLine.h"

namespace depotctl {

std::vector<CommandSpec> queueCommands();        // queue declare|list|show|purge|delete
std::vector<CommandSpec> exchangeCommands();     // exchange declare|list|delete, bind, unbind
std::vector<CommandSpec> publishCommands();      // publish
std::vector<CommandSpec> consumeCommands();      // consume
std::vector<CommandSpec> dlqCommands();          // dlq list|show|delete|purge
std::vector<CommandSpec> dlqRequeueCommands();   // dlq requeue
std::vector<CommandSpec> dlqTransferCommands();  // dlq export|import
std::vector<CommandSpec> statsCommands();        // stats
std::vector<CommandSpec> infoCommands();         // trace, sessions, broker show|set, tx commit|rollback
std::vector<CommandSpec> replicaCommands();      // replica status|promote

// Every command, in the order help lists them.
const std::vector<CommandSpec>& allCommands();

// Help texts (stdout): the overview, one group's commands ("queue"), one command.
std::string overviewHelp();
std::string groupHelp(const std::string& group);
std::string commandHelp(const CommandSpec& command);

// UsageError for a destructive command run without --yes; `what` says what it would remove.
[[noreturn]] void requireYes(const std::string& command, const std::string& what);

}  // namespace depotctl
