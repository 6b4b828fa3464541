// The examples/ programs against a real depotd: each must exit 0 (it checks its own defence), and again when run
// a second time against the same broker, as a user trying them out would. Keeps the examples from rotting.
#include <QProcess>
#include <QtTest>

#include <signal.h>

#include <optional>

#include "support/DepotdProcess.h"
#include "support/TempDir.h"

class TestExamples : public QObject {
    Q_OBJECT

private:
    depot::test::TempDir m_data;
    std::optional<depot::test::DepotdProcess> m_depotd;

private slots:
    void initTestCase() {
        m_depotd.emplace(m_data.path());
        QVERIFY2(m_depotd->start(), qPrintable(m_depotd->error()));
    }

    void cleanupTestCase() {
        m_depotd->kill(SIGTERM);
        QCOMPARE(m_depotd->waitForExit(), std::optional<int>(0));
    }

    void testExampleSucceeds_data() {
        QTest::addColumn<QString>("example");
        for (const QString& name : QString(DEPOT_EXAMPLE_NAMES).split(',', Qt::SkipEmptyParts))
            QTest::newRow(qPrintable(name)) << name;
    }

    void testExampleSucceeds() {
        QFETCH(QString, example);
        for (int run = 1; run <= 2; ++run) {
            QProcess process;
            process.setProcessChannelMode(QProcess::MergedChannels);
            process.start(QString(DEPOT_EXAMPLES_DIR) + "/" + example,
                          {"--endpoint", QString::fromStdString(m_depotd->endpoint())});
            QVERIFY2(process.waitForFinished(90000), qPrintable(example + " did not finish"));
            const QString output = QString::fromLocal8Bit(process.readAll());
            QVERIFY2(
                process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
                qPrintable(
                    QString("%1 (run %2) exited %3:\n%4").arg(example).arg(run).arg(process.exitCode()).arg(output)));
        }
    }
};

QTEST_GUILESS_MAIN(TestExamples)
#include "TestExamples.moc"
