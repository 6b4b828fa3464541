#include "pages/OverviewPage.h"

#include <QComboBox>
#include <QDateTime>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPointer>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <memory>

#include "charts/TimeSeriesChart.h"
#include "models/StorageStatsModel.h"

namespace depot::ui {
namespace {

constexpr int kTilesPerRow = 6;
constexpr int kChartsPerRow = 3;
constexpr qint64 kHourMs = 60 * 60 * 1000;
constexpr qint64 kHistoryChunkMs = kHourMs;
constexpr int kHistoryRetryMs = 3000;

const QColor kBlue(0x4c, 0x78, 0xa8), kGreen(0x54, 0xa2, 0x4b), kRed(0xe4, 0x57, 0x56), kOrange(0xf5, 0x85, 0x18),
    kPurple(0xb2, 0x79, 0xa2);

struct Line {
    const char* name;
    MetricsSeries::Metric metric;
    QColor color;
};

struct ChartSpec {
    const char* title;
    const char* unit;
    QList<Line> lines;
};

// In OverviewPage::Chart order.
const ChartSpec kCharts[] = {
    {QT_TRANSLATE_NOOP("OverviewPage", "Publishes"),
     QT_TRANSLATE_NOOP("OverviewPage", "messages/s"),
     {{QT_TRANSLATE_NOOP("OverviewPage", "Published"), MetricsSeries::PublishRate, kBlue},
      {QT_TRANSLATE_NOOP("OverviewPage", "Confirmed"), MetricsSeries::ConfirmRate, kGreen},
      {QT_TRANSLATE_NOOP("OverviewPage", "Nacked"), MetricsSeries::NackRate, kRed}}},
    {QT_TRANSLATE_NOOP("OverviewPage", "Deliveries"),
     QT_TRANSLATE_NOOP("OverviewPage", "messages/s"),
     {{QT_TRANSLATE_NOOP("OverviewPage", "Delivered"), MetricsSeries::DeliverRate, kBlue},
      {QT_TRANSLATE_NOOP("OverviewPage", "Acked"), MetricsSeries::AckRate, kGreen},
      {QT_TRANSLATE_NOOP("OverviewPage", "Redelivered"), MetricsSeries::RedeliverRate, kOrange}}},
    {QT_TRANSLATE_NOOP("OverviewPage", "Failures"),
     QT_TRANSLATE_NOOP("OverviewPage", "messages/s"),
     {{QT_TRANSLATE_NOOP("OverviewPage", "Retries"), MetricsSeries::RetryRate, kOrange},
      {QT_TRANSLATE_NOOP("OverviewPage", "Dead-lettered"), MetricsSeries::DeadLetterRate, kRed}}},
    {QT_TRANSLATE_NOOP("OverviewPage", "Queue depth"),
     QT_TRANSLATE_NOOP("OverviewPage", "messages"),
     {{QT_TRANSLATE_NOOP("OverviewPage", "Backlog"), MetricsSeries::Backlog, kBlue},
      {QT_TRANSLATE_NOOP("OverviewPage", "In dead-letter queues"), MetricsSeries::DeadLetterDepth, kRed}}},
    {QT_TRANSLATE_NOOP("OverviewPage", "Publish → confirm latency"),
     QT_TRANSLATE_NOOP("OverviewPage", "µs"),
     {{QT_TRANSLATE_NOOP("OverviewPage", "p50"), MetricsSeries::ConfirmP50, kBlue},
      {QT_TRANSLATE_NOOP("OverviewPage", "p99"), MetricsSeries::ConfirmP99, kPurple}}},
    {QT_TRANSLATE_NOOP("OverviewPage", "fsync latency"),
     QT_TRANSLATE_NOOP("OverviewPage", "µs"),
     {{QT_TRANSLATE_NOOP("OverviewPage", "p50"), MetricsSeries::FsyncP50, kBlue},
      {QT_TRANSLATE_NOOP("OverviewPage", "p99"), MetricsSeries::FsyncP99, kPurple}}},
};
static_assert(std::size(kCharts) == OverviewPage::ChartCount);

QString number(uint64_t value) { return QLocale().toString(qulonglong(value)); }

QString micros(uint64_t nanoseconds) { return StorageStatsModel::formatDuration(nanoseconds); }

qint64 spanOf(OverviewPage::Range range) { return range == OverviewPage::LastDay ? 24 * kHourMs : kHourMs; }

// A history view is asked again when it has moved by a sixtieth of its width: every minute for the last hour.
int refreshIntervalOf(OverviewPage::Range range) { return int(spanOf(range) / 60); }

}  // namespace

OverviewPage::OverviewPage(QWidget* parent) : QWidget(parent), m_historyTimer(new QTimer(this)) {
    auto* tiles = new QGridLayout;
    tiles->setSpacing(8);
    buildTiles(tiles);
    m_rangeBox = new QComboBox;
    m_rangeBox->setObjectName("historyRange");
    m_rangeBox->addItems({tr("Last 5 minutes (live)"), tr("Last hour"), tr("Last 24 hours")});
    m_rangeBox->setToolTip(
        tr("Live points come from the console's once-a-second poll; the longer ranges from the "
           "broker's metrics history"));
    connect(m_rangeBox, &QComboBox::currentIndexChanged, this, [this](int index) { setRange(Range(index)); });
    connect(m_historyTimer, &QTimer::timeout, this, &OverviewPage::requestHistory);
    auto* rangeRow = new QHBoxLayout;
    auto* caption = new QLabel(tr("Activity"));
    QFont bold = caption->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.1);
    caption->setFont(bold);
    rangeRow->addWidget(caption);
    rangeRow->addStretch(1);
    rangeRow->addWidget(new QLabel(tr("Show:")));
    rangeRow->addWidget(m_rangeBox);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 8);
    layout->setSpacing(8);
    layout->addLayout(tiles);
    layout->addLayout(rangeRow);
    layout->addWidget(buildCharts(), 1);
    refreshCharts();
}

