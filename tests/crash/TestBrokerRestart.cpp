// The broker's restart test: depot-broker-crasher hosts a real broker (real clock) and runs traffic on the
// plan's queue while it journals what the broker promised; this test SIGKILLs it mid-traffic, restarts it on the
// same data directory several times, then opens the broker itself and checks the promises against what
// survived: confirmed messages are queued, dead-lettered or acked; a durably acked message never comes back;
// durable attempt counts never go backwards; the DLQ holds exactly the poison messages, each with a max-attempts
// death record.

#include <signal.h>
#include <sys/types.h>

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QtTest>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "BrokerCrashPlan.h"
#include "support/TempDir.h"

using namespace depot::broker;
using depot::test::BrokerCrashPlan;

namespace {

constexpr int kRuns = 4;
constexpr int kMinKillDelayMs = 1000;
constexpr int kMaxKillDelayMs = 2000;
constexpr int kMaxListed = 10;  // violations quoted in a failure message

QString describe(const depot::Status& status) { return QString::fromStdString(status.toString()); }

QString idOf(uint64_t number) { return QString::fromStdString(BrokerCrashPlan::messageId(number)); }

// Violations found while reading journals, reported by the slot that owns the property.
struct Violations {
    QStringList items;
    int count = 0;
    void add(const QString& text) {
        if (++count <= kMaxListed)
            items << text;
    }
    QString summary() const { return QStringLiteral("%1 violation(s): %2").arg(count).arg(items.join("; ")); }
};

}  // namespace

class TestBrokerRestart : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void testRecoveryFindsNoCorruption();
    void testEveryConfirmedMessageIsQueuedDeadLetteredOrAcked();
    void testDurablyAckedMessageNeverComesBack();
    void testDurableAttemptCountsNeverGoBackwards();
    void testDeadLetterQueueHoldsOnlyExhaustedPoisonMessages();
    void testDrainingDeadLettersExactlyThePoisonMessages();

private:
    QByteArray runCrasherUntilKilled(int run, int killDelayMs);
    void readJournal(const QByteArray& output, int run);
    void readLine(const QList<QByteArray>& fields, const QByteArray& line, int run);
    std::vector<QueuedMessage> browseAll(const std::string& queue);
    std::multiset<uint64_t> numbersIn(const std::vector<QueuedMessage>& messages);
    void verifyDeathRecord(const QueuedMessage& message);
    void explain(uint64_t number);
    std::set<uint64_t> drainQueue();

    std::unique_ptr<depot::test::TempDir> m_dir;
    std::unique_ptr<Broker> m_broker;
    std::unordered_set<uint64_t> m_confirmed;
    std::unordered_set<uint64_t> m_acked;
    std::unordered_set<uint64_t> m_ackDurable;
    std::unordered_map<uint64_t, uint32_t> m_durableAttempts;  // the highest attempt whose nack was durable
    std::unordered_map<uint64_t, int> m_lastDeliveredRun;
    std::unordered_map<uint64_t, QStringList> m_history;  // journal lines per message, for failure messages
    Violations m_comebacks;                               // delivered again after a durable ack
    Violations m_backwards;                               // delivered with an attempt not above a durable one
    uint64_t m_deliveries = 0;
    uint64_t m_deliveriesAfterRestart = 0;  // of messages delivered in an earlier run
    uint64_t m_partialLines = 0;
    std::vector<QueuedMessage> m_work;  // "work" and "work.dlq" as the final open found them
    std::vector<QueuedMessage> m_dead;
};

