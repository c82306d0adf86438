#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a schema column by its name's UTF-8 bytes without allocating: the request decoder's key lookup.
///
/// A frozen open-addressing table (load <= 1/2) keyed by an FNV-1a hash of the name, confirmed by
/// comparing bytes, so any number of fields costs one hash and usually one comparison per key.
public struct FieldNameTable: Sendable {
    // All names' bytes back to back (one buffer, so a lookup touches no nested array).
    private let nameBytes: [UInt8]
    private let nameStarts: [Int]
    private let refs: [FieldRef]
    private let slots: [Int32]  // index into names/refs, -1 empty
    private let mask: Int

    /// Indexes every active field of `schema` and, as ``FieldRef/ignored``, its inactive columns.
    public init(schema: FeatureSchema, includeLabel: Bool = false) {
        var names: [[UInt8]] = [], refs: [FieldRef] = []
        for (i, field) in schema.categoricalFields.enumerated() { names.append(Array(field.name.utf8)); refs.append(.categorical(i)) }
        for (i, field) in schema.numericFields.enumerated() { names.append(Array(field.name.utf8)); refs.append(.dense(i)) }
        for (i, field) in schema.sequenceFields.enumerated() { names.append(Array(field.name.utf8)); refs.append(.sequence(i)) }
        for column in schema.inactiveColumns { names.append(Array(column.utf8)); refs.append(.ignored) }
        if includeLabel { names.append(Array(schema.label.utf8)); refs.append(.ignored) }
        var capacity = 8
        while capacity < names.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        for (index, name) in names.enumerated() {
            var i = name.withUnsafeBytes { Self.hash($0) } & (capacity - 1)
            while slots[i] >= 0 { i = (i + 1) & (capacity - 1) }
            slots[i] = Int32(index)
        }
        nameBytes = names.flatMap { $0 }
        var starts = [0]
        for name in names { starts.append(starts.last! + name.count) }
        nameStarts = starts
        self.refs = refs
        self.slots = slots
        mask = capacity - 1
    }

    /// Number of names indexed (fields, inactive columns and the label if asked for).
    public var count: Int { refs.count }

    /// The column a name refers to, or nil when the schema has no such column.
    @inlinable
    public func field(named name: UnsafeRawBufferPointer) -> FieldRef? {
        lookup(name)
    }

    /// The column a name refers to, or nil when the schema has no such column.
    public func field(named name: String) -> FieldRef? {
        var name = name
        return name.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    /// The position of a field in one flat numbering (categorical, numeric, sequence, ignored), or -1: for "seen" bitsets.
    @inlinable
    public func ordinal(named name: UnsafeRawBufferPointer) -> Int {
        lookupIndex(name)
    }

    /// The name at an ordinal from ``ordinal(named:)``.
    public func name(ofOrdinal ordinal: Int) -> String {
        String(decoding: nameBytes[nameStarts[ordinal]..<nameStarts[ordinal + 1]], as: UTF8.self)
    }

    /// The field at an ordinal from ``ordinal(named:)``.
    @inlinable
    public func field(ofOrdinal ordinal: Int) -> FieldRef {
        refAt(ordinal)
    }

    @usableFromInline
    func refAt(_ ordinal: Int) -> FieldRef { refs[ordinal] }

    @usableFromInline
    func lookup(_ name: UnsafeRawBufferPointer) -> FieldRef? {
        let index = lookupIndex(name)
        return index < 0 ? nil : refs[index]
    }

    @usableFromInline
    func lookupIndex(_ name: UnsafeRawBufferPointer) -> Int {
        var i = Self.hash(name) & mask
        while true {
            let index = Int(slots[i])
            if index < 0 { return -1 }
            let start = nameStarts[index], length = nameStarts[index + 1] - start
            if length == name.count && (length == 0 || nameBytes.withUnsafeBytes({ memcmp($0.baseAddress! + start, name.baseAddress!, length) == 0 })) {
                return index
            }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
