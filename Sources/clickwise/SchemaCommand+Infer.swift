import ArgumentParser
import CTRData
import Foundation

extension SchemaCommand {
    /// `clickwise schema infer`: samples a CSV and writes a FuxiCTR `dataset_config.yaml` to review.
    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Guess each column's kind (categorical, numeric, sequence) from a sample and write a FuxiCTR dataset_config.yaml.",
            discussion: """
                Rules, in order: the --label column is the label; a column with no values is inactive; \
                a column where at least 1% of values contain the sequence separator is a sequence \
                (max_len: the 99th percentile length); all numbers with some fraction or exponent is \
                numeric; all integers with more than 100 distinct values and a name that is not an id \
                (id, code, level, type, group, class, cat, seg, brand, ...) is numeric; other all-integer \
                columns are categorical int; the rest categorical str. Numeric columns get StandardScaler. \
                Each line of the YAML carries the reason as a comment: review it before training.
                """)

        @Option(help: "The CSV file, with a header row.")
        var data: String

        @Option(help: "The label column's name.")
        var label: String

        @OptionGroup var csv: CSVOptions

        @Option(help: "The separator between a sequence's elements (FuxiCTR's splitter).")
        var sequenceSeparator: String = "^"

        @Option(help: "Records to read to decide.")
        var sampleRows: Int = 100_000

        @Option(help: "The dataset id, the YAML's top-level key (default: the data file's name without its extension).")
        var datasetId: String?

        @Option(help: "The dataset_config.yaml to write.")
        var out: String

        func validate() throws {
            guard sampleRows > 0 else { throw ValidationError("--sample-rows must be positive, got \(sampleRows).") }
            guard !sequenceSeparator.isEmpty else { throw ValidationError("--sequence-separator must not be empty.") }
            if let datasetId, datasetId.isEmpty { throw ValidationError("--dataset-id must not be empty.") }
        }

        func run() throws {
            let inference = SchemaInference(label: label, separator: try csv.separatorByte,
                                            sequenceSeparator: sequenceSeparator, sampleRows: sampleRows)
            let schema: InferredSchema
            do {
                schema = try inference.infer(path: data)
            } catch {
                throw CLIError("\(error.code == .columnNotFound ? "--label" : "--data"): \(error)")
            }
            let outURL = URL(fileURLWithPath: out).standardizedFileURL
            let dataURL = URL(fileURLWithPath: data).standardizedFileURL
            let trainData = InferredSchema.relativePath(of: dataURL.path, from: outURL.deletingLastPathComponent().path)
            let id = datasetId ?? dataURL.deletingPathExtension().lastPathComponent
            let yaml = schema.datasetConfigYAML(datasetID: id, trainData: trainData)
            do {
                try Data(yaml.utf8).write(to: outURL)
            } catch {
                throw CLIError("--out: \(out): cannot write: \((error as NSError).localizedDescription)")
            }
            print(Self.table(schema))
            print("\(schema.sampledRows) rows sampled, \(schema.readStats.malformedCount) malformed skipped; wrote \(out)")
            if !schema.readStats.malformedSamples.isEmpty { print(schema.readStats) }
        }

        /// column | kind | dtype | distinct | empty | why, padded to line up.
        static func table(_ schema: InferredSchema) -> String {
            let rows = [["column", "kind", "dtype", "distinct", "empty", "why"]] + schema.columns.map { column in
                [column.name, column.active ? column.kind.rawValue : "inactive", column.dtype,
                 column.distinctDescription, String(column.emptyCount), column.reason]
            }
            let widths = (0..<5).map { i in rows.map { $0[i].count }.max() ?? 0 }
            return rows.map { row in
                (0..<5).map { i in
                    let cell = row[i]
                    let pad = String(repeating: " ", count: widths[i] - cell.count)
                    return i == 3 || i == 4 ? pad + cell : cell + pad  // counts right-aligned
                }.joined(separator: "  ") + "  " + row[5]
            }.joined(separator: "\n")
        }
    }
}
