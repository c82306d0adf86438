import Foundation

/// What every fuzz target shares: where the repository is, and the bytes libFuzzer hands over.
public enum FuzzInput {
    /// The repository root (fixtures, configs and bundles are read from here, whatever the working directory).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// libFuzzer's input as a buffer; a zero-length input may come with a null pointer, which this tolerates.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
    }
}
