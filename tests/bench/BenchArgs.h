#pragma once
// Small pieces of command-line parsing that every `depot-bench` command shares.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace depot::bench {

// True when any argument asks for help: the usage goes to stdout and the command exits 0.
inline bool wantsHelp(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h"))
            return true;
    return false;
}

// The start every subcommand shares: --help prints the usage to stdout (exit code 0); options `parse` refuses print
// it to stderr (exit code 2). Returns the exit code to return at once, or -1 to go on with `options` filled in.
template <typename Options>
int parseCommandLine(int argc, char** argv, Options& options, void (*usage)(FILE*),
                     bool (*parse)(int, char**, Options&)) {
    if (wantsHelp(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (!parse(argc, argv, options)) {
        usage(stderr);
        return 2;
    }
    return -1;
}

// "a,b,,c" -> {"a", "b", "c"} (for --only).
inline std::vector<std::string> splitList(const std::string& list) {
    std::vector<std::string> items;
    for (size_t start = 0, comma; start <= list.size(); start = comma + 1) {
        comma = std::min(list.find(',', start), list.size());
        if (comma > start)
            items.push_back(list.substr(start, comma - start));
    }
    return items;
}

}  // namespace depot::bench
