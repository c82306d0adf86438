import CTRFeatures
import Foundation

/// The ranking graph (issue 24): one user's context once, their candidates many times.
///
/// Inputs: the context fields of R requests (`context_sparse_ids` [R, ·], `context_dense`, `context_sequence_ids`),
/// the other fields of N candidates (`sparse_ids` [N, ·], `dense`, `sequence_ids`) and `request_index` int64 [N],
/// each candidate's request, so candidates of several requests batch together. Output `probability` [N, 1], equal
/// to the flat graph's on the merged rows. What depends on the context alone is computed per request and then
/// gathered per candidate: its embeddings, first-order terms, FM sums (Σv, Σv²) and its half of the first layer
/// fed by the embeddings (the DNN's, AutoInt+'s DNN's, DCNv2's first cross layer and parallel DNN). AutoInt's
/// attention sees every field of every candidate (its projections of context fields are a few percent of its
/// work: docs/BENCHMARKS.md), so it runs on the gathered embeddings.
extension ONNXExporter {
    /// The ranking graph's tensor names.
    public enum RankingNames {
        public static let contextSparse = "context_sparse_ids"
        public static let contextDense = "context_dense"
        public static let contextSequence = "context_sequence_ids"
        public static let requestIndex = "request_index"
    }

    /// The fields a ranking graph takes once per request: the schema's context fields (`source: user|context`),
    /// by index within each kind. Nil when there are none, or when every field is one (nothing per candidate).
    static func rankingContext(_ schema: FeatureSchema) -> ONNXFieldSubset? {
        func indices(_ fields: [FeatureSchema.Field]) -> [Int] { fields.indices.filter { fields[$0].isContext } }
        let context = ONNXFieldSubset(categorical: indices(schema.categoricalFields), numeric: indices(schema.numericFields),
                                      sequences: indices(schema.sequenceFields))
        guard context.count > 0, context.count < schema.fields.count else { return nil }
        return context
    }

    /// Whether `schema` gets a ranking graph: some fields are sent once per request and some per candidate.
    public static func hasRankingGraph(_ schema: FeatureSchema) -> Bool { rankingContext(schema) != nil }

    /// The serialized ranking graph of `model`, whose fields are `schema`'s; nil when the schema marks no context
    /// fields (or only context fields). Weights are inline unless they exceed `options.externalDataAbove`.
    public static func exportRanking(_ model: any CTRModel, schema: FeatureSchema, options: Options = .init(),
                                     externalDataLocation: String = "") -> Files? {
        guard let context = rankingContext(schema) else { return nil }
        let shape = model.shape
        precondition(shape.sparseFields == schema.categoricalFields.count && shape.denseFields == schema.numericFields.count
                     && shape.sequenceFields.count == schema.sequenceFields.count, "the model's shape is not the schema's")
        let item = ONNXFieldSubset(
            categorical: (0..<shape.sparseFields).filter { !context.categorical.contains($0) },
            numeric: (0..<shape.denseFields).filter { !context.numeric.contains($0) },
            sequences: shape.sequenceFields.indices.filter { !context.sequences.contains($0) })
        var graph = ONNXGraphBuilder(sparseInput: options.sparseInput, denseInput: options.denseInput,
                                     sequenceInput: options.sequenceInput, outputName: options.outputName)
        let requests = ONNXGraphBuilder.Dimension.symbolic("requests"), batch = ONNXGraphBuilder.Dimension.symbolic("batch")
        func length(_ fields: [Int]) -> Int { fields.reduce(0) { $0 + shape.sequenceFields[$1].length } }
        let names = RankingNames.self
        if !context.categorical.isEmpty { graph.addInput(names.contextSparse, .int64, [requests, .fixed(context.categorical.count)]) }
        if !context.numeric.isEmpty { graph.addInput(names.contextDense, .float, [requests, .fixed(context.numeric.count)]) }
        if !context.sequences.isEmpty { graph.addInput(names.contextSequence, .int64, [requests, .fixed(length(context.sequences))]) }
        if !item.categorical.isEmpty { graph.addInput(options.sparseInput, .int64, [batch, .fixed(item.categorical.count)]) }
        if !item.numeric.isEmpty { graph.addInput(options.denseInput, .float, [batch, .fixed(item.numeric.count)]) }
        if !item.sequences.isEmpty { graph.addInput(options.sequenceInput, .int64, [batch, .fixed(length(item.sequences))]) }
        graph.addInput(names.requestIndex, .int64, [batch])

        var ranking = RankingGraph(graph: graph, context: context, item: item, shape: shape,
                                   itemInputs: (options.sparseInput, options.denseInput, options.sequenceInput))
        let logit: String
        switch model {
        case let m as DeepFM: logit = ranking.deepFM(m)
        case let m as AutoInt: logit = ranking.autoInt(m)
        case let m as DCNv2: logit = ranking.dcnV2(m)
        case let m as LogisticRegression: logit = ranking.linearTerm(m.linear)
        default: preconditionFailure("no ranking graph for \(model.architecture.rawValue)")
        }
        graph = ranking.graph
        graph.node("Sigmoid", [logit], output: options.outputName)
        graph.addOutput(options.outputName, .float, [batch, .fixed(1)])
        var metadata = options.extraMetadata
        metadata["graph"] = "ranking"
        metadata["context_fields"] = schema.contextFields.map(\.name).joined(separator: ",")
        return encode(graph, model: model, options: options, metadata: metadata, externalDataLocation: externalDataLocation)
    }

