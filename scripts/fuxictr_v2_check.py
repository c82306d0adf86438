#!/usr/bin/env python3
"""Calls an imported FuxiCTR model over KServe v2 with Triton's own clients and compares with FuxiCTR.

Sends FuxiCTR's encoded tensors for the fixture rows (Tests/Fixtures/fuxictr/encoded_rows.json: one input per
feature, as FuxiCTR's model takes them) with tritonclient.http (binary tensors) and tritonclient.grpc, in
requests of several sizes and concurrently, and checks every answer against FuxiCTR's own predictions
(expected_predictions.json) within 1e-5. Writes perf_analyzer's --input-data file for the same rows with --perf-input.
Usage: fuxictr_v2_check.py HTTP_HOST:PORT GRPC_HOST:PORT MODEL FIXTURES_DIR [--perf-input FILE]
Prints one line per check and exits 0 only if all pass.
"""
import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("http")
    parser.add_argument("grpc")
    parser.add_argument("model")
    parser.add_argument("fixtures")
    parser.add_argument("--perf-input")
    args = parser.parse_args()
    with open(f"{args.fixtures}/encoded_rows.json") as f:
        encoded = json.load(f)
    with open(f"{args.fixtures}/expected_predictions.json") as f:
        expected = np.array(json.load(f)["predictions"], dtype=np.float64)
    clients = {"http": (httpclient, httpclient.InferenceServerClient(url=args.http, concurrency=4)),
               "grpc": (grpcclient, grpcclient.InferenceServerClient(url=args.grpc))}
    metadata = clients["http"][1].get_model_metadata(args.model)
    inputs = metadata["inputs"]
    output = metadata["outputs"][0]["name"]
    arrays = {}
    for tensor in inputs:
        dtype = np.int64 if tensor["datatype"] == "INT64" else np.float32
        arrays[tensor["name"]] = np.array(encoded[tensor["name"]], dtype=dtype)
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'} {name} {detail}".rstrip())
        if not ok:
            failures.append(name)

    def infer(protocol, start, stop, own_client=False):
        module, client = clients[protocol]
        if own_client:
            # tritonclient.http's client is gevent-based and must not be shared across threads.
            client = module.InferenceServerClient(url=args.http if protocol == "http" else args.grpc)
        request = []
        for tensor in inputs:
            rows = arrays[tensor["name"]][start:stop]
            item = module.InferInput(tensor["name"], list(rows.shape), tensor["datatype"])
            if protocol == "http":
                item.set_data_from_numpy(rows, binary_data=True)
            else:
                item.set_data_from_numpy(rows)
            request.append(item)
        outputs = [module.InferRequestedOutput(output)]
        result = client.infer(args.model, request, outputs=outputs)
        return result.as_numpy(output).reshape(-1)

    check("metadata lists FuxiCTR's per-feature inputs", [t["name"] for t in inputs] == list(encoded.keys()), str([t["name"] for t in inputs]))
    for protocol in ("http", "grpc"):
        answered = np.concatenate([infer(protocol, start, stop) for start, stop in [(0, 1), (1, 8), (8, 72), (72, 200)]])
        worst = float(np.max(np.abs(answered - expected)))
        check(f"{protocol} infer equals FuxiCTR's predictions", worst < 1e-5, f"max diff {worst:.2e}")
        # Concurrent requests of 25 rows, merged into shared runs by the server's queue, each get their own rows.
        with ThreadPoolExecutor(max_workers=8) as pool:
            parts = list(pool.map(lambda start: infer(protocol, start, start + 25, own_client=True), range(0, 200, 25)))
        worst = float(np.max(np.abs(np.concatenate(parts) - expected)))
        check(f"{protocol} concurrent infer equals FuxiCTR's predictions", worst < 1e-5, f"max diff {worst:.2e}")
    if args.perf_input:
        # perf_analyzer's --input-data: one entry per row, each tensor without its batch dimension (a [batch] input's row is
        # [1]: the metadata shows it as Triton does, [-1, 1]).
        data = []
        for row in range(len(expected)):
            entry = {}
            for tensor in inputs:
                value = arrays[tensor["name"]][row]
                entry[tensor["name"]] = {"content": np.atleast_1d(value).tolist(), "shape": list(np.atleast_1d(value).shape)}
            data.append(entry)
        with open(args.perf_input, "w") as f:
            json.dump({"data": data}, f)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
