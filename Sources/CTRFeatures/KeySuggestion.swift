/// "Did you mean ...?" for a mistyped config key: the nearest known key by edit distance.
enum KeySuggestion {
    /// The known key closest to a typo, within an edit distance of a third of its length (at least 2).
    static func nearest(_ key: String, in known: Set<String>) -> String? {
        var best: String?, bestDistance = Int.max
        for candidate in known.sorted() {
            let distance = editDistance(key, candidate)
            if distance < bestDistance {
                best = candidate
                bestDistance = distance
            }
        }
        return bestDistance <= max(2, key.count / 3) ? best : nil
    }

    /// Levenshtein distance over UTF-8 bytes.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count), current = previous
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