void TestBrokerRestart::initTestCase() {
    QVERIFY2(QFileInfo(QStringLiteral(DEPOT_BROKER_CRASHER)).isExecutable(), DEPOT_BROKER_CRASHER);
    bool fromEnv = false;
    quint32 seed = qEnvironmentVariable("DEPOT_CRASH_SEED").toUInt(&fromEnv);
    if (!fromEnv)
        seed = QRandomGenerator::global()->generate();
    qInfo("seed %u (rerun with DEPOT_CRASH_SEED=%u)", seed, seed);
    QRandomGenerator random(seed);
    m_dir = std::make_unique<depot::test::TempDir>();

    for (int run = 0; run < kRuns; ++run) {
        const int killDelayMs = random.bounded(kMinKillDelayMs, kMaxKillDelayMs + 1);
        const size_t confirmedBefore = m_confirmed.size();
        const QByteArray output = runCrasherUntilKilled(run, killDelayMs);
        if (QTest::currentTestFailed())
            return;
        readJournal(output, run);
        if (QTest::currentTestFailed())
            return;
        qInfo("run %d: killed after %d ms, %zu new confirms", run, killDelayMs, m_confirmed.size() - confirmedBefore);
    }

    auto opened = Broker::open(BrokerCrashPlan::options(m_dir->path()));
    QVERIFY2(opened.isOk(), qPrintable(describe(opened.status())));
    m_broker = std::move(opened.value());
    m_work = browseAll(BrokerCrashPlan::kQueue);
    m_dead = browseAll(BrokerCrashPlan::kDeadLetterQueue);
    qInfo(
        "%d runs: %zu confirmed, %zu acked (%zu known durable), %llu deliveries (%llu of messages delivered in an "
        "earlier run), %llu cut-off lines; after the last kill: %zu in %s, %zu in %s",
        kRuns, m_confirmed.size(), m_acked.size(), m_ackDurable.size(), qulonglong(m_deliveries),
        qulonglong(m_deliveriesAfterRestart), qulonglong(m_partialLines), m_work.size(), BrokerCrashPlan::kQueue,
        m_dead.size(), BrokerCrashPlan::kDeadLetterQueue);
    // Otherwise every run could have died before its first confirm or durable ack and nothing was tested.
    QVERIFY2(!m_confirmed.empty(), "no run confirmed a message");
    QVERIFY2(!m_ackDurable.empty(), "no run made an ack durable");
}

void TestBrokerRestart::cleanupTestCase() {
    if (m_broker)
        QVERIFY(m_broker->close().isOk());
    m_broker.reset();
    m_dir.reset();
}

// Starts the crasher for `run`, lets it run for killDelayMs (counted from the start, so its recovery is included),
// SIGKILLs it and returns everything it wrote.
QByteArray TestBrokerRestart::runCrasherUntilKilled(int run, int killDelayMs) {
    QProcess crasher;
    QElapsedTimer clock;
    clock.start();
    crasher.start(QStringLiteral(DEPOT_BROKER_CRASHER), {QString::fromStdString(m_dir->path()), QString::number(run)});
    if (!crasher.waitForStarted(10000)) {
        QTest::qFail(qPrintable("cannot start the crasher: " + crasher.errorString()), __FILE__, __LINE__);
        return {};
    }
    QByteArray output;
    // Draining stdout as it comes keeps the crasher (and the broker thread that writes confirms) from blocking.
    while (clock.elapsed() < killDelayMs && crasher.state() == QProcess::Running) {
        crasher.waitForReadyRead(int(std::max<qint64>(1, killDelayMs - clock.elapsed())));
        output += crasher.readAllStandardOutput();
    }
    const bool stillRunning = crasher.state() == QProcess::Running;
    if (stillRunning)
        ::kill(pid_t(crasher.processId()), SIGKILL);
    crasher.waitForFinished(30000);
    output += crasher.readAllStandardOutput();
    if (!stillRunning || crasher.exitStatus() != QProcess::CrashExit) {
        QTest::qFail(qPrintable(QStringLiteral("the crasher ended on its own (exit code %1): %2 %3")
                                    .arg(crasher.exitCode())
                                    .arg(QString::fromLocal8Bit(output.right(500)))
                                    .arg(QString::fromLocal8Bit(crasher.readAllStandardError()))),
                     __FILE__, __LINE__);
    }
    return output;
}

