import ONNXRuntime

/// One request on its way through a model's queue: its input tensors as bytes, and whom to tell.
///
/// Every model takes these: a plain ONNX model's v2 tensors are copied in as they came, a CTR bundle's raw
/// rows are encoded into them by its ``FeatureEncodingStage``. Owns one buffer per input (`bytes`,
/// little-endian elements, 64-byte aligned, filled by the creator before `submit`), freed in `deinit`; after
/// `submit` only the inference thread touches them until `completion` runs (the queue's lock orders the
/// hand-over), hence `@unchecked Sendable`. `rows` is the batch dimension when the model batches (every
/// input's first dimension), 1 otherwise.
public final class InferenceJob: QueuedJob, @unchecked Sendable {
    /// One input tensor in the model's input order.
    public struct Input: @unchecked Sendable {
        public let shape: [Int64]
        public let bytes: UnsafeMutableRawBufferPointer

        /// The whole tensor as ONNX Runtime reads it.
        func view(_ type: TensorElementType) -> ORTTensorView {
            ORTTensorView(data: bytes.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!, byteCount: bytes.count,
                          elementType: type.ort, shape: ORTShape(shape))
        }

        /// Rows `range` of a tensor of `rows` rows (row-major: a row is `bytes / rows` bytes).
        func view(_ type: TensorElementType, rows: Int, range: Range<Int>) -> ORTTensorView {
            guard range != 0..<rows else { return view(type) }
            let rowBytes = rows > 0 ? bytes.count / rows : 0
            var sliced = shape
            if !sliced.isEmpty { sliced[0] = Int64(range.count) }
            return ORTTensorView(data: bytes.baseAddress.map { $0 + range.lowerBound * rowBytes } ?? UnsafeMutableRawPointer(bitPattern: 64)!,
                                 byteCount: range.count * rowBytes, elementType: type.ort, shape: ORTShape(sliced))
        }

        /// The buffer as elements of `type` (the input's element type; its storage is aligned for any).
        public func elements<T>(_ type: T.Type) -> UnsafeMutableBufferPointer<T> {
            UnsafeMutableBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: T.self), count: bytes.count / MemoryLayout<T>.stride)
        }
    }

    /// One model output of this job's rows; `bytes` is valid only during the completion call.
    public struct Output {
        public let name: String
        public let elementType: TensorElementType
        /// The first dimension (this job's rows when the model batches; nil for a scalar) and the ones after it.
        public let firstDimension: Int64?
        public let innerShape: [Int64]
        public let bytes: UnsafeRawBufferPointer

        /// The output's dimensions.
        public var shape: [Int64] { firstDimension.map { [$0] + innerShape } ?? innerShape }

        /// The bytes as FP32 elements (a CTR model's probabilities); only for an FP32 output.
        public var floats: UnsafeBufferPointer<Float> {
            UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: Float.self), count: bytes.count / MemoryLayout<Float>.stride)
        }
    }

    /// Every model output of this job's rows, in the model's order: a view of the run's outputs, so handing
    /// them to a job allocates nothing (the serving path's malloc count is a measured cost).
    public struct Outputs: RandomAccessCollection {
        /// One run output over all its rows.
        struct Run {
            let bytes: UnsafeRawBufferPointer
            let firstDimension: Int64?
            let innerShape: [Int64]
        }

        let runs: [Run]
        let descriptions: [TensorDescription]
        /// This job's rows within the run, when the run merged several jobs (nil: the whole output is the job's).
        let slice: (first: Int, rows: Int, total: Int)?

        public var startIndex: Int { 0 }
        public var endIndex: Int { runs.count }

        public subscript(position: Int) -> Output {
            let run = runs[position], description = descriptions[position]
            guard let slice else {
                return Output(name: description.name, elementType: description.elementType, firstDimension: run.firstDimension,
                              innerShape: run.innerShape, bytes: run.bytes)
            }
            let rowBytes = slice.total > 0 ? run.bytes.count / slice.total : 0
            return Output(name: description.name, elementType: description.elementType, firstDimension: Int64(slice.rows),
                          innerShape: run.innerShape,
                          bytes: UnsafeRawBufferPointer(rebasing: run.bytes[(slice.first * rowBytes)..<((slice.first + slice.rows) * rowBytes)]))
        }
    }

    /// What a job ends with: every model output, in the model's order.
    public enum Outcome {
        case success(Outputs)
        case failure(ServingError)
    }

    public let rows: Int
    public let inputs: [Input]
    /// Monotonic ns after which the job is dropped unrun; 0 = no deadline.
    public let deadline: UInt64
    var enqueuedAt: UInt64 = 0
    let completion: @Sendable (Outcome) -> Void
    private let storage: UnsafeMutableRawPointer

    /// Allocates an input buffer of each shape and element size (model order); `completion` runs exactly once,
    /// on an inference thread.
    public init(rows: Int, shapes: [[Int64]], elementSizes: [Int], deadline: UInt64 = 0, completion: @escaping @Sendable (Outcome) -> Void) {
        precondition(rows > 0 && shapes.count == elementSizes.count, "a job needs rows and one element size per input")
        self.rows = rows
        self.deadline = deadline
        self.completion = completion
        // One allocation for every input (a request's malloc count is a measured cost), each part 64-byte aligned.
        var total = 0
        for (shape, size) in zip(shapes, elementSizes) { total += (shape.reduce(1) { $0 * Int($1) } * size + 63) & ~63 }
        // Never zero bytes: ONNX Runtime wants a real address even for an empty tensor.
        let storage = UnsafeMutableRawPointer.allocate(byteCount: total + 64, alignment: 64)
        self.storage = storage
        var inputs: [Input] = []
        inputs.reserveCapacity(shapes.count)
        var offset = 0
        for (shape, size) in zip(shapes, elementSizes) {
            let count = shape.reduce(1) { $0 * Int($1) } * size
            inputs.append(Input(shape: shape, bytes: UnsafeMutableRawBufferPointer(start: storage + offset, count: count)))
            offset += (count + 63) & ~63
        }
        self.inputs = inputs
    }

    deinit { storage.deallocate() }

    /// The dimensions after the first of every input: requests merge into one run only when these agree.
    var innerShapes: [ArraySlice<Int64>] { inputs.map { $0.shape.dropFirst() } }
}
