// Names, policies, headers and binding patterns: what is accepted, what is refused, and that every refusal is one
// readable line naming the field and what is allowed.
// Expected texts with \" are ordinary string literals: a raw string containing \" makes moc (Qt 6.4) skip the class.
#include <QStringDecoder>
#include <QtTest>

#include <functional>
#include <string>

#include "depot/broker/Validation.h"

using namespace depot;
using namespace depot::broker;

using PolicyEdit = std::function<void(QueuePolicy&)>;
Q_DECLARE_METATYPE(PolicyEdit)
Q_DECLARE_METATYPE(depot::broker::Headers)

namespace {

std::string_view view(const QByteArray& bytes) { return {bytes.constData(), size_t(bytes.size())}; }

QString messageOf(const Status& status) { return QString::fromStdString(status.message()); }

// One line a person can read: valid UTF-8, no control characters.
bool isOneReadableLine(const std::string& message) {
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QString text = decoder(QByteArray::fromStdString(message));
    if (decoder.hasError())
        return false;
    for (QChar c : text) {
        if (c.category() == QChar::Other_Control || c == QChar::LineSeparator || c == QChar::ParagraphSeparator)
            return false;
    }
    return true;
}

void expectRefusal(const Status& status, const QString& fragment) {
    QVERIFY(!status.isOk());
    QCOMPARE(status.code(), StatusCode::InvalidArgument);
    QVERIFY2(messageOf(status).contains(fragment), qPrintable(messageOf(status)));
    QVERIFY2(isOneReadableLine(status.message()), status.message().c_str());
}

void expectOk(const Status& status) { QVERIFY2(status.isOk(), status.toString().c_str()); }

Headers manyHeaders(int count) {
    Headers headers;
    for (int i = 0; i < count; ++i)
        headers.emplace_back("h" + std::to_string(i), "v");
    return headers;
}

}  // namespace

class TestValidation : public QObject {
    Q_OBJECT

private slots:
    void testGoodNamesAreAccepted_data() {
        QTest::addColumn<QByteArray>("name");
        QTest::newRow("plain") << QByteArray("orders");
        QTest::newRow("one byte") << QByteArray("a");
        QTest::newRow("255 bytes") << QByteArray(255, 'q');
        QTest::newRow("dots and punctuation") << QByteArray("orders.dlq-v2_eu:1/#*");
        QTest::newRow("inner space") << QByteArray("my queue");
        QTest::newRow("two-byte") << QByteArray("caf\xc3\xa9");
        QTest::newRow("chinese") << QByteArray("\xe8\xae\xa2\xe5\x8d\x95");  // 订单
        QTest::newRow("four-byte emoji") << QByteArray("q\xf0\x9f\x98\x80");
        QTest::newRow("U+10FFFF") << QByteArray("\xf4\x8f\xbf\xbf");
        QTest::newRow("U+FFFF") << QByteArray("\xef\xbf\xbf");
        QTest::newRow("last before surrogates") << QByteArray("\xed\x9f\xbf");
        QTest::newRow("first after surrogates") << QByteArray("\xee\x80\x80");
        QTest::newRow("smallest three-byte") << QByteArray("\xe0\xa0\x80");
        QTest::newRow("smallest four-byte") << QByteArray("\xf0\x90\x80\x80");
        QTest::newRow("inner no-break space") << QByteArray(
            "a\xc2\xa0"
            "b");
        QTest::newRow("255 bytes ending in a 3-byte character") << (QByteArray(252, 'a') + "\xe4\xb8\xad");
    }
    void testGoodNamesAreAccepted() {
        QFETCH(QByteArray, name);
        expectOk(validateName("queue", view(name)));
    }