void OverviewPage::buildTiles(QGridLayout* grid) {
    addTile(grid, tr("Queues"), tr("Queues defined, dead-letter queues included"));
    addTile(grid, tr("Ready"), tr("Messages waiting for a consumer, in all queues"));
    addTile(grid, tr("Unacked"), tr("Delivered, waiting for the consumer's ack"));
    addTile(grid, tr("Dead letters"), tr("Messages in dead-letter queues, waiting for an operator"));
    addTile(grid, tr("At risk"),
            tr("Confirmed messages not yet covered by an fdatasync (async flush: lost on power loss), plus those of "
               "replicated queues that no replica has yet (lost with this machine)"));
    addTile(grid, tr("Clients"), tr("Connected sessions and their consumers"));
    addTile(grid, tr("Published"), tr("Messages published since the broker started"));
    addTile(grid, tr("Confirmed"), tr("Publishes the broker took responsibility for"));
    addTile(grid, tr("Nacked"), tr("Publishes refused: not stored"));
    addTile(grid, tr("Acked"), tr("Deliveries settled by consumers"));
    addTile(grid, tr("Confirm p50 / p99"), tr("Publish → confirm latency inside the broker, since it started"));
    addTile(grid, tr("fsync p50 / p99"),
            tr("The commit log's fdatasync latency on this machine, since the broker "
               "started"));
}

void OverviewPage::addTile(QGridLayout* grid, const QString& title, const QString& help) {
    auto* frame = new QFrame;
    frame->setFrameShape(QFrame::StyledPanel);
    frame->setToolTip(help);
    auto* caption = new QLabel(title);
    caption->setForegroundRole(QPalette::PlaceholderText);
    auto* value = new QLabel(QStringLiteral("–"));
    QFont big = value->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    value->setFont(big);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* box = new QVBoxLayout(frame);
    box->setContentsMargins(8, 4, 8, 4);
    box->setSpacing(0);
    box->addWidget(caption);
    box->addWidget(value);
    const int index = int(m_tiles.size());
    grid->addWidget(frame, index / kTilesPerRow, index % kTilesPerRow);
    m_tiles[title] = value;
}

QWidget* OverviewPage::buildCharts() {
    auto* area = new QWidget;
    auto* grid = new QGridLayout(area);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(10);
    for (int index = 0; index < ChartCount; ++index) {
        const ChartSpec& spec = kCharts[index];
        auto* chart = new TimeSeriesChart(tr(spec.title), tr(spec.unit));
        QList<QColor> colors;
        for (const Line& line : spec.lines)
            colors.append(line.color);
        chart->setColors(colors);
        grid->addWidget(chart, index / kChartsPerRow, index % kChartsPerRow);
        m_charts.append(chart);
    }
    return area;
}

void OverviewPage::setTile(const QString& title, const QString& value) {
    if (auto it = m_tiles.find(title); it != m_tiles.end())
        it->second->setText(value);
}

QString OverviewPage::tileValue(const QString& title) const {
    auto it = m_tiles.find(title);
    return it == m_tiles.end() ? QString() : it->second->text();
}

const QList<QPointF>& OverviewPage::series(MetricsSeries::Metric metric) const {
    return (m_range == Live ? m_live : m_history).series(metric);
}

void OverviewPage::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    updateTiles(*snapshot);
    m_live.addSnapshot(*snapshot);
    if (m_range == Live)
        refreshCharts();
}

void OverviewPage::updateTiles(const Snapshot& snapshot) {
    const broker::BrokerStats& stats = snapshot.stats;
    uint64_t ready = 0, unacked = 0, deadLetters = 0;
    for (const client::QueueDetails& queue : snapshot.queues) {
        if (queue.info.kind == broker::QueueKind::DeadLetter)
            deadLetters += queue.stats.ready;
        else
            ready += queue.stats.ready;
        unacked += queue.stats.unacked;
    }
    setTile(tr("Queues"), number(snapshot.queues.size()));
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
    setTile(tr("At risk"), tr("%1 messages").arg(number(stats.unflushedMessages + snapshot.replication.atRisk)));
    setTile(tr("Clients"), tr("%1 (%2 consumers)").arg(number(stats.connections)).arg(number(stats.consumers)));
}

