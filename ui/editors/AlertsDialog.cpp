#include "editors/AlertsDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QGridLayout>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

namespace depot::ui {
namespace {

struct MetricText {
    broker::AlertMetric metric;
    const char* label;
    const char* unit;
    int defaultValue;
};

constexpr MetricText kMetrics[] = {
    {broker::AlertMetric::DeadLetterDepth, QT_TR_NOOP("Dead letters waiting, at least"), QT_TR_NOOP(" messages"), 1},
    {broker::AlertMetric::DeadLetterGrowth, QT_TR_NOOP("Dead-lettered in the last minute, at least"),
     QT_TR_NOOP(" messages"), 10},
    {broker::AlertMetric::OldestAge, QT_TR_NOOP("Oldest message waiting, at least"), QT_TR_NOOP(" s"), 300},
    {broker::AlertMetric::Backlog, QT_TR_NOOP("Backlog (ready and delayed), at least"), QT_TR_NOOP(" messages"), 10000},
};

}  // namespace

uint64_t AlertsDialog::shownValue(broker::AlertMetric metric, uint64_t threshold) {
    return metric == broker::AlertMetric::OldestAge ? std::max<uint64_t>(1, threshold / 1000) : threshold;
}

AlertsDialog::AlertsDialog(const QString& queue, const std::vector<broker::AlertState>& current, QWidget* parent)
    : QDialog(parent), m_queue(queue.toStdString()) {
    setWindowTitle(tr("Alerts for %1").arg(queue));
    auto* grid = new QGridLayout;
    for (const MetricText& text : kMetrics) {
        Row row{text.metric, new QCheckBox(tr(text.label)), new QSpinBox, std::nullopt};
        row.enabled->setObjectName(QString::fromUtf8(broker::toString(text.metric).data()));
        row.threshold->setRange(1, 1'000'000'000);
        row.threshold->setSuffix(tr(text.unit));
        row.threshold->setValue(text.defaultValue);
        for (const broker::AlertState& state : current)
            if (state.rule.queue == m_queue && state.rule.metric == text.metric) {
                row.current = state.rule.threshold;
                row.threshold->setValue(int(shownValue(text.metric, state.rule.threshold)));
            }
        row.enabled->setChecked(row.current.has_value());
        row.threshold->setEnabled(row.current.has_value());
        connect(row.enabled, &QCheckBox::toggled, row.threshold, &QSpinBox::setEnabled);
        const int line = grid->rowCount();
        grid->addWidget(row.enabled, line, 0);
        grid->addWidget(row.threshold, line, 1);
        m_rows.push_back(row);
    }
    auto* note = new QLabel(tr("The broker checks these every second. A crossing shows a banner in the console and "
                               "a desktop notification, and is recorded in the audit log."));
    note->setWordWrap(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(grid);
    layout->addWidget(note);
    layout->addWidget(buttons);
}

uint64_t AlertsDialog::thresholdOf(const Row& row) const {
    const auto value = uint64_t(row.threshold->value());
    return row.metric == broker::AlertMetric::OldestAge ? value * 1000 : value;
}

std::vector<broker::AlertRule> AlertsDialog::rulesToSet() const {
    std::vector<broker::AlertRule> out;
    for (const Row& row : m_rows)
        if (row.enabled->isChecked() && row.current != thresholdOf(row))
            out.push_back({m_queue, row.metric, thresholdOf(row)});
    return out;
}

std::vector<broker::AlertMetric> AlertsDialog::rulesToDelete() const {
    std::vector<broker::AlertMetric> out;
    for (const Row& row : m_rows)
        if (!row.enabled->isChecked() && row.current)
            out.push_back(row.metric);
    return out;
}

}  // namespace depot::ui
