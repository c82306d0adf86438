import Foundation

/// Reads FuxiCTR's `feature_processor.pkl` with a restricted unpickler and returns its contents as plain data.
///
/// Why Python and not a Swift pickle reader: Python's own `pickle.Unpickler` parses every protocol and
/// opcode correctly, and overriding `find_class` is the documented way to restrict what a pickle may name
/// ("Restricting Globals" in the `pickle` docs). The script (``script``) maps the allowed classes —
/// FuxiCTR's FeatureProcessor, FeatureMap, Tokenizer and Normalizer, scikit-learn's StandardScaler and
/// MinMaxScaler, numpy arrays and scalars of numbers, `collections.OrderedDict`, the `str`/`int`/`float`/
/// `bool` types and `getattr` (a pickled bound method) — to inert records whose state is only stored;
/// numpy arrays are decoded from their bytes with `struct`. Any other class is refused by name before
/// anything is called. It runs as `python3 -I -S`: isolated and without site-packages, so not even numpy
/// is importable; the standard library of any Python 3 is all it needs (the project's `.venv` is found
/// first, as ONNX Runtime is).
public struct FuxiCTRPickleReader {
    /// The Python interpreter to run.
    public let python: String

    /// A reader that runs `python` (a path, or `/usr/bin/env` for the `python3` on PATH).
    public init(python: String) {
        self.python = python
    }

