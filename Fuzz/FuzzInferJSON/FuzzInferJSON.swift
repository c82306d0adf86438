import FuzzSupport

// Any bytes as a KServe v2 JSON infer body (no binary extension), decoded, validated and copied into a job.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInferJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    InferRequestCheck.deepFM.run(FuzzInput.bytes(data, size), headerLength: nil)
    return 0
}
