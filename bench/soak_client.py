#!/usr/bin/env python3
"""The checking side of bench/soak.sh: mixed traffic whose every answer is checked, worker kills, RSS samples.

Threads, for --secs seconds:
  - single rows (CTR API) and 100-candidate requests of a fixed row set, each prediction compared with the
    value the server gave for that row at start (|diff| <= 1e-5);
  - KServe v2 binary requests of the same rows' encoded tensors (`clickwise encode`), compared the same way;
  - bad requests (unknown field, malformed JSON, wrong route) that must get their 4xx with a JSON error;
  - slow clients: a partial head or a body shorter than its Content-Length, which must get 408 + close;
  - every --kill-every seconds, SIGKILL to worker 1 (the supervisor restarts it);
  - every 5 s the RSS of each worker;
  - once, at --swap-at seconds, a model version swap: the served version directory of --repository is copied
    to the next number (built beside it, then renamed), which the server's --repository-poll-secs picks up;
    the same weights, so every expected value still holds across the swap. The new version must turn READY
    in the index within 60 s and v2 answers must come from it afterwards (counted by model_version).
Connection errors are counted, not failures, only while a killed worker is being replaced (its clients lose
their connections). Any other error, wrong value or unexpected status is a failure. 5xx other than 503 fail.
Prints one JSON summary line; exit status 1 on any failure.
"""
import argparse, http.client, json, os, random, signal, socket, struct, sys, threading, time

import numpy as np



class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.restart_window_until = 0.0

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def fail(self, message):
        with self.lock:
            self.counts["failures"] = self.counts.get("failures", 0) + 1
            if len(self.failures) < 20:
                self.failures.append(message)

    def connection_error(self, what, error):
        if time.time() < self.restart_window_until:
            self.add("connection_errors_during_restart")
        else:
            self.fail(f"{what}: {error!r}")


