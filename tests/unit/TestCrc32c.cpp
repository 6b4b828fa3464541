#include "storage/Crc32c.h"

#include <QtTest>

#include <cstdint>
#include <random>
#include <vector>

namespace crc32c = depot::storage::crc32c;

namespace {

QByteArray bytes(std::initializer_list<int> values) {
    QByteArray out;
    for (int v : values)
        out.append(char(v));
    return out;
}

QByteArray ramp(int count, int first, int step) {
    QByteArray out;
    for (int i = 0; i < count; ++i)
        out.append(char(first + i * step));
    return out;
}

// RFC 3720, B.4: the 48-byte iSCSI SCSI Read (10) command PDU.
QByteArray iscsiReadCommand() {
    QByteArray out(48, '\0');
    out[0] = char(0x01);
    out[1] = char(0xc0);
    out[16] = char(0x14);
    out[22] = char(0x04);
    out[27] = char(0x14);
    out[31] = char(0x18);
    out[32] = char(0x28);
    out[40] = char(0x02);
    return out;
}

std::vector<unsigned char> randomBytes(size_t size, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<unsigned char> out(size);
    for (auto& b : out)
        b = static_cast<unsigned char>(rng());
    return out;
}

using ExtendFunction = uint32_t (*)(uint32_t, const void*, size_t);

}  // namespace

class TestCrc32c : public QObject {
    Q_OBJECT

private:
    void addKnownVectors();
    void addImplementations();
    void skipIfUnavailable(const QString& implementation);
    static ExtendFunction implementation(const QString& name);

private slots:
    void testSoftwareMatchesKnownVectors_data() { addKnownVectors(); }
    void testSoftwareMatchesKnownVectors();
    void testHardwareMatchesKnownVectors_data() { addKnownVectors(); }
    void testHardwareMatchesKnownVectors();
    void testDispatchedExtendMatchesKnownVectors_data() { addKnownVectors(); }
    void testDispatchedExtendMatchesKnownVectors();
    void testExtendInPiecesEqualsOneShot_data() { addImplementations(); }
    void testExtendInPiecesEqualsOneShot();
    void testHardwareEqualsSoftwareForAllLengthsAndOffsets();
    void testHardwareEqualsSoftwareOnLargeBuffers();
    void testSingleBitFlipChangesCrc_data() { addImplementations(); }
    void testSingleBitFlipChangesCrc();
    void testUnmaskInvertsMask();
    void testMaskChangesCrc();
};

void TestCrc32c::addKnownVectors() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<uint>("expected");
    QTest::newRow("empty") << QByteArray() << 0u;
    QTest::newRow("123456789") << QByteArray("123456789") << 0xe3069283u;
    QTest::newRow("32 zero bytes") << QByteArray(32, '\0') << 0x8a9136aau;
    QTest::newRow("32 0xff bytes") << QByteArray(32, char(0xff)) << 0x62a8ab43u;
    QTest::newRow("32 ascending bytes") << ramp(32, 0, 1) << 0x46dd794eu;
    QTest::newRow("32 descending bytes") << ramp(32, 31, -1) << 0x113fdb5cu;
    QTest::newRow("iSCSI read command") << iscsiReadCommand() << 0xd9963a56u;
    QTest::newRow("single byte a") << bytes({'a'}) << 0xc1d04330u;
}

void TestCrc32c::addImplementations() {
    QTest::addColumn<QString>("implementation");
    QTest::newRow("software") << QStringLiteral("software");
    QTest::newRow("hardware") << QStringLiteral("hardware");
    QTest::newRow("dispatched") << QStringLiteral("dispatched");
}

void TestCrc32c::skipIfUnavailable(const QString& name) {
    if (name == QLatin1String("hardware") && !crc32c::hardwareAvailable())
        QSKIP("CPU has no SSE4.2 CRC32 instruction");
}

ExtendFunction TestCrc32c::implementation(const QString& name) {
    if (name == QLatin1String("software"))
        return &crc32c::extendSoftware;
    if (name == QLatin1String("hardware"))
        return &crc32c::extendHardware;
    return &crc32c::extend;
}

void TestCrc32c::testSoftwareMatchesKnownVectors() {
    QFETCH(QByteArray, input);
    QFETCH(uint, expected);
    QCOMPARE(crc32c::extendSoftware(0, input.constData(), size_t(input.size())), expected);
}

void TestCrc32c::testHardwareMatchesKnownVectors() {
    QFETCH(QByteArray, input);
    QFETCH(uint, expected);
    skipIfUnavailable(QStringLiteral("hardware"));
    QCOMPARE(crc32c::extendHardware(0, input.constData(), size_t(input.size())), expected);
}

