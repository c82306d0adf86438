import Synchronization

/// Counts ONNX Runtime objects this binding currently owns, so tests can prove nothing leaks.
public enum ORTLiveObjects {
    private static let counter = Atomic<Int>(0)

    /// How many ORT objects (sessions, values, options, ...) created by this binding are still alive.
    public static var count: Int { counter.load(ordering: .relaxed) }

    static func created() { counter.add(1, ordering: .relaxed) }
    static func released() { counter.subtract(1, ordering: .relaxed) }
}
