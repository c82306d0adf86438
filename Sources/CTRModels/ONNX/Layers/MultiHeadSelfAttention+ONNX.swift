extension MultiHeadSelfAttention {
    /// MatMul projections, heads via Reshape/Transpose, MatMul·Softmax·MatMul, residual Add, LayerNormalization
    /// (opset 17) when the layer has one, Relu.
    func exportGraph(into graph: inout ONNXGraphBuilder, input: String) -> String {
        let a = attentionDimension, hd = headDimension, width = projectionWidth
        // Split the side-by-side projection into one [input, A] initializer per block.
        func block(_ index: Int, _ suffix: String) -> String {
            var values = [Float](repeating: 0, count: inputDimension * a)
            for r in 0..<inputDimension {
                for c in 0..<a { values[r * a + c] = projection.value[r * width + index * a + c] }
            }
            return graph.initializer("\(projection.name)_\(suffix)", dimensions: [inputDimension, a], values: values)
        }
        let splitShape = graph.constant("shape_heads", int64s: [-1, Int64(fields), Int64(heads), Int64(hd)])
        func splitHeads(_ weight: String, perm: [Int]) -> String {
            let projected = graph.node("MatMul", [input, weight])
            let split = graph.node("Reshape", [projected, splitShape])
            return graph.node("Transpose", [split], attributes: [.ints("perm", perm)])
        }
        let q = splitHeads(block(0, "q"), perm: [0, 2, 1, 3])
        let k = splitHeads(block(1, "k"), perm: [0, 2, 3, 1])
        let v = splitHeads(block(2, "v"), perm: [0, 2, 1, 3])
        var scores = graph.node("MatMul", [q, k])
        if useScale {
            let scale = graph.constant("score_scale", float: 1 / Float(hd).squareRoot())
            scores = graph.node("Mul", [scores, scale])
        }
        let weights = graph.node("Softmax", [scores], attributes: [.int("axis", -1)])
        let context = graph.node("MatMul", [weights, v])
        let merged = graph.node("Transpose", [context], attributes: [.ints("perm", [0, 2, 1, 3])])
        let mergedShape = graph.constant("shape_fields", int64s: [-1, Int64(fields), Int64(a)])
        var output = graph.node("Reshape", [merged, mergedShape])
        if hasResidualProjection {
            let residual = graph.node("MatMul", [input, block(3, "res")])
            output = graph.node("Add", [output, residual])
        } else if useResidual {
            output = graph.node("Add", [output, input])
        }
        if let layerNorm {
            let gamma = graph.initializer(layerNorm.gamma.name, dimensions: [a], values: layerNorm.gamma.value.array)
            let beta = graph.initializer(layerNorm.beta.name, dimensions: [a], values: layerNorm.beta.value.array)
            output = graph.node("LayerNormalization", [output, gamma, beta],
                                attributes: [.int("axis", -1), .float("epsilon", Self.layerNormEpsilon)])
        }
        return graph.node("Relu", [output])
    }
}