    /// Writes the ranking graph of `model` to `url` (weights beside it in `url`.data when large); false, and
    /// nothing written, when `schema` has no ranking graph.
    @discardableResult
    public static func writeRanking(_ model: any CTRModel, schema: FeatureSchema, options: Options = .init(), to url: URL) throws(CTRModelsError) -> Bool {
        let dataURL = url.appendingPathExtension("data")
        guard let files = exportRanking(model, schema: schema, options: options, externalDataLocation: dataURL.lastPathComponent) else { return false }
        try write(files, to: url)
        return true
    }
}

/// Builds one ranking graph: each layer exported once per side, the context side's results gathered per candidate.
struct RankingGraph {
    var graph: ONNXGraphBuilder
    let context: ONNXFieldSubset
    let item: ONNXFieldSubset
    let shape: ModelShape
    let itemInputs: (sparse: String, dense: String, sequence: String)

    /// Exports `body` reading the context inputs, then restores the candidates' inputs.
    mutating func onContext<T>(_ body: (inout ONNXGraphBuilder) -> T) -> T {
        let names = ONNXExporter.RankingNames.self
        graph.read(sparse: names.contextSparse, dense: names.contextDense, sequence: names.contextSequence, side: "context")
        defer { graph.read(sparse: itemInputs.sparse, dense: itemInputs.dense, sequence: itemInputs.sequence, side: "") }
        return body(&graph)
    }

    /// Row `request_index[n]` of a per-request tensor, for every candidate n.
    mutating func perCandidate(_ perRequest: String) -> String {
        graph.node("Gather", [perRequest, ONNXExporter.RankingNames.requestIndex], attributes: [.int("axis", 0)])
    }

    /// Both sides' embeddings: the context's [R, Fc, d] and the candidates' [N, Fi, d].
    mutating func embeddings(_ embedding: FieldEmbedding) -> (context: String, item: String) {
        let context = self.context
        let contextSide = onContext { embedding.exportGraph(into: &$0, fields: context) }
        return (contextSide, embedding.exportGraph(into: &graph, fields: item))
    }

    /// Every field's embedding per candidate in the model's field order: [N, F, d].
    mutating func allEmbeddings(_ sides: (context: String, item: String)) -> String {
        let joined = graph.node("Concat", [perCandidate(sides.context), sides.item], attributes: [.int("axis", 1)])
        let order = context.modelPositions(categoricalCount: shape.sparseFields, numericCount: shape.denseFields)
            + item.modelPositions(categoricalCount: shape.sparseFields, numericCount: shape.denseFields)
        guard order != Array(order.indices) else { return joined }
        // Position in the joined tensor of each model field.
        var source = [Int64](repeating: 0, count: order.count)
        for (position, field) in order.enumerated() { source[field] = Int64(position) }
        let indices = graph.constant("ranking_field_order", int64s: source)
        return graph.node("Gather", [joined, indices], attributes: [.int("axis", 1)])
    }

    /// A [rows, fields, d] tensor flattened to [rows, fields · d].
    mutating func flatten(_ embeddings: String, fields: Int, dimension: Int) -> String {
        let shape = graph.constant("shape_flat_\(fields)", int64s: [-1, Int64(fields * dimension)])
        return graph.node("Reshape", [embeddings, shape])
    }

    /// The first-order term: the context's fields per request (gathered), the candidates' with the bias.
    mutating func linearTerm(_ linear: LinearPart) -> String {
        let context = self.context
        let contextTerm = onContext { linear.exportTerms(into: &$0, fields: context, bias: false) }
        let itemTerm = linear.exportTerms(into: &graph, fields: item, bias: true)!
        guard let contextTerm else { return itemTerm }
        return graph.node("Add", [perCandidate(contextTerm), itemTerm])
    }

    /// `layer` (activation included) on every candidate's flattened embeddings, its weight rows split by side: the
    /// context's product once per request, gathered, plus the candidates' product and the bias.
    mutating func firstLayer(_ layer: DenseLayer, sides: (context: String, item: String), dimension d: Int) -> String {
        let (weights, biases) = layer.foldedAffine()
        let out = layer.outputSize
        func rows(_ side: ONNXFieldSubset) -> [Float] {
            var values: [Float] = []
            values.reserveCapacity(side.count * d * out)
            for field in side.modelPositions(categoricalCount: shape.sparseFields, numericCount: shape.denseFields) {
                values += weights[(field * d * out)..<((field + 1) * d * out)]
            }
            return values
        }
        let contextWeight = graph.initializer("\(layer.weight.name)_context", dimensions: [context.count * d, out], values: rows(context))
        let itemWeight = graph.initializer("\(layer.weight.name)_item", dimensions: [item.count * d, out], values: rows(item))
        let bias = graph.initializer(layer.bias.name, dimensions: [out], values: biases)
        let contextFlat = flatten(sides.context, fields: context.count, dimension: d)
        let contextPart = graph.node("MatMul", [contextFlat, contextWeight])
        let itemFlat = flatten(sides.item, fields: item.count, dimension: d)
        let itemPart = graph.node("Gemm", [itemFlat, itemWeight, bias])
        let affine = graph.node("Add", [perCandidate(contextPart), itemPart])
        return layer.activation == .relu ? graph.node("Relu", [affine]) : affine
    }

