import CTRFeatures

/// How a bundle's ranking graph (`ranking.onnx`, exported by `train` when the schema marks context fields) takes
/// one `:rank` request: its context fields once (`context_sparse_ids` [1, ·], `context_dense`,
/// `context_sequence_ids`), the other fields per candidate (the flat inputs' names, [N, ·]); the pool adds
/// `request_index` per run, so candidates of several requests share one run.
///
/// Candidates are encoded as flat rows first (the same code as `:predict`, so a value encodes the same either
/// way); the context inputs are then cut from the first row, which every candidate shares when none gives a
/// context field of its own (``takes(_:)`` checks that for the caller), and the candidate inputs from every row.
public struct RankingLayout: Sendable {
    /// The input the pool builds: each candidate's request within the run.
    public static let requestIndexName = "request_index"
    /// The prefix of the inputs that hold one row per request.
    public static let contextPrefix = "context_"

    enum Part: Sendable, Equatable { case ids, dense, sequences }

    /// One request input: whether it holds the request's one row or every candidate's, and its columns in the
    /// flat rows of its part.
    struct Slot: Sendable {
        let perRequest: Bool
        let part: Part
        let columns: [Int]
    }

    /// The flat-row stage whose rows the slots are cut from.
    public let encoding: FeatureEncodingStage
    /// The context fields by kind (indices within each), which a candidate must leave to the context.
    public let contextCategorical: [Int]
    public let contextNumeric: [Int]
    public let contextSequences: [Int]
    let slots: [Slot]
    /// The request inputs' names, in the slots' order.
    private let names: [String]
    private let elementSizes: [Int]

    /// The layout of a ranking graph with `requestInputs` (model order, `request_index` left out) for the bundle
    /// encoded by `encoding`, whose context fields are `contextFields` (the graph's `context_fields` metadata: a
    /// bundle whose features.json cannot record `source`, format 1, still names them there), else the schema's
    /// marks; the error names the file and the input or field that does not match.
    public init(encoding: FeatureEncodingStage, requestInputs: [TensorDescription], contextFields: [String]? = nil,
                path: String) throws(ServingError) {
        self.encoding = encoding
        let schema = encoding.map.schema, encoder = encoding.encoder
        let context = Set(contextFields ?? schema.contextFields.map(\.name))
        if let unknown = context.first(where: { name in !schema.fields.contains { $0.name == name } }) {
            throw ServingError(.modelLoad, "\(path): context field \"\(unknown)\" (metadata context_fields) is not a field of features.json")
        }
        func split(_ fields: [FeatureSchema.Field]) -> (context: [Int], item: [Int]) {
            (fields.indices.filter { context.contains(fields[$0].name) }, fields.indices.filter { !context.contains(fields[$0].name) })
        }
        let categorical = split(schema.categoricalFields), numeric = split(schema.numericFields), sequences = split(schema.sequenceFields)
        contextCategorical = categorical.context
        contextNumeric = numeric.context
        contextSequences = sequences.context
        func sequenceColumns(_ fields: [Int]) -> [Int] {
            fields.flatMap { encoder.sequenceStarts[$0]..<(encoder.sequenceStarts[$0] + encoder.sequenceLengths[$0]) }
        }
        let map = encoding.map
        let expected: [String: Slot] = [
            Self.contextPrefix + "sparse_ids": Slot(perRequest: true, part: .ids, columns: categorical.context),
            Self.contextPrefix + "dense": Slot(perRequest: true, part: .dense, columns: numeric.context),
            Self.contextPrefix + "sequence_ids": Slot(perRequest: true, part: .sequences, columns: sequenceColumns(sequences.context)),
            map.sparseInputName: Slot(perRequest: false, part: .ids, columns: categorical.item),
            map.denseInputName: Slot(perRequest: false, part: .dense, columns: numeric.item),
            map.sequenceInputName: Slot(perRequest: false, part: .sequences, columns: sequenceColumns(sequences.item)),
        ]
        var slots: [Slot] = []
        for input in requestInputs {
            guard let slot = expected[input.name] else {
                throw ServingError(.modelLoad, "\(path): input \"\(input.name)\" is not one a ranking graph of this bundle takes (\(expected.filter { !$0.value.columns.isEmpty }.keys.sorted().joined(separator: ", ")), request_index)")
            }
            let type: TensorElementType = slot.part == .dense ? .fp32 : .int64
            guard input.elementType == type, input.shape.count == 2, input.shape[1] == slot.columns.count else {
                throw ServingError(.modelLoad, "\(path): input \"\(input.name)\" is \(input.elementType) \(input.shape), but features.json's context fields (source: user|context) make it \(type) [-1, \(slot.columns.count)]: was the bundle's schema changed after training?")
            }
            slots.append(slot)
        }
        let given = Set(requestInputs.map(\.name))
        for (name, slot) in expected where !slot.columns.isEmpty && !given.contains(name) {
            throw ServingError(.modelLoad, "\(path) has no input \"\(name)\" for \(slot.columns.count) \(slot.perRequest ? "context" : "candidate") columns")
        }
        self.slots = slots
        names = requestInputs.map(\.name)
        elementSizes = slots.map { $0.part == .dense ? 4 : 8 }
    }

    /// Whether `candidates` ranked under a context can run on the ranking graph: no candidate gives a value for a
    /// context field (`given(candidate, kind, field)`), which the graph takes once for all of them.
    public func takes(candidates: Int, given: (_ candidate: Int, _ part: Int, _ field: Int) -> Bool) -> Bool {
        for candidate in 0..<candidates {
            for field in contextCategorical where given(candidate, 0, field) { return false }
            for field in contextNumeric where given(candidate, 1, field) { return false }
            for field in contextSequences where given(candidate, 2, field) { return false }
        }
        return true
    }

