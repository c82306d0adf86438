import Foundation
import Testing
import Yams
@testable import CTRData

/// A CSV shaped like FuxiCTR's `data/tiny_csv` (the Taobao sample), generated: string and integer ids,
/// a float price with gaps, an empty column, a `^`-joined click sequence, label `clk`.
private func tinyShapedCSV(rows: Int = 120) -> String {
    var rng = SplitMix64(seed: 3)
    func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    let header = "clk,time_stamp,userid,adgroup_id,pid,cate_id,customer,brand,price,age_level,occupation,click_count,zip,new_user_class_level,click_sequence"
    var lines = [header]
    for i in 0..<rows {
        let price = i % 9 == 0 ? "" : (i % 2 == 0 ? "\(pick(900) + 1)" : "\(pick(90)).\(pick(9) + 1)")
        let sequence = i % 4 == 0 ? (0..<(1 + i % 3)).map { _ in String(600_000 + pick(1000)) }.joined(separator: "^") : ""
        let fields = [
            String(i % 7 == 0 ? 1 : 0), "2017/5/6 0:00", String([874257, 227368, 626053, 549940, 608569][pick(5)]),
            String(100_000 + pick(800_000)), ["430548_1007", "430539_1007"][pick(2)], String(4000 + pick(30)),
            String(1000 + pick(250_000)), i % 5 == 0 ? "" : String(50_000 + pick(400_000)), price,
            String(1 + pick(6)), String(pick(2)), String(pick(100_000)), String(format: "%05d", pick(500)), "", sequence,
        ]
        lines.append(fields.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
}

/// The YAML's one dataset as a dictionary, checking there is exactly one.
private func parseDataset(_ yaml: String, id: String) throws -> [String: Any] {
    let document = try #require(try Yams.load(yaml: yaml) as? [String: Any])
    #expect(Array(document.keys) == [id])
    return try #require(document[id] as? [String: Any])
}

@Suite struct SchemaInferenceTests {
    @Test func tinyShapedCSVGetsTheExpectedKinds() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile(tinyShapedCSV(), named: "tiny.csv", in: directory)
        let schema = try SchemaInference(label: "clk").infer(path: path)
        #expect(schema.sampledRows == 120)
        #expect(schema.columns.count == 15)
        func kind(_ name: String) -> String? {
            schema[name].map { "\($0.active ? $0.kind.rawValue : "inactive") \($0.dtype)" }
        }
        #expect(kind("clk") == "label float")
        #expect(kind("time_stamp") == "categorical str")
        #expect(kind("userid") == "categorical int")
        #expect(kind("adgroup_id") == "categorical int")  // > 100 distinct, but named an id
        #expect(kind("pid") == "categorical str")
        #expect(kind("cate_id") == "categorical int")
        #expect(kind("customer") == "categorical int")
        #expect(kind("brand") == "categorical int")
        #expect(kind("price") == "numeric float")
        #expect(kind("age_level") == "categorical int")
        #expect(kind("occupation") == "categorical int")  // 2 distinct
        #expect(kind("click_count") == "numeric float")  // > 100 distinct integers, not an id
        #expect(kind("zip") == "categorical str")  // leading zeros: a code
        #expect(kind("new_user_class_level") == "inactive str")
        #expect(kind("click_sequence") == "sequence str")

        let price = try #require(schema["price"])
        #expect(price.emptyCount == 14)
        #expect(price.normalizer == "StandardScaler")
        #expect(price.reason.contains("StandardScaler"))
        let userid = try #require(schema["userid"])
        #expect(userid.distinctCount == 5)
        #expect(userid.reason == "all 120 values integers, 5 distinct; rule 5a: name looks like an id/level/code")
        #expect(try #require(schema["click_count"]).reason.contains("rule 5b"))
        let sequence = try #require(schema["click_sequence"])
        #expect(sequence.splitter == "^")
        #expect(sequence.maxLength == 3)
        #expect(sequence.emptyCount == 90)
        #expect(schema["new_user_class_level"]?.emptyCount == 120)

        let yaml = schema.datasetConfigYAML(datasetID: "tiny", trainData: "tiny.csv")
        #expect(yaml.hasPrefix("# written by clickwise schema infer from \(path) (120 rows sampled); review before training\n"))
        let dataset = try parseDataset(yaml, id: "tiny")
        #expect(dataset["data_format"] as? String == "csv")
        #expect(dataset["sep"] as? String == ",")
        #expect(dataset["train_data"] as? String == "tiny.csv")
        #expect(dataset["min_categr_count"] as? Int == 1)
        let label = try #require(dataset["label_col"] as? [String: Any])
        #expect(label["name"] as? String == "clk")
        #expect(label["dtype"] as? String == "float")
        let features = try #require(dataset["feature_cols"] as? [[String: Any]])
        #expect(features.map { $0["name"] as? String } == schema.features.map(\.name))
        let byName = Dictionary(uniqueKeysWithValues: features.map { ($0["name"] as! String, $0) })
        #expect(byName["userid"]?["dtype"] as? String == "int")
        #expect(byName["userid"]?["type"] as? String == "categorical")
        #expect(byName["userid"]?["active"] as? Bool == true)
        #expect(byName["new_user_class_level"]?["active"] as? Bool == false)
        #expect(byName["price"]?["type"] as? String == "numeric")
        #expect(byName["price"]?["dtype"] as? String == "float")
        #expect(byName["price"]?["normalizer"] as? String == "StandardScaler")
        let clicks = try #require(byName["click_sequence"])
        #expect(clicks["type"] as? String == "sequence")
        #expect(clicks["splitter"] as? String == "^")
        #expect(clicks["max_len"] as? Int == 3)
        #expect(clicks["padding"] as? String == "pre")
        #expect(Set(clicks.keys) == ["name", "active", "dtype", "type", "splitter", "max_len", "padding"])
        #expect(Set(byName["pid"]!.keys) == ["name", "active", "dtype", "type"])
    }

    @Test func aWideSyntheticCSVWithAwkwardNames() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = SplitMix64(seed: 11)
        // 150 columns: the label, 49 floats, 50 strings (three with names YAML must quote), 50 counts.
        var names = ["label"] + (0..<49).map { "f\($0)" } + (0..<50).map { "c\($0)" } + (0..<50).map { "n\($0)" }
        names[50] = "yes"
        names[51] = "1st"
        names[52] = "a \"q\" #x"
        let header = names.map { $0.contains("\"") ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
        var lines = [header.joined(separator: ",")]
        for _ in 0..<300 {
            var fields = [String(rng.next() % 2)]
            fields += (0..<49).map { _ in String(Double(rng.next() % 100_000) / 100) }
            fields += (0..<50).map { _ in "v" + String(rng.next() % 40, radix: 16) }
            fields += (0..<50).map { _ in String(rng.next() % 5_000) }
            lines.append(fields.joined(separator: ","))
        }
        let path = try writeFile(lines.joined(separator: "\n"), named: "wide.csv", in: directory)
        let schema = try SchemaInference(label: "label", sampleRows: 250).infer(path: path)
        #expect(schema.sampledRows == 250)
        #expect(schema.columns.map(\.name) == names)
        #expect(schema.columns[1...49].allSatisfy { $0.kind == .numeric && $0.dtype == "float" })
        #expect(schema.columns[50...99].allSatisfy { $0.kind == .categorical && $0.dtype == "str" })
        #expect(schema.columns[100...149].allSatisfy { $0.kind == .numeric && $0.reason.contains("integers") })

        let yaml = schema.datasetConfigYAML(datasetID: "wide data", trainData: "../data/wide.csv")
        let dataset = try parseDataset(yaml, id: "wide data")
        #expect(dataset["train_data"] as? String == "../data/wide.csv")
        let features = try #require(dataset["feature_cols"] as? [[String: Any]])
        #expect(features.count == 149)
        #expect(features.map { $0["name"] as? String } == Array(names.dropFirst()))
    }

    @Test func nearlyUniqueColumnsAreInactive() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var lines = ["y,ts,request_id,user,shop_id"]
        for i in 0..<1500 {
            lines.append("\(i % 2),2017-05-06 \(i / 3600):\(i / 60 % 60):\(i % 60),\(900_000 + i),u\(i % 40),\(i % 25)")
        }
        let path = try writeFile(lines.joined(separator: "\n") + "\n", named: "u.csv", in: directory)
        let schema = try SchemaInference(label: "y").infer(path: path)
        let ts = try #require(schema["ts"])
        let request = try #require(schema["request_id"])
        #expect(ts.kind == .categorical && !ts.active)
        #expect(ts.reason.contains("memorize"))
        #expect(request.kind == .categorical && !request.active)
        #expect(try #require(schema["user"]).active)
        #expect(try #require(schema["shop_id"]).active)
    }

    /// Issue 21: integer columns are ids unless their name or their values say quantity; the reason names the rule.
    @Test func integerColumnsAreIdsUnlessTheyLookLikeQuantities() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = SplitMix64(seed: 21)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        // Frappe-like: a city numbered 1...221 in thousands of rows, a two-valued cost flag, an age, cents, a day count.
        var lines = ["label,city,cost,age,cents,weekday,days"]
        for _ in 0..<5_000 {
            lines.append("\(pick(2)),\(1 + pick(221)),\(pick(2)),\(15 + pick(60)),\(pick(2_000_000)),\(pick(7)),\(pick(3000))")
        }
        let path = try writeFile(lines.joined(separator: "\n") + "\n", named: "ids.csv", in: directory)
        let schema = try SchemaInference(label: "label").infer(path: path)
        func decided(_ name: String) throws -> (InferredColumn.Kind, String) {
            let column = try #require(schema[name])
            return (column.kind, column.reason)
        }
        let city = try decided("city")
        #expect(city.0 == .categorical)
        #expect(city.1.contains("rule 6") && city.1.contains("values repeat"))
        #expect(try decided("cost").0 == .categorical)  // a quantity word, but two values: a flag
        let age = try decided("age")
        #expect(age.0 == .numeric && age.1.contains("rule 5b"))
        let cents = try decided("cents")
        #expect(cents.0 == .numeric && cents.1.contains("rule 5c"))
        #expect(try decided("weekday").0 == .categorical)
        #expect(try decided("days").0 == .numeric)  // "days" says quantity

        // Dense numbering with many distinct values is still an id: 4,000 buckets 1...4,000 over 5,000 rows.
        var dense = ["y,bucket"]
        for i in 0..<5_000 { dense.append("\(i % 2),\(1 + i % 4000)") }
        let densePath = try writeFile(dense.joined(separator: "\n") + "\n", named: "dense.csv", in: directory)
        let code = try #require(try SchemaInference(label: "y").infer(path: densePath)["bucket"])
        #expect(code.kind == .categorical, "\(code.reason)")
    }

    /// FuzzCSVReader's first find: integers too large for Int64 in a column's reason crashed `schema infer`.
    @Test func integersBeyondInt64AreDescribedNotTrapped() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var lines = ["label|big"]
        for i in 1...300 { lines.append("\(i % 2)|\(i)222222222222222222222222222") }
        let path = try writeFile(lines.joined(separator: "\n") + "\n", named: "big.csv", in: directory)
        let column = try #require(try SchemaInference(label: "label", separator: UInt8(ascii: "|")).infer(path: path)["big"])
        #expect(column.reason.contains("e+"), "\(column.reason)")
    }

    /// Issue 21: unnamed columns (a pandas index, a trailing separator) are left out; names are trimmed; a
    /// true/false label is read as 1/0.
    @Test func realFileQuirks() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = "\u{FEFF},clk, user id ,price,\r\n0,true,u1,2.5,\r\n1,False,u2,3.5,\r\n"
        let path = try writeFile(text, named: "quirks.csv", in: directory)
        let schema = try SchemaInference(label: "clk").infer(path: path)
        #expect(schema.columns.map(\.name) == ["clk", "user id", "price"])
        #expect(schema["clk"]?.reason.contains("true/false") == true)
        #expect(schema["clk"]?.reason.contains("warning") == false)
    }

    @Test func tabSeparatedDataWritesAQuotedTab() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile("y\tx\n1\ta\n0\tb\n", named: "t.tsv", in: directory)
        let schema = try SchemaInference(label: "y", separator: UInt8(ascii: "\t")).infer(path: path)
        let yaml = schema.datasetConfigYAML(datasetID: "t", trainData: "t.tsv")
        #expect(yaml.contains("  sep: \"\\t\"\n"))
        #expect(try parseDataset(yaml, id: "t")["sep"] as? String == "\t")
    }

    @Test func aMissingLabelIsAnErrorNamingTheFileAndTheHeader() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile("a,b\n1,2\n", named: "nolabel.csv", in: directory)
        #expect {
            try SchemaInference(label: "clk").infer(path: path)
        } throws: { error in
            guard let error = error as? CTRDataError else { return false }
            return error.code == .columnNotFound && error.path == path
                && error.detail == "the label \"clk\" is not in the header (a, b)"
                && !error.description.contains("\n")
        }
        #expect(throws: CTRDataError.self) {
            try SchemaInference(label: "clk").infer(path: directory.appendingPathComponent("missing.csv").path)
        }
    }

    @Test func sequenceLengthIsThe99thPercentileRoundedUp() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 199 histories of 13 elements and one of 500: max_len 20, not 500.
        var lines = ["y,history,rare"]
        for i in 0..<200 {
            let length = i == 0 ? 500 : 13
            let rare = i == 0 ? "a^b" : "solo\(i)"  // 1 of 200 values (0.5%) holds a splitter
            lines.append("0," + (0..<length).map { String($0) }.joined(separator: "^") + "," + rare)
        }
        let path = try writeFile(lines.joined(separator: "\n"), named: "h.csv", in: directory)
        let schema = try SchemaInference(label: "y").infer(path: path)
        let history = try #require(schema["history"])
        #expect(history.kind == .sequence)
        #expect(history.maxLength == 20)
        #expect(history.reason.contains("longest 500"))
        #expect(schema["rare"]?.kind == .categorical)  // 0.5% of values hold a "^": not a sequence
    }

    @Test func identifierNames() {
        #expect(SchemaInference.words(of: "cms_segid") == ["cms", "segid"])
        #expect(SchemaInference.words(of: "userID") == ["user", "id"])
        #expect(SchemaInference.words(of: "I13") == ["i", "13"])
        for name in ["userid", "adgroup_id", "final_gender_code", "age_level", "cms_segid", "ItemType", "brand", "cate_id"] {
            #expect(SchemaInference.looksLikeIdentifier(name), "\(name)")
        }
        for name in ["I1", "price", "click_count", "width", "impressions", "dwell_time"] {
            #expect(!SchemaInference.looksLikeIdentifier(name), "\(name)")
        }
    }

    @Test func valueClasses() {
        func classify(_ text: String) -> ColumnProfile.ValueClass {
            Array(text.utf8).withUnsafeBytes { ColumnProfile.classify($0) }
        }
        #expect(classify("0") == .integer)
        #expect(classify("-17") == .integer)
        #expect(classify("007") == .leadingZeroInteger)
        #expect(classify("3.9") == .fraction)
        #expect(classify(".5") == .fraction)
        #expect(classify("1e-3") == .fraction)
        #expect(classify("2.") == .fraction)
        for text in ["nan", "inf", "1e", "-", ".", "0x1F", " 1", "1 ", "430548_1007", "2017/5/6 0:00"] {
            #expect(classify(text) == .text, "\(text)")
        }
    }

    @Test func relativePaths() {
        #expect(InferredSchema.relativePath(of: "/a/b/c.csv", from: "/a/b") == "c.csv")
        #expect(InferredSchema.relativePath(of: "/a/data/c.csv", from: "/a/config") == "../data/c.csv")
        #expect(InferredSchema.relativePath(of: "/a/b/c.csv", from: "/") == "a/b/c.csv")
        #expect(InferredSchema.relativePath(of: "/x/c.csv", from: "/a/b") == "../../x/c.csv")
    }

    @Test func yamlScalarsAreQuotedWhenPlainWouldChangeThem() {
        #expect(InferredSchema.scalar("userid") == "userid")
        #expect(InferredSchema.scalar("tiny.csv") == "tiny.csv")
        #expect(InferredSchema.scalar("yes") == "\"yes\"")
        #expect(InferredSchema.scalar("1st") == "\"1st\"")
        #expect(InferredSchema.scalar("a: b") == "\"a: b\"")
        #expect(InferredSchema.quoted("say \"hi\"\t\\") == #""say \"hi\"\t\\""#)
    }
}
