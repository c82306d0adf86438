#!/usr/bin/env python3
"""Builds a real public CTR dataset from MovieLens-100K, as shipped inside the `recbole` wheel on PyPI.

    scripts/make_movielens.py --out DIR [--wheel-cache DIR]

The wheel is downloaded with pip (no dependencies, nothing installed) and only its
`recbole/dataset_example/ml-100k/` files are read. The CTR framing is the usual one: a rating of 4 or 5 is a
click (about 55% of rows). Every one of the 100,000 ratings becomes a row with the user's and the movie's
fields; rows are shuffled with a fixed seed and split 80/10/10 into train.csv, valid.csv and test.csv.

Columns: clk, user_id, item_id, age, gender, occupation, zip_code, release_year, genres (`^`-joined), and
timestamp (not a feature). DIR/dataset_config.yaml declares two datasets over the same files:
- `ml100k_cat`: all-categorical ids (user_id, item_id, age, gender, occupation, zip_code,
  release_year), like FuxiCTR's Frappe_x1 / MovielensLatest_x1 presets: the schema that once crashed evaluate.
- `ml100k_x1`: the same plus `genres` as a sequence field sharing nothing, max_len 6.

The data stays out of the repository (GroupLens' terms do not allow redistributing it); this script is the
recipe, and running it twice writes identical files.
"""
import argparse
import csv
import glob
import os
import random
import subprocess
import sys
import zipfile

WHEEL = "recbole==1.2.1"
PREFIX = "recbole/dataset_example/ml-100k/"
SEED = 20261207

DATASET = """\
{id}:
  data_root: ./
  data_format: csv
  train_data: train.csv
  valid_data: valid.csv
  test_data: test.csv
  min_categr_count: 1
  label_col: {{name: clk, dtype: float}}
  feature_cols:
    - {{name: timestamp, active: false, dtype: str, type: categorical}}
    - {{name: [user_id, age, gender, occupation, zip_code], active: true, dtype: str, type: categorical, source: user}}
    - {{name: [item_id, release_year], active: true, dtype: str, type: categorical}}
    - {{name: genres, active: {genres_active}, dtype: str, type: sequence, splitter: ^, max_len: 6, padding: post}}
"""
CONFIG = ("# MovieLens-100K as a CTR task (rating >= 4 is a click), built by scripts/make_movielens.py.\n"
          + DATASET.format(id="ml100k_cat", genres_active="false") + DATASET.format(id="ml100k_x1", genres_active="true"))


def wheel_path(cache):
    found = glob.glob(os.path.join(cache, "recbole-1.2.1-*.whl"))
    if found:
        return found[0]
    os.makedirs(cache, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "--disable-pip-version-check",
                    "-d", cache, WHEEL], check=True)
    found = glob.glob(os.path.join(cache, "recbole-1.2.1-*.whl"))
    if not found:
        sys.exit(f"make_movielens: pip download {WHEEL} left no wheel in {cache}")
    return found[0]


def read_atomic(archive, name):
    """RecBole's atomic files: a tab-separated header of `name:type`, then rows."""
    lines = archive.read(PREFIX + name).decode("utf-8").splitlines()
    header = [column.split(":")[0] for column in lines[0].split("\t")]
    return header, [line.split("\t") for line in lines[1:] if line]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--wheel-cache", default=os.path.join(os.path.expanduser("~"), ".cache", "clickwise-wheels"))
    args = parser.parse_args()

    with zipfile.ZipFile(wheel_path(args.wheel_cache)) as archive:
        _, inter = read_atomic(archive, "ml-100k.inter")
        _, users = read_atomic(archive, "ml-100k.user")
        _, items = read_atomic(archive, "ml-100k.item")
    user = {row[0]: row[1:] for row in users}  # age, gender, occupation, zip_code
    item = {}
    for row in items:  # item_id, movie_title, release_year, class
        year = row[2] if len(row) > 2 else ""
        genres = row[3].split(" ") if len(row) > 3 and row[3] else []
        item[row[0]] = (year, "^".join(genres))

    rows = []
    for user_id, item_id, rating, timestamp in inter:
        age, gender, occupation, zip_code = user[user_id]
        year, genres = item.get(item_id, ("", ""))
        clk = 1 if float(rating) >= 4 else 0
        rows.append([clk, user_id, item_id, age, gender, occupation, zip_code, year, genres, timestamp])
    random.Random(SEED).shuffle(rows)
    n = len(rows)
    splits = {"train.csv": rows[: n * 8 // 10], "valid.csv": rows[n * 8 // 10: n * 9 // 10], "test.csv": rows[n * 9 // 10:]}
    os.makedirs(args.out, exist_ok=True)
    header = ["clk", "user_id", "item_id", "age", "gender", "occupation", "zip_code", "release_year", "genres", "timestamp"]
    for name, part in splits.items():
        with open(os.path.join(args.out, name), "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(part)
    with open(os.path.join(args.out, "dataset_config.yaml"), "w") as f:
        f.write(CONFIG)
    clicks = sum(row[0] for row in rows)
    print(f"make_movielens: {n} rows ({clicks / n:.3f} clicks) -> {args.out}/{{train,valid,test}}.csv "
          f"({len(splits['train.csv'])}/{len(splits['valid.csv'])}/{len(splits['test.csv'])}), dataset_config.yaml")


if __name__ == "__main__":
    main()
