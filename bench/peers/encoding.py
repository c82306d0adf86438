"""The feature encoding of Sources/CTRFeatures (FeatureEncoder, DenseTransform) in Python, for any bundle.

Reads features.json version 2 (any schema: `schema`, `signature`, `numericFields`, `sequenceFields`,
`categoricalFields` as vocabulary blocks) and version 1 (the Criteo layout written before schemas:
`tensors`, `denseFields`, `categoricalFields`). The rules, as the Swift encoder applies them:
  - categorical field: global id = block offset + local; local 0 = OOV, 1 = missing (absent, null or ""),
    2 + i = vocabulary[i]; a JSON integer counts as its decimal text; a missing value with `fillNA` is
    looked up as that text instead (OOV if it is not in the vocabulary);
  - numeric field: (transform(x) - shift) / scale, computed in float64 and rounded to float32, where
    transform is Criteo's floor(ln(v)^2) for v > 2 else max(v, -1) when the field's preprocess is
    convert_to_bucket, the identity otherwise; a missing value is `fillNA` (encoded the same way) if set,
    else the map's denseMissingValue for convert_to_bucket fields (0 when the file has none) and 0
    (encoded) for other fields;
  - sequence field: a JSON array of tokens or a splitter-joined string; each token is looked up in the
    field's vocabulary block (empty or null = padding, the block's missing id; unseen = OOV); the list is
    padded with the padding id and truncated to the field's length on its `padding` side (pre: keep the
    last tokens, pad at the front; post: keep the first, pad at the end); absent, null, "" or [] is all
    padding.
Request values are checked as `clickwise serve` checks them (Sources/CTRServer/PredictRequestDecoder.swift);
a bad value raises ValueError naming the field.
"""
import json
import math
import re

import numpy as np

OOV, MISSING, FIRST = 0, 1, 2
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")


def transform(v: float) -> float:
    """Criteo's integer transform (DenseTransform.apply); NaN maps to -1 as in Swift."""
    if v > 2:
        l = math.log(v)
        return float(math.floor(l * l))
    return v if v >= -1 else -1.0


def _criteo_schema(features: dict) -> dict:
    """A version-1 (Criteo) features.json in version-2 terms."""
    dense = features["denseFields"]
    categorical = features["categoricalFields"]
    tensors = features["tensors"]
    fields = [{"name": d["name"], "kind": "numeric", "dtype": "int", "preprocess": "convert_to_bucket"} for d in dense]
    fields += [{"name": c["name"], "kind": "categorical", "dtype": "str"} for c in categorical]
    return {
        "fields": fields,
        "numeric": [{"name": d["name"], "shift": 0.0, "scale": float(d["scale"])} for d in dense],
        "sequences": [],
        "inputs": [{"name": tensors["sparseInput"], "role": "categorical_ids"},
                   {"name": tensors["denseInput"], "role": "numeric_values"}],
        "output": tensors["output"],
    }


def _schema(features: dict) -> dict:
    version = int(features.get("formatVersion", 1))
    if version == 1:
        return _criteo_schema(features)
    if version != 2:
        raise ValueError(f"features.json formatVersion {version}; this encoder reads versions 1 and 2")
    signature = features["signature"]
    return {
        "fields": features["schema"]["fields"],
        "numeric": features["numericFields"],
        "sequences": features["sequenceFields"],
        "inputs": [{"name": t["name"], "role": t["role"]} for t in signature["inputs"]],
        "output": signature["outputs"][0]["name"],
    }


