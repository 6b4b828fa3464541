// Broker-wide settings (default flush, async flush interval): kept in the catalog, changed at runtime, audited.
// And the plain-words description of a policy change that the audit records for queue updates.
#include <charconv>

#include "broker/BrokerCore.h"
#include "depot/broker/Duration.h"

namespace depot::broker {
namespace {

constexpr const char* kDefaultFlushKey = "default-flush";
constexpr const char* kAsyncFlushIntervalKey = "async-flush-interval-ms";

Status badSetting(const std::string& key, const std::string& value) {
    return Status::corruption("catalog setting " + key + " has an invalid value \"" + value + "\"");
}

Status validateSettings(const BrokerSettings& settings) {
    if (settings.asyncFlushInterval < Millis(1) || settings.asyncFlushInterval > kMaxAsyncFlushInterval)
        return Status::invalidArgument("async-flush-interval " + formatDuration(settings.asyncFlushInterval) +
                                       " is out of range (1ms..60s)");
    return Status::ok();
}

void noteChange(std::string& out, std::string_view field, const std::string& from, const std::string& to) {
    if (from == to) return;
    out += (out.empty() ? "" : "; ") + std::string(field) + " " + from + " -> " + to;
}

std::string optionalText(const std::optional<Millis>& value) { return value ? formatDuration(*value) : "none"; }
std::string optionalText(const std::optional<uint64_t>& value) { return value ? std::to_string(*value) : "none"; }
std::string queueText(const std::string& name) { return name.empty() ? "default" : name; }

}  // namespace

std::string describePolicyChange(const QueuePolicy& from, const QueuePolicy& to) {
    std::string out;
    noteChange(out, "flush", std::string(toString(from.flush)), std::string(toString(to.flush)));
    noteChange(out, "max-attempts", std::to_string(from.maxAttempts), std::to_string(to.maxAttempts));
    noteChange(out, "backoff", formatDurationList(from.backoff), formatDurationList(to.backoff));
    noteChange(out, "ack-timeout", formatDuration(from.ackTimeout), formatDuration(to.ackTimeout));
    noteChange(out, "ttl", optionalText(from.ttl), optionalText(to.ttl));
    noteChange(out, "max-length", optionalText(from.maxLength), optionalText(to.maxLength));
    noteChange(out, "overflow", std::string(toString(from.overflow)), std::string(toString(to.overflow)));
    noteChange(out, "ordering", std::string(toString(from.ordering)), std::string(toString(to.ordering)));
    noteChange(out, "dedup-window", formatDuration(from.dedupWindow), formatDuration(to.dedupWindow));
    noteChange(out, "dead-letter-queue", queueText(from.deadLetterQueue), queueText(to.deadLetterQueue));
    noteChange(out, "replication", std::string(toString(from.replication)), std::string(toString(to.replication)));
    noteChange(out, "replica-timeout", formatDuration(from.replicaTimeout), formatDuration(to.replicaTimeout));
    noteChange(out, "on-replica-timeout", std::string(toString(from.onReplicaTimeout)),
               std::string(toString(to.onReplicaTimeout)));
    return out.empty() ? "no change" : out;
}

Status BrokerCore::loadSettings() {
    m_settings.asyncFlushInterval = m_options.asyncFlushInterval;
    auto stored = m_catalog->loadSettings();
    if (!stored) return stored.status();
    if (auto it = stored->find(kDefaultFlushKey); it != stored->end()) {
        auto mode = flushModeFromString(it->second);
        if (!mode) return badSetting(it->first, it->second);
        m_settings.defaultFlush = *mode;
    }
    if (auto it = stored->find(kAsyncFlushIntervalKey); it != stored->end()) {
        int64_t ms = 0;
        const std::string& text = it->second;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
        if (error != std::errc() || end != text.data() + text.size()) return badSetting(it->first, text);
        m_settings.asyncFlushInterval = Millis(ms);
        // Only a stored value is checked: BrokerOptions may hold any interval a program chose (tests use an hour).
        if (Status valid = validateSettings(m_settings); !valid)
            return Status::corruption("catalog settings: " + valid.message());
    }
    m_log->setAsyncFlushInterval(m_settings.asyncFlushInterval);
    return loadAlerts(*stored);
}

Result<BrokerSettings> BrokerCore::configure(const BrokerSettings& settings, const Actor& actor) {
    DEPOT_RETURN_IF_ERROR(validateSettings(settings));
    std::string change;
    noteChange(change, "default-flush", std::string(toString(m_settings.defaultFlush)),
             std::string(toString(settings.defaultFlush)));
    noteChange(change, "async-flush-interval", formatDuration(m_settings.asyncFlushInterval),
             formatDuration(settings.asyncFlushInterval));
    Status stored = m_catalog->putSettings({{kDefaultFlushKey, std::string(toString(settings.defaultFlush))},
                                            {kAsyncFlushIntervalKey, std::to_string(settings.asyncFlushInterval.count())}});
    audit(actor, "configure-broker", "broker", change.empty() ? "no change" : change, 0, stored);
    if (!stored) return stored;
    m_settings = settings;
    m_log->setAsyncFlushInterval(settings.asyncFlushInterval);
    return m_settings;
}

}  // namespace depot::broker
