/// An error from loading ONNX Runtime, from ONNX Runtime itself, or from checking inputs before a run.
public struct ORTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// ONNX Runtime's own `OrtErrorCode`.
    public struct RuntimeCode: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let fail = RuntimeCode(rawValue: 1)
        public static let invalidArgument = RuntimeCode(rawValue: 2)
        public static let noSuchFile = RuntimeCode(rawValue: 3)
        public static let noModel = RuntimeCode(rawValue: 4)
        public static let engineError = RuntimeCode(rawValue: 5)
        public static let runtimeException = RuntimeCode(rawValue: 6)
        public static let invalidProtobuf = RuntimeCode(rawValue: 7)
        public static let notImplemented = RuntimeCode(rawValue: 9)
        public static let invalidGraph = RuntimeCode(rawValue: 10)

        public var description: String {
            let names: [Int32: String] = [
                1: "ORT_FAIL", 2: "ORT_INVALID_ARGUMENT", 3: "ORT_NO_SUCHFILE", 4: "ORT_NO_MODEL",
                5: "ORT_ENGINE_ERROR", 6: "ORT_RUNTIME_EXCEPTION", 7: "ORT_INVALID_PROTOBUF",
                8: "ORT_MODEL_LOADED", 9: "ORT_NOT_IMPLEMENTED", 10: "ORT_INVALID_GRAPH", 11: "ORT_EP_FAIL",
            ]
            return names[rawValue] ?? "ORT error \(rawValue)"
        }
    }

    /// What went wrong, coarse enough to switch on.
    public enum Kind: Sendable, Equatable {
        /// No usable libonnxruntime was found; the message lists every place searched.
        case libraryNotFound
        /// A library was found but is too old or not ONNX Runtime.
        case libraryIncompatible
        /// The model path does not exist or is not a regular file.
        case modelFileNotFound
        /// ONNX Runtime returned a non-OK status.
        case runtime(RuntimeCode)
        /// An input name the model does not have, or a required input that was not given.
        case inputName
        /// An input tensor of the wrong element type.
        case elementType
        /// An input tensor of the wrong rank.
        case rank
        /// An input tensor whose dimensions disagree with the model's fixed dimensions.
        case shape
        /// A buffer whose size disagrees with its shape.
        case bufferSize
        /// The process-wide environment already exists with other settings.
        case environmentConflict
        /// An output was read as a type it does not have.
        case outputType
        /// A model file (or its external data) that is not the ONNX protobuf it claims to be; the message names the byte.
        case modelFormat
    }

    public let kind: Kind
    public let message: String

    /// Creates an error of `kind` with a message a user can act on.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
