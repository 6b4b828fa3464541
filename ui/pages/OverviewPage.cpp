#include "pages/OverviewPage.h"

#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include "models/StorageStatsModel.h"

namespace depot::ui {
namespace {

constexpr int kTilesPerRow = 4;

QString number(uint64_t value) { return QLocale().toString(qulonglong(value)); }

QString micros(uint64_t nanoseconds) { return StorageStatsModel::formatDuration(nanoseconds); }

}  // namespace

OverviewPage::OverviewPage(QWidget* parent) : QWidget(parent), m_grid(new QGridLayout) {
    m_grid->setSpacing(12);
    addTile(tr("Queues"), tr("Queues defined, dead-letter queues included"));
    addTile(tr("Ready"), tr("Messages waiting for a consumer, in all queues"));
    addTile(tr("Unacked"), tr("Delivered, waiting for the consumer's ack"));
    addTile(tr("Dead letters"), tr("Messages in dead-letter queues, waiting for an operator"));
    addTile(tr("Published"), tr("Messages published since the broker started"));
    addTile(tr("Confirmed"), tr("Publishes the broker took responsibility for"));
    addTile(tr("Nacked"), tr("Publishes refused: not stored"));
    addTile(tr("Acked"), tr("Deliveries settled by consumers"));
    addTile(tr("Confirm p50 / p99"), tr("Publish → confirm latency inside the broker"));
    addTile(tr("fsync p50 / p99"), tr("The commit log's fdatasync latency on this machine"));
    addTile(tr("At risk"), tr("Confirmed messages not yet covered by an fdatasync (async flush): lost on power loss"));
    addTile(tr("Clients"), tr("Connected sessions and their consumers"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(m_grid);
    layout->addStretch(1);
}

void OverviewPage::addTile(const QString& title, const QString& help) {
    auto* frame = new QFrame;
    frame->setFrameShape(QFrame::StyledPanel);
    frame->setToolTip(help);
    auto* caption = new QLabel(title);
    auto* value = new QLabel(QStringLiteral("–"));
    QFont big = value->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    value->setFont(big);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* box = new QVBoxLayout(frame);
    box->addWidget(caption);
    box->addWidget(value);
    const int index = int(m_tiles.size());
    m_grid->addWidget(frame, index / kTilesPerRow, index % kTilesPerRow);
    m_tiles[title] = value;
}

void OverviewPage::setTile(const QString& title, const QString& value) {
    if (auto it = m_tiles.find(title); it != m_tiles.end())
        it->second->setText(value);
}

QString OverviewPage::tileValue(const QString& title) const {
    auto it = m_tiles.find(title);
    return it == m_tiles.end() ? QString() : it->second->text();
}

void OverviewPage::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    const broker::BrokerStats& stats = snapshot->stats;
    uint64_t ready = 0, unacked = 0, deadLetters = 0;
    for (const client::QueueDetails& queue : snapshot->queues) {
        if (queue.info.kind == broker::QueueKind::DeadLetter)
            deadLetters += queue.stats.ready;
        else
            ready += queue.stats.ready;
        unacked += queue.stats.unacked;
    }
    setTile(tr("Queues"), number(snapshot->queues.size()));
    setTile(tr("Ready"), number(ready));
    setTile(tr("Unacked"), number(unacked));
    setTile(tr("Dead letters"), number(deadLetters));
    setTile(tr("Published"), number(stats.totals.published));
    setTile(tr("Confirmed"), number(stats.totals.confirmed));
    setTile(tr("Nacked"), number(stats.totals.nacked));
    setTile(tr("Acked"), number(stats.totals.acked));
    const auto pair = [](const LatencyHistogram& h) {
        return h.count() ? micros(h.percentile(50)) + " / " + micros(h.percentile(99)) : QStringLiteral("–");
    };
    setTile(tr("Confirm p50 / p99"), pair(stats.confirmLatency));
    setTile(tr("fsync p50 / p99"), pair(stats.fsyncLatency));
    setTile(tr("At risk"), tr("%1 messages").arg(number(stats.unflushedMessages)));
    setTile(tr("Clients"), tr("%1 (%2 consumers)").arg(number(stats.connections)).arg(number(stats.consumers)));
}

}  // namespace depot::ui
