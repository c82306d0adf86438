import CTRServing
/// One input of a v2 infer request: name, datatype, shape and its data.
public struct InferInputTensor: Sendable, Equatable {
    /// The input's name, as the model metadata lists it.
    public var name: String
    /// The element type.
    public var datatype: TensorElementType
    /// The dimensions, each non-negative; the element count is their product.
    public var shape: [Int64]
    /// The input's parameters other than `binary_data_size` (which shaped `data`).
    public var parameters: [String: InferParameter]
    /// The elements: a typed array from JSON or a byte range of the body (binary extension).
    public var data: InferTensorData

    /// Creates an input.
    public init(name: String, datatype: TensorElementType, shape: [Int64], parameters: [String: InferParameter] = [:], data: InferTensorData) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.parameters = parameters
        self.data = data
    }

    /// The number of elements the shape describes.
    public var elementCount: Int { shape.reduce(1) { $0 * Int($1) } }
}
