#!/usr/bin/env python3
"""Reference CTR quality numbers from FuxiCTR (fuxictr==2.3.10 from PyPI).

Trains FuxiCTR model-zoo models (LR, DeepFM, AutoInt+, DCNv2) on CSV splits
described by a FuxiCTR-style dataset_config.yaml (as written by
scripts/make_movielens.py) and writes one JSON record per (model, seed) run.

Not part of CI. Needs a virtualenv with:
    pip install torch fuxictr==2.3.10 polars pandas scikit-learn pyyaml
and a checkout of the FuxiCTR repository (github.com/reczoo/FuxiCTR) for the
model zoo, which the pip package does not ship:
    --model-zoo /path/to/FuxiCTR   (must contain model_zoo/<Model>/src/<Model>.py)
The model files are imported from that checkout by path; nothing is copied.

Reproducing the MovieLens-100K reference (run niced, one job at a time):
    python3 scripts/make_movielens.py --out ml
    Z="--data ml --model-zoo FuxiCTR --batch-size 1024 --out results.json"
    nice -n 19 python fuxictr_reference.py $Z --dataset-id ml100k_x1 \
        --models DeepFM DCNv2 AutoInt+ --seeds 2021 2022 2023
    nice -n 19 python fuxictr_reference.py $Z --dataset-id ml100k_x1 --models LR --seeds 2021
    nice -n 19 python fuxictr_reference.py $Z --dataset-id ml100k_cat \
        --models DeepFM DCNv2 AutoInt+ --seeds 2021 --summary-md results.md
    python fuxictr_reference.py --out results.json --models --summary-md results.md  # table only
--batch-size 1024 instead of BARS's 4096: with 80K training rows 4096 gives only 20
steps/epoch (BARS Frappe_x1 had ~50); 1024 gives 79.

Hyperparameters follow the BARS best configs for Frappe_x1 (reczoo/BARS,
ranking/ctr/<Model>/<Model>_frappe_x1/*.log, first "{...}" params block).
Shims for fuxictr 2.3.10 applied here:
  1. polars >= 1.0 renamed scan_csv(dtypes=...) to schema_overrides=...
     -> FeatureProcessor.read_data is overridden (ShimFeatureProcessor).
  2. ParquetDataLoader (Ray Data) shuffles the train set without a seed
     -> SeededParquetDataLoader shuffles with a seed derived from (seed, epoch)
        and keeps Ray's block order deterministic.
  3. (ONNX export with dynamo=False) is not needed: this script exports nothing.
"""

import argparse
import copy
import glob
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import time

# One compute thread everywhere (the machine is shared); set before torch/ray load.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import polars as pl
import ray
import torch
import yaml

import fuxictr
from fuxictr.features import FeatureMap
from fuxictr.preprocess import FeatureProcessor, build_dataset
from fuxictr.pytorch.dataloaders import RankDataLoader
from fuxictr.pytorch.dataloaders.parquet_dataloader import ParquetDataLoader
from fuxictr.pytorch.torch_utils import seed_everything


# --------------------------------------------------------------------------
# Hyperparameters. Common settings are BARS's for every model
# (embedding_dim 10, batch_size 4096, lr 1e-3, Adam, epochs 100, patience 2,
# monitor AUC/max, min_categr_count 1). FuxiCTR 2.x names BARS's "patience"
# early_stop_patience; reduce_lr_on_plateau (lr /= 10 on a non-improving
# evaluation) is FuxiCTR's default and stays on.
# --------------------------------------------------------------------------
COMMON = dict(
    embedding_dim=10,
    batch_size=4096,
    learning_rate=1e-3,
    optimizer="adam",
    loss="binary_crossentropy",
    task="binary_classification",
    metrics=["AUC", "logloss"],
    monitor="AUC",
    monitor_mode="max",
    epochs=100,
    early_stop_patience=2,
    reduce_lr_on_plateau=True,
    save_best_only=True,
    eval_steps=None,          # evaluate once per epoch
    shuffle=True,
    max_gradient_norm=10.0,   # FuxiCTR default (fit())
)

