#pragma once
// Small checks shared by the broker tests (QtTest).
#include <QtTest>

#include <string>
#include <string_view>

#include "support/BrokerHarness.h"

// QVERIFY that a Status is OK, printing it when it is not.
#define CHECK_OK(expr)                                                  \
    do {                                                                \
        const ::depot::Status checkStatus_ = (expr);                    \
        QVERIFY2(checkStatus_.isOk(), checkStatus_.toString().c_str()); \
    } while (0)

namespace depot::test {

// Enum spellings, so a failed comparison names the values.
template <typename E>
QString name(E value) {
    std::string_view spelled = toString(value);
    return QString::fromUtf8(spelled.data(), qsizetype(spelled.size()));
}

inline QString text(const std::string& s) { return QString::fromStdString(s); }

// True when the broker has settled everything asked of it so far and the inbox is still empty.
inline bool nothingArrives(BrokerHarness& h, const Inbox& inbox) {
    return h.broker().sync().isOk() && inbox.size() == 0;
}

// _data rows for a test that runs once with messages already waiting and once with the consumer first.
inline void addConsumerFirstRows() {
    QTest::addColumn<bool>("consumerFirst");
    QTest::newRow("messages waiting when the consumer starts") << false;
    QTest::newRow("consumer waiting when the messages arrive") << true;
}

}  // namespace depot::test
