import CTRFeatures
import Foundation
import Testing
@testable import CTRData

/// `clickwise data synth --dataset-config`: the undrifted bytes stay fixed; a drift brings new item values only.
@Suite struct SyntheticDatasetTests {
    static let tinyConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs/tiny/dataset_config.yaml")

    static func fnv1a(_ data: Data) -> UInt64 {
        data.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// Writes `rows` rows and returns their bytes and truth's.
    static func synth(_ config: DatasetConfig, rows: Int, seed: UInt64, drift: SyntheticDataset.Drift?, in directory: URL, name: String) throws -> (data: Data, truth: Data, path: String) {
        let path = directory.appendingPathComponent(name).path
        _ = try SyntheticDataset(config: config, seed: seed, drift: drift).write(rows: rows, to: path, truthPath: path + ".truth")
        return (try Data(contentsOf: URL(fileURLWithPath: path)), try Data(contentsOf: URL(fileURLWithPath: path + ".truth")), path)
    }

    /// Each row's value of `column` (nil: missing).
    static func column(_ name: String, of path: String) throws -> [String?] {
        let reader = try CSVReader(path: path)
        let index = try #require(reader.column(named: name))
        var values: [String?] = []
        try reader.forEachRow { values.append($0.string(index)) }
        return values
    }

    @Test func withoutDriftTheBytesAreTodays() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try DatasetConfig(contentsOf: Self.tinyConfig)
        // Pinned from the release before drift existed (3,000 rows, seed 7: FNV-1a of data then truth).
        let plain = try Self.synth(config, rows: 3_000, seed: 7, drift: nil, in: directory, name: "plain.csv")
        #expect(Self.fnv1a(plain.data + plain.truth) == 0x3320_7FE4_EE4B_451B)
    }

    @Test func driftBringsNewItemValuesAndFreshRows() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try DatasetConfig(contentsOf: Self.tinyConfig)
        let day1 = try Self.synth(config, rows: 20_000, seed: 1, drift: nil, in: directory, name: "day1.csv")
        // Drift 0: the same world, another day's rows. Drift 0.3: new ads and changed tastes.
        let still = try Self.synth(config, rows: 5_000, seed: 1, drift: .init(fraction: 0, seed: 2), in: directory, name: "still.csv")
        let moved = try Self.synth(config, rows: 5_000, seed: 1, drift: .init(fraction: 0.3, seed: 2), in: directory, name: "moved.csv")
        #expect(still.data != day1.data.prefix(still.data.count))

        func unseenShare(_ field: String, _ path: String) throws -> Double {
            let known = Set(try Self.column(field, of: day1.path).compactMap { $0 })
            let values = try Self.column(field, of: path).compactMap { $0 }
            return Double(values.filter { !known.contains($0) }.count) / Double(values.count)
        }
        // An item-side field (source: item) gets new values on about 30% of its traffic; a user-side one none.
        let itemStill = try unseenShare("adgroup_id", still.path), itemMoved = try unseenShare("adgroup_id", moved.path)
        #expect(itemMoved > itemStill + 0.15 && itemMoved < itemStill + 0.45, "adgroup_id unseen: \(itemStill) → \(itemMoved)")
        let userStill = try unseenShare("userid", still.path), userMoved = try unseenShare("userid", moved.path)
        #expect(abs(userMoved - userStill) < 0.03, "userid unseen: \(userStill) → \(userMoved)")
        // The click sequence shares adgroup_id's vocabulary: its tokens are renamed alike.
        let known = Set(try Self.column("adgroup_id", of: day1.path).compactMap { $0 })
        let tokens = try Self.column("click_sequence", of: moved.path).compactMap { $0 }.flatMap { $0.split(separator: "^").map(String.init) }
        #expect(Double(tokens.filter { !known.contains($0) }.count) / Double(tokens.count) > itemStill + 0.15)

        // The drift seed decides: the same one repeats the day, another one is another day.
        let again = try Self.synth(config, rows: 5_000, seed: 1, drift: .init(fraction: 0.3, seed: 2), in: directory, name: "again.csv")
        let other = try Self.synth(config, rows: 5_000, seed: 1, drift: .init(fraction: 0.3, seed: 3), in: directory, name: "other.csv")
        #expect(again.data == moved.data && again.truth == moved.truth && other.data != moved.data)
    }
}
