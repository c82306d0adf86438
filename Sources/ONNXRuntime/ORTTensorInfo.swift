/// A model input or output as the session reports it: name, element type and shape.
public struct ORTTensorInfo: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let elementType: ORTElementType
    /// Dimensions; -1 marks a dynamic dimension.
    public let shape: [Int64]
    /// Names of dynamic dimensions ("batch"), "" where a dimension has no name.
    public let symbolicShape: [String]

    /// Creates a description of a tensor.
    public init(name: String, elementType: ORTElementType, shape: [Int64], symbolicShape: [String]) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.symbolicShape = symbolicShape
    }

    public var description: String {
        let dims = zip(shape, symbolicShape).map { dim, symbol in dim >= 0 ? String(dim) : (symbol.isEmpty ? "?" : symbol) }
        return "\(name): \(elementType) [\(dims.joined(separator: ", "))]"
    }
}

/// A model's metadata: producer, graph name, version and custom key/value pairs.
public struct ORTModelMetadata: Sendable, Equatable {
    public let producerName: String
    public let graphName: String
    public let domain: String
    public let description: String
    public let version: Int64
    public let custom: [String: String]
}
