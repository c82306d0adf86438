#!/usr/bin/env python3
"""Slowloris against a running server: N connections each send part of a request and nothing more.

Meanwhile a fresh client asks GET /v2/health/ready (and /metrics) every --probe-every seconds, with a 10 s
timeout, and its latency is recorded. After --hold seconds, counts the partial connections the server still
holds open (neither answered nor closed). Prints one JSON line.

    python3 bench/slowloris.py --port 8000 --connections 3000 --hold 65
"""
import argparse, json, select, socket, statistics, threading, time


def probe(port, path, timeout=10.0):
    started = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(max(0.1, timeout - (time.time() - started)))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return (time.time() - started) * 1000, data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "empty"
    except OSError as error:
        return (time.time() - started) * 1000, type(error).__name__


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--hold", type=float, default=65)
    parser.add_argument("--probe-every", type=float, default=1.0)
    parser.add_argument("--kind", choices=["head", "body", "mixed"], default="mixed")
    args = parser.parse_args()

    sockets, connect_failures = [], 0
    started = time.time()
    for i in range(args.connections):
        try:
            s = socket.create_connection(("127.0.0.1", args.port), timeout=3)
            if args.kind == "head" or (args.kind == "mixed" and i % 2 == 0):
                s.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            else:
                s.sendall(b"POST /v2/models/x/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"in")
            sockets.append(s)
        except OSError:
            connect_failures += 1
    opened_in = time.time() - started

    results = {"/v2/health/ready": [], "/metrics": []}
    stop = threading.Event()

    def prober():
        while not stop.is_set():
            for path in results:
                results[path].append(probe(args.port, path))
            stop.wait(args.probe_every)

    thread = threading.Thread(target=prober)
    thread.start()
    time.sleep(max(0, args.hold - (time.time() - started)))
    stop.set()
    thread.join()

    still_open = answered_408 = closed = 0
    for s in sockets:
        poller = select.poll()
        poller.register(s, select.POLLIN)
        if not poller.poll(0):
            still_open += 1
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if data.startswith(b"HTTP/1.1 408"):
            answered_408 += 1
        else:
            closed += 1
        s.close()
    for s in sockets:
        s.close()

    summary = {"connections": args.connections, "connected": len(sockets), "connect_failures": connect_failures,
               "opened_in_s": round(opened_in, 1), "hold_s": args.hold, "still_open": still_open,
               "answered_408": answered_408, "closed_without_answer": closed}
    for path, samples in results.items():
        ok = [ms for ms, status in samples if status == "200"]
        summary[path] = {"probes": len(samples), "ok": len(ok),
                         "p50_ms": round(statistics.median(ok), 1) if ok else None,
                         "max_ms": round(max(ok), 1) if ok else None,
                         "failed": sorted({status for _, status in samples if status != "200"})}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