def post(conn, path, body, headers=None):
    conn.request("POST", path, body=body, headers=headers or {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read()


def expect_predictions(stats, kind, status, body, expected):
    if status == 503:
        stats.add("503")
        return
    if status != 200:
        stats.fail(f"{kind}: status {status}: {body[:200]!r}")
        return
    got = json.loads(body)["predictions"]
    if len(got) != len(expected) or any(abs(a - b) > 1e-5 for a, b in zip(got, expected)):
        stats.fail(f"{kind}: wrong predictions {got[:3]} vs {expected[:3]}")
    else:
        stats.add(kind)


def v2_body(inputs, rows):
    header_inputs, blobs = [], []
    for name, array in inputs:
        part = np.ascontiguousarray(array[rows])
        blob = part.tobytes()
        datatype = "INT64" if part.dtype == np.int64 else "FP32"
        header_inputs.append({"name": name, "datatype": datatype, "shape": list(part.shape),
                              "parameters": {"binary_data_size": len(blob)}})
        blobs.append(blob)
    header = json.dumps({"inputs": header_inputs, "outputs": [{"name": "probability", "parameters": {"binary_data": True}}]}).encode()
    return header, header + b"".join(blobs)


def v2_predictions(status, headers, body):
    length = int(headers["inference-header-content-length"])
    tail = body[length:]
    return list(struct.unpack(f"<{len(tail) // 4}f", tail))


def traffic(stats, args, stop, rows, expected, inputs, seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    path = f"/v1/models/{args.model}:predict"
    while not stop.is_set():
        choice = rng.random()
        try:
            if choice < 0.6:
                i = rng.randrange(len(rows))
                status, _, body = post(conn, path, json.dumps({"instances": [rows[i]]}))
                expect_predictions(stats, "single", status, body, [expected[i]])
            elif choice < 0.75:
                start = rng.randrange(len(rows) - 100)
                status, _, body = post(conn, path, json.dumps({"instances": rows[start:start + 100]}))
                expect_predictions(stats, "rank100", status, body, expected[start:start + 100])
            else:
                picked = [rng.randrange(len(rows)) for _ in range(rng.choice([1, 8, 32]))]
                header, body = v2_body(inputs, picked)
                status, headers, reply = post(conn, f"/v2/models/{args.model}/infer", body,
                                              {"Content-Type": "application/octet-stream",
                                               "Inference-Header-Content-Length": str(len(header))})
                if status == 200:
                    version = json.loads(reply[:int(headers["inference-header-content-length"])]).get("model_version", "?")
                    stats.add(f"v2_model_version_{version}")
                    got = v2_predictions(status, headers, reply)
                    want = [expected[i] for i in picked]
                    if len(got) != len(want) or any(abs(a - b) > 1e-5 for a, b in zip(got, want)):
                        stats.fail(f"v2: wrong predictions {got[:3]} vs {want[:3]}")
                    else:
                        stats.add("v2_binary")
                elif status == 503:
                    stats.add("503")
                else:
                    stats.fail(f"v2: status {status}: {reply[:200]!r}")
        except (OSError, http.client.HTTPException) as error:
            stats.connection_error("traffic", error)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)


def bad_requests(stats, args, stop, rows):
    cases = [
        ("POST", f"/v1/models/{args.model}:predict", json.dumps({"instances": [dict(rows[0], not_a_field=1)]}), 400, "not_a_field"),
        ("POST", f"/v1/models/{args.model}:predict", '{"instances": [', 400, "error"),
        ("POST", "/v1/models/no_such_model:predict", json.dumps({"instances": [rows[0]]}), 404, "no_such_model"),
        ("GET", "/v2/no/such/route", None, 404, "error"),
    ]
    while not stop.is_set():
        for method, path, body, want, needle in cases:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            try:
                conn.request(method, path, body=body)
                response = conn.getresponse()
                text = response.read().decode(errors="replace")
                if response.status == 503:
                    stats.add("503")
                elif response.status != want or needle not in text or '"error"' not in text:
                    stats.fail(f"bad request {path}: {response.status} {text[:200]}")
                else:
                    stats.add("bad_request")
            except (OSError, http.client.HTTPException) as error:
                stats.connection_error("bad request", error)
            finally:
                conn.close()
        stop.wait(0.05)


def slow_clients(stats, args, stop):
    """Partial heads and short bodies: each must be answered 408 with a close within the timeout + slack."""
    n = 0
    while not stop.is_set():
        n += 1
        s = socket.create_connection(("127.0.0.1", args.port))
        if n % 2:
            s.sendall(b"POST /v1/models/%s:predict HTTP/1.1\r\nHost: x\r\nX-Slow: " % args.model.encode())
            kind = "slow_head"
        else:
            s.sendall(b"POST /v1/models/%s:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inst" % args.model.encode())
            kind = "slow_body"
        s.settimeout(args.slow_timeout + 10)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as error:
            stats.connection_error(kind, error)
            s.close()
            continue
        s.close()
        if data.startswith(b"HTTP/1.1 408") and b"connection: close" in data.lower() and b'"error"' in data:
            stats.add(kind)
        elif not data:
            stats.connection_error(kind, "closed without a response")
        else:
            stats.fail(f"{kind}: {data[:200]!r}")


def worker_pids(supervisor):
    found = {}
    try:
        children = open(f"/proc/{supervisor}/task/{supervisor}/children").read().split()
    except OSError:
        return found
    for pid in children:
        try:
            argv = open(f"/proc/{pid}/cmdline").read().split("\0")
        except OSError:
            continue
        if "--worker-index" in argv:
            found[int(argv[argv.index("--worker-index") + 1])] = int(pid)
    return found


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--tsv", required=True, help="Criteo TSV rows (clickwise data synth)")
    parser.add_argument("--npy-prefix", required=True, help="`clickwise encode` output prefix for the same rows")
    parser.add_argument("--supervisor", type=int, required=True)
    parser.add_argument("--secs", type=float, default=600)
    parser.add_argument("--kill-every", type=float, default=120)
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--slow-timeout", type=float, default=5)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--rss-out", default="")
    parser.add_argument("--swap-at", type=float, default=0, help="seconds into the run of the version swap (0: none)")
    parser.add_argument("--repository", default="", help="the served repository (<repository>/<model>/<version>/)")
    args = parser.parse_args()

    rows = []
    for line in open(args.tsv):
        # Criteo TSV (clickwise data synth): label, I1..I13, C1..C26; an empty column is a missing value.
        columns = line.rstrip("\n").split("\t")
        row = {f"I{i}": int(v) for i, v in enumerate(columns[1:14], 1) if v}
        row.update({f"C{i}": v for i, v in enumerate(columns[14:40], 1) if v})
        rows.append(row)
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    conn.request("GET", f"/v2/models/{args.model}")
    metadata = json.loads(conn.getresponse().read())
    inputs = [(i["name"], np.load(f"{args.npy_prefix}.{i['name']}.npy")) for i in metadata["inputs"]]
    inputs = [(name, a.astype(np.int64) if a.dtype.kind in "iu" else a.astype(np.float32)) for name, a in inputs]
    if any(len(a) != len(rows) for _, a in inputs):
        sys.exit(f"soak: {args.npy_prefix}.*.npy do not have {len(rows)} rows")
    # Expected values: asked once, at start, 100 rows a request.
    expected = []
    for start in range(0, len(rows), 100):
        status, _, body = post(conn, f"/v1/models/{args.model}:predict", json.dumps({"instances": rows[start:start + 100]}))
        if status != 200:
            sys.exit(f"soak: expected values: status {status} {body[:200]!r}")
        expected += json.loads(body)["predictions"]
    conn.close()

    stats, stop = Stats(), threading.Event()
    threads = [threading.Thread(target=traffic, args=(stats, args, stop, rows, expected, inputs, seed)) for seed in range(args.threads)]
    threads += [threading.Thread(target=bad_requests, args=(stats, args, stop, rows)),
                threading.Thread(target=slow_clients, args=(stats, args, stop)),
                threading.Thread(target=slow_clients, args=(stats, args, stop))]
    for t in threads:
        t.start()
    started = time.time()
    next_kill = started + args.kill_every
    samples = []
    kills = restarts = 0
    swap = None
    rss_file = open(args.rss_out, "w") if args.rss_out else None
    while time.time() - started < args.secs:
        time.sleep(5)
        now = time.time()
        workers = worker_pids(args.supervisor)
        sample = {"t": round(now - started), **{f"w{i}": rss_kb(p) for i, p in sorted(workers.items())}}
        samples.append(sample)
        if rss_file:
            rss_file.write(json.dumps(sample) + "\n")
            rss_file.flush()
        if args.swap_at and swap is None and now - started >= args.swap_at:
            swap = swap_version(args)
        if now >= next_kill and 1 in workers and now - started < args.secs - 30:
            old = workers[1]
            stats.restart_window_until = now + 15
            os.kill(old, signal.SIGKILL)
            kills += 1
            next_kill = now + args.kill_every
            deadline = now + 60
            while time.time() < deadline:
                time.sleep(0.2)
                new = worker_pids(args.supervisor).get(1)
                if new and new != old:
                    restarts += 1
                    break
    stop.set()
    for t in threads:
        t.join(timeout=60)

    def growth(key):
        values = [s[key] for s in samples if s["t"] >= args.warmup and s.get(key)]
        if len(values) < 2:
            return None
        return {"after_warmup_kb": values[0], "end_kb": values[-1], "max_kb": max(values),
                "growth_pct": round(100.0 * (values[-1] - values[0]) / values[0], 2)}

    swapped_ok = True
    if args.swap_at:
        new_answers = stats.counts.get(f"v2_model_version_{swap['version']}", 0) if swap else 0
        swapped_ok = bool(swap and swap["ready_after_s"] is not None and new_answers > 0)
        if not swapped_ok:
            stats.fail(f"version swap: {swap}, v2 answers from the new version: {new_answers}")
    summary = {"secs": round(time.time() - started), "counts": stats.counts, "kills": kills, "restarts": restarts,
               "swap": swap, "rss_worker0_never_killed": growth("w0"), "failures": stats.failures}
    print(json.dumps(summary))
    sys.exit(1 if stats.counts.get("failures") or restarts != kills or not swapped_ok else 0)


def swap_version(args):
    """Copies the newest version directory of the model to the next number and waits (60 s at most) until the
    index shows it READY; returns {"version", "ready_after_s" (None if it never turned READY), "index"}."""
    import shutil
    model_dir = os.path.join(args.repository, args.model)
    versions = sorted(int(v) for v in os.listdir(model_dir) if v.isdigit())
    new = str(versions[-1] + 1)
    staging = os.path.join(args.repository, f".staging-{new}")
    shutil.copytree(os.path.join(model_dir, str(versions[-1])), staging)
    os.rename(staging, os.path.join(model_dir, new))
    started, index = time.time(), None
    while time.time() - started < 60:
        time.sleep(0.25)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
            status, _, body = post(conn, "/v2/repository/index", b"")
            conn.close()
        except (OSError, http.client.HTTPException):
            continue
        index = json.loads(body) if status == 200 else None
        if index and any(m["name"] == args.model and m["version"] == new and m["state"] == "READY" for m in index):
            return {"version": new, "ready_after_s": round(time.time() - started, 2), "index": index}
    return {"version": new, "ready_after_s": None, "index": index}


if __name__ == "__main__":
    main()
