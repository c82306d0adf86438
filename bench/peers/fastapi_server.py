"""A Python peer for measurement only: FastAPI + uvicorn + onnxruntime serving a Clickwise bundle.

Same CTR API as `clickwise serve` (POST /v1/models/{name}:predict with {"instances": [...]}) and the same
feature encoding as Sources/CTRFeatures (FeatureEncoder + DenseTransform):
  - categorical field f: global id = offset_f + local; local 0 = OOV, 1 = missing (absent, null or ""),
    2 + i = vocabulary[i]; a JSON integer counts as its decimal text;
  - dense field f: missing -> denseMissingValue (0 if absent); v > 2 -> floor(ln(v)^2); otherwise max(v, -1); then * (1 / scale_f),
    computed in float64 and rounded to float32.

    CLICKWISE_BUNDLE=models/deepfm/1 uvicorn bench.peers.fastapi_server:app --workers 2 --port 8100
(or `bench/run_peer.sh`). Written to be a fair, reasonably fast peer: one session per worker process,
intra-op threads 1 (2 workers on 2 cores), numpy for the arrays, stdlib json on the raw body.
"""
import json
import math
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

BUNDLE = os.environ.get("CLICKWISE_BUNDLE", "models/deepfm/1")
MODEL_NAME = os.environ.get("CLICKWISE_MODEL") or os.path.basename(os.path.dirname(os.path.abspath(BUNDLE)))


class Encoder:
    """Raw named features -> (ids int64 [B,26], dense float32 [B,13]), as FeatureEncoder does."""

    OOV, MISSING, FIRST = 0, 1, 2

    def __init__(self, features: dict):
        self.dense_names = [d["name"] for d in features["denseFields"]]
        self.inverse_scales = [1.0 / float(d["scale"]) for d in features["denseFields"]]
        # Maps written before denseMissingValue existed encoded a missing integer as 0.
        self.dense_missing = float(features.get("denseMissingValue", 0.0))
        self.categorical_names = [c["name"] for c in features["categoricalFields"]]
        self.offsets = [int(c["offset"]) for c in features["categoricalFields"]]
        self.lookups = [{value: c["offset"] + self.FIRST + i for i, value in enumerate(c["vocabulary"])}
                        for c in features["categoricalFields"]]
        self.tensors = features["tensors"]

    @staticmethod
    def transform(v: float) -> float:
        if v > 2:
            l = math.log(v)
            return math.floor(l * l)
        return v if v >= -1 else -1.0

    def dense_value(self, field: int, raw) -> float:
        if raw is None or raw == "":
            return self.dense_missing
        if isinstance(raw, bool):
            raise ValueError(f"{self.dense_names[field]}: expected an integer or null")
        if isinstance(raw, str):
            raw = int(raw)
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(f"{self.dense_names[field]}: expected an integer or null")
        return self.transform(float(raw)) * self.inverse_scales[field]

    def categorical_id(self, field: int, raw) -> int:
        offset = self.offsets[field]
        if raw is None or raw == "":
            return offset + self.MISSING
        if isinstance(raw, bool) or isinstance(raw, float):
            raise ValueError(f"{self.categorical_names[field]}: expected a string, an integer or null")
        key = raw if isinstance(raw, str) else str(raw)
        return self.lookups[field].get(key, offset + self.OOV)

    def encode(self, instances: list):
        n = len(instances)
        ids = np.empty((n, len(self.offsets)), dtype=np.int64)
        dense64 = np.empty((n, len(self.dense_names)), dtype=np.float64)
        for r, row in enumerate(instances):
            if not isinstance(row, dict):
                raise ValueError(f"instances[{r}] must be an object")
            get = row.get
            for f, name in enumerate(self.dense_names):
                dense64[r, f] = self.dense_value(f, get(name))
            for f, name in enumerate(self.categorical_names):
                ids[r, f] = self.categorical_id(f, get(name))
        return ids, dense64.astype(np.float32)


def make_session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("PEER_INTRA_THREADS", "1"))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


with open(os.path.join(BUNDLE, "features.json")) as f:
    encoder = Encoder(json.load(f))
session = make_session(os.path.join(BUNDLE, "model.onnx"))
app = FastAPI()


@app.get("/v2/health/ready")
def ready():
    return {"ready": True}


@app.post("/v1/models/{name}:predict")
async def predict(name: str, request: Request):
    if name != MODEL_NAME:
        return JSONResponse({"error": f"unknown model {name!r}"}, status_code=404)
    try:
        body = json.loads(await request.body())
        instances = body["instances"]
        ids, dense = encoder.encode(instances)
    except (ValueError, KeyError, TypeError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    t = encoder.tensors
    output = session.run([t["output"]], {t["sparseInput"]: ids, t["denseInput"]: dense})[0]
    predictions = np.asarray(output, dtype=np.float32).reshape(-1).tolist()
    return Response(json.dumps({"predictions": predictions}, separators=(",", ":")), media_type="application/json")
