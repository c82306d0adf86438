import FuzzSupport

// A v2 body with the binary tensor extension. Input layout: 2 bytes little-endian, the
// Inference-Header-Content-Length (0: header absent), then the body (JSON header + raw tensors).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInferBinary(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    let length = Int(input[0]) | Int(input[1]) << 8
    InferRequestCheck.deepFM.run(UnsafeRawBufferPointer(rebasing: input[2...]), headerLength: length == 0 ? nil : length)
    return 0
}
