import ProtobufWire

/// An `.onnx` file read just far enough to find its initializers: `ModelProto.graph.initializer`, nothing else.
///
/// The file is memory-mapped, so finding a 2 GB embedding table reads only the protobuf keys around it; the tensor
/// bytes are touched when `contents(of:)` or `ORTSharedInitializers` copies or maps them. External data files
/// (`data_location: EXTERNAL`) are resolved relative to the model's directory, as ONNX Runtime does. Immutable after
/// init and thread-safe; the mapping is released with the object.
public final class ONNXModelFile: Sendable {
    public let path: String
    /// The main graph's initializers in file order.
    public let initializers: [ONNXInitializer]
    let file: MappedFile

    /// Maps `path` and lists its initializers; a malformed file is an error naming the byte offset.
    public init(path: String) throws(ORTError) {
        self.path = path
        file = try MappedFile(path: path)
        do {
            initializers = try Self.readInitializers(file.bytes)
        } catch {
            throw ORTError(.modelFormat, "\(path) is not a valid ONNX model: \(error.reason) at byte \(error.offset)")
        }
    }

    /// The directory external data locations are relative to.
    public var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// The full path of an external data `location`.
    public func externalPath(_ location: String) -> String {
        location.hasPrefix("/") ? location : directory + "/" + location
    }

