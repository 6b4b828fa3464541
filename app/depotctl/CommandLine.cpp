#include "CommandLine.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "depot/broker/Duration.h"

namespace depotctl {

namespace {

const std::vector<OptionSpec>& globalOptions() {
    static const std::vector<OptionSpec> kGlobal = {
        {"--endpoint", "ENDPOINT", "", false}, {"--json", "", "", false}, {"--timeout", "D", "", false}};
    return kGlobal;
}

const OptionSpec* findOption(const std::vector<OptionSpec>& options, const std::string& name) {
    auto it = std::find_if(options.begin(), options.end(), [&](const OptionSpec& o) { return o.name == name; });
    return it == options.end() ? nullptr : &*it;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

Millis parseTimeout(const std::string& text) {
    auto parsed = depot::broker::parseDuration(text);
    if (!parsed)
        throw UsageError("--timeout: " + parsed.status().message());
    if (parsed->count() <= 0)
        throw UsageError("--timeout must be positive");
    return *parsed;
}

void applyGlobal(ParsedCommandLine& parsed, const std::string& name, const std::string& value) {
    if (name == "--endpoint") {
        if (value.empty())
            throw UsageError("--endpoint needs an endpoint such as tcp://127.0.0.1:7420");
        parsed.global.endpoint = value;
    } else if (name == "--json") {
        parsed.global.json = true;
    } else if (name == "--timeout") {
        parsed.global.timeout = parseTimeout(value);
    }
}

// Reads "--name" or "--name=value" at args[i], with its value from the next argument when it takes one.
// Returns false when `options` has no such option.
bool takeOption(const std::vector<OptionSpec>& options, const std::vector<std::string>& args, size_t& i,
                std::string& name, std::string& value) {
    const std::string& arg = args[i];
    const size_t equals = arg.find('=');
    name = arg.substr(0, equals);
    const OptionSpec* spec = findOption(options, name);
    if (!spec)
        return false;
    if (spec->value.empty()) {
        if (equals != std::string::npos)
            throw UsageError(name + " takes no value");
        value.clear();
    } else if (equals != std::string::npos) {
        value = arg.substr(equals + 1);
    } else {
        if (i + 1 >= args.size())
            throw UsageError(name + " needs a value (" + spec->value + ")");
        value = args[++i];
    }
    ++i;
    return true;
}

bool isOptionLike(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

// The commands whose name starts with `group` + " ".
std::vector<const CommandSpec*> groupMembers(const std::vector<CommandSpec>& commands, const std::string& group) {
    std::vector<const CommandSpec*> members;
    for (const CommandSpec& command : commands)
        if (command.name.rfind(group + " ", 0) == 0)
            members.push_back(&command);
    return members;
}

// Finds the command named by args[i] (and args[i + 1] for a group). Leaves parsed.group set for a bare group.
void findCommand(const std::vector<CommandSpec>& commands, const std::vector<std::string>& args, size_t& i,
                 ParsedCommandLine& parsed) {
    const std::string word = args[i++];
    for (const CommandSpec& command : commands)
        if (command.name == word) {
            parsed.command = &command;
            return;
        }
    std::vector<const CommandSpec*> members = groupMembers(commands, word);
    if (members.empty())
        throw UsageError("unknown command " + quoted(word) + " (see depotctl --help)", false);
    parsed.group = word;
    std::string names;
    for (const CommandSpec* member : members)
        names += (names.empty() ? "" : ", ") + member->name.substr(word.size() + 1);
    if (i >= args.size() && parsed.help)
        return;
    if (i >= args.size())
        throw UsageError(quoted(word) + " needs a subcommand: " + names, false);
    if (args[i] == "--help" || args[i] == "-h") {
        parsed.help = true;
        return;
    }
    const std::string full = word + " " + args[i];
    for (const CommandSpec* member : members)
        if (member->name == full) {
            parsed.command = member;
            ++i;
            return;
        }
    throw UsageError("unknown command " + quoted(full) + "; " + quoted(word) + " has: " + names, false);
}

// Options and positionals after the command's name.
void parseCommandArguments(const std::vector<std::string>& args, size_t i, ParsedCommandLine& parsed) {
    const CommandSpec& command = *parsed.command;
    Arguments& out = parsed.arguments;
    bool onlyPositionals = false;
    while (i < args.size()) {
        const std::string& arg = args[i];
        if (onlyPositionals || !isOptionLike(arg)) {
            out.positionals.push_back(arg);
            ++i;
            continue;
        }
        std::string name, value;
        if (arg == "--") {
            onlyPositionals = true;
            ++i;
        } else if (arg == "--help" || arg == "-h") {
            parsed.help = true;
            ++i;
        } else if (takeOption(command.options, args, i, name, value)) {
            const OptionSpec* spec = findOption(command.options, name);
            if (!spec->repeatable && !spec->value.empty() && out.has(name))
                throw UsageError(name + " given twice");
            out.options[name].push_back(value);
        } else if (takeOption(globalOptions(), args, i, name, value)) {
            applyGlobal(parsed, name, value);
        } else {
            throw UsageError("unknown option " + quoted(arg.substr(0, arg.find('='))) + " for " + quoted(command.name));
        }
    }
}

void checkPositionals(const ParsedCommandLine& parsed) {
    const CommandSpec& command = *parsed.command;
    const size_t count = parsed.arguments.positionals.size();
    if (count < command.minPositionals)
        throw UsageError(quoted(command.name) + " needs " + command.synopsis);
    if (count > command.maxPositionals)
        throw UsageError("unexpected argument " + quoted(parsed.arguments.positionals[command.maxPositionals]) +
                         " for " + quoted(command.name));
}

}  // namespace

ParsedCommandLine parseCommandLine(const std::vector<CommandSpec>& commands, const std::vector<std::string>& args,
                                   const char* environmentEndpoint) {
    ParsedCommandLine parsed;
    if (environmentEndpoint && *environmentEndpoint)
        parsed.global.endpoint = environmentEndpoint;
    size_t i = 0;
    while (i < args.size() && isOptionLike(args[i])) {
        std::string name, value;
        if (args[i] == "--help" || args[i] == "-h") {
            parsed.help = true;
            ++i;
        } else if (args[i] == "--version") {
            parsed.version = true;
            ++i;
        } else if (!takeOption(globalOptions(), args, i, name, value)) {
            throw UsageError("unknown option " + quoted(args[i]) + " (see depotctl --help)", false);
        } else {
            applyGlobal(parsed, name, value);
        }
    }
    if (i >= args.size()) {
        if (!parsed.help && !parsed.version)
            throw UsageError("no command given (see depotctl --help)", false);
        return parsed;
    }
    if (args[i] == "help") {  // `depotctl help queue declare` = `depotctl queue declare --help`
        parsed.help = true;
        if (++i >= args.size())
            return parsed;
    }
    findCommand(commands, args, i, parsed);
    if (!parsed.command)
        return parsed;
    try {
        parseCommandArguments(args, i, parsed);
        if (!parsed.help)
            checkPositionals(parsed);
    } catch (const UsageError& error) {
        if (!error.withHint())
            throw;
        throw UsageError(std::string(error.what()) + " (see depotctl " + parsed.command->name + " --help)", false);
    }
    return parsed;
}

std::optional<std::string> Arguments::value(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty())
        return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Arguments::values(const std::string& name) const {
    auto it = options.find(name);
    return it == options.end() ? std::vector<std::string>{} : it->second;
}

std::optional<uint64_t> Arguments::number(const std::string& name, uint64_t max) const {
    std::optional<std::string> text = value(name);
    if (!text)
        return std::nullopt;
    uint64_t parsed = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), parsed);
    if (text->empty() || error != std::errc() || end != text->data() + text->size())
        throw UsageError(name + ": " + quoted(*text) + " is not a whole number");
    if (parsed > max)
        throw UsageError(name + ": " + *text + " is more than " + std::to_string(max));
    return parsed;
}

std::optional<double> Arguments::decimal(const std::string& name) const {
    std::optional<std::string> text = value(name);
    if (!text)
        return std::nullopt;
    double parsed = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), parsed);
    if (text->empty() || error != std::errc() || end != text->data() + text->size() || !(parsed >= 0))
        throw UsageError(name + ": " + quoted(*text) + " is not a number >= 0");
    return parsed;
}

