#include "charts/TimeSeriesChart.h"

#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QEvent>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace depot::ui {
namespace {

// Calm, distinguishable on light and dark backgrounds (Tableau 10's first hues); callers pick per meaning.
const QColor kDefaultColors[] = {QColor(0x4c, 0x78, 0xa8), QColor(0x54, 0xa2, 0x4b), QColor(0xe4, 0x57, 0x56),
                                 QColor(0xf5, 0x85, 0x18)};

QColor blend(const QColor& a, const QColor& b, double towardB) {
    return QColor::fromRgbF(a.redF() + (b.redF() - a.redF()) * towardB,
                            a.greenF() + (b.greenF() - a.greenF()) * towardB,
                            a.blueF() + (b.blueF() - a.blueF()) * towardB);
}

constexpr int kMinPixelsPerTimeTick = 90;  // an "hh:mm:ss" label and some air

}  // namespace

TimeSeriesChart::TimeSeriesChart(const QString& title, const QString& unit, QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel(title)),
      m_subtitle(new QLabel),
      m_chart(new QChart),
      m_view(new QChartView(m_chart)),
      m_time(new QDateTimeAxis),
      m_values(new QValueAxis) {
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_subtitle->setForegroundRole(QPalette::PlaceholderText);
    m_subtitle->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_chart->setMargins(QMargins(2, 2, 6, 0));
    m_chart->layout()->setContentsMargins(0, 0, 0, 0);  // the default inset shows the window colour around it
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_time->setFormat(QStringLiteral("hh:mm:ss"));
    m_values->setTitleText(unit);
    m_chart->addAxis(m_time, Qt::AlignBottom);
    m_chart->addAxis(m_values, Qt::AlignLeft);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setFrameShape(QFrame::NoFrame);
    m_view->setMinimumHeight(150);

    auto* header = new QHBoxLayout;
    header->setContentsMargins(6, 0, 6, 0);
    header->addWidget(m_title);
    header->addWidget(m_subtitle, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(header);
    layout->addWidget(m_view, 1);
    applyPalette();
    setSeries({}, QDateTime::currentMSecsSinceEpoch() - 5 * 60 * 1000, QDateTime::currentMSecsSinceEpoch());
}

QString TimeSeriesChart::title() const { return m_title->text(); }
QString TimeSeriesChart::subtitle() const { return m_subtitle->text(); }
double TimeSeriesChart::yMax() const { return m_values->max(); }

void TimeSeriesChart::setSubtitle(const QString& subtitle) { m_subtitle->setText(subtitle); }
void TimeSeriesChart::setTimeFormat(const QString& format) { m_time->setFormat(format); }

void TimeSeriesChart::setColors(const QList<QColor>& colors) {
    m_colors = colors;
    applyPalette();
}

void TimeSeriesChart::setSeries(const Series& series, qint64 fromMs, qint64 toMs) {
    double largest = 0;
    for (int i = 0; i < series.size(); ++i) {
        const auto& [name, points] = series[i];
        QLineSeries* line = lineAt(i, name);
        line->replace(points);                       // one repaint for the whole list, unlike clear() + append()
        line->setPointsVisible(points.size() <= 2);  // a lone measurement draws no line
        for (const QPointF& point : points)
            largest = std::max(largest, point.y());
    }
    while (m_lines.size() > series.size()) {
        QLineSeries* line = m_lines.takeLast();
        m_chart->removeSeries(line);
        delete line;
    }
    m_time->setRange(QDateTime::fromMSecsSinceEpoch(fromMs),
                     QDateTime::fromMSecsSinceEpoch(std::max(toMs, fromMs + 1)));
    const auto [top, ticks] = niceRange(largest);
    m_values->setRange(0, top);
    m_values->setTickCount(ticks);
    m_values->setLabelFormat(top / (ticks - 1) >= 1 ? QStringLiteral("%.0f") : QStringLiteral("%.1f"));  // steps ≥ 0.2
}

std::pair<double, int> TimeSeriesChart::niceRange(double value) {
    // 5 % of headroom so the largest point does not sit on the frame; each top comes with the tick count that
    // makes every step a round number (0.2, 0.5, 1 or 2 times a power of ten), and the tops are close enough
    // together that a line uses most of the height.
    struct Top {
        double mantissa;
        int ticks;
    };
    static constexpr Top kTops[] = {{1, 6}, {2, 5}, {2.5, 6}, {3, 4}, {4, 5}, {5, 6}, {6, 4}, {8, 5}, {10, 6}};
    const double wanted = value <= 1 ? 1.0 : value * 1.05;
    const double power = std::pow(10.0, std::floor(std::log10(wanted)));
    for (const Top& top : kTops)
        if (wanted <= top.mantissa * power * (1 + 1e-9))
            return {top.mantissa * power, top.ticks};
    return {10 * power, 6};
}

QLineSeries* TimeSeriesChart::lineAt(int index, const QString& name) {
    if (index < m_lines.size()) {
        if (m_lines[index]->name() != name)
            m_lines[index]->setName(name);
        return m_lines[index];
    }
    auto* line = new QLineSeries;
    line->setName(name);
    m_chart->addSeries(line);
    line->attachAxis(m_time);
    line->attachAxis(m_values);
    m_lines.append(line);
    applyPalette();  // addSeries gives the line the theme's colour
    return line;
}

void TimeSeriesChart::applyPalette() {
    const QPalette palette = this->palette();
    const bool dark = palette.color(QPalette::Window).lightness() < 128;
    // The theme resets fonts and colours, so it goes first and everything below overrides it from the palette.
    m_chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    const QColor base = palette.color(QPalette::Base), text = palette.color(QPalette::Text);
    m_chart->setBackgroundBrush(base);
    m_chart->setBackgroundPen(Qt::NoPen);
    m_chart->legend()->setLabelColor(text);
    m_chart->legend()->setFont(font());
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    for (QAbstractAxis* axis : {static_cast<QAbstractAxis*>(m_time), static_cast<QAbstractAxis*>(m_values)}) {
        axis->setLabelsColor(text);
        axis->setLabelsFont(small);
        axis->setTitleBrush(text);
        axis->setTitleFont(small);
        axis->setGridLineColor(blend(base, text, 0.12));
        axis->setLinePenColor(blend(base, text, 0.35));
    }
    for (int i = 0; i < m_lines.size(); ++i) {
        QColor color = i < m_colors.size() ? m_colors[i] : kDefaultColors[i % std::size(kDefaultColors)];
        QPen pen(dark ? color.lighter(125) : color, 2);
        m_lines[i]->setPen(pen);
    }
}

void TimeSeriesChart::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        applyPalette();
}

void TimeSeriesChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_time->setTickCount(std::clamp(width() / kMinPixelsPerTimeTick, 2, 7));
}

}  // namespace depot::ui
