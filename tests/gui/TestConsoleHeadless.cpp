// `depot` without a display (DISPLAY and WAYLAND_DISPLAY unset, as on a server or in CI): it says so and runs the
// headless broker on the same data directory, which then serves and stops cleanly on SIGTERM.
#include <QtTest>

#include <QProcess>

#include <csignal>

#include "support/TempDir.h"

class TestConsoleHeadless : public QObject {
    Q_OBJECT

private slots:
    void testWithoutADisplayItRunsDepotd() {
        depot::test::TempDir dir;
        QProcess depot;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            environment.remove(name);
        depot.setProcessEnvironment(environment);
        depot.setProcessChannelMode(QProcess::MergedChannels);
        depot.start(DEPOT_CONSOLE_PATH,
                    {"--data", QString::fromStdString(dir.file("data")), "--listen", "tcp://127.0.0.1:0"});
        QVERIFY(depot.waitForStarted());
        QByteArray output;
        QTRY_VERIFY_WITH_TIMEOUT((output += depot.readAll()).contains("depotd listening on"), 30000);
        QVERIFY2(output.contains("no display"), output.constData());
        ::kill(pid_t(depot.processId()), SIGTERM);
        QVERIFY(depot.waitForFinished(30000));
        output += depot.readAll();
        QCOMPARE(depot.exitCode(), 0);
        QVERIFY2(output.contains("depotd stopped cleanly"), output.constData());
    }
};

QTEST_GUILESS_MAIN(TestConsoleHeadless)
#include "TestConsoleHeadless.moc"
