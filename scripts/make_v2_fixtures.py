#!/usr/bin/env python3
"""Writes KServe v2 infer request bodies made by the real tritonclient[http], for CTRServer's tests.

Each case becomes <name>.body (the exact HTTP body the client would send) and <name>.json
(the Inference-Header-Content-Length the client would send, or null, and the inputs it encoded,
flattened, so the Swift decoder's result can be checked value by value).

Run:  python3 -m venv /tmp/v && /tmp/v/bin/pip install 'tritonclient[http]' numpy
      /tmp/v/bin/python scripts/make_v2_fixtures.py --out Tests/Fixtures/v2
"""
import argparse
import importlib.metadata
import json
import os

import numpy as np
import tritonclient.http as httpclient


def tensor(name, array, datatype, binary):
    t = httpclient.InferInput(name, list(array.shape), datatype)
    t.set_data_from_numpy(array, binary_data=binary)
    return t


def expected_values(array, datatype):
    flat = array.flatten()
    if datatype == "BYTES":
        return [bytes(v).decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v) for v in flat]
    if datatype == "BOOL":
        return [bool(v) for v in flat]
    if datatype in ("FP32", "FP64"):
        # Bit patterns, so the Swift side checks exactness rather than approximate equality.
        bits = flat.view(np.uint32 if datatype == "FP32" else np.uint64)
        return [int(b) for b in bits]
    return [int(v) for v in flat]


def ctr_arrays(rows):
    rng = np.random.default_rng(7)
    dense = rng.integers(0, 2000, size=(rows, 13)).astype(np.float32) / np.float32(7)
    sparse = rng.integers(0, 1 << 40, size=(rows, 26)).astype(np.int64)
    return dense, sparse


def cases():
    dense, sparse = ctr_arrays(2)
    flags = np.array([True, False, True])
    words = np.array([b"a8cd5504", "é😀".encode(), b""], dtype=np.object_)
    small = np.array([[1, -2], [300, 4]], dtype=np.int32)
    doubles = np.array([0.1, -1e-300, 12345.678], dtype=np.float64)
    # tritonclient's default: binary inputs, no outputs listed -> binary_data_output: true.
    yield "binary_default", [("dense", dense, "FP32", True), ("sparse", sparse, "INT64", True)], None, ""
    # JSON tensors everywhere, outputs requested as JSON.
    yield "json_tensors", [
        ("dense", dense, "FP32", False), ("sparse", sparse, "INT64", False), ("flags", flags, "BOOL", False),
        ("words", words, "BYTES", False), ("small", small, "INT32", False), ("doubles", doubles, "FP64", False),
    ], [("probability", False)], "req-42"
    # Mixed: some inputs binary, some JSON, every binary type; one output binary, one not.
    yield "mixed", [
        ("flags", flags, "BOOL", True), ("sparse", sparse, "INT64", False), ("words", words, "BYTES", True),
        ("small", small, "INT32", True), ("dense", dense, "FP32", True), ("doubles", doubles, "FP64", True),
    ], [("probability", True), ("logit", False)], "mixed-1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, inputs, outputs, request_id in cases():
        infer_inputs = [tensor(n, a, d, b) for n, a, d, b in inputs]
        infer_outputs = None
        if outputs is not None:
            infer_outputs = [httpclient.InferRequestedOutput(n, binary_data=b) for n, b in outputs]
        body, header_length = httpclient.InferenceServerClient.generate_request_body(
            infer_inputs, outputs=infer_outputs, request_id=request_id)
        with open(os.path.join(args.out, name + ".body"), "wb") as f:
            f.write(body)
        meta = {
            "tritonclient": importlib.metadata.version("tritonclient"),
            "header_length": header_length,
            "id": request_id or None,
            "binary_data_output": outputs is None,
            "inputs": [{"name": n, "datatype": d, "shape": list(a.shape), "binary": b,
                        "values": expected_values(a, d)} for n, a, d, b in inputs],
            "outputs": None if outputs is None else [{"name": n, "binary_data": b} for n, b in outputs],
        }
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        print(f"{name}: {len(body)} bytes, header {header_length}")


if __name__ == "__main__":
    main()
