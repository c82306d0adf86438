import CTRServing
/// A Swift element type that can be an output tensor of a v2 response, as JSON or binary data.
public protocol InferElement: BitwiseCopyable {
    /// The wire datatype of this element type.
    static var inferDatatype: TensorElementType { get }
    /// Appends this value as a JSON scalar.
    func appendJSON(to output: inout [UInt8])
}

extension Float: InferElement {
    /// FP32.
    public static var inferDatatype: TensorElementType { .fp32 }
    /// Shortest round-trip text; non-finite as null.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendFloat(self, to: &output) }
}

extension Double: InferElement {
    /// FP64.
    public static var inferDatatype: TensorElementType { .fp64 }
    /// Shortest round-trip text; non-finite as null.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendDouble(self, to: &output) }
}

extension Bool: InferElement {
    /// BOOL.
    public static var inferDatatype: TensorElementType { .bool }
    /// `true` or `false`.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendBool(self, to: &output) }
}

extension Int8: InferElement {
    /// INT8.
    public static var inferDatatype: TensorElementType { .int8 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension Int16: InferElement {
    /// INT16.
    public static var inferDatatype: TensorElementType { .int16 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension Int32: InferElement {
    /// INT32.
    public static var inferDatatype: TensorElementType { .int32 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension Int64: InferElement {
    /// INT64.
    public static var inferDatatype: TensorElementType { .int64 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension UInt8: InferElement {
    /// UINT8.
    public static var inferDatatype: TensorElementType { .uint8 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension UInt16: InferElement {
    /// UINT16.
    public static var inferDatatype: TensorElementType { .uint16 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension UInt32: InferElement {
    /// UINT32.
    public static var inferDatatype: TensorElementType { .uint32 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}

extension UInt64: InferElement {
    /// UINT64.
    public static var inferDatatype: TensorElementType { .uint64 }
    /// Decimal text.
    @inline(__always) public func appendJSON(to output: inout [UInt8]) { JSONWriter.appendInteger(self, to: &output) }
}
