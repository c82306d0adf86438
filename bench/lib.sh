# Shared helpers for the bench scripts: start/stop a server, wait for it, measure its CPU, run wrk.
set -euo pipefail

# cpu_ticks PID: utime+stime of a process in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wait_ready URL [SECONDS]: poll until HTTP 200.
wait_ready() {
  local url=$1 deadline=$((SECONDS + ${2:-60}))
  until curl -sf -o /dev/null "$url"; do
    [ $SECONDS -lt $deadline ] || { echo "timeout waiting for $url" >&2; return 1; }
    sleep 0.2
  done
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# measure PID URL SCRIPT WRK_ARGS...: runs wrk against URL and prints one markdown-ready line:
#   rps avg_ms p50_ms p99_ms cpu_cores us_cpu_per_request
measure() {
  local pid=$1 url=$2 script=$3; shift 3
  local hz; hz=$(getconf CLK_TCK)
  local before; before=$(cpu_ticks "$pid")
  local start; start=$(date +%s.%N)
  local out; out=$(wrk "$@" --latency -s "$script" "$url")
  local end; end=$(date +%s.%N)
  local after; after=$(cpu_ticks "$pid")
  echo "$out" | python3 -c '
import re, sys
text = sys.stdin.read()
ticks, hz, seconds = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
def ms(value):
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
avg = ms(re.search(r"Latency\s+(\S+)", text).group(1))
p50 = ms(re.search(r"50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"99%\s+(\S+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
cpu = ticks / hz
print(f"{rps:.0f} {avg:.2f} {p50:.2f} {p99:.2f} {cpu / seconds:.2f} {cpu / max(requests, 1) * 1e6:.1f} {errors.group(1) if errors else 0}")
' "$((after - before))" "$hz" "$(echo "$end - $start" | bc)"
}
