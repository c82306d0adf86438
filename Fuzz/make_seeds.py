#!/usr/bin/env python3
"""Writes the committed seed corpus Fuzz/corpus/<target>/ and the dictionaries Fuzz/*.dict.

Seeds are real request bodies (the README's examples, tritonclient fixtures under Tests/Fixtures/v2, bodies
valid for the shipped models/deepfm bundle) and a few hand-made edge cases. Run from anywhere; rerunning
rewrites the same files. Crash inputs found later are added by hand as `crash-*` files and kept.
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz" / "corpus"
V2 = ROOT / "Tests" / "Fixtures" / "v2"

CRITEO_ROW = ('{"I2":53,"I3":11,"I4":5,"I5":1623,"I6":50,"I7":210,"I8":15,"I9":22,"I11":6,"I13":19,"C1":"1502b4ff",'
              '"C2":"e82ad043","C3":"12a3651c","C4":"c8f71022","C5":"108db93c","C7":"60a3eb93","C8":"66d6d1b3",'
              '"C9":"ff54a11d","C10":"c004f2c1","C11":"5bb8dc83","C12":"b87cb167","C13":"091f98eb","C14":"844bdfe8",'
              '"C15":"c3522966","C16":"2c301c68","C17":"3349a53c","C18":"11540324","C19":"489bd6b3","C21":"46ecc376",'
              '"C23":"2b0d59a2","C24":"e6549485"}')
PREDICT = {
    "readme_criteo": '{"instances":[' + CRITEO_ROW + ']}',
    "readme_tiny": '{"instances":[{"userid":"c2ddade1","adgroup_id":"54950fae","price":23.26,'
                   '"click_sequence":["711d749e","d644246f"]}]}',
    "tiny_joined_sequence": '{"instances":[{"userid":"u1","price":"3.5","click_sequence":"a^b^c^d^e^f^g","clk":1,'
                            '"time_stamp":"1494137644"},{"userid":null,"price":null,"click_sequence":[]}]}',
    "tiny_token_kinds": '{"instances":[{"click_sequence":[null,"",7,"x\\u00e9"],"pid":430548,"brand":""}]}',
    "criteo_kinds": '{"instances":[{"I1":"5","I2":5.0,"I3":1e3,"I4":null,"I5":"","C1":123,"C2":null,"C3":"",'
                    '"C4":"\\ud83d\\ude00","C5":"a\\"b"},{}]}',
    "empty": '{"instances":[]}',
    "unknown_key": '{"instances":[{"I1":1,"nope":2}]}',
    "duplicate_key": '{"instances":[{"I1":1,"I1":2}]}',
    "two_rows": '{"instances":[' + CRITEO_ROW + ',' + CRITEO_ROW + ']}',
}

SCANNER = {
    "literals": '[true,false,null,{},[],"",0,-0,-0.0e+0]',
    "numbers": '[1.7976931348623157e308,5e-324,9007199254740993,123456789012345678901234567890,0.1,'
               '-9223372036854775808,9223372036854775808,1E22,1e23,3.4028235e38,1.17549435e-38,2.5e-3]',
    "escapes": '["\\"\\\\\\/\\b\\f\\n\\r\\t","\\u0000","\\ud83d\\ude00","\\u00e9","\u00e9\U0001F600"]',
    "nested": "[" * 64 + "]" * 64,
    "too_deep": "[" * 65 + "]" * 65,
    "object": '{"a":{"b":[1,{"c":null}]},"d":"e"}',
}

def deepfm_inputs():
    """Ids and values valid for models/deepfm: each field's missing id, and small numbers."""
    features = json.loads((ROOT / "models" / "deepfm" / "1" / "features.json").read_text())
    ids = [field["offset"] + field["missingIndex"] for field in features["categoricalFields"]]
    dense = [float(i) for i in range(len(features["denseFields"]))]
    return ids, dense

def v2_json(rows, ids, dense, binary):
    inputs = []
    for name, datatype, width, values, size in (("sparse_ids", "INT64", len(ids), ids, 8), ("dense", "FP32", len(dense), dense, 4)):
        tensor = {"name": name, "shape": [rows, width], "datatype": datatype}
        if binary:
            tensor["parameters"] = {"binary_data_size": rows * width * size}
        else:
            tensor["data"] = values * rows
        inputs.append(tensor)
    request = {"id": "seed", "inputs": inputs, "outputs": [{"name": "probability", "parameters": {"binary_data": binary}}]}
    return json.dumps(request, separators=(",", ":")).encode()

def pb_varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))

