#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A frozen open-addressing hash table from (field, value bytes) to the value's global id.
///
/// Each 12-byte slot holds a 64-bit key and the global id. For values of at most 8 bytes (all Criteo
/// values) the key is the bytes themselves, padded with 0xFF, so a match is exact with one memory access
/// and nothing else is kept: stored values are Swift strings, hence valid UTF-8, which never contains
/// 0xFF, so the padding also encodes the length and a queried value holding a 0xFF byte is out of
/// vocabulary without a probe. For longer values the key is a 32-bit hash fragment plus the value's
/// index in a side arena, and a match is confirmed by comparing the bytes; values whose fragments
/// collide are therefore both stored (the probe moves past the wrong one), and an unseen value colliding
/// with a known one is still out-of-vocabulary. The field is not stored: a slot belongs to a field when
/// its id lies in the field's block of ids. At most 70% of the slots are used: about 17 bytes per short
/// value, where the previous layout (16-byte slots under 50% full, plus a copy of every value's bytes and
/// an offset per id) took about 70 (docs/BENCHMARKS.md, issue 12: 40 MiB instead of 166 for 2.47M values).
///
/// Lookups touch only raw memory: no allocation, no reference counting, no bounds checks. Large tables
/// ask for transparent huge pages, since random lookups are TLB-bound.
struct VocabularyIndex: Sendable {
    /// One table slot; `entry == 0` marks an empty slot (global id 0 is field 0's OOV, never stored).
    struct Slot {
        /// Low and high halves of the value's padded bytes, or (hash fragment, arena index) for long values.
        var keyLow: UInt32
        var keyHigh: UInt32
        /// The global id, with ``VocabularyIndex/longFlag`` set when the key is a hash fragment.
        var entry: UInt32
    }

    /// A field's stored ids: `first ..< first + count`.
    struct Block {
        var first: UInt32
        var count: UInt32
    }

    /// A value that appeared twice in one field's vocabulary, which would make ids ambiguous.
    struct Duplicate: Equatable {
        var field: Int
        var value: String
    }

    /// Marks slots of values longer than 8 bytes; ids stay below it.
    static let longFlag: UInt32 = 1 << 31
    /// The largest embedding table (in rows) the index can address.
    static let maxTotalSize = Int(longFlag) - 1

    // Immutable after init, and freed only in deinit, so sharing across threads is safe.
    final class Storage: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Slot>
        let capacity: Int
        let blocks: UnsafeMutablePointer<Block>
        /// Bytes of the values longer than 8 bytes, back to back; value `k` is `longStarts[k] ..< longStarts[k + 1]`.
        let longBytes: UnsafeMutablePointer<UInt8>
        let longStarts: UnsafeMutablePointer<Int>
        let hashMask: UInt64

        init(capacity: Int, blockCount: Int, longCount: Int, longByteCount: Int, hashMask: UInt64) {
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
            slots.initialize(repeating: Slot(keyLow: 0, keyHigh: 0, entry: 0), count: capacity)
            self.capacity = capacity
            blocks = .allocate(capacity: max(blockCount, 1))
            longBytes = .allocate(capacity: max(longByteCount, 1))
            longStarts = .allocate(capacity: longCount + 1)
            longStarts.initialize(to: 0)
            self.hashMask = hashMask
        }

        deinit {
            free(slots)
            blocks.deallocate()
            longBytes.deallocate()
            longStarts.deallocate()
        }

        /// The probe's first slot for a hash (Lemire's multiply-shift: any capacity, no modulo).
        @inline(__always)
        func position(_ hash: UInt64) -> Int {
            Int(truncatingIfNeeded: (hash & hashMask).multipliedFullWidth(by: UInt64(capacity)).high)
        }

