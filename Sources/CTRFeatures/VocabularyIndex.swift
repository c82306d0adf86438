#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A frozen open-addressing hash table from (field, value bytes) to the value's global id.
///
/// Each 16-byte slot holds a 64-bit key: for values of at most 8 bytes (all Criteo values) the bytes
/// themselves, so a match is exact and needs no second memory access; for longer values a 64-bit hash,
/// confirmed by comparing the bytes kept on the side. Values whose hashes collide are therefore both
/// stored (the probe moves past the wrong one), and an unseen value colliding with a known one is still
/// out-of-vocabulary. Lookups touch only raw memory: no allocation, no reference counting, no bounds
/// checks. Large tables ask for transparent huge pages, since random lookups are TLB-bound.
struct VocabularyIndex: Sendable {
    /// One table slot; `id == 0` marks an empty slot (global id 0 is field 0's OOV, never stored).
    struct Slot {
        /// The value's bytes (length <= 8) or its 64-bit hash (longer values).
        var key: UInt64
        var id: UInt32
        /// Field in the high 16 bits, byte length (capped at 0xFFFF) in the low 16.
        var tag: UInt32
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
            let size = capacity * MemoryLayout<Slot>.stride
            let hugePage = 2 << 20
            var raw: UnsafeMutableRawPointer?
            if posix_memalign(&raw, size >= hugePage ? hugePage : 64, size) != 0 || raw == nil {
                fatalError("VocabularyIndex: cannot allocate \(size) bytes")
            }
            #if os(Linux)
            // Only a hint: without huge pages the table works the same, with more TLB misses.
            if size >= hugePage { _ = madvise(raw, size, MADV_HUGEPAGE) }
            #endif
            slots = raw!.bindMemory(to: Slot.self, capacity: capacity)
            slots.initialize(repeating: Slot(key: 0, id: 0, tag: 0), count: capacity)
            mask = capacity - 1
            bytes = .allocate(capacity: max(byteCount, 1))
            starts = .allocate(capacity: idCount + 1)
            starts.initialize(repeating: 0, count: idCount + 1)
            self.hashMask = hashMask
        }

        deinit {
            free(slots)
            bytes.deallocate()
            starts.deallocate()
        }
    }

    let storage: Storage
    /// The first value found twice within one field, if any.
    let firstDuplicate: Duplicate?
    /// How many stored values share their 64-bit key with a different value of the same field.
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
            // OOV and missing own empty byte ranges.
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
                let bytes = UnsafeRawBufferPointer(start: s.bytes + cursor, count: length)
                cursor += length
                s.starts[id + 1] = cursor
                let (key, position, tag) = Self.probeStart(field: field, value: bytes, hashMask: hashMask)
                var i = position & s.mask
                var collided = false
                while s.slots[i].id != 0 {
                    let other = s.slots[i]
                    if other.key == key && other.tag == tag {
                        if Self.equal(s, Int(other.id), bytes) {
                            if duplicate == nil { duplicate = Duplicate(field: field, value: value) }
                        } else {
                            collided = true
                        }
                    }
                    i = (i + 1) & s.mask
                }
                if collided { collisions += 1 }
                s.slots[i] = Slot(key: key, id: UInt32(id), tag: tag)
            }
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
        let (key, position, tag) = Self.probeStart(field: field, value: value, hashMask: s.hashMask)
        let exact = value.count <= 8
        var i = position & s.mask
        while true {
            let slot = s.slots[i]
            if slot.id == 0 { return nil }
            if slot.key == key && slot.tag == tag && (exact || Self.equal(s, Int(slot.id), value)) {
                return Int(slot.id)
            }
            i = (i + 1) & s.mask
        }
    }

    /// The slot key, the probe's starting position and the field/length tag of a value.
    @inline(__always)
    private static func probeStart(field: Int, value: UnsafeRawBufferPointer, hashMask: UInt64) -> (UInt64, Int, UInt32) {
        let count = value.count
        let tag = UInt32(truncatingIfNeeded: field) << 16 | UInt32(min(count, 0xFFFF))
        let seed = UInt64(truncatingIfNeeded: field + 1) &* 0xD6E8_FEB8_6659_FD93
        if count <= 8 {
            let word = ValueHash.packedWord(value)
            let position = ValueHash.finalize(word ^ seed ^ UInt64(count)) & hashMask
            return (word, Int(truncatingIfNeeded: position), tag)
        }
        let hash = ValueHash.hash(value, seed: seed) & hashMask
        return (hash, Int(truncatingIfNeeded: hash), tag)
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