    void testBadNamesAreRefused_data() {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QString>("reason");
        QTest::newRow("empty") << QByteArray() << "queue name must not be empty";
        QTest::newRow("256 bytes") << QByteArray(256, 'q') << "is 256 bytes long (at most 255)";
        QTest::newRow("256 bytes with a 2-byte character") << (QByteArray(254, 'a') + "\xc3\xa9") << "256 bytes";
        QTest::newRow("lone continuation byte") << QByteArray("a\x80") << "not valid UTF-8 at byte 1";
        QTest::newRow("overlong NUL") << QByteArray("\xc0\x80") << "not valid UTF-8 at byte 0";
        QTest::newRow("overlong two-byte C1") << QByteArray("\xc1\xbf") << "not valid UTF-8 at byte 0";
        QTest::newRow("overlong three-byte") << QByteArray("\xe0\x80\xaf") << "not valid UTF-8 at byte 0";
        QTest::newRow("overlong four-byte") << QByteArray("\xf0\x8f\xbf\xbf") << "not valid UTF-8 at byte 0";
        QTest::newRow("high surrogate") << QByteArray("ab\xed\xa0\x80") << "not valid UTF-8 at byte 2";
        QTest::newRow("low surrogate") << QByteArray("\xed\xbf\xbf") << "not valid UTF-8 at byte 0";
        QTest::newRow("past U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << "not valid UTF-8 at byte 0";
        QTest::newRow("F5 lead byte") << QByteArray("\xf5\x80\x80\x80") << "not valid UTF-8";
        QTest::newRow("FF byte") << QByteArray("x\xff") << "not valid UTF-8 at byte 1";
        QTest::newRow("truncated three-byte") << QByteArray("a\xe6\x97") << "not valid UTF-8 at byte 1";
        QTest::newRow("truncated four-byte") << QByteArray("\xf0\x9f\x98") << "not valid UTF-8 at byte 0";
        QTest::newRow("lead without continuation") << QByteArray(
                                                          "\xc3"
                                                          "a")
                                                   << "not valid UTF-8 at byte 0";
        QTest::newRow("NUL") << QByteArray("a\0b", 3) << "control character at byte 1";
        QTest::newRow("SOH") << QByteArray(
                                    "a\x01"
                                    "b")
                             << "control character at byte 1";
        QTest::newRow("tab") << QByteArray("a\tb") << "control character at byte 1";
        QTest::newRow("newline") << QByteArray("ab\n") << "control character at byte 2";
        QTest::newRow("leading tab") << QByteArray("\tab") << "control character at byte 0";
        QTest::newRow("DEL") << QByteArray("a\x7f") << "control character at byte 1";
        QTest::newRow("C1 NEL") << QByteArray("a\xc2\x85") << "control character at byte 1";
        QTest::newRow("C1 last") << QByteArray("\xc2\x9f") << "control character at byte 0";
        QTest::newRow("leading space") << QByteArray(" orders") << "starts with whitespace";
        QTest::newRow("trailing space") << QByteArray("orders ") << "ends with whitespace";
        QTest::newRow("only a space") << QByteArray(" ") << "starts with whitespace";
        QTest::newRow("leading no-break space") << QByteArray("\xc2\xa0orders") << "starts with whitespace";
        QTest::newRow("trailing ideographic space") << QByteArray("orders\xe3\x80\x80") << "ends with whitespace";
        QTest::newRow("trailing line separator") << QByteArray("orders\xe2\x80\xa8") << "ends with whitespace";
    }
    void testBadNamesAreRefused() {
        QFETCH(QByteArray, name);
        QFETCH(QString, reason);
        expectRefusal(validateName("queue", view(name)), reason);
    }

    void testTruncatedSequenceDoesNotReadPastTheEnd() {
        // The byte after the view is a valid continuation: only a decoder that stops at the end refuses this.
        const char bytes[] = "a\xe6\x97\x80";
        expectOk(validateName("queue", std::string_view(bytes, 4)));
        expectRefusal(validateName("queue", std::string_view(bytes, 3)), "not valid UTF-8 at byte 1");
        expectRefusal(validateName("queue", std::string_view(bytes, 2)), "not valid UTF-8 at byte 1");
    }

    void testMessageQuotesTheNameWithEscapes() {
        QCOMPARE(messageOf(validateName("queue",
                                        "a\x01"
                                        "b")),
                 QString(R"(queue name "a\x01b" contains a control character at byte 1)"));
        QCOMPARE(messageOf(validateName("exchange", "bad\xff")),
                 QString(R"(exchange name "bad\xff" is not valid UTF-8 at byte 3)"));
        QCOMPARE(messageOf(validateName("queue", "x\n")),
                 QString(R"(queue name "x\n" contains a control character at byte 1)"));
        QCOMPARE(messageOf(validateName("queue", "a\xc2\x85")),
                 QString(R"(queue name "a\u0085" contains a control character at byte 1)"));
        QCOMPARE(messageOf(validateName("queue", " \"q\"")),
                 QString("queue name \" \\\"q\\\"\" starts with whitespace"));
    }

    void testQuotingKeepsTextAndEscapesInvisibles_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("quoted");
        QTest::newRow("plain") << QByteArray("orders") << QByteArray("\"orders\"");
        QTest::newRow("empty") << QByteArray() << QByteArray("\"\"");
        QTest::newRow("quote and backslash") << QByteArray("a\"b\\c") << QByteArray("\"a\\\"b\\\\c\"");
        QTest::newRow("tab, cr, lf") << QByteArray("\t\r\n") << QByteArray(R"("\t\r\n")");
        QTest::newRow("NUL and DEL") << QByteArray("\0\x7f", 2) << QByteArray(R"("\x00\x7f")");
        QTest::newRow("chinese kept") << QByteArray("\xe8\xae\xa2\xe5\x8d\x95")
                                      << QByteArray("\"\xe8\xae\xa2\xe5\x8d\x95\"");
        QTest::newRow("invalid bytes") << QByteArray("\xed\xa0\x80") << QByteArray(R"("\xed\xa0\x80")");
        QTest::newRow("bidi override") << QByteArray(
                                              "a\xe2\x80\xae"
                                              "b")
                                       << QByteArray(R"("a\u202eb")");
        QTest::newRow("line separator") << QByteArray("\xe2\x80\xa8") << QByteArray(R"("\u2028")");
        QTest::newRow("BOM") << QByteArray("\xef\xbb\xbf") << QByteArray(R"("\ufeff")");
        QTest::newRow("long text is cut") << QByteArray(100, 'z') << (QByteArray("\"") + QByteArray(64, 'z') + "\"...");
        QTest::newRow("cut at a character boundary") << (QByteArray(63, 'z') + "\xe4\xb8\xad" + "tail")
                                                     << (QByteArray("\"") + QByteArray(63, 'z') + "\xe4\xb8\xad\"...");
    }
    void testQuotingKeepsTextAndEscapesInvisibles() {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, quoted);
        QCOMPARE(QByteArray::fromStdString(quoteForMessage(view(text))), quoted);
    }

    void testEmptyNameIsAllowedOnlyWhenTheCallerSaysSo() {
        expectOk(validateName("exchange", "", true));
        expectRefusal(validateName("exchange", ""), "exchange name must not be empty");
        expectRefusal(validateName("exchange", " ", true), "starts with whitespace");
    }

    void testLongBadNameGivesAShortMessage() {
        const Status status = validateName("queue", std::string(100'000, 'a'));
        expectRefusal(status, "is 100000 bytes long (at most 255)");
        QVERIFY(status.message().size() < 200);
    }

    void testPolicies_data() {
        QTest::addColumn<PolicyEdit>("edit");
        QTest::addColumn<QString>("reason");  // empty: accepted
        auto ok = [](const char* name, PolicyEdit edit) { QTest::newRow(name) << edit << QString(); };
        auto bad = [](const char* name, PolicyEdit edit, const char* reason) {
            QTest::newRow(name) << edit << QString(reason);
        };
        ok("defaults", [](QueuePolicy&) {});
        ok("unlimited attempts", [](QueuePolicy& p) { p.maxAttempts = 0; });
        ok("10000 attempts", [](QueuePolicy& p) { p.maxAttempts = 10000; });
        ok("one zero backoff step", [](QueuePolicy& p) { p.backoff = {Millis(0)}; });
        ok("32 backoff steps", [](QueuePolicy& p) { p.backoff.assign(32, Millis(10)); });
        ok("7-day backoff", [](QueuePolicy& p) { p.backoff = {kMaxBackoffStep}; });
        ok("no ack timeout", [](QueuePolicy& p) { p.ackTimeout = Millis(0); });
        ok("100ms ack timeout", [](QueuePolicy& p) { p.ackTimeout = Millis(100); });
        ok("24h ack timeout", [](QueuePolicy& p) { p.ackTimeout = Millis(24 * 3600 * 1000); });
        ok("1ms ttl", [](QueuePolicy& p) { p.ttl = Millis(1); });
        ok("365-day ttl", [](QueuePolicy& p) { p.ttl = Millis(365LL * 24 * 3600 * 1000); });
        ok("max length 1", [](QueuePolicy& p) { p.maxLength = 1; });
        ok("max length 1e9", [](QueuePolicy& p) { p.maxLength = 1'000'000'000; });
        ok("no dedup", [](QueuePolicy& p) { p.dedupWindow = Millis(0); });
        ok("24h dedup", [](QueuePolicy& p) { p.dedupWindow = Millis(24 * 3600 * 1000); });
        ok("named dead-letter queue", [](QueuePolicy& p) { p.deadLetterQueue = "orders.failed"; });
        ok("transient, async, per-key", [](QueuePolicy& p) {
            p.durable = false;
            p.flush = FlushMode::Async;
            p.ordering = Ordering::PerKey;
            p.overflow = Overflow::DeadLetterOldest;
        });
        bad(
            "10001 attempts", [](QueuePolicy& p) { p.maxAttempts = 10001; },
            "max-attempts 10001 is out of range (0..10000)");
        bad(
            "20000 attempts", [](QueuePolicy& p) { p.maxAttempts = 20000; },
            "max-attempts 20000 is out of range (0..10000)");
        bad(
            "no backoff", [](QueuePolicy& p) { p.backoff.clear(); }, "backoff has 0 steps (1..32 allowed)");
        bad(
            "33 backoff steps", [](QueuePolicy& p) { p.backoff.assign(33, Millis(10)); }, "backoff has 33 steps");
        bad(
            "negative backoff",
            [](QueuePolicy& p) {
                p.backoff = {Millis(1), Millis(-1)};
            },
            "backoff[1] -1ms is out of range (0..7d)");
        bad(
            "backoff past 7 days", [](QueuePolicy& p) { p.backoff = {kMaxBackoffStep + Millis(1)}; },
            "backoff[0] 7d1ms is out of range (0..7d)");
        bad(
            "99ms ack timeout", [](QueuePolicy& p) { p.ackTimeout = Millis(99); },
            "ack-timeout 99ms is out of range (0 or 100ms..24h)");
        bad(
            "negative ack timeout", [](QueuePolicy& p) { p.ackTimeout = Millis(-1); }, "ack-timeout -1ms");
        bad(
            "ack timeout past 24h", [](QueuePolicy& p) { p.ackTimeout = Millis(24 * 3600 * 1000 + 1); },
            "ack-timeout 1d1ms is out of range");
        bad(
            "zero ttl", [](QueuePolicy& p) { p.ttl = Millis(0); }, "ttl 0s is out of range (1ms..365d)");
        bad(
            "negative ttl", [](QueuePolicy& p) { p.ttl = Millis(-5000); }, "ttl -5s is out of range");
        bad(
            "ttl past 365 days", [](QueuePolicy& p) { p.ttl = Millis(366LL * 24 * 3600 * 1000); },
            "ttl 366d is out of range (1ms..365d)");
        bad(
            "max length 0", [](QueuePolicy& p) { p.maxLength = 0; }, "max-length 0 is out of range (1..1000000000)");
        bad(
            "max length past 1e9", [](QueuePolicy& p) { p.maxLength = 1'000'000'001; },
            "max-length 1000000001 is out of range");
        bad(
            "negative dedup", [](QueuePolicy& p) { p.dedupWindow = Millis(-1); },
            "dedup-window -1ms is out of range (0..24h)");
        bad(
            "dedup past 24h", [](QueuePolicy& p) { p.dedupWindow = Millis(25LL * 3600 * 1000); },
            "dedup-window 25h is out of range (0..24h)");
        bad(
            "dead-letter queue with control", [](QueuePolicy& p) { p.deadLetterQueue = "dlq\x01"; },
            R"(dead-letter-queue name "dlq\x01" contains a control character at byte 3)");
        bad(
            "dead-letter queue with space", [](QueuePolicy& p) { p.deadLetterQueue = "dlq "; },
            "dead-letter-queue name \"dlq \" ends with whitespace");
        bad(
            "dead-letter queue too long", [](QueuePolicy& p) { p.deadLetterQueue = std::string(300, 'd'); },
            "dead-letter-queue name");
    }
    void testPolicies() {
        QFETCH(PolicyEdit, edit);
        QFETCH(QString, reason);
        QueuePolicy policy;
        edit(policy);
        if (reason.isEmpty())
            expectOk(validatePolicy(policy));
        else
            expectRefusal(validatePolicy(policy), reason);
    }

    void testHeaders_data() {
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QString>("reason");  // empty: accepted
        const std::string binary("\0\xff\xfe\x01\n", 5);
        QTest::newRow("none") << Headers{} << QString();
        QTest::newRow("plain") << Headers{{"content-type", "application/json"}} << QString();
        QTest::newRow("256 headers") << manyHeaders(256) << QString();
        QTest::newRow("name with spaces") << Headers{{" x trace ", "1"}} << QString();
        QTest::newRow("chinese name") << Headers{{"\xe6\x9d\xa5\xe6\xba\x90", "app"}} << QString();
        QTest::newRow("repeated name") << Headers{{"a", "1"}, {"a", "2"}} << QString();
        QTest::newRow("255-byte name") << Headers{{std::string(255, 'n'), ""}} << QString();
        QTest::newRow("binary value") << Headers{{"sig", binary}} << QString();
        QTest::newRow("64 KiB value") << Headers{{"big", std::string(64 * 1024, 'v')}} << QString();
        QTest::newRow("257 headers") << manyHeaders(257) << "too many headers: 257 (at most 256)";
        QTest::newRow("empty name") << Headers{{"a", "1"}, {"", "2"}} << "header name must not be empty";
        QTest::newRow("256-byte name") << Headers{{std::string(256, 'n'), ""}} << "is 256 bytes long (at most 255)";
        QTest::newRow("invalid UTF-8 name")
            << Headers{{"x\xc0\xaf", ""}} << "header name \"x\\xc0\\xaf\" is not valid UTF-8 at byte 1";
        QTest::newRow("control in name") << Headers{{"x-a\r\nb", ""}} << "contains a control character at byte 3";
        QTest::newRow("value past 64 KiB") << Headers{{"big", std::string(64 * 1024 + 1, 'v')}}
                                           << "header \"big\" value is 65537 bytes (at most 65536)";
    }
    void testHeaders() {
        QFETCH(Headers, headers);
        QFETCH(QString, reason);
        if (reason.isEmpty())
            expectOk(validateHeaders(headers));
        else
            expectRefusal(validateHeaders(headers), reason);
    }

    void testBindingPatterns_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<QByteArray>("pattern");
        QTest::addColumn<QString>("reason");  // empty: accepted
        const int topic = int(ExchangeType::Topic);
        const int direct = int(ExchangeType::Direct);
        const int fanout = int(ExchangeType::Fanout);
        auto row = [](const char* name, int type, const QByteArray& pattern, const char* reason = "") {
            QTest::newRow(name) << type << pattern << QString(reason);
        };
        row("topic empty", topic, "");
        row("topic word", topic, "orders");
        row("topic words", topic, "orders.eu.created");
        row("topic star", topic, "*");
        row("topic hash", topic, "#");
        row("topic a.*.c", topic, "a.*.c");
        row("topic #.b", topic, "#.b");
        row("topic a.#", topic, "a.#");
        row("topic *.#.*", topic, "*.#.*");
        row("topic #.#", topic, "#.#");
        row("topic chinese", topic, "\xe8\xae\xa2\xe5\x8d\x95.*");
        row("topic punctuation in words", topic, "a-b_c.d:e/f");
        row("topic 255 bytes", topic, QByteArray(255, 'w'));
        row("topic lone dot", topic, ".", "has an empty word at byte 0");
        row("topic leading dot", topic, ".a", "has an empty word at byte 0");
        row("topic trailing dot", topic, "a.", "has an empty word at byte 2");
        row("topic double dot", topic, "a..b", "has an empty word at byte 2");
        row("topic star in word", topic, "a.b*", "inside the word at byte 2");
        row("topic star prefix", topic, "*a", "inside the word at byte 0");
        row("topic hash in word", topic, "a.#b.c", "inside the word at byte 2");
        row("topic double hash", topic, "##", "inside the word at byte 0");
        row("topic hash star", topic, "a.#*", "inside the word at byte 2");
        row("topic 256 bytes", topic, QByteArray(256, 'w'), "is 256 bytes long (at most 255)");
        row("topic invalid UTF-8", topic, "a.\xff", "not valid UTF-8 at byte 2");
        row("topic control", topic, "a.\x01", "control character at byte 2");
        row("direct empty", direct, "");
        row("direct name", direct, "orders");
        row("direct with wildcards", direct, "a.*.#");
        row("direct leading space", direct, " orders", "binding key name \" orders\" starts with whitespace");
        row("direct control", direct, "a\x02", "control character at byte 1");
        row("direct 256 bytes", direct, QByteArray(256, 'k'), "256 bytes");
        row("fanout empty", fanout, "");
        row("fanout anything", fanout, QByteArray("\xff\x01 a..b##", 10));
        row("fanout long", fanout, QByteArray(1000, 'f'));
    }
    void testBindingPatterns() {
        QFETCH(int, type);
        QFETCH(QByteArray, pattern);
        QFETCH(QString, reason);
        const Status status = validateBindingPattern(static_cast<ExchangeType>(type), view(pattern));
        if (reason.isEmpty())
            expectOk(status);
        else
            expectRefusal(status, reason);
    }
};

QTEST_GUILESS_MAIN(TestValidation)
#include "TestValidation.moc"
