/// A decoded KServe v2 / Open Inference Protocol infer request.
public struct InferRequest: Sendable, Equatable {
    /// The request id, echoed in the response.
    public var id: String?
    /// Request-level parameters other than `binary_data_output` (e.g. `timeout`, `priority`).
    public var parameters: [String: InferParameter]
    /// The request's `binary_data_output` parameter: outputs default to binary when true.
    public var binaryDataOutput: Bool
    /// The inputs, in request order (binary data follows the JSON header in this order).
    public var inputs: [InferInputTensor]
    /// The outputs asked for, or nil when the request did not list any (then all are returned).
    public var outputs: [InferRequestedOutput]?

    /// Creates a request.
    public init(
        id: String? = nil, parameters: [String: InferParameter] = [:], binaryDataOutput: Bool = false,
        inputs: [InferInputTensor], outputs: [InferRequestedOutput]? = nil
    ) {
        self.id = id
        self.parameters = parameters
        self.binaryDataOutput = binaryDataOutput
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The input named `name`, if present.
    public func input(named name: String) -> InferInputTensor? {
        inputs.first { $0.name == name }
    }

    /// Which of the model's outputs to return, in order, and whether each goes as binary data.
    ///
    /// With no `outputs` list every model output is returned; otherwise only the listed ones, in the
    /// listed order. An output's own `binary_data` wins over the request's `binary_data_output`.
    /// Asking for an output the model does not have is an error naming it.
    public func selectOutputs(modelOutputs: [String]) throws(RequestDecodeError) -> [(name: String, binary: Bool)] {
        guard let outputs else { return modelOutputs.map { ($0, binaryDataOutput) } }
        var selected: [(name: String, binary: Bool)] = []
        for output in outputs {
            guard modelOutputs.contains(output.name) else {
                throw RequestDecodeError(
                    .invalidRequest,
                    "unknown output \"\(output.name)\" (the model has \(modelOutputs.map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
            selected.append((output.name, output.binaryData ?? binaryDataOutput))
        }
        return selected
    }
}
