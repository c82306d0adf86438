extension [DenseLayer] {
    /// ReLU hidden layers of the given widths, then one linear output unit (FuxiCTR's `MLP_Block`, output 1);
    /// hidden layers get batch normalization and dropout as FuxiCTR's `batch_norm` and `net_dropout` say.
    ///
    /// Parameters are named `dnn0_…`, `dnn1_…`, …, `dnn_out_…`, the names the ONNX initializers take.
    static func perceptron(inputSize: Int, hiddenUnits: [Int], maxBatch: Int, batchNorm: Bool = false,
                           dropout: Float = 0, seed: UInt64 = 0) -> [DenseLayer] {
        var layers = hidden(name: "dnn", inputSize: inputSize, hiddenUnits: hiddenUnits, maxBatch: maxBatch, batchNorm: batchNorm,
                            dropout: dropout, seed: seed)
        layers.append(DenseLayer(name: "dnn_out", inputSize: hiddenUnits.last ?? inputSize, outputSize: 1, activation: .none, maxBatch: maxBatch))
        return layers
    }

    /// ReLU hidden layers of the given widths and no output unit (FuxiCTR's `MLP_Block` with `output_dim=None`),
    /// named `\(name)0_…`, `\(name)1_…`; empty widths give no layers (the input passes through).
    static func hidden(name: String, inputSize: Int, hiddenUnits: [Int], maxBatch: Int, batchNorm: Bool = false,
                       dropout: Float = 0, seed: UInt64 = 0) -> [DenseLayer] {
        var layers: [DenseLayer] = []
        var width = inputSize
        for (index, units) in hiddenUnits.enumerated() {
            layers.append(DenseLayer(name: "\(name)\(index)", inputSize: width, outputSize: units, activation: .relu, maxBatch: maxBatch,
                                     batchNorm: batchNorm, dropout: dropout, seed: seed &+ UInt64(index)))
            width = units
        }
        return layers
    }

    /// Runs the layers in order on `input`; returns the last layer's output.
    func forward(input: UnsafePointer<Float>, count: Int) -> UnsafePointer<Float> {
        var hidden = input
        for layer in self {
            layer.forward(input: hidden, count: count)
            hidden = UnsafePointer(layer.output.pointer)
        }
        return hidden
    }

    /// Accumulates every layer's gradients (after `forward` on the same `input`); returns ∂loss/∂input.
    func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, count: Int) -> UnsafePointer<Float> {
        var gradient = outputGradient
        for index in indices.reversed() {
            let layerInput = index == startIndex ? input : UnsafePointer(self[index - 1].output.pointer)
            self[index].backward(outputGradient: gradient, input: layerInput, count: count)
            gradient = UnsafePointer(self[index].inputGradient.pointer)
        }
        return gradient
    }
}