// Complete lines only, in order: a line without its newline was cut by the kill and proves nothing.
void TestBrokerRestart::readJournal(const QByteArray& output, int run) {
    QList<QByteArray> lines = output.split('\n');
    if (!lines.last().isEmpty())
        ++m_partialLines;
    lines.removeLast();
    for (const QByteArray& line : lines) {
        readLine(line.split(' '), line, run);
        if (QTest::currentTestFailed())
            return;
    }
}

void TestBrokerRestart::readLine(const QList<QByteArray>& fields, const QByteArray& line, int run) {
    const QByteArray& event = fields[0];
    if (event == "error" || event == "publish-nacked")
        QFAIL(qPrintable("crasher: " + line));
    const auto number = fields.size() >= 2 ? BrokerCrashPlan::numberOf(fields[1].toStdString()) : std::nullopt;
    QVERIFY2(number, line.constData());
    m_history[*number] << QStringLiteral("run %1: %2").arg(run).arg(QString::fromUtf8(line));
    const uint32_t attempt = fields.size() >= 3 ? fields[2].toUInt() : 0;
    if (event == "confirmed") {
        m_confirmed.insert(*number);
    } else if (event == "ack") {
        m_acked.insert(*number);
    } else if (event == "ack-durable") {
        m_ackDurable.insert(*number);
    } else if (event == "nack-durable") {
        m_durableAttempts[*number] = std::max(m_durableAttempts[*number], attempt);
    } else if (event == "delivered") {
        ++m_deliveries;
        auto last = m_lastDeliveredRun.find(*number);
        m_deliveriesAfterRestart += last != m_lastDeliveredRun.end() && last->second < run ? 1 : 0;
        m_lastDeliveredRun[*number] = run;
        if (m_ackDurable.count(*number))
            m_comebacks.add(
                QStringLiteral("%1 delivered in run %2 (attempt %3)").arg(idOf(*number)).arg(run).arg(attempt));
        auto durable = m_durableAttempts.find(*number);
        if (durable != m_durableAttempts.end() && attempt <= durable->second)
            m_backwards.add(QStringLiteral("%1 delivered as attempt %2 in run %3 after attempt %4 was durably nacked")
                                .arg(idOf(*number))
                                .arg(attempt)
                                .arg(run)
                                .arg(durable->second));
    } else if (event != "nack") {
        QFAIL(qPrintable("unknown journal line: " + line));
    }
}

std::vector<QueuedMessage> TestBrokerRestart::browseAll(const std::string& queue) {
    std::vector<QueuedMessage> all;
    BrowseOptions options;
    options.bodies = false;
    options.limit = 1000;
    for (;;) {
        auto page = m_broker->browse(queue, options);
        if (!page.isOk()) {
            QTest::qFail(qPrintable(describe(page.status())), __FILE__, __LINE__);
            return all;
        }
        for (QueuedMessage& message : page->messages)
            all.push_back(std::move(message));
        if (page->messages.size() < options.limit)
            return all;
        options.start += options.limit;
    }
}

std::multiset<uint64_t> TestBrokerRestart::numbersIn(const std::vector<QueuedMessage>& messages) {
    std::multiset<uint64_t> numbers;
    for (const QueuedMessage& message : messages) {
        auto number = BrokerCrashPlan::numberOf(message.messageId);
        if (!number) {
            QTest::qFail(qPrintable("unexpected message id " + QString::fromStdString(message.messageId)), __FILE__,
                         __LINE__);
            return numbers;
        }
        numbers.insert(*number);
    }
    return numbers;
}

// What the journal and the broker's trace say about a message that broke a promise.
void TestBrokerRestart::explain(uint64_t number) {
    qWarning("%s in the journal: %s", qPrintable(idOf(number)), qPrintable(m_history[number].join(" | ")));
    TraceQuery query;
    query.messageId = BrokerCrashPlan::messageId(number);
    auto events = m_broker->trace(query);
    if (!events.isOk())
        return;
    QStringList lines;
    for (const TraceEvent& event : *events)
        lines << QStringLiteral("%1 %2 %3 #%4 %5")
                     .arg(event.at)
                     .arg(QString::fromUtf8(toString(event.kind)))
                     .arg(QString::fromStdString(event.queue))
                     .arg(event.sequence)
                     .arg(QString::fromStdString(event.detail));
    qWarning("%s in the broker's trace: %s", qPrintable(idOf(number)), qPrintable(lines.join(" | ")));
}

