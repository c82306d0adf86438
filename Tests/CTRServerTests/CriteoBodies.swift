/// Realistic Criteo-style request bodies shared by tests and timing runs.
enum CriteoBodies {
    /// One row with all 39 features, values as in the Criteo Display Advertising data (~600 bytes).
    static func row(_ seed: Int = 0) -> String {
        let dense = [1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, -1, 2].map { $0 == -1 ? -1 : $0 + seed % 7 }
        let categorical = [
            "68fd1e64", "80e26c9b", "fb936136", "7b4723c4", "25c83c98", "7e0ccccf", "de7995b8", "1f89b562",
            "a73ee510", "a8cd5504", "b2cb9c98", "37c9c164", "2824a5f6", "1adce6ef", "8ba8b39a", "891b62e7",
            "e5ba7672", "f54016b9", "21ddcdc9", "b1252a9d", "07b5194c", "3a171ecb", "c5c50484", "e8b83407",
            "9727dd16", "d7c4a8f5",
        ]
        var fields: [String] = []
        for (i, value) in dense.enumerated() { fields.append("\"I\(i + 1)\":\(value)") }
        for (i, value) in categorical.enumerated() { fields.append("\"C\(i + 1)\":\"\(value)\"") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// `{"instances":[row, row, ...]}` with `rows` rows.
    static func body(rows: Int) -> [UInt8] {
        Array(("{\"instances\":[" + (0..<rows).map { row($0) }.joined(separator: ",") + "]}").utf8)
    }
}