BARS = "reczoo/BARS ranking/ctr/"
MODELS = {
    # BARS LR/LR_frappe_x1/LR_frappe_x1_001_ff730f43.log
    "LR": dict(
        zoo="LR", cls="LR",
        source=BARS + "LR/LR_frappe_x1/LR_frappe_x1_001_ff730f43.log",
        params=dict(regularizer=1e-5),
    ),
    # BARS DeepFM/DeepFM_frappe_x1/DeepFM_frappe_x1_001_4ae3a56e.log
    "DeepFM": dict(
        zoo="DeepFM/DeepFM_torch", cls="DeepFM",
        source=BARS + "DeepFM/DeepFM_frappe_x1/DeepFM_frappe_x1_001_4ae3a56e.log",
        params=dict(hidden_units=[400, 400, 400], hidden_activations="relu",
                    net_dropout=0.2, batch_norm=True,
                    embedding_regularizer=0.05, net_regularizer=0),
    ),
    # AutoInt+ = AutoInt with a DNN tower.
    # BARS AutoInt/AutoInt+_frappe_x1/AutoInt_frappe_x1_006_dba8e61c.log
    "AutoInt+": dict(
        zoo="AutoInt", cls="AutoInt",
        source=BARS + "AutoInt/AutoInt+_frappe_x1/AutoInt_frappe_x1_006_dba8e61c.log",
        params=dict(attention_layers=5, num_heads=4, attention_dim=128,
                    use_residual=True, use_scale=True, layer_norm=True, use_wide=False,
                    dnn_hidden_units=[400, 400, 400], dnn_activations="relu",
                    net_dropout=0.1, batch_norm=True,
                    embedding_regularizer=0.1, net_regularizer=0),
    ),
    # BARS DCNv2/DCNv2_frappe_x1/DCNv2_frappe_x1_007_c207b717.log
    "DCNv2": dict(
        zoo="DCNv2", cls="DCNv2",
        source=BARS + "DCNv2/DCNv2_frappe_x1/DCNv2_frappe_x1_007_c207b717.log",
        params=dict(model_structure="parallel", use_low_rank_mixture=False,
                    low_rank=32, num_experts=4, num_cross_layers=4,
                    parallel_dnn_hidden_units=[400, 400, 400],
                    stacked_dnn_hidden_units=[500, 500, 500],
                    dnn_activations="relu", net_dropout=0.4, batch_norm=True,
                    embedding_regularizer=0.05, net_regularizer=0),
    ),
}


# --------------------------------------------------------------------------
# Shim 1: polars renamed scan_csv(dtypes=) to schema_overrides=.
# --------------------------------------------------------------------------
class ShimFeatureProcessor(FeatureProcessor):
    def read_data(self, data_path, data_format="csv", sep=",", n_rows=None, **kwargs):
        if data_format != "csv":
            return super().read_data(data_path, data_format, sep, n_rows, **kwargs)
        if not data_path.endswith(data_format):
            data_path = os.path.join(data_path, f"*.{data_format}")
        file_names = sorted(glob.glob(data_path))
        assert file_names, f"Invalid data path: {data_path}"
        return pl.concat([
            pl.scan_csv(source=f, separator=sep, schema_overrides=self.dtype_dict,
                        low_memory=False, n_rows=n_rows)
            for f in file_names])


# --------------------------------------------------------------------------
# Shim 2: seeded, order-preserving shuffle for the Ray parquet loader.
# Each epoch gets a different (but reproducible) permutation, as FuxiCTR intends.
# --------------------------------------------------------------------------
class SeededParquetDataLoader(ParquetDataLoader):
    seed = 0  # set per run, before the loaders are built

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch = 0
        ray.data.DataContext.get_current().execution_options.preserve_order = True

    def __iter__(self):
        kwargs = dict(batch_size=self.batch_size, drop_last=False,
                      prefetch_batches=self.num_workers)
        dataset = self.dataset
        if self.shuffle:
            epoch_seed = int(np.random.SeedSequence([self.seed, self.epoch]).generate_state(1)[0])
            self.epoch += 1
            dataset = dataset.materialize().random_shuffle(seed=epoch_seed)
        return iter(dataset.iter_torch_batches(**kwargs))