class Encoder:
    """Raw named features -> the model's inputs ({input name: array}), as FeatureEncoder does."""

    def __init__(self, features: dict):
        schema = _schema(features)
        fields = schema["fields"]
        self.version = int(features.get("formatVersion", 1))
        self.inputs = schema["inputs"]
        self.output = schema["output"]
        blocks = features["categoricalFields"]
        block_index = {b["name"]: i for i, b in enumerate(blocks)}
        self.offsets = [int(b["offset"]) for b in blocks]
        self.lookups = [{value: int(b["offset"]) + FIRST + i for i, value in enumerate(b["vocabulary"])} for b in blocks]
        # Maps written before denseMissingValue existed encoded a missing bucket value as 0.
        dense_missing = float(features.get("denseMissingValue", 0.0))

        # Categorical fields: the first blocks, in order.
        self.categorical = []
        for block, field in enumerate(f for f in fields if f["kind"] == "categorical"):
            missing = self.offsets[block] + MISSING
            fill = field.get("fillNA")
            if fill:
                missing = self.lookups[block].get(fill, self.offsets[block] + OOV)
            self.categorical.append((field["name"], block, missing))

        # Numeric fields: transform, shift, scale and the encoded missing value.
        numeric_fields = [f for f in fields if f["kind"] == "numeric"]
        entries = {e["name"]: e for e in schema["numeric"]}
        self.numeric = []
        for field in numeric_fields:
            entry = entries[field["name"]]
            bucketed = field.get("preprocess") == "convert_to_bucket"
            shift, inverse = float(entry["shift"]), 1.0 / float(entry["scale"])
            fill = _parse_float(field.get("fillNA"))
            if fill is None and not bucketed:
                fill = 0.0  # FuxiCTR's default fill for numbers
            if fill is None:
                missing = dense_missing
            else:
                missing = ((transform(fill) if bucketed else fill) - shift) * inverse
            self.numeric.append((field["name"], bucketed, shift, inverse, missing, field.get("dtype") == "int"))

        # Sequence fields: block, length, padding id, side, splitter; columns in field order.
        sequence_fields = {f["name"]: f for f in fields if f["kind"] == "sequence"}
        self.sequences = []
        start = 0
        for entry in schema["sequences"]:
            field = sequence_fields[entry["name"]]
            length = int(entry["length"])
            self.sequences.append((entry["name"], block_index[entry["vocabulary"]], length, int(entry["paddingId"]),
                                   field.get("padding", "pre") != "post", field.get("splitter", "^"), start))
            start += length
        self.sequence_width = start
        self.known = {f["name"] for f in fields} | set(features.get("schema", {}).get("inactiveColumns", []))
        label = features.get("schema", {}).get("label", "label" if self.version == 1 else None)
        if label:
            self.known.add(label)

    # -- values

    def numeric_value(self, field: int, raw) -> float:
        name, bucketed, shift, inverse, missing, integral = self.numeric[field]
        if raw is None or raw == "":
            return missing
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise ValueError(f"{name}: expected {'an integer' if integral else 'a number'} or null")
        if isinstance(raw, str):
            if _INTEGER.match(raw):
                raw = int(raw)
            elif not integral and _NUMBER.match(raw):
                raw = float(raw)
            else:
                raise ValueError(f"{name}: expected {'an integer' if integral else 'a number'} or null, found {raw!r}")
        value = float(raw)
        if not math.isfinite(value) or (integral and not value.is_integer()):
            raise ValueError(f"{name}: expected {'an integer' if integral else 'a number'} or null, found {raw!r}")
        return ((transform(value) if bucketed else value) - shift) * inverse

    @staticmethod
    def _token(name: str, raw):
        """A request token as text; None for null or "" (missing or padding)."""
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise ValueError(f"{name}: expected a string, an integer or null")

    def categorical_id(self, field: int, raw) -> int:
        name, block, missing = self.categorical[field]
        text = self._token(name, raw)
        if text is None:
            return missing
        return self.lookups[block].get(text, self.offsets[block] + OOV)

    def sequence_ids(self, field: int, raw) -> list:
        name, block, length, padding, pre, splitter, _ = self.sequences[field]
        if raw is None or raw == "" or raw == []:
            return [padding] * length
        if isinstance(raw, list):
            tokens = [self._token(name, t) if not isinstance(t, (list, dict)) else self._bad_token(name) for t in raw]
        else:
            text = self._token(name, raw)
            tokens = text.split(splitter)
        lookup, oov = self.lookups[block], self.offsets[block] + OOV
        ids = [padding if not t else lookup.get(t, oov) for t in tokens]
        if pre:
            kept = ids[-length:]
            return [padding] * (length - len(kept)) + kept
        kept = ids[:length]
        return kept + [padding] * (length - len(kept))

    @staticmethod
    def _bad_token(name: str):
        raise ValueError(f"{name}: expected tokens that are strings, integers or null")

    # -- rows

    def encode(self, instances: list) -> dict:
        """{input name: array} for a list of instances (dicts keyed by field name), in the signature's inputs."""
        n = len(instances)
        ids = np.empty((n, len(self.categorical)), dtype=np.int64)
        dense64 = np.empty((n, len(self.numeric)), dtype=np.float64)
        sequences = np.empty((n, self.sequence_width), dtype=np.int64)
        for r, row in enumerate(instances):
            if not isinstance(row, dict):
                raise ValueError(f"instances[{r}] must be an object")
            if not self.known.issuperset(row):
                unknown = sorted(set(row) - self.known)
                raise ValueError(f"instances[{r}]: unknown feature {unknown[0]!r}")
            get = row.get
            for f, entry in enumerate(self.numeric):
                dense64[r, f] = self.numeric_value(f, get(entry[0]))
            for f, entry in enumerate(self.categorical):
                ids[r, f] = self.categorical_id(f, get(entry[0]))
            for f, entry in enumerate(self.sequences):
                start = entry[6]
                sequences[r, start:start + entry[2]] = self.sequence_ids(f, get(entry[0]))
        by_role = {"categorical_ids": ids, "numeric_values": dense64.astype(np.float32), "sequence_ids": sequences}
        return {t["name"]: by_role[t["role"]] for t in self.inputs}


def _parse_float(text):
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def load(path: str) -> Encoder:
    """The encoder of a features.json file."""
    with open(path) as f:
        return Encoder(json.load(f))
