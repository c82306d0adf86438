#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped copy-on-write (`MAP_PRIVATE`, read and write), unmapped in `deinit`.
///
/// Writable only because ONNX Runtime's `CreateTensorWithDataAsOrtValue` takes a mutable pointer: a write would
/// touch a private copy of the page, never the file. Pages cost resident memory only once read, and are clean
/// file pages the kernel can drop and re-read. Thread-safe: the mapping never changes after init.
final class MappedFile: @unchecked Sendable {
    let path: String
    let base: UnsafeMutableRawPointer?
    let count: Int

    init(path: String) throws(ORTError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ORTError(.modelFileNotFound, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ORTError(.modelFileNotFound, "\(path) is not a regular file")
        }
        self.path = path
        count = Int(info.st_size)
        guard count > 0 else {
            base = nil
            return
        }
        let mapped = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw ORTError(.modelFormat, "cannot map \(path) (\(count) bytes): \(String(cString: strerror(errno)))")
        }
        base = mapped
    }

    deinit {
        if let base { munmap(base, count) }
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
