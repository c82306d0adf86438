#!/usr/bin/env python3
"""Drives a running Clickwise server with the real tritonclient (HTTP or gRPC), with its defaults.

Checks liveness and readiness, server and model metadata, the model config, infer (binary and JSON tensors
over HTTP; raw tensors over gRPC) against Python onnxruntime on the bundle's own model.onnx (independent of
the server), statistics, the repository index, unload (the model then not ready, UNAVAILABLE in the index,
inference refused) and load (ready and answering again), and over gRPC streaming infer with request ids.
Usage: tritonclient_check.py HOST:PORT MODEL_NAME BUNDLE_DIR [--protocol http|grpc]
Prints one line per check and exits 0 only if all pass.
"""
import argparse
import json
import queue
import sys

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("model")
    parser.add_argument("bundle")
    parser.add_argument("--protocol", choices=["http", "grpc"], default="http")
    args = parser.parse_args()
    grpc = args.protocol == "grpc"
    if grpc:
        import tritonclient.grpc as client_module
    else:
        import tritonclient.http as client_module
    model, bundle = args.model, args.bundle
    client = client_module.InferenceServerClient(url=args.url)
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'} [{args.protocol}] {name} {detail}".rstrip())
        if not ok:
            failures.append(name)

    def as_json(call, *a, **k):
        return call(*a, as_json=True, **k) if grpc else call(*a, **k)

    check("is_server_live", client.is_server_live())
    check("is_server_ready", client.is_server_ready())
    check("is_model_ready", client.is_model_ready(model))
    server = as_json(client.get_server_metadata)
    check("get_server_metadata", server["name"] == "clickwise" and {"statistics", "model_repository"} <= set(server.get("extensions", [])),
          str(server))
    metadata = as_json(client.get_model_metadata, model)
    names = [t["name"] for t in metadata["inputs"]]
    check("get_model_metadata", metadata["name"] == model and names == ["sparse_ids", "dense"], str(metadata))
    config = as_json(client.get_model_config, model)
    if grpc:
        config = config["config"]
    config_inputs = [t["name"] for t in config["input"]]
    check("get_model_config", config["name"] == model and config_inputs == names and int(config["max_batch_size"]) > 0
          and config["platform"] == "onnxruntime_onnx", json.dumps(config)[:200])

    rng = np.random.default_rng(3)
    rows = 5
    # Encoded ids must fall in each field's slice of the embedding table (features.json offsets and sizes).
    with open(f"{bundle}/features.json") as f:
        fields = json.load(f)["categoricalFields"]
    ids = np.array([[field["offset"] + rng.integers(0, field["size"]) for field in fields] for _ in range(rows)], dtype=np.int64)
    dense = rng.standard_normal((rows, 13)).astype(np.float32)
    session = ort.InferenceSession(f"{bundle}/model.onnx", providers=["CPUExecutionProvider"])
    expected = session.run(["probability"], {"sparse_ids": ids, "dense": dense})[0]

    def make_inputs(binary=True):
        inputs = [client_module.InferInput("sparse_ids", list(ids.shape), "INT64"),
                  client_module.InferInput("dense", list(dense.shape), "FP32")]
        if grpc:
            inputs[0].set_data_from_numpy(ids)
            inputs[1].set_data_from_numpy(dense)
        else:
            inputs[0].set_data_from_numpy(ids, binary_data=binary)
            inputs[1].set_data_from_numpy(dense, binary_data=binary)
        return inputs

    def close(got):
        return got is not None and got.shape == (rows, 1) and np.allclose(got, expected, atol=1e-6, rtol=0)

    if grpc:
        outputs = [client_module.InferRequestedOutput("probability")]
        result = client.infer(model, make_inputs(), outputs=outputs, request_id="check")
        got = result.as_numpy("probability")
        check("infer", close(got) and result.get_response().id == "check", f"id={result.get_response().id}")
    else:
        for binary in (True, False):
            outputs = [client_module.InferRequestedOutput("probability", binary_data=binary)]
            got = client.infer(model, make_inputs(binary), outputs=outputs, request_id="check").as_numpy("probability")
            check(f"infer binary={binary}", close(got), f"max|diff|={np.abs(got - expected).max() if got is not None else 'none'}")

    # Defaults only: no outputs requested.
    got = client.infer(model, make_inputs()).as_numpy("probability")
    check("infer defaults", close(got))

    try:
        client.infer("no_such_model", make_inputs())
        check("unknown model is an error", False)
    except Exception as error:  # tritonclient raises InferenceServerException
        check("unknown model is an error", "unknown model" in str(error), str(error))

    if grpc:
        responses = queue.Queue()
        client.start_stream(callback=lambda result, error: responses.put((result, error)))
        ids_sent = [f"stream-{i}" for i in range(4)]
        for request_id in ids_sent:
            client.async_stream_infer(model, make_inputs(), request_id=request_id)
        seen = {}
        for _ in ids_sent:
            result, error = responses.get(timeout=30)
            if error is None:
                seen[result.get_response().id] = close(result.as_numpy("probability"))
        client.stop_stream()
        check("streaming infer echoes ids", sorted(seen) == sorted(ids_sent) and all(seen.values()), str(seen))

    stats = as_json(client.get_inference_statistics, model)
    entry = stats["model_stats"][0]
    success = int(entry["inference_stats"]["success"]["count"])
    check("get_inference_statistics", entry["name"] == model and success >= 3 and int(entry["inference_count"]) >= 3 * rows,
          f"success={success} inference_count={entry['inference_count']}")
    index = as_json(client.get_model_repository_index)
    if grpc:
        index = index.get("models", [])
    check("get_model_repository_index", any(m["name"] == model and m.get("state") == "READY" for m in index), str(index))

    def index_states():
        entries = as_json(client.get_model_repository_index)
        entries = entries.get("models", []) if grpc else entries
        return [m.get("state") for m in entries if m["name"] == model]

    client.unload_model(model)
    check("unload_model: not ready", not client.is_model_ready(model))
    check("unload_model: UNAVAILABLE in the index", "READY" not in index_states() and "UNAVAILABLE" in index_states(), str(index_states()))
    try:
        client.infer(model, make_inputs())
        check("unload_model: infer refused", False)
    except Exception as error:  # InferenceServerException
        check("unload_model: infer refused", "not loaded" in str(error), str(error))
    client.load_model(model)
    check("load_model: ready", client.is_model_ready(model) and "READY" in index_states(), str(index_states()))
    check("load_model: infer", close(client.infer(model, make_inputs()).as_numpy("probability")))
    try:
        client.load_model("no_such_model")
        check("load_model of an unknown model is an error", False)
    except Exception as error:  # InferenceServerException
        check("load_model of an unknown model is an error", "no_such_model" in str(error), str(error))

    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
