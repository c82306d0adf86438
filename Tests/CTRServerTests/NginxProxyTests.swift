import ClickwiseTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The committed deploy/nginx/clickwise.conf, run by Debian's real nginx in front of two `clickwise serve`
/// instances (the built binary) on their own ports.
@Suite(.serialized)
struct NginxProxyTests {
    static let nginx = "/usr/sbin/nginx"

    /// A port nothing listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The committed site config with its upstream servers and listen address replaced.
    static func siteConfig(upstreams: [Int], listen: Int) throws -> String {
        let text = try String(contentsOfFile: ServeProcess.packageRoot + "/deploy/nginx/clickwise.conf", encoding: .utf8)
        var out: [String] = []
        var serversWritten = false
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("server 127.0.0.1:") {
                if !serversWritten {
                    for port in upstreams { out.append("    server 127.0.0.1:\(port) max_fails=3 fail_timeout=5s;") }
                    serversWritten = true
                }
            } else if trimmed.hasPrefix("listen ") {
                out.append("    listen 127.0.0.1:\(listen);")
            } else {
                out.append(line)
            }
        }
        #expect(serversWritten)
        return out.joined(separator: "\n")
    }

    static func rowsServed(port: Int) throws -> Int {
        let metrics = try HTTPTestClient(port: port).send("GET", "/metrics").text
        let line = metrics.components(separatedBy: "\n").first { $0.hasPrefix("clickwise_rows_total ") } ?? ""
        return Int(line.split(separator: " ").last ?? "") ?? -1
    }

    @Test func trafficThroughNginxReachesBothInstances() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.nginx), "nginx-light is installed by scripts/setup.sh")
        let repository = try TestServer.makeRepository()
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-nginx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        var children: [ServeProcess] = []
        defer {
            for child in children { child.stop() }
            try? FileManager.default.removeItem(atPath: repository)
            try? FileManager.default.removeItem(atPath: prefix)
        }
        var ports: [Int] = []
        for i in 0..<2 {
            let instance = try ServeProcess.clickwise(["serve", "--model", repository, "--port", "0", "--grpc-port", "0", "--event-loops", "1"], label: "instance\(i)")
            children.append(instance)
            let line = try instance.waitForLine(timeout: 60) { $0.contains(" on http://127.0.0.1:") }
            ports.append(try #require(ServeProcess.number(after: "127.0.0.1:", in: line)))
            try instance.waitForLine { $0.hasPrefix("ready") }
        }
        let listen = Self.freePort()
        try Self.siteConfig(upstreams: ports, listen: listen).write(toFile: prefix + "/clickwise.conf", atomically: true, encoding: .utf8)
        let main = """
            daemon off;
            master_process on;
            worker_processes 2;
            \(getuid() == 0 ? "user root;" : "")
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log info;
            events { worker_connections 1024; }
            http {
                client_body_temp_path \(prefix)/client_body;
                proxy_temp_path \(prefix)/proxy;
                fastcgi_temp_path \(prefix)/fastcgi;
                uwsgi_temp_path \(prefix)/uwsgi;
                scgi_temp_path \(prefix)/scgi;
                include \(prefix)/clickwise.conf;
            }
            """
        try main.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let check = try ServeProcess(Self.nginx, ["-t", "-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"], label: "nginx -t")
        #expect(try check.waitForExit() == 0, "nginx -t: \(check.output.joined(separator: "\n"))")
        let proxy = try ServeProcess(Self.nginx, ["-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"], label: "nginx")
        children.append(proxy)

        // Wait for nginx to listen.
        let deadline = Date().addingTimeInterval(20)
        while (try? HTTPTestClient(port: listen).send("GET", "/nginx-health").status) != 200 {
            guard Date() < deadline, proxy.isRunning else {
                let log = (try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8)) ?? ""
                Issue.record("nginx did not start: \(proxy.output) \(log)")
                return
            }
            usleep(50_000)
        }

        let before = try ports.map(Self.rowsServed)
        let direct = try HTTPTestClient(port: ports[0]).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<8))
        let expected = try #require(direct.json?["predictions"] as? [Double])
        #expect(expected.count == 8)
        // Keep-alive from the client to nginx; nginx keeps its own connections to the instances.
        let client = HTTPTestClient(port: listen)
        for i in 0..<100 {
            let rows = (i % 4 == 0) ? 0..<8 : (i % 8)..<(i % 8 + 1)
            let response = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: rows))
            #expect(response.status == 200, "\(response.text)")
            let predictions = try #require(response.json?["predictions"] as? [Double])
            #expect(predictions.count == rows.count && zip(predictions, expected[rows]).allSatisfy { abs($0 - $1) < 1e-6 }, "request \(i)")
        }
        #expect(try client.send("GET", "/v2/health/ready").status == 200)
        let after = try ports.map(Self.rowsServed)
        let served = zip(after, before).map { $0 - $1 }
        // 8 direct rows on instance 0, 25 × 8 + 75 × 1 = 275 rows through nginx, split over both.
        #expect(served.reduce(0, +) == 8 + 275, "rows served per instance: \(served)")
        #expect(served.allSatisfy { $0 > 8 }, "both instances must receive traffic through nginx: \(served)")

        proxy.signal(SIGQUIT)  // nginx's graceful stop
        #expect(try proxy.waitForExit(timeout: 20) == 0)
        for instance in children.prefix(2) {
            instance.signal(SIGTERM)
            #expect(try instance.waitForExit(timeout: 30) == 0)
        }
    }
}
