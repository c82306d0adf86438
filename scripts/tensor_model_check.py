#!/usr/bin/env python3
"""Drives a running Clickwise server serving plain ONNX models (scripts/make_tensor_fixtures.py) with the real
tritonclient, over HTTP (JSON tensors and binary ones) or gRPC (raw tensors), and compares every output with
Python's onnxruntime on the same model.onnx (independent of the server).

Per model of REPOSITORY/<model>/1/model.onnx: metadata and config match the model's signature (Triton's
batching rule decides max_batch_size), infer equals onnxruntime, an `outputs` selection returns only what
was asked, and a wrong datatype or shape is refused naming the input (400 / INVALID_ARGUMENT). With
--concurrent MODEL, many requests at once on that model each get their own rows back, and the server's
statistics show rows of several requests ran together.
Usage: tensor_model_check.py HOST:PORT REPOSITORY [--protocol http|grpc] [--concurrent MODEL ...]
Prints one line per check and exits 0 only if all pass.
"""
import argparse
import os
import sys
import threading

import numpy as np
import onnxruntime as ort

NUMPY = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
         "tensor(int32)": np.int32, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}
V2 = {np.float32: "FP32", np.float64: "FP64", np.float16: "FP16", np.int64: "INT64", np.int32: "INT32", np.int8: "INT8",
      np.uint8: "UINT8", np.bool_: "BOOL"}


