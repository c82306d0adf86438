import CTRServer
import FuzzSupport

// Any bytes through the strict scanner: `validate` over the whole input, then a pull walk that reads every
// token with the typed readers (strings unescaped, numbers converted) the request decoders use.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONScanner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    let valid: Bool
    do throws(RequestDecodeError) {
        try JSONScanner.validate(bytes, maxDepth: 64)
        valid = true
    } catch {
        precondition(!error.message.isEmpty, "a scanner error without a message")
        valid = false
    }
    var scanner = JSONScanner(bytes, maxDepth: 64)
    var scratch: [UInt8] = []
    do throws(RequestDecodeError) {
        try walk(&scanner, scratch: &scratch)
        try scanner.finish()
        precondition(valid, "the walk accepted a document validate refused")
    } catch {
        precondition(!valid, "the walk refused a document validate accepted: \(error.message)")
    }
    return 0
}

/// Reads one value, recursing into objects and arrays the way a decoder does.
private func walk(_ scanner: inout JSONScanner, scratch: inout [UInt8]) throws(RequestDecodeError) {
    switch scanner.peek() {
    case UInt8(ascii: "{"):
        if try scanner.beginObject() {
            repeat {
                let key = try scanner.readKey()
                scratch.removeAll(keepingCapacity: true)
                scanner.unescape(key, into: &scratch)
                _ = scanner.string(key)
                try walk(&scanner, scratch: &scratch)
            } while try scanner.nextMember()
        }
    case UInt8(ascii: "["):
        if try scanner.beginArray() {
            repeat {
                try walk(&scanner, scratch: &scratch)
            } while try scanner.nextElement()
        }
    case UInt8(ascii: "\""):
        let token = try scanner.readString()
        scratch.removeAll(keepingCapacity: true)
        scanner.unescape(token, into: &scratch)
        precondition(token.hasEscapes || scratch.count == token.rawCount, "an unescaped string changed length")
        _ = scanner.string(token)
    case UInt8(ascii: "n"):
        _ = try scanner.consumeNull()
    case UInt8(ascii: "t"), UInt8(ascii: "f"):
        _ = try scanner.readBool()
    default:
        let number = try scanner.readNumber()
        // The fast paths (Clinger's) must round exactly as the standard library's full parser does.
        let text = scanner.text(of: number)
        let double = try? scanner.double(number)
        if let double { precondition(double == Double(text), "\(text) read as \(double), not \(Double(text) ?? .nan)") }
        if let float = try? scanner.float(number) { precondition(float == Float(text), "\(text) read as FP32 \(float), not \(Float(text) ?? .nan)") }
        if let exact = number.int64, let double {
            precondition(double == Double(exact), "\(text) read as \(double), not \(exact)")
        }
    }
}
