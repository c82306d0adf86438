/// Splitting a `splitter`-joined sequence value into its tokens without allocating.
public enum SequenceTokens {
    /// Calls `body` with each token's bytes in order; empty tokens (`a^^b`) are passed as empty buffers.
    @inlinable
    public static func forEach(in value: UnsafeRawBufferPointer, splitter: UnsafeRawBufferPointer,
                               _ body: (UnsafeRawBufferPointer) -> Void) {
        let count = value.count, width = splitter.count
        guard count > 0, width > 0 else {
            if count > 0 { body(value) }
            return
        }
        let first = splitter[0]
        var start = 0, i = 0
        while i <= count - width {
            if value[i] == first && (width == 1 || matches(value, at: i, splitter)) {
                body(UnsafeRawBufferPointer(rebasing: value[start..<i]))
                i += width
                start = i
            } else {
                i += 1
            }
        }
        body(UnsafeRawBufferPointer(rebasing: value[start..<count]))
    }

    @inlinable
    static func matches(_ value: UnsafeRawBufferPointer, at offset: Int, _ splitter: UnsafeRawBufferPointer) -> Bool {
        for k in 1..<splitter.count where value[offset + k] != splitter[k] { return false }
        return true
    }
}