std::optional<Millis> Arguments::duration(const std::string& name) const {
    std::optional<std::string> text = value(name);
    if (!text)
        return std::nullopt;
    auto parsed = depot::broker::parseDuration(*text);
    if (!parsed)
        throw UsageError(name + ": " + parsed.status().message());
    return *parsed;
}

std::optional<std::vector<Millis>> Arguments::durationList(const std::string& name) const {
    std::optional<std::string> text = value(name);
    if (!text)
        return std::nullopt;
    auto parsed = depot::broker::parseDurationList(*text);
    if (!parsed)
        throw UsageError(name + ": " + parsed.status().message());
    return *parsed;
}

std::optional<std::string> Arguments::choice(const std::string& name, const std::vector<std::string>& choices) const {
    std::optional<std::string> text = value(name);
    if (!text)
        return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *text) != choices.end())
        return text;
    std::string allowed;
    for (const std::string& c : choices)
        allowed += (allowed.empty() ? "" : "|") + c;
    throw UsageError(name + ": " + quoted(*text) + " is not one of " + allowed);
}

void Arguments::exclusive(const std::vector<std::string>& names) const {
    std::vector<std::string> present;
    for (const std::string& name : names)
        if (has(name))
            present.push_back(name);
    if (present.size() > 1)
        throw UsageError(present[0] + " and " + present[1] + " cannot be combined");
}

}  // namespace depotctl
