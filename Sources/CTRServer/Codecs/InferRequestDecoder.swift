import CTRServing
/// Decodes a KServe v2 infer request body, JSON tensors and the binary tensor extension, in one pass.
///
/// With the binary extension the body is a JSON header of `headerLength` bytes (the HTTP header
/// `Inference-Header-Content-Length`) followed by the raw little-endian tensors of the inputs that
/// carry `"parameters":{"binary_data_size":N}`, in input order; their sizes must add up to exactly the
/// rest of the body. JSON `data` may be flat or nested row-major arrays; its element count must equal
/// the product of `shape`. Each violation is an error naming the input.
///
/// Decided where the protocol is silent: unknown keys are errors, except `model_name` and
/// `model_version` (Triton's examples send them; the URL decides the model). Parameters may only be
/// bools, numbers or strings. Shared-memory and classification parameters are rejected as unsupported.
/// FP16/BF16 data must be binary. A nested `data` array must be regular at each level (all arrays or
/// all scalars).
public struct InferRequestDecoder: Sendable {
    /// The most elements accepted over all inputs of one request.
    public var maxElements: Int
    /// The deepest JSON nesting accepted.
    public var maxDepth: Int

    /// Creates a decoder.
    public init(maxElements: Int = 1 << 24, maxDepth: Int = 32) {
        self.maxElements = maxElements
        self.maxDepth = maxDepth
    }