void TestBrokerRestart::testRecoveryFindsNoCorruption() {
    for (const depot::storage::CorruptRange& range : m_broker->recoveryReport().corrupt)
        qWarning("corrupt [%llu, %llu) in %s: %s", qulonglong(range.begin), qulonglong(range.end),
                 range.segment.c_str(), range.reason.c_str());
    QVERIFY(m_broker->recoveryReport().corrupt.empty());
}

// At least once: an ack that was not yet durable may be undone by the kill, so a message the consumer set out to
// ack may be either back in the queue or gone; a confirmed message never acked must be queued or dead-lettered.
void TestBrokerRestart::testEveryConfirmedMessageIsQueuedDeadLetteredOrAcked() {
    const std::multiset<uint64_t> queued = numbersIn(m_work);
    const std::multiset<uint64_t> dead = numbersIn(m_dead);
    Violations lost;
    for (uint64_t number : m_confirmed)
        if (!queued.count(number) && !dead.count(number) && !m_acked.count(number))
            lost.add(idOf(number));
    for (const QString& id : lost.items.mid(0, 3))
        explain(*BrokerCrashPlan::numberOf(id.toStdString()));
    QVERIFY2(lost.count == 0, qPrintable("confirmed, never acked, and gone: " + lost.summary()));
}

void TestBrokerRestart::testDurablyAckedMessageNeverComesBack() {
    QVERIFY2(m_comebacks.count == 0, qPrintable(m_comebacks.summary()));
    const std::multiset<uint64_t> queued = numbersIn(m_work);
    const std::multiset<uint64_t> dead = numbersIn(m_dead);
    Violations present;
    for (uint64_t number : m_ackDurable)
        if (queued.count(number) || dead.count(number))
            present.add(idOf(number));
    QVERIFY2(present.count == 0, qPrintable("durably acked, yet present after the restart: " + present.summary()));
}

void TestBrokerRestart::testDurableAttemptCountsNeverGoBackwards() {
    QVERIFY2(m_backwards.count == 0, qPrintable(m_backwards.summary()));
    Violations lower;
    for (const QueuedMessage& message : m_work) {
        auto durable = m_durableAttempts.find(*BrokerCrashPlan::numberOf(message.messageId));
        if (durable != m_durableAttempts.end() && message.attempts < durable->second)
            lower.add(QStringLiteral("%1 has %2 attempts after attempt %3 was durably nacked")
                          .arg(QString::fromStdString(message.messageId))
                          .arg(message.attempts)
                          .arg(durable->second));
    }
    QVERIFY2(lower.count == 0, qPrintable(lower.summary()));
}

void TestBrokerRestart::verifyDeathRecord(const QueuedMessage& message) {
    const QString id = QString::fromStdString(message.messageId);
    const auto number = BrokerCrashPlan::numberOf(message.messageId);
    QVERIFY2(number && BrokerCrashPlan::isPoison(*number), qPrintable(id + " is dead-lettered but not poison"));
    QVERIFY2(message.death, qPrintable(id + " has no death record"));
    QCOMPARE(QString::fromUtf8(toString(message.death->reason)), QStringLiteral("max-attempts"));
    QCOMPARE(message.death->attempts, BrokerCrashPlan::kMaxAttempts);
    QCOMPARE(QString::fromStdString(message.death->sourceQueue), QString::fromUtf8(BrokerCrashPlan::kQueue));
    QCOMPARE(message.death->deaths, 1u);
}

