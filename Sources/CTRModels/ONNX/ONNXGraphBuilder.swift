/// Collects nodes, initializers and graph inputs/outputs, then encodes an ONNX `GraphProto`.
///
/// Node outputs get unique names from `fresh(_:)`; models describe their inference pass with
/// `node(...)` and `initializer(...)` and never touch protobuf directly.
public struct ONNXGraphBuilder: Sendable {
    /// ONNX element types used here (`TensorProto.DataType`).
    public enum ElementType: Int64, Sendable {
        /// float32.
        case float = 1
        /// int64.
        case int64 = 7
    }

    /// A tensor dimension: fixed or named (symbolic, e.g. the batch).
    public enum Dimension: Sendable {
        /// A fixed size.
        case fixed(Int)
        /// A named, free size.
        case symbolic(String)
    }

    private struct ValueInfo: Sendable {
        var name: String
        var type: ElementType
        var dimensions: [Dimension]
    }

    private struct Node: Sendable {
        var op: String
        var name: String
        var inputs: [String]
        var outputs: [String]
        var attributes: [ONNXAttribute]
    }

    private struct Initializer: Sendable {
        var name: String
        var type: ElementType
        var dimensions: [Int]
        var raw: [UInt8]
    }

    /// Name of the int64 [batch, sparseFields] input the layers being exported read.
    public internal(set) var sparseInput: String
    /// Name of the float [batch, denseFields] input the layers being exported read.
    public internal(set) var denseInput: String
    /// Name of the int64 [batch, totalSequenceLength] input (declared only for shapes with sequence fields).
    public internal(set) var sequenceInput: String
    /// Which inputs the layers read now: a ranking graph exports each layer once for the context inputs and
    /// once for the candidates', and nodes derived from an input are shared only within one side.
    var side = ""
    /// Name of the float [batch, 1] output.
    public let outputName: String

    private var inputs: [ValueInfo] = []
    private var outputs: [ValueInfo] = []
    private var nodes: [Node] = []
    private var initializers: [Initializer] = []
    private var usedNames: Set<String> = []
    private var counter = 0
    private var shared: [String: String] = [:]

    /// Starts a graph with the given tensor names.
    public init(sparseInput: String = "sparse_ids", denseInput: String = "dense", sequenceInput: String = "sequence_ids",
                outputName: String = "probability") {
        self.sparseInput = sparseInput
        self.denseInput = denseInput
        self.sequenceInput = sequenceInput
        self.outputName = outputName
        usedNames = [sparseInput, denseInput, sequenceInput, outputName]
    }

    /// A name not used before, derived from `prefix`.
    public mutating func fresh(_ prefix: String) -> String {
        counter += 1
        var name = "\(prefix)_\(counter)"
        while usedNames.contains(name) {
            counter += 1
            name = "\(prefix)_\(counter)"
        }
        usedNames.insert(name)
        return name
    }

    /// The output built once per graph under `key`: the first call runs `make`, later calls reuse its result.
    ///
    /// Layers that need the same derived tensor (e.g. the dense bucket rows) share one set of nodes.
    public mutating func shared(_ key: String, _ make: (inout ONNXGraphBuilder) -> String) -> String {
        let key = side + "/" + key
        if let name = shared[key] { return name }
        let name = make(&self)
        shared[key] = name
        return name
    }

    /// A weight added once per graph whichever side asks for it (a ranking graph's two sides read one table).
    mutating func sharedWeight(_ name: String, dimensions: [Int], values: UnsafeBufferPointer<Float>) -> String {
        let key = "weight:" + name
        if let existing = shared[key] { return existing }
        let unique = initializer(name, dimensions: dimensions, values: values)
        shared[key] = unique
        return unique
    }

    /// Points the layers at `inputs` (names) under `side` until the next call; returns the previous setting.
    @discardableResult
    mutating func read(sparse: String, dense: String, sequence: String, side: String) -> (sparse: String, dense: String, sequence: String, side: String) {
        let previous = (sparseInput, denseInput, sequenceInput, self.side)
        sparseInput = sparse
        denseInput = dense
        sequenceInput = sequence
        self.side = side
        return previous
    }

    /// Declares a graph input.
    public mutating func addInput(_ name: String, _ type: ElementType, _ dimensions: [Dimension]) {
        inputs.append(ValueInfo(name: name, type: type, dimensions: dimensions))
    }

    /// Declares a graph output.
    public mutating func addOutput(_ name: String, _ type: ElementType, _ dimensions: [Dimension]) {
        outputs.append(ValueInfo(name: name, type: type, dimensions: dimensions))
    }

    /// Adds a node; returns the name of its single output (`output` if given, else a fresh one).
    @discardableResult
    public mutating func node(
        _ op: String, _ inputs: [String], attributes: [ONNXAttribute] = [], output: String? = nil
    ) -> String {
        let result = output ?? fresh(op.lowercased())
        nodes.append(Node(op: op, name: "\(op)_\(nodes.count)", inputs: inputs, outputs: [result], attributes: attributes))
        return result
    }

