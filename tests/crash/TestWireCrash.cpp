// placeholder while the test is written
#include <QtTest>
class TestWireCrash : public QObject {
    Q_OBJECT
};
QTEST_GUILESS_MAIN(TestWireCrash)
#include "TestWireCrash.moc"
