#pragma once
// depotd's command line and config file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Broker.h"
#include "depot/server/Server.h"

namespace depotd {

inline constexpr const char* kUsage =
    "usage: depotd --data DIR [--listen ENDPOINT]... [--config FILE] [--segment-size BYTES]\n"
    "              [--curve-secret FILE --allow-keys FILE | --insecure] [--max-connections N]\n"
    "              [--max-unconfirmed N] [--no-trace]\n"
    "              [--replica-of ENDPOINT [--replica-name NAME] [--primary-key FILE]]\n"
    "              [--version] [--help]\n"
    "  --listen     default tcp://127.0.0.1:7420; port 0 picks a free port (printed when ready)\n"
    "  --config     a JSON object with the same settings: {\"data\", \"listen\": [..], \"segmentSize\",\n"
    "               \"curveSecret\", \"allowKeys\", \"insecure\", \"maxConnections\", \"maxUnconfirmed\",\n"
    "               \"trace\"};\n"
    "               the command line wins\n"
    "  --curve-secret FILE   the server's CURVE secret key (Z85, 40 characters)\n"
    "  --allow-keys FILE     clients allowed: one 'Z85-public-key role' per line (role: producer|consumer|admin)\n"
    "  --insecure   listen on a non-loopback address without CURVE (anyone who can reach it is admin)\n"
    "  --no-trace   do not record per-message trace events (faster; `depotctl trace` then finds nothing)\n"
    "  --replica-of ENDPOINT  run as a read-only replica of the primary at ENDPOINT: copy its log, apply it,\n"
    "               acknowledge what is on disk; `depotctl replica promote` makes it the primary\n"
    "  --replica-name NAME    how the primary lists this replica (default: the data directory)\n"
    "  --primary-key FILE     the primary's CURVE public key (Z85): the replication links use CURVE with this\n"
    "               broker's own --curve-secret as their key; the primary's --allow-keys lists its public key\n"
    "               as admin (a promoted replica fences its former primary over the same link)";

struct Options {
    std::string dataDir;
    std::vector<std::string> listen;
    std::optional<uint64_t> segmentSize;
    std::string curveSecretFile;
    std::string allowKeysFile;
    bool insecure = false;
    bool trace = true;
    std::string replicaOf;
    std::string replicaName;
    std::string primaryKeyFile;
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
// The replication links' CURVE keys (--primary-key, and this broker's --curve-secret with its public key).
depot::Status loadPeerKeys(const Options& options, depot::broker::BrokerOptions& broker);

}  // namespace depotd
