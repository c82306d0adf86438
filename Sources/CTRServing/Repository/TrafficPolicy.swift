import Foundation

/// How one model's requests are shared between its versions (`serve --traffic`, `--shadow`, or a `traffic.json`
/// in the model's directory): weighted shares, sticky per user, and an optional shadow version that scores every
/// CTR API request beside the one that answers.
public struct TrafficPolicy: Sendable, Equatable {
    /// One version's share of the traffic.
    public struct Share: Sendable, Equatable {
        /// The version directory's name.
        public var version: String
        /// Its weight; its share of the traffic is weight / the sum of the weights.
        public var weight: Int

        /// A version with its weight (any non-negative integer; shares are weight / total).
        public init(version: String, weight: Int) {
            self.version = version
            self.weight = weight
        }
    }

    /// The shares; empty: every request goes to the newest version (Triton's "latest 1").
    public var shares: [Share]
    /// The field whose value keeps one user on one version; nil: the bundle's first `source: user` field.
    public var stickyField: String?
    /// A version that scores every CTR API request as well, logged, never answered.
    public var shadow: String?
    /// Where the policy came from, for messages ("--traffic autoint=...", a traffic.json path).
    public var origin: String

    /// A policy in code.
    public init(shares: [Share] = [], stickyField: String? = nil, shadow: String? = nil, origin: String) {
        self.shares = shares
        self.stickyField = stickyField
        self.shadow = shadow
        self.origin = origin
    }

    /// The file in a model's directory that sets its policy, read again by every repository poll and `load`.
    public static let fileName = "traffic.json"