        @inline(__always)
        func longEqual(_ index: Int, _ value: UnsafeRawBufferPointer) -> Bool {
            let start = longStarts[index]
            let length = longStarts[index + 1] - start
            return length == value.count && memcmp(longBytes + start, value.baseAddress!, length) == 0
        }
    }

    let storage: Storage
    /// The first value found twice within one field, if any.
    let firstDuplicate: Duplicate?
    /// How many stored values longer than 8 bytes share their hash fragment with a different value of the same field.
    let collisionCount: Int

    /// Builds the table; `hashMask` exists so tests can force collisions (production uses all 64 bits).
    ///
    /// `totalSize` must not exceed ``maxTotalSize`` (``FeatureMap`` checks it with a clear error first).
    init(vocabularies: [[String]], offsets: [Int], totalSize: Int, hashMask: UInt64 = ~0) {
        precondition(totalSize <= Self.maxTotalSize, "VocabularyIndex: \(totalSize) ids exceed \(Self.maxTotalSize)")
        var valueCount = 0, longCount = 0, longByteCount = 0
        for values in vocabularies {
            valueCount += values.count
            for value in values where value.utf8.count > 8 {
                longCount += 1
                longByteCount += value.utf8.count
            }
        }
        // At most 70% full: linear probing stays short (about 2 probes for a hit, 6 for a miss).
        let capacity = max(4, valueCount + valueCount * 3 / 7 + 1)
        let s = Storage(capacity: capacity, blockCount: vocabularies.count, longCount: longCount,
                        longByteCount: longByteCount, hashMask: hashMask)
        var duplicate: Duplicate?
        var collisions = 0
        var longIndex = 0
        for (field, values) in vocabularies.enumerated() {
            let first = offsets[field] + FeatureMap.firstVocabularyIndex
            let block = Block(first: UInt32(first), count: UInt32(values.count))
            s.blocks[field] = block
            for (index, value) in values.enumerated() {
                let id = UInt32(first + index)
                var text = value
                let (isDuplicate, collided) = text.withUTF8 { utf8 -> (Bool, Bool) in
                    let bytes = UnsafeRawBufferPointer(utf8)
                    if bytes.count <= 8 {
                        return Self.insertShort(s, field: field, block: block, value: bytes, id: id)
                    }
                    let start = s.longStarts[longIndex]
                    if let base = bytes.baseAddress { (s.longBytes + start).initialize(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
                    (s.longStarts + longIndex + 1).initialize(to: start + bytes.count)
                    defer { longIndex += 1 }
                    return Self.insertLong(s, field: field, block: block, value: bytes, id: id, longIndex: longIndex)
                }
                if isDuplicate, duplicate == nil { duplicate = Duplicate(field: field, value: value) }
                if collided { collisions += 1 }
            }
        }
        storage = s
        firstDuplicate = duplicate
        collisionCount = collisions
    }

    /// Returns the global id of `value` in `field`, or nil when the value is not in the vocabulary.
    @inline(__always)
    func globalID(field: Int, value: UnsafeRawBufferPointer) -> Int? {
        let s = storage
        let block = s.blocks[field]
        if value.count <= 8 {
            guard let key = Self.shortKey(value) else { return nil }
            let low = UInt32(truncatingIfNeeded: key), high = UInt32(truncatingIfNeeded: key >> 32)
            var i = s.position(ValueHash.finalize(key ^ Self.seed(field)))
            while true {
                let slot = s.slots[i]
                if slot.entry == 0 { return nil }
                // A long value's entry carries the flag, so it never falls inside the block.
                if slot.keyLow == low && slot.keyHigh == high && slot.entry &- block.first < block.count {
                    return Int(slot.entry)
                }
                i += 1
                if i == s.capacity { i = 0 }
            }
        }
        let hash = ValueHash.hash(value, seed: Self.seed(field))
        let fragment = UInt32(truncatingIfNeeded: hash & s.hashMask)
        var i = s.position(hash)
        while true {
            let slot = s.slots[i]
            if slot.entry == 0 { return nil }
            let id = slot.entry ^ Self.longFlag
            if slot.keyLow == fragment && id &- block.first < block.count && s.longEqual(Int(slot.keyHigh), value) {
                return Int(id)
            }
            i += 1
            if i == s.capacity { i = 0 }
        }
    }

    /// The slot key of a value of at most 8 bytes, or nil when it holds a 0xFF byte (never in a vocabulary).
    @inline(__always)
    static func shortKey(_ value: UnsafeRawBufferPointer) -> UInt64? {
        let count = value.count
        let word = ValueHash.packedWord(value)
        let padding: UInt64 = count == 8 ? 0 : ~0 << UInt64(8 * count)
        // `~word` has a zero byte exactly where the value has 0xFF (its zero padding turns to 0xFF); the
        // classic zero-byte test is exact about whether there is one.
        let inverted = ~word
        let ones: UInt64 = 0x0101_0101_0101_0101
        if (inverted &- ones) & ~inverted & (ones << 7) != 0 { return nil }
        return word | padding
    }

    @inline(__always)
    private static func seed(_ field: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: field + 1) &* 0xD6E8_FEB8_6659_FD93
    }

    /// Stores a short value; returns (it was already stored, false).
    private static func insertShort(_ s: Storage, field: Int, block: Block, value: UnsafeRawBufferPointer,
                                    id: UInt32) -> (Bool, Bool) {
        // Stored strings are valid UTF-8, so they always have a key.
        let key = shortKey(value)!
        let low = UInt32(truncatingIfNeeded: key), high = UInt32(truncatingIfNeeded: key >> 32)
        var i = s.position(ValueHash.finalize(key ^ seed(field)))
        while s.slots[i].entry != 0 {
            let other = s.slots[i]
            if other.keyLow == low && other.keyHigh == high && other.entry &- block.first < block.count { return (true, false) }
            i += 1
            if i == s.capacity { i = 0 }
        }
        s.slots[i] = Slot(keyLow: low, keyHigh: high, entry: id)
        return (false, false)
    }

    /// Stores a long value already copied to arena entry `longIndex`; returns (it was already stored, its fragment collided).
    private static func insertLong(_ s: Storage, field: Int, block: Block, value: UnsafeRawBufferPointer,
                                   id: UInt32, longIndex: Int) -> (Bool, Bool) {
        let hash = ValueHash.hash(value, seed: seed(field))
        let fragment = UInt32(truncatingIfNeeded: hash & s.hashMask)
        var i = s.position(hash)
        var collided = false
        while s.slots[i].entry != 0 {
            let other = s.slots[i]
            let otherID = other.entry ^ longFlag
            if other.keyLow == fragment && otherID &- block.first < block.count {
                if s.longEqual(Int(other.keyHigh), value) { return (true, false) }
                collided = true
            }
            i += 1
            if i == s.capacity { i = 0 }
        }
        s.slots[i] = Slot(keyLow: fragment, keyHigh: UInt32(longIndex), entry: id | longFlag)
        return (false, collided)
    }
}
