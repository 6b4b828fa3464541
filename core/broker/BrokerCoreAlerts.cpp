// Alert thresholds per queue: kept in the catalog's settings ("alert/<metric>/<queue>" → threshold), evaluated
// every second from the sample the metrics history takes anyway, transitions recorded in the audit log.
#include <charconv>

#include "broker/BrokerCore.h"
#include "depot/broker/Duration.h"

namespace depot::broker {
namespace {

constexpr std::string_view kAlertPrefix = "alert/";
constexpr TimeMs kGrowthWindowMs = 60'000;

std::string alertKey(const AlertRule& rule) {
    return std::string(kAlertPrefix) + std::string(toString(rule.metric)) + "/" + rule.queue;
}

std::string describeAlert(const AlertState& state) {
    const bool age = state.rule.metric == AlertMetric::OldestAge;
    auto amount = [age](uint64_t v) { return age ? formatDuration(Millis(v)) : std::to_string(v); };
    return std::string(toString(state.rule.metric)) + " " + amount(state.value) + (state.firing ? " >= " : " < ") +
           amount(state.rule.threshold);
}

}  // namespace

Status BrokerCore::loadAlerts(const std::map<std::string, std::string>& settings) {
    for (auto it = settings.lower_bound(std::string(kAlertPrefix));
         it != settings.end() && it->first.starts_with(kAlertPrefix); ++it) {
        const std::string rest = it->first.substr(kAlertPrefix.size());
        const size_t slash = rest.find('/');
        auto metric = slash == std::string::npos ? std::nullopt : alertMetricFromString(rest.substr(0, slash));
        uint64_t threshold = 0;
        const std::string& text = it->second;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), threshold);
        if (!metric || error != std::errc() || end != text.data() + text.size() || threshold == 0)
            return Status::corruption("catalog setting " + it->first + " is not an alert threshold (\"" + text + "\")");
        AlertState state;
        state.rule = {rest.substr(slash + 1), *metric, threshold};
        m_alerts.push_back(std::move(state));
    }
    return Status::ok();
}

Result<AlertRule> BrokerCore::setAlert(const AlertRule& rule, const Actor& actor) {
    if (rule.threshold == 0) return Status::invalidArgument("an alert threshold must be at least 1");
    if (!findQueue(rule.queue)) return Status::notFound("no queue \"" + rule.queue + "\"");
    Status stored = m_catalog->putSettings({{alertKey(rule), std::to_string(rule.threshold)}});
    audit(actor, "set-alert", rule.queue, std::string(toString(rule.metric)) + " >= " + std::to_string(rule.threshold),
          0, stored);
    if (!stored) return stored;
    for (AlertState& state : m_alerts)
        if (state.rule.queue == rule.queue && state.rule.metric == rule.metric) {
            state.rule.threshold = rule.threshold;  // re-evaluated at the next sample
            return rule;
        }
    m_alerts.push_back({rule, 0, false, 0});
    return rule;
}

Status BrokerCore::deleteAlert(const std::string& queue, AlertMetric metric, const Actor& actor) {
    auto it = std::find_if(m_alerts.begin(), m_alerts.end(), [&](const AlertState& s) {
        return s.rule.queue == queue && s.rule.metric == metric;
    });
    if (it == m_alerts.end())
        return Status::notFound("no " + std::string(toString(metric)) + " alert on \"" + queue + "\"");
    Status removed = m_catalog->deleteSetting(alertKey(it->rule));
    audit(actor, "delete-alert", queue, std::string(toString(metric)), 0, removed);
    if (!removed) return removed;
    m_alerts.erase(it);
    if (metric == AlertMetric::DeadLetterGrowth) m_alertGrowth.erase(queue);
    return Status::ok();
}

uint64_t BrokerCore::alertValue(AlertMetric metric, const QueueStats& queue, TimeMs at) {
    switch (metric) {
        case AlertMetric::DeadLetterDepth: return queue.deadLetterDepth;
        case AlertMetric::Backlog: return queue.ready + queue.delayed;
        case AlertMetric::OldestAge:
            return queue.oldestPublishedAt ? uint64_t(std::max<TimeMs>(0, at - queue.oldestPublishedAt)) : 0;
        case AlertMetric::DeadLetterGrowth: {
            // Dead-lettered from this queue in the last minute: the counter now less the oldest one kept.
            auto& window = m_alertGrowth[queue.name];
            window.emplace_back(at, queue.counters.deadLettered);
            while (window.size() > 1 && window.front().first < at - kGrowthWindowMs) window.pop_front();
            return queue.counters.deadLettered - std::min(queue.counters.deadLettered, window.front().second);
        }
    }
    return 0;
}

void BrokerCore::evaluateAlerts(TimeMs at, const BrokerStats& now) {
    if (m_alerts.empty()) return;
    std::unordered_map<std::string_view, const QueueStats*> byName;
    for (const QueueStats& queue : now.queues) byName.emplace(queue.name, &queue);
    for (AlertState& state : m_alerts) {
        auto it = byName.find(state.rule.queue);
        if (it == byName.end()) continue;  // the queue is gone; its rule waits for one of that name
        state.value = alertValue(state.rule.metric, *it->second, at);
        const bool firing = state.value >= state.rule.threshold;
        if (firing == state.firing) continue;
        state.firing = firing;
        state.since = firing ? at : 0;
        audit(Actor{"broker"}, firing ? "alert-raised" : "alert-cleared", state.rule.queue, describeAlert(state),
              state.value, Status::ok());
    }
}

}  // namespace depot::broker
