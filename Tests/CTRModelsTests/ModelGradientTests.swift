import Testing
@testable import CTRModels

@Suite("Model gradients of the log loss match finite differences")
struct ModelGradientTests {
    @Test(arguments: ModelArchitecture.allCases, DenseEncoding.allCases)
    func logLossGradient(architecture: ModelArchitecture, encoding: DenseEncoding) {
        Self.check(TinyModels.make(architecture, encoding: encoding), label: "\(architecture) \(encoding)")
    }

    /// AutoInt+: the parallel DNN's gradient joins the attention path's at the embeddings.
    @Test(arguments: DenseEncoding.allCases)
    func autoIntPlusLogLossGradient(encoding: DenseEncoding) {
        var hyperparameters = TinyModels.hyperparameters
        hyperparameters.autoIntHiddenUnits = [7, 3]
        let shape = encoding == .buckets ? TinyModels.bucketShape : TinyModels.shape
        let model = AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: 8, seed: 1)
        #expect(model.network.count == 3)
        Self.check(model, label: "autoint+ \(encoding)")
    }

    static func check(_ model: any CTRModel, label: String) {
        let rows = 6
        model.threads = 2
        TinyModels.randomize(model, seed: 21)
        let (ids, dense, labels) = TinyModels.batch(rows: rows, seed: 22)
        let loss: () -> Double = {
            let p = model.predict(ids: ids, dense: dense, count: rows)
            var total = 0.0
            for i in 0..<rows {
                let q = Double(p[i])
                total -= Double(labels[i]) * log(q) + Double(1 - labels[i]) * log(1 - q)
            }
            return total / Double(rows)
        }
        // Analytic gradient: ∂/∂logit of the mean BCE is (p − y)/rows.
        model.zeroGradients()
        ids.withUnsafeBufferPointer { i in dense.withUnsafeBufferPointer { x in
            model.forward(ids: i.baseAddress!, dense: x.baseAddress!, count: rows)
            var g = [Float](repeating: 0, count: rows)
            for r in 0..<rows { g[r] = (Sigmoid.value(model.logits[r]) - labels[r]) / Float(rows) }
            g.withUnsafeBufferPointer { model.backward(logitGradient: $0.baseAddress!, ids: i.baseAddress!, dense: x.baseAddress!, count: rows) }
        } }
        let tableGradients = model.embeddingTables.map { table in
            (0..<table.rows).map { table.gradient(ofRow: $0) }
        }
        for parameter in model.parameters {
            let stride = max(1, parameter.count / 40)
            let error = GradientCheck.maxError(values: parameter.value.pointer, indices: Swift.stride(from: 0, to: parameter.count, by: stride),
                                               analytic: { parameter.gradient[$0] }, loss: loss)
            #expect(error < 2e-2, "\(label) \(parameter.name)")
        }
        for (table, gradients) in zip(model.embeddingTables, tableGradients) {
            let d = table.dimension
            let error = GradientCheck.maxError(values: table.value.pointer, indices: 0..<table.value.count,
                                               analytic: { gradients[$0 / d][$0 % d] }, loss: loss)
            #expect(error < 2e-2, "\(label) \(table.name)")
        }
    }
}

import Foundation
