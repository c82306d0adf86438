#!/usr/bin/env python3
"""Drives a running Clickwise server with the real tritonclient[http], with its defaults.

Checks is_server_live, is_server_ready, get_model_metadata and infer with binary and with JSON tensors;
expected probabilities come from Python onnxruntime on the bundle's own model.onnx (independent of the server).
Usage: tritonclient_check.py HOST:PORT MODEL_NAME BUNDLE_DIR
Prints one line per check and exits 0 only if all pass.
"""
import json
import sys

import numpy as np
import onnxruntime as ort
import tritonclient.http as httpclient


def main():
    url, model, bundle = sys.argv[1], sys.argv[2], sys.argv[3]
    client = httpclient.InferenceServerClient(url=url)
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'} {name} {detail}".rstrip())
        if not ok:
            failures.append(name)

    check("is_server_live", client.is_server_live())
    check("is_server_ready", client.is_server_ready())
    check("is_model_ready", client.is_model_ready(model))
    metadata = client.get_model_metadata(model)
    names = [t["name"] for t in metadata["inputs"]]
    check("get_model_metadata", metadata["name"] == model and names == ["sparse_ids", "dense"], str(metadata))

    rng = np.random.default_rng(3)
    rows = 5
    # Encoded ids must fall in each field's slice of the embedding table (features.json offsets and sizes).
    with open(f"{bundle}/features.json") as f:
        fields = json.load(f)["categoricalFields"]
    ids = np.array([[field["offset"] + rng.integers(0, field["size"]) for field in fields] for _ in range(rows)], dtype=np.int64)
    dense = rng.standard_normal((rows, 13)).astype(np.float32)
    session = ort.InferenceSession(f"{bundle}/model.onnx", providers=["CPUExecutionProvider"])
    expected = session.run(["probability"], {"sparse_ids": ids, "dense": dense})[0]

    for binary in (True, False):
        inputs = [httpclient.InferInput("sparse_ids", list(ids.shape), "INT64"),
                  httpclient.InferInput("dense", list(dense.shape), "FP32")]
        inputs[0].set_data_from_numpy(ids, binary_data=binary)
        inputs[1].set_data_from_numpy(dense, binary_data=binary)
        outputs = [httpclient.InferRequestedOutput("probability", binary_data=binary)]
        result = client.infer(model, inputs, outputs=outputs, request_id="check")
        got = result.as_numpy("probability")
        ok = got is not None and got.shape == (rows, 1) and np.allclose(got, expected, atol=1e-6, rtol=0)
        check(f"infer binary={binary}", ok, f"max|diff|={np.abs(got - expected).max() if got is not None else 'none'}")

    # Defaults only: no outputs requested (the client asks for binary outputs by default).
    inputs = [httpclient.InferInput("sparse_ids", list(ids.shape), "INT64"), httpclient.InferInput("dense", list(dense.shape), "FP32")]
    inputs[0].set_data_from_numpy(ids)
    inputs[1].set_data_from_numpy(dense)
    got = client.infer(model, inputs).as_numpy("probability")
    check("infer defaults", got is not None and np.allclose(got, expected, atol=1e-6, rtol=0))

    try:
        client.infer("no_such_model", inputs)
        check("unknown model is an error", False)
    except Exception as error:  # tritonclient raises InferenceServerException
        check("unknown model is an error", "unknown model" in str(error), str(error))

    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
