#pragma once
// traceLines: every field of each trace event, one line each, so a test compares what a trace query gives back
// with what was recorded in one QCOMPARE that shows the whole difference.
#include <QStringList>

#include <string>
#include <vector>

#include "depot/broker/Observability.h"

namespace depot::test {

// Times are shown relative to `origin`.
inline QStringList traceLines(const std::vector<broker::TraceEvent>& events, broker::TimeMs origin = 0) {
    QStringList lines;
    for (const broker::TraceEvent& e : events)
        lines << QString::fromStdString(std::to_string(e.at - origin) + " " + std::string(broker::toString(e.kind)) +
                                        " " + e.queue + "/" + std::to_string(e.sequence) + " id=" + e.messageId +
                                        " key=" + e.key + " detail=" + e.detail);
    return lines;
}

}  // namespace depot::test
