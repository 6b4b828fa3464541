#pragma once
// OverviewPage: the broker at a glance — tiles with the current totals and what is at risk right now, and charts
// of the rates, depths and latencies: live (the last 5 minutes, one point a second) or from the broker's metrics
// history (last hour, last 24 hours).
#include <QList>
#include <QPointF>
#include <QWidget>

#include <functional>
#include <map>
#include <vector>

#include "backend/Snapshot.h"
#include "models/MetricsSeries.h"

class QComboBox;
class QGridLayout;
class QLabel;
class QTimer;

namespace depot::ui {

class TimeSeriesChart;

class OverviewPage : public QWidget {
    Q_OBJECT

public:
    enum Range { Live = 0, LastHour, LastDay };
    enum Chart {
        PublishChart = 0,
        DeliverChart,
        FailureChart,
        DepthChart,
        ConfirmLatencyChart,
        FsyncLatencyChart,
        ChartCount
    };

    using HistoryCallback = std::function<void(Result<std::vector<broker::MetricsSample>>)>;
    // Asks the broker for its broker-wide samples in [fromMs, toMs] and calls back with them or the error — on the
    // page's thread, later or at once. On an error the charts say so and the page asks again a few seconds later.
    // The page asks for at most an hour at a time, so one answer stays within a message's size limit.
    using HistoryProvider = std::function<void(qint64 fromMs, qint64 toMs, HistoryCallback done)>;

    explicit OverviewPage(QWidget* parent = nullptr);
    // Updates the tiles, and the charts too while they show the live range (live points are kept either way).
    void setSnapshot(const SnapshotPtr& snapshot);
    void setHistoryProvider(HistoryProvider provider);

    // Same as choosing in the "historyRange" combo box: the history ranges ask the provider for samples.
    void setRange(Range range);
    Range range() const { return m_range; }

    // The value shown on a tile ("Queues", "Ready", ...), for tests.
    QString tileValue(const QString& title) const;
    // The points the charts show now (live or history), and the live ones whatever the range.
    const QList<QPointF>& series(MetricsSeries::Metric metric) const;
    const MetricsSeries& liveSeries() const { return m_live; }
    TimeSeriesChart* chart(Chart chart) const { return m_charts[chart]; }

private:
    void buildTiles(QGridLayout* grid);
    void addTile(QGridLayout* grid, const QString& title, const QString& help);
    void setTile(const QString& title, const QString& value);
    void updateTiles(const Snapshot& snapshot);
    QWidget* buildCharts();
    void requestHistory();
    void showHistory(const std::vector<std::vector<broker::MetricsSample>>& parts);
    void historyFailed(const Status& status);
    void refreshCharts();

    std::map<QString, QLabel*> m_tiles;
    QComboBox* m_rangeBox = nullptr;
    QList<TimeSeriesChart*> m_charts;
    QTimer* m_historyTimer = nullptr;
    MetricsSeries m_live;
    MetricsSeries m_history;
    HistoryProvider m_historyProvider;
    Range m_range = Live;
    qint64 m_historyFrom = 0;
    qint64 m_historyTo = 0;
    quint64 m_historyRequest = 0;  // answers to older requests are dropped
    QString m_historyState;        // the subtitle while on a history range
};

}  // namespace depot::ui