def pb_field(number, payload):
    """A length-delimited protobuf field (strings, bytes, messages, packed arrays)."""
    payload = payload.encode() if isinstance(payload, str) else payload
    return pb_varint(number << 3 | 2) + pb_varint(len(payload)) + payload

def pb_parameters(number, values):
    """map<string, InferParameter> entries: bool 1, int64 2, string 3, double 4 (fixed64), uint64 5."""
    out = b""
    for key, value in values.items():
        if isinstance(value, bool):
            parameter = pb_varint(1 << 3) + pb_varint(int(value))
        elif isinstance(value, int):
            parameter = pb_varint(2 << 3) + pb_varint(value)
        elif isinstance(value, float):
            parameter = pb_varint(4 << 3 | 1) + struct.pack("<d", value)
        else:
            parameter = pb_field(3, value)
        out += pb_field(number, pb_field(1, key) + pb_field(2, parameter))
    return out

def grpc_infer(ids, dense, rows, typed=False):
    """A ModelInferRequest for models/deepfm as Triton's clients send it (raw_input_contents), or with typed contents."""
    def tensor(name, datatype, width, contents):
        shape = pb_field(3, b"".join(pb_varint(d) for d in (rows, width)))
        return pb_field(5, pb_field(1, name) + pb_field(2, datatype) + shape + (pb_field(5, contents) if typed else b""))
    id_values, dense_values = ids * rows, dense * rows
    message = pb_field(1, "deepfm") + pb_field(3, "seed") + pb_parameters(4, {"timeout": 1000, "priority": 1})
    message += tensor("sparse_ids", "INT64", len(ids), pb_field(3, b"".join(pb_varint(v) for v in id_values)))
    message += tensor("dense", "FP32", len(dense), pb_field(6, struct.pack("<%df" % len(dense_values), *dense_values)))
    message += pb_field(6, pb_field(1, "probability") + pb_parameters(2, {"binary_data": True, "note": "x", "ratio": 0.5}))
    if not typed:
        message += pb_field(7, struct.pack("<%dq" % len(id_values), *id_values))
        message += pb_field(7, struct.pack("<%df" % len(dense_values), *dense_values))
    return message

