#!/usr/bin/env python3
"""Calls a bundle's ranking graph over KServe v2 with Triton's own clients (tritonclient.http and .grpc).

Reads a JSON file of ranking requests, each one context's encoded tensors (`context_sparse_ids` [1, c], `context_dense`
[1, d]), its candidates' (`sparse_ids` [n, ...], `dense`) and the same candidates as flat rows (`flat`: the model's
flat inputs, context merged in). Sends each flat request and each ranking request, over HTTP (binary tensors) and
gRPC, and checks the ranking answers equal the flat ones within 1e-5; then checks that a context of two rows and an
id outside its field are refused with messages naming them.
Usage: ranking_v2_check.py HTTP_HOST:PORT GRPC_HOST:PORT MODEL REQUESTS_JSON
Prints one line per check and exits 0 only if all pass.
"""
import argparse
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("http")
    parser.add_argument("grpc")
    parser.add_argument("model")
    parser.add_argument("requests")
    args = parser.parse_args()
    with open(args.requests) as f:
        requests = json.load(f)
    clients = {"http": (httpclient, httpclient.InferenceServerClient(url=args.http)),
               "grpc": (grpcclient, grpcclient.InferenceServerClient(url=args.grpc))}
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'} {name} {detail}".rstrip())
        if not ok:
            failures.append(name)

    def infer(protocol, tensors):
        module, client = clients[protocol]
        inputs = []
        for name, values in tensors.items():
            array = np.array(values, dtype=np.int64 if "ids" in name else np.float32)
            tensor = module.InferInput(name, list(array.shape), "INT64" if array.dtype == np.int64 else "FP32")
            if protocol == "http":
                tensor.set_data_from_numpy(array, binary_data=True)
            else:
                tensor.set_data_from_numpy(array)
            inputs.append(tensor)
        outputs = [module.InferRequestedOutput("probability", binary_data=True) if protocol == "http"
                   else module.InferRequestedOutput("probability")]
        return client.infer(args.model, inputs, outputs=outputs).as_numpy("probability").reshape(-1)

    for protocol in ("http", "grpc"):
        worst = 0.0
        for request in requests:
            flat = infer(protocol, request["flat"])
            ranked = infer(protocol, {name: values for name, values in request.items() if name != "flat"})
            worst = max(worst, float(np.max(np.abs(flat - ranked))))
            if len(flat) != len(ranked):
                worst = float("inf")
        check(f"{protocol} ranking inputs equal the flat inputs", worst < 1e-5, f"({len(requests)} requests, max difference {worst:.2e})")
        first = requests[0]
        two = {name: (values * 2 if name.startswith("context_") else values) for name, values in first.items() if name != "flat"}
        try:
            infer(protocol, two)
            check(f"{protocol} a two-row context is refused", False)
        except InferenceServerException as error:
            check(f"{protocol} a two-row context is refused", "first dimension must be 1" in str(error), str(error)[:120])
        bad = {name: values for name, values in first.items() if name != "flat"}
        bad["sparse_ids"] = [[10 ** 9] + row[1:] for row in bad["sparse_ids"]]
        try:
            infer(protocol, bad)
            check(f"{protocol} an id outside its field is refused", False)
        except InferenceServerException as error:
            check(f"{protocol} an id outside its field is refused", "outside that field's range" in str(error), str(error)[:120])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