    /// The interpreter: `explicit`, else the project's `.venv/bin/python3` next to the working directory or the
    /// executable (or any parent), else `python3` on PATH.
    public static func locatePython(explicit: String?) -> String {
        if let explicit { return explicit }
        var roots: [String] = []
        var directory = FileManager.default.currentDirectoryPath
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        for start in [directory, executable] {
            directory = start
            while true {
                roots.append(directory)
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        for root in roots {
            let candidate = root + "/.venv/bin/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/env"
    }

    /// Unpickles `path`; errors name the file and the refused class or missing key.
    public func read(_ path: String) throws(FeatureMapError) -> FuxiCTRProcessorSummary {
        guard FileManager.default.fileExists(atPath: path) else { throw FeatureMapError(.unreadable, path: path, detail: "no such file") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        let prefix = python == "/usr/bin/env" ? ["python3"] : []
        process.arguments = prefix + ["-I", "-S", "-c", Self.script, path]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw FeatureMapError(.unreadable, path: path, detail: "cannot run \(python) to read it: \(error.localizedDescription); pass --python PATH (any Python 3)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let message = object["error"] as? String {
            throw FeatureMapError(.invalidImport, path: path, detail: message)
        }
        guard process.terminationStatus == 0 else {
            let last = stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw FeatureMapError(.invalidImport, path: path, detail: "the restricted unpickler (\(python)) failed: \(last)")
        }
        do {
            return try JSONDecoder().decode(FuxiCTRProcessorSummary.self, from: data)
        } catch {
            throw FeatureMapError(.invalidImport, path: path, detail: "the restricted unpickler gave an unexpected summary: \(error)")
        }
    }

    /// The restricted unpickler; prints the summary as JSON, or `{"error": ...}` and exits 2.
    static let script = #"""
import json, pickle, struct, sys

RECORDS = {
    ("fuxictr.preprocess.feature_processor", "FeatureProcessor"),
    ("fuxictr.features", "FeatureMap"),
    ("fuxictr.preprocess.tokenizer", "Tokenizer"),
    ("fuxictr.preprocess.normalizer", "Normalizer"),
    ("sklearn.preprocessing._data", "StandardScaler"),
    ("sklearn.preprocessing._data", "MinMaxScaler"),
}
TYPE_NAMES = {("builtins", n) for n in ("str", "int", "float", "bool")}
NUMPY_CORE = ("numpy._core.multiarray", "numpy.core.multiarray")
FORMATS = {"f8": "d", "f4": "f", "i8": "q", "i4": "i", "i2": "h", "i1": "b", "u8": "Q", "u4": "I", "u2": "H",
           "u1": "B", "b1": "?"}


class Refused(Exception):
    pass


class Record:
    """A pickled object as plain data: its class name and the state BUILD gives it; none of its code exists here."""
    cls = "?"

    def __init__(self, *args, **kwargs):
        self.state = {}

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise Refused(f"{self.cls} has a state that is not a dict")
        self.state = state


class TypeName:
    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise Refused(f"the pickle calls builtins.{self.name}, which the importer does not allow")


class BoundMethod:
    """getattr(owner, name) recorded, never looked up."""

    def __init__(self, owner, name):
        self.owner = owner
        self.name = name


class DType:
    def __init__(self, descr, *args):
        self.descr = descr
        self.order = "<"

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in "<>|=":
            self.order = state[1]


class Array:
    def __init__(self, *args):
        self.values = []

    def __setstate__(self, state):
        self.values = decode(state[2], state[4])


def decode(dtype, raw):
    if not isinstance(dtype, DType):
        raise Refused("a numpy array without a numpy dtype")
    if not isinstance(raw, (bytes, bytearray)):
        raise Refused(f"a numpy array of dtype {dtype.descr} holding objects")
    code = FORMATS.get(dtype.descr)
    if code is None:
        raise Refused(f"numpy dtype {dtype.descr} is not supported")
    order = ">" if dtype.order == ">" else "<"
    return list(struct.unpack(f"{order}{len(raw) // struct.calcsize(code)}{code}", raw))


def numpy_scalar(dtype, raw):
    return decode(dtype, raw)[0]


class Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in RECORDS:
            return type(name, (Record,), {"cls": f"{module}.{name}"})
        if (module, name) in TYPE_NAMES:
            return TypeName(name)
        if (module, name) == ("collections", "OrderedDict"):
            return lambda *args: dict(*args)
        if (module, name) == ("builtins", "getattr"):
            return BoundMethod
        if module in NUMPY_CORE and name == "_reconstruct":
            return Array
        if module in NUMPY_CORE and name == "scalar":
            return numpy_scalar
        if (module, name) == ("numpy", "dtype"):
            return DType
        if (module, name) == ("numpy", "ndarray"):
            return "ndarray"
        raise Refused(f"refusing class {module}.{name}: it is not on the importer's allow-list (FuxiCTR's "
                      "FeatureProcessor, FeatureMap, Tokenizer, Normalizer; scikit-learn's StandardScaler, MinMaxScaler; "
                      "numpy arrays of numbers); nothing from the pickle was run")


def number(value, what):
    if isinstance(value, Array):
        if len(value.values) != 1:
            raise Refused(f"{what} holds {len(value.values)} values; one column was expected")
        value = value.values[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused(f"{what} is not a number")
    return float(value)


def scaler(normalizer, feature):
    key = f"processor_dict[{feature}::normalizer]"
    if not isinstance(normalizer, Record) or not normalizer.cls.endswith(".Normalizer"):
        raise Refused(f"{key} is not a FuxiCTR Normalizer")
    fitted = normalizer.state.get("normalizer")
    if isinstance(fitted, BoundMethod):
        if fitted.name != "transform":
            raise Refused(f"{key}.normalizer is the scaler's {fitted.name}, expected its transform")
        fitted = fitted.owner
    if isinstance(fitted, str):
        raise Refused(f"{key}.normalizer ({fitted}) was never fitted")
    if not isinstance(fitted, Record) or not fitted.cls.startswith("sklearn."):
        raise Refused(f"{key}.normalizer is not a fitted scikit-learn scaler (a custom callable?)")
    s = fitted.state
    if fitted.cls.endswith("StandardScaler"):
        return {"class": "StandardScaler",
                "mean": number(s["mean_"], f"{key}.mean_") if s.get("with_mean", True) else 0.0,
                "scale": number(s["scale_"], f"{key}.scale_") if s.get("with_std", True) else 1.0}
    if s.get("clip", False):
        raise Refused(f"{key} is a MinMaxScaler with clip=True, which the importer does not support")
    return {"class": "MinMaxScaler", "scale": number(s["scale_"], f"{key}.scale_"), "min": number(s["min_"], f"{key}.min_")}


def summarize(processor):
    if not isinstance(processor, Record) or not processor.cls.endswith(".FeatureProcessor"):
        raise Refused("the pickle does not hold a FuxiCTR FeatureProcessor")
    state = processor.state
    feature_map = state.get("feature_map")
    out = {"dataset_id": feature_map.state.get("dataset_id") if isinstance(feature_map, Record) else None,
           "tokenizers": {}, "normalizers": {}}
    for key, value in state.get("processor_dict", {}).items():
        feature, _, kind = key.partition("::")
        if kind == "tokenizer":
            if not isinstance(value, Record) or not value.cls.endswith(".Tokenizer"):
                raise Refused(f"processor_dict[{key}] is not a FuxiCTR Tokenizer")
            t = value.state
            vocab = t.get("vocab", {})
            na_value = t.get("_na_value", "")
            out["tokenizers"][feature] = {
                "na_value": "" if na_value is None else str(na_value), "splitter": t.get("_splitter"),
                "max_len": int(t.get("max_len") or 0), "padding": str(t.get("padding", "pre")),
                "remap": bool(t.get("remap", True)),
                "vocab_size": (max(vocab.values()) + 1) if vocab else 0,
                "oov": vocab.get("__OOV__"), "pad": vocab.get("__PAD__")}
        elif kind == "normalizer":
            out["normalizers"][feature] = scaler(value, feature)
        else:
            raise Refused(f"processor_dict[{key}] is neither a tokenizer nor a normalizer, which the importer does not support")
    return out


def main():
    try:
        with open(sys.argv[1], "rb") as f:
            processor = Restricted(f).load()
        print(json.dumps(summarize(processor)))
    except Refused as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(2)
    except (pickle.UnpicklingError, KeyError, AttributeError, TypeError, ValueError, IndexError, EOFError, struct.error) as e:
        print(json.dumps({"error": f"not a readable FuxiCTR feature processor pickle ({type(e).__name__}: {e})"}))
        sys.exit(2)
    except OSError as e:
        print(json.dumps({"error": e.strerror or str(e)}))
        sys.exit(2)


main()
"""#
}
