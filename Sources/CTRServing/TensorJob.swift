/// One request to a plain ONNX model on its way through the queue: its input tensors as bytes, and whom to tell.
///
/// Owns one buffer per input (`bytes`, little-endian elements, filled by the creator before `submit`), freed in
/// `deinit`; after `submit` only the inference thread touches them until `completion` runs (the queue's lock
/// orders the hand-over), hence `@unchecked Sendable`. `rows` is the batch dimension when the model batches
/// (every input's first dimension), 1 otherwise.
public final class TensorJob: QueuedJob, @unchecked Sendable {
    /// One input tensor in the model's input order.
    public struct Input: @unchecked Sendable {
        public let shape: [Int64]
        public let bytes: UnsafeMutableRawBufferPointer
    }

    /// One model output of this job's rows; `bytes` is valid only during the completion call.
    public struct Output {
        public let name: String
        public let elementType: TensorElementType
        public let shape: [Int64]
        public let bytes: UnsafeRawBufferPointer
    }

    /// What a job ends with: every model output, in the model's order.
    public enum Outcome {
        case success([Output])
        case failure(ServingError)
    }

    public let rows: Int
    public let inputs: [Input]
    /// Monotonic ns after which the job is dropped unrun; 0 = no deadline.
    public let deadline: UInt64
    var enqueuedAt: UInt64 = 0
    let completion: @Sendable (Outcome) -> Void
    private let storage: [UnsafeMutableRawPointer]

    /// Allocates an input buffer of each shape and element size (model order); `completion` runs exactly once.
    public init(rows: Int, shapes: [[Int64]], elementSizes: [Int], deadline: UInt64 = 0, completion: @escaping @Sendable (Outcome) -> Void) {
        precondition(rows > 0 && shapes.count == elementSizes.count, "a job needs rows and one element size per input")
        self.rows = rows
        self.deadline = deadline
        self.completion = completion
        var storage: [UnsafeMutableRawPointer] = []
        var inputs: [Input] = []
        for (shape, size) in zip(shapes, elementSizes) {
            let count = shape.reduce(1) { $0 * Int($1) } * size
            // Never zero bytes: ONNX Runtime wants a real address even for an empty tensor.
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
            storage.append(pointer)
            inputs.append(Input(shape: shape, bytes: UnsafeMutableRawBufferPointer(start: pointer, count: count)))
        }
        self.storage = storage
        self.inputs = inputs
    }

    deinit {
        for pointer in storage { pointer.deallocate() }
    }

    /// The dimensions after the first of every input: requests merge into one run only when these agree.
    var innerShapes: [ArraySlice<Int64>] { inputs.map { $0.shape.dropFirst() } }
}
