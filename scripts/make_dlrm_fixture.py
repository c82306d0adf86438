#!/usr/bin/env python3
"""Writes a Triton model repository with a DLRM-style PyTorch export, for the config.pbtxt tests.

The model is what DLRM and TorchRec models look like to a server: a bottom MLP over dense features, two
nn.EmbeddingBag tables (sum pooling) over ragged multi-hot ids with an offsets input per table
(include_last_offset=True: offsets hold B + 1 entries, the first 0), and a top MLP to one probability,
exported with torch.onnx with every first dimension dynamic:
  dense FP32 [B,4], ids0 INT64 [N0], offsets0 INT64 [B+1], ids1 INT64 [N1], offsets1 INT64 [B+1]
  -> probability FP32 [B,1]
The repository is laid out as Triton's documentation shows (<model>/config.pbtxt, <model>/1/model.onnx), twice:
  dlrm            max_batch_size 64, ids0/ids1 allow_ragged_batch, offsets0/offsets1 built per batch by the server
                  (batch_input BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO), dynamic batching, two instances
  dlrm_unbatched  max_batch_size 0: the model's own tensors, offsets included, each request run alone
Run outside CI (needs torch; the committed files are its output):
  python scripts/make_dlrm_fixture.py --out Tests/Fixtures/triton
"""
import argparse
import os
import shutil

import torch
from torch import nn


class DLRMish(nn.Module):
    def __init__(self):
        super().__init__()
        self.bottom = nn.Linear(4, 8)
        self.bags = nn.ModuleList([nn.EmbeddingBag(50, 8, mode="sum", include_last_offset=True) for _ in range(2)])
        self.top = nn.Sequential(nn.Linear(24, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, dense, ids0, offsets0, ids1, offsets1):
        x = torch.relu(self.bottom(dense))
        e0 = self.bags[0](ids0, offsets0)
        e1 = self.bags[1](ids1, offsets1)
        return torch.sigmoid(self.top(torch.cat([x, e0, e1], dim=1)))


RAGGED = """name: "dlrm"
platform: "onnxruntime_onnx"
max_batch_size: 64
input [
  { name: "dense", data_type: TYPE_FP32, dims: [ 4 ] },
  { name: "ids0", data_type: TYPE_INT64, dims: [ -1 ], allow_ragged_batch: true },
  { name: "ids1", data_type: TYPE_INT64, dims: [ -1 ], allow_ragged_batch: true }
]
batch_input [
  {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO
    target_name: "offsets0"
    data_type: TYPE_INT64
    source_input: "ids0"
  },
  {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO
    target_name: "offsets1"
    data_type: TYPE_INT64
    source_input: "ids1"
  }
]
output [
  { name: "probability", data_type: TYPE_FP32, dims: [ 1 ] }
]
dynamic_batching {
  max_queue_delay_microseconds: 2000
}
instance_group [ { count: 2, kind: KIND_CPU } ]
version_policy: { latest: { num_versions: 1 } }
"""

UNBATCHED = """name: "dlrm_unbatched"
platform: "onnxruntime_onnx"
max_batch_size: 0
input [
  { name: "dense", data_type: TYPE_FP32, dims: [ -1, 4 ] },
  { name: "ids0", data_type: TYPE_INT64, dims: [ -1 ] },
  { name: "offsets0", data_type: TYPE_INT64, dims: [ -1 ] },
  { name: "ids1", data_type: TYPE_INT64, dims: [ -1 ] },
  { name: "offsets1", data_type: TYPE_INT64, dims: [ -1 ] }
]
output [
  { name: "probability", data_type: TYPE_FP32, dims: [ -1, 1 ] }
]
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.manual_seed(7)
    model = DLRMish().eval()
    with torch.no_grad():
        for bag in model.bags:
            bag.weight.normal_(0, 0.5)
    example = (torch.randn(2, 4), torch.tensor([1, 2, 3]), torch.tensor([0, 2, 3]), torch.tensor([4, 5]), torch.tensor([0, 1, 2]))
    names = ["dense", "ids0", "offsets0", "ids1", "offsets1"]
    first = os.path.join(args.out, "dlrm", "1")
    os.makedirs(first, exist_ok=True)
    path = os.path.join(first, "model.onnx")
    torch.onnx.export(model, example, path, input_names=names, output_names=["probability"], opset_version=17, dynamo=False,
                      dynamic_axes={"dense": {0: "B"}, "ids0": {0: "N0"}, "offsets0": {0: "B1"}, "ids1": {0: "N1"},
                                    "offsets1": {0: "B1b"}, "probability": {0: "B"}})
    with open(os.path.join(args.out, "dlrm", "config.pbtxt"), "w") as f:
        f.write(RAGGED)
    second = os.path.join(args.out, "dlrm_unbatched", "1")
    os.makedirs(second, exist_ok=True)
    shutil.copyfile(path, os.path.join(second, "model.onnx"))
    with open(os.path.join(args.out, "dlrm_unbatched", "config.pbtxt"), "w") as f:
        f.write(UNBATCHED)


if __name__ == "__main__":
    main()
