import ClickwiseTestSupport
import Foundation
import Testing

/// Our Protos/ against the descriptors compiled into Triton's own Python client (tritonclient.grpc):
/// every message, field, enum value and method we keep must have Triton's number, type and shape.
@Suite struct TritonDescriptorTests {
    static let compare = #"""
import sys
from google.protobuf import descriptor_pb2
import tritonclient.grpc.service_pb2 as service

ours = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], "rb").read())
theirs = []
def add(fd):
    p = descriptor_pb2.FileDescriptorProto()
    fd.CopyToProto(p)
    theirs.append(p)
    for d in fd.dependencies:
        add(d)
add(service.DESCRIPTOR)

def index(files):
    msgs, enums, methods = {}, {}, {}
    def walk(prefix, ms, es):
        for e in es:
            enums[prefix + e.name] = {v.name: v.number for v in e.value}
        for m in ms:
            msgs[prefix + m.name] = m
            walk(prefix + m.name + ".", m.nested_type, m.enum_type)
    for f in files:
        walk("." + f.package + ".", f.message_type, f.enum_type)
        for s in f.service:
            for m in s.method:
                methods[f.package + "." + s.name + "/" + m.name] = m
    return msgs, enums, methods

om, oe, ometh = index([f for f in ours.file if f.package == "inference"])
tm, te, tmeth = index(theirs)
problems, fields = [], 0
for name, m in om.items():
    t = tm.get(name)
    if t is None:
        problems.append(f"message {name} is not in Triton's protos"); continue
    if m.options.map_entry != t.options.map_entry:
        problems.append(f"{name}: map entry differs")
    tf = {f.name: f for f in t.field}
    for f in m.field:
        fields += 1
        g = tf.get(f.name)
        if g is None:
            problems.append(f"{name}.{f.name} is not in Triton's {name}"); continue
        for attr in ("number", "type", "label", "type_name"):
            if getattr(f, attr) != getattr(g, attr):
                problems.append(f"{name}.{f.name}: {attr} {getattr(f, attr)!r} here, {getattr(g, attr)!r} in Triton's")
        mine = m.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
        tri = t.oneof_decl[g.oneof_index].name if g.HasField("oneof_index") else None
        if mine != tri:
            problems.append(f"{name}.{f.name}: oneof {mine} here, {tri} in Triton's")
for name, values in oe.items():
    if name not in te:
        problems.append(f"enum {name} is not in Triton's protos"); continue
    for v, n in values.items():
        if te[name].get(v) != n:
            problems.append(f"{name}.{v} = {n} here, {te[name].get(v)} in Triton's")
for name, m in ometh.items():
    t = tmeth.get(name)
    if t is None:
        problems.append(f"method {name} is not in Triton's service"); continue
    for attr in ("input_type", "output_type", "client_streaming", "server_streaming"):
        if getattr(m, attr) != getattr(t, attr):
            problems.append(f"{name}: {attr} {getattr(m, attr)!r} here, {getattr(t, attr)!r} in Triton's")
for p in problems:
    print("MISMATCH " + p)
print(f"checked {len(om)} messages, {fields} fields, {len(oe)} enums, {len(ometh)} methods")
print("END")
sys.exit(1 if problems else 0)
"""#

    @Test func protosCarryTritonsNamesAndNumbers() async throws {
        let root = ServeProcess.packageRoot
        let descriptors = FileManager.default.temporaryDirectory
            .appendingPathComponent("clickwise-protos-\(getpid()).pb").path
        defer { try? FileManager.default.removeItem(atPath: descriptors) }
        let protoc = try ServeProcess("/usr/bin/protoc", [
            "-I", root + "/Protos", "--include_imports", "--descriptor_set_out=" + descriptors,
            root + "/Protos/inference/grpc_service.proto",
        ], label: "protoc")
        let protocStatus = try protoc.waitForExit(timeout: 30)
        #expect(protocStatus == 0, "protoc: \(protoc.output.joined(separator: "\n"))")

        let (status, lines) = try await TritonPython.run(Self.compare, [descriptors])
        #expect(status == 0, "\(lines.joined(separator: "\n"))")
        // What was compared: all 12 methods and every message of both files (a silent no-op fails).
        let summary = try #require(lines.last)
        #expect(summary.hasSuffix("12 methods"), "\(summary)")
        #expect((ServeProcess.number(after: "checked ", in: summary) ?? 0) >= 40, "\(summary)")
        #expect((ServeProcess.number(after: "messages, ", in: summary) ?? 0) >= 100, "\(summary)")
    }
}