    /// The context fields, for the log: "N context fields (a, b, ...)".
    public var contextDescription: String {
        let schema = encoding.map.schema
        let names = contextCategorical.map { schema.categoricalFields[$0].name } + contextNumeric.map { schema.numericFields[$0].name }
            + contextSequences.map { schema.sequenceFields[$0].name }
        return "\(names.count) context fields (\(names.joined(separator: ", ")))"
    }

    /// The first id outside its field's block or non-finite number in `job`'s inputs (a v2 request on the ranking
    /// inputs), described for the client; nil when the model can take every value.
    public func checkValues(_ job: InferenceJob) -> String? {
        let map = encoding.map, encoder = encoding.encoder
        let offsets = map.fieldOffsets.map(Int64.init), sizes = map.fieldVocabularySizes.map(Int64.init)
        let categorical = map.schema.categoricalFields.map(\.name), sequences = map.schema.sequenceFields.map(\.name)
        // Each flat column's field name and id block: categorical columns by field, sequence columns by their field's block.
        func block(_ part: Part, _ column: Int) -> (name: String, low: Int64, high: Int64) {
            if part == .ids { return (categorical[column], offsets[column], offsets[column] + sizes[column]) }
            let field = encoder.sequenceStarts.lastIndex { $0 <= column } ?? 0
            let b = map.sequenceBlocks[field]
            return (sequences[field], offsets[b], offsets[b] + sizes[b])
        }
        for (index, slot) in slots.enumerated() {
            let width = max(1, slot.columns.count)
            switch slot.part {
            case .ids, .sequences:
                let ids = job.inputs[index].elements(Int64.self)
                let ranges = slot.columns.map { block(slot.part, $0) }
                for position in 0..<ids.count {
                    let range = ranges[position % width]
                    if ids[position] < range.low || ids[position] >= range.high {
                        return "input \"\(names[index])\" row \(position / width) column \(position % width) (\(range.name)) holds id \(ids[position]), outside that field's range [\(range.low), \(range.high))"
                    }
                }
            case .dense:
                let values = job.inputs[index].elements(Float.self)
                for position in 0..<values.count where !values[position].isFinite {
                    return "input \"\(names[index])\" row \(position / width) column \(position % width) holds a non-finite value"
                }
            }
        }
        return nil
    }

    /// Whether `table` fills a context field (then candidates may differ in it, and the flat graph must run).
    public func overlaps(_ table: ItemTable) -> Bool {
        !Set(table.categoricalFields).isDisjoint(with: contextCategorical) || !Set(table.numericFields).isDisjoint(with: contextNumeric)
            || !Set(table.sequenceFields).isDisjoint(with: contextSequences)
    }

    /// An empty job for `candidates` candidates of one request; `completion` runs once, on an inference thread.
    public func makeJob(candidates: Int, deadline: UInt64 = 0, completion: @escaping @Sendable (InferenceJob.Outcome) -> Void) -> InferenceJob {
        InferenceJob(rows: candidates, shapes: slots.map { [$0.perRequest ? 1 : Int64(candidates), Int64($0.columns.count)] },
                     elementSizes: elementSizes, deadline: deadline, completion: completion)
    }

    /// Lets `fill` write the candidates as flat rows, then cuts the job's inputs from them.
    public func encode(into job: InferenceJob, _ fill: (FeatureEncodingStage.Rows) -> Void) {
        let rows = job.rows, encoder = encoding.encoder
        let widths = (ids: encoder.categoricalCount, dense: encoder.numericCount, sequences: encoder.sequenceWidth)
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, rows * widths.ids)) { ids in
            withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, rows * widths.sequences)) { sequences in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows * widths.dense)) { dense in
                    let parts = FeatureEncodingStage.Rows(ids: UnsafeMutableBufferPointer(rebasing: ids[0..<(rows * widths.ids)]),
                                                          dense: UnsafeMutableBufferPointer(rebasing: dense[0..<(rows * widths.dense)]),
                                                          sequences: UnsafeMutableBufferPointer(rebasing: sequences[0..<(rows * widths.sequences)]))
                    fill(parts)
                    for (index, slot) in slots.enumerated() {
                        let count = slot.perRequest ? 1 : rows
                        switch slot.part {
                        case .ids: Self.cut(parts.ids, width: widths.ids, rows: count, columns: slot.columns, into: job.inputs[index].elements(Int64.self))
                        case .dense: Self.cut(parts.dense, width: widths.dense, rows: count, columns: slot.columns, into: job.inputs[index].elements(Float.self))
                        case .sequences:
                            Self.cut(parts.sequences, width: widths.sequences, rows: count, columns: slot.columns, into: job.inputs[index].elements(Int64.self))
                        }
                    }
                }
            }
        }
    }

    private static func cut<T>(_ rows: UnsafeMutableBufferPointer<T>, width: Int, rows count: Int, columns: [Int], into out: UnsafeMutableBufferPointer<T>) {
        var position = 0
        for row in 0..<count {
            let base = row * width
            for column in columns {
                out[position] = rows[base + column]
                position += 1
            }
        }
    }

    /// A job of `candidates` candidates of all-missing values (warm-up).
    public func missingValuesJob(candidates: Int) -> InferenceJob {
        let job = makeJob(candidates: candidates) { _ in }
        encode(into: job) { encoding.fillMissing($0, rows: candidates) }
        return job
    }
}
