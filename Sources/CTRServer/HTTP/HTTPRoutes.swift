import CTRServing
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP front end's request logic: routing to the core, HTTP-only parsing (headers, the binary
/// extension's framing) and encoding replies. Everything protocol-neutral lives in ``InferenceCore``.
package final class HTTPRoutes: Sendable {
    package let core: InferenceCore
    private let serverMetadataJSON: [UInt8]

    package init(core: InferenceCore) {
        self.core = core
        var bytes: [UInt8] = []
        ServerMetadata(version: InferenceCore.version, extensions: InferenceCore.extensions).encode(into: &bytes)
        serverMetadataJSON = bytes
    }

    /// Handles one request; returns the reply now, or nil when `respond` will be called later from an inference thread.
    func handle(route: Route, head: HTTPRequestHead, body: ByteBuffer?, scratch: inout DecodedInstances,
                respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        switch route {
        case .live:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return .json(.ok, Array(#"{"live":true}"#.utf8))
        case .ready:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return core.ready ? .json(.ok, Array(#"{"ready":true}"#.utf8)) : .json(.serviceUnavailable, Array(#"{"ready":false}"#.utf8))
        case .serverMetadata:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return .json(.ok, serverMetadataJSON)
        case .metrics:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return .text(.ok, core.renderMetrics())
        case .modelMetadata(let model, let version):
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return withEndpoint(model, version) { .json(.ok, $0.metadataJSON) }
        case .modelConfig(let model, let version):
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return withEndpoint(model, version) { .json(.ok, $0.configurationJSON) }
        case .modelReady(let model, let version):
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            switch core.modelReady(model, version) {
            case .success(true): return .json(.ok, Array(#"{"ready":true}"#.utf8))
            case .success(false): return .json(.serviceUnavailable, Array(#"{"ready":false}"#.utf8))
            case .failure(let error): return Self.reply(for: error)
            }
        case .modelStats(let model, let version):
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            switch core.statistics(model: model, version: version) {
            case .success(let models):
                var bytes: [UInt8] = []
                StatisticsEncoder.encode(models, into: &bytes)
                return .json(.ok, bytes)
            case .failure(let error): return Self.reply(for: error)
            }
        case .repositoryIndex:
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            var bytes: [UInt8] = []
            RepositoryIndexEncoder.encode(core.repositoryIndex(), into: &bytes)
            return .json(.ok, bytes)
        case .repositoryLoad(let model):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            let traffic: String?
            switch Self.trafficParameter(body) {
            case .success(let value): traffic = value
            case .failure(let error): return Self.reply(for: error)
            }
            // Loading blocks for the warm-up: on a plain thread, answered from there.
            InferenceCore.startThread(name: "clickwise-load") { [core] in respond(Self.repositoryReply(core.load(model: model, traffic: traffic))) }
            return nil
        case .repositoryUnload(let model):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            InferenceCore.startThread(name: "clickwise-unload") { [core] in respond(Self.repositoryReply(core.unload(model: model))) }
            return nil
        case .predict(let model):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            return withRoutedEndpoint(model, body) { predict($0, shadow: $1, split: $2, head: head, body: body, scratch: &scratch, respond: respond) }
        case .rank(let model):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            return withRoutedEndpoint(model, body) { rank($0, shadow: $1, split: $2, head: head, body: body, scratch: &scratch, respond: respond) }
        case .infer(let model, let version):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            return withLeasedEndpoint(model, version) { infer($0, head: head, body: body, respond: respond) }
        case .notFound:
            return .error(.notFound, "no route for \(head.method) \(head.uri); see /v1/models/{model}:predict, /v1/models/{model}:rank, /v2/models/{model}/infer, /v2/health/ready, /metrics")
        }
    }

    private func withEndpoint(_ model: String, _ version: String?, _ body: (ModelEndpoint) -> HTTPReply?) -> HTTPReply? {
        switch core.endpoint(model, version) {
        case .success(let endpoint): return body(endpoint)
        case .failure(let error): return Self.reply(for: error)
        }
    }

    /// `body` with the served endpoint leased for one inference: a swap waits until its job is queued.
    private func withLeasedEndpoint(_ model: String, _ version: String?, _ body: (ModelEndpoint) -> HTTPReply?) -> HTTPReply? {
        switch core.leaseEndpoint(model, version) {
        case .success(let endpoint):
            defer { endpoint.release() }
            return body(endpoint)
        case .failure(let error): return Self.reply(for: error)
        }
    }

    /// `body` with the version that answers this CTR API request (by the model's traffic policy) leased, and its
    /// shadow version when it has one.
    private func withRoutedEndpoint(_ model: String, _ request: ByteBuffer?, _ body: (ModelEndpoint, ModelEndpoint?, Bool) -> HTTPReply?) -> HTTPReply? {
        let route = (request ?? Self.emptyBody).withUnsafeReadableBytes { core.leaseRoute(model, body: $0) }
        switch route {
        case .success(let (endpoint, shadow, split)):
            defer {
                endpoint.release()
                shadow?.release()
            }
            return body(endpoint, shadow, split)
        case .failure(let error): return Self.reply(for: error)
        }
    }

    /// The load request's `traffic` parameter (Triton's load body, `{"parameters": {"traffic": ...}}`): a traffic.json's
    /// text, given as a string or as the object itself; nil without a body or the parameter.
    static func trafficParameter(_ body: ByteBuffer?) -> Result<String?, ServerError> {
        guard let body, body.readableBytes > 0 else { return .success(nil) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            return .failure(ServerError(.invalidArgument, "the load request's body must be a JSON object, {\"parameters\": {\"traffic\": {...}}}"))
        }
        guard let parameters = object["parameters"] else { return .success(nil) }
        guard let parameters = parameters as? [String: Any] else {
            return .failure(ServerError(.invalidArgument, "\"parameters\" must be an object"))
        }
        if let error = InferenceCore.unsupportedLoadParameter(parameters.keys) { return .failure(error) }
        switch parameters["traffic"] {
        case nil: return .success(nil)
        case let text as String: return .success(text)
        case let policy as [String: Any]:
            guard let data = try? JSONSerialization.data(withJSONObject: policy) else { return .success(nil) }
            return .success(String(decoding: data, as: UTF8.self))
        default:
            return .failure(ServerError(.invalidArgument, "parameter \"traffic\" must be a traffic.json object or its text"))
        }
    }

    /// A repository call's answer: Triton's empty 200, or the error.
    private static func repositoryReply(_ error: ServerError?) -> HTTPReply {
        if let error { return reply(for: error) }
        return HTTPReply(status: .ok, contentType: "application/json", body: HTTPReply.allocator.buffer(capacity: 0))
    }

    private static func methodNotAllowed(_ head: HTTPRequestHead, _ allowed: String) -> HTTPReply {
        .error(.methodNotAllowed, "\(head.method) is not allowed on \(head.uri); use \(allowed)", extraHeaders: [("allow", allowed)])
    }

    /// The `X-Request-Timeout-Ms` header in nanoseconds (nil when absent), or an error.
    /// The request's id when the prediction log keeps this request (its sample): the client's `X-Request-Id` (at most
    /// 200 printable ASCII characters), else a new one; answered in the response's `X-Request-Id`. Nil when the
    /// request is not logged (a request nobody can join clicks to needs no id, and costs nothing).
    private func requestIdentifier(_ head: HTTPRequestHead) -> Result<String?, ServerError> {
        guard let log = core.predictionLog, log.sample() else { return .success(nil) }
        guard let given = head.headers.first(name: "x-request-id") else {
            return .success(String(CheapRandom.next(), radix: 16))
        }
        guard !given.isEmpty, given.utf8.count <= 200, given.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            return .failure(ServerError(.invalidArgument, "header X-Request-Id must be 1-200 printable ASCII characters"))
        }
        return .success(given)
    }

    static func transportTimeout(_ head: HTTPRequestHead) -> Result<UInt64?, ServerError> {
        guard let header = head.headers.first(name: "x-request-timeout-ms") else { return .success(nil) }
        guard let milliseconds = UInt64(header.trimmingCharacters(in: .whitespaces)), milliseconds > 0 else {
            return .failure(ServerError(.invalidArgument, "header X-Request-Timeout-Ms must be a positive integer (milliseconds), got \"\(header)\""))
        }
        return .success(milliseconds * 1_000_000)
    }

    /// What a request without a body is decoded from.
    private static let emptyBody = HTTPReply.allocator.buffer(capacity: 0)

    // MARK: - CTR API

    private func predict(_ endpoint: ModelEndpoint, shadow: ModelEndpoint?, split: Bool, head: HTTPRequestHead, body: ByteBuffer?, scratch: inout DecodedInstances,
                         respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        let timeout: UInt64?
        switch Self.transportTimeout(head) {
        case .success(let value): timeout = value
        case .failure(let error): return Self.reply(for: error)
        }
        let requestID: String?
        switch requestIdentifier(head) {
        case .success(let value): requestID = value
        case .failure(let error): return Self.reply(for: error)
        }
        // Under a traffic split the answer names its version, for clients that log their own side of an A/B test.
        let idHeader = (requestID.map { [("X-Request-Id", $0)] } ?? []) + (split ? [("X-Model-Version", endpoint.bundle.version)] : [])
        let completion: @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>) -> Void = { outcome in
            switch outcome {
            case .success(let predictions):
                var bytes: [UInt8] = []
                bytes.reserveCapacity(20 + predictions.count * 12)
                PredictResponseEncoder.encode(predictions: predictions, into: &bytes)
                respond(.json(.ok, bytes, extraHeaders: idHeader))
            case .failure(let error):
                respond(Self.reply(for: error))
            }
        }
        let result = (body ?? Self.emptyBody).withUnsafeReadableBytes { bytes in
            let result = core.predict(endpoint, body: bytes, scratch: &scratch, transportTimeoutNanoseconds: timeout, requestID: requestID, completion: completion)
            // The shadow scores the same rows once the answer's job is queued (its rows were encoded from the scratch
            // by then); its outcome goes to the log and its version's statistics, never to the client.
            if let shadow, case .success(true) = result {
                _ = core.predict(shadow, body: bytes, scratch: &scratch, transportTimeoutNanoseconds: timeout, requestID: requestID, shadow: true) { _ in }
            }
            return result
        }
        switch result {
        case .success(true): return nil
        case .success(false): return .json(.ok, Array(#"{"predictions":[]}"#.utf8), extraHeaders: idHeader)
        case .failure(let error): return Self.reply(for: error)
        }
    }

    private func rank(_ endpoint: ModelEndpoint, shadow: ModelEndpoint?, split: Bool, head: HTTPRequestHead, body: ByteBuffer?, scratch: inout DecodedInstances,
                      respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        let timeout: UInt64?
        switch Self.transportTimeout(head) {
        case .success(let value): timeout = value
        case .failure(let error): return Self.reply(for: error)
        }
        let requestID: String?
        switch requestIdentifier(head) {
        case .success(let value): requestID = value
        case .failure(let error): return Self.reply(for: error)
        }
        // Under a traffic split the answer names its version, for clients that log their own side of an A/B test.
        let idHeader = (requestID.map { [("X-Request-Id", $0)] } ?? []) + (split ? [("X-Model-Version", endpoint.bundle.version)] : [])
        // The context is one row: its storage is the request's own; the candidates reuse the connection's.
        var context = DecodedInstances()
        let completion: @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>, PredictRequestDecoder.RankOptions) -> Void = { outcome, options in
            switch outcome {
            case .success(let scores):
                var bytes: [UInt8] = []
                PredictResponseEncoder.encodeRank(scores: scores, topK: options.topK, into: &bytes)
                respond(.json(.ok, bytes, extraHeaders: idHeader))
            case .failure(let error):
                respond(Self.reply(for: error))
            }
        }
        let result = (body ?? Self.emptyBody).withUnsafeReadableBytes { bytes in
            let result = core.rank(endpoint, body: bytes, candidates: &scratch, context: &context, transportTimeoutNanoseconds: timeout, requestID: requestID,
                                   completion: completion)
            if let shadow, case .success(let queued) = result, queued.queued {
                var shadowContext = DecodedInstances()
                _ = core.rank(shadow, body: bytes, candidates: &scratch, context: &shadowContext, transportTimeoutNanoseconds: timeout,
                              requestID: requestID, shadow: true) { _, _ in }
            }
            return result
        }
        switch result {
        case .success(let queued):
            guard !queued.queued else { return nil }
            var bytes: [UInt8] = []
            PredictResponseEncoder.encodeRank(scores: UnsafeBufferPointer(start: nil, count: 0), topK: queued.options.topK, into: &bytes)
            return .json(.ok, bytes, extraHeaders: idHeader)
        case .failure(let error): return Self.reply(for: error)
        }
    }

    // MARK: - KServe v2

    private func infer(_ endpoint: ModelEndpoint, head: HTTPRequestHead, body: ByteBuffer?,
                       respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        var headerLength: Int?
        if let value = head.headers.first(name: "inference-header-content-length") {
            guard let length = Int(value.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                return .error(.badRequest, "header Inference-Header-Content-Length must be a non-negative integer, got \"\(value)\"")
            }
            headerLength = length
        }
        let timeout: UInt64?
        switch Self.transportTimeout(head) {
        case .success(let value): timeout = value
        case .failure(let error): return Self.reply(for: error)
        }
        let failure = (body ?? Self.emptyBody).withUnsafeReadableBytes { bytes -> ServerError? in
            let request: InferRequest
            do throws(RequestDecodeError) {
                request = try InferRequestDecoder(maxElements: endpoint.maxElements).decode(bytes, headerLength: headerLength)
            } catch {
                return ServerError(error)
            }
            return core.infer(endpoint, request: request, bytes: bytes, transportTimeoutNanoseconds: timeout) { outcome in
                switch outcome {
                case .success(let result): respond(Self.reply(for: result))
                case .failure(let error): respond(Self.reply(for: error))
                }
            }
        }
        return failure.map(Self.reply(for:))
    }

    private static func reply(for result: InferResult) -> HTTPReply {
        var encoder = InferResponseEncoder()
        encoder.begin(modelName: result.modelName, modelVersion: result.modelVersion, id: result.id)
        for output in result.outputs {
            encoder.appendOutput(name: output.name, datatype: output.datatype, shape: output.shape, bytes: output.bytes, binary: output.binary)
        }
        encoder.finish()
        guard let headerLength = encoder.headerLength else { return .json(.ok, encoder.json) }
        var buffer = HTTPReply.allocator.buffer(capacity: encoder.json.count + encoder.binary.count)
        buffer.writeBytes(encoder.json)
        buffer.writeBytes(encoder.binary)
        return HTTPReply(status: .ok, contentType: "application/octet-stream", body: buffer,
                         extraHeaders: [("inference-header-content-length", String(headerLength))])
    }

    // MARK: - Errors to HTTP

    /// `{"error": message}` with the error's status (``ServerError/httpStatus``), and Retry-After when retryable.
    static func reply(for error: ServerError) -> HTTPReply {
        .error(error.httpStatus, error.message, extraHeaders: error.isRetryable ? [("retry-after", "1")] : [])
    }
}
