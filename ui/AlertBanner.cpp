#include "AlertBanner.h"

#include <QHBoxLayout>
#include <QLabel>

namespace depot::ui {

AlertBanner::AlertBanner(QWidget* parent) : QFrame(parent) {
    setObjectName("alertBanner");
    setFrameShape(QFrame::StyledPanel);
    // The palette's highlight, so the strip stands out in a light or a dark theme alike.
    setAutoFillBackground(true);
    setBackgroundRole(QPalette::Highlight);
    m_label = new QLabel;
    m_label->setObjectName("alertText");
    m_label->setTextFormat(Qt::PlainText);
    m_label->setWordWrap(true);
    m_label->setForegroundRole(QPalette::HighlightedText);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 10, 6);
    layout->addWidget(m_label);
    hide();
}

QString AlertBanner::text() const { return isHidden() ? QString() : m_label->text(); }

QString AlertBanner::describe(const broker::AlertState& state) {
    const QString queue = QString::fromStdString(state.rule.queue);
    const auto value = qulonglong(state.value), threshold = qulonglong(state.rule.threshold);
    switch (state.rule.metric) {
        case broker::AlertMetric::DeadLetterDepth:
            return tr("%1: %2 dead letters waiting (alert at %3)").arg(queue).arg(value).arg(threshold);
        case broker::AlertMetric::DeadLetterGrowth:
            return tr("%1: %2 dead-lettered in the last minute (alert at %3)").arg(queue).arg(value).arg(threshold);
        case broker::AlertMetric::OldestAge:
            return tr("%1: oldest message waiting %2 s (alert at %3 s)").arg(queue).arg(value / 1000).arg(threshold / 1000);
        case broker::AlertMetric::Backlog:
            return tr("%1: backlog of %2 messages (alert at %3)").arg(queue).arg(value).arg(threshold);
    }
    return queue;
}

void AlertBanner::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    QStringList lines;
    std::set<std::pair<std::string, int>> firing;
    for (const broker::AlertState& state : snapshot->alerts) {
        if (!state.firing)
            continue;
        const auto id = std::make_pair(state.rule.queue, int(state.rule.metric));
        firing.insert(id);
        lines << describe(state);
        if (!m_first && !m_firing.count(id))
            emit raised(describe(state));
    }
    m_firing = std::move(firing);
    m_first = false;
    m_label->setText(lines.isEmpty() ? QString() : tr("⚠ Alert: %1").arg(lines.join(QStringLiteral(" · "))));
    setVisible(!lines.isEmpty());
}

}  // namespace depot::ui