void TestBrokerRestart::testDeadLetterQueueHoldsOnlyExhaustedPoisonMessages() {
    QVERIFY2(!m_dead.empty(), "no poison message was dead-lettered before the last kill");
    for (const QueuedMessage& message : m_dead) {
        verifyDeathRecord(message);
        if (QTest::currentTestFailed())
            return;
    }
    const std::multiset<uint64_t> dead = numbersIn(m_dead);
    QCOMPARE(std::set<uint64_t>(dead.begin(), dead.end()).size(), dead.size());  // each dead-lettered once
}

// Finishes the traffic with the plan's consumer until the queue is empty; returns the numbers it acked.
std::set<uint64_t> TestBrokerRestart::drainQueue() {
    std::mutex mutex;
    std::set<uint64_t> acked;
    Broker* broker = m_broker.get();
    ConsumerSpec spec;
    spec.queue = BrokerCrashPlan::kQueue;
    auto consumer = broker->consume(spec, [&](Delivery&& delivery) {
        const uint64_t number = BrokerCrashPlan::numberOf(delivery.messageId).value_or(0);
        if (BrokerCrashPlan::isPoison(number)) {
            (void)broker->nack(delivery.consumer, delivery.tag, {});
            return;
        }
        (void)broker->ack(delivery.consumer, delivery.tag);
        std::lock_guard lock(mutex);
        acked.insert(number);
    });
    if (!consumer.isOk()) {
        QTest::qFail(qPrintable(describe(consumer.status())), __FILE__, __LINE__);
        return {};
    }
    // The handler uses this frame's locals: the consumer must be gone before they are, also on failure.
    auto cancel = qScopeGuard([&] { (void)broker->cancel(*consumer); });
    auto depth = [&] {
        for (const QueueStats& queue : broker->stats().queues)
            if (queue.name == BrokerCrashPlan::kQueue)
                return queue.ready + queue.unacked + queue.delayed;
        return uint64_t(UINT64_MAX);
    };
    QDeadlineTimer deadline(30000);
    while (depth() != 0 && !deadline.hasExpired())
        QTest::qWait(20);
    if (const uint64_t left = depth(); left != 0) {
        QTest::qFail(qPrintable(QStringLiteral("%1 messages still queued after 30 s of draining").arg(left)), __FILE__,
                     __LINE__);
        return {};
    }
    cancel.dismiss();
    if (depot::Status status = broker->cancel(*consumer); !status.isOk())
        QTest::qFail(qPrintable(describe(status)), __FILE__, __LINE__);
    std::lock_guard lock(mutex);
    return acked;
}

// Every poison message left in the queue must now die and every other one be acked; then the DLQ holds every
// poison message ever confirmed or queued, each once, and no other.
void TestBrokerRestart::testDrainingDeadLettersExactlyThePoisonMessages() {
    const std::set<uint64_t> acked = drainQueue();
    if (QTest::currentTestFailed())
        return;
    std::set<uint64_t> expected;
    for (uint64_t number : numbersIn(m_work)) {
        if (BrokerCrashPlan::isPoison(number))
            expected.insert(number);
        else
            QVERIFY2(acked.count(number), qPrintable(idOf(number) + " was queued but never acked"));
    }
    for (uint64_t number : numbersIn(m_dead))
        expected.insert(number);
    for (uint64_t number : m_confirmed)
        if (BrokerCrashPlan::isPoison(number))
            expected.insert(number);

    const std::vector<QueuedMessage> dead = browseAll(BrokerCrashPlan::kDeadLetterQueue);
    for (const QueuedMessage& message : dead) {
        verifyDeathRecord(message);
        if (QTest::currentTestFailed())
            return;
    }
    const std::multiset<uint64_t> numbers = numbersIn(dead);
    QCOMPARE(numbers.size(), expected.size());
    QVERIFY(std::set<uint64_t>(numbers.begin(), numbers.end()) == expected);
}

QTEST_GUILESS_MAIN(TestBrokerRestart)
#include "TestBrokerRestart.moc"
