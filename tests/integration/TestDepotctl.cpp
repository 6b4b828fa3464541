// depotctl as a process against a real depotd: queue administration and the --yes guard, publishing with
// per-message JSON outcomes and exit codes, consuming with durable manual acks, --fail (retry, then max-attempts)
// and --reject (dead letter now), the dead-letter tools (list, show, requeue, export/import round trip with a
// non-UTF-8 body), exchanges, trace, stats, sessions, usage errors (exit 2) and an unreachable broker (exit 1), each
// failure reported as one line on stderr.
#include <QtTest>

#include <signal.h>

#include <QJsonArray>

#include <memory>

#include "DepotctlRunner.h"
#include "support/DepotdProcess.h"
#include "support/TempDir.h"

using depot::test::DepotdProcess;
using depot::test::TempDir;

namespace {

constexpr int kWaitMs = 15000;  // for what the broker does in the background (trace, retries): a hang guard

using Run = depot::test::DepotctlRun;

QString describe(const Run& run) { return run.describe(); }

}  // namespace

class TestDepotctl : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<TempDir> m_dir;
    std::unique_ptr<DepotdProcess> m_depotd;

    QString endpoint() const { return QString::fromStdString(m_depotd->endpoint()); }

    Run runWith(const QStringList& args, const QByteArray& input = {}, const QString& environmentEndpoint = {}) {
        return depot::test::runDepotctl(args, input, environmentEndpoint);
    }

    // depotctl --endpoint <the test broker> ARGS...
    Run ctl(const QStringList& args, const QByteArray& input = {}) {
        return runWith(QStringList{"--endpoint", endpoint()} + args, input);
    }

    QJsonObject queueStats(const QString& queue) {
        Run run = ctl({"--json", "queue", "show", queue});
        return run.json().value("queue").toObject().value("stats").toObject();
    }

    bool declare(const QStringList& args) {
        Run run = ctl(QStringList{"queue", "declare"} + args);
        if (run.exitCode != 0)
            qWarning().noquote() << describe(run);
        return run.exitCode == 0;
    }

    // Two dead letters in QUEUE.dlq: "bin" (a body that is not UTF-8, a header) and "txt" (text, a key).
    void deadLetterTwo(const QString& queue, const QByteArray& binary) {
        QVERIFY(declare({queue}));
        const QString binaryPath = QString::fromStdString(m_dir->file("binary.bin"));
        QFile file(binaryPath);
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write(binary) == binary.size());
        file.close();
        QCOMPARE(ctl({"publish", queue, "--file", binaryPath, "--id", "bin", "--header", "kind=raw"}).exitCode, 0);
        QCOMPARE(ctl({"publish", queue, "--body", "text body", "--id", "txt", "--key", "K"}).exitCode, 0);
        QCOMPARE(ctl({"consume", queue, "--count", "2", "--timeout", "20s", "--reject"}).exitCode, 0);
        QTRY_COMPARE_WITH_TIMEOUT(queueStats(queue + ".dlq")["ready"].toInt(), 2, kWaitMs);
    }