def main():
    ids, dense = deepfm_inputs()
    deepfm_json = v2_json(2, ids, dense, binary=False)
    deepfm_binary_header = v2_json(2, ids, dense, binary=True)
    deepfm_binary = deepfm_binary_header + struct.pack("<%dq" % (2 * len(ids)), *(ids * 2)) \
        + struct.pack("<%df" % (2 * len(dense)), *(dense * 2))
    infer_json = {
        "deepfm_two_rows": deepfm_json,
        "tritonclient_json_tensors": (V2 / "json_tensors.body").read_bytes(),
        "nested_data": b'{"inputs":[{"name":"dense","shape":[1,13],"datatype":"FP32","data":[[0,1,2,3,4,5,6,7,8,9,10,11,12]]},'
                       b'{"name":"sparse_ids","shape":[1,26],"datatype":"INT32","data":[' + ",".join(map(str, ids)).encode() + b']}]}',
        "kinds": b'{"id":"r1","inputs":[{"data":[[1,2,3],[4,5,6]],"shape":[2,3],"name":"a","datatype":"INT64"},'
                 b'{"name":"e","datatype":"BYTES","shape":[2],"data":["x\\n","\xc3\xa9"]},'
                 b'{"name":"f","datatype":"BOOL","shape":[2,1],"data":[[true],[false]]}],'
                 b'"parameters":{"timeout":1000,"binary_data_output":true},"outputs":[{"name":"p"}]}',
    }
    def binary_seed(header_length, body):
        return struct.pack("<H", header_length) + body
    infer_binary = {
        "deepfm_binary": binary_seed(len(deepfm_binary_header), deepfm_binary),
        "tritonclient_binary_default": binary_seed(json.loads((V2 / "binary_default.json").read_text())["header_length"],
                                                   (V2 / "binary_default.body").read_bytes()),
        "tritonclient_mixed": binary_seed(json.loads((V2 / "mixed.json").read_text())["header_length"], (V2 / "mixed.body").read_bytes()),
        "json_only": binary_seed(0xFFFF, deepfm_json),
        "header_zero": binary_seed(0, deepfm_json),
    }

    def http(method, target, body=b"", headers=()):
        lines = [f"{method} {target} HTTP/1.1", "host: localhost"] + list(headers)
        if body or method == "POST":
            lines.append(f"content-length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    predict = PREDICT["readme_criteo"].encode()
    http_seeds = {
        "health_ready": http("GET", "/v2/health/ready"),
        "metrics_and_live_pipelined": http("GET", "/metrics") + http("GET", "/v2/health/live"),
        "server_and_model_metadata": http("GET", "/v2") + http("GET", "/v2/models/deepfm") + http("GET", "/v2/models/deepfm/versions/1/ready"),
        "predict": http("POST", "/v1/models/deepfm:predict", predict, ["content-type: application/json"]),
        "predict_pipelined_three": http("POST", "/v1/models/deepfm:predict", predict) * 3,
        "predict_chunked": b"POST /v1/models/deepfm:predict HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
                           + b"%x\r\n" % len(predict) + predict + b"\r\n0\r\n\r\n",
        "predict_expect_continue": http("POST", "/v1/models/deepfm:predict", predict, ["expect: 100-continue"]),
        "infer_json": http("POST", "/v2/models/deepfm/infer", deepfm_json),
        "infer_binary": http("POST", "/v2/models/deepfm/versions/1/infer", deepfm_binary,
                             [f"inference-header-content-length: {len(deepfm_binary_header)}", "content-type: application/octet-stream"]),
        "head_and_wrong_method": http("HEAD", "/v2/health/ready") + http("DELETE", "/v1/models/deepfm:predict"),
        "http10_keepalive": b"GET /v2/health/live HTTP/1.0\r\nconnection: keep-alive\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n",
        "unknown_model": http("POST", "/v1/models/nope:predict", b"{}") + http("GET", "/v2/models/deepfm/versions/9"),
        "garbage": b"\x00\x01GET / HTTP/9.9\r\n\r\n",
    }

    grpc_seeds = {
        "deepfm_raw_one_row": grpc_infer(ids, dense, 1),
        "deepfm_raw_three_rows": grpc_infer(ids, dense, 3),
        "deepfm_typed_two_rows": grpc_infer(ids, dense, 2, typed=True),
        "empty": b"",
    }

    for target, seeds in (("FuzzGRPCInfer", grpc_seeds), ("FuzzJSONScanner", {**SCANNER, **PREDICT, "v2_json": deepfm_json}), ("FuzzPredictDecoder", PREDICT),
                          ("FuzzInferJSON", infer_json), ("FuzzInferBinary", infer_binary), ("FuzzHTTPHandler", http_seeds)):
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (directory / name).write_bytes(data.encode() if isinstance(data, str) else data)

    json_tokens = ['"{"', '"}"', '"["', '"]"', '":"', '","', '"\\""', '"true"', '"false"', '"null"', '"\\\\u"', '"\\\\ud83d"',
                   '"e+"', '"E-"', '"-0."', '"instances"', '"inputs"', '"outputs"', '"name"', '"shape"', '"datatype"',
                   '"data"', '"parameters"', '"binary_data_size"', '"binary_data"', '"binary_data_output"', '"timeout"',
                   '"id"', '"model_name"', '"model_version"', '"classification"', '"shared_memory_region"',
                   '"FP32"', '"FP64"', '"FP16"', '"BF16"', '"INT64"', '"INT32"', '"INT8"', '"UINT8"', '"UINT64"',
                   '"BOOL"', '"BYTES"', '"sparse_ids"', '"dense"', '"probability"', '"I1"', '"I13"', '"C1"', '"C26"',
                   '"userid"', '"adgroup_id"', '"price"', '"click_sequence"', '"clk"', '"time_stamp"', '"^"']
    (ROOT / "Fuzz" / "json.dict").write_text("# JSON syntax and the keys our decoders know (libFuzzer -dict)\n"
                                             + "\n".join(json_tokens) + "\n")
    http_tokens = ['"GET "', '"POST "', '"HEAD "', '" HTTP/1.1\\x0d\\x0a"', '" HTTP/1.0\\x0d\\x0a"', '"\\x0d\\x0a"',
                   '"\\x0d\\x0a\\x0d\\x0a"', '"content-length: "', '"transfer-encoding: chunked"', '"connection: close"',
                   '"connection: keep-alive"', '"expect: 100-continue"', '"inference-header-content-length: "',
                   '"/v1/models/deepfm:predict"', '"/v2/models/deepfm/infer"', '"/v2/models/deepfm/versions/1"',
                   '"/v2/health/ready"', '"/v2/health/live"', '"/metrics"', '"/v2"', '"0\\x0d\\x0a\\x0d\\x0a"']
    (ROOT / "Fuzz" / "http.dict").write_text("# HTTP/1.1 request syntax and our routes, plus the JSON tokens (libFuzzer -dict)\n"
                                             + "\n".join(http_tokens + json_tokens) + "\n")

    grpc_tokens = ['"deepfm"', '"sparse_ids"', '"dense"', '"probability"', '"INT64"', '"INT32"', '"FP32"', '"BYTES"',
                   '"timeout"', '"priority"', '"binary_data"', '"\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x01"']
    (ROOT / "Fuzz" / "grpc.dict").write_text("# names and values a ModelInferRequest carries, and a 10-byte varint (libFuzzer -dict)\n"
                                             + "\n".join(grpc_tokens) + "\n")

    data_seeds()


def data_seeds():
    """Issue 21's data-path targets: CSV files as users write them, Criteo lines, and encoder fit/query inputs."""
    def put(target, name, data):
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)

    # FuzzCSVReader: the first byte picks separator (low 2 bits: , ; TAB |) and buffer size (next 2 bits: 4 7 64 64K).
    put("FuzzCSVReader", "taobao", bytes([0]) + b"clk,time_stamp,userid,adgroup_id,price,click_sequence\n"
        b"0,1494137644,u1,a1,23.26,a1^a2^a3\n1,1494137645,u2,a2,,\n0,,u1,\"a,3\",1e2,a3\n")
    put("FuzzCSVReader", "quirks", bytes([5]) + "\ufeff;clk; user id ;price;\r\n0;true;u1;2.5;\r\n1;False;\"u\"\"2\";-.5;\r\n"
        "2;1.0;\"multi\nline\";+3;\r\n".encode())
    put("FuzzCSVReader", "tabs", bytes([2 | 12]) + b"y\tcount\ttags\n1\t17\tx|y\n0\t\t\n1\t3000000\tz\n")
    put("FuzzCSVReader", "unicode", bytes([3 | 4]) + "label|名前|値\n1|東京|1.5\n0|é|\n".encode())
    put("FuzzCSVReader", "bad_rows", bytes([0]) + b"a,b,c\n1,2\n1,\"x\"y,3\n1,2,3,4\n\"open,1,2\n")

    # FuzzCriteoReader: bit 0 set = no label column; bits 1-2 pick the buffer size (5 64 4096 64K).
    dense = "\t".join(["1", "", "-1", "5", "1623", "50", "210", "15", "22", "", "6", "", "19"])
    cats = "\t".join(["1502b4ff", "e82ad043", "", "c8f71022"] + ["long-value-4-3"] + ["%08x" % (400 + i) for i in range(21)])
    line = f"1\t{dense}\t{cats}\n"
    put("FuzzCriteoReader", "rows", bytes([2]) + (line * 3 + "0\t" + "\t" * 38 + "\n").encode())
    put("FuzzCriteoReader", "no_label", bytes([1 | 4]) + f"{dense}\t{cats}\r\n".encode() * 2)
    put("FuzzCriteoReader", "malformed", bytes([0]) + b"1\t2\n2\t" + b"x\t" * 38 + b"\n" + line.encode()[:-1])

    # FuzzEncoder: fit values (0x00-separated, cycling c0, c1, n0, s0, s1) up to 0xFE, then queries.
    fit = [b"u1", b"a", b"1.5", b"u1^u2^u3^u4", b"t1||t2||t3", b"a-long-user-id-value", b"", b"", b"", b"",
           b"u2", b"b", b"2", b"x^^y", b"||"]
    queries = [b"u1", b"a-long-user-id-value", b"nope", b"", b"u1^u9^a-long-user-id-value", b"t1||t2||t3||t4",
               b"\xff\xfe", b"\xc3"]
    put("FuzzEncoder", "fit_and_query", b"\x00".join(fit) + b"\xfe" + b"\x00".join(queries))

    data_tokens = ['","', '";"', '"\\x09"', '"\\x22"', '"\\x22\\x22"', '"\\x0d\\x0a"', '"\\x0a"', '"\\xef\\xbb\\xbf"',
                   '"^"', '"||"', '"true"', '"false"', '"1e-3"', '"-0.5"', '"+7"', '".5"', '"nan"', '"inf"', '"label"',
                   '"clk"', '"user_id"', '"price"', '"\\x00"', '"\\xfe"', '"\\xff"']
    (ROOT / "Fuzz" / "csv.dict").write_text("# CSV syntax, number and label notations, sequence splitters (libFuzzer -dict)\n"
                                            + "\n".join(data_tokens) + "\n")


if __name__ == "__main__":
    main()
