import Testing
@testable import CTRModels

@Suite("Model gradients of the log loss match finite differences")
struct ModelGradientTests {
    @Test(arguments: ModelArchitecture.allCases, DenseEncoding.allCases)
    func logLossGradient(architecture: ModelArchitecture, encoding: DenseEncoding) {
        Self.check(TinyModels.make(architecture, encoding: encoding), label: "\(architecture) \(encoding)")
    }

    /// Two pooled sequence fields join every architecture's fields (and LR's linear sum).
    @Test(arguments: ModelArchitecture.allCases, DenseEncoding.allCases)
    func logLossGradientWithSequences(architecture: ModelArchitecture, encoding: DenseEncoding) {
        let model = TinyModels.make(architecture, encoding: encoding, sequences: true)
        #expect(model.shape.fieldCount == 7)
        Self.check(model, label: "\(architecture) \(encoding) sequences")
    }

    /// AutoInt+: the parallel DNN's gradient joins the attention path's at the embeddings.
    @Test(arguments: DenseEncoding.allCases, [false, true])
    func autoIntPlusLogLossGradient(encoding: DenseEncoding, sequences: Bool) {
        var hyperparameters = TinyModels.hyperparameters
        hyperparameters.autoIntHiddenUnits = [7, 3]
        let model = AutoInt(shape: TinyModels.shape(encoding, sequences: sequences), hyperparameters: hyperparameters,
                            maxBatch: 8, seed: 1)
        #expect(model.network.count == 3)
        Self.check(model, label: "autoint+ \(encoding)\(sequences ? " sequences" : "")")
    }

    static func check(_ model: any CTRModel, label: String) {
        let rows = 6
        model.threads = 2
        TinyModels.randomize(model, seed: 21)
        let (ids, dense, sequences, labels) = TinyModels.batch(rows: rows, seed: 22, sequenceFields: model.shape.sequenceFields)
        let loss: () -> Double = {
            let p = model.predict(ids: ids, dense: dense, sequences: sequences, count: rows)
            var total = 0.0
            for i in 0..<rows {
                let q = Double(p[i])
                total -= Double(labels[i]) * log(q) + Double(1 - labels[i]) * log(1 - q)
            }
            return total / Double(rows)
        }
        // Analytic gradient: ∂/∂logit of the mean BCE is (p − y)/rows.
        model.zeroGradients()
        ModelInputs.withArrays(ids: ids, dense: dense, sequences: sequences) { inputs in
            model.forward(inputs, count: rows)
            var g = [Float](repeating: 0, count: rows)
            for r in 0..<rows { g[r] = (Sigmoid.value(model.logits[r]) - labels[r]) / Float(rows) }
            g.withUnsafeBufferPointer { model.backward(logitGradient: $0.baseAddress!, inputs, count: rows) }
        }
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