    /// Adds a float initializer named `name` (made unique if taken); returns its name.
    @discardableResult
    public mutating func initializer(_ name: String, dimensions: [Int], values: UnsafeBufferPointer<Float>) -> String {
        precondition(dimensions.reduce(1, *) == values.count, "initializer \(name): shape does not match data")
        let unique = usedNames.contains(name) ? fresh(name) : name
        usedNames.insert(unique)
        var raw = [UInt8]()
        raw.reserveCapacity(values.count * 4)
        for value in values {
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { raw.append(contentsOf: $0) }
        }
        initializers.append(Initializer(name: unique, type: .float, dimensions: dimensions, raw: raw))
        return unique
    }

    /// Adds a float initializer from an array.
    @discardableResult
    public mutating func initializer(_ name: String, dimensions: [Int], values: [Float]) -> String {
        values.withUnsafeBufferPointer { initializer(name, dimensions: dimensions, values: $0) }
    }

    /// Adds an int64 initializer (shapes, axes); returns its name.
    @discardableResult
    public mutating func constant(_ name: String, int64s values: [Int64]) -> String {
        let unique = usedNames.contains(name) ? fresh(name) : name
        usedNames.insert(unique)
        var raw = [UInt8]()
        for value in values {
            var bits = value.littleEndian
            withUnsafeBytes(of: &bits) { raw.append(contentsOf: $0) }
        }
        initializers.append(Initializer(name: unique, type: .int64, dimensions: [values.count], raw: raw))
        return unique
    }

    /// Adds a scalar float constant; returns its name.
    @discardableResult
    public mutating func constant(_ name: String, float value: Float) -> String {
        let unique = usedNames.contains(name) ? fresh(name) : name
        usedNames.insert(unique)
        var bits = value.bitPattern.littleEndian
        let raw = withUnsafeBytes(of: &bits) { Array($0) }
        initializers.append(Initializer(name: unique, type: .float, dimensions: [], raw: raw))
        return unique
    }

    /// Bytes of all initializers' data.
    public var initializerByteCount: Int { initializers.reduce(0) { $0 + $1.raw.count } }

    /// Encodes the `GraphProto` with every initializer inline.
    public func encode(name: String, into writer: inout ProtobufWriter) {
        var none: ONNXExternalData?
        encode(name: name, into: &writer, externalData: &none)
    }

    /// Encodes the `GraphProto` (node = 1, name = 2, initializer = 5, input = 11, output = 12); with `externalData`,
    /// initializers of at least its minimum size go there instead of `raw_data`.
    public func encode(name: String, into writer: inout ProtobufWriter, externalData: inout ONNXExternalData?) {
        for node in nodes {
            writer.message(1) { w in
                for input in node.inputs { w.string(1, input) }
                for output in node.outputs { w.string(2, output) }
                w.string(3, node.name)
                w.string(4, node.op)
                for attribute in node.attributes { w.message(5) { attribute.encode(into: &$0) } }
            }
        }
        writer.string(2, name)
        for initializer in initializers {
            // TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9, external_data = 13 (key = 1, value = 2),
            // data_location = 14 (EXTERNAL = 1).
            var location: (offset: Int, length: Int)?
            if externalData != nil, initializer.raw.count >= externalData!.minimumTensorBytes {
                location = externalData!.append(initializer.raw)
            }
            let file = externalData?.location ?? ""
            writer.message(5) { w in
                for dimension in initializer.dimensions { w.int(1, Int64(dimension)) }
                w.int(2, initializer.type.rawValue)
                w.string(8, initializer.name)
                if let location {
                    for (key, value) in [("location", file), ("offset", String(location.offset)), ("length", String(location.length))] {
                        w.message(13) { entry in
                            entry.string(1, key)
                            entry.string(2, value)
                        }
                    }
                    w.int(14, 1)
                } else {
                    w.data(9, initializer.raw)
                }
            }
        }
        for input in inputs { writer.message(11) { Self.encode(input, into: &$0) } }
        for output in outputs { writer.message(12) { Self.encode(output, into: &$0) } }
    }

    /// ValueInfoProto (name = 1, type = 2) → TypeProto.tensor_type (1) → elem_type (1), shape (2) → dim (1).
    private static func encode(_ info: ValueInfo, into writer: inout ProtobufWriter) {
        writer.string(1, info.name)
        writer.message(2) { type in
            type.message(1) { tensor in
                tensor.int(1, info.type.rawValue)
                tensor.message(2) { shape in
                    for dimension in info.dimensions {
                        shape.message(1) { dim in
                            switch dimension {
                            case let .fixed(size): dim.int(1, Int64(size))
                            case let .symbolic(name): dim.string(2, name)
                            }
                        }
                    }
                }
            }
        }
    }
}
