"""Makes a bundle whose model is over ONNX's 2 GB protobuf limit, from a trained bundle (issue 12, item 3).

Training a model with > 2 GB of embeddings takes hours on this machine, so this pads a trained bundle's
largest initializer (its embedding table) with zero rows past the vocabulary, which the feature map never
indexes, and saves the model with ONNX external data (`model.onnx` + `model.onnx.data`, offsets aligned by
the onnx package). The served predictions must equal the source bundle's; `bench/over_2gb.sh` checks that.
Usage: .venv/bin/python scripts/make_over_2gb_bundle.py SRC_BUNDLE OUT_BUNDLE [--bytes 2300000000]
"""
import argparse
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--bytes", type=int, default=2_300_000_000, help="size of the padded table (default 2.3e9)")
    args = parser.parse_args()
    if args.bytes <= 2**31:
        sys.exit("make_over_2gb_bundle: --bytes must exceed 2 GiB (2147483648), the protobuf limit this is about")
    model = onnx.load(os.path.join(args.source, "model.onnx"))
    table = max(model.graph.initializer, key=lambda t: np.prod(t.dims) if len(t.dims) == 2 else 0)
    weights = numpy_helper.to_array(table)
    rows, width = weights.shape
    padded_rows = -(-args.bytes // (width * weights.itemsize))
    padded = np.zeros((padded_rows, width), dtype=weights.dtype)
    padded[:rows] = weights
    table.CopyFrom(numpy_helper.from_array(padded, table.name))
    os.makedirs(args.out, exist_ok=True)
    for name in ("features.json", "model.json"):
        if os.path.exists(os.path.join(args.source, name)):
            shutil.copy(os.path.join(args.source, name), args.out)
    for stale in ("model.onnx", "model.onnx.data"):
        if os.path.exists(os.path.join(args.out, stale)):
            os.remove(os.path.join(args.out, stale))
    onnx.save_model(model, os.path.join(args.out, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1024)
    data = os.path.getsize(os.path.join(args.out, "model.onnx.data"))
    print(f"make_over_2gb_bundle: {args.out}: table {table.name} {rows}x{width} -> {padded_rows}x{width}, "
          f"model.onnx {os.path.getsize(os.path.join(args.out, 'model.onnx'))} B + model.onnx.data {data / 1e9:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
