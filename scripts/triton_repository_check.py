#!/usr/bin/env python3
"""Drives a Clickwise server on a Triton model repository (Tests/Fixtures/triton) with Triton's own clients.

  dlrm            (config.pbtxt: max_batch_size 64, ragged ids, offsets built by the server) concurrent requests
                  of one row with bags of 1-6 ids each, over HTTP and gRPC; every answer equals Python
                  onnxruntime on the same model run alone with offsets [0, n]; the statistics show that
                  requests shared runs (fewer executions than inferences).
  dlrm_unbatched  (max_batch_size 0) the model's own tensors, offsets included, for 1-4 bags a request.
Also checks the metadata and config each model reports.
Usage: triton_repository_check.py HTTP_HOST:PORT GRPC_HOST:PORT REPOSITORY
Prints one line per check and exits 0 only if all pass.
"""
import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime as ort
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("http")
    parser.add_argument("grpc")
    parser.add_argument("repository")
    args = parser.parse_args()
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'} {name} {detail}".rstrip())
        if not ok:
            failures.append(name)

    session = ort.InferenceSession(os.path.join(args.repository, "dlrm", "1", "model.onnx"))
    http = httpclient.InferenceServerClient(url=args.http)
    metadata = http.get_model_metadata("dlrm")
    shapes = {t["name"]: [int(d) for d in t["shape"]] for t in metadata["inputs"]}
    check("dlrm metadata: the config's inputs, no offsets", shapes == {"dense": [-1, 4], "ids0": [-1, -1], "ids1": [-1, -1]}, str(shapes))
    config = http.get_model_config("dlrm")
    check("dlrm config: max_batch_size 64, dynamic batching", config["max_batch_size"] == 64 and "dynamic_batching" in config,
          str({k: config.get(k) for k in ("max_batch_size", "dynamic_batching")}))
    ragged = {t["name"]: t["allow_ragged_batch"] for t in config["input"]}
    batch_inputs = [(b["kind"], b["target_name"], b["source_input"]) for b in config["batch_input"]]
    check("dlrm config: ragged ids and the offsets as batch inputs", ragged == {"dense": False, "ids0": True, "ids1": True}
          and batch_inputs == [("BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO", ["offsets0"], ["ids0"]),
                               ("BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO", ["offsets1"], ["ids1"])], f"{ragged} {batch_inputs}")
    grpc_config = grpcclient.InferenceServerClient(url=args.grpc).get_model_config("dlrm", as_json=True)["config"]
    check("dlrm config over gRPC: the same batch inputs", [b["target_name"] for b in grpc_config.get("batch_input", [])] == [["offsets0"], ["offsets1"]]
          and [i.get("allow_ragged_batch", False) for i in grpc_config["input"]] == [False, True, True], str(grpc_config.get("batch_input")))
    unbatched = http.get_model_config("dlrm_unbatched")
    check("dlrm_unbatched config: max_batch_size 0", unbatched["max_batch_size"] == 0, str(unbatched["max_batch_size"]))

    rng = np.random.default_rng(11)
    cases = []
    for _ in range(96):
        n0, n1 = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        cases.append((rng.normal(size=(1, 4)).astype(np.float32), rng.integers(0, 50, size=(1, n0)).astype(np.int64),
                      rng.integers(0, 50, size=(1, n1)).astype(np.int64)))

    def expected(dense, ids0, ids1):
        return session.run(None, {"dense": dense, "ids0": ids0.reshape(-1), "offsets0": np.array([0, ids0.size], np.int64),
                                  "ids1": ids1.reshape(-1), "offsets1": np.array([0, ids1.size], np.int64)})[0]

    def ragged_request(protocol, case):
        module = httpclient if protocol == "http" else grpcclient
        client = module.InferenceServerClient(url=args.http if protocol == "http" else args.grpc)
        inputs = []
        for name, array, datatype in (("dense", case[0], "FP32"), ("ids0", case[1], "INT64"), ("ids1", case[2], "INT64")):
            tensor = module.InferInput(name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array)
            inputs.append(tensor)
        return client.infer("dlrm", inputs).as_numpy("probability")

    for protocol in ("http", "grpc"):
        before = http.get_inference_statistics("dlrm")["model_stats"][0]
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda case: ragged_request(protocol, case), cases))
        worst = max(float(np.max(np.abs(answer - expected(*case)))) for answer, case in zip(answers, cases))
        check(f"dlrm ragged {protocol}: {len(cases)} concurrent requests equal onnxruntime", worst < 1e-5, f"max diff {worst:.2e}")
        after = http.get_inference_statistics("dlrm")["model_stats"][0]
        inferences = int(after["inference_count"]) - int(before["inference_count"])
        executions = int(after["execution_count"]) - int(before["execution_count"])
        check(f"dlrm ragged {protocol}: requests shared runs", inferences == len(cases) and executions < inferences,
              f"{inferences} inferences in {executions} runs")

    # A request of two rows cannot be: the offsets hold one entry per request.
    try:
        two = (np.zeros((2, 4), np.float32), np.zeros((2, 2), np.int64), np.zeros((2, 2), np.int64))
        ragged_request("http", two)
        check("dlrm: a two-row request is refused", False, "it was accepted")
    except Exception as error:  # noqa: BLE001 - tritonclient raises its own exception type per protocol
        check("dlrm: a two-row request is refused, saying why", "one row" in str(error), str(error))

    for bags in (1, 2, 4):
        counts0, counts1 = rng.integers(1, 5, size=bags), rng.integers(1, 5, size=bags)
        feed = {"dense": rng.normal(size=(bags, 4)).astype(np.float32),
                "ids0": rng.integers(0, 50, size=int(counts0.sum())).astype(np.int64),
                "offsets0": np.concatenate([[0], np.cumsum(counts0)]).astype(np.int64),
                "ids1": rng.integers(0, 50, size=int(counts1.sum())).astype(np.int64),
                "offsets1": np.concatenate([[0], np.cumsum(counts1)]).astype(np.int64)}
        want = session.run(None, feed)[0]
        for protocol, module in (("http", httpclient), ("grpc", grpcclient)):
            client = module.InferenceServerClient(url=args.http if protocol == "http" else args.grpc)
            inputs = []
            for name, array in feed.items():
                tensor = module.InferInput(name, list(array.shape), "FP32" if array.dtype == np.float32 else "INT64")
                tensor.set_data_from_numpy(array)
                inputs.append(tensor)
            got = client.infer("dlrm_unbatched", inputs).as_numpy("probability")
            diff = float(np.max(np.abs(got - want)))
            check(f"dlrm_unbatched {protocol}: {bags} bags equal onnxruntime", got.shape == want.shape and diff < 1e-5, f"max diff {diff:.2e}")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
