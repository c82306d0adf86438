#!/usr/bin/env python3
"""Writes plain ONNX models (no features.json) for the tests of serving any ONNX model over KServe v2.

The output directory is a model repository, <model>/1/model.onnx, one model per signature:
  mixed        x FP32 [batch,4], ids INT64 [batch,3], mask BOOL [batch,1] -> score FP32 [batch,1], shifted INT64 [batch,3]
  per_feature  user INT64 [batch], item INT64 [batch], price FP32 [batch] -> probability FP32 [batch] (FuxiCTR's layout)
  fixed        a FP32 [2,3] -> doubled FP32 [2,3], column_sum FP32 [3] (a fixed first dimension: it cannot batch)
  deepctr      X FP32 [batch,8] -> MLP -> y FP32 [batch,1] (DeepCTR's single float input of every column)
  types        h FP16, d FP64, i8 INT8, u8 UINT8, i32 INT32, each [batch,2] -> one output of the same type each
  ragged       v FP32 [batch,width] -> total FP32 [batch] (a dynamic inner dimension)
Expected outputs are not stored: the tests run these files with Python's onnxruntime themselves.
Deterministic: running it again rewrites identical bytes.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def save(graph, out, name):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="clickwise-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    directory = os.path.join(out, name, "1")
    os.makedirs(directory, exist_ok=True)
    onnx.save(model, os.path.join(directory, "model.onnx"))


def io(name, type_, shape):
    return helper.make_tensor_value_info(name, type_, shape)


def mixed(rng):
    w = numpy_helper.from_array((rng.standard_normal((4, 1)) * 0.5).astype(np.float32), "w")
    emb = numpy_helper.from_array((rng.standard_normal((50, 1)) * 0.5).astype(np.float32), "emb")
    one = numpy_helper.from_array(np.array(1, dtype=np.int64), "one")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["linear"]),
        helper.make_node("Gather", ["emb", "ids"], ["embedded"], axis=0),          # [b,3,1]
        helper.make_node("ReduceSum", ["embedded", "axes"], ["pooled"], keepdims=0),  # [b,1]
        helper.make_node("Add", ["linear", "pooled"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
        helper.make_node("Cast", ["mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["probability", "mask_float"], ["score"]),
        helper.make_node("Add", ["ids", "one"], ["shifted"]),
    ]
    return helper.make_graph(
        nodes, "mixed",
        [io("x", TensorProto.FLOAT, ["batch", 4]), io("ids", TensorProto.INT64, ["batch", 3]), io("mask", TensorProto.BOOL, ["batch", 1])],
        [io("score", TensorProto.FLOAT, ["batch", 1]), io("shifted", TensorProto.INT64, ["batch", 3])],
        [w, emb, one, axes])


def per_feature(rng):
    users = numpy_helper.from_array((rng.standard_normal(20) * 0.5).astype(np.float32), "user_weight")
    items = numpy_helper.from_array((rng.standard_normal(30) * 0.5).astype(np.float32), "item_weight")
    scale = numpy_helper.from_array(np.array(0.1, dtype=np.float32), "scale")
    nodes = [
        helper.make_node("Gather", ["user_weight", "user"], ["u"], axis=0),
        helper.make_node("Gather", ["item_weight", "item"], ["i"], axis=0),
        helper.make_node("Mul", ["price", "scale"], ["p"]),
        helper.make_node("Sum", ["u", "i", "p"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    return helper.make_graph(
        nodes, "per_feature",
        [io("user", TensorProto.INT64, ["batch"]), io("item", TensorProto.INT64, ["batch"]), io("price", TensorProto.FLOAT, ["batch"])],
        [io("probability", TensorProto.FLOAT, ["batch"])], [users, items, scale])


def fixed(_rng):
    two = numpy_helper.from_array(np.array(2, dtype=np.float32), "two")
    axes = numpy_helper.from_array(np.array([0], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("Mul", ["a", "two"], ["doubled"]),
        helper.make_node("ReduceSum", ["a", "axes"], ["column_sum"], keepdims=0),
    ]
    return helper.make_graph(nodes, "fixed", [io("a", TensorProto.FLOAT, [2, 3])],
                             [io("doubled", TensorProto.FLOAT, [2, 3]), io("column_sum", TensorProto.FLOAT, [3])], [two, axes])


def deepctr(rng):
    w1 = numpy_helper.from_array((rng.standard_normal((8, 4)) * 0.4).astype(np.float32), "w1")
    b1 = numpy_helper.from_array((rng.standard_normal(4) * 0.1).astype(np.float32), "b1")
    w2 = numpy_helper.from_array((rng.standard_normal((4, 1)) * 0.4).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["X", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["hr"]),
        helper.make_node("MatMul", ["hr", "w2"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["y"]),
    ]
    return helper.make_graph(nodes, "deepctr", [io("X", TensorProto.FLOAT, ["batch", 8])], [io("y", TensorProto.FLOAT, ["batch", 1])],
                             [w1, b1, w2])


def types(_rng):
    half = numpy_helper.from_array(np.array(1.5, dtype=np.float16), "half")
    plus = numpy_helper.from_array(np.array(0.25, dtype=np.float64), "plus")
    three = numpy_helper.from_array(np.array(3, dtype=np.int32), "three")
    nodes = [
        helper.make_node("Mul", ["h", "half"], ["h_out"]),
        helper.make_node("Add", ["d", "plus"], ["d_out"]),
        helper.make_node("Neg", ["i8"], ["i8_out"]),
        helper.make_node("Identity", ["u8"], ["u8_out"]),
        helper.make_node("Mul", ["i32", "three"], ["i32_out"]),
    ]
    pairs = [("h", TensorProto.FLOAT16), ("d", TensorProto.DOUBLE), ("i8", TensorProto.INT8), ("u8", TensorProto.UINT8), ("i32", TensorProto.INT32)]
    return helper.make_graph(nodes, "types", [io(n, t, ["batch", 2]) for n, t in pairs], [io(n + "_out", t, ["batch", 2]) for n, t in pairs],
                             [half, plus, three])


def ragged(_rng):
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [helper.make_node("ReduceSum", ["v", "axes"], ["total"], keepdims=0)]
    return helper.make_graph(nodes, "ragged", [io("v", TensorProto.FLOAT, ["batch", "width"])], [io("total", TensorProto.FLOAT, ["batch"])], [axes])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(20261202)
    for build in (mixed, per_feature, fixed, deepctr, types, ragged):
        save(build(rng), args.out, build.__name__)


if __name__ == "__main__":
    main()