    /// `layers` after the first on `first`'s output.
    mutating func rest(_ layers: [DenseLayer], after first: String) -> String {
        var hidden = first
        for layer in layers.dropFirst() { hidden = layer.exportGraph(into: &graph, input: hidden) }
        return hidden
    }

    /// linear + FM + DNN, the FM's field sums and the DNN's first layer split by side.
    mutating func deepFM(_ model: DeepFM) -> String {
        let d = model.embedding.dimension
        let sides = embeddings(model.embedding)
        let linear = linearTerm(model.linear)
        // FM: ½ Σ_k [(Σ_f e)² − Σ_f e²], each field sum the context's (per request) plus the candidate's.
        let fieldAxis = graph.constant("axes_1", int64s: [1])
        func sums(_ e: String) -> (sum: String, squares: String) {
            (graph.node("ReduceSum", [e, fieldAxis], attributes: [.int("keepdims", 0)]),
             graph.node("ReduceSum", [graph.node("Mul", [e, e]), fieldAxis], attributes: [.int("keepdims", 0)]))
        }
        let contextSums = sums(sides.context), itemSums = sums(sides.item)
        let sum = graph.node("Add", [perCandidate(contextSums.sum), itemSums.sum])
        let squares = graph.node("Add", [perCandidate(contextSums.squares), itemSums.squares])
        let difference = graph.node("Sub", [graph.node("Mul", [sum, sum]), squares])
        let total = graph.node("ReduceSum", [difference, fieldAxis], attributes: [.int("keepdims", 1)])
        let fm = graph.node("Mul", [total, graph.constant("half", float: 0.5)])
        let deep = rest(model.network, after: firstLayer(model.network[0], sides: sides, dimension: d))
        return graph.node("Add", [graph.node("Add", [linear, fm]), deep])
    }

    /// Attention over every field of each candidate (the gathered context embeddings and its own), the wide
    /// linear part and AutoInt+'s DNN split by side.
    mutating func autoInt(_ model: AutoInt) -> String {
        let d = model.embedding.dimension
        let sides = embeddings(model.embedding)
        var hidden = allEmbeddings(sides)
        for layer in model.attention { hidden = layer.exportGraph(into: &graph, input: hidden) }
        let flatShape = graph.constant("shape_flat", int64s: [-1, Int64(model.outputLayer.inputSize)])
        var logit = model.outputLayer.exportGraph(into: &graph, input: graph.node("Reshape", [hidden, flatShape]))
        if let linear = model.linear { logit = graph.node("Add", [logit, linearTerm(linear)]) }
        if !model.network.isEmpty {
            let deep = rest(model.network, after: firstLayer(model.network[0], sides: sides, dimension: d))
            logit = graph.node("Add", [logit, deep])
        }
        return logit
    }

    /// Cross layers on x₀ (every field per candidate), the first one's product split by side, as is the parallel
    /// DNN's first layer; the rest as in the flat graph.
    mutating func dcnV2(_ model: DCNv2) -> String {
        let d = model.embedding.dimension, fields = model.embedding.fieldCount
        let sides = embeddings(model.embedding)
        let x0 = flatten(allEmbeddings(sides), fields: fields, dimension: d)
        var c = x0
        for (index, layer) in model.cross.enumerated() {
            let z = index == 0 ? firstLayer(layer, sides: sides, dimension: d) : layer.exportGraph(into: &graph, input: c)
            c = graph.node("Add", [c, graph.node("Mul", [x0, z])])
        }
        func chain(_ layers: [DenseLayer], _ input: String) -> String {
            var hidden = input
            for layer in layers { hidden = layer.exportGraph(into: &graph, input: hidden) }
            return hidden
        }
        func parallel() -> String {
            model.parallelNetwork.isEmpty ? x0 : rest(model.parallelNetwork, after: firstLayer(model.parallelNetwork[0], sides: sides, dimension: d))
        }
        let final: String
        switch model.hyperparameters.crossStructure {
        case .crossnetOnly: final = c
        case .stacked: final = chain(model.stackedNetwork, c)
        case .parallel: final = graph.node("Concat", [c, parallel()], attributes: [.int("axis", 1)])
        case .stackedParallel: final = graph.node("Concat", [chain(model.stackedNetwork, c), parallel()], attributes: [.int("axis", 1)])
        }
        return model.outputLayer.exportGraph(into: &graph, input: final)
    }
}
