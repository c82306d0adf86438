import CTRFeatures
import CTRServing
import Logging
import NIOCore
import NIOHTTP1
import ONNXRuntime
import Synchronization
import Foundation

/// The server's logic behind HTTP: the served models, their pools, metrics, readiness and every endpoint.
///
/// Built once by `ServerApplication.build` (used by `clickwise serve` and the tests alike); thread-safe.
public final class ServerApplication: Sendable {
    public static let version = "0.1.0"

    public let configuration: ServerConfiguration
    public let metrics: ServingMetrics
    let endpoints: [String: ModelEndpoint]
    let logger: Logger
    private let isReady = Atomic<Bool>(false)
    private let isDraining = Atomic<Bool>(false)
    private let serverMetadataJSON: [UInt8]

    /// Loads ONNX Runtime and every model bundle, and starts their inference threads (not yet warmed up).
    public static func build(_ configuration: ServerConfiguration, logger: Logger = Logger(label: "clickwise")) throws(ServingError) -> ServerApplication {
        let runtime: ORTRuntime
        let environment: ORTEnvironment
        do {
            runtime = try ORTRuntime.load(explicitPath: configuration.ortLibrary)
            environment = try ORTEnvironment.make(runtime: runtime)
        } catch {
            throw ServingError(.modelLoad, error.message)
        }
        let bundles = try ModelRepository.discover(configuration.modelPath)
        let metrics = ServingMetrics(routes: Route.labels)
        var endpoints: [String: ModelEndpoint] = [:]
        for bundle in bundles {
            let pool = try SessionPool(bundle: bundle, configuration: configuration.pool, environment: environment, metrics: metrics)
            endpoints[bundle.name] = ModelEndpoint(bundle: bundle, pool: pool, maxRows: configuration.maxRowsPerRequest,
                                                   ignoreUnknownFields: configuration.ignoreUnknownFields)
        }
        return ServerApplication(configuration: configuration, metrics: metrics, endpoints: endpoints, logger: logger)
    }

    private init(configuration: ServerConfiguration, metrics: ServingMetrics, endpoints: [String: ModelEndpoint], logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.endpoints = endpoints
        self.logger = logger
        var bytes: [UInt8] = []
        ServerMetadata(version: Self.version, extensions: ["binary_tensor_data", "model_repository", "metrics"]).encode(into: &bytes)
        serverMetadataJSON = bytes
    }

    /// Names of the served models, sorted.
    public var modelNames: [String] { endpoints.keys.sorted() }

    /// Runs warm-up batches through every session, then reports ready.
    public func warmUp() throws(ServingError) {
        for name in modelNames { try endpoints[name]!.pool.warmUp() }
        isReady.store(true, ordering: .releasing)
    }

    /// Whether warm-up finished and the server is not draining.
    public var ready: Bool { isReady.load(ordering: .acquiring) && !isDraining.load(ordering: .acquiring) }

    /// Marks the server as draining: readiness turns false and new inference is refused.
    public func beginDraining() { isDraining.store(true, ordering: .releasing) }

    /// Finishes every queued job and stops the inference threads.
    public func shutdownPools() {
        for endpoint in endpoints.values { endpoint.pool.shutdown() }
    }

    // MARK: - Dispatch