def load_model_class(model_zoo, zoo_dir, cls_name):
    """Import <model_zoo>/model_zoo/<zoo_dir>/src/<cls_name>.py by file path."""
    path = os.path.join(model_zoo, "model_zoo", zoo_dir, "src", cls_name + ".py")
    if not os.path.exists(path):
        sys.exit(f"model zoo file not found: {path} (pass --model-zoo pointing at a FuxiCTR checkout)")
    spec = importlib.util.spec_from_file_location(f"fuxictr_zoo_{cls_name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, cls_name)


def with_history(model_class):
    """Subclass that records per-epoch validation AUC and lr, to know the best epoch."""
    class Tracked(model_class):
        def checkpoint_and_earlystop(self, logs, min_delta=1e-6):
            lr = self.optimizer.param_groups[0]["lr"]
            super().checkpoint_and_earlystop(logs, min_delta)
            self.history.append(dict(epoch=self._epoch_index + 1, lr=lr,
                                     valid_auc=float(self._monitor.get_value(logs))))
    Tracked.__name__ = model_class.__name__
    return Tracked


def dataset_params(data_dir, dataset_id, work_dir):
    with open(os.path.join(data_dir, "dataset_config.yaml")) as f:
        cfg = yaml.safe_load(f)[dataset_id]
    cfg = copy.deepcopy(cfg)
    cfg["dataset_id"] = dataset_id
    cfg["data_root"] = work_dir
    for split in ("train_data", "valid_data", "test_data"):
        cfg[split] = os.path.abspath(os.path.join(data_dir, cfg[split]))
    return cfg


def build(data_params):
    """CSV -> parquet + feature_map.json (FuxiCTR build_dataset), once per dataset."""
    encoder = ShimFeatureProcessor(**data_params)
    train, valid, test = build_dataset(encoder, **data_params)
    fmap = FeatureMap(data_params["dataset_id"], encoder.data_dir)
    return fmap, dict(train_data=train, valid_data=valid, test_data=test)


def run_one(model_name, seed, data_params, split_paths, work_dir, model_zoo, overrides):
    spec = MODELS[model_name]
    hp = dict(COMMON, **spec["params"], **overrides)
    params = dict(data_params, **split_paths, **hp,
                  model=spec["cls"], model_id=f"{model_name}_{data_params['dataset_id']}_{seed}",
                  seed=seed, gpu=-1, verbose=0, model_root=os.path.join(work_dir, "checkpoints"))
    params["data_format"] = "parquet"
    params["data_loader"] = SeededParquetDataLoader

    seed_everything(seed=seed)
    SeededParquetDataLoader.seed = seed
    feature_map = FeatureMap(params["dataset_id"], os.path.join(work_dir, params["dataset_id"]))
    feature_map.load(os.path.join(feature_map.data_dir, "feature_map.json"), params)

    model_class = with_history(load_model_class(model_zoo, spec["zoo"], spec["cls"]))
    model = model_class(feature_map, **params)
    model.history = []
    os.makedirs(model.model_dir, exist_ok=True)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)

    train_gen, valid_gen = RankDataLoader(feature_map, stage="train", **params)
    steps_per_epoch = len(train_gen)
    t0 = time.time()
    model.fit(train_gen, validation_data=valid_gen, **params)
    train_seconds = time.time() - t0
    valid = model.evaluate(valid_gen)
    test_gen = RankDataLoader(feature_map, stage="test", **params)
    test = model.evaluate(test_gen)

    best = max(model.history, key=lambda h: h["valid_auc"])  # first max = the saved checkpoint
    recorded_hp = {k: v for k, v in hp.items()}
    return dict(
        model=model_name, dataset=params["dataset_id"], seed=seed,
        fuxictr_version=fuxictr.__version__, torch_version=torch.__version__,
        model_class=spec["cls"], hyperparameters_source=spec["source"],
        hyperparameters=recorded_hp, num_params=n_params, steps_per_epoch=steps_per_epoch,
        best_epoch=best["epoch"], epochs_run=len(model.history), history=model.history,
        valid_auc=float(valid["AUC"]), valid_logloss=float(valid["logloss"]),
        test_auc=float(test["AUC"]), test_logloss=float(test["logloss"]),
        train_seconds=round(train_seconds, 1),
    )


