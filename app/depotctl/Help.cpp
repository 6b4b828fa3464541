// The command registry and the help texts built from it.
#include <algorithm>

#include "Commands.h"

namespace depotctl {

namespace {

constexpr const char* kGlobalUsage =
    "usage: depotctl [--endpoint ENDPOINT] [--json] [--timeout D] COMMAND [ARGS...]\n"
    "\n"
    "Drives a Depot broker (depotd, or the console's embedded broker) over ZeroMQ.\n"
    "\n"
    "global options (before or after the command):\n"
    "  --endpoint ENDPOINT  the broker; default $DEPOT_ENDPOINT, else tcp://127.0.0.1:7420\n"
    "  --json               machine-readable output: JSON objects, one per line\n"
    "  --timeout D          how long each request may take (250ms, 5s, 1m; default 10s)\n"
    "  --help, -h           help (also `depotctl COMMAND --help`, `depotctl help COMMAND`)\n"
    "  --version            versions of depotctl and its libraries\n"
    "\n"
    "exit status: 0 success; 1 the operation failed (nacked, timed out, not found, broker unreachable);\n"
    "2 usage error. Errors are one line on stderr, starting with 'depotctl: '.\n";

std::string optionLine(const OptionSpec& option) {
    std::string left = "  " + option.name + (option.value.empty() ? "" : " " + option.value);
    if (option.repeatable)
        left += " ...";
    if (left.size() < 30)
        left.resize(30, ' ');
    else
        left += "\n" + std::string(30, ' ');
    return left + option.help + "\n";
}

std::string usageLine(const CommandSpec& command) {
    std::string line = "depotctl " + command.name;
    if (!command.synopsis.empty())
        line += " " + command.synopsis;
    if (!command.options.empty())
        line += " [options]";
    return line;
}

}  // namespace

const std::vector<CommandSpec>& allCommands() {
    static const std::vector<CommandSpec> kCommands = [] {
        std::vector<CommandSpec> all;
        for (auto part : {queueCommands, exchangeCommands, publishCommands, consumeCommands, dlqCommands,
                          dlqRequeueCommands, dlqTransferCommands, infoCommands, replicaCommands}) {
            std::vector<CommandSpec> commands = part();
            all.insert(all.end(), commands.begin(), commands.end());
        }
        return all;
    }();
    return kCommands;
}

std::string overviewHelp() {
    std::string out = kGlobalUsage;
    out += "\ncommands:\n";
    for (const CommandSpec& command : allCommands()) {
        std::string left = "  " + command.name;
        left.resize(std::max<size_t>(left.size() + 2, 22), ' ');
        out += left + command.summary + "\n";
    }
    return out;
}

std::string groupHelp(const std::string& group) {
    std::string out = "usage: depotctl " + group + " SUBCOMMAND ...\n\nsubcommands:\n";
    for (const CommandSpec& command : allCommands()) {
        if (command.name.rfind(group + " ", 0) != 0)
            continue;
        out += "  " + usageLine(command) + "\n      " + command.summary + "\n";
    }
    return out + "\nSee `depotctl " + group + " SUBCOMMAND --help`.\n";
}

std::string commandHelp(const CommandSpec& command) {
    std::string out = "usage: " + usageLine(command) + "\n\n" + command.summary + "\n";
    if (!command.details.empty())
        out += "\n" + command.details + (command.details.back() == '\n' ? "" : "\n");
    if (!command.options.empty()) {
        out += "\noptions:\n";
        for (const OptionSpec& option : command.options)
            out += optionLine(option);
    }
    return out + "\nglobal options: --endpoint ENDPOINT, --json, --timeout D (see depotctl --help)\n";
}

void requireYes(const std::string& command, const std::string& what) {
    throw UsageError(command + " would remove " + what + "; nothing was done. Repeat with --yes to do it", false);
}

}  // namespace depotctl
