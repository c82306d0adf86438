/// One batch's input tensors, borrowed for a forward or backward pass: ids, dense values and sequence ids.
///
/// Plain pointers, so a training step hands over three words and allocates nothing. The caller keeps the
/// memory alive and unchanged from a `forward` to its `backward`. All tensors are row-major.
public struct ModelInputs {
    /// Global ids, [batch, sparseFields].
    public var ids: UnsafePointer<Int64>
    /// Dense values, [batch, denseFields].
    public var dense: UnsafePointer<Float>
    /// Sequence ids, [batch, totalSequenceLength]; may point at one dummy element when the shape has no sequence fields.
    public var sequences: UnsafePointer<Int64>

    /// Wraps the three tensors.
    public init(ids: UnsafePointer<Int64>, dense: UnsafePointer<Float>, sequences: UnsafePointer<Int64>) {
        self.ids = ids
        self.dense = dense
        self.sequences = sequences
    }

    /// The same tensors from row `rows` on, for rows laid out as `shape` says.
    public func advanced(by rows: Int, shape: ModelShape) -> ModelInputs {
        ModelInputs(ids: ids + rows * shape.sparseFields, dense: dense + rows * shape.denseFields,
                    sequences: sequences + rows * shape.totalSequenceLength)
    }

    /// Calls `body` with inputs pointing into the arrays; an empty array becomes a one-element dummy.
    public static func withArrays<Result>(
        ids: [Int64], dense: [Float], sequences: [Int64] = [], _ body: (ModelInputs) throws -> Result
    ) rethrows -> Result {
        // Empty arrays may have no storage; a model never reads a tensor of zero columns, but needs a valid pointer.
        let noID: Int64 = 0, noValue: Float = 0
        return try withUnsafePointer(to: noID) { noIDs in
            try withUnsafePointer(to: noValue) { noValues in
                try ids.withUnsafeBufferPointer { i in
                    try dense.withUnsafeBufferPointer { x in
                        try sequences.withUnsafeBufferPointer { s in
                            try body(ModelInputs(ids: i.baseAddress ?? noIDs, dense: x.baseAddress ?? noValues,
                                                 sequences: s.baseAddress ?? noIDs))
                        }
                    }
                }
            }
        }
    }
}
