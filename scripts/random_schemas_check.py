#!/usr/bin/env python3
"""Issue 21's check, rebuilt: random small schemas through the real binary, every prediction path compared.

    scripts/random_schemas_check.py --clickwise .build/debug/clickwise [--schemas 25] [--seed 21] [--work DIR]

For each of N seeded random schemas, and two by hand (one categorical field alone, one sequence alone) (0-3 categorical, 0-3 numeric, 0-2 sequence fields, at least one field;
normalizers, fill_na, shared vocabularies, both paddings, int and str dtypes):
`clickwise data synth` draws rows from a hidden click model, the rows are split train/valid/test,
`clickwise train` fits a DeepFM, LR or AutoInt for one epoch, `clickwise evaluate --predictions` predicts
the test rows, and `clickwise encode` writes the test rows as .npy inputs. Then:
- onnxruntime (Python, independent of our binding) runs model.onnx on encode's .npy inputs: equal to evaluate's
  predictions within 1e-5;
- one `clickwise serve` over a repository of all N bundles answers the test rows posted as CTR API JSON: equal
  to evaluate's predictions within 1e-5.
Exit status 0 only when every schema passes every step; each failure names its schema and seed.
"""
import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import onnxruntime as ort


def random_schema(rng, index, counts=None):
    """A small random dataset config (YAML text) and the kinds of its fields (random counts unless given)."""
    while counts is None:
        counts = (rng.randint(0, 3), rng.randint(0, 3), rng.randint(0, 2))
        if sum(counts) == 0:
            counts = None
    cats, nums, seqs = counts
    lines, categorical = [], []
    for i in range(cats):
        name = f"cat{i}"
        dtype = rng.choice(["str", "int"])
        extra = ", fill_na: unknown" if dtype == "str" and rng.random() < 0.3 else ""
        lines.append(f"    - {{name: {name}, active: true, dtype: {dtype}, type: categorical{extra}}}")
        categorical.append(name)
    for i in range(nums):
        normalizer = rng.choice(["", ", normalizer: StandardScaler", ", normalizer: MinMaxScaler"])
        fill = ", fill_na: 0.5" if rng.random() < 0.3 else ""
        lines.append(f"    - {{name: num{i}, active: true, dtype: float, type: numeric{normalizer}{fill}}}")
    for i in range(seqs):
        padding = rng.choice(["pre", "post"])
        share = f", share_embedding: {rng.choice(categorical)}" if categorical and rng.random() < 0.4 else ""
        lines.append(f"    - {{name: seq{i}, active: true, dtype: str, type: sequence, splitter: \"^\", "
                     f"max_len: {rng.randint(1, 6)}, padding: {padding}{share}}}")
    rng.shuffle(lines)
    yaml = (f"s{index}:\n  data_format: csv\n  train_data: train.csv\n  valid_data: valid.csv\n  test_data: test.csv\n"
            f"  min_categr_count: {rng.choice([1, 2])}\n  label_col: {{name: clk, dtype: float}}\n  feature_cols:\n"
            + "\n".join(lines) + "\n")
    return yaml, counts


def run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {(result.stderr or result.stdout).strip()[-600:]}")
    return result


