#!/usr/bin/env python3
"""Python onnxruntime's cost per Run on the fixture at batch 1 and 64: the peer for the Swift binding's numbers.

Usage: .venv/bin/python bench/ort_python_run.py [MODEL] [SECONDS]
"""
import sys
import time

import numpy as np
import onnxruntime as ort

model = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/criteo_tiny.onnx"
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
for batch in (1, 64):
    ids = (np.arange(batch * 26, dtype=np.int64) * 7919 % 1000).reshape(batch, 26)
    dense = (np.arange(batch * 13) % 17 / 17).astype(np.float32).reshape(batch, 13)
    feed = {"sparse_ids": ids, "dense": dense}
    for _ in range(200):
        session.run(None, feed)
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter_ns()
        session.run(None, feed)
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    p50 = samples[len(samples) // 2] / 1000
    p25 = samples[len(samples) // 4] / 1000
    print(f"python onnxruntime {ort.__version__} batch {batch}: p25 {p25:.1f} us, p50 {p50:.1f} us, runs {len(samples)}")