    /// A copy of the initializer's element bytes, wherever they are stored (for tools and tests).
    public func contents(of initializer: ONNXInitializer) throws(ORTError) -> [UInt8] {
        switch initializer.storage {
        case let .inline(offset, length):
            return Array(UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + length)]))
        case let .int64Values(values):
            return values.withUnsafeBytes { Array($0) }
        case let .int32Values(values):
            return values.withUnsafeBytes { Array($0) }
        case let .external(location, offset, length):
            let external = try MappedFile(path: externalPath(location))
            try Self.checkExternal(initializer, location: location, offset: offset, length: length, fileSize: external.count)
            return Array(UnsafeRawBufferPointer(rebasing: external.bytes[offset..<(offset + length)]))
        case let .unsupported(reason):
            throw ORTError(.modelFormat, "\(path): initializer \"\(initializer.name)\" is stored as \(reason), which this reader does not decode")
        }
    }

    /// An external range must lie inside its file and hold exactly the tensor's bytes.
    static func checkExternal(_ initializer: ONNXInitializer, location: String, offset: Int, length: Int, fileSize: Int) throws(ORTError) {
        guard offset >= 0, length >= 0, offset <= fileSize, length <= fileSize - offset else {
            throw ORTError(.modelFormat, "initializer \"\(initializer.name)\": external data \(location) offset \(offset) length \(length) runs past the file's \(fileSize) bytes")
        }
        if let expected = initializer.byteCount, expected != length {
            throw ORTError(.modelFormat, "initializer \"\(initializer.name)\" \(initializer.elementType) \(initializer.dimensions) needs \(expected) bytes, its external data \(location) holds \(length)")
        }
    }

    // MARK: Parsing

    // ModelProto.graph = 7; GraphProto.initializer = 5.
    private static func readInitializers(_ bytes: UnsafeRawBufferPointer) throws(ProtobufReader.Failure) -> [ONNXInitializer] {
        var model = ProtobufReader(bytes, range: 0..<bytes.count)
        var result: [ONNXInitializer] = []
        while let field = try model.nextField() {
            guard field.number == 7, field.type == .lengthDelimited else {
                try model.skip(field.type)
                continue
            }
            var graph = ProtobufReader(bytes, range: try model.lengthDelimited())
            while let graphField = try graph.nextField() {
                guard graphField.number == 5, graphField.type == .lengthDelimited else {
                    try graph.skip(graphField.type)
                    continue
                }
                result.append(try readTensor(bytes, range: try graph.lengthDelimited(), index: result.count))
            }
        }
        return result
    }

    // TensorProto: dims 1, data_type 2, segment 3, float_data 4, int32_data 5, string_data 6, int64_data 7, name 8,
    // raw_data 9, double_data 10, uint64_data 11, external_data 13 (key 1, value 2), data_location 14 (1 = EXTERNAL).
    private static func readTensor(_ bytes: UnsafeRawBufferPointer, range: Range<Int>, index: Int) throws(ProtobufReader.Failure) -> ONNXInitializer {
        var tensor = ProtobufReader(bytes, range: range)
        var dimensions: [Int64] = []
        var dataType: Int64 = 0
        var name = ""
        var raw: Range<Int>?
        var packedFixed: Range<Int>?
        var int64s: [Int64] = []
        var int32s: [Int64] = []
        var external: [String: String] = [:]
        var externalLocation = false
        var unsupported: String?
        while let field = try tensor.nextField() {
            switch (field.number, field.type) {
            case (1, _): try tensor.varints(field.type, into: &dimensions)
            case (2, .varint): dataType = Int64(bitPattern: try tensor.varint())
            case (3, _): unsupported = "segments"; try tensor.skip(field.type)
            case (4, .lengthDelimited), (10, .lengthDelimited): packedFixed = try tensor.lengthDelimited()
            case (4, _), (10, _): unsupported = "unpacked float_data/double_data"; try tensor.skip(field.type)
            case (5, _): try tensor.varints(field.type, into: &int32s)
            case (6, _): unsupported = "string_data"; try tensor.skip(field.type)
            case (7, _): try tensor.varints(field.type, into: &int64s)
            case (8, .lengthDelimited): name = try tensor.string()
            case (9, .lengthDelimited): raw = try tensor.lengthDelimited()
            case (11, _): unsupported = "uint64_data"; try tensor.skip(field.type)
            case (13, .lengthDelimited):
                var entry = ProtobufReader(bytes, range: try tensor.lengthDelimited())
                var key = "", value = ""
                while let entryField = try entry.nextField() {
                    switch (entryField.number, entryField.type) {
                    case (1, .lengthDelimited): key = try entry.string()
                    case (2, .lengthDelimited): value = try entry.string()
                    default: try entry.skip(entryField.type)
                    }
                }
                external[key] = value
            case (14, .varint): externalLocation = try tensor.varint() == 1
            default: try tensor.skip(field.type)
            }
        }
        let elementType = ORTElementType(rawValue: Int32(truncatingIfNeeded: dataType)) ?? .undefined
        let storage: ONNXInitializer.Storage
        if let unsupported {
            storage = .unsupported(unsupported)
        } else if externalLocation {
            guard let location = external["location"], !location.isEmpty else {
                throw ProtobufReader.Failure(offset: range.lowerBound, reason: "initializer #\(index) \"\(name)\" has external data without a location")
            }
            guard let offset = Int(external["offset"] ?? "0"), offset >= 0 else {
                throw ProtobufReader.Failure(offset: range.lowerBound, reason: "initializer \"\(name)\": external offset \"\(external["offset"] ?? "")\" is not a number")
            }
            let size = elementType.byteSize.map { $0 * dimensions.reduce(1) { $0 * Int($1) } } ?? -1
            guard let length = external["length"].map({ Int($0) }) ?? size, length >= 0 else {
                throw ProtobufReader.Failure(offset: range.lowerBound, reason: "initializer \"\(name)\": external length \"\(external["length"] ?? "")\" is not a number")
            }
            storage = .external(location: location, offset: offset, length: length)
        } else if let raw {
            storage = .inline(offset: raw.lowerBound, length: raw.count)
        } else if let packedFixed {
            storage = .inline(offset: packedFixed.lowerBound, length: packedFixed.count)
        } else if elementType == .int64 {
            storage = .int64Values(int64s)
        } else if elementType == .int32 {
            storage = .int32Values(int32s.map { Int32(truncatingIfNeeded: $0) })
        } else if !int32s.isEmpty {
            storage = .unsupported("int32_data of a \(elementType) tensor")
        } else {
            storage = .inline(offset: range.lowerBound, length: 0)
        }
        return ONNXInitializer(name: name, elementType: elementType, dimensions: dimensions, storage: storage)
    }
}
