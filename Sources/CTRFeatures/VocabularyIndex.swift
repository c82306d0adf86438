#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A frozen open-addressing hash table from (field, value bytes) to the value's global id.
///
/// Slots are keyed by a 64-bit hash of the UTF-8 bytes; a hash match is confirmed by comparing the
/// bytes, so two vocabulary values whose hashes collide are both stored (the probe moves past the
/// wrong one) and an unseen value that collides with a known one is still out-of-vocabulary.
/// Lookups touch only raw memory: no allocation, no reference counting, no bounds checks.
struct VocabularyIndex: Sendable {
    /// One table slot; `id == 0` marks an empty slot (global id 0 is field 0's OOV, never stored).
    struct Slot {
        var hash: UInt64
        var id: UInt32
        var field: UInt32
    }

    /// A value that appeared twice in one field's vocabulary, which would make ids ambiguous.
    struct Duplicate: Equatable {
        var field: Int
        var value: String
    }

    // Immutable after init, and freed only in deinit, so sharing across threads is safe.
    final class Storage: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Slot>
        let mask: Int
        let bytes: UnsafeMutablePointer<UInt8>
        let starts: UnsafeMutablePointer<Int>
        let hashMask: UInt64

        init(capacity: Int, byteCount: Int, idCount: Int, hashMask: UInt64) {
            slots = .allocate(capacity: capacity)
            slots.initialize(repeating: Slot(hash: 0, id: 0, field: 0), count: capacity)
            mask = capacity - 1
            bytes = .allocate(capacity: max(byteCount, 1))
            starts = .allocate(capacity: idCount + 1)
            starts.initialize(repeating: 0, count: idCount + 1)
            self.hashMask = hashMask
        }

        deinit {
            slots.deallocate()
            bytes.deallocate()
            starts.deallocate()
        }
    }

    let storage: Storage
    /// The first value found twice within one field, if any.
    let firstDuplicate: Duplicate?
    /// How many stored values share their 64-bit hash with another value of the same field.
    let collisionCount: Int

    /// Builds the table; `hashMask` exists so tests can force collisions (production uses all 64 bits).
    init(vocabularies: [[String]], offsets: [Int], totalSize: Int, hashMask: UInt64 = ~0) {
        let valueCount = vocabularies.reduce(0) { $0 + $1.count }
        let byteCount = vocabularies.reduce(0) { $0 + $1.reduce(0) { $0 + $1.utf8.count } }
        var capacity = 16
        while capacity < valueCount * 2 { capacity <<= 1 }  // load factor <= 0.5 keeps probes short
        let s = Storage(capacity: capacity, byteCount: byteCount, idCount: totalSize, hashMask: hashMask)
        var duplicate: Duplicate?
        var collisions = 0
        var cursor = 0
        for (field, values) in vocabularies.enumerated() {
            let seed = Self.seed(field: field)
            // OOV and missing slots own empty byte ranges.
            s.starts[offsets[field]] = cursor
            s.starts[offsets[field] + 1] = cursor
            for (index, value) in values.enumerated() {
                let id = offsets[field] + 2 + index
                s.starts[id] = cursor
                var length = 0
                for byte in value.utf8 {
                    s.bytes[cursor + length] = byte
                    length += 1
                }
                let key = UnsafeRawBufferPointer(start: s.bytes + cursor, count: length)
                cursor += length
                s.starts[id + 1] = cursor
                let h = ValueHash.hash(key, seed: seed) & hashMask
                var i = Int(truncatingIfNeeded: h) & s.mask
                var collided = false
                while s.slots[i].id != 0 {
                    let other = s.slots[i]
                    if other.hash == h && other.field == UInt32(field) {
                        if Self.equal(s, Int(other.id), key) {
                            if duplicate == nil { duplicate = Duplicate(field: field, value: value) }
                        } else {
                            collided = true
                        }
                    }
                    i = (i + 1) & s.mask
                }
                if collided { collisions += 1 }
                s.slots[i] = Slot(hash: h, id: UInt32(id), field: UInt32(field))
            }
            // Ids after the vocabulary (none) and before the next field start at the same cursor.
            if field + 1 == vocabularies.count { s.starts[totalSize] = cursor }
        }
        storage = s
        firstDuplicate = duplicate
        collisionCount = collisions
    }

    /// Returns the global id of `value` in `field`, or nil when the value is not in the vocabulary.
    @inline(__always)
    func globalID(field: Int, value: UnsafeRawBufferPointer) -> Int? {
        let s = storage
        let h = ValueHash.hash(value, seed: Self.seed(field: field)) & s.hashMask
        var i = Int(truncatingIfNeeded: h) & s.mask
        while true {
            let slot = s.slots[i]
            if slot.id == 0 { return nil }
            if slot.hash == h && slot.field == UInt32(truncatingIfNeeded: field)
                && Self.equal(s, Int(slot.id), value) {
                return Int(slot.id)
            }
            i = (i + 1) & s.mask
        }
    }

    @inline(__always)
    private static func seed(field: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: field + 1) &* 0xD6E8_FEB8_6659_FD93
    }

    @inline(__always)
    private static func equal(_ s: Storage, _ id: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        let start = s.starts[id]
        let length = s.starts[id + 1] - start
        guard length == value.count else { return false }
        guard length > 0 else { return true }
        return memcmp(s.bytes + start, value.baseAddress!, length) == 0
    }
}