private slots:
    void initTestCase() {
        m_dir = std::make_unique<TempDir>();
        m_depotd = std::make_unique<DepotdProcess>(m_dir->file("data"));
        QVERIFY2(m_depotd->start(), qPrintable(m_depotd->error()));
    }

    void cleanupTestCase() {
        m_depotd->kill(SIGTERM);
        m_depotd->waitForExit();
    }

    void testQueueDeclareSetsEveryPolicyOption() {
        QVERIFY(declare({"policies",       "--transient",
                         "--flush",        "async",
                         "--max-attempts", "3",
                         "--backoff",      "100ms,2s",
                         "--ack-timeout",  "30s",
                         "--ttl",          "10m",
                         "--max-length",   "100",
                         "--overflow",     "dead-letter-oldest",
                         "--ordering",     "per-key",
                         "--dedup-window", "1m",
                         "--dlq",          "policies.dead"}));
        const QJsonObject queue = ctl({"--json", "queue", "show", "policies"}).json()["queue"].toObject();
        const QJsonObject policy = queue["policy"].toObject();
        QCOMPARE(policy["durable"].toBool(true), false);
        QCOMPARE(policy["flush"].toString(), QString("async"));
        QCOMPARE(policy["maxAttempts"].toInt(), 3);
        QCOMPARE(policy["backoffMs"].toArray(), QJsonArray({100, 2000}));
        QCOMPARE(policy["ackTimeoutMs"].toInt(), 30000);
        QCOMPARE(policy["ttlMs"].toInt(), 600000);
        QCOMPARE(policy["maxLength"].toInt(), 100);
        QCOMPARE(policy["overflow"].toString(), QString("dead-letter-oldest"));
        QCOMPARE(policy["ordering"].toString(), QString("per-key"));
        QCOMPARE(policy["dedupWindowMs"].toInt(), 60000);
        QCOMPARE(queue["deadLetterQueue"].toString(), QString("policies.dead"));

        Run list = ctl({"queue", "list"});
        QCOMPARE(list.exitCode, 0);
        QVERIFY(list.out.startsWith("NAME "));
        QVERIFY2(list.out.contains("policies.dead"), list.out.constData());
        Run show = ctl({"queue", "show", "policies"});
        QCOMPARE(show.exitCode, 0);
        QVERIFY(show.out.contains("max attempts:") && show.out.contains("100ms,2s"));
    }

    void testRedeclaringWithAnotherPolicyFails() {
        QVERIFY(declare({"redeclared", "--max-attempts", "2"}));
        QVERIFY(declare({"redeclared", "--max-attempts", "2"}));
        Run run = ctl({"queue", "declare", "redeclared", "--max-attempts", "4"});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.oneErrorLine(), run.err.constData());
    }

    void testDestructiveCommandsWithoutYesChangeNothing_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("queue purge") << QStringList{"queue", "purge", "guarded"};
        QTest::newRow("queue delete") << QStringList{"queue", "delete", "guarded"};
        QTest::newRow("dlq purge") << QStringList{"dlq", "purge", "guarded"};
        QTest::newRow("exchange delete") << QStringList{"exchange", "delete", "guarded-exchange"};
    }

    void testDestructiveCommandsWithoutYesChangeNothing() {
        QFETCH(QStringList, args);
        QVERIFY(declare({"guarded"}));
        QCOMPARE(ctl({"publish", "guarded", "--body", "keep me"}).exitCode, 0);
        Run run = ctl(args);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.oneErrorLine(), run.err.constData());
        QVERIFY2(run.err.contains("--yes") && run.err.contains("guarded"), run.err.constData());
        QVERIFY(run.out.isEmpty());
        QVERIFY(queueStats("guarded")["ready"].toInt() >= 1);
    }

    void testPurgeAndDeleteWithYes() {
        QVERIFY(declare({"doomed"}));
        QCOMPARE(ctl({"publish", "doomed", "--body", "x", "--count", "3"}).exitCode, 0);
        Run purge = ctl({"queue", "purge", "doomed", "--yes"});
        QCOMPARE(purge.exitCode, 0);
        QVERIFY2(purge.out.contains("purged 3"), purge.out.constData());
        QCOMPARE(queueStats("doomed")["ready"].toInt(-1), 0);
        QCOMPARE(ctl({"queue", "delete", "doomed", "--yes"}).exitCode, 0);
        Run show = ctl({"queue", "show", "doomed"});
        QCOMPARE(show.exitCode, 1);
        QVERIFY2(show.oneErrorLine(), show.err.constData());
    }

    void testPublishLinesReportsEachOutcome() {
        QVERIFY(declare({"lines"}));
        const QByteArray input = "first\nsecond caf\xc3\xa9\nthird\n";
        Run run = ctl({"--json", "publish", "lines", "--lines", "--id", "ln"}, input);
        QCOMPARE(run.exitCode, 0);
        const QList<QJsonObject> lines = run.jsonLines();
        QCOMPARE(lines.size(), 3);
        const QStringList bodies = {"first", QString::fromUtf8("second caf\xc3\xa9"), "third"};
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(lines[i]["id"].toString(), QString("ln-%1").arg(i + 1));
            QCOMPARE(lines[i]["body"].toString(), bodies[i]);
            QCOMPARE(lines[i]["outcome"].toString(), QString("confirmed"));
        }
        Run again = ctl({"--json", "publish", "lines", "--lines", "--id", "ln"}, input);
        QCOMPARE(again.exitCode, 0);
        for (const QJsonObject& line : again.jsonLines())
            QCOMPARE(line["outcome"].toString(), QString("duplicate"));
        QCOMPARE(queueStats("lines")["ready"].toInt(), 3);
    }

    void testPublishToUnknownQueueIsNackedAndExitsOne() {
        Run run = ctl({"--json", "publish", "no-such-queue", "--body", "lost?", "--id", "nq"});
        QCOMPARE(run.exitCode, 1);
        const QList<QJsonObject> lines = run.jsonLines();
        QCOMPARE(lines.size(), 1);
        QCOMPARE(lines[0]["id"].toString(), QString("nq"));
        QCOMPARE(lines[0]["outcome"].toString(), QString("nacked"));
        QCOMPARE(lines[0]["reason"].toString(), QString("no-queue"));
        QVERIFY2(run.oneErrorLine(), run.err.constData());
        Run text = ctl({"publish", "no-such-queue", "--body", "lost?"});
        QCOMPARE(text.exitCode, 1);
        QVERIFY2(text.out.contains("published 1, confirmed 0, nacked 1"), text.out.constData());
    }

    void testPublishModes_data() {
        QTest::addColumn<QString>("mode");
        QTest::newRow("sync") << "sync";
        QTest::newRow("async") << "async";
        QTest::newRow("oneway") << "oneway";
    }

    void testPublishModes() {
        QFETCH(QString, mode);
        const QString queue = "mode-" + mode;
        QVERIFY(declare({queue}));
        Run run = ctl({"publish", queue, "--body", "m", "--count", "5", "--mode", mode});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith("published 5, "), run.out.constData());
        if (mode != "oneway")
            QVERIFY2(run.out.contains("confirmed 5, nacked 0"), run.out.constData());
        QTRY_COMPARE_WITH_TIMEOUT(queueStats(queue)["ready"].toInt(), 5, kWaitMs);
    }

    void testConsumePrintsDeliveriesAfterDurableAcks() {
        QVERIFY(declare({"consumed"}));
        QCOMPARE(ctl({"publish", "consumed", "--body", "hello", "--id", "c1", "--key", "k", "--header", "a=1",
                      "--header", "b=2"})
                     .exitCode,
                 0);
        QCOMPARE(ctl({"publish", "consumed", "--body", "world", "--id", "c2"}).exitCode, 0);
        Run run = ctl({"consume", "consumed", "--count", "2", "--timeout", "20s"});
        QCOMPARE(run.exitCode, 0);
        const QList<QJsonObject> deliveries = run.jsonLines();
        QCOMPARE(deliveries.size(), 2);
        QCOMPARE(deliveries[0]["id"].toString(), QString("c1"));
        QCOMPARE(deliveries[0]["body"].toString(), QString("hello"));
        QCOMPARE(deliveries[0]["key"].toString(), QString("k"));
        QCOMPARE(deliveries[0]["headers"].toArray(), QJsonArray({QJsonArray({"a", "1"}), QJsonArray({"b", "2"})}));
        QCOMPARE(deliveries[0]["attempt"].toInt(), 1);
        QCOMPARE(deliveries[0]["redelivered"].toBool(true), false);
        QCOMPARE(deliveries[0]["queue"].toString(), QString("consumed"));
        QVERIFY(deliveries[0].contains("sequence"));
        QCOMPARE(deliveries[1]["id"].toString(), QString("c2"));
        // Printed only once the acks were durable: nothing is left, not even unacked.
        const QJsonObject stats = queueStats("consumed");
        QCOMPARE(stats["ready"].toInt(-1) + stats["unacked"].toInt(-1) + stats["delayed"].toInt(-1), 0);
    }

    // Taking one message at a time must not cost the others attempts: the broker sends only --count.
    void testConsumeCountLeavesTheRestUntouched() {
        QVERIFY(declare({"one-by-one", "--max-attempts", "2"}));
        QCOMPARE(ctl({"publish", "one-by-one", "--body", "x", "--count", "3"}).exitCode, 0);
        for (int i = 0; i < 3; ++i) {
            const QJsonObject delivery =
                ctl({"consume", "one-by-one", "--count", "1", "--timeout", "20s"}).jsonLines().value(0);
            QCOMPARE(delivery["attempt"].toInt(), 1);
            QCOMPARE(delivery["redelivered"].toBool(true), false);
        }
        QCOMPARE(queueStats("one-by-one")["ready"].toInt(-1), 0);
        QCOMPARE(queueStats("one-by-one.dlq")["ready"].toInt(-1), 0);
    }

    void testConsumeTimeoutWithTooFewMessagesExitsOne() {
        QVERIFY(declare({"empty"}));
        Run run = ctl({"consume", "empty", "--count", "1", "--timeout", "300ms"});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.oneErrorLine() && run.err.contains("received 0 of 1"), run.err.constData());
        Run missing = ctl({"consume", "no-such-queue", "--count", "1", "--timeout", "1s"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.oneErrorLine(), missing.err.constData());
    }

    void testConsumeFailRetriesUntilMaxAttempts() {
        QVERIFY(declare({"failing", "--max-attempts", "2", "--backoff", "100ms"}));
        QCOMPARE(ctl({"publish", "failing", "--body", "poison", "--id", "f1"}).exitCode, 0);
        Run first = ctl({"consume", "failing", "--count", "1", "--timeout", "20s", "--fail", "--error", "boom"});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(first.jsonLines().value(0)["attempt"].toInt(), 1);
        Run second = ctl({"consume", "failing", "--count", "1", "--timeout", "20s", "--fail", "--error", "boom2"});
        QCOMPARE(second.exitCode, 0);
        const QJsonObject retried = second.jsonLines().value(0);
        QCOMPARE(retried["id"].toString(), QString("f1"));
        QCOMPARE(retried["attempt"].toInt(), 2);
        QCOMPARE(retried["redelivered"].toBool(), true);
        QTRY_COMPARE_WITH_TIMEOUT(ctl({"dlq", "show", "f1"}).exitCode, 0, kWaitMs);
        const QJsonObject dead = ctl({"--json", "dlq", "show", "f1"}).jsonLines().value(0);
        QCOMPARE(dead["queue"].toString(), QString("failing.dlq"));
        QCOMPARE(dead["death"].toObject()["reason"].toString(), QString("max-attempts"));
        QCOMPARE(dead["death"].toObject()["lastError"].toString(), QString("boom2"));
        QCOMPARE(dead["death"].toObject()["sourceQueue"].toString(), QString("failing"));
    }

    void testConsumeRejectDeadLettersAtOnce() {
        QVERIFY(declare({"rejecting"}));
        QCOMPARE(ctl({"publish", "rejecting", "--body", "bad", "--id", "r1"}).exitCode, 0);
        Run run = ctl({"consume", "rejecting", "--count", "1", "--timeout", "20s", "--reject", "--error", "invalid"});
        QCOMPARE(run.exitCode, 0);
        QTRY_COMPARE_WITH_TIMEOUT(ctl({"dlq", "show", "r1"}).exitCode, 0, kWaitMs);
        const QJsonObject death = ctl({"--json", "dlq", "show", "r1"}).jsonLines().value(0)["death"].toObject();
        QCOMPARE(death["reason"].toString(), QString("rejected"));
        QCOMPARE(death["lastError"].toString(), QString("invalid"));
        QCOMPARE(death["attempts"].toInt(), 1);
        Run list = ctl({"dlq", "list", "rejecting"});
        QCOMPARE(list.exitCode, 0);
        QVERIFY2(list.out.contains("r1") && list.out.contains("rejected") && list.out.contains("invalid"),
                 list.out.constData());
        Run queues = ctl({"dlq", "list"});
        QVERIFY2(queues.exitCode == 0 && queues.out.contains("rejecting.dlq"), queues.out.constData());
        Run deleted = ctl({"dlq", "delete", "r1"});
        QCOMPARE(deleted.exitCode, 0);
        QVERIFY2(deleted.out.contains("deleted 1"), deleted.out.constData());
        QCOMPARE(ctl({"dlq", "show", "r1"}).exitCode, 1);
    }

    void testDeadLetterExportImportIsByteIdentical() {
        const QByteArray binary("\xff\xfe\x00raw\x80\xc3(\n\r\x01", 13);
        deadLetterTwo("trip", binary);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(declare({"trip-restored"}));
        const QString exported = QString::fromStdString(m_dir->file("trip.jsonl"));
        QCOMPARE(ctl({"dlq", "export", "trip", "--out", exported}).exitCode, 0);
        QFile jsonl(exported);
        QVERIFY(jsonl.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = jsonl.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        // consume settles a batch concurrently, so the two may have been dead-lettered in either order.
        const int binLine = QJsonDocument::fromJson(lines[0]).object()["id"].toString() == "bin" ? 0 : 1;
        const QJsonObject first = QJsonDocument::fromJson(lines[binLine]).object();
        QCOMPARE(first["id"].toString(), QString("bin"));
        QCOMPARE(QByteArray::fromBase64(first["bodyBase64"].toString().toLatin1()), binary);
        QCOMPARE(first["death"].toObject()["reason"].toString(), QString("rejected"));

        Run import = ctl({"dlq", "import", exported, "--to", "trip-restored"});
        QCOMPARE(import.exitCode, 0);
        QVERIFY2(import.out.contains("imported 2, confirmed 2, nacked 0"), import.out.constData());
        const QList<QJsonObject> restored =
            ctl({"consume", "trip-restored", "--count", "2", "--timeout", "20s"}).jsonLines();
        QCOMPARE(restored.size(), 2);
        const QJsonObject bin = restored[binLine], txt = restored[1 - binLine];  // imported in the file's order
        QCOMPARE(bin["id"].toString(), QString("bin"));
        QCOMPARE(QByteArray::fromBase64(bin["bodyBase64"].toString().toLatin1()), binary);
        QCOMPARE(bin["headers"].toArray(), QJsonArray({QJsonArray({"kind", "raw"})}));
        QCOMPARE(txt["id"].toString(), QString("txt"));
        QCOMPARE(txt["body"].toString(), QString("text body"));
        QCOMPARE(txt["key"].toString(), QString("K"));

        // Without --to, each line goes back to the queue it names (here the dead-letter queue itself).
        QCOMPARE(ctl({"dlq", "purge", "trip", "--yes"}).exitCode, 0);
        QCOMPARE(queueStats("trip.dlq")["ready"].toInt(-1), 0);
        QCOMPARE(ctl({"dlq", "import", exported}).exitCode, 0);
        QCOMPARE(queueStats("trip.dlq")["ready"].toInt(), 2);
        QCOMPARE(ctl({"dlq", "purge", "trip.dlq", "--yes"}).exitCode, 0);
    }

    void testRequeueReturnsDeadLetters() {
        deadLetterTwo("again", "\xff binary");
        if (QTest::currentTestFailed())
            return;
        Run requeue = ctl({"dlq", "requeue", "txt"});  // to its source queue, death record kept
        QCOMPARE(requeue.exitCode, 0);
        QVERIFY2(requeue.out.contains("requeued 1, failed 0"), requeue.out.constData());
        const QJsonObject back = ctl({"consume", "again", "--count", "1", "--timeout", "20s"}).jsonLines().value(0);
        QCOMPARE(back["id"].toString(), QString("txt"));
        QCOMPARE(back["death"].toObject()["reason"].toString(), QString("rejected"));
        QVERIFY(declare({"again-elsewhere"}));
        Run all = ctl({"dlq", "requeue", "--all", "--from", "again", "--to", "again-elsewhere"});
        QCOMPARE(all.exitCode, 0);
        QVERIFY2(all.out.contains("requeued 1, failed 0"), all.out.constData());
        QCOMPARE(queueStats("again-elsewhere")["ready"].toInt(), 1);
        QCOMPARE(queueStats("again.dlq")["ready"].toInt(-1), 0);
    }

    void testDlqUnknownIdsExitOne_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("show") << QStringList{"dlq", "show", "no-such-id"};
        QTest::newRow("delete") << QStringList{"dlq", "delete", "no-such-id"};
        QTest::newRow("requeue") << QStringList{"dlq", "requeue", "no-such-id"};
    }

    void testDlqUnknownIdsExitOne() {
        QFETCH(QStringList, args);
        Run run = ctl(args);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.oneErrorLine() && run.err.contains("no-such-id"), run.err.constData());
    }

    void testExchangeBindingsRoute() {
        QVERIFY(declare({"routed"}));
        QCOMPARE(ctl({"exchange", "declare", "events", "--type", "topic"}).exitCode, 0);
        QCOMPARE(ctl({"bind", "events", "routed", "--pattern", "order.*"}).exitCode, 0);
        QVERIFY(ctl({"exchange", "list"}).out.contains("routed (order.*)"));
        QCOMPARE(ctl({"publish", "events", "--routing-key", "order.created", "--body", "e1"}).exitCode, 0);
        QCOMPARE(ctl({"publish", "--exchange", "events", "--routing-key", "order.paid", "--body", "e2"}).exitCode, 0);
        Run unroutable = ctl({"--json", "publish", "--exchange", "events", "--routing-key", "user.x", "--body", "e"});
        QCOMPARE(unroutable.exitCode, 1);
        QCOMPARE(unroutable.jsonLines().value(0)["reason"].toString(), QString("no-route"));
        QCOMPARE(queueStats("routed")["ready"].toInt(), 2);
        QCOMPARE(ctl({"unbind", "events", "routed", "--pattern", "order.*"}).exitCode, 0);
        QCOMPARE(ctl({"exchange", "delete", "events", "--yes"}).exitCode, 0);
        QVERIFY(!ctl({"exchange", "list"}).out.contains("events"));
    }

    void testTraceShowsTheTimeline() {
        QVERIFY(declare({"traced"}));
        QCOMPARE(ctl({"publish", "traced", "--body", "t", "--id", "tr1"}).exitCode, 0);
        QCOMPARE(ctl({"consume", "traced", "--count", "1", "--timeout", "20s"}).exitCode, 0);
        // Trace events reach the catalog in the background.
        QTRY_VERIFY_WITH_TIMEOUT(ctl({"trace", "tr1"}).out.contains("acked"), kWaitMs);
        Run run = ctl({"trace", "tr1"});
        QCOMPARE(run.exitCode, 0);
        const QList<QByteArray> lines = run.out.trimmed().split('\n');
        QVERIFY2(lines.size() >= 4, run.out.constData());
        QVERIFY(lines.first().contains("published") && lines.first().contains("traced"));
        QVERIFY(lines.last().contains("acked"));
        const QJsonArray events = ctl({"--json", "trace", "tr1"}).json()["events"].toArray();
        QCOMPARE(events.size(), lines.size());
        Run unknown = ctl({"trace", "never-published"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.oneErrorLine(), unknown.err.constData());
    }

    // depotd --no-trace serves as usual but records no trace events, so `trace` finds nothing.
    void testNoTraceRecordsNoEvents() {
        DepotdProcess untraced(m_dir->file("untraced"), {"--no-trace"});
        QVERIFY2(untraced.start(), qPrintable(untraced.error()));
        const QStringList at{"--endpoint", QString::fromStdString(untraced.endpoint())};
        QCOMPARE(runWith(at + QStringList{"queue", "declare", "quiet"}).exitCode, 0);
        QCOMPARE(runWith(at + QStringList{"publish", "quiet", "--body", "q", "--id", "nt1"}).exitCode, 0);
        QCOMPARE(runWith(at + QStringList{"consume", "quiet", "--count", "1", "--timeout", "20s"}).exitCode, 0);
        QTest::qWait(1000);  // a traced broker writes its events within this (testTraceShowsTheTimeline)
        Run trace = runWith(at + QStringList{"trace", "nt1"});
        QCOMPARE(trace.exitCode, 1);
        QVERIFY2(trace.oneErrorLine(), trace.err.constData());
        untraced.kill(SIGTERM);
        QCOMPARE(untraced.waitForExit(), std::optional<int>(0));
    }

    void testStatsAndSessions() {
        QVERIFY(declare({"counted"}));
        QCOMPARE(ctl({"publish", "counted", "--body", "s", "--count", "2"}).exitCode, 0);
        Run text = ctl({"stats"});
        QCOMPARE(text.exitCode, 0);
        QVERIFY2(text.out.contains("totals:") && text.out.contains("unflushed:") && text.out.contains("counted"),
                 text.out.constData());
        QVERIFY(ctl({"--json", "stats"}).json()["totals"].toObject()["published"].toInt() >= 2);
        Run watch = ctl({"--json", "stats", "--watch", "--count", "2", "--interval", "200ms"});
        QCOMPARE(watch.exitCode, 0);
        const QList<QJsonObject> samples = watch.jsonLines();
        QCOMPARE(samples.size(), 2);
        QVERIFY(!samples[0].contains("rates"));
        QVERIFY(samples[1]["rates"].toObject().contains("counted"));
        Run sessions = ctl({"--json", "sessions"});
        QCOMPARE(sessions.exitCode, 0);
        bool sawSelf = false;
        for (const QJsonValue& session : sessions.json()["sessions"].toArray())
            sawSelf = sawSelf || session.toObject()["client"].toString() == "depotctl";
        QVERIFY(sawSelf);
        QVERIFY(ctl({"sessions"}).out.startsWith("SESSION"));
    }

    // The broker's default flush goes to queues declared without --flush, not to those that chose or existed.
    void testBrokerSetChangesTheDefaultFlushOfNewQueues() {
        QVERIFY(declare({"flush-before"}));
        Run set = ctl({"broker", "set", "--default-flush", "async", "--async-flush-interval", "250ms"});
        QVERIFY2(set.exitCode == 0, qPrintable(describe(set)));
        QVERIFY2(set.out.contains("default flush: async") && set.out.contains("250 ms"), set.out.constData());
        const QJsonObject settings = ctl({"--json", "broker", "show"}).json();
        QCOMPARE(settings["defaultFlush"].toString(), QString("async"));
        QCOMPARE(settings["asyncFlushIntervalMs"].toInt(), 250);
        QVERIFY(declare({"flush-default"}));
        QVERIFY(declare({"flush-chosen", "--flush", "sync"}));
        auto flushOf = [this](const QString& queue) {
            return ctl({"--json", "queue", "show", queue}).json()["queue"].toObject()["policy"].toObject()["flush"];
        };
        QCOMPARE(flushOf("flush-default").toString(), QString("async"));
        QCOMPARE(flushOf("flush-chosen").toString(), QString("sync"));
        QCOMPARE(flushOf("flush-before").toString(), QString("sync"));
        QCOMPARE(ctl({"--json", "stats"}).json()["log"].toObject()["asyncFlushIntervalMs"].toInt(), 250);

        Run refused = ctl({"broker", "set", "--async-flush-interval", "2m"});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.oneErrorLine() && refused.err.contains("async-flush-interval"), refused.err.constData());
        QCOMPARE(ctl({"broker", "set", "--default-flush", "sync", "--async-flush-interval", "100ms"}).exitCode, 0);
    }

    void testUnknownTransactionExitsOne() {
        Run run = ctl({"tx", "commit", "no-such-tx"});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.oneErrorLine(), run.err.constData());
    }

    void testEndpointFromEnvironment() {
        Run run = runWith({"queue", "list"}, {}, endpoint());
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.startsWith("NAME "));
    }

    void testUnreachableBrokerExitsOneWithOneLine() {
        Run run = runWith({"--endpoint", "tcp://127.0.0.1:1", "--timeout", "1s", "queue", "list"});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.oneErrorLine() && run.err.contains("tcp://127.0.0.1:1"), run.err.constData());
        QVERIFY(run.out.isEmpty());
    }

    void testUsageErrorsExitTwo_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("no command") << QStringList{};
        QTest::newRow("unknown command") << QStringList{"frobnicate"};
        QTest::newRow("unknown subcommand") << QStringList{"queue", "frobnicate"};
        QTest::newRow("group without subcommand") << QStringList{"dlq"};
        QTest::newRow("unknown option") << QStringList{"queue", "list", "--bogus"};
        QTest::newRow("missing argument") << QStringList{"queue", "declare"};
        QTest::newRow("extra argument") << QStringList{"queue", "show", "a", "b"};
        QTest::newRow("missing value") << QStringList{"queue", "declare", "q", "--max-attempts"};
        QTest::newRow("bad number") << QStringList{"queue", "declare", "q", "--max-attempts", "many"};
        QTest::newRow("bad duration") << QStringList{"queue", "declare", "q", "--ttl", "5"};
        QTest::newRow("bad choice") << QStringList{"queue", "declare", "q", "--flush", "never"};
        QTest::newRow("durable and transient") << QStringList{"queue", "declare", "q", "--durable", "--transient"};
        QTest::newRow("no body") << QStringList{"publish", "q"};
        QTest::newRow("two bodies") << QStringList{"publish", "q", "--body", "a", "--lines"};
        QTest::newRow("bad header") << QStringList{"publish", "q", "--body", "a", "--header", "novalue"};
        QTest::newRow("zero count") << QStringList{"publish", "q", "--body", "a", "--count", "0"};
        QTest::newRow("bad mode") << QStringList{"publish", "q", "--body", "a", "--mode", "maybe"};
        QTest::newRow("auto ack with fail") << QStringList{"consume", "q", "--ack", "auto", "--fail"};
        QTest::newRow("fail and reject") << QStringList{"consume", "q", "--fail", "--reject"};
        QTest::newRow("requeue without selection") << QStringList{"dlq", "requeue"};
        QTest::newRow("requeue bad reason") << QStringList{"dlq", "requeue", "--reason", "bored"};
        QTest::newRow("exchange without type") << QStringList{"exchange", "declare", "e"};
        QTest::newRow("bad global timeout") << QStringList{"--timeout", "soon", "queue", "list"};
        QTest::newRow("broker set without a setting") << QStringList{"broker", "set"};
        QTest::newRow("broker set bad flush") << QStringList{"broker", "set", "--default-flush", "never"};
    }

    void testUsageErrorsExitTwo() {
        QFETCH(QStringList, args);
        Run run = ctl(args);
        QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
        QVERIFY2(run.oneErrorLine(), run.err.constData());
        QVERIFY(run.out.isEmpty());
    }

    void testHelpAndVersion() {
        Run help = runWith({"--help"});
        QCOMPARE(help.exitCode, 0);
        for (const char* command : {"queue declare", "publish", "consume", "dlq requeue", "dlq export", "trace",
                                    "stats", "sessions", "tx commit"})
            QVERIFY2(help.out.contains(command), command);
        Run declareHelp = runWith({"queue", "declare", "--help"});
        QCOMPARE(declareHelp.exitCode, 0);
        QVERIFY(declareHelp.out.contains("--max-attempts") && declareHelp.out.contains("--dedup-window"));
        QCOMPARE(runWith({"help", "consume"}).out, runWith({"consume", "--help"}).out);
        Run version = runWith({"--version"});
        QCOMPARE(version.exitCode, 0);
        QVERIFY(version.out.startsWith("depotctl Depot "));
        // The programs allocate with tcmalloc when the build says so: the linker must not have dropped it.
        QVERIFY2(version.out.contains("malloc: gperftools") == bool(DEPOT_LINKS_TCMALLOC), qPrintable(version.out));
    }
};

QTEST_GUILESS_MAIN(TestDepotctl)
#include "TestDepotctl.moc"
