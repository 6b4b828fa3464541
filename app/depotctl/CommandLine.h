#pragma once
// CommandLine: depotctl's argument parser. Each command declares its options (CommandSpec); the parser checks a
// command line against them. Global options (--endpoint, --json, --timeout, --help) are accepted before the
// command and after it, unless the command declares an option of the same name (consume's --timeout).
//
// Usage errors are thrown as UsageError (one line, exit code 2); nothing else throws.
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace depotctl {

using Millis = std::chrono::milliseconds;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the operation failed: nacked, timed out, not found, unreachable
inline constexpr int kExitUsage = 2;
inline constexpr const char* kDefaultEndpoint = "tcp://127.0.0.1:7420";

// A command line that cannot be run. `withHint`: the message ends with a pointer to the command's --help.
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& message, bool withHint = true)
        : std::runtime_error(message), m_withHint(withHint) {}
    bool withHint() const { return m_withHint; }

private:
    bool m_withHint;
};

struct OptionSpec {
    std::string name;   // "--max-attempts"
    std::string value;  // what the value looks like ("N", "sync|async"); empty for a flag
    std::string help;
    bool repeatable = false;
};

// A command's arguments after parsing. The typed getters throw UsageError for a malformed value.
class Arguments {
public:
    std::vector<std::string> positionals;
    std::map<std::string, std::vector<std::string>> options;  // flags hold one empty value per occurrence

    bool has(const std::string& name) const { return options.count(name) > 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;
    std::optional<uint64_t> number(const std::string& name, uint64_t max = std::numeric_limits<uint64_t>::max()) const;
    std::optional<double> decimal(const std::string& name) const;  // >= 0
    std::optional<Millis> duration(const std::string& name) const;
    std::optional<std::vector<Millis>> durationList(const std::string& name) const;
    // The value, which must be one of `choices`.
    std::optional<std::string> choice(const std::string& name, const std::vector<std::string>& choices) const;
    // UsageError when more than one of `names` is present.
    void exclusive(const std::vector<std::string>& names) const;
};

struct GlobalOptions {
    std::string endpoint = kDefaultEndpoint;  // --endpoint, else $DEPOT_ENDPOINT, else the default
    bool json = false;
    std::optional<Millis> timeout;  // --timeout: every request's limit (the client library's default otherwise)
};

class Context;
using Handler = std::function<int(Context& context, const Arguments& arguments)>;

struct CommandSpec {
    std::string name;      // "queue declare"
    std::string synopsis;  // the positionals as help shows them: "NAME"
    std::string summary;   // one line
    std::string details;   // more help text (may be empty)
    std::vector<OptionSpec> options;
    size_t minPositionals = 0;
    size_t maxPositionals = 0;  // kUnlimited for any number
    Handler run;
};

inline constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

struct ParsedCommandLine {
    GlobalOptions global;
    const CommandSpec* command = nullptr;  // null with help (global or group help) or version
    std::string group;                     // "queue" for `depotctl queue --help`
    Arguments arguments;
    bool help = false;
    bool version = false;
};

// `args` excludes the program name. `environmentEndpoint` is $DEPOT_ENDPOINT (null when unset).
ParsedCommandLine parseCommandLine(const std::vector<CommandSpec>& commands, const std::vector<std::string>& args,
                                   const char* environmentEndpoint);

}  // namespace depotctl
