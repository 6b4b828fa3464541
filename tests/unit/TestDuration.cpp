// Durations as people write them: parsing, refusals with clear messages, and the shortest exact spelling.
#include <QtTest>

#include <cstdint>
#include <limits>
#include <random>

#include "depot/broker/Duration.h"

using namespace depot;
using namespace depot::broker;

namespace {

Result<Millis> parse(const QByteArray& text) {
    return parseDuration(std::string_view(text.constData(), size_t(text.size())));
}

constexpr qint64 kSecond = 1000;
constexpr qint64 kMinute = 60 * kSecond;
constexpr qint64 kHour = 60 * kMinute;
constexpr qint64 kDay = 24 * kHour;

}  // namespace

class TestDuration : public QObject {
    Q_OBJECT

private slots:
    void testValidDurationsParse_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<qint64>("ms");
        QTest::newRow("milliseconds") << QByteArray("250ms") << qint64(250);
        QTest::newRow("seconds") << QByteArray("5s") << 5 * kSecond;
        QTest::newRow("minutes") << QByteArray("10m") << 10 * kMinute;
        QTest::newRow("hours") << QByteArray("2h") << 2 * kHour;
        QTest::newRow("days") << QByteArray("1d") << kDay;
        QTest::newRow("zero") << QByteArray("0s") << qint64(0);
        QTest::newRow("zero ms") << QByteArray("0ms") << qint64(0);
        QTest::newRow("leading zeros") << QByteArray("007s") << 7 * kSecond;
        QTest::newRow("decimal seconds") << QByteArray("1.5s") << qint64(1500);
        QTest::newRow("decimal minutes") << QByteArray("0.1m") << 6 * kSecond;
        QTest::newRow("decimal hours") << QByteArray("1.25h") << 75 * kMinute;
        QTest::newRow("trailing fraction zeros") << QByteArray("1.500000000000000000000s") << qint64(1500);
        QTest::newRow("ms with zero fraction") << QByteArray("3.0ms") << qint64(3);
        QTest::newRow("ten digit day fraction") << QByteArray("0.0000003125d") << qint64(27);
        QTest::newRow("compound") << QByteArray("1h30m") << 90 * kMinute;
        QTest::newRow("compound all units")
            << QByteArray("1d2h3m4s5ms") << kDay + 2 * kHour + 3 * kMinute + 4 * kSecond + 5;
        QTest::newRow("compound skipping units") << QByteArray("1d1ms") << kDay + 1;
        QTest::newRow("compound with fraction") << QByteArray("1m0.5s") << kMinute + 500;
        QTest::newRow("surrounding spaces") << QByteArray("  5s\t") << 5 * kSecond;
        QTest::newRow("largest") << QByteArray("9223372036854775807ms") << std::numeric_limits<qint64>::max();
        QTest::newRow("largest compound")
            << QByteArray("106751991167d7h12m55s807ms") << std::numeric_limits<qint64>::max();
        QTest::newRow("largest in days") << QByteArray("106751991167d") << 106751991167 * kDay;
    }
    void testValidDurationsParse() {
        QFETCH(QByteArray, text);
        QFETCH(qint64, ms);
        Result<Millis> parsed = parse(text);
        QVERIFY2(parsed.isOk(), qPrintable(QString::fromStdString(parsed.status().toString())));
        QCOMPARE(qint64(parsed->count()), ms);
    }

    void testInvalidDurationsAreRefusedWithAReason_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("reason");
        QTest::newRow("empty") << QByteArray("") << "is empty";
        QTest::newRow("only spaces") << QByteArray("   ") << "is empty";
        QTest::newRow("bare number") << QByteArray("5") << "needs a unit";
        QTest::newRow("bare zero") << QByteArray("0") << "needs a unit";
        QTest::newRow("trailing bare number") << QByteArray("1h30") << "needs a unit";
        QTest::newRow("unknown unit") << QByteArray("5x") << "unknown unit at byte 1";
        QTest::newRow("uppercase unit") << QByteArray("5S") << "unknown unit";
        QTest::newRow("spelled unit") << QByteArray("5sec") << "expects a number at byte 2";
        QTest::newRow("microseconds") << QByteArray("5us") << "unknown unit";
        QTest::newRow("unit only") << QByteArray("s") << "expects a number at byte 0";
        QTest::newRow("negative") << QByteArray("-5s") << "is negative";
        QTest::newRow("plus sign") << QByteArray("+5s") << "expects a number";
        QTest::newRow("space inside") << QByteArray("1h 30m") << "expects a number at byte 2";
        QTest::newRow("dot without digits") << QByteArray("1.s") << "digits after the '.'";
        QTest::newRow("fraction without whole") << QByteArray(".5s") << "expects a number";
        QTest::newRow("sub-millisecond") << QByteArray("1.5ms") << "whole number of milliseconds";
        QTest::newRow("sub-millisecond seconds") << QByteArray("0.0001s") << "whole number of milliseconds";
        QTest::newRow("very long fraction")
            << QByteArray("1.0000000000000000000001d") << "whole number of milliseconds";
        QTest::newRow("reordered units") << QByteArray("30m1h") << "1h30m";
        QTest::newRow("repeated unit") << QByteArray("1s1s") << "repeats a unit";
        QTest::newRow("ms then m") << QByteArray("1ms1m") << "repeats a unit";
        QTest::newRow("too large") << QByteArray("9223372036854775808ms") << "too large";
        QTest::newRow("too large in days") << QByteArray("106751991168d") << "too large";
        QTest::newRow("huge number") << QByteArray("99999999999999999999999999999999999999999s") << "too large";
        QTest::newRow("wraps uint64 when multiplied")
            << QByteArray("18446744073709552s") << "too large";  // 384ms mod 2^64
        QTest::newRow("compound too large") << QByteArray("106751991167d1d") << "repeats a unit";
        QTest::newRow("sum too large") << QByteArray("106751991167d23h59m59s999ms") << "too large";
        QTest::newRow("control character") << QByteArray("5\ns") << "\\n";
    }
    void testInvalidDurationsAreRefusedWithAReason() {
        QFETCH(QByteArray, text);
        QFETCH(QString, reason);
        Result<Millis> parsed = parse(text);
        QVERIFY(!parsed.isOk());
        QCOMPARE(parsed.status().code(), StatusCode::InvalidArgument);
        const QString message = QString::fromStdString(parsed.status().message());
        QVERIFY2(message.startsWith("duration \""), qPrintable(message));
        QVERIFY2(message.contains(reason), qPrintable(message));
    }

    void testFormatIsShortestExactSpelling_data() {
        QTest::addColumn<qint64>("ms");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << qint64(0) << "0s";
        QTest::newRow("one ms") << qint64(1) << "1ms";
        QTest::newRow("1500ms") << qint64(1500) << "1500ms";
        QTest::newRow("one second") << kSecond << "1s";
        QTest::newRow("90 seconds") << 90 * kSecond << "90s";
        QTest::newRow("ten minutes") << 10 * kMinute << "10m";
        QTest::newRow("90 minutes") << 90 * kMinute << "90m";
        QTest::newRow("one hour") << kHour << "1h";
        QTest::newRow("one day") << kDay << "1d";
        QTest::newRow("36 hours") << 36 * kHour << "36h";
        QTest::newRow("day and a ms") << kDay + 1 << "1d1ms";
        QTest::newRow("hour and a second") << kHour + kSecond << "1h1s";
        QTest::newRow("default ack timeout") << 60 * kSecond << "1m";
        QTest::newRow("default dedup window") << 5 * kMinute << "5m";
        QTest::newRow("negative") << qint64(-1500) << "-1500ms";
        QTest::newRow("largest") << std::numeric_limits<qint64>::max() << "9223372036854775807ms";
        QTest::newRow("smallest") << std::numeric_limits<qint64>::min() << "-9223372036854775808ms";
    }
    void testFormatIsShortestExactSpelling() {
        QFETCH(qint64, ms);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(formatDuration(Millis(ms))), text);
    }

    void testFormatThenParseGivesTheSameDuration() {
        std::mt19937_64 random(20240601);
        const qint64 scales[] = {1, 7, kSecond, kMinute, kHour, kDay, 1'000'000'007};
        for (int i = 0; i < 20000; ++i) {
            const qint64 scale = scales[i % std::size(scales)];
            const uint64_t steps = uint64_t(std::numeric_limits<qint64>::max() - 1000) / uint64_t(scale);
            const qint64 extra = random() % 3 == 0 ? qint64(random() % 1000) : 0;
            const Millis d(qint64(random() % steps) * scale + extra);
            const std::string text = formatDuration(d);
            Result<Millis> back = parseDuration(text);
            QVERIFY2(back.isOk(), text.c_str());
            QCOMPARE(back->count(), d.count());
        }
        for (qint64 ms = 0; ms < 200'000; ms += 7) {
            Result<Millis> back = parseDuration(formatDuration(Millis(ms)));
            QVERIFY(back.isOk());
            QCOMPARE(qint64(back->count()), ms);
        }
    }

    void testListParses_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QList<qint64>>("expected");
        QTest::newRow("default backoff") << QByteArray("1s,5s,15s,30s")
                                         << QList<qint64>{kSecond, 5 * kSecond, 15 * kSecond, 30 * kSecond};
        QTest::newRow("one item") << QByteArray("250ms") << QList<qint64>{250};
        QTest::newRow("spaces around items")
            << QByteArray(" 1s , 1.5s,2m ") << QList<qint64>{kSecond, 1500, 2 * kMinute};
        QTest::newRow("zeros") << QByteArray("0s,0ms") << QList<qint64>{0, 0};
    }
    void testListParses() {
        QFETCH(QByteArray, text);
        QFETCH(QList<qint64>, expected);
        Result<std::vector<Millis>> parsed = parseDurationList(std::string_view(text.constData(), size_t(text.size())));
        QVERIFY2(parsed.isOk(), qPrintable(QString::fromStdString(parsed.status().toString())));
        QList<qint64> got;
        for (Millis d : *parsed)
            got.append(d.count());
        QCOMPARE(got, expected);
    }

    void testBadListsAreRefused_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("reason");
        QTest::newRow("empty") << QByteArray("") << "is empty";
        QTest::newRow("empty item") << QByteArray("1s,,5s") << "(item 2 of";
        QTest::newRow("trailing comma") << QByteArray("1s,5s,") << "(item 3 of";
        QTest::newRow("bad item") << QByteArray("1s,5,15s") << "needs a unit";
        QTest::newRow("semicolons") << QByteArray("1s;5s") << "expects a number at byte 2 (item 1 of";
    }
    void testBadListsAreRefused() {
        QFETCH(QByteArray, text);
        QFETCH(QString, reason);
        Result<std::vector<Millis>> parsed = parseDurationList(std::string_view(text.constData(), size_t(text.size())));
        QVERIFY(!parsed.isOk());
        QCOMPARE(parsed.status().code(), StatusCode::InvalidArgument);
        const QString message = QString::fromStdString(parsed.status().message());
        QVERIFY2(message.contains(reason), qPrintable(message));
    }

    void testListFormatsAndParsesBack() {
        const std::vector<Millis> backoff{Millis(1000), Millis(1500), Millis(0), Millis(kDay + 1)};
        const std::string text = formatDurationList(backoff);
        QCOMPARE(QString::fromStdString(text), QString("1s,1500ms,0s,1d1ms"));
        Result<std::vector<Millis>> back = parseDurationList(text);
        QVERIFY(back.isOk());
        QVERIFY(*back == backoff);
    }
};

QTEST_GUILESS_MAIN(TestDuration)
#include "TestDuration.moc"
