/// The rows of a CTR predict request in flat, reusable storage, laid out by the model's schema.
///
/// Built for the hot path: one value is kept per connection or worker and refilled by
/// `PredictRequestDecoder.decode(_:into:)`, so after warm-up decoding allocates nothing. Numeric values
/// are `Double` (exact for every integer up to 2^53); categorical values are UTF-8 bytes (already
/// unescaped) copied into one side buffer, so the rows stay valid after the request body is released
/// and `FeatureEncoder.categoricalID(field:utf8:)` can hash them without creating a `String`. A sequence
/// is either one `splitter`-joined string or a list of tokens (a JSON array), each token a slot of its own.
///
/// Field numbering follows the schema: numeric field `f` is the schema's `f`-th numeric field, and so on.
public struct DecodedInstances: Sendable {
    /// Where one value lives in `bytes`; a negative length means missing.
    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var offset: Int32
        @usableFromInline var length: Int32
        @usableFromInline static let missing = Slot(offset: 0, length: -1)
    }

    /// One row's sequence field: missing, a joined string (`slot`), or `count` tokens from `tokens[first...]`.
    @usableFromInline
    struct SequenceSlot: Sendable {
        @usableFromInline var slot: Slot
        @usableFromInline var first: Int32
        /// -1: `slot` holds joined text (or is missing); >= 0: a token list.
        @usableFromInline var count: Int32
        @usableFromInline static let missing = SequenceSlot(slot: .missing, first: 0, count: -1)
    }

    /// The number of rows decoded.
    public private(set) var count: Int = 0
    /// Numeric fields a row.
    public private(set) var numericWidth = 0
    /// Categorical fields a row.
    public private(set) var categoricalWidth = 0
    /// Sequence fields a row.
    public private(set) var sequenceWidth = 0
    // Row-major `count × numericWidth`; NaN marks a missing value (JSON cannot produce NaN, so it is free).
    @usableFromInline var dense: [Double] = []
    // Row-major `count × categoricalWidth`.
    @usableFromInline var categoricalSlots: [Slot] = []
    // Row-major `count × sequenceWidth`.
    @usableFromInline var sequenceSlots: [SequenceSlot] = []
    @usableFromInline var tokenSlots: [Slot] = []
    @usableFromInline var categoricalBytes: [UInt8] = []
    // Scratch space for rare escaped keys, kept here so decoding them allocates only once.
    var scratch: [UInt8] = []
    // Per field ordinal, the row stamp of the last row that set it: duplicate detection for any field count.
    var seenStamps: [UInt32] = []
    var rowStamp: UInt32 = 0

    /// Creates empty storage with room for `rows` rows of typical size.
    public init(reservingRows rows: Int = 1) {
        dense.reserveCapacity(rows * 16)
        categoricalSlots.reserveCapacity(rows * 32)
        categoricalBytes.reserveCapacity(rows * 32 * 16)
    }

    /// Removes every row and sets the layout for the next request, keeping the storage.
    public mutating func reset(numeric: Int, categorical: Int, sequences: Int, names: Int) {
        count = 0
        numericWidth = numeric
        categoricalWidth = categorical
        sequenceWidth = sequences
        dense.removeAll(keepingCapacity: true)
        categoricalSlots.removeAll(keepingCapacity: true)
        sequenceSlots.removeAll(keepingCapacity: true)
        tokenSlots.removeAll(keepingCapacity: true)
        categoricalBytes.removeAll(keepingCapacity: true)
        if seenStamps.count != names {
            seenStamps = Array(repeating: 0, count: names)
            rowStamp = 0
        }
    }

    /// The numeric value of field `field` in `row`, or nil when it is missing.
    @inlinable
    public func dense(row: Int, field: Int) -> Double? {
        precondition(row >= 0 && row < count && field >= 0 && field < numericWidth, "slot out of range")
        let value = dense[row * numericWidth + field]
        return value.isNaN ? nil : value
    }

    /// Calls `body` with all numeric values, row-major `count × numericWidth`, NaN where a value is missing.
    @inlinable
    public func withUnsafeDenseValues<R, E: Error>(_ body: (UnsafeBufferPointer<Double>) throws(E) -> R) throws(E) -> R {
        // withUnsafeBufferPointer is rethrows-only, so route the typed error through a Result.
        let result: Result<R, E> = dense.withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Calls `body` with the UTF-8 bytes of categorical field `field` in `row`, or nil when it is missing.
    @inlinable
    public func withCategoricalBytes<R, E: Error>(
        row: Int, field: Int, _ body: (UnsafeRawBufferPointer?) throws(E) -> R
    ) throws(E) -> R {
        precondition(row >= 0 && row < count && field >= 0 && field < categoricalWidth, "slot out of range")
        let slot = categoricalSlots[row * categoricalWidth + field]
        if slot.length < 0 { return try body(nil) }
        let result: Result<R, E> = categoricalBytes.withUnsafeBytes { bytes in
            let value = UnsafeRawBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset) + Int(slot.length)])
            do throws(E) { return .success(try body(value)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Calls `body` for every categorical slot, row-major (`row * categoricalWidth + field`), with its bytes or nil when missing.
    ///
    /// One pass over the storage for the whole request: the hot path's alternative to `withCategoricalBytes` per slot.
    @inlinable
    public func forEachCategorical(_ body: (_ index: Int, _ field: Int, _ bytes: UnsafeRawBufferPointer?) -> Void) {
        let width = categoricalWidth
        categoricalBytes.withUnsafeBytes { bytes in
            categoricalSlots.withUnsafeBufferPointer { slots in
                var field = 0
                for index in 0..<slots.count {
                    let slot = slots[index]
                    if slot.length < 0 {
                        body(index, field, nil)
                    } else {
                        body(index, field, UnsafeRawBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset) + Int(slot.length)]))
                    }
                    field += 1
                    if field == width { field = 0 }
                }
            }
        }
    }

    /// The shape of one row's sequence value, for ``forEachSequence(_:)``.
    public enum SequenceValue {
        /// Absent or null.
        case missing
        /// One string, tokens joined by the field's splitter.
        case joined(UnsafeRawBufferPointer)
        /// A list of tokens; `token(i)` gives token `i`'s bytes (empty for an empty token).
        case tokens(count: Int, token: (Int) -> UnsafeRawBufferPointer)
    }

    /// Calls `body` with sequence field `field` of `row` (one slot; the prediction log reads rows one by one).
    func withSequence(row: Int, field: Int, _ body: (SequenceValue) -> Void) {
        categoricalBytes.withUnsafeBytes { bytes in
            func view(_ slot: Slot) -> UnsafeRawBufferPointer {
                slot.length <= 0 ? UnsafeRawBufferPointer(start: nil, count: 0)
                    : UnsafeRawBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset) + Int(slot.length)])
            }
            let entry = sequenceSlots[row * sequenceWidth + field]
            if entry.count >= 0 {
                let first = Int(entry.first)
                body(.tokens(count: Int(entry.count), token: { view(tokenSlots[first + $0]) }))
            } else if entry.slot.length < 0 {
                body(.missing)
            } else {
                body(.joined(view(entry.slot)))
            }
        }
    }

    /// Calls `body` for every row's sequence fields, row-major, with its value.
    public func forEachSequence(_ body: (_ row: Int, _ field: Int, _ value: SequenceValue) -> Void) {
        let width = sequenceWidth
        guard width > 0 else { return }
        categoricalBytes.withUnsafeBytes { bytes in
            func view(_ slot: Slot) -> UnsafeRawBufferPointer {
                slot.length <= 0 ? UnsafeRawBufferPointer(start: nil, count: 0)
                    : UnsafeRawBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset) + Int(slot.length)])
            }
            for index in 0..<sequenceSlots.count {
                let entry = sequenceSlots[index]
                let row = index / width, field = index % width
                if entry.count >= 0 {
                    let first = Int(entry.first)
                    body(row, field, .tokens(count: Int(entry.count), token: { view(tokenSlots[first + $0]) }))
                } else if entry.slot.length < 0 {
                    body(row, field, .missing)
                } else {
                    body(row, field, .joined(view(entry.slot)))
                }
            }
        }
    }

    /// The value of categorical field `field` in `row` as a String, or nil when missing (allocates; for tests and logs).
    public func categoricalString(row: Int, field: Int) -> String? {
        withCategoricalBytes(row: row, field: field) { bytes in
            bytes.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The tokens of sequence field `field` in `row` (allocates; for tests): nil when missing, a joined string as one element.
    public func sequenceStrings(row: Int, field: Int) -> [String]? {
        var result: [String]?
        forEachSequence { r, f, value in
            guard r == row, f == field else { return }
            switch value {
            case .missing: result = nil
            case .joined(let bytes): result = [String(decoding: bytes, as: UTF8.self)]
            case .tokens(let count, let token): result = (0..<count).map { String(decoding: token($0), as: UTF8.self) }
            }
        }
        return result
    }

    /// Whether categorical field `field` of `row` is missing (absent, null or "").
    func isCategoricalMissing(row: Int, field: Int) -> Bool { categoricalSlots[row * categoricalWidth + field].length < 0 }

    /// Whether numeric field `field` of `row` is missing.
    func isNumericMissing(row: Int, field: Int) -> Bool { dense[row * numericWidth + field].isNaN }

    /// Whether sequence field `field` of `row` is missing (absent or null; an empty list is a value).
    func isSequenceMissing(row: Int, field: Int) -> Bool {
        let entry = sequenceSlots[row * sequenceWidth + field]
        return entry.count < 0 && entry.slot.length < 0
    }

    // MARK: - Filling (used by the decoder)

    /// Appends a row with every slot missing and returns its index.
    @inline(__always)
    mutating func appendMissingRow() -> Int {
        for _ in 0..<numericWidth { dense.append(.nan) }
        for _ in 0..<categoricalWidth { categoricalSlots.append(.missing) }
        for _ in 0..<sequenceWidth { sequenceSlots.append(.missing) }
        count += 1
        rowStamp &+= 1
        if rowStamp == 0 {
            // Wrapped after 2^32 rows on this connection: forget old stamps so none can match.
            for i in seenStamps.indices { seenStamps[i] = 0 }
            rowStamp = 1
        }
        return count - 1
    }

    /// Marks field `ordinal` as set in the current row; false when it already was (a duplicate key).
    @inline(__always)
    mutating func markSeen(_ ordinal: Int) -> Bool {
        if seenStamps[ordinal] == rowStamp { return false }
        seenStamps[ordinal] = rowStamp
        return true
    }

    @inline(__always)
    mutating func setDense(row: Int, field: Int, _ value: Double) {
        dense[row * numericWidth + field] = value
    }

    /// Appends `bytes` to the side buffer and returns their slot.
    @inline(__always)
    mutating func store(_ bytes: UnsafeRawBufferPointer) -> Slot {
        let offset = categoricalBytes.count
        categoricalBytes.append(contentsOf: bytes)
        return Slot(offset: Int32(truncatingIfNeeded: offset), length: Int32(truncatingIfNeeded: bytes.count))
    }

    /// Unescapes a string token straight into the side buffer and returns its slot.
    mutating func store(escaped token: JSONScanner.StringToken, scanner: JSONScanner) -> Slot {
        let offset = categoricalBytes.count
        scanner.unescape(token, into: &categoricalBytes)
        return Slot(offset: Int32(truncatingIfNeeded: offset), length: Int32(truncatingIfNeeded: categoricalBytes.count - offset))
    }

    @inline(__always)
    mutating func setCategorical(row: Int, field: Int, _ slot: Slot) {
        categoricalSlots[row * categoricalWidth + field] = slot
    }

    @inline(__always)
    mutating func setSequence(row: Int, field: Int, joined slot: Slot) {
        sequenceSlots[row * sequenceWidth + field] = SequenceSlot(slot: slot, first: 0, count: -1)
    }

    /// Starts a token list for a sequence field; tokens follow with ``appendToken(_:)``.
    @inline(__always)
    mutating func beginTokens(row: Int, field: Int) {
        sequenceSlots[row * sequenceWidth + field] = SequenceSlot(slot: .missing, first: Int32(truncatingIfNeeded: tokenSlots.count), count: 0)
    }

    @inline(__always)
    mutating func appendToken(row: Int, field: Int, _ slot: Slot) {
        tokenSlots.append(slot)
        sequenceSlots[row * sequenceWidth + field].count += 1
    }
}