    /// Handles one request; returns the reply now, or nil when `respond` will be called later from an inference thread.
    func handle(route: Route, head: HTTPRequestHead, body: ByteBuffer?, scratch: inout DecodedInstances,
                respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        switch route {
        case .live:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return .json(.ok, Array(#"{"live":true}"#.utf8))
        case .ready:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return ready ? .json(.ok, Array(#"{"ready":true}"#.utf8)) : .json(.serviceUnavailable, Array(#"{"ready":false}"#.utf8))
        case .serverMetadata:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return .json(.ok, serverMetadataJSON)
        case .metrics:
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            return .text(.ok, metrics.render())
        case .modelMetadata(let model, let version):
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            switch endpoint(model, version) {
            case .success(let endpoint): return .json(.ok, endpoint.metadataJSON)
            case .failure(let error): return error.reply
            }
        case .modelReady(let model, let version):
            guard head.method == .GET else { return Self.methodNotAllowed(head, "GET") }
            switch endpoint(model, version) {
            case .success: return ready ? .json(.ok, Array(#"{"ready":true}"#.utf8)) : .json(.serviceUnavailable, Array(#"{"ready":false}"#.utf8))
            case .failure(let error): return error.reply
            }
        case .predict(let model):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            switch endpoint(model, nil) {
            case .success(let endpoint): return predict(endpoint, head: head, body: body, scratch: &scratch, respond: respond)
            case .failure(let error): return error.reply
            }
        case .infer(let model, let version):
            guard head.method == .POST else { return Self.methodNotAllowed(head, "POST") }
            switch endpoint(model, version) {
            case .success(let endpoint): return infer(endpoint, head: head, body: body, respond: respond)
            case .failure(let error): return error.reply
            }
        case .notFound:
            return .error(.notFound, "no route for \(head.method) \(head.uri); see /v1/models/{model}:predict, /v2/models/{model}/infer, /v2/health/ready, /metrics")
        }
    }

    private func endpoint(_ model: String, _ version: String?) -> Result<ModelEndpoint, ReplyError> {
        guard let endpoint = endpoints[model] else {
            return .failure(ReplyError(.error(.notFound, "unknown model \"\(model)\"; served models: \(modelNames.joined(separator: ", "))")))
        }
        guard endpoint.serves(version: version) else {
            return .failure(ReplyError(.error(.notFound, "model \"\(model)\" has no version \"\(version ?? "")\"; served version: \(endpoint.bundle.version)")))
        }
        return .success(endpoint)
    }

    private static func methodNotAllowed(_ head: HTTPRequestHead, _ allowed: String) -> HTTPReply {
        .error(.methodNotAllowed, "\(head.method) is not allowed on \(head.uri); use \(allowed)", extraHeaders: [("allow", allowed)])
    }

    /// Milliseconds from the `X-Request-Timeout-Ms` header as a monotonic deadline (0 = none), or an error reply.
    private static func deadline(from head: HTTPRequestHead, microseconds parameter: Int64? = nil) -> Result<UInt64, ReplyError> {
        var timeoutNanoseconds: UInt64?
        if let header = head.headers.first(name: "x-request-timeout-ms") {
            guard let milliseconds = UInt64(header.trimmingCharacters(in: .whitespaces)), milliseconds > 0 else {
                return .failure(ReplyError(.error(.badRequest, "header X-Request-Timeout-Ms must be a positive integer (milliseconds), got \"\(header)\"")))
            }
            timeoutNanoseconds = milliseconds * 1_000_000
        }
        if let parameter {
            guard parameter > 0 else {
                return .failure(ReplyError(.error(.badRequest, "parameter \"timeout\" must be a positive number of microseconds, got \(parameter)")))
            }
            timeoutNanoseconds = min(timeoutNanoseconds ?? .max, UInt64(parameter) * 1_000)
        }
        guard let timeoutNanoseconds else { return .success(0) }
        return .success(MonotonicClock.nanoseconds() &+ timeoutNanoseconds)
    }

    // MARK: - CTR API

    private func predict(_ endpoint: ModelEndpoint, head: HTTPRequestHead, body: ByteBuffer?, scratch: inout DecodedInstances,
                         respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        guard ready else { return .error(.serviceUnavailable, "model \"\(endpoint.name)\" is not ready (warming up or shutting down)") }
        let decoder = endpoint.decoder
        do throws(RequestDecodeError) {
            if let body {
                try body.withUnsafeReadableBytes { bytes throws(RequestDecodeError) in try decoder.decode(bytes, into: &scratch) }
            } else {
                try decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), into: &scratch)
            }
        } catch {
            return Self.reply(for: error)
        }
        let rows = scratch.count
        guard rows > 0 else { return .json(.ok, Array(#"{"predictions":[]}"#.utf8)) }
        let deadline: UInt64
        switch Self.deadline(from: head) {
        case .success(let value): deadline = value
        case .failure(let error): return error.reply
        }
        let layout = endpoint.pool.layout
        let job = InferenceJob(rows: rows, sparseWidth: layout.sparseWidth, denseWidth: layout.denseWidth,
                               sequenceWidth: layout.sequenceWidth, deadline: deadline) { outcome in
            switch outcome {
            case .success(let predictions):
                var bytes: [UInt8] = []
                bytes.reserveCapacity(20 + predictions.count * 12)
                PredictResponseEncoder.encode(predictions: predictions, into: &bytes)
                respond(.json(.ok, bytes))
            case .failure(let error):
                respond(Self.reply(for: error))
            }
        }
        Self.encode(scratch, with: endpoint.pool.encoder, into: job)
        do {
            try endpoint.pool.submit(job)
        } catch {
            return Self.reply(for: error)
        }
        return nil
    }

    /// Raw features to model inputs, with the bundle's own vocabulary.
    static func encode(_ instances: DecodedInstances, with encoder: FeatureEncoder, into job: InferenceJob) {
        let denseWidth = instances.numericWidth
        let ids = job.ids.baseAddress!, dense = job.dense.baseAddress!
        if denseWidth > 0 {
            instances.withUnsafeDenseValues { values in
                var field = 0
                for index in 0..<(instances.count * denseWidth) {
                    let value = values[index]
                    dense[index] = encoder.denseValue(field: field, raw: value.isNaN ? nil : value)
                    field += 1
                    if field == denseWidth { field = 0 }
                }
            }
        }
        instances.forEachCategorical { index, field, bytes in
            ids[index] = encoder.categoricalID(field: field, utf8: bytes)
        }
        let width = encoder.sequenceWidth
        guard width > 0, let sequences = job.sequences.baseAddress else { return }
        instances.forEachSequence { row, field, value in
            let out = sequences + row * width + encoder.sequenceStarts[field]
            switch value {
            case .missing: encoder.encodeSequence(field: field, utf8: nil, into: out)
            case .joined(let bytes): encoder.encodeSequence(field: field, utf8: bytes, into: out)
            case .tokens(let count, let token):
                encoder.encodeSequence(field: field, tokenCount: count, into: out) { body in
                    for i in 0..<count { body(token(i)) }
                }
            }
        }
    }

    // MARK: - KServe v2

    private func infer(_ endpoint: ModelEndpoint, head: HTTPRequestHead, body: ByteBuffer?,
                       respond: @escaping @Sendable (HTTPReply) -> Void) -> HTTPReply? {
        guard ready else { return .error(.serviceUnavailable, "model \"\(endpoint.name)\" is not ready (warming up or shutting down)") }
        var headerLength: Int?
        if let value = head.headers.first(name: "inference-header-content-length") {
            guard let length = Int(value.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                return .error(.badRequest, "header Inference-Header-Content-Length must be a non-negative integer, got \"\(value)\"")
            }
            headerLength = length
        }
        let empty = ByteBufferAllocator().buffer(capacity: 0)
        let result = (body ?? empty).withUnsafeReadableBytes { bytes -> Result<InferenceJob, ReplyError> in
            prepareInfer(endpoint, head: head, bytes: bytes, headerLength: headerLength, respond: respond)
        }
        switch result {
        case .failure(let error):
            return error.reply
        case .success(let job):
            do {
                try endpoint.pool.submit(job)
            } catch {
                return Self.reply(for: error)
            }
            return nil
        }
    }

    private func prepareInfer(_ endpoint: ModelEndpoint, head: HTTPRequestHead, bytes: UnsafeRawBufferPointer, headerLength: Int?,
                              respond: @escaping @Sendable (HTTPReply) -> Void) -> Result<InferenceJob, ReplyError> {
        let request: InferRequest
        let outputs: [(name: String, binary: Bool)]
        do throws(RequestDecodeError) {
            request = try InferRequestDecoder(maxElements: endpoint.validator.maxElements).decode(bytes, headerLength: headerLength)
            outputs = try request.selectOutputs(modelOutputs: [endpoint.outputName])
        } catch {
            return .failure(ReplyError(Self.reply(for: error)))
        }
        let rows: Int
        switch endpoint.validator.rows(of: request) {
        case .success(let count): rows = count
        case .failure(let error): return .failure(ReplyError(Self.reply(for: error)))
        }
        let deadline: UInt64
        switch Self.deadline(from: head, microseconds: request.parameters["timeout"]?.int64Value) {
        case .success(let value): deadline = value
        case .failure(let error): return .failure(error)
        }
        let modelName = endpoint.name, version = endpoint.bundle.version, outputName = endpoint.outputName, id = request.id
        let layout = endpoint.pool.layout
        let job = InferenceJob(rows: rows, sparseWidth: layout.sparseWidth, denseWidth: layout.denseWidth,
                               sequenceWidth: layout.sequenceWidth, deadline: deadline) { outcome in
            switch outcome {
            case .success(let predictions):
                var encoder = InferResponseEncoder()
                encoder.begin(modelName: modelName, modelVersion: version, id: id)
                for output in outputs where output.name == outputName {
                    encoder.appendOutput(name: outputName, shape: [predictions.count, 1], values: predictions, binary: output.binary)
                }
                encoder.finish()
                if let headerLength = encoder.headerLength {
                    var buffer = HTTPReply.allocator.buffer(capacity: encoder.json.count + encoder.binary.count)
                    buffer.writeBytes(encoder.json)
                    buffer.writeBytes(encoder.binary)
                    respond(HTTPReply(status: .ok, contentType: "application/octet-stream", body: buffer,
                                      extraHeaders: [("inference-header-content-length", String(headerLength))]))
                } else {
                    respond(.json(.ok, encoder.json))
                }
            case .failure(let error):
                respond(Self.reply(for: error))
            }
        }
        if let failure = endpoint.validator.fill(job, from: request, bytes: bytes) {
            return .failure(ReplyError(Self.reply(for: failure)))
        }
        return .success(job)
    }

    // MARK: - Errors to HTTP

    static func reply(for error: RequestDecodeError) -> HTTPReply {
        switch error.kind {
        case .malformedJSON, .invalidRequest: .error(.badRequest, error.message)
        case .limitExceeded: .error(.payloadTooLarge, error.message)
        }
    }

    static func reply(for error: ServingError) -> HTTPReply {
        switch error.kind {
        case .badInput: .error(.badRequest, error.message)
        case .unknownModel: .error(.notFound, error.message)
        case .queueFull: .error(.serviceUnavailable, error.message, extraHeaders: [("retry-after", "1")])
        case .shuttingDown: .error(.serviceUnavailable, error.message, extraHeaders: [("retry-after", "1")])
        case .deadlineExpired: .error(.gatewayTimeout, error.message)
        case .modelLoad, .inference: .error(.internalServerError, error.message)
        }
    }
}

/// An error reply carried through a `Result`.
struct ReplyError: Error {
    let reply: HTTPReply
    init(_ reply: HTTPReply) { self.reply = reply }
}