def make_inputs(session, rows, rng, width=3):
    """Random inputs of `rows` rows (other dynamic dimensions `width`); ids stay inside the fixtures' tables (< 20)."""
    arrays = {}
    for tensor in session.get_inputs():
        dtype = NUMPY[tensor.type]
        shape = [rows if not isinstance(d, int) and i == 0 else (width if not isinstance(d, int) else d) for i, d in enumerate(tensor.shape)]
        if dtype == np.bool_:
            arrays[tensor.name] = rng.integers(0, 2, size=shape).astype(np.bool_)
        elif np.issubdtype(dtype, np.integer):
            arrays[tensor.name] = rng.integers(0, 20, size=shape).astype(dtype)
        else:
            arrays[tensor.name] = rng.standard_normal(shape).astype(dtype)
    return arrays


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("repository")
    parser.add_argument("--protocol", choices=["http", "grpc"], default="http")
    parser.add_argument("--concurrent", action="append", default=[])
    args = parser.parse_args()
    grpc = args.protocol == "grpc"
    if grpc:
        import tritonclient.grpc as tc
    else:
        import tritonclient.http as tc
    from tritonclient.utils import InferenceServerException
    client = tc.InferenceServerClient(url=args.url)
    failures = []
    rng = np.random.default_rng(5)

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'} [{args.protocol}] {name} {detail}".rstrip(), flush=True)
        if not ok:
            failures.append(name)

    def as_dict(value):
        if grpc:
            from google.protobuf.json_format import MessageToDict
            return MessageToDict(value, preserving_proto_field_name=True)
        return value

    def infer(model, arrays, binary, outputs=None, session=None):
        inputs = []
        for name, array in arrays.items():
            t = tc.InferInput(name, list(array.shape), V2[array.dtype.type])
            # FP16 has no JSON form in the v2 protocol: it always travels as binary data.
            if grpc:
                t.set_data_from_numpy(array)
            else:
                t.set_data_from_numpy(array, binary_data=binary or array.dtype == np.float16)
            inputs.append(t)
        requested = None
        if outputs is not None:
            requested = [tc.InferRequestedOutput(n) if grpc else tc.InferRequestedOutput(n, binary_data=binary) for n in outputs]
        return client.infer(model, inputs, outputs=requested)

    models = sorted(m for m in os.listdir(args.repository) if os.path.exists(os.path.join(args.repository, m, "1", "model.onnx")))
    sessions = {}
    for model in models:
        session = ort.InferenceSession(os.path.join(args.repository, model, "1", "model.onnx"))
        sessions[model] = session
        metadata = as_dict(client.get_model_metadata(model))
        expected_inputs = [(t.name, V2[NUMPY[t.type]], [d if isinstance(d, int) else -1 for d in t.shape]) for t in session.get_inputs()]
        if all(not isinstance(t.shape[0], int) for t in session.get_inputs() + session.get_outputs()):
            # Triton shows a batching model's [batch] input as its config's dims [1] (reshape []): [-1, 1].
            expected_inputs = [(name, datatype, [-1, 1] if shape == [-1] else shape) for name, datatype, shape in expected_inputs]
        expected_outputs = [(t.name, V2[NUMPY[t.type]], [d if isinstance(d, int) else -1 for d in t.shape]) for t in session.get_outputs()]
        got_inputs = [(t["name"], t["datatype"], [int(d) for d in t["shape"]]) for t in metadata["inputs"]]
        got_outputs = [(t["name"], t["datatype"], [int(d) for d in t["shape"]]) for t in metadata["outputs"]]
        check(f"{model} metadata", got_inputs == expected_inputs and got_outputs == expected_outputs, f"{got_inputs} -> {got_outputs}")
        config = as_dict(client.get_model_config(model))
        config = config.get("config", config)
        batchable = all(not isinstance(t.shape[0], int) for t in session.get_inputs() + session.get_outputs())
        max_batch = int(config.get("max_batch_size", 0))
        first_dims = [int(d) for d in config["input"][0]["dims"]]
        full = [d if isinstance(d, int) else -1 for d in session.get_inputs()[0].shape]
        check(f"{model} config", (max_batch > 0) == batchable and first_dims == (full[1:] or [1] if batchable else full),
              f"max_batch_size {max_batch}, dims {first_dims}")

        for binary in ([True] if grpc else [False, True]):
            for rows in (1, 3):
                arrays = make_inputs(session, rows if batchable else None, rng)
                expected = session.run(None, arrays)
                result = infer(model, arrays, binary)
                same = True
                for tensor, want in zip(session.get_outputs(), expected):
                    got = result.as_numpy(tensor.name)
                    same = same and got is not None and got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
                check(f"{model} infer {'binary' if binary else 'json'} rows={rows if batchable else 'fixed'} equals onnxruntime", same)
                if not batchable:
                    break

        names = [t.name for t in session.get_outputs()]
        if len(names) > 1:
            arrays = make_inputs(session, 2 if batchable else None, rng)
            result = infer(model, arrays, True, outputs=[names[-1]])
            response = as_dict(result.get_response())
            returned = [o["name"] for o in response["outputs"]]
            want = session.run([names[-1]], arrays)[0]
            check(f"{model} outputs selection", returned == [names[-1]] and np.array_equal(result.as_numpy(names[-1]), want), f"{returned}")

        # A wrong datatype and a wrong shape are refused, naming the input.
        first = session.get_inputs()[0]
        arrays = make_inputs(session, 2 if batchable else None, rng)
        wrong_type = dict(arrays)
        wrong_type[first.name] = arrays[first.name].astype(np.float64 if arrays[first.name].dtype != np.float64 else np.float32)
        wrong_shape = dict(arrays)
        # Two more dimensions: [n] -> [n, 1] is the config's own shape for a [batch] input, which Triton accepts.
        wrong_shape[first.name] = arrays[first.name].reshape(arrays[first.name].shape + (1, 1))
        for label, bad in (("datatype", wrong_type), ("shape", wrong_shape)):
            try:
                infer(model, bad, True)
                check(f"{model} wrong {label} refused", False, "it was accepted")
            except InferenceServerException as error:
                status = str(error.status())
                ok_status = "INVALID_ARGUMENT" in status if grpc else status == "400"
                check(f"{model} wrong {label} refused naming the input", ok_status and f'"{first.name}"' in error.message(),
                      f"{status}: {error.message()}")

    for model in args.concurrent:
        session = sessions[model]
        before = as_dict(client.get_inference_statistics(model))["model_stats"][0]
        count, results, lock = 24, {}, threading.Lock()
        # Rows 1-4 and, where the model has a dynamic inner dimension, widths 2-4: only equal widths can share a run.
        cases = [make_inputs(session, 1 + index % 4, np.random.default_rng(100 + index), width=2 + index % 3) for index in range(count)]
        barrier = threading.Barrier(count)

        def send(index):
            own = tc.InferenceServerClient(url=args.url)
            barrier.wait()
            try:
                inputs = []
                for name, array in cases[index].items():
                    t = tc.InferInput(name, list(array.shape), V2[array.dtype.type])
                    t.set_data_from_numpy(array)
                    inputs.append(t)
                result = own.infer(model, inputs)
                got = [result.as_numpy(t.name) for t in session.get_outputs()]
            except Exception as error:  # noqa: BLE001 - reported as a failed check below
                got = error
            with lock:
                results[index] = got

        threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wrong = [i for i in range(count) if isinstance(results.get(i), Exception)
                 or not all(np.array_equal(g, w) for g, w in zip(results[i], session.run(None, cases[i])))]
        check(f"{model} {count} concurrent requests each get their own rows", not wrong, f"wrong: {wrong}")
        after = as_dict(client.get_inference_statistics(model))["model_stats"][0]
        executions = int(after.get("execution_count", 0)) - int(before.get("execution_count", 0))
        check(f"{model} concurrent rows ran in fewer runs than requests", 0 < executions < count, f"{executions} runs for {count} requests")

    print(f"{len(failures)} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
