import FuzzSupport

// A gRPC ModelInferRequest message (the bytes after gRPC's 5-byte length prefix), read as our gRPC server
// reads it (in place; swift-protobuf for typed contents), then validated and copied into a job.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGRPCInfer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    InferRequestCheck.deepFM.run(grpcMessage: FuzzInput.bytes(data, size))
    return 0
}
