#!/usr/bin/env python3
"""Builds Tests/Fixtures/fuxictr/: a small DeepFM trained with FuxiCTR's own pip package, exported to ONNX.

Outside CI (it needs torch and fuxictr, ~5.6 GB): run `scripts/fuxictr_fixture/make_fixture.sh`, which
creates `.venv-fuxictr` and calls this script. Everything here is FuxiCTR's: its FeatureProcessor fits
the features (feature_map.json, feature_vocab.json, feature_processor.pkl), the model is assembled from
its layers on its BaseModel, and the expected predictions come from its processor's transform of raw
rows plus the torch model. The script checks ONNX Runtime against torch on those rows (1e-6).
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile

import numpy as np
import polars as pl
import torch
import yaml
from torch import nn

from fuxictr.features import FeatureMap
from fuxictr.preprocess import FeatureProcessor
from fuxictr.pytorch.layers import FactorizationMachine, FeatureEmbedding, MLP_Block
from fuxictr.pytorch.models import BaseModel

DATASET_ID = "fuxictr_tiny"
SEED = 2026

CONFIG = {
    DATASET_ID: {
        "data_root": "./",
        "data_format": "csv",
        "train_data": "train.csv",
        "valid_data": "valid.csv",
        "test_data": "valid.csv",
        "min_categr_count": 2,
        "label_col": {"name": "clk", "dtype": "float"},
        "feature_cols": [
            {"name": ["user_id", "item_id"], "active": True, "dtype": "str", "type": "categorical"},
            {"name": "cate", "active": True, "dtype": "str", "type": "categorical", "min_categr_count": 5},
            {"name": "ctx_plain", "active": True, "dtype": "float", "type": "numeric"},
            {"name": "price", "active": True, "dtype": "float", "type": "numeric", "normalizer": "StandardScaler"},
            {"name": "age", "active": True, "dtype": "float", "type": "numeric", "normalizer": "MinMaxScaler"},
            {"name": "score", "active": True, "dtype": "float", "type": "numeric", "fill_na": -1.0},
            {"name": "note", "active": False, "dtype": "str", "type": "categorical"},
            {"name": "click_items", "active": True, "dtype": "str", "type": "sequence", "splitter": "^",
             "max_len": 5, "padding": "pre", "share_embedding": "item_id"},
            {"name": "tags", "active": True, "dtype": "str", "type": "sequence", "splitter": "^",
             "max_len": 4, "padding": "post"},
        ],
    }
}


def make_rows(rng, count, unseen=False):
    """Synthetic rows with a click model on user, item, price, age and the click history."""
    users = [f"u{i:03d}" for i in range(120)]
    items = [f"i{i:03d}" for i in range(200)]
    cates = [f"c{i}" for i in range(12)]
    tags = [f"t{i}" for i in range(30)]
    rows = []
    for _ in range(count):
        user = rng.choice(users) if rng.random() > 0.05 else ""
        item = rng.choice(items)
        if unseen and rng.random() < 0.15:
            user = f"unseen_u{rng.randrange(1000)}"
        if unseen and rng.random() < 0.1:
            item = f"unseen_i{rng.randrange(1000)}"
        cate = rng.choice(cates[:-2]) if rng.random() > 0.02 else rng.choice(cates[-2:])  # two rare levels
        ctx = round(rng.gauss(0, 1), 4)
        price = round(rng.lognormvariate(7, 0.6), 2)  # thousands: needs its StandardScaler
        age = float(rng.randrange(18, 70))
        score = "" if rng.random() < 0.2 else round(rng.random() * 5, 3)
        history_len = rng.choice([0, 0, 1, 2, 3, 5, 7, 9]) if not unseen else rng.choice([0, 1, 6, 12])
        history = [rng.choice(items) for _ in range(history_len)]
        if unseen and history and rng.random() < 0.3:
            history[0] = "unseen_h"
        if unseen and len(history) > 2 and rng.random() < 0.2:
            history[1] = ""  # an empty element: PAD
        tag_len = rng.choice([0, 1, 2, 4, 6])
        tag_list = [rng.choice(tags) for _ in range(tag_len)]
        logit = -0.5 + (int(item[1:]) % 5 - 2) * 0.3 if item[1:].isdigit() else -0.5
        logit += 0.4 if user.endswith(("1", "3")) else 0.0
        logit += 0.6 * ctx - 0.4 * (np.log(price) - 7) + 0.02 * (age - 40) + 0.2 * len(history) / 5
        logit += 0.3 if any(h == item for h in history) else 0.0
        logit += 0.25 * sum(1 for t in tag_list if t in ("t1", "t2", "t3"))
        clk = 1.0 if rng.random() < 1 / (1 + np.exp(-logit)) else 0.0
        rows.append({"clk": clk, "user_id": user, "item_id": item, "cate": cate, "ctx_plain": ctx, "price": price,
                     "age": age, "score": score, "note": "x", "click_items": "^".join(history),
                     "tags": "^".join(tag_list)})
    return rows


def write_csv(path, rows):
    columns = list(rows[0].keys())
    with open(path, "w") as f:
        f.write(",".join(columns) + "\n")
        for row in rows:
            f.write(",".join(str(row[c]) for c in columns) + "\n")


class DeepFM(BaseModel):
    """FuxiCTR's DeepFM (model zoo formulation) assembled from the pip package's layers."""

    def __init__(self, feature_map, embedding_dim=8, hidden_units=(32, 16), **kwargs):
        super().__init__(feature_map, model_id="DeepFM", gpu=-1, embedding_regularizer=None, net_regularizer=None, **kwargs)
        self.embedding_layer = FeatureEmbedding(feature_map, embedding_dim)
        self.fm = FactorizationMachine(feature_map)
        self.mlp = MLP_Block(input_dim=feature_map.sum_emb_out_dim(), output_dim=1, hidden_units=list(hidden_units),
                             hidden_activations="ReLU", output_activation=None, dropout_rates=0, batch_norm=False)
        self.compile(kwargs.get("optimizer", "adam"), kwargs.get("loss", "binary_crossentropy"), 1e-3)
        self.reset_parameters()
        self.model_to_device()

    def forward(self, inputs):
        X = self.get_inputs(inputs)
        feature_emb = self.embedding_layer(X)
        y_pred = self.fm(X, feature_emb)
        y_pred += self.mlp(feature_emb.flatten(start_dim=1))
        return {"y_pred": self.output_activation(y_pred)}


class PerFeatureInputs(nn.Module):
    """One positional tensor per feature, named after it, into FuxiCTR's input dict; returns y_pred."""

    def __init__(self, model, names):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, *tensors):
        return self.model(dict(zip(self.names, tensors)))["y_pred"]


