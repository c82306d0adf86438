import CTRFeatures
import CTRServer
import CTRServing
import Foundation
import NIOCore

/// The v2 path a served model runs on a request body: decode, validate against the signature, fill a job.
public struct InferRequestCheck: Sendable {
    let decoder: InferRequestDecoder
    let validator: InferInputValidator
    let layout: (sparse: Int, dense: Int, sequence: Int)
    let maxRows: Int

    /// Checks against the shipped DeepFM bundle's signature (Criteo: `sparse_ids` [batch,26], `dense` [batch,13]).
    public static let deepFM: InferRequestCheck = {
        let path = FuzzInput.packageRoot + "/models/deepfm/1/features.json"
        guard let map = try? FeatureMap(contentsOf: URL(fileURLWithPath: path)) else { fatalError("cannot read \(path)") }
        return InferRequestCheck(map: map, maxRows: 16)
    }()

    init(map: FeatureMap, maxRows: Int) {
        self.maxRows = maxRows
        validator = InferInputValidator(map: map, model: "deepfm", maxRows: maxRows)
        decoder = InferRequestDecoder(maxElements: validator.maxElements)
        func width(_ role: ModelSignature.Role) -> Int { map.signature.inputs.first { $0.role == role }?.width ?? 0 }
        layout = (width(.categoricalIDs), width(.numericValues), width(.sequenceIDs))
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
        let rows: Int
        switch validator.rows(of: request) {
        case .success(let count): rows = count
        case .failure: return
        }
        precondition(rows >= 1 && rows <= maxRows, "\(rows) rows passed validation")
        let job = InferenceJob(rows: rows, sparseWidth: layout.sparse, denseWidth: layout.dense, sequenceWidth: layout.sequence) { _ in }
        if validator.fill(job, from: request, bytes: bytes) == nil {
            for value in job.dense { precondition(value.isFinite, "a non-finite value passed validation") }
        }
    }
}
