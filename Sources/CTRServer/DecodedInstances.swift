/// The rows of a CTR predict request in flat, reusable storage: 13 dense and 26 categorical slots a row.
///
/// Built for the hot path: one value is kept per connection or worker and refilled by
/// `PredictRequestDecoder.decode(_:into:)`, so after warm-up decoding allocates nothing. Dense values
/// are `Double` (exact for every integer up to 2^53); categorical values are UTF-8 bytes (already
/// unescaped) copied into one side buffer, so the rows stay valid after the request body is released
/// and `FeatureEncoder.categoricalID(field:utf8:)` can hash them without creating a `String`.
///
/// Field numbering follows the Criteo names: dense field `f` is `I<f+1>`, categorical field `f` is
/// `C<f+1>`.
public struct DecodedInstances: Sendable {
    /// Dense fields a row: `I1`...`I13`.
    public static let denseFieldCount = 13
    /// Categorical fields a row: `C1`...`C26`.
    public static let categoricalFieldCount = 26

    /// Where one categorical value lives in `categoricalBytes`; a negative length means missing.
    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var offset: Int32
        @usableFromInline var length: Int32
        @usableFromInline static let missing = Slot(offset: 0, length: -1)
    }

    /// The number of rows decoded.
    public private(set) var count: Int = 0
    // Row-major `count × 13`; NaN marks a missing value (JSON cannot produce NaN, so it is free).
    @usableFromInline var dense: [Double] = []
    // Row-major `count × 26`.
    @usableFromInline var categoricalSlots: [Slot] = []
    @usableFromInline var categoricalBytes: [UInt8] = []
    // Scratch space for rare escaped keys, kept here so decoding them allocates only once.
    var scratch: [UInt8] = []

    /// Creates empty storage with room for `rows` rows of typical size.
    public init(reservingRows rows: Int = 1) {
        reserve(rows: rows)
    }

    /// Ensures room for `rows` rows (with ~16 bytes a categorical value) without reallocating.
    public mutating func reserve(rows: Int) {
        dense.reserveCapacity(rows * Self.denseFieldCount)
        categoricalSlots.reserveCapacity(rows * Self.categoricalFieldCount)
        categoricalBytes.reserveCapacity(rows * Self.categoricalFieldCount * 16)
    }

    /// Removes every row, keeping the storage for the next request.
    public mutating func removeAll() {
        count = 0
        dense.removeAll(keepingCapacity: true)
        categoricalSlots.removeAll(keepingCapacity: true)
        categoricalBytes.removeAll(keepingCapacity: true)
    }

    /// The dense value of `I<field+1>` in `row`, or nil when it is missing.
    @inlinable
    public func dense(row: Int, field: Int) -> Double? {
        precondition(row >= 0 && row < count && field >= 0 && field < Self.denseFieldCount, "slot out of range")
        let value = dense[row * Self.denseFieldCount + field]
        return value.isNaN ? nil : value
    }

    /// Calls `body` with all dense values, row-major `count × 13`, NaN where a value is missing.
    @inlinable
    public func withUnsafeDenseValues<R, E: Error>(_ body: (UnsafeBufferPointer<Double>) throws(E) -> R) throws(E) -> R {
        // withUnsafeBufferPointer is rethrows-only, so route the typed error through a Result.
        let result: Result<R, E> = dense.withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Calls `body` with the UTF-8 bytes of `C<field+1>` in `row`, or nil when it is missing.
    @inlinable
    public func withCategoricalBytes<R, E: Error>(
        row: Int, field: Int, _ body: (UnsafeRawBufferPointer?) throws(E) -> R
    ) throws(E) -> R {
        precondition(row >= 0 && row < count && field >= 0 && field < Self.categoricalFieldCount, "slot out of range")
        let slot = categoricalSlots[row * Self.categoricalFieldCount + field]
        if slot.length < 0 { return try body(nil) }
        let result: Result<R, E> = categoricalBytes.withUnsafeBytes { bytes in
            let value = UnsafeRawBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset) + Int(slot.length)])
            do throws(E) { return .success(try body(value)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Calls `body` for every categorical slot, row-major (`row * 26 + field` order), with its bytes or nil when missing.
    ///
    /// One pass over the storage for the whole request: the hot path's alternative to `withCategoricalBytes` per slot.
    @inlinable
    public func forEachCategorical(_ body: (_ index: Int, _ field: Int, _ bytes: UnsafeRawBufferPointer?) -> Void) {
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
                    if field == Self.categoricalFieldCount { field = 0 }
                }
            }
        }
    }

    /// The value of `C<field+1>` in `row` as a String, or nil when missing (allocates; for tests and logs).
    public func categoricalString(row: Int, field: Int) -> String? {
        withCategoricalBytes(row: row, field: field) { bytes in
            bytes.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    // MARK: - Filling (used by the decoder)

    /// Appends a row with every slot missing and returns its index.
    @inline(__always)
    mutating func appendMissingRow() -> Int {
        for _ in 0..<Self.denseFieldCount { dense.append(.nan) }
        for _ in 0..<Self.categoricalFieldCount { categoricalSlots.append(.missing) }
        count += 1
        return count - 1
    }

    @inline(__always)
    mutating func setDense(row: Int, field: Int, _ value: Double) {
        dense[row * Self.denseFieldCount + field] = value
    }

    /// Appends `bytes` to the side buffer and points the slot at them.
    @inline(__always)
    mutating func setCategorical(row: Int, field: Int, bytes: UnsafeRawBufferPointer) {
        let offset = categoricalBytes.count
        categoricalBytes.append(contentsOf: bytes)
        categoricalSlots[row * Self.categoricalFieldCount + field] =
            Slot(offset: Int32(truncatingIfNeeded: offset), length: Int32(truncatingIfNeeded: bytes.count))
    }

    /// Unescapes a string token straight into the side buffer and points the slot at it.
    mutating func setCategorical(row: Int, field: Int, escaped token: JSONScanner.StringToken, scanner: JSONScanner) {
        let offset = categoricalBytes.count
        scanner.unescape(token, into: &categoricalBytes)
        categoricalSlots[row * Self.categoricalFieldCount + field] =
            Slot(offset: Int32(truncatingIfNeeded: offset), length: Int32(truncatingIfNeeded: categoricalBytes.count - offset))
    }
}
