"""A Python peer for measurement only: FastAPI + uvicorn + onnxruntime serving a Clickwise bundle.

Same CTR API as `clickwise serve` (POST /v1/models/{name}:predict with {"instances": [...]}, fields by the
bundle's schema names) and the same feature encoding as Sources/CTRFeatures, for any features.json
(version 2, any schema, or version 1, Criteo): see bench/peers/encoding.py for the rules. Every input the
bundle's signature declares (categorical ids, numeric values, sequence ids) is fed to the session.

    CLICKWISE_BUNDLE=models/deepfm/1 uvicorn bench.peers.fastapi_server:app --workers 2 --port 8100
(or `bench/run_peer.sh`). Written to be a fair, reasonably fast peer: one session per worker process,
intra-op threads 1 (2 workers on 2 cores), numpy for the arrays, stdlib json on the raw body.
"""
import json
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bench.peers.encoding import load

BUNDLE = os.environ.get("CLICKWISE_BUNDLE", "models/deepfm/1")
MODEL_NAME = os.environ.get("CLICKWISE_MODEL") or os.path.basename(os.path.dirname(os.path.abspath(BUNDLE)))


def make_session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("PEER_INTRA_THREADS", "1"))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


encoder = load(os.path.join(BUNDLE, "features.json"))
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
        feed = encoder.encode(instances)
    except (ValueError, KeyError, TypeError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    output = session.run([encoder.output], feed)[0]
    predictions = np.asarray(output, dtype=np.float32).reshape(-1).tolist()
    return Response(json.dumps({"predictions": predictions}, separators=(",", ":")), media_type="application/json")
