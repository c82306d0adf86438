/// The FM second-order term over field embeddings: ½ Σ_k [(Σ_f e_fk)² − Σ_f e_fk²].
public final class FactorizationMachine {
    /// Fields per row.
    public let fields: Int
    /// Embedding width.
    public let dimension: Int
    /// Forward result, one value per row.
    public let output: FloatBuffer
    /// Gradient with respect to the embeddings, [maxBatch, fields, dimension].
    public let inputGradient: FloatBuffer
    private let fieldSums: FloatBuffer

    /// Creates the layer for batches of at most `maxBatch` rows.
    public init(fields: Int, dimension: Int, maxBatch: Int) {
        self.fields = fields
        self.dimension = dimension
        output = FloatBuffer(count: maxBatch)
        inputGradient = FloatBuffer(count: maxBatch * fields * dimension)
        fieldSums = FloatBuffer(count: maxBatch * dimension)
    }

    /// Computes `output` from `input` ([count, fields, dimension]).
    public func forward(input: UnsafePointer<Float>, count: Int) {
        let d = dimension
        for b in 0..<count {
            let sums = fieldSums.pointer + b * d
            sums.update(repeating: 0, count: d)
            var squares: Float = 0
            let row = input + b * fields * d
            for f in 0..<fields {
                let e = row + f * d
                for k in 0..<d {
                    sums[k] += e[k]
                    squares += e[k] * e[k]
                }
            }
            var total: Float = 0
            for k in 0..<d { total += sums[k] * sums[k] }
            output[b] = 0.5 * (total - squares)
        }
    }

    /// Writes `inputGradient`: ∂/∂e_fk = g · (Σ_f' e_f'k − e_fk).
    public func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, count: Int) {
        let d = dimension
        for b in 0..<count {
            let g = outputGradient[b]
            let sums = fieldSums.pointer + b * d
            let row = input + b * fields * d, target = inputGradient.pointer + b * fields * d
            for f in 0..<fields {
                for k in 0..<d { target[f * d + k] = g * (sums[k] - row[f * d + k]) }
            }
        }
    }
}
