import Testing
@testable import CTRFeatures

/// Item tables encoded with a bundle's vocabulary (`serve --item-table`).
@Suite struct ItemTableTests {
    static let encoder = FeatureEncoder(map: SchemaEncodingTests.fitted())

    static func rows(_ columns: [String], _ rows: [[String?]]) -> ItemRows {
        ItemRows(path: "items.csv", columns: columns, rows: rows, lines: rows.indices.map { $0 + 2 })
    }

    @Test func encodesEachItemAsTheEncoderWouldAndFindsKeysByBytes() throws {
        let table = try ItemTable(Self.rows(["item", "price", "tags", "level"], [
            ["a", "10", "x|y", "1"], ["zz-new-item-outside-vocab", nil, nil, nil], ["b", "20", "w", "2"],
        ]), encoder: Self.encoder)
        #expect(table.count == 3 && table.key == "item" && table.keyField == 0)
        #expect(table.categoricalFields == [1] && table.numericFields == [0] && table.sequenceFields == [1])
        let encoder = Self.encoder
        #expect(table.ids == [encoder.categoricalID(field: 1, string: "1"), encoder.categoricalID(field: 1, string: nil),
                              encoder.categoricalID(field: 1, string: "2")])
        #expect(table.dense == [encoder.denseValue(field: 0, raw: 10), encoder.denseValue(field: 0, raw: nil), encoder.denseValue(field: 0, raw: 20)])
        let width = encoder.sequenceLengths[1]
        #expect(table.sequenceWidth == width)
        var expected = [Int64](repeating: 0, count: width)
        var text = "x|y"
        text.withUTF8 { encoder.encodeSequence(field: 1, utf8: UnsafeRawBufferPointer($0), into: &expected) }
        #expect(Array(table.sequenceIDs[0..<width]) == expected)
        // A key outside the training vocabulary still has its own row; an unknown key has none.
        #expect(table.row(key: "a") == 0 && table.row(key: "zz-new-item-outside-vocab") == 1 && table.row(key: "b") == 2)
        #expect(table.row(key: "c") == nil && table.row(key: "") == nil)
    }

    @Test func errorsNameTheFileLineAndColumn() {
        let cases: [(ItemRows, String)] = [
            (Self.rows(["price", "item"], [["1", "a"]]), "items.csv: the key column \"price\" (the first column) is not a categorical field"),
            (Self.rows(["nope"], [["a"]]), "the key column \"nope\" (the first column) is not a field of the model"),
            (Self.rows(["item", "colour"], [["a", "red"]]), "items.csv: column \"colour\" is not a field of the model"),
            (Self.rows(["item", "item"], [["a", "a"]]), "column \"item\" appears twice"),
            (Self.rows(["item", "price"], [["a", "1"], ["b", "cheap"]]), "items.csv:3: price \"cheap\" is not a number"),
            (Self.rows(["item"], [["a"], [nil]]), "items.csv:3: the key item is empty"),
            (Self.rows(["item"], [["a"], ["b"], ["a"]]), "items.csv:4: item \"a\" is listed twice (first on line 2)"),
        ]
        for (rows, message) in cases {
            #expect { _ = try ItemTable(rows, encoder: Self.encoder) } throws: { error in
                (error as? ItemTableError)?.message.contains(message) == true
            }
        }
    }
}
