// Topic routing: AMQP '*' (one word) and '#' (zero or more words), and no exponential blow-up on runs of '#'.
#include <QtTest>

#include <string>

#include "broker/TopicMatcher.h"

using depot::broker::topicMatches;

namespace {

bool matches(const QByteArray& pattern, const QByteArray& key) {
    return topicMatches(std::string_view(pattern.constData(), size_t(pattern.size())),
                        std::string_view(key.constData(), size_t(key.size())));
}

std::string words(int count, const std::string& word = "w") {
    std::string out;
    for (int i = 0; i < count; ++i)
        out += (i ? "." : "") + word + std::to_string(i);
    return out;
}

}  // namespace

class TestTopicMatcher : public QObject {
    Q_OBJECT

private slots:
    void testPatternAgainstKey_data() {
        QTest::addColumn<QByteArray>("pattern");
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<bool>("expected");
        auto row = [](const char* p, const char* k, bool e) {
            QTest::addRow("'%s' ~ '%s'", p, k) << QByteArray(p) << QByteArray(k) << e;
        };
        // Literals.
        row("a", "a", true);
        row("a", "b", false);
        row("a.b", "a.b", true);
        row("a.b", "a", false);
        row("a", "a.b", false);
        row("a.b", "a.bb", false);
        row("", "", true);
        row("", "a", false);
        row("a", "", false);
        // '*': exactly one word.
        row("*", "a", true);
        row("*", "", false);
        row("*", "a.b", false);
        row("a.*", "a.b", true);
        row("a.*", "a", false);
        row("a.*", "a.b.c", false);
        row("*.b", "a.b", true);
        row("*.*", "a.b", true);
        row("*.*", "a.b.c", false);
        row("a.*.c", "a.b.c", true);
        row("a.*.c", "a.c", false);
        row("a.*.c", "a.b.d.c", false);
        row("*", ".", false);
        row("*.*", ".", true);  // two empty words
        row("a.*", "a.", true);
        // '#': zero or more words.
        row("#", "", true);
        row("#", "a", true);
        row("#", "a.b.c", true);
        row("a.#", "a", true);
        row("a.#", "a.b", true);
        row("a.#", "a.b.c", true);
        row("a.#", "b", false);
        row("a.#", "b.a", false);
        row("#.b", "b", true);
        row("#.b", "x.y.b", true);
        row("#.b", "b.x", false);
        row("#.b", "", false);
        row("a.#.c", "a.c", true);
        row("a.#.c", "a.b.c", true);
        row("a.#.c", "a.b.d.c", true);
        row("a.#.c", "a.b.d", false);
        row("a.#.c", "c", false);
        row("#.#", "", true);
        row("#.#", "a.b", true);
        row("#.a.#", "a", true);
        row("#.a.#", "x.a.y", true);
        row("#.a.#", "x.y", false);
        row("#.*", "", false);
        row("#.*", "a", true);
        row("*.#", "a.b.c", true);
        row("*.#.*", "a", false);
        row("*.#.*", "a.b", true);
        row("a.#.b.#.c", "a.b.c", true);
        row("a.#.b.#.c", "a.x.c.y.b", false);
        row("a.#.b.#.c", "a.x.b.y.z.c", true);
        // Wildcards only count as whole words; inside a word they are literal characters.
        row("a*", "ab", false);
        row("a*", "a*", true);
        row("#a", "a", false);
        row("a.#", "ab", false);
        // Words compare exactly: case and bytes matter.
        row("A.b", "a.b", false);
        row("日本.*", "日本.東京", true);
    }
    void testPatternAgainstKey() {
        QFETCH(QByteArray, pattern);
        QFETCH(QByteArray, key);
        QFETCH(bool, expected);
        QCOMPARE(matches(pattern, key), expected);
    }

    void testManyHashesAgainstLongKeyFinish() {
        // A backtracking matcher tries every way of splitting 40 words among 12 '#': that is billions of paths.
        const std::string pattern = "#.#.#.#.#.#.#.#.#.#.#.#.x";
        const std::string miss = words(40);
        QVERIFY(!topicMatches(pattern, miss));
        QVERIFY(topicMatches(pattern, miss + ".x"));
        QVERIFY(topicMatches(pattern, "x"));
        const std::string alternating = "#.*.#.*.#.*.#.*.#.*.#.*.#.*.#.*.y";
        QVERIFY(!topicMatches(alternating, miss));
        QVERIFY(topicMatches(alternating, miss + ".y"));
        QVERIFY(!topicMatches(alternating, "a.b.c.y"));  // needs at least 8 words before "y"
    }

    void testLongKeysAndPatternsMatchWordForWord() {
        const std::string key = words(500);
        QVERIFY(topicMatches(key, key));
        QVERIFY(topicMatches("#", key));
        QVERIFY(topicMatches("w0.#.w499", key));
        QVERIFY(!topicMatches("w0.#.w498", key));
        std::string stars;
        for (int i = 0; i < 500; ++i)
            stars += i ? ".*" : "*";
        QVERIFY(topicMatches(stars, key));
        QVERIFY(!topicMatches(stars + ".*", key));
    }
};

QTEST_GUILESS_MAIN(TestTopicMatcher)
#include "TestTopicMatcher.moc"
