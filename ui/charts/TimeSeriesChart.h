#pragma once
// TimeSeriesChart: one titled line chart of a few series over time, for the Overview. The only widget that uses
// Qt Charts (deprecated from Qt 6.10): every QtCharts include stays in ui/charts/, so replacing the engine later
// touches this folder only. Colours follow the application palette (light or dark) and change with it.
#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <QWidget>

#include <utility>

QT_FORWARD_DECLARE_CLASS(QChart)
QT_FORWARD_DECLARE_CLASS(QChartView)
QT_FORWARD_DECLARE_CLASS(QDateTimeAxis)
QT_FORWARD_DECLARE_CLASS(QLabel)
QT_FORWARD_DECLARE_CLASS(QLineSeries)
QT_FORWARD_DECLARE_CLASS(QValueAxis)

namespace depot::ui {

class TimeSeriesChart : public QWidget {
    Q_OBJECT

public:
    using Series = QList<std::pair<QString, QList<QPointF>>>;  // legend name → points (x: ms since the epoch)

    // `unit` titles the y axis ("messages/s", "messages", "µs").
    TimeSeriesChart(const QString& title, const QString& unit, QWidget* parent = nullptr);

    // Shows `series` (one line each, in order; the same names from call to call reuse the lines) over the time
    // range [fromMs, toMs]. The y axis runs from 0 to a round value at or above the largest point, at least 1.
    void setSeries(const Series& series, qint64 fromMs, qint64 toMs);
    // What the chart shows, beside its title (e.g. "live · last 5 min" or "history · last hour").
    void setSubtitle(const QString& subtitle);
    // Line colours by position (defaults beyond the list); lightened a little on a dark palette.
    void setColors(const QList<QColor>& colors);
    // The x axis' QDateTime format: "hh:mm:ss" for minutes, "hh:mm" for a day.
    void setTimeFormat(const QString& format);

    QString title() const;
    QString subtitle() const;
    double yMax() const;

    // The round upper bound of a y axis showing values up to `value`, and the tick count that divides it evenly.
    static std::pair<double, int> niceRange(double value);

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    QLineSeries* lineAt(int index, const QString& name);
    void applyPalette();

    QLabel* m_title;
    QLabel* m_subtitle;
    QChart* m_chart;
    QChartView* m_view;
    QDateTimeAxis* m_time;
    QValueAxis* m_values;
    QList<QLineSeries*> m_lines;
    QList<QColor> m_colors;
};

}  // namespace depot::ui
