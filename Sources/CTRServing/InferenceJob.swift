/// The rows of one request on their way through the queue: encoded inputs, room for the outputs, and whom to tell.
///
/// Owns one buffer holding its categorical ids (`rows × sparseWidth` Int64), numeric values (`rows × denseWidth`
/// Float), sequence ids (`rows × sequenceWidth` Int64) and outputs (`rows` Float),
/// freed in `deinit`. The creator fills the inputs before `submit`; after that only the inference thread touches
/// the buffer until `completion` runs (the queue's lock orders the hand-over), hence `@unchecked Sendable`.
public final class InferenceJob: QueuedJob, @unchecked Sendable {
    /// What a job ends with; the output buffer is valid only during the completion call.
    public enum Outcome {
        case success(UnsafeBufferPointer<Float>)
        case failure(ServingError)
    }

    public let rows: Int
    public let sparseWidth: Int
    public let denseWidth: Int
    public let sequenceWidth: Int
    public let ids: UnsafeMutableBufferPointer<Int64>
    public let dense: UnsafeMutableBufferPointer<Float>
    public let sequences: UnsafeMutableBufferPointer<Int64>
    let output: UnsafeMutableBufferPointer<Float>
    /// When the job entered the queue (monotonic ns).
    var enqueuedAt: UInt64 = 0
    /// Monotonic ns after which the job is dropped unrun; 0 = no deadline.
    public let deadline: UInt64
    let completion: @Sendable (Outcome) -> Void
    private let storage: UnsafeMutableRawPointer

    /// Allocates room for `rows` rows; `completion` runs exactly once, on an inference thread.
    public init(rows: Int, sparseWidth: Int, denseWidth: Int, sequenceWidth: Int = 0, deadline: UInt64 = 0,
                completion: @escaping @Sendable (Outcome) -> Void) {
        precondition(rows > 0, "a job needs at least one row")
        self.rows = rows
        self.sparseWidth = sparseWidth
        self.denseWidth = denseWidth
        self.sequenceWidth = sequenceWidth
        self.deadline = deadline
        self.completion = completion
        // Int64 parts first, so every part stays aligned to its element.
        let idBytes = rows * sparseWidth * MemoryLayout<Int64>.stride
        let sequenceBytes = rows * sequenceWidth * MemoryLayout<Int64>.stride
        let denseBytes = rows * denseWidth * MemoryLayout<Float>.stride
        storage = .allocate(byteCount: idBytes + sequenceBytes + denseBytes + rows * MemoryLayout<Float>.stride, alignment: 64)
        ids = UnsafeMutableBufferPointer(start: storage.bindMemory(to: Int64.self, capacity: rows * sparseWidth), count: rows * sparseWidth)
        sequences = UnsafeMutableBufferPointer(start: (storage + idBytes).bindMemory(to: Int64.self, capacity: rows * sequenceWidth),
                                               count: rows * sequenceWidth)
        dense = UnsafeMutableBufferPointer(start: (storage + idBytes + sequenceBytes).bindMemory(to: Float.self, capacity: rows * denseWidth),
                                           count: rows * denseWidth)
        output = UnsafeMutableBufferPointer(start: (storage + idBytes + sequenceBytes + denseBytes).bindMemory(to: Float.self, capacity: rows),
                                            count: rows)
    }

    deinit { storage.deallocate() }
}
