import CTRFeatures

/// What a CTR bundle adds in front of its model: raw rows encoded with the training vocabulary into the
/// tensors its signature names, and the value checks that keep a v2 request's ids inside the vocabulary.
///
/// The model behind it is served like any other (``ModelPool``): this stage only makes its jobs. Encoders
/// write row-major buffers (categorical ids, numeric values, sequence ids); for bundles trained here those
/// buffers are the job's inputs themselves, for bundles imported from FuxiCTR (one input per feature) they
/// are scratch whose columns are then gathered into each input.
public struct FeatureEncodingStage: Sendable {
    /// The bundle's feature map (its vocabulary values released: they live in ``encoder``).
    public let map: FeatureMap
    /// The one copy of the vocabulary every pool of this version shares.
    public let encoder: FeatureEncoder
    /// Which columns of the row-major buffers feed which input.
    public let layout: InputLayout
    private let shapes: [[Int64]]
    /// The inputs' shapes for one row, built once: most requests are one row (or one ranking list).
    private let singleRowShapes: [[Int64]]
    private let elementSizes: [Int]
    /// Per signature input, per column: the field it belongs to and the ids it may hold (empty for numbers).
    private let columnRanges: [[(field: String, low: Int64, high: Int64)]]

    /// Row-major buffers of a job's encoded rows in the layout's widths (an empty part has no storage).
    public struct Rows {
        public let ids: UnsafeMutableBufferPointer<Int64>
        public let dense: UnsafeMutableBufferPointer<Float>
        public let sequences: UnsafeMutableBufferPointer<Int64>

        /// Buffers of `rows` rows in the stage's widths.
        public init(ids: UnsafeMutableBufferPointer<Int64>, dense: UnsafeMutableBufferPointer<Float>, sequences: UnsafeMutableBufferPointer<Int64>) {
            self.ids = ids
            self.dense = dense
            self.sequences = sequences
        }
    }

    /// The stage of a bundle with `map` and its `encoder`.
    public init(map: FeatureMap, encoder: FeatureEncoder) {
        self.map = map
        self.encoder = encoder
        let signature = map.signature
        layout = InputLayout(signature: signature)
        let inputs = signature.inputs.filter { $0.role != .probability }
        shapes = inputs.map { $0.shape.dropFirst().map(Int64.init) }
        singleRowShapes = shapes.map { [1] + $0 }
        elementSizes = inputs.map { $0.elementType == .int64 ? 8 : 4 }
        let offsets = map.fieldOffsets.map(Int64.init), sizes = map.fieldVocabularySizes.map(Int64.init)
        // Ours index one shared table (each block at its offset); FuxiCTR's index a table per feature from 0.
        let fuxictr = map.encoding == .fuxictr
        func block(_ name: String, _ b: Int) -> (field: String, low: Int64, high: Int64) {
            fuxictr ? (name, 0, sizes[b]) : (name, offsets[b], offsets[b] + sizes[b])
        }
        let categoricalBlock = Dictionary(uniqueKeysWithValues: map.schema.categoricalFields.enumerated().map { ($1.name, $0) })
        let sequenceLayout = Dictionary(uniqueKeysWithValues: zip(map.schema.sequenceFields.map(\.name), zip(map.sequenceBlocks, map.sequenceLengths)).map { ($0, $1) })
        columnRanges = inputs.map { tensor in
            switch tensor.role {
            case .categoricalIDs:
                return tensor.fields.map { block($0, categoricalBlock[$0] ?? 0) }
            case .sequenceIDs:
                // Each column belongs to one sequence field, whose tokens live in its vocabulary block.
                return tensor.fields.flatMap { name -> [(field: String, low: Int64, high: Int64)] in
                    guard let (b, length) = sequenceLayout[name] else { return [] }
                    return Array(repeating: block(name, b), count: length)
                }
            case .numericValues, .probability:
                return []
            }
        }
    }

    /// An empty job of `rows` rows shaped as the model's inputs; `completion` runs once, on an inference thread.
    public func makeJob(rows: Int, deadline: UInt64 = 0, completion: @escaping @Sendable (InferenceJob.Outcome) -> Void) -> InferenceJob {
        InferenceJob(rows: rows, shapes: rows == 1 ? singleRowShapes : shapes.map { [Int64(rows)] + $0 }, elementSizes: elementSizes,
                     deadline: deadline, completion: completion)
    }

