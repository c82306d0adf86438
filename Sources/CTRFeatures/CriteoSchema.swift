/// The Criteo display-advertising layout: a label, 13 integer fields I1...I13, 26 categorical fields C1...C26.
public enum CriteoSchema {
    /// Number of integer ("dense") fields, I1...I13.
    public static let denseCount = 13
    /// Number of categorical fields, C1...C26.
    public static let categoricalCount = 26
    /// Dense field names in tensor order: "I1"..."I13".
    public static let denseNames: [String] = (1...denseCount).map { "I\($0)" }
    /// Categorical field names in tensor order: "C1"..."C26".
    public static let categoricalNames: [String] = (1...categoricalCount).map { "C\($0)" }
}
