#!/usr/bin/env bash
# Measures, on this machine and in one run: etcd called directly, etcd's own grpc-proxy, and
# kv-server on each store (etcd, embedded, memory), with the same clients and settings:
# `kv bench` (latency percentiles) and h2load (an HTTP/2 load generator, independent of our
# client). Writes the results, ratios to etcd measured in the same run, and the machine to
# docs/BENCHMARKS.md (or $BENCH_OUT).
#
# Needs: etcd and etcdctl (apt-get install etcd-server etcd-client), h2load (nghttp2-client),
# python3, and the built jars (./mvnw -q package -DskipTests; built here if missing).
#
# Settings: DURATION (per measurement, default 10s), CONCURRENCY (calls in flight, default 64),
# SPREAD_ROUNDS (alternating rounds of Sets spread over keys, default 3), WARMUP (h2load's calls
# of each kind to each kv-server before anything is measured, so that its JIT has compiled the
# request path, as in a server that has run a while; default 4s),
# JAVA_OPTS (added to kv-server's, as bin/kv-server takes it), BENCH_OUT. kv-server runs
# through bin/kv-server, with the JVM options users get; kv bench with the JVM's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${DURATION:-10s}
concurrency=${CONCURRENCY:-64}
out=${BENCH_OUT:-$root/docs/BENCHMARKS.md}
java_opts=$(sed -n 's/^ *jvm_opts="\(-Xmx[^"]*\)".*/\1/p' bin/kv)${JAVA_OPTS:+ $JAVA_OPTS}
seconds=${duration%s}

for tool in etcd etcdctl h2load python3 java; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
if [[ ! -f kv-server/target/kv-server.jar || ! -f kv-cli/target/kv.jar ]]; then
  ./mvnw -q package -DskipTests
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Free loopback ports, chosen by the kernel.
read -r etcd_port peer_port proxy_port kv_etcd kv_embedded kv_memory < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()')

wait_for() { # port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listens on port $1" >&2
  exit 1
}

echo "bench: starting etcd, grpc-proxy and three kv-servers" >&2
etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" > "$work/etcd.log" 2>&1 &
pids+=($!)
etcd_pid=$!
wait_for "$etcd_port"
etcd grpc-proxy start --endpoints="127.0.0.1:$etcd_port" \
  --listen-addr="127.0.0.1:$proxy_port" > "$work/grpc-proxy.log" 2>&1 &
pids+=($!)
proxy_pid=$!
wait_for "$proxy_port"

declare -A server_pid
start_server() { # name port args...
  local name=$1 port=$2
  shift 2
  bin/kv-server --listen "127.0.0.1:$port" "$@" > "$work/kv-server-$name.log" 2>&1 &
  pids+=($!)
  server_pid[$name]=$!
}
start_server etcd "$kv_etcd" --store etcd --etcd-endpoints "http://127.0.0.1:$etcd_port"
start_server embedded "$kv_embedded" --store embedded --data-dir "$work/embedded"
start_server memory "$kv_memory" --store memory
for port in "$kv_etcd" "$kv_embedded" "$kv_memory"; do wait_for "$port"; done

# name -> how kv reaches it, and where h2load sends its requests (service path prefix).
targets=(etcd grpc-proxy kv-server/etcd kv-server/embedded kv-server/memory)
declare -A reach=(
  [etcd]="--etcd-endpoints http://127.0.0.1:$etcd_port"
  [grpc-proxy]="--etcd-endpoints http://127.0.0.1:$proxy_port"
  [kv-server/etcd]="--server 127.0.0.1:$kv_etcd"
  [kv-server/embedded]="--server 127.0.0.1:$kv_embedded"
  [kv-server/memory]="--server 127.0.0.1:$kv_memory"
)
declare -A serving_pid=(
  [etcd]=$etcd_pid
  [grpc-proxy]=$proxy_pid
  [kv-server/etcd]=${server_pid[etcd]}
  [kv-server/embedded]=${server_pid[embedded]}
  [kv-server/memory]=${server_pid[memory]}
)
declare -A url=(
  [etcd]="http://127.0.0.1:$etcd_port"
  [grpc-proxy]="http://127.0.0.1:$proxy_port"
  [kv-server/etcd]="http://127.0.0.1:$kv_etcd"
  [kv-server/embedded]="http://127.0.0.1:$kv_embedded"
  [kv-server/memory]="http://127.0.0.1:$kv_memory"
)

