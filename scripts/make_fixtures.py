#!/usr/bin/env python3
"""Writes the ONNX test fixtures and their expected outputs (computed with numpy, not ONNX Runtime).

criteo_tiny.onnx: sparse_ids int64 [batch,26] -> Gather(embedding [V,4]) -> flatten, concat dense float [batch,13]
-> MatMul [117,1] + bias -> Sigmoid -> probability [batch,1]; dynamic batch; custom metadata.
criteo_tiny_int32.onnx: the same with int32 ids. Also bad files for the error-path tests.
Deterministic: running it again rewrites identical bytes.
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FIELDS, DENSE, DIM, VOCAB = 26, 13, 4, 1000


def weights():
    rng = np.random.default_rng(20261128)
    emb = (rng.standard_normal((VOCAB, DIM)) * 0.3).astype(np.float32)
    w = (rng.standard_normal((FIELDS * DIM + DENSE, 1)) * 0.1).astype(np.float32)
    b = np.array([-1.1], dtype=np.float32)
    return emb, w, b


def build(id_type):
    emb, w, b = weights()
    ids = helper.make_tensor_value_info("sparse_ids", id_type, ["batch", FIELDS])
    dense = helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["batch", DENSE])
    out = helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])
    nodes = [
        helper.make_node("Gather", ["embedding", "sparse_ids"], ["emb"], axis=0),
        helper.make_node("Reshape", ["emb", "flat_shape"], ["emb_flat"]),
        helper.make_node("Concat", ["emb_flat", "dense"], ["features"], axis=1),
        helper.make_node("MatMul", ["features", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    inits = [
        numpy_helper.from_array(emb, "embedding"),
        numpy_helper.from_array(np.array([-1, FIELDS * DIM], dtype=np.int64), "flat_shape"),
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(b, "b"),
    ]
    graph = helper.make_graph(nodes, "criteo_tiny", [ids, dense], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="clickwise-fixtures")
    model.ir_version = 8
    model.model_version = 3
    model.doc_string = "Criteo-shaped fixture: embedding + linear + sigmoid"
    for key, value in {"architecture": "fixture-linear", "fields": "26+13"}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def build_slow():
    """Same inputs and output as criteo_tiny, plus 30 MatMul+Relu layers of 512x512: slow on purpose, so a
    test can keep an inference thread busy while it fills the queue."""
    emb, w, b = weights()
    rng = np.random.default_rng(5)
    w1 = (rng.standard_normal((FIELDS * DIM + DENSE, 512)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((512, 512)) * 0.05).astype(np.float32)
    w3 = (rng.standard_normal((512, 1)) * 0.05).astype(np.float32)
    ids = helper.make_tensor_value_info("sparse_ids", TensorProto.INT64, ["batch", FIELDS])
    dense = helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["batch", DENSE])
    out = helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])
    nodes = [
        helper.make_node("Gather", ["embedding", "sparse_ids"], ["emb"], axis=0),
        helper.make_node("Reshape", ["emb", "flat_shape"], ["emb_flat"]),
        helper.make_node("Concat", ["emb_flat", "dense"], ["features"], axis=1),
        helper.make_node("MatMul", ["features", "w1"], ["h0"]),
    ]
    for layer in range(30):
        nodes.append(helper.make_node("MatMul", [f"h{layer}", "w2"], [f"m{layer}"]))
        nodes.append(helper.make_node("Relu", [f"m{layer}"], [f"h{layer + 1}"]))
    nodes += [helper.make_node("MatMul", ["h30", "w3"], ["logit"]), helper.make_node("Sigmoid", ["logit"], ["probability"])]
    inits = [numpy_helper.from_array(emb, "embedding"),
             numpy_helper.from_array(np.array([-1, FIELDS * DIM], dtype=np.int64), "flat_shape"),
             numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(w3, "w3")]
    model = helper.make_model(helper.make_graph(nodes, "criteo_slow", [ids, dense], [out], inits),
                              opset_imports=[helper.make_opsetid("", 17)], producer_name="clickwise-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def inputs(batch, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(batch, FIELDS), dtype=np.int64)
    dense = rng.standard_normal((batch, DENSE)).astype(np.float32)
    return ids, dense


def reference(ids, dense):
    emb, w, b = weights()
    feats = np.concatenate([emb[ids].reshape(ids.shape[0], -1), dense], axis=1).astype(np.float64)
    logit = feats @ w.astype(np.float64) + b.astype(np.float64)
    return (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="Tests/Fixtures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model = build(TensorProto.INT64)
    data = model.SerializeToString()
    with open(os.path.join(args.out, "criteo_tiny.onnx"), "wb") as f:
        f.write(data)
    onnx.save(build(TensorProto.INT32), os.path.join(args.out, "criteo_tiny_int32.onnx"))
    onnx.save(build_slow(), os.path.join(args.out, "criteo_slow.onnx"))
    with open(os.path.join(args.out, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(args.out, "garbage.onnx"), "wb") as f:
        f.write(np.random.default_rng(7).integers(0, 256, size=4096, dtype=np.uint8).tobytes())
    with open(os.path.join(args.out, "not_onnx.txt"), "w") as f:
        f.write("this is a text file, not an ONNX model\n")
    cases = {}
    for batch in (1, 7, 256):
        ids, dense = inputs(batch, seed=batch)
        cases[str(batch)] = {
            "sparse_ids": ids.reshape(-1).tolist(),
            "dense": [float(x) for x in dense.reshape(-1)],
            "probability": [float(x) for x in reference(ids, dense).reshape(-1)],
        }
    with open(os.path.join(args.out, "criteo_tiny_expected.json"), "w") as f:
        json.dump({"vocab": VOCAB, "cases": cases}, f)
    print(f"fixtures written to {args.out}")


if __name__ == "__main__":
    main()
