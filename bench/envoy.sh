#!/usr/bin/env bash
# What Envoy in front costs: Get and Set through Envoy's kv listener against the same calls sent
# directly to the kv-server behind it, side by side in alternating rounds, on the system that
# envoy/local.sh runs (one etcd member and one replica, so that both paths reach the same
# process). With `kv bench` (rates, latency percentiles) and h2load (rates), and the CPU per
# call of Envoy and of kv-server from /proc/PID/stat. Prints a Markdown table.
#
# Needs what envoy/local.sh needs, h2load (nghttp2-client) and python3.
# Settings: DURATION (per measurement, default 10s), CONCURRENCY (calls in flight, default 64),
# ROUNDS (default 2), PORT_BASE (default 29100).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/h2load-grpc.sh

duration=${DURATION:-10s}
concurrency=${CONCURRENCY:-64}
rounds=${ROUNDS:-2}
port_base=${PORT_BASE:-29100}
for tool in h2load python3 java; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'envoy/local.sh down --dir "$work/system" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
envoy/local.sh up --detach --dir "$work/system" --port-base "$port_base" --replicas 1 \
  --etcd-members 1 >/dev/null
envoy_pid=$(cat "$work/system/pids/envoy.pid")
server_pid=$(cat "$work/system/pids/kv-server-1.pid")
declare -A address=([envoy]="127.0.0.1:$((port_base + 2))" [direct]="127.0.0.1:$((port_base + 10))")

grpc_requests "$work"

# One measurement: target (envoy | direct), call (Get | Set), round.
measure() {
  local target=$1 call=$2 round=$3 file="$work/$1-$2-$3" envoy_before server_before
  echo "bench: $target $call, round $round" >&2
  java -jar kv-cli/target/kv.jar --server "${address[$target]}" -o json bench \
    --workload "${call,,}" --concurrency "$concurrency" --duration "$duration" >"$file.kv.json"
  h2load -c 4 -m $((concurrency / 4)) -D 1 -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$work/$call.bin" "http://${address[$target]}/kv.KV/$call" >/dev/null
  envoy_before=$(cpu_ticks "$envoy_pid")
  server_before=$(cpu_ticks "$server_pid")
  h2load -c 4 -m $((concurrency / 4)) -D "${duration%s}" -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "$work/$call.bin" "http://${address[$target]}/kv.KV/$call" >"$file.h2load"
  echo "$(($(cpu_ticks "$envoy_pid") - envoy_before)) $(($(cpu_ticks "$server_pid") - server_before))" \
    >"$file.ticks"
}
for round in $(seq "$rounds"); do
  for call in Get Set; do
    for target in envoy direct; do measure "$target" "$call" "$round"; done
  done
done

python3 - "$work" "$rounds" "$concurrency" "$duration" "$(getconf CLK_TCK)" <<'PY'
import json, os, re, statistics, sys
work, rounds, concurrency, duration, tick = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
median = statistics.median
print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {concurrency} calls in flight, {duration} each,"
      f" medians of {rounds} alternating rounds; kv-server on etcd (one member); CPU from /proc/PID/stat.\n")
print("| call | path | kv bench calls/s | p50 ms | p99 ms | errors | h2load req/s | Envoy CPU µs/call | kv-server CPU µs/call |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for call in ("Get", "Set"):
    for target in ("direct", "envoy"):
        runs = [f"{work}/{target}-{call}-{r}" for r in range(1, rounds + 1)]
        kv = [json.load(open(f"{r}.kv.json")) for r in runs]
        h2 = [open(f"{r}.h2load").read() for r in runs]
        done = [int(re.search(r"(\d+) succeeded", t).group(1)) for t in h2]
        rates = [float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", t).group(1)) for t in h2]
        ticks = [list(map(int, open(f"{r}.ticks").read().split())) for r in runs]
        envoy_cpu = median(t[0] * 1e6 / tick / n for t, n in zip(ticks, done))
        server_cpu = median(t[1] * 1e6 / tick / n for t, n in zip(ticks, done))
        errors = sum(sum(k.get("errors", {}).values()) for k in kv)
        print(f"| {call} | {'through Envoy' if target == 'envoy' else 'direct'} "
              f"| {median(k['callsPerSecond'] for k in kv):,.0f} "
              f"| {median(k['latencyMicros']['p50'] for k in kv) / 1000:.2f} "
              f"| {median(k['latencyMicros']['p99'] for k in kv) / 1000:.2f} | {errors} "
              f"| {median(rates):,.0f} | {envoy_cpu:.0f} | {server_cpu:.0f} |")
PY