# gRPC request bodies for h2load: a 5-byte frame header, then the message. The key is
# bench/1 (which kv bench writes first); the value 100 bytes, as kv bench's.
value=$(printf 'v%.0s' $(seq 100))
python3 - "$work" "$value" "$concurrency" <<'PY'
import sys
work, value, concurrency = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
key = b"bench/1"
def field(number, data): return bytes([number << 3 | 2, len(data)]) + data
def frame(message): return b"\0" + len(message).to_bytes(4, "big") + message
bodies = {
    "get": field(1, key),                                  # RangeRequest / GetRequest
    "etcd-serializable": field(1, key) + bytes([7 << 3, 1]),  # RangeRequest.serializable
    "kv-serializable": field(1, key) + bytes([2 << 3, 1]),    # GetRequest.consistency
    "set": field(1, key) + field(2, value),                # PutRequest / SetRequest
}
for i in range(1, concurrency + 1):  # Sets spread over keys, one body per h2load process
    bodies[f"set-{i}"] = field(1, b"bench/%d" % i) + field(2, value)
for name, message in bodies.items():
    open(f"{work}/{name}.bin", "wb").write(frame(message))
PY

results="$work/results"
mkdir -p "$results"
# h2load sending a prepared gRPC request: grpc BODY URL [h2load options...]
grpc() {
  local body=$1 url=$2
  shift 2
  h2load "$@" -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/$body.bin" "$url"
}
# Processor time a process has spent (utime + stime from /proc/PID/stat), in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # target op: get | serializable | set
  local target=$1 op=$2 file=${1//\//-}-$2 workload=$2 consistency=linearizable
  [[ $op == serializable ]] && { workload=get; consistency=serializable; }
  echo "bench: $target $op" >&2
  # etcd's own Put: kv's etcd adapter would send concurrent Sets as Txns, as kv-server does.
  local plain=
  [[ $op == set && ($target == etcd || $target == grpc-proxy) ]] && plain="--etcd-max-txn-ops 1"
  # shellcheck disable=SC2086
  java -jar kv-cli/target/kv.jar ${reach[$target]} $plain -o json bench --workload "$workload" \
    --consistency "$consistency" --concurrency "$concurrency" --duration "$duration" \
    > "$results/$file.kv.json"
  local service path body
  if [[ $target == etcd || $target == grpc-proxy ]]; then
    service=etcdserverpb.KV
    path=$([[ $op == set ]] && echo Put || echo Range)
    body=$([[ $op == serializable ]] && echo etcd-serializable || echo "$op")
  else
    service=kv.KV
    path=$([[ $op == set ]] && echo Set || echo Get)
    body=$([[ $op == serializable ]] && echo kv-serializable || echo "$op")
  fi
  # The server's CPU is counted from the end of h2load's warm-up second, as its calls are.
  local pid=${serving_pid[$target]} before load
  grpc "$body" "${url[$target]}/$service/$path" -c 4 -m $((concurrency / 4)) -D "$seconds" \
    --warm-up-time=1 > "$results/$file.h2load.txt" &
  load=$!
  sleep 1
  before=$(ticks "$pid")
  wait "$load"
  echo $(($(ticks "$pid") - before)) > "$results/$file.h2load.ticks"
}
warmup=${WARMUP:-4s}
for target in kv-server/etcd kv-server/embedded kv-server/memory; do
  echo "bench: warming up $target for $warmup per call" >&2
  for call in Set/set Get/get Get/kv-serializable; do  # the Set writes the key the Gets read
    grpc "${call#*/}" "${url[$target]}/kv.KV/${call%/*}" -c 4 -m $((concurrency / 4)) \
      -D "${warmup%s}" > /dev/null
  done