    /// Lets `fill` write `job`'s rows row-major, then lays them out as the model's inputs.
    public func encode(into job: InferenceJob, _ fill: (Rows) -> Void) {
        let rows = job.rows
        if layout.direct {
            // The job's inputs are the row-major buffers: no copy.
            var ids = UnsafeMutableBufferPointer<Int64>(start: nil, count: 0), sequences = ids
            var dense = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
            for (index, part) in layout.parts.enumerated() {
                switch part {
                case .ids: ids = job.inputs[index].elements(Int64.self)
                case .dense: dense = job.inputs[index].elements(Float.self)
                case .sequences: sequences = job.inputs[index].elements(Int64.self)
                }
            }
            fill(Rows(ids: ids, dense: dense, sequences: sequences))
            return
        }
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, rows * layout.sparseWidth)) { ids in
            withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, rows * layout.sequenceWidth)) { sequences in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows * layout.denseWidth)) { dense in
                    let parts = Rows(ids: UnsafeMutableBufferPointer(rebasing: ids[0..<(rows * layout.sparseWidth)]),
                                     dense: UnsafeMutableBufferPointer(rebasing: dense[0..<(rows * layout.denseWidth)]),
                                     sequences: UnsafeMutableBufferPointer(rebasing: sequences[0..<(rows * layout.sequenceWidth)]))
                    fill(parts)
                    layout.gather(ids: parts.ids, dense: parts.dense, sequences: parts.sequences, rows: rows,
                                  into: job.inputs.map(\.bytes))
                }
            }
        }
    }

    /// A job of `rows` rows of all-missing values: ids at each field's missing id, sequences padding.
    public func missingValuesJob(rows: Int) -> InferenceJob {
        let job = makeJob(rows: rows) { _ in }
        encode(into: job) { fillMissing($0, rows: rows) }
        return job
    }

    /// Writes `rows` rows of all-missing values into `parts`: ids at each field's missing id, numbers the
    /// missing input, sequences padding.
    public func fillMissing(_ parts: Rows, rows: Int) {
        for row in 0..<rows {
            for field in 0..<encoder.categoricalCount {
                parts.ids[row * encoder.categoricalCount + field] = encoder.categoricalID(field: field, utf8: nil)
            }
            for field in 0..<encoder.numericCount {
                parts.dense[row * encoder.numericCount + field] = encoder.denseValue(field: field, raw: nil)
            }
            for field in encoder.sequenceLengths.indices {
                encoder.encodeSequence(field: field, utf8: nil,
                                       into: parts.sequences.baseAddress! + row * encoder.sequenceWidth + encoder.sequenceStarts[field])
            }
        }
    }

    /// The first id outside its field's vocabulary or non-finite number in `job`'s inputs (filled from a v2
    /// request), described for the client; nil when every value is one the model can take.
    ///
    /// An id past its block would make ONNX Runtime fail the whole batch the request is merged into.
    public func checkValues(_ job: InferenceJob) -> String? {
        let inputs = map.signature.inputs.filter { $0.role != .probability }
        for (index, tensor) in inputs.enumerated() {
            let width = max(1, tensor.width)
            switch tensor.role {
            case .categoricalIDs, .sequenceIDs:
                let ids = job.inputs[index].elements(Int64.self), columns = columnRanges[index]
                var column = 0
                for position in 0..<ids.count {
                    let id = ids[position], range = columns[column]
                    if id < range.low || id >= range.high {
                        return "input \"\(tensor.name)\" row \(position / width) column \(column) (\(range.field)) holds id \(id), outside that field's range [\(range.low), \(range.high))"
                    }
                    column += 1
                    if column == columns.count { column = 0 }
                }
            case .numericValues:
                let values = job.inputs[index].elements(Float.self)
                for position in 0..<values.count where !values[position].isFinite {
                    return "input \"\(tensor.name)\" row \(position / width) column \(position % width) (\(tensor.fields[min(position % width, tensor.fields.count - 1)])) holds a non-finite value"
                }
            case .probability:
                continue
            }
        }
        return nil
    }
}
