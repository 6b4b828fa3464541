// The record codec and the small fixed layouts: frame headers, segment headers, checkpoints, file names.

#include <QtTest>

#include "depot/storage/CommitLog.h"
#include "storage/Crc32c.h"
#include "storage/RecordFormat.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::storage;

class TestRecordFormat : public QObject {
    Q_OBJECT

private slots:
    void testFrameHeaderRoundTrips_data() {
        QTest::addColumn<int>("typeByte");
        QTest::addColumn<QByteArray>("payload");
        QTest::newRow("empty payload") << 1 << QByteArray();
        QTest::newRow("text") << 42 << QByteArray("hello, depot");
        QTest::newRow("continues bit") << (0x80 | 5) << QByteArray(1000, 'x');
        QTest::newRow("binary") << 127 << QByteArray::fromHex("00ff00ff10");
    }
    void testFrameHeaderRoundTrips() {
        QFETCH(int, typeByte);
        QFETCH(QByteArray, payload);
        std::string_view view(payload.constData(), size_t(payload.size()));
        char header[kFrameHeaderSize];
        format::encodeFrameHeader(header, uint8_t(typeByte), view);
        format::FrameHeader decoded = format::decodeFrameHeader(header);
        QCOMPARE(decoded.length, uint32_t(payload.size()));
        QCOMPARE(int(decoded.typeByte), typeByte);
        QCOMPARE(int(decoded.type()), typeByte & 0x7f);
        QCOMPARE(decoded.continues(), (typeByte & 0x80) != 0);
        QCOMPARE(decoded.maskedCrc, format::frameCrc(uint8_t(typeByte), view));
        QVERIFY(!decoded.isZero());
    }

    void testFrameCrcCoversTypeAndPayloadAndIsMasked() {
        // The stored value is mask(crc32c(type byte ++ payload)), as docs/storage-format.md says.
        std::string bytes = std::string(1, char(3)) + "abc";
        QCOMPARE(format::frameCrc(3, "abc"), crc32c::mask(crc32c::value(bytes.data(), bytes.size())));
        QVERIFY(format::frameCrc(3, "abc") != format::frameCrc(4, "abc"));
        QVERIFY(format::frameCrc(3, "abc") != format::frameCrc(3, "abd"));
    }

    void testIntegersAreLittleEndian() {
        char bytes[8];
        format::putU32(bytes, 0x01020304u);
        QCOMPARE(QByteArray(bytes, 4), QByteArray::fromHex("04030201"));
        format::putU64(bytes, 0x0102030405060708ull);
        QCOMPARE(QByteArray(bytes, 8), QByteArray::fromHex("0807060504030201"));
        QCOMPARE(format::getU64(bytes), 0x0102030405060708ull);
    }

    void testSegmentHeaderRoundTripsAndRejectsDamage_data() {
        QTest::addColumn<int>("damagedByte");
        QTest::newRow("intact") << -1;
        QTest::newRow("magic") << 0;
        QTest::newRow("version") << 8;
        QTest::newRow("base offset") << 17;
        QTest::newRow("file size") << 25;
        QTest::newRow("checksum") << 33;
    }
    void testSegmentHeaderRoundTripsAndRejectsDamage() {
        QFETCH(int, damagedByte);
        char header[kSegmentHeaderSize];
        format::encodeSegmentHeader(header, {123456789, 64ull << 20});
        QCOMPARE(QByteArray(header, 8), QByteArray("DEPOTLOG"));
        if (damagedByte >= 0)
            header[damagedByte] ^= 0x10;
        Result<format::SegmentHeader> decoded = format::decodeSegmentHeader(header);
        QCOMPARE(decoded.isOk(), damagedByte < 0);
        if (decoded) {
            QCOMPARE(decoded->baseOffset, uint64_t(123456789));
            QCOMPARE(decoded->fileSize, uint64_t(64ull << 20));
        } else {
            QCOMPARE(decoded.status().code(), StatusCode::Corruption);
        }
    }

    void testSegmentFileNamesAreTwentyDigitBaseOffsets() {
        QCOMPARE(format::segmentFileName(0), std::string("00000000000000000000.seg"));
        QCOMPARE(format::segmentFileName(67108800), std::string("00000000000067108800.seg"));
        QCOMPARE(format::parseSegmentFileName("00000000000067108800.seg"), std::optional<uint64_t>(67108800));
        QCOMPARE(format::parseSegmentFileName("0000000000006710880.seg"), std::optional<uint64_t>());
        QCOMPARE(format::parseSegmentFileName("0000000000006710880x.seg"), std::optional<uint64_t>());
        QCOMPARE(format::parseSegmentFileName("00000000000067108800.seg.corrupt"), std::optional<uint64_t>());
        QCOMPARE(format::parseSegmentFileName("99999999999999999999.seg"), std::optional<uint64_t>());  // overflow
    }

    void testCheckpointRoundTripsAndRejectsDamage() {
        char bytes[format::kCheckpointSize];
        format::encodeCheckpoint(bytes, 987654321);
        QCOMPARE(format::decodeCheckpoint(bytes, sizeof bytes), std::optional<uint64_t>(987654321));
        QCOMPARE(format::decodeCheckpoint(bytes, sizeof bytes - 1), std::optional<uint64_t>());
        bytes[2] ^= 1;
        QCOMPARE(format::decodeCheckpoint(bytes, sizeof bytes), std::optional<uint64_t>());
    }

    void testLargestPayloadRoundTripsAndOneMoreByteIsRefused() {
        test::TempDir dir;
        CommitLogOptions options;
        options.segmentSize = (1 << 20) + kSegmentHeaderSize;
        options.preallocateAhead = false;
        auto log = std::move(*CommitLog::open(dir.path(), options));
        const size_t largest = (1 << 20) - kFrameHeaderSize;  // bounded by what one segment holds
        std::string payload(largest, '\0');
        for (size_t i = 0; i < payload.size(); ++i)
            payload[i] = char(i * 131 % 251);
        RecordView view{9, payload};
        Result<CommitLog::Appended> appended = log->append({&view, 1});
        QVERIFY2(appended.isOk(), appended.status().toString().c_str());
        QCOMPARE(log->read(appended->offsets[0])->payload, payload);

        std::string tooLarge(largest + 1, 'x');
        RecordView big{9, tooLarge};
        Result<CommitLog::Appended> refused = log->append({&big, 1});
        QCOMPARE(refused.status().code(), StatusCode::TooLarge);
        QVERIFY(refused.status().message().find(std::to_string(largest)) != std::string::npos);
        QVERIFY(log->failure().isOk());

        RecordView empty{9, ""};
        Result<CommitLog::Appended> nothing = log->append({&empty, 1});
        QVERIFY(nothing.isOk());
        QCOMPARE(log->read(nothing->offsets[0])->payload, std::string());
    }

    void testConfiguredMaximumPayloadIsEnforced() {
        test::TempDir dir;
        CommitLogOptions options;
        options.segmentSize = 1 << 20;
        options.maxPayload = 1000;
        auto log = std::move(*CommitLog::open(dir.path(), options));
        std::string ok(1000, 'a'), over(1001, 'a');
        RecordView fits{1, ok}, refused{1, over};
        QVERIFY(log->append({&fits, 1}).isOk());
        QCOMPARE(log->append({&refused, 1}).status().code(), StatusCode::TooLarge);
    }
};

QTEST_GUILESS_MAIN(TestRecordFormat)
#include "TestRecordFormat.moc"