done
for target in "${targets[@]}"; do
  for op in get serializable set; do measure "$target" "$op"; done
done

# Sets spread over as many keys as calls in flight, which h2load sends as one process per key
# (each 1 connection x 1 stream): etcd's Put against kv-server's Set on etcd, in alternating
# rounds, with the CPU each process spent per call (utime + stime from /proc/PID/stat).
spread_rounds=${SPREAD_ROUNDS:-3}
measure_spread() { # target round
  local target=$1 round=$2 service=kv.KV path=Set pid=${server_pid[etcd]} runs=() i
  [[ $target == etcd ]] && { service=etcdserverpb.KV; path=Put; pid=; }
  echo "bench: $target set over $concurrency keys, round $round" >&2
  local before_etcd before_server
  before_etcd=$(ticks "$etcd_pid"); before_server=$([[ -n $pid ]] && ticks "$pid" || echo 0)
  for i in $(seq "$concurrency"); do
    grpc "set-$i" "${url[$target]}/$service/$path" -c 1 -m 1 -D "$seconds" \
      > "$results/spread-$i.h2load.txt" &
    runs+=($!)
  done
  wait "${runs[@]}"
  echo "$(ticks "$etcd_pid") $before_etcd $([[ -n $pid ]] && ticks "$pid" || echo 0) $before_server" \
    > "$results/${target//\//-}-spread-$round.ticks"
  cat "$results"/spread-*.h2load.txt > "$results/${target//\//-}-spread-$round.h2load.txt"
}
for round in $(seq "$spread_rounds"); do
  for target in etcd kv-server/etcd; do measure_spread "$target" "$round"; done
done

# Latency at moderate load: what kv-server adds on top of etcd, with 4 calls in flight.
for target in etcd kv-server/etcd; do
  for op in get set; do
    echo "bench: $target $op, 4 in flight" >&2
    # shellcheck disable=SC2086
    java -jar kv-cli/target/kv.jar ${reach[$target]} -o json bench --workload "$op" \
      --concurrency 4 --duration "$duration" > "$results/${target//\//-}-$op-moderate.kv.json"
  done
done

# Peak resident memory of each kv-server over the whole run.
for name in etcd embedded memory; do
  awk '/VmHWM/ {print $2}' "/proc/${server_pid[$name]}/status" > "$results/rss-$name.txt"
done

python3 - "$results" "$out" "$duration" "$concurrency" "$java_opts" "$spread_rounds" \
  "$(getconf CLK_TCK)" <<'PY'
import json, os, platform, re, statistics, subprocess, sys, datetime
results, out, duration, concurrency, java_opts, spread_rounds, hz = sys.argv[1:]
targets = ["etcd", "grpc-proxy", "kv-server/etcd", "kv-server/embedded", "kv-server/memory"]
ops = [("get", "Get, linearizable"), ("serializable", "Get, serializable"), ("set", "Set")]
def kv(target, op):
    return json.load(open(f"{results}/{target.replace('/', '-')}-{op}.kv.json"))
def h2(target, op):
    name = f"{results}/{target.replace('/', '-')}-{op}.h2load"
    text = open(f"{name}.txt").read()
    rate = float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", text).group(1))
    failed = re.search(r"requests: .* (\d+) failed, (\d+) errored", text)
    return rate, int(failed.group(1)) + int(failed.group(2))
def h2_cpu(target, op):
    """The serving process's CPU per call under h2load, after its warm-up second."""
    name = f"{results}/{target.replace('/', '-')}-{op}.h2load"
    done = int(re.search(r"requests: .* (\d+) succeeded", open(f"{name}.txt").read()).group(1))
    return int(open(f"{name}.ticks").read()) / float(hz) / max(done, 1) * 1e6
