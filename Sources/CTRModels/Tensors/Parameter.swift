/// A dense trainable tensor with its gradient and Adam moments.
///
/// Gradients accumulate (`+=`) during a backward pass; the model zeroes them before each pass.
public final class Parameter {
    /// Stable name, reused for the ONNX initializer.
    public let name: String
    /// Logical shape, row-major.
    public let shape: [Int]
    /// Current values.
    public let value: FloatBuffer
    /// Gradient of the loss with respect to `value`.
    public let gradient: FloatBuffer
    /// Adam first moment.
    let firstMoment: FloatBuffer
    /// Adam second moment.
    let secondMoment: FloatBuffer
    /// Whether FuxiCTR counts it as part of the embedding module (numeric-field embeddings): its L2 term is the
    /// embedding regularizer's, not the network's.
    public let isEmbedding: Bool

    /// Creates a zero-valued parameter of `shape`.
    public init(name: String, shape: [Int], isEmbedding: Bool = false) {
        self.name = name
        self.shape = shape
        self.isEmbedding = isEmbedding
        let count = shape.reduce(1, *)
        value = FloatBuffer(count: count)
        gradient = FloatBuffer(count: count)
        firstMoment = FloatBuffer(count: count)
        secondMoment = FloatBuffer(count: count)
    }

    /// Number of scalars.
    public var count: Int { value.count }

    /// Fills the values from a normal distribution with standard deviation `std`.
    public func fillNormal(std: Double, using generator: inout SeededGenerator) {
        for i in 0..<count { value[i] = Float(generator.nextNormal() * std) }
    }

    /// Xavier/Glorot normal initialisation, as FuxiCTR applies to every `nn.Linear`.
    public func fillXavierNormal(fanIn: Int, fanOut: Int, using generator: inout SeededGenerator) {
        fillNormal(std: (2.0 / Double(fanIn + fanOut)).squareRoot(), using: &generator)
    }
}
