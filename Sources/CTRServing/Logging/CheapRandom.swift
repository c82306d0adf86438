import Synchronization

/// Random-looking 64-bit values for the request path: SplitMix64 over one process-wide counter, seeded once.
///
/// `UInt64.random` asks the kernel (`getrandom`) on every call: under the prediction log's sample rate 1 that
/// system call was 0.8% of the server's CPU on single-row requests (perf, bench/prediction_log.sh). A counter
/// mixed by SplitMix64's finalizer is a bijection, so no two values of one process repeat (request ids stay
/// unique), and a kernel-random seed keeps `--workers` processes apart. Not for anything secret.
public enum CheapRandom {
    private static let state = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    /// The next value.
    public static func next() -> UInt64 {
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
