#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts occurrences of one field's values straight from their bytes, without a String per value.
///
/// An open-addressing table keyed by a 64-bit hash, confirmed by byte comparison, with the value
/// bytes kept once in an arena. Fitting on millions of rows is dominated by this table.
struct ValueCounter {
    private struct Slot {
        var hash: UInt64
        var start: Int
        var length: Int
        var count: Int  // 0 marks an empty slot
    }

    private var slots = [Slot](repeating: Slot(hash: 0, start: 0, length: 0, count: 0), count: 64)
    private var arena: [UInt8] = []
    private let seed: UInt64
    /// Number of distinct values seen.
    private(set) var distinctCount = 0

    init(seed: UInt64) {
        self.seed = seed
    }

    /// Counts one occurrence of `value`.
    mutating func add(_ value: UnsafeRawBufferPointer) {
        let h = ValueHash.hash(value, seed: seed)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].count != 0 {
            if slots[i].hash == h && matches(slots[i], value) {
                slots[i].count += 1
                return
            }
            i = (i + 1) & mask
        }
        let start = arena.count
        arena.append(contentsOf: value)
        slots[i] = Slot(hash: h, start: start, length: value.count, count: 1)
        distinctCount += 1
        if distinctCount * 2 > slots.count { grow() }
    }

    /// Values seen at least `minCount` times, by descending count then ascending UTF-8 bytes.
    func vocabulary(minCount: Int) -> [String] {
        var kept = slots.filter { $0.count > 0 && $0.count >= minCount }
        arena.withUnsafeBufferPointer { bytes in
            kept.sort { a, b in
                if a.count != b.count { return a.count > b.count }
                let common = min(a.length, b.length)
                let order = common == 0 ? 0 : memcmp(bytes.baseAddress! + a.start, bytes.baseAddress! + b.start, common)
                return order != 0 ? order < 0 : a.length < b.length
            }
        }
        return kept.map { String(decoding: arena[$0.start..<($0.start + $0.length)], as: UTF8.self) }
    }

    private func matches(_ slot: Slot, _ value: UnsafeRawBufferPointer) -> Bool {
        guard slot.length == value.count else { return false }
        guard slot.length > 0 else { return true }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + slot.start, value.baseAddress!, slot.length) == 0 }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(hash: 0, start: 0, length: 0, count: 0), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.count != 0 {
            var i = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[i].count != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}