void OverviewPage::setHistoryProvider(HistoryProvider provider) {
    m_historyProvider = std::move(provider);
    if (m_range != Live)
        requestHistory();
}

void OverviewPage::setRange(Range range) {
    if (m_rangeBox->currentIndex() != range)
        m_rangeBox->setCurrentIndex(range);  // comes back here through currentIndexChanged
    if (range == m_range)
        return;
    m_range = range;
    m_history.clear();
    if (range == Live) {
        m_historyTimer->stop();
        ++m_historyRequest;  // an answer still on its way is no longer wanted
        refreshCharts();
        return;
    }
    m_historyTimer->start(refreshIntervalOf(range));
    requestHistory();
}

void OverviewPage::requestHistory() {
    if (m_range == Live)
        return;
    // The broker's clock when known (the console's may differ), else this machine's.
    m_historyTo = m_live.latestAt() ? m_live.latestAt() : QDateTime::currentMSecsSinceEpoch();
    m_historyFrom = m_historyTo - spanOf(m_range);
    const quint64 request = ++m_historyRequest;
    if (!m_historyProvider) {
        m_historyState = tr("history unavailable");
        refreshCharts();
        return;
    }
    if (m_history.latestAt() == 0)  // a refresh keeps showing the previous answer until the new one comes
        m_historyState = tr("history · loading…");
    refreshCharts();
    // An hour of per-second samples is a reply of about 2 MB; a day in one reply would pass the client's message
    // size limit, so the range is asked for an hour at a time and drawn once every part has come.
    struct Parts {
        std::vector<std::vector<broker::MetricsSample>> answers;
        size_t missing = 0;
    };
    auto parts = std::make_shared<Parts>();
    parts->answers.resize(size_t((m_historyTo - m_historyFrom + kHistoryChunkMs - 1) / kHistoryChunkMs));
    parts->missing = parts->answers.size();
    for (size_t index = 0; index < parts->answers.size(); ++index) {
        const qint64 from = m_historyFrom + qint64(index) * kHistoryChunkMs;
        const qint64 to = std::min(m_historyTo, from + kHistoryChunkMs - 1);  // both bounds are inclusive
        m_historyProvider(
            from, to,
            [self = QPointer<OverviewPage>(this), request, parts, index](
                Result<std::vector<broker::MetricsSample>> samples) {
                if (!self || request != self->m_historyRequest)
                    return;
                if (!samples) {
                    self->historyFailed(samples.status());
                    return;
                }
                parts->answers[index] = std::move(samples).value();
                if (--parts->missing == 0)
                    self->showHistory(parts->answers);
            });
    }
}

void OverviewPage::historyFailed(const Status& status) {
    ++m_historyRequest;  // the other parts of this request are no longer wanted
    m_historyState = tr("history unavailable: %1; asking again").arg(QString::fromStdString(status.message()));
    refreshCharts();
    QTimer::singleShot(kHistoryRetryMs, this, [this, retried = m_historyRequest] {
        if (retried == m_historyRequest)  // nothing newer asked meanwhile (a range change, a refresh)
            requestHistory();
    });
}

void OverviewPage::showHistory(const std::vector<std::vector<broker::MetricsSample>>& parts) {
    std::vector<broker::MetricsSample> samples;
    for (const auto& part : parts)
        samples.insert(samples.end(), part.begin(), part.end());
    m_history.setHistory(samples);
    m_historyState = m_range == LastDay ? tr("history · last 24 hours") : tr("history · last hour");
    refreshCharts();
}

void OverviewPage::refreshCharts() {
    const bool live = m_range == Live;
    const MetricsSeries& source = live ? m_live : m_history;
    qint64 to = m_historyTo, from = m_historyFrom;
    if (live) {
        to = m_live.latestAt() ? m_live.latestAt() : QDateTime::currentMSecsSinceEpoch();
        from = to - kLiveHistoryMs;
    }
    const QString subtitle = live ? tr("live · last 5 minutes") : m_historyState;
    const QString timeFormat = m_range == LastDay ? QStringLiteral("hh:mm") : QStringLiteral("hh:mm:ss");
    for (int index = 0; index < ChartCount; ++index) {
        TimeSeriesChart::Series lines;
        for (const Line& line : kCharts[index].lines)
            lines.append({tr(line.name), source.series(line.metric)});
        m_charts[index]->setTimeFormat(timeFormat);
        m_charts[index]->setSubtitle(subtitle);
        m_charts[index]->setSeries(lines, from, to);
    }
}

}  // namespace depot::ui