def write_summary(results, path):
    """Markdown table: per dataset x model, mean ± std (ddof 0) and (min–max) over seeds."""
    groups = {}
    for r in results:
        groups.setdefault((r["dataset"], r["model"]), []).append(r)
    lines = ["| dataset | model | seeds | test AUC | test logloss "
             "| valid AUC (mean) | best epoch(s) | train wall time, s |",
             "|---|---|---|---|---|---|---|---|"]
    def stat(rs, key, fmt="{:.4f}"):
        v = [r[key] for r in rs]
        if len(v) == 1:
            return fmt.format(v[0])
        return (fmt + " ± " + fmt + " ({}–{})").format(
            float(np.mean(v)), float(np.std(v)), fmt.format(min(v)), fmt.format(max(v)))
    for (dataset, model), rs in sorted(groups.items()):
        lines.append("| {} | {} | {} | {} | {} | {:.4f} | {} | {} |".format(
            dataset, model, ",".join(str(r["seed"]) for r in rs),
            stat(rs, "test_auc"), stat(rs, "test_logloss"),
            float(np.mean([r["valid_auc"] for r in rs])),
            ",".join(str(r["best_epoch"]) for r in rs), stat(rs, "train_seconds", "{:.0f}")))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="dir with train/valid/test.csv and dataset_config.yaml")
    ap.add_argument("--dataset-id")
    ap.add_argument("--model-zoo", help="FuxiCTR checkout containing model_zoo/")
    ap.add_argument("--models", nargs="*", default=["LR", "DeepFM", "AutoInt+", "DCNv2"],
                    choices=list(MODELS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[2021, 2022, 2023])
    ap.add_argument("--out", required=True, help="results JSON (list of run records; appended to)")
    ap.add_argument("--work-dir", default=None, help="parquet/checkpoint dir (default: a temp dir)")
    ap.add_argument("--batch-size", type=int, default=None, help="override BARS's 4096")
    ap.add_argument("--epochs", type=int, default=None, help="override the max of 100 epochs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--summary-md", default=None,
                    help="also write a markdown table of all runs in --out (with --models and no "
                         "names: only summarize)")
    args = ap.parse_args()

    if args.summary_md and not args.models:
        with open(args.out) as f:
            write_summary(json.load(f), args.summary_md)
        return
    if not (args.data and args.dataset_id and args.model_zoo):
        ap.error("--data, --dataset-id and --model-zoo are required to train")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    work_dir = os.path.abspath(args.work_dir or tempfile.mkdtemp(prefix="fuxictr_ref_"))
    os.makedirs(work_dir, exist_ok=True)
    # Rebuild the parquet data each invocation (build_dataset skips if feature_map.json exists).
    shutil.rmtree(os.path.join(work_dir, args.dataset_id), ignore_errors=True)
    # Ray only moves data here (build + batch iteration); 2 CPUs avoid its "no free CPU" stalls.
    ray.init(num_cpus=2, include_dashboard=False,
             logging_level=logging.ERROR, log_to_driver=True)

    overrides = {}
    if args.batch_size:
        overrides["batch_size"] = args.batch_size
    if args.epochs:
        overrides["epochs"] = args.epochs

    data_params = dataset_params(args.data, args.dataset_id, work_dir)
    _, split_paths = build(data_params)

    results = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    for model_name in args.models:
        for seed in args.seeds:
            logging.info("=== %s on %s, seed %d", model_name, args.dataset_id, seed)
            rec = run_one(model_name, seed, data_params, split_paths, work_dir,
                          args.model_zoo, overrides)
            logging.info("=== result: %s", json.dumps({k: rec[k] for k in (
                "model", "dataset", "seed", "best_epoch", "valid_auc", "test_auc",
                "test_logloss", "train_seconds")}))
            results.append(rec)
            with open(args.out, "w") as f:  # write after every run
                json.dump(results, f, indent=1)
    ray.shutdown()
    if args.summary_md:
        write_summary(results, args.summary_md)


if __name__ == "__main__":
    main()
