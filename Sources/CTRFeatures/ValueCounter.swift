#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts occurrences of one field's values straight from their bytes, without a String per value.
///
/// An open-addressing table of 16-byte slots (high-cardinality fields make this table, not parsing,
/// the cost of fitting, and random probes are cache-bound, so slots are kept small). As in
/// ``VocabularyIndex``, a slot's key is the value itself when it fits in 8 bytes (exact) and otherwise
/// a hash confirmed by comparing bytes kept once in an arena. Counts saturate at 2^32 - 1.
struct ValueCounter {
    private struct Slot {
        var key: UInt64
        var count: UInt32  // 0 marks an empty slot
        /// Entry index in the high 28 bits; the low 4 bits hold the byte length, or 15 for "longer than 8".
        var meta: UInt32
    }

    private struct Entry {
        var start: Int
        var length: Int
        var hash: UInt64  // the probe position hash, kept so growing does not rehash bytes
    }

    private var slots = [Slot](repeating: Slot(key: 0, count: 0, meta: 0), count: 64)
    private var entries: [Entry] = []
    private var arena: [UInt8] = []
    private let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
    }

    /// Number of distinct values seen.
    var distinctCount: Int { entries.count }

    /// Counts one occurrence of `value`.
    mutating func add(_ value: UnsafeRawBufferPointer) {
        let length = value.count
        let exact = length <= 8
        let lengthCode = UInt32(exact ? length : 15)
        let h: UInt64
        let key: UInt64
        if exact {
            key = ValueHash.packedWord(value)
            h = ValueHash.finalize(key ^ seed ^ UInt64(length))
        } else {
            h = ValueHash.hash(value, seed: seed)
            key = h
        }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].count != 0 {
            let slot = slots[i]
            if slot.key == key && slot.meta & 0xF == lengthCode && (exact || matches(Int(slot.meta >> 4), value)) {
                if slot.count != .max { slots[i].count += 1 }
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(key: key, count: 1, meta: UInt32(entries.count) << 4 | lengthCode)
        entries.append(Entry(start: arena.count, length: length, hash: h))
        arena.append(contentsOf: value)
        precondition(entries.count < 1 << 28, "ValueCounter: more than 2^28 distinct values in one field")
        if entries.count * 2 > slots.count { grow() }
    }

    /// Values seen at least `minCount` times, by descending count then ascending UTF-8 bytes.
    func vocabulary(minCount: Int) -> [String] {
        var kept: [(count: UInt32, entry: Entry)] = slots.compactMap { slot in
            slot.count > 0 && Int(slot.count) >= minCount ? (slot.count, entries[Int(slot.meta >> 4)]) : nil
        }
        arena.withUnsafeBufferPointer { bytes in
            kept.sort { a, b in
                if a.count != b.count { return a.count > b.count }
                let common = min(a.entry.length, b.entry.length)
                let order = common == 0 ? 0 : memcmp(bytes.baseAddress! + a.entry.start, bytes.baseAddress! + b.entry.start, common)
                return order != 0 ? order < 0 : a.entry.length < b.entry.length
            }
        }
        return kept.map { String(decoding: arena[$0.entry.start..<($0.entry.start + $0.entry.length)], as: UTF8.self) }
    }


    private func matches(_ entry: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        let e = entries[entry]
        guard e.length == value.count else { return false }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + e.start, value.baseAddress!, e.length) == 0 }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(key: 0, count: 0, meta: 0), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.count != 0 {
            var i = Int(truncatingIfNeeded: entries[Int(slot.meta >> 4)].hash) & mask
            while slots[i].count != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}
