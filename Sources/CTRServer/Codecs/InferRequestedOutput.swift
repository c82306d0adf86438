/// An output a v2 infer request asks for, and whether it wants it as binary data.
public struct InferRequestedOutput: Sendable, Equatable {
    /// The output's name.
    public var name: String
    /// The output's `binary_data` parameter; nil when not given (the request-level default applies).
    public var binaryData: Bool?
    /// The output's other parameters.
    public var parameters: [String: InferParameter]

    /// Creates a requested output.
    public init(name: String, binaryData: Bool? = nil, parameters: [String: InferParameter] = [:]) {
        self.name = name
        self.binaryData = binaryData
        self.parameters = parameters
    }
}
