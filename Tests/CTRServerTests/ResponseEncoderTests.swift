import Foundation
import Testing

@testable import CTRServer

@Suite("Response encoders")
struct ResponseEncoderTests {
    @Test("predictions are shortest round-trip text, non-finite as null")
    func predictions() throws {
        var out: [UInt8] = []
        PredictResponseEncoder.encode(predictions: [0.0312, 1, 1e-5, 0.1, .nan, -0.0, 3.4028235e38], into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"predictions":[0.0312,1.0,1e-05,0.1,null,-0.0,3.4028235e+38]}"#)
        let object = try JSONSerialization.jsonObject(with: Data(out)) as! [String: Any]
        #expect((object["predictions"] as! [Any]).count == 7)
    }

    @Test("random floats round-trip exactly through the text and Foundation reads it")
    func roundTrip() throws {
        let values = (0..<2000).map { _ in Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF)) * (Bool.random() ? 1 : -1) }
        var out: [UInt8] = []
        PredictResponseEncoder.encode(predictions: values, into: &out)
        let object = try JSONSerialization.jsonObject(with: Data(out)) as! [String: Any]
        #expect((object["predictions"] as! [NSNumber]).count == values.count)
        // Re-read with our own scanner: every value comes back bit for bit.
        try out.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw)
            _ = try scanner.beginObject()
            _ = try scanner.readKey()
            _ = try scanner.beginArray()
            var i = 0
            repeat {
                let parsed = try scanner.float(scanner.readNumber())
                #expect(parsed.bitPattern == values[i].bitPattern || (parsed == 0 && values[i] == 0))
                i += 1
            } while try scanner.nextElement()
            #expect(i == values.count)
        }
    }

    @Test("error bodies escape the message")
    func errors() throws {
        let messages = ["plain", "quote \" backslash \\ slash /", "line\nbreak\ttab\r", "control \u{01}\u{1F}\u{0}", "é 😀 中", ""]
        for message in messages {
            var out: [UInt8] = []
            ErrorResponseEncoder.encode(message: message, into: &out)
            let object = try JSONSerialization.jsonObject(with: Data(out)) as! [String: Any]
            #expect(object["error"] as? String == message)
            #expect(out.withUnsafeBytes { (try? JSONScanner.validate($0)) != nil })
        }
        var out: [UInt8] = []
        ErrorResponseEncoder.encode(message: "a\u{1}\"", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"error":"a\u0001\""}"#)
    }

    @Test("integers are written exactly")
    func integers() {
        for value: Int64 in [0, 1, -1, 42, .max, .min, 1_000_000] {
            var out: [UInt8] = []
            JSONWriter.appendInteger(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
        var out: [UInt8] = []
        JSONWriter.appendInteger(UInt64.max, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(UInt64.max))
    }
}