def encode(processor, csv_path):
    """FuxiCTR's own path from raw CSV rows to model inputs: read, preprocess (fill_na), transform."""
    ddf = processor.read_data(csv_path, data_format="csv", sep=",")
    df = processor.preprocess(ddf).collect()
    return processor.transform({name: df[name].to_list() for name in df.columns})


def to_tensors(df, feature_map):
    tensors = {}
    for name, spec in feature_map.features.items():
        values = df[name]
        if spec["type"] == "numeric":
            tensors[name] = torch.tensor(np.asarray(values, dtype=np.float32))
        elif spec["type"] == "sequence":
            tensors[name] = torch.tensor(np.asarray(values, dtype=np.int64))
        else:
            tensors[name] = torch.tensor(np.asarray(values, dtype=np.int64))
    return tensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="Tests/Fixtures/fuxictr")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="fuxictr-fixture-")
    train_rows = make_rows(rng, args.rows)
    write_csv(os.path.join(work, "train.csv"), train_rows)
    write_csv(os.path.join(work, "valid.csv"), make_rows(rng, 300))
    test_rows = make_rows(rng, 200, unseen=True)
    write_csv(os.path.join(work, "test_raw.csv"), test_rows)
    with open(os.path.join(work, "dataset_config.yaml"), "w") as f:
        yaml.safe_dump(CONFIG, f, sort_keys=False)

    params = dict(CONFIG[DATASET_ID])
    params["data_root"] = work
    processor = FeatureProcessor(dataset_id=DATASET_ID, **params)
    ddf = processor.preprocess(processor.read_data(os.path.join(work, "train.csv"), data_format="csv", sep=","))
    processor.fit(ddf, min_categr_count=params["min_categr_count"])
    data_dir = os.path.join(work, DATASET_ID)

    feature_map = FeatureMap(DATASET_ID, data_dir)
    feature_map.load(os.path.join(data_dir, "feature_map.json"), {**params, "embedding_dim": 8})
    names = list(feature_map.features.keys())

    train = encode(processor, os.path.join(work, "train.csv"))
    X = to_tensors(train, feature_map)
    y = torch.tensor(np.asarray(train["clk"], dtype=np.float32)).view(-1, 1)
    model = DeepFM(feature_map, verbose=0, model_root=os.path.join(work, "checkpoints"), metrics=["logloss", "AUC"],
                   optimizer="adam", loss="binary_crossentropy")
    model.train()
    generator = torch.Generator().manual_seed(SEED)  # FuxiCTR's own loader shuffles unseeded
    for epoch in range(args.epochs):
        order = torch.randperm(len(y), generator=generator)
        total = 0.0
        for start in range(0, len(y), 128):
            index = order[start:start + 128]
            batch = {name: X[name][index] for name in names}
            model.optimizer.zero_grad()
            loss = model.loss_fn(model(batch)["y_pred"], y[index], reduction="mean")
            loss.backward()
            model.optimizer.step()
            total += float(loss.detach()) * len(index)
        print(f"epoch {epoch + 1}: train logloss {total / len(y):.4f}")
    model.eval()

    test = encode(processor, os.path.join(work, "test_raw.csv"))
    T = to_tensors(test, feature_map)
    with torch.no_grad():
        expected = model({n: T[n] for n in names})["y_pred"].view(-1).numpy().astype(np.float64)

    os.makedirs(args.out, exist_ok=True)
    wrapper = PerFeatureInputs(model, names).eval()
    example = tuple(T[n][:2] for n in names)
    dynamic = {n: {0: "batch"} for n in names}
    dynamic["y_pred"] = {0: "batch"}
    onnx_path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(wrapper, example, onnx_path, input_names=names, output_names=["y_pred"],
                      dynamic_axes=dynamic, opset_version=17, dynamo=False)

    import onnxruntime as ort
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    feeds = {n: T[n].numpy() for n in names}
    got = session.run(None, feeds)[0].reshape(-1).astype(np.float64)
    diff = float(np.max(np.abs(got - expected)))
    print(f"predictions: min {expected.min():.4f} mean {expected.mean():.4f} max {expected.max():.4f}")
    print(f"ONNX Runtime vs torch on {len(expected)} raw rows: max |diff| = {diff:.3g}")
    assert np.all(np.isfinite(got)), "ONNX Runtime gave non-finite predictions"
    assert diff <= 1e-6, f"ONNX Runtime differs from torch by {diff}"
    for inp in session.get_inputs():
        print(f"  input {inp.name} {inp.type} {inp.shape}")

    for name in ("feature_map.json", "feature_vocab.json", "feature_processor.pkl"):
        shutil.copy(os.path.join(data_dir, name), os.path.join(args.out, name))
    shutil.copy(os.path.join(work, "dataset_config.yaml"), os.path.join(args.out, "dataset_config.yaml"))
    instances = []
    for row in test_rows:
        instance = {}
        for key, value in row.items():
            if key == "clk" or value == "":
                continue  # an empty CSV field is missing (null) for FuxiCTR: leave the key out
            instance[key] = value
        instances.append(instance)
    with open(os.path.join(args.out, "raw_rows.json"), "w") as f:
        json.dump({"instances": instances}, f, indent=0)
        f.write("\n")
    with open(os.path.join(args.out, "expected_predictions.json"), "w") as f:
        json.dump({"predictions": [float(v) for v in expected], "onnxruntime_vs_torch_max_abs_diff": diff}, f, indent=1)
        f.write("\n")
    # FuxiCTR's own transform of the same rows: the model inputs, one list per feature (row order).
    with open(os.path.join(args.out, "encoded_rows.json"), "w") as f:
        json.dump({n: T[n].tolist() for n in names}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