def first(cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except Exception: return "?"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
lines = [
    "# Benchmarks",
    "",
    "Written by [`bench/run.sh`](../bench/run.sh); rerun it to measure your machine. Every figure",
    "below comes from one run, on loopback, so the ratios to etcd (measured in the same run) are",
    "what to compare: absolute rates move with the machine and its load.",
    "",
    f"- Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {duration} per measurement, {concurrency} calls in flight, 100-byte values over 1,000 keys.",
    f"- Machine: {os.cpu_count()} CPUs ({cpu}), {mem} memory, {platform.system()} {platform.release()}.",
    f"- Software: {first(['etcd', '--version'])}; {java}; kv-server with `{java_opts}`.",
    "- `kv bench` is kv's own client (one JVM, on the same machine), over 1,000 keys. `h2load` sends",
    "  one prepared gRPC request (one key) over 4 connections. It cannot read gRPC statuses, so its",
    "  figure for a target stands only where `kv bench` saw no errors on it.",
    "- Read the two side by side. `kv bench` reaches etcd through kv's etcd adapter, which sends",
    "  concurrent linearizable reads as one Txn, and it is one JVM sharing the machine with the",
    "  servers, so its rate caps every kv-server row; h2load's columns show what each server",
    "  itself sustains.",
    "- CPU per call: `kv bench`'s own (the client), and that of the process h2load calls (etcd,",
    "  grpc-proxy or kv-server; not etcd behind kv-server), from /proc/PID/stat.",
    "- The Set rows' etcd baseline is etcd's own Put: `kv bench` reaches etcd with",
    "  `--etcd-max-txn-ops 1`, one call per Set, while kv-server sends concurrent Sets of distinct",
    "  keys as one Txn.",
    "",
]
goals_at = len(lines)
for op, title in ops:
    base_kv = kv("etcd", op)["callsPerSecond"]
    base_h2 = h2("etcd", op)[0]
    lines += [f"## {title}", "",
              "| target | kv bench calls/s | × etcd | p50 ms | p99 ms | p99.9 ms | errors | kv bench CPU µs/call | h2load req/s | × etcd | server CPU µs/call |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for target in targets:
        r = kv(target, op)
        rate, failed = h2(target, op)
        lat = r["latencyMicros"]
        errors = sum(r["errors"].values())
        # h2load cannot see gRPC errors: its figures stand only where kv bench saw none.
        h2load = (f"{rate:,.0f} | {rate/base_h2:.2f} | {h2_cpu(target, op):.0f}"
                  if errors == 0 and failed == 0 else "n/a (errors) | n/a | n/a")
        lines.append(f"| {target} | {r['callsPerSecond']:,.0f} | {r['callsPerSecond']/base_kv:.2f} | "
                     f"{lat['p50']/1000:.2f} | {lat['p99']/1000:.2f} | {lat['p99.9']/1000:.2f} | "
                     f"{errors}{' ' + str(r['errors']) if errors else ''} | "
                     f"{r.get('cpuMicrosPerCall', -1):.0f} | {h2load} |")
    lines.append("")
def spread(target):
    rounds = []
    for r in range(1, int(spread_rounds) + 1):
        name = f"{results}/{target.replace('/', '-')}-spread-{r}"
        text = open(f"{name}.h2load.txt").read()
        rate = sum(map(float, re.findall(r"finished in [\d.]+\w*, ([\d.]+) req/s", text)))
        done = sum(int(n) for n in re.findall(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", text))
        failed = sum(int(a) + int(b) for a, b in re.findall(r"(\d+) failed, (\d+) errored", text))
        etcd_after, etcd_before, server_after, server_before = map(int, open(f"{name}.ticks").read().split())
        per_call = lambda ticks: ticks / float(hz) / max(done, 1) * 1e6
        rounds.append((rate, per_call(etcd_after - etcd_before), per_call(server_after - server_before), failed))
    return [statistics.median(column) for column in zip(*rounds)]
put, served = spread("etcd"), spread("kv-server/etcd")
lines += [f"## Set over {concurrency} keys", "",
          f"h2load as {concurrency} processes, each one key over 1 connection with 1 call in flight;",
          f"medians of {spread_rounds} alternating rounds: etcd's own Put against kv-server's Set on",
          "etcd, which sends concurrent Sets of distinct keys as one Txn (a Set of a key already on",
          "its way goes alone, so the one-key Set rows above measure Puts). CPU per call from",
          "/proc/PID/stat (user + system).", "",
          "| target | h2load req/s | × etcd | etcd CPU µs/call | kv-server CPU µs/call | failed |",
          "| --- | ---: | ---: | ---: | ---: | ---: |",
          f"| etcd (Put) | {put[0]:,.0f} | 1.00 | {put[1]:.0f} | | {put[3]:.0f} |",
          f"| kv-server/etcd (Set) | {served[0]:,.0f} | {served[0]/put[0]:.2f} | {served[1]:.0f} | {served[2]:.0f} | {served[3]:.0f} |",
          ""]
# The goals the request path is held to, each a ratio of two figures of this run.
goals = [
    ("Set through kv-server on etcd, × etcd's own Put: h2load over keys", served[0] / put[0], 1.0),
    ("the same, `kv bench` over 1,000 keys",
     kv("kv-server/etcd", "set")["callsPerSecond"] / kv("etcd", "set")["callsPerSecond"], 1.0),
    ("linearizable Get on the embedded store, × the memory store (h2load)",
     h2("kv-server/embedded", "get")[0] / h2("kv-server/memory", "get")[0], 0.8),
    ("linearizable Get on the memory store, × etcd's Range (h2load)",
     h2("kv-server/memory", "get")[0] / h2("etcd", "get")[0], 6.0),
    ("`kv bench` against kv-server on memory, × h2load against it (linearizable Get)",
     kv("kv-server/memory", "get")["callsPerSecond"] / h2("kv-server/memory", "get")[0], 0.4),
]
lines[goals_at:goals_at] = ["## Goals", "", "| ratio | this run | goal | met |", "| --- | ---: | ---: | :---: |"] + [
    f"| {name} | {ratio:.2f} | ≥ {goal:.1f} | {'yes' if ratio >= goal else 'no'} |"
    for name, ratio, goal in goals] + [""]
lines += ["## Latency at moderate load", "",
          "`kv bench` with 4 calls in flight: what kv-server adds on top of etcd.", "",
          "| call | etcd p50 ms | etcd p99 ms | kv-server/etcd p50 ms | kv-server/etcd p99 ms | p99 added ms |",
          "| --- | ---: | ---: | ---: | ---: | ---: |"]
for op, title in [("get", "Get, linearizable"), ("set", "Set")]:
    direct = kv("etcd", f"{op}-moderate")["latencyMicros"]
    served = kv("kv-server/etcd", f"{op}-moderate")["latencyMicros"]
    lines.append(f"| {title} | {direct['p50']/1000:.2f} | {direct['p99']/1000:.2f} | "
                 f"{served['p50']/1000:.2f} | {served['p99']/1000:.2f} | "
                 f"{(served['p99'] - direct['p99'])/1000:.2f} |")
lines.append("")
lines += ["## Memory", "", "Peak resident memory (VmHWM) of each kv-server over the whole run:", ""]
for name in ["etcd", "embedded", "memory"]:
    kb = int(open(f"{results}/rss-{name}.txt").read().strip() or 0)
    lines.append(f"- kv-server on {name}: {kb / 1024:.0f} MB")
lines.append("")
open(out, "w").write("\n".join(lines))
print(f"bench: wrote {out}", file=sys.stderr)
PY
