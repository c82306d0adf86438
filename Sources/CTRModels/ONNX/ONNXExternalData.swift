/// The side file of an ONNX model that keeps its large tensors outside the protobuf (ONNX "external data").
///
/// A protobuf message cannot exceed 2 GB, so a Criteo-scale embedding table cannot be `raw_data`. Each tensor
/// written here starts at a multiple of `alignment` (4096: ONNX Runtime memory-maps CPU external data, and a page-
/// aligned offset lets a reader map a tensor in place), and the model records `location`, `offset` and `length`.
public struct ONNXExternalData: Sendable {
    /// Offset alignment of every tensor in the file.
    public static let alignment = 4096

    /// The file name the model refers to, relative to the model's directory.
    public let location: String
    /// Tensors smaller than this stay inline in the model.
    public let minimumTensorBytes: Int
    /// The file's contents so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty side file named `location`.
    public init(location: String, minimumTensorBytes: Int = 1024) {
        self.location = location
        self.minimumTensorBytes = minimumTensorBytes
    }

    /// Appends `raw` at the next aligned offset; returns where it went.
    mutating func append(_ raw: [UInt8]) -> (offset: Int, length: Int) {
        let offset = (bytes.count + Self.alignment - 1) / Self.alignment * Self.alignment
        bytes.append(contentsOf: repeatElement(0, count: offset - bytes.count))
        bytes.append(contentsOf: raw)
        return (offset, raw.count)
    }
}
