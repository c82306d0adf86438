import CTRFeatures
import CTRServer
import CTRServing
import Foundation
import NIOCore

/// The v2 path a served model runs on a request body: decode, validate against the signature, fill a job.
public struct InferRequestCheck: Sendable {
    let decoder: InferRequestDecoder
    let validator: TensorInputValidator
    let inputs: [TensorDescription]
    let maxRows: Int

    /// Checks against the shipped DeepFM bundle's signature (Criteo: `sparse_ids` [batch,26], `dense` [batch,13]).
    public static let deepFM: InferRequestCheck = {
        let path = FuzzInput.packageRoot + "/models/deepfm/1/features.json"
        guard let map = try? FeatureMap(contentsOf: URL(fileURLWithPath: path)) else { fatalError("cannot read \(path)") }
        return InferRequestCheck(map: map, maxRows: 16)
    }()

    init(map: FeatureMap, maxRows: Int) {
        self.maxRows = maxRows
        // The inputs as the bundle's model declares them (its signature), checked as the server checks every model.
        inputs = map.signature.inputs.filter { $0.role != .probability }.map {
            TensorDescription(name: $0.name, elementType: $0.elementType == .int64 ? .int64 : .fp32, shape: $0.shape.map(Int64.init))
        }
        validator = TensorInputValidator(model: "deepfm", inputs: inputs, batchable: true, maxRows: maxRows,
                                         encoding: FeatureEncodingStage(map: map, encoder: FeatureEncoder(map: map)))
        decoder = InferRequestDecoder(maxElements: validator.maxElements)
    }

    /// Runs `body` (with the `Inference-Header-Content-Length` value, if any) through the whole path.
    public func run(_ body: UnsafeRawBufferPointer, headerLength: Int?) {
        let request: InferRequest
        do throws(RequestDecodeError) {
            request = try decoder.decode(body, headerLength: headerLength)
        } catch {
            precondition(!error.message.isEmpty, "a decode error without a message")
            return
        }
        check(request, bytes: body)
    }

    /// Runs a gRPC ModelInferRequest `message` through our gRPC server's reading, then the same checks.
    public func run(grpcMessage message: UnsafeRawBufferPointer) {
        var buffer = ByteBufferAllocator().buffer(capacity: message.count)
        buffer.writeBytes(message)
        let read: (request: InferRequest, bytes: ByteBuffer)
        do throws(ServerError) {
            read = try InferRequest.readingGRPCMessage(buffer, maxElements: decoder.maxElements)
        } catch {
            precondition(!error.message.isEmpty && error.kind != .internalError, "a refusal without a message, or internal: \(error)")
            return
        }
        read.bytes.withUnsafeReadableBytes { check(read.request, bytes: $0) }
    }

    /// Validates a decoded request against the signature and fills a job, as the core does before queueing.
    private func check(_ request: InferRequest, bytes: UnsafeRawBufferPointer) {
        do throws(RequestDecodeError) {
            _ = try request.selectOutputs(modelOutputs: ["probability"])
        } catch {
            precondition(!error.message.isEmpty, "a decode error without a message")
            return
        }
        let checked: (rows: Int, inputs: [InferInputTensor])
        switch validator.check(request) {
        case .success(let value): checked = value
        case .failure: return
        }
        precondition(checked.rows >= 1 && checked.rows <= maxRows, "\(checked.rows) rows passed validation")
        let job = InferenceJob(rows: checked.rows, shapes: checked.inputs.map(\.shape), elementSizes: inputs.map { $0.elementType.byteSize ?? 1 }) { _ in }
        if validator.fill(job, from: checked.inputs, bytes: bytes) == nil {
            for (input, tensor) in zip(job.inputs, inputs) where tensor.elementType == .fp32 {
                for value in input.elements(Float.self) { precondition(value.isFinite, "a non-finite value passed validation") }
            }
        }
    }
}
