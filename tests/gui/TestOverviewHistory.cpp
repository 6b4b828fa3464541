// The Overview's history ranges against a history provider that fails: the charts say why instead of "loading"
// forever, and the page asks again by itself and draws the answer when it comes.
#include <QtTest>

#include <QComboBox>
#include <QDateTime>

#include "charts/TimeSeriesChart.h"
#include "pages/OverviewPage.h"

using depot::Result;
using depot::Status;
using depot::broker::MetricsSample;
using depot::ui::MetricsSeries;
using depot::ui::OverviewPage;

namespace {

constexpr int kWaitMs = 15000;  // the page retries after a few seconds; a hang guard, not a timing assertion

std::vector<MetricsSample> samplesBetween(qint64 from, qint64 to) {
    std::vector<MetricsSample> samples;
    for (qint64 at = std::max(from, to - 10'000); at <= to; at += 1000) {
        MetricsSample sample;
        sample.at = at;
        sample.ready = 7;
        samples.push_back(sample);
    }
    return samples;
}

}  // namespace

class TestOverviewHistory : public QObject {
    Q_OBJECT

private slots:
    void testAFailedHistoryRequestIsShownAndAskedAgain() {
        OverviewPage page;
        int asked = 0;
        page.setHistoryProvider([&asked](qint64 from, qint64 to, OverviewPage::HistoryCallback done) {
            if (++asked == 1)
                done(Status::unavailable("the broker is busy"));
            else
                done(samplesBetween(from, to));
        });
        page.findChild<QComboBox*>("historyRange")->setCurrentIndex(OverviewPage::LastHour);
        const depot::ui::TimeSeriesChart* depth = page.chart(OverviewPage::DepthChart);
        QVERIFY2(depth->subtitle().contains("the broker is busy"), qPrintable(depth->subtitle()));
        QVERIFY(page.series(MetricsSeries::Backlog).isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(!page.series(MetricsSeries::Backlog).isEmpty(), kWaitMs);
        QCOMPARE(asked, 2);
        QCOMPARE(page.series(MetricsSeries::Backlog).last().y(), 7.0);
        QVERIFY2(depth->subtitle().contains("last hour"), qPrintable(depth->subtitle()));
    }

    // Going back to live while a retry is pending cancels it: nothing more is asked.
    void testGoingLiveCancelsTheRetry() {
        OverviewPage page;
        int asked = 0;
        page.setHistoryProvider([&asked](qint64, qint64, OverviewPage::HistoryCallback done) {
            ++asked;
            done(Status::unavailable("the broker is busy"));
        });
        auto* range = page.findChild<QComboBox*>("historyRange");
        range->setCurrentIndex(OverviewPage::LastHour);
        range->setCurrentIndex(OverviewPage::Live);
        QTest::qWait(4000);  // past the retry delay
        QCOMPARE(asked, 1);
        QVERIFY(page.chart(OverviewPage::DepthChart)->subtitle().contains("live"));
    }
};

QTEST_MAIN(TestOverviewHistory)
#include "TestOverviewHistory.moc"
