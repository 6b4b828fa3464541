#include "DepotdOptions.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace depotd {

using depot::Status;

std::optional<uint64_t> parseByteSize(std::string_view text) {
    uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [rest, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc() || value == 0) return std::nullopt;
    int shift = 0;
    if (rest != end) {
        if (rest + 1 != end) return std::nullopt;
        switch (*rest) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: return std::nullopt;
        }
    }
    if (value > (UINT64_MAX >> shift)) return std::nullopt;
    return value << shift;
}

namespace {

std::optional<uint32_t> parseCount(std::string_view text) {
    uint32_t value = 0;
    auto [rest, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || rest != text.data() + text.size() || value == 0) return std::nullopt;
    return value;
}

Status readFile(const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in) return Status::notFound("cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    out = text.str();
    return Status::ok();
}

Status applyConfig(const std::string& path, Options& options) {
    std::string text;
    DEPOT_RETURN_IF_ERROR(readFile(path, text));
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_object()) return Status::invalidArgument(path + ": not a JSON object");
    try {
        if (json.contains("data")) options.dataDir = json["data"].get<std::string>();
        if (json.contains("listen")) options.listen = json["listen"].get<std::vector<std::string>>();
        if (json.contains("segmentSize")) {
            auto size = json["segmentSize"].is_string() ? parseByteSize(json["segmentSize"].get<std::string>())
                                                         : std::optional(json["segmentSize"].get<uint64_t>());
            if (!size || !*size) return Status::invalidArgument(path + ": segmentSize is not a positive byte count");
            options.segmentSize = size;
        }
        if (json.contains("curveSecret")) options.curveSecretFile = json["curveSecret"].get<std::string>();
        if (json.contains("allowKeys")) options.allowKeysFile = json["allowKeys"].get<std::string>();
        if (json.contains("insecure")) options.insecure = json["insecure"].get<bool>();
        if (json.contains("trace")) options.trace = json["trace"].get<bool>();
        if (json.contains("maxConnections")) options.maxConnections = json["maxConnections"].get<uint32_t>();
        if (json.contains("maxUnconfirmed")) options.maxUnconfirmed = json["maxUnconfirmed"].get<uint32_t>();
    } catch (const std::exception& e) {
        return Status::invalidArgument(path + ": " + e.what());
    }
    return Status::ok();
}

}  // namespace

depot::Result<Options> parseArguments(int argc, char** argv) {
    Options options;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string_view(argv[i]) == "--config") DEPOT_RETURN_IF_ERROR(applyConfig(argv[i + 1], options));
    std::vector<std::string> listen;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&](const char* what) -> depot::Result<std::string> {
            if (i + 1 >= argc) return Status::invalidArgument(std::string(arg) + " needs " + what);
            return std::string(argv[++i]);
        };
        if (arg == "--help" || arg == "-h") options.help = true;
        else if (arg == "--version") options.version = true;
        else if (arg == "--insecure") options.insecure = true;
        else if (arg == "--no-trace") options.trace = false;
        else if (arg == "--config") ++i;
        else if (arg == "--data" || arg == "--listen" || arg == "--curve-secret" || arg == "--allow-keys" ||
                 arg == "--segment-size" || arg == "--max-connections" || arg == "--max-unconfirmed" ||
                 arg == "--replica-of" || arg == "--replica-name" || arg == "--primary-key") {
            auto v = value(arg == "--data" ? "a directory" : arg == "--listen" ? "an endpoint" : "a value");
            if (!v) return v.status();
            if (arg == "--data") options.dataDir = *v;
            else if (arg == "--listen") listen.push_back(*v);
            else if (arg == "--curve-secret") options.curveSecretFile = *v;
            else if (arg == "--allow-keys") options.allowKeysFile = *v;
            else if (arg == "--replica-of") options.replicaOf = *v;
            else if (arg == "--replica-name") options.replicaName = *v;
            else if (arg == "--primary-key") options.primaryKeyFile = *v;
            else if (arg == "--segment-size") {
                options.segmentSize = parseByteSize(*v);
                if (!options.segmentSize) return Status::invalidArgument("--segment-size: not a positive byte count: " + *v);
            } else {
                auto n = parseCount(*v);
                if (!n) return Status::invalidArgument(std::string(arg) + ": not a positive number: " + *v);
                (arg == "--max-connections" ? options.maxConnections : options.maxUnconfirmed) = n;
            }
        } else {
            return Status::invalidArgument("unknown argument: " + std::string(arg));
        }
    }
    if (!listen.empty()) options.listen = listen;
    if (options.listen.empty()) options.listen = {"tcp://127.0.0.1:7420"};
    if (!options.help && !options.version && options.dataDir.empty())
        return Status::invalidArgument("--data DIR is required");
    if (options.curveSecretFile.empty() != options.allowKeysFile.empty())
        return Status::invalidArgument("--curve-secret and --allow-keys go together");
    if (!options.primaryKeyFile.empty() && options.curveSecretFile.empty())
        return Status::invalidArgument("--primary-key needs --curve-secret: this broker's key pair is its identity on "
                                       "the replication link");
    return options;
}

Status loadKeys(const Options& options, depot::server::ServerOptions& server) {
    server.insecure = options.insecure;
    if (options.curveSecretFile.empty()) return Status::ok();
    std::string secret;
    DEPOT_RETURN_IF_ERROR(readFile(options.curveSecretFile, secret));
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
    if (secret.size() != 40) return Status::invalidArgument(options.curveSecretFile + ": not a 40-character Z85 key");
    server.curveSecretKey = secret;
    std::string list;
    DEPOT_RETURN_IF_ERROR(readFile(options.allowKeysFile, list));
    std::istringstream lines(list);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
        std::istringstream words(line);
        std::string key, role;
        if (!(words >> key) || key[0] == '#') continue;
        words >> role;
        auto parsed = depot::server::roleFromString(role);
        if (key.size() != 40 || !parsed)
            return Status::invalidArgument(options.allowKeysFile + ":" + std::to_string(n) +
                                           ": expected 'Z85-public-key producer|consumer|admin'");
        server.allowedKeys[key] = *parsed;
    }
    return Status::ok();
}

Status loadPeerKeys(const Options& options, depot::broker::BrokerOptions& broker) {
    if (options.primaryKeyFile.empty()) return Status::ok();
    auto readKey = [](const std::string& file, std::string& key) -> Status {
        DEPOT_RETURN_IF_ERROR(readFile(file, key));
        while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
        if (key.size() != 40) return Status::invalidArgument(file + ": not a 40-character Z85 key");
        return Status::ok();
    };
    DEPOT_RETURN_IF_ERROR(readKey(options.primaryKeyFile, broker.peerCurveServerKey));
    DEPOT_RETURN_IF_ERROR(readKey(options.curveSecretFile, broker.curveSecretKey));
    auto publicKey = depot::server::curvePublicKeyOf(broker.curveSecretKey);
    if (!publicKey) return Status::invalidArgument(options.curveSecretFile + ": " + publicKey.status().message());
    broker.curvePublicKey = *publicKey;
    return Status::ok();
}

}  // namespace depotd