void TestCrc32c::testDispatchedExtendMatchesKnownVectors() {
    QFETCH(QByteArray, input);
    QFETCH(uint, expected);
    QCOMPARE(crc32c::value(input.constData(), size_t(input.size())), expected);
}

void TestCrc32c::testExtendInPiecesEqualsOneShot() {
    QFETCH(QString, implementation);
    skipIfUnavailable(implementation);
    ExtendFunction extend = TestCrc32c::implementation(implementation);
    // Long enough to cross the hardware path's multi-stream blocks several times.
    std::vector<unsigned char> data = randomBytes(20000, 7);
    const uint32_t oneShot = crc32c::extendSoftware(0, data.data(), data.size());
    std::mt19937 rng(11);
    for (int trial = 0; trial < 200; ++trial) {
        uint32_t crc = 0;
        size_t done = 0;
        while (done < data.size()) {
            // Mostly small pieces, sometimes large ones, sometimes empty ones.
            size_t piece = (rng() % 4 == 0) ? rng() % 5000 : rng() % 40;
            piece = std::min(piece, data.size() - done);
            crc = extend(crc, data.data() + done, piece);
            done += piece;
        }
        QCOMPARE(crc, oneShot);
    }
}

void TestCrc32c::testHardwareEqualsSoftwareForAllLengthsAndOffsets() {
    if (!crc32c::hardwareAvailable())
        QSKIP("CPU has no SSE4.2 CRC32 instruction");
    constexpr size_t kMaxOffset = 17;
    constexpr size_t kMaxLength = 3300;  // past two groups of three 512-byte hardware blocks
    std::vector<unsigned char> data = randomBytes(kMaxLength + kMaxOffset, 42);
    for (size_t offset = 0; offset <= kMaxOffset; ++offset) {
        for (size_t length = 0; length <= kMaxLength; ++length) {
            const unsigned char* p = data.data() + offset;
            uint32_t seed = uint32_t(offset * 0x9e3779b9u + length);
            uint32_t software = crc32c::extendSoftware(seed, p, length);
            uint32_t hardware = crc32c::extendHardware(seed, p, length);
            if (software != hardware)
                QFAIL(qPrintable(QStringLiteral("offset %1 length %2: software %3 hardware %4")
                                     .arg(offset).arg(length).arg(software, 8, 16).arg(hardware, 8, 16)));
        }
    }
}

void TestCrc32c::testHardwareEqualsSoftwareOnLargeBuffers() {
    if (!crc32c::hardwareAvailable())
        QSKIP("CPU has no SSE4.2 CRC32 instruction");
    std::vector<unsigned char> data = randomBytes((4 << 20) + 17, 99);
    for (size_t offset : {size_t(0), size_t(1), size_t(5), size_t(8), size_t(17)}) {
        for (size_t length : {size_t(1) << 16, (size_t(1) << 20) + 3, size_t(4) << 20}) {
            QCOMPARE(crc32c::extendHardware(0, data.data() + offset, length),
                     crc32c::extendSoftware(0, data.data() + offset, length));
        }
    }
}

void TestCrc32c::testSingleBitFlipChangesCrc() {
    QFETCH(QString, implementation);
    skipIfUnavailable(implementation);
    ExtendFunction extend = TestCrc32c::implementation(implementation);
    std::vector<unsigned char> data = randomBytes(2000, 3);
    const uint32_t original = extend(0, data.data(), data.size());
    for (size_t bit = 0; bit < data.size() * 8; bit += 13) {
        data[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
        QVERIFY(extend(0, data.data(), data.size()) != original);
        data[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    }
    QCOMPARE(extend(0, data.data(), data.size()), original);
}

void TestCrc32c::testUnmaskInvertsMask() {
    std::mt19937 rng(5);
    std::vector<uint32_t> values = {0u, 1u, 0xffffffffu, 0x80000000u, crc32c::kMaskDelta, 0xe3069283u};
    for (int i = 0; i < 10000; ++i)
        values.push_back(uint32_t(rng()));
    for (uint32_t v : values) {
        QCOMPARE(crc32c::unmask(crc32c::mask(v)), v);
        QCOMPARE(crc32c::mask(crc32c::unmask(v)), v);
    }
}

void TestCrc32c::testMaskChangesCrc() {
    for (uint32_t crc : {0u, 0xe3069283u, 0x8a9136aau, 0x62a8ab43u, 0xd9963a56u, 0xffffffffu}) {
        QVERIFY(crc32c::mask(crc) != crc);
        QVERIFY(crc32c::mask(crc32c::mask(crc)) != crc32c::mask(crc));
    }
}

QTEST_GUILESS_MAIN(TestCrc32c)
#include "TestCrc32c.moc"
