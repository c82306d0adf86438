/// The Criteo display-advertising layout: a label, 13 integer fields I1...I13, 26 categorical fields C1...C26.
///
/// Used only by the Criteo preset below; every other layer reads counts and names from a ``FeatureSchema``.
public enum CriteoSchema {
    /// Number of integer fields, I1...I13.
    public static let denseCount = 13
    /// Number of categorical fields, C1...C26.
    public static let categoricalCount = 26
    /// Integer field names in input order: "I1"..."I13".
    public static let denseNames: [String] = (1...denseCount).map { "I\($0)" }
    /// Categorical field names in input order: "C1"..."C26".
    public static let categoricalNames: [String] = (1...categoricalCount).map { "C\($0)" }
}

extension FeatureSchema {
    /// The Criteo preset (`configs/criteo/dataset_config.yaml` declares the same): integers with Criteo's
    /// bucket transform, then strings; label `label`.
    public static let criteo = FeatureSchema(
        datasetID: "criteo", label: "label",
        fields: CriteoSchema.denseNames.map {
            Field(name: $0, kind: .numeric, valueType: .int, preprocess: .convertToBucket)
        } + CriteoSchema.categoricalNames.map { Field(name: $0, kind: .categorical, valueType: .string) })

    /// The columns of Criteo's header-less TSV: label, I1...I13, C1...C26.
    public static let criteoColumns = ["label"] + CriteoSchema.denseNames + CriteoSchema.categoricalNames

    /// Whether this schema encodes exactly as the Criteo preset (dataset id and min count aside).
    public var isCriteo: Bool {
        label == Self.criteo.label && fields == Self.criteo.fields && inactiveColumns.isEmpty
    }
}

extension DatasetConfig {
    /// Criteo's header-less TSV with the preset schema (`configs/criteo/dataset_config.yaml`, in code).
    public static let criteoPreset: DatasetConfig = {
        var schema = FeatureSchema.criteo
        schema.minCount = 10
        return DatasetConfig(path: "<criteo preset>", schema: schema, separator: UInt8(ascii: "\t"),
                             columnNames: FeatureSchema.criteoColumns)
    }()
}