    /// Decodes `body`; `headerLength` is the `Inference-Header-Content-Length` header, if sent.
    public func decode(_ body: [UInt8], headerLength: Int?) throws(RequestDecodeError) -> InferRequest {
        let result: Result<InferRequest, RequestDecodeError> = body.withUnsafeBytes { bytes in
            do throws(RequestDecodeError) {
                return .success(try decode(bytes, headerLength: headerLength))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes `body`; `headerLength` is the `Inference-Header-Content-Length` header, if sent.
    public func decode(_ body: UnsafeRawBufferPointer, headerLength: Int?) throws(RequestDecodeError) -> InferRequest {
        var jsonLength = body.count
        if let headerLength {
            guard headerLength > 0 && headerLength <= body.count else {
                throw RequestDecodeError(
                    .invalidRequest,
                    "Inference-Header-Content-Length \(headerLength) is not within the body length \(body.count)")
            }
            jsonLength = headerLength
        }
        var scanner = JSONScanner(UnsafeRawBufferPointer(rebasing: body[0..<jsonLength]), maxDepth: maxDepth)
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(.invalidRequest, "infer request must be a JSON object, found \(scanner.describeValue())", offset: scanner.position)
        }
        var request = InferRequest(inputs: [])
        var pending: [PendingInput]?
        var seen: Set<String> = []
        var totalElements = 0
        if try scanner.beginObject() {
            repeat {
                let keyToken = try scanner.readKey()
                let key = scanner.string(keyToken)
                guard seen.insert(key).inserted else {
                    throw RequestDecodeError(.invalidRequest, "duplicate key \"\(key)\" in infer request", offset: keyToken.start - 1)
                }
                switch key {
                case "id":
                    request.id = try readString(&scanner, context: "\"id\"")
                case "model_name", "model_version":
                    _ = try readString(&scanner, context: "\"\(key)\"")
                case "parameters":
                    request.parameters = try readParameters(&scanner, context: "request")
                    if let value = request.parameters.removeValue(forKey: "binary_data_output") {
                        guard let flag = value.boolValue else {
                            throw RequestDecodeError(.invalidRequest, "request parameter \"binary_data_output\" must be a bool")
                        }
                        request.binaryDataOutput = flag
                    }
                case "inputs":
                    pending = try readInputs(&scanner, totalElements: &totalElements)
                case "outputs":
                    request.outputs = try readOutputs(&scanner)
                default:
                    throw RequestDecodeError(
                        .invalidRequest, "unknown key \"\(key)\" in infer request (expected id, parameters, inputs, outputs)",
                        offset: keyToken.start - 1)
                }
            } while try scanner.nextMember()
        }
        try scanner.finish()
        guard let pending else { throw RequestDecodeError(.invalidRequest, "infer request has no \"inputs\"") }
        request.inputs = try resolveBinary(pending, body: body, jsonLength: jsonLength, hasHeader: headerLength != nil)
        return request
    }

    // MARK: - Inputs

    /// An input as read from JSON, before its binary data is located.
    struct PendingInput {
        var tensor: InferInputTensor
        var binarySize: Int?
    }

    private func readInputs(_ scanner: inout JSONScanner, totalElements: inout Int) throws(RequestDecodeError) -> [PendingInput] {
        guard scanner.peek() == UInt8(ascii: "[") else {
            throw RequestDecodeError(.invalidRequest, "\"inputs\" must be an array, found \(scanner.describeValue())", offset: scanner.position)
        }
        var inputs: [PendingInput] = []
        guard try scanner.beginArray() else { return inputs }
        repeat {
            let input = try readInput(&scanner, index: inputs.count, totalElements: &totalElements)
            if inputs.contains(where: { $0.tensor.name == input.tensor.name }) {
                throw RequestDecodeError(.invalidRequest, "duplicate input \"\(input.tensor.name)\"")
            }
            inputs.append(input)
        } while try scanner.nextElement()
        return inputs
    }

    private func readInput(_ scanner: inout JSONScanner, index: Int, totalElements: inout Int) throws(RequestDecodeError) -> PendingInput {
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(.invalidRequest, "inputs[\(index)] must be an object, found \(scanner.describeValue())", offset: scanner.position)
        }
        var name: String?
        var datatype: TensorElementType?
        var shape: [Int64]?
        var parameters: [String: InferParameter] = [:]
        var binarySize: Int?
        var data: InferTensorData?
        var deferredData: Range<Int>?  // `data` came before `datatype`: parse it once the type is known
        var seen: Set<String> = []
        func label() -> String { name.map { "input \"\($0)\"" } ?? "inputs[\(index)]" }

        if try scanner.beginObject() {
            repeat {
                let keyToken = try scanner.readKey()
                let key = scanner.string(keyToken)
                guard seen.insert(key).inserted else {
                    throw RequestDecodeError(.invalidRequest, "\(label()): duplicate key \"\(key)\"", offset: keyToken.start - 1)
                }
                switch key {
                case "name":
                    name = try readString(&scanner, context: "\(label()) \"name\"")
                case "datatype":
                    let start = scanner.position
                    let token = try scanner.readString()
                    guard !token.hasEscapes, let type = TensorElementType.parse(scanner.rawBytes(from: token.start, to: token.end)) else {
                        throw RequestDecodeError(
                            .invalidRequest,
                            "\(label()): unknown datatype \"\(scanner.string(token))\" (expected one of \(TensorElementType.allCases.map(\.rawValue).joined(separator: ", ")))",
                            offset: start)
                    }
                    datatype = type
                case "shape":
                    shape = try readShape(&scanner, label: label())
                case "parameters":
                    parameters = try readParameters(&scanner, context: label())
                    if let value = parameters.removeValue(forKey: "binary_data_size") {
                        guard let size = value.int64Value, size >= 0 else {
                            throw RequestDecodeError(.invalidRequest, "\(label()): \"binary_data_size\" must be a non-negative integer")
                        }
                        binarySize = Int(size)
                    }
                    for unsupported in ["shared_memory_region", "shared_memory_byte_size", "shared_memory_offset"]
                    where parameters[unsupported] != nil {
                        throw RequestDecodeError(.invalidRequest, "\(label()): shared memory (\"\(unsupported)\") is not supported")
                    }
                case "data":
                    if let datatype {
                        data = try readData(&scanner, datatype: datatype, label: label())
                    } else {
                        _ = scanner.peek()
                        let start = scanner.position
                        try scanner.skipValue()
                        deferredData = start..<scanner.position
                    }
                default:
                    throw RequestDecodeError(
                        .invalidRequest, "\(label()): unknown key \"\(key)\" (expected name, shape, datatype, parameters, data)",
                        offset: keyToken.start - 1)
                }
            } while try scanner.nextMember()
        }
        guard let name else { throw RequestDecodeError(.invalidRequest, "inputs[\(index)] has no \"name\"") }
        guard let datatype else { throw RequestDecodeError(.invalidRequest, "\(label()) has no \"datatype\"") }
        guard let shape else { throw RequestDecodeError(.invalidRequest, "\(label()) has no \"shape\"") }
        if let deferredData {
            var sub = JSONScanner(scanner.rawBytes(from: deferredData.lowerBound, to: deferredData.upperBound), maxDepth: maxDepth)
            do throws(RequestDecodeError) {
                data = try readData(&sub, datatype: datatype, label: label())
            } catch {
                // Positions in the sub-scan are relative to the data; report them in body terms.
                throw RequestDecodeError(error.kind, error.message, offset: error.offset.map { $0 + deferredData.lowerBound })
            }
        }
        let count = try elementCount(shape, label: label())
        totalElements += count
        guard totalElements <= maxElements else {
            throw RequestDecodeError(.limitExceeded, "too many elements: more than \(maxElements) in one request (at \(label()))")
        }
        switch (data, binarySize) {
        case (nil, nil):
            throw RequestDecodeError(.invalidRequest, "\(label()) has neither \"data\" nor a \"binary_data_size\" parameter")
        case (.some, .some):
            throw RequestDecodeError(.invalidRequest, "\(label()) has both \"data\" and a \"binary_data_size\" parameter")
        case (.some(let data), nil):
            guard data.count == count else {
                throw RequestDecodeError(
                    .invalidRequest, "\(label()): shape \(Self.describe(shape)) needs \(count) elements but \"data\" has \(data.count ?? 0)")
            }
        case (nil, .some(let size)):
            if let elementSize = datatype.byteSize, size != count * elementSize {
                throw RequestDecodeError(
                    .invalidRequest,
                    "\(label()): binary_data_size \(size) does not match shape \(Self.describe(shape)) of \(datatype.rawValue) (\(count * elementSize) bytes)")
            }
        }
        let tensor = InferInputTensor(name: name, datatype: datatype, shape: shape, parameters: parameters, data: data ?? .binary(0..<0))
        return PendingInput(tensor: tensor, binarySize: binarySize)
    }

    private func elementCount(_ shape: [Int64], label: String) throws(RequestDecodeError) -> Int {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dimension))
            guard !overflow, product <= maxElements else {
                throw RequestDecodeError(.limitExceeded, "\(label): shape \(Self.describe(shape)) has more than \(maxElements) elements")
            }
            count = product
        }
        return count
    }

    private func readShape(_ scanner: inout JSONScanner, label: String) throws(RequestDecodeError) -> [Int64] {
        guard scanner.peek() == UInt8(ascii: "[") else {
            throw RequestDecodeError(.invalidRequest, "\(label): \"shape\" must be an array of integers, found \(scanner.describeValue())", offset: scanner.position)
        }
        var shape: [Int64] = []
        guard try scanner.beginArray() else { return shape }
        repeat {
            let start = scanner.position
            guard let c = scanner.peek(), c == UInt8(ascii: "-") || JSONScanner.isDigit(c),
                let value = try scanner.readNumber().int64, value >= 0
            else {
                throw RequestDecodeError(.invalidRequest, "\(label): \"shape\" must hold non-negative integers", offset: start)
            }
            shape.append(value)
        } while try scanner.nextElement()
        return shape
    }

    // MARK: - Binary data

    private func resolveBinary(
        _ pending: [PendingInput], body: UnsafeRawBufferPointer, jsonLength: Int, hasHeader: Bool
    ) throws(RequestDecodeError) -> [InferInputTensor] {
        var offset = jsonLength
        var inputs: [InferInputTensor] = []
        inputs.reserveCapacity(pending.count)
        for var input in pending {
            if let size = input.binarySize {
                guard hasHeader else {
                    throw RequestDecodeError(
                        .invalidRequest,
                        "input \"\(input.tensor.name)\" has \"binary_data_size\" but the request has no Inference-Header-Content-Length header")
                }
                guard size <= body.count - offset else {
                    throw RequestDecodeError(
                        .invalidRequest,
                        "input \"\(input.tensor.name)\": binary_data_size \(size) exceeds the \(body.count - offset) bytes left in the body")
                }
                let range = offset..<(offset + size)
                if input.tensor.datatype == .bytes {
                    try checkBytesElements(UnsafeRawBufferPointer(rebasing: body[range]), input: input.tensor)
                }
                input.tensor.data = .binary(range)
                offset += size
            }
            inputs.append(input.tensor)
        }
        guard offset == body.count else {
            throw RequestDecodeError(
                .invalidRequest,
                "binary data sizes add up to \(offset - jsonLength) bytes but \(body.count - jsonLength) bytes follow the JSON header")
        }
        return inputs
    }

    /// Checks that BYTES binary data is exactly `count` length-prefixed elements.
    private func checkBytesElements(_ bytes: UnsafeRawBufferPointer, input: InferInputTensor) throws(RequestDecodeError) {
        var offset = 0
        var elements = 0
        while offset + 4 <= bytes.count {
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            guard length <= bytes.count - offset - 4 else { break }
            offset += 4 + length
            elements += 1
        }
        guard offset == bytes.count, elements == input.elementCount else {
            throw RequestDecodeError(
                .invalidRequest,
                "input \"\(input.name)\": BYTES binary data is not \(input.elementCount) length-prefixed elements")
        }
    }

    // MARK: - JSON data

    private func readData(_ scanner: inout JSONScanner, datatype: TensorElementType, label: String) throws(RequestDecodeError) -> InferTensorData {
        switch datatype {
        case .bool:
            var values: [Bool] = []
            try forEachElement(&scanner, label: label) { (s) throws(RequestDecodeError) in
                guard let c = s.peek(), c == UInt8(ascii: "t") || c == UInt8(ascii: "f") else {
                    throw elementError(&s, datatype: datatype, label: label)
                }
                values.append(try s.readBool())
            }
            return .bool(values)
        case .uint8: return .uint8(try readIntegers(&scanner, datatype: datatype, label: label))
        case .uint16: return .uint16(try readIntegers(&scanner, datatype: datatype, label: label))
        case .uint32: return .uint32(try readIntegers(&scanner, datatype: datatype, label: label))
        case .uint64: return .uint64(try readIntegers(&scanner, datatype: datatype, label: label))
        case .int8: return .int8(try readIntegers(&scanner, datatype: datatype, label: label))
        case .int16: return .int16(try readIntegers(&scanner, datatype: datatype, label: label))
        case .int32: return .int32(try readIntegers(&scanner, datatype: datatype, label: label))
        case .int64: return .int64(try readIntegers(&scanner, datatype: datatype, label: label))
        case .fp32:
            var values: [Float] = []
            try forEachElement(&scanner, label: label) { (s) throws(RequestDecodeError) in
                guard let c = s.peek(), c == UInt8(ascii: "-") || JSONScanner.isDigit(c) else {
                    throw elementError(&s, datatype: datatype, label: label)
                }
                values.append(try s.float(s.readNumber()))
            }
            return .fp32(values)
        case .fp64:
            var values: [Double] = []
            try forEachElement(&scanner, label: label) { (s) throws(RequestDecodeError) in
                guard let c = s.peek(), c == UInt8(ascii: "-") || JSONScanner.isDigit(c) else {
                    throw elementError(&s, datatype: datatype, label: label)
                }
                values.append(try s.double(s.readNumber()))
            }
            return .fp64(values)
        case .bytes:
            var values: [[UInt8]] = []
            try forEachElement(&scanner, label: label) { (s) throws(RequestDecodeError) in
                guard s.peek() == UInt8(ascii: "\"") else { throw elementError(&s, datatype: datatype, label: label) }
                let token = try s.readString()
                var element: [UInt8] = []
                s.unescape(token, into: &element)
                values.append(element)
            }
            return .bytes(values)
        case .fp16, .bf16:
            throw RequestDecodeError(
                .invalidRequest, "\(label): \(datatype.rawValue) data must be sent as binary data (binary tensor extension)")
        }
    }

    private func readIntegers<T: FixedWidthInteger>(_ scanner: inout JSONScanner, datatype: TensorElementType, label: String) throws(RequestDecodeError) -> [T] {
        var values: [T] = []
        try forEachElement(&scanner, label: label) { (s) throws(RequestDecodeError) in
            guard let c = s.peek(), c == UInt8(ascii: "-") || JSONScanner.isDigit(c) else {
                throw elementError(&s, datatype: datatype, label: label)
            }
            let number = try s.readNumber()
            if let value = number.int64.flatMap({ T(exactly: $0) }) {
                values.append(value)
            } else if T.self == UInt64.self, number.isIntegerSyntax, let value = T(s.text(of: number)) {
                values.append(value)  // above Int64.max: only UINT64 can hold it
            } else {
                let problem = number.isIntegerSyntax ? "is out of range for" : "is not an integer, as required by"
                throw RequestDecodeError(
                    .invalidRequest, "\(label): value \(s.text(of: number)) \(problem) \(datatype.rawValue)", offset: number.start)
            }
        }
        return values
    }

    private func elementError(_ scanner: inout JSONScanner, datatype: TensorElementType, label: String) -> RequestDecodeError {
        RequestDecodeError(
            .invalidRequest, "\(label): expected \(datatype.rawValue) elements in \"data\", found \(scanner.describeValue()) at byte \(scanner.position)",
            offset: scanner.position)
    }

    /// Calls `element` for each scalar of a possibly nested array, in row-major order.
    private func forEachElement(
        _ scanner: inout JSONScanner, label: String, _ element: (inout JSONScanner) throws(RequestDecodeError) -> Void
    ) throws(RequestDecodeError) {
        guard scanner.peek() == UInt8(ascii: "[") else {
            throw RequestDecodeError(.invalidRequest, "\(label): \"data\" must be an array, found \(scanner.describeValue())", offset: scanner.position)
        }
        guard try scanner.beginArray() else { return }
        let nested = scanner.peek() == UInt8(ascii: "[")
        repeat {
            if (scanner.peek() == UInt8(ascii: "[")) != nested {
                throw RequestDecodeError(
                    .invalidRequest, "\(label): \"data\" mixes arrays and scalars at one level (byte \(scanner.position))", offset: scanner.position)
            }
            if nested {
                try forEachElement(&scanner, label: label, element)
            } else {
                try element(&scanner)
            }
        } while try scanner.nextElement()
    }

    // MARK: - Outputs and parameters

    private func readOutputs(_ scanner: inout JSONScanner) throws(RequestDecodeError) -> [InferRequestedOutput] {
        guard scanner.peek() == UInt8(ascii: "[") else {
            throw RequestDecodeError(.invalidRequest, "\"outputs\" must be an array, found \(scanner.describeValue())", offset: scanner.position)
        }
        var outputs: [InferRequestedOutput] = []
        guard try scanner.beginArray() else { return outputs }
        repeat {
            let index = outputs.count
            guard scanner.peek() == UInt8(ascii: "{") else {
                throw RequestDecodeError(.invalidRequest, "outputs[\(index)] must be an object, found \(scanner.describeValue())", offset: scanner.position)
            }
            var name: String?
            var output = InferRequestedOutput(name: "")
            var seen: Set<String> = []
            if try scanner.beginObject() {
                repeat {
                    let keyToken = try scanner.readKey()
                    let key = scanner.string(keyToken)
                    guard seen.insert(key).inserted else {
                        throw RequestDecodeError(.invalidRequest, "outputs[\(index)]: duplicate key \"\(key)\"", offset: keyToken.start - 1)
                    }
                    switch key {
                    case "name":
                        name = try readString(&scanner, context: "outputs[\(index)] \"name\"")
                    case "parameters":
                        output.parameters = try readParameters(&scanner, context: "outputs[\(index)]")
                        if let value = output.parameters.removeValue(forKey: "binary_data") {
                            guard let flag = value.boolValue else {
                                throw RequestDecodeError(.invalidRequest, "outputs[\(index)]: parameter \"binary_data\" must be a bool")
                            }
                            output.binaryData = flag
                        }
                        for unsupported in ["classification", "shared_memory_region"] where output.parameters[unsupported] != nil {
                            throw RequestDecodeError(.invalidRequest, "outputs[\(index)]: parameter \"\(unsupported)\" is not supported")
                        }
                    default:
                        throw RequestDecodeError(
                            .invalidRequest, "outputs[\(index)]: unknown key \"\(key)\" (expected name, parameters)", offset: keyToken.start - 1)
                    }
                } while try scanner.nextMember()
            }
            guard let name else { throw RequestDecodeError(.invalidRequest, "outputs[\(index)] has no \"name\"") }
            if outputs.contains(where: { $0.name == name }) {
                throw RequestDecodeError(.invalidRequest, "duplicate output \"\(name)\"")
            }
            output.name = name
            outputs.append(output)
        } while try scanner.nextElement()
        return outputs
    }

    private func readParameters(_ scanner: inout JSONScanner, context: String) throws(RequestDecodeError) -> [String: InferParameter] {
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(.invalidRequest, "\(context): \"parameters\" must be an object, found \(scanner.describeValue())", offset: scanner.position)
        }
        var parameters: [String: InferParameter] = [:]
        guard try scanner.beginObject() else { return parameters }
        repeat {
            let keyToken = try scanner.readKey()
            let key = scanner.string(keyToken)
            guard parameters[key] == nil else {
                throw RequestDecodeError(.invalidRequest, "\(context): duplicate parameter \"\(key)\"", offset: keyToken.start - 1)
            }
            switch scanner.peek() ?? 0 {
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                parameters[key] = .bool(try scanner.readBool())
            case UInt8(ascii: "\""):
                parameters[key] = .string(scanner.string(try scanner.readString()))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let number = try scanner.readNumber()
                if let value = number.int64 {
                    parameters[key] = .int(value)
                } else {
                    parameters[key] = .double(try scanner.double(number))
                }
            default:
                throw RequestDecodeError(
                    .invalidRequest, "\(context): parameter \"\(key)\" must be a bool, number or string, found \(scanner.describeValue())",
                    offset: scanner.position)
            }
        } while try scanner.nextMember()
        return parameters
    }

    private func readString(_ scanner: inout JSONScanner, context: String) throws(RequestDecodeError) -> String {
        guard scanner.peek() == UInt8(ascii: "\"") else {
            throw RequestDecodeError(.invalidRequest, "\(context) must be a string, found \(scanner.describeValue())", offset: scanner.position)
        }
        return scanner.string(try scanner.readString())
    }

    static func describe(_ shape: [Int64]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }
}