def split(path, directory):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    parts = {"train.csv": body[: len(body) * 7 // 10], "valid.csv": body[len(body) * 7 // 10: len(body) * 85 // 100],
             "test.csv": body[len(body) * 85 // 100:]}
    for name, part in parts.items():
        with open(os.path.join(directory, name), "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(part)
    return header, parts["test.csv"]


def instances(header, rows, features):
    """Test rows as CTR API instances: numbers as JSON numbers, empty fields absent."""
    kinds = {f["name"]: f["kind"] for f in features}
    out = []
    for row in rows:
        instance = {}
        for name, value in zip(header, row):
            if value == "" or name not in kinds:
                continue
            instance[name] = float(value) if kinds[name] == "numeric" else value
        out.append(instance)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clickwise", required=True)
    parser.add_argument("--schemas", type=int, default=25)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--work")
    args = parser.parse_args()
    clickwise = os.path.abspath(args.clickwise)
    work = args.work or tempfile.mkdtemp(prefix="clickwise-schemas-")
    repository = os.path.join(work, "repository")
    shutil.rmtree(repository, ignore_errors=True)
    os.makedirs(repository)
    rng = random.Random(args.seed)
    failures, cases = [], []
    # After the random ones, the smallest schemas by hand: one categorical field alone, one sequence alone.
    forced = [(1, 0, 0), (0, 0, 1)]
    total = args.schemas + len(forced)
    for index in range(total):
        yaml, counts = random_schema(rng, index, None if index < args.schemas else forced[index - args.schemas])
        model = rng.choice(["deepfm", "lr", "autoint"])
        directory = os.path.join(work, f"s{index}")
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        label = f"schema s{index} (seed {args.seed}, {counts[0]} categorical, {counts[1]} numeric, {counts[2]} sequence, {model})"
        try:
            config = os.path.join(directory, "dataset_config.yaml")
            with open(config, "w") as f:
                f.write(yaml)
            run([clickwise, "data", "synth", "--dataset-config", config, "--rows", str(args.rows),
                 "--seed", str(args.seed * 100 + index), "--out", os.path.join(directory, "all.csv")])
            header, test_rows = split(os.path.join(directory, "all.csv"), directory)
            bundle = os.path.join(repository, f"s{index}", "1")
            extra = ["--attention-layers", "1", "--attention-dim", "8", "--embedding-dim", "4"] if model == "autoint" else []
            run([clickwise, "train", "--dataset-config", config, "--model", model, "--out", bundle, "--epochs", "1",
                 "--batch-size", "128", "--threads", "1", "--no-progress"] + extra)
            predictions = os.path.join(directory, "predictions.txt")
            run([clickwise, "evaluate", bundle, "--data", os.path.join(directory, "test.csv"), "--predictions", predictions])
            expected = np.loadtxt(predictions, dtype=np.float64, ndmin=1)
            if len(expected) != len(test_rows):
                raise RuntimeError(f"evaluate predicted {len(expected)} rows of {len(test_rows)}")
            prefix = os.path.join(directory, "encoded")
            run([clickwise, "encode", bundle, "--data", os.path.join(directory, "test.csv"), "--out", prefix,
                 "--max-rows", str(len(test_rows))])
            features = json.load(open(os.path.join(bundle, "features.json")))
            session = ort.InferenceSession(os.path.join(bundle, "model.onnx"), providers=["CPUExecutionProvider"])
            feeds = {i.name: np.load(f"{prefix}.{i.name}.npy") for i in session.get_inputs()}
            by_onnxruntime = session.run(None, feeds)[0].reshape(-1)
            worst = float(np.max(np.abs(by_onnxruntime - expected)))
            if worst > 1e-5:
                raise RuntimeError(f"onnxruntime on encode's .npy differs from evaluate by {worst}")
            columns = features["schema"]["fields"]
            cases.append((index, label, header, test_rows, expected, columns))
            print(f"ok   {label}: {len(expected)} test rows, inputs {[i.name for i in session.get_inputs()]}")
        except Exception as error:  # noqa: BLE001 - every failure is reported with its schema
            failures.append(f"{label}: {error}")
            print(f"FAIL {label}: {error}\n{yaml}")

    if cases:
        port = free_port()
        server = subprocess.Popen([clickwise, "serve", "--model", repository, "--port", str(port), "--grpc-port", "0"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 120
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2)
                    break
                except Exception:  # noqa: BLE001 - not up yet
                    if server.poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"serve did not come up: {server.stderr.read()[-800:]}")
                    time.sleep(0.2)
            for index, label, header, test_rows, expected, columns in cases:
                try:
                    answered = []
                    body = instances(header, test_rows, columns)
                    for start in range(0, len(body), 64):
                        answered += post(port, f"/v1/models/s{index}:predict", {"instances": body[start:start + 64]})["predictions"]
                    worst = float(np.max(np.abs(np.array(answered) - expected)))
                    if len(answered) != len(expected) or worst > 1e-5:
                        raise RuntimeError(f"served predictions differ from evaluate's by {worst} ({len(answered)} rows)")
                    print(f"ok   {label}: served equals evaluate (max diff {worst:.2e})")
                except Exception as error:  # noqa: BLE001
                    failures.append(f"{label}: serving: {error}")
                    print(f"FAIL {label}: serving: {error}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    failed = {failure.split(":")[0] for failure in failures}
    print(f"random schemas: {total - len(failed)} of {total} passed")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