    /// Parses `--traffic`'s shares, `1:90,2:10` (version:weight pairs).
    public static func parseShares(_ text: String, origin: String) throws(ServingError) -> [Share] {
        var shares: [Share] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pair.count == 2, let number = Int(pair[0]), number >= 0, let weight = Int(pair[1]), weight >= 0 else {
                throw ServingError(.modelLoad, "\(origin): \"\(part)\" is not VERSION:WEIGHT (e.g. 1:90,2:10)")
            }
            shares.append(Share(version: String(pair[0]), weight: weight))
        }
        return shares
    }

    /// Policies by model from `serve --traffic MODEL=1:90,2:10` and `--shadow MODEL=2` arguments (each repeatable).
    public static func fromArguments(traffic: [String], shadow: [String]) throws(ServingError) -> [String: TrafficPolicy] {
        var policies: [String: TrafficPolicy] = [:]
        for argument in traffic {
            let origin = "--traffic \(argument)"
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw ServingError(.modelLoad, "\(origin): expected MODEL=VERSION:WEIGHT,..., e.g. autoint=1:90,2:10")
            }
            let model = String(argument[..<equals])
            guard policies[model]?.shares.isEmpty ?? true else { throw ServingError(.modelLoad, "\(origin): model \(model) has two --traffic") }
            var policy = policies[model] ?? TrafficPolicy(origin: origin)
            policy.shares = try parseShares(String(argument[argument.index(after: equals)...]), origin: origin)
            policy.origin = origin
            try policy.check()
            policies[model] = policy
        }
        for argument in shadow {
            let origin = "--shadow \(argument)"
            let parts = argument.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let number = Int(parts[1]), number >= 0 else {
                throw ServingError(.modelLoad, "\(origin): expected MODEL=VERSION, e.g. autoint=2")
            }
            let model = String(parts[0])
            guard policies[model]?.shadow == nil else { throw ServingError(.modelLoad, "\(origin): model \(model) has two --shadow") }
            var policy = policies[model] ?? TrafficPolicy(origin: origin)
            policy.shadow = String(parts[1])
            if policy.origin != origin { policy.origin += " " + origin }
            policies[model] = policy
        }
        return policies
    }

    /// Reads a `traffic.json`: `{"weights": {"1": 90, "2": 10}, "sticky_field": "userid", "shadow": "2"}`, each key optional.
    public init(file path: String) throws(ServingError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServingError(.modelLoad, "\(path): cannot read the file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw ServingError(.modelLoad, "\(path): not a JSON object")
        }
        let known: Set<String> = ["weights", "sticky_field", "shadow"]
        if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) {
            throw ServingError(.modelLoad, "\(path): unknown key \"\(unknown)\"; the keys are weights, sticky_field, shadow")
        }
        // Typed values through Codable: JSONSerialization's numbers pass for booleans and back on Linux.
        struct File: Decodable {
            var weights: [String: Int]?
            var stickyField: String?
            var shadow: Shadow?
            enum CodingKeys: String, CodingKey { case weights, stickyField = "sticky_field", shadow }
        }
        struct Shadow: Decodable {
            var text: String
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int.self) { text = String(number) } else { text = try container.decode(String.self) }
            }
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            let problem = (root["weights"].map { $0 is [String: Any] } ?? true) ? "" : "\"weights\" must be an object of version: weight, e.g. {\"1\": 90, \"2\": 10}; "
            throw ServingError(.modelLoad, "\(path): \(problem)weights must be non-negative integers by version, sticky_field a field name, shadow a version number")
        }
        var shares: [Share] = []
        for (version, weight) in (file.weights ?? [:]).sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            guard let number = Int(version), number >= 0 else {
                throw ServingError(.modelLoad, "\(path): weights: \"\(version)\" is not a version number")
            }
            guard weight >= 0 else { throw ServingError(.modelLoad, "\(path): weights.\(version) must be a non-negative integer") }
            shares.append(Share(version: version, weight: weight))
        }
        if let name = file.stickyField, name.isEmpty { throw ServingError(.modelLoad, "\(path): sticky_field must be a field name") }
        let sticky = file.stickyField
        let shadow = file.shadow?.text
        if let shadow { guard let number = Int(shadow), number >= 0 else { throw ServingError(.modelLoad, "\(path): shadow must be a version number") } }
        self.init(shares: shares, stickyField: sticky, shadow: shadow, origin: path)
        try check()
    }

    /// The largest weight: the weights are summed on the request path, which must not overflow.
    public static let maxWeight = 1_000_000_000

    /// Refuses a policy that routes nothing (shares that all weigh 0), one version listed twice, a weight above ``maxWeight``.
    public func check() throws(ServingError) {
        if let heavy = shares.first(where: { $0.weight > Self.maxWeight }) {
            throw ServingError(.modelLoad, "\(origin): version \(heavy.version)'s weight \(heavy.weight) is above \(Self.maxWeight); weights are relative, e.g. 90 and 10")
        }
        guard shares.isEmpty || shares.contains(where: { $0.weight > 0 }) else {
            throw ServingError(.modelLoad, "\(origin): every weight is 0; give at least one version a positive weight")
        }
        guard Set(shares.map(\.version)).count == shares.count else {
            throw ServingError(.modelLoad, "\(origin): a version is listed twice")
        }
    }

    /// The versions that answer requests: those with a positive weight, or `newest` without shares.
    public func answering(newest: String) -> [String] {
        shares.isEmpty ? [newest] : shares.filter { $0.weight > 0 }.map(\.version)
    }

    /// Every version the policy needs loaded: the answering ones and the shadow.
    public func loaded(newest: String) -> [String] {
        var versions = answering(newest: newest)
        if let shadow, !versions.contains(shadow) { versions.append(shadow) }
        return versions
    }

    /// The version that answers a request whose routing key is `key` (a hash of its sticky value, else random):
    /// version i for keys in its slice of the total weight, so one key always lands on one version.
    public func pick(key: UInt64) -> String? {
        let total = shares.reduce(0) { $0 + max($1.weight, 0) }
        guard total > 0 else { return nil }
        var slot = Int(key % UInt64(total))
        for share in shares where share.weight > 0 {
            if slot < share.weight { return share.version }
            slot -= share.weight
        }
        return nil
    }

    /// The routing key of a request body that names `field` (`"field": value`, anywhere: a `:rank` context or a
    /// `:predict` instance): a hash of the value's text, so one user stays on one version; nil when absent.
    ///
    /// A byte search, not a JSON parse: it runs before the version (whose decoder parses the body) is chosen, and
    /// costs one `memmem`-like pass over the bytes up to the first match.
    public static func stickyKey(in body: UnsafeRawBufferPointer, field: String) -> UInt64? {
        let needle = Array("\"\(field)\"".utf8)
        let bytes = body.bindMemory(to: UInt8.self)
        guard bytes.count > needle.count, let first = needle.first else { return nil }
        func skippingSpace(_ start: Int) -> Int {
            var cursor = start
            while cursor < bytes.count, bytes[cursor] == 0x20 || bytes[cursor] == 0x09 || bytes[cursor] == 0x0A || bytes[cursor] == 0x0D { cursor += 1 }
            return cursor
        }
        var index = 0
        let end = bytes.count - needle.count
        while index <= end {
            if bytes[index] == first, (1..<needle.count).allSatisfy({ bytes[index + $0] == needle[$0] }) {
                let colon = skippingSpace(index + needle.count)
                if colon < bytes.count, bytes[colon] == UInt8(ascii: ":") {
                    return hashValue(bytes, from: skippingSpace(colon + 1))
                }
            }
            index += 1
        }
        return nil
    }

    /// FNV-1a of the value starting at `start` (a string's contents, or a bare token up to a delimiter), mixed
    /// (SplitMix64's finalizer) so that nearby ids spread over the weights.
    private static func hashValue(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> UInt64? {
        guard start < bytes.count else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var cursor = start
        if bytes[cursor] == UInt8(ascii: "\"") {
            cursor += 1
            while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "\"") {
                if bytes[cursor] == UInt8(ascii: "\\") { cursor += 1; if cursor >= bytes.count { break } }
                hash = (hash ^ UInt64(bytes[cursor])) &* 0x100_0000_01b3
                cursor += 1
            }
        } else {
            while cursor < bytes.count, !",}] \t\r\n".utf8.contains(bytes[cursor]) {
                hash = (hash ^ UInt64(bytes[cursor])) &* 0x100_0000_01b3
                cursor += 1
            }
            // null: the field is missing, so the request has no key.
            if cursor - start == 4, bytes[start] == UInt8(ascii: "n") { return nil }
            if cursor == start { return nil }
        }
        var z = hash &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
