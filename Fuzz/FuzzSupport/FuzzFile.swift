import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A data file for the reader targets: libFuzzer's bytes written to one file per process, in shared memory
/// when there is some (the readers take a path, and a disk write per input would dominate the run).
public enum FuzzFile {
    /// The file this process rewrites for every input.
    public static let path: String = {
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return directory + "/clickwise-fuzz-\(getpid()).data"
    }()

    /// Replaces the file's contents with `bytes`.
    public static func write(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot open \(path): errno \(errno)")
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            precondition(n > 0, "cannot write \(path): errno \(errno)")
            offset += n
        }
        close(fd)
    }
}
