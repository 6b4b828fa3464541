#pragma once
// depotd's command line and config file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "depot/Result.h"
#include "depot/server/Server.h"

namespace depotd {

inline constexpr const char* kUsage =
    "usage: depotd --data DIR [--listen ENDPOINT]... [--config FILE] [--segment-size BYTES]\n"
    "              [--curve-secret FILE --allow-keys FILE | --insecure] [--max-connections N]\n"
    "              [--max-unconfirmed N] [--no-trace] [--version] [--help]\n"
    "  --listen     default tcp://127.0.0.1:7420; port 0 picks a free port (printed when ready)\n"
    "  --config     a JSON object with the same settings: {\"data\", \"listen\": [..], \"segmentSize\",\n"
    "               \"curveSecret\", \"allowKeys\", \"insecure\", \"maxConnections\", \"maxUnconfirmed\",\n"
    "               \"trace\"};\n"
    "               the command line wins\n"
    "  --curve-secret FILE   the server's CURVE secret key (Z85, 40 characters)\n"
    "  --allow-keys FILE     clients allowed: one 'Z85-public-key role' per line (role: producer|consumer|admin)\n"
    "  --insecure   listen on a non-loopback address without CURVE (anyone who can reach it is admin)\n"
    "  --no-trace   do not record per-message trace events (faster; `depotctl trace` then finds nothing)";

struct Options {
    std::string dataDir;
    std::vector<std::string> listen;
    std::optional<uint64_t> segmentSize;
    std::string curveSecretFile;
    std::string allowKeysFile;
    bool insecure = false;
    bool trace = true;
    std::optional<uint32_t> maxConnections;
    std::optional<uint32_t> maxUnconfirmed;
    bool version = false;
    bool help = false;
};

// Parses the command line, reading --config first wherever it appears. Errors are InvalidArgument, one line.
depot::Result<Options> parseArguments(int argc, char** argv);

// "67108864", "64M", "1G": a positive byte count with an optional binary suffix K, M or G.
std::optional<uint64_t> parseByteSize(std::string_view text);

// Fills the server's security settings from the key files.
depot::Status loadKeys(const Options& options, depot::server::ServerOptions& server);

}  // namespace depotd
