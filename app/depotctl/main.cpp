// depotctl: Depot's command line. Parses the command line, runs one command against the broker through the
// client library (depot/client/*.h) and exits 0 (done), 1 (the operation failed) or 2 (usage error).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "CommandLine.h"
#include "Commands.h"
#include "Context.h"
#include "depot/BuildInfo.h"

namespace {

using namespace depotctl;

void printText(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

int usageFailure(const UsageError& error, const ParsedCommandLine* parsed) {
    std::string message = error.what();
    if (error.withHint() && parsed && parsed->command)
        message += " (see depotctl " + parsed->command->name + " --help)";
    printError(message);
    return kExitUsage;
}

int showHelpOrVersion(const ParsedCommandLine& parsed) {
    if (parsed.version && !parsed.help && !parsed.command) {
        printText("depotctl " + depot::buildInfoText() + "\n");
        return kExitOk;
    }
    if (parsed.command)
        printText(commandHelp(*parsed.command));
    else if (!parsed.group.empty())
        printText(groupHelp(parsed.group));
    else
        printText(overviewHelp());
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    // A reader that goes away (`depotctl queue list | head -1`) is an I/O error, not a crash.
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> args(argv + 1, argv + argc);
    ParsedCommandLine parsed;
    try {
        parsed = parseCommandLine(allCommands(), args, std::getenv("DEPOT_ENDPOINT"));
    } catch (const UsageError& error) {
        return usageFailure(error, nullptr);
    }
    if (parsed.help || parsed.version || !parsed.command)
        return showHelpOrVersion(parsed);
    Context context(parsed.global);
    try {
        return parsed.command->run(context, parsed.arguments);
    } catch (const UsageError& error) {
        return usageFailure(error, &parsed);
    }
}
