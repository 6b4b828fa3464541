#pragma once
// AlertsDialog: a queue's alert thresholds — dead letters waiting, dead letters in the last minute, age of the
// oldest message, backlog — each on or off with its threshold. The broker evaluates them every second; a
// crossing shows in the console's banner and as a desktop notification, and is recorded in the audit log.
#include <QDialog>

#include <vector>

#include "depot/broker/Observability.h"

class QCheckBox;
class QSpinBox;

namespace depot::ui {

class AlertsDialog : public QDialog {
    Q_OBJECT

public:
    AlertsDialog(const QString& queue, const std::vector<broker::AlertState>& current, QWidget* parent = nullptr);

    std::vector<broker::AlertRule> rulesToSet() const;           // on, and new or with another threshold
    std::vector<broker::AlertMetric> rulesToDelete() const;      // were on, now off

    // The threshold as the dialog shows it: seconds for the oldest age, messages otherwise.
    static uint64_t shownValue(broker::AlertMetric metric, uint64_t threshold);

private:
    struct Row {
        broker::AlertMetric metric;
        QCheckBox* enabled;
        QSpinBox* threshold;
        std::optional<uint64_t> current;  // the broker's threshold, if the rule exists
    };
    uint64_t thresholdOf(const Row& row) const;

    std::string m_queue;
    std::vector<Row> m_rows;
};

}  // namespace depot::ui
