import Testing
@testable import CTRModels

@Suite("Protobuf wire encoding")
struct ProtobufWriterTests {
    @Test func varints() {
        var writer = ProtobufWriter()
        writer.int(1, 300)
        #expect(writer.bytes == [0x08, 0xAC, 0x02])
    }

    @Test func negativeIntTakesTenBytes() {
        var writer = ProtobufWriter()
        writer.int(2, -1)
        #expect(writer.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func stringsFloatsAndMessages() {
        var writer = ProtobufWriter()
        writer.string(2, "ab")
        writer.float(3, 1)
        writer.message(4) { $0.packedInts(1, [1, 2]) }
        #expect(writer.bytes == [0x12, 2, 0x61, 0x62, 0x1D, 0, 0, 0x80, 0x3F, 0x22, 4, 0x0A, 2, 1, 2])
    }
}
