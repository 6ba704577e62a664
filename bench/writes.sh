#!/usr/bin/env bash
# Writes side by side, in one run: etcd's own Put against kv-server's Set on that etcd, in
# alternating rounds of h2load (4 connections x 16 streams, as bench/run.sh), with the CPU each
# process spent per call (from /proc/PID/stat). Prints each round and the medians: on a shared
# machine only medians of alternating rounds compare.
#
# h2load sends one request body, so every Set writes one key (bench/1); CLIENT=kv measures with
# `kv bench --workload set` instead, 64 calls in flight over 1,000 keys.
#
# Usage: bench/writes.sh [KV_SERVER_JAR]   (default: kv-server/target/kv-server.jar)
# Settings: ROUNDS (default 5), SECONDS_PER_RUN (default 5), KV_SERVER_ARGS (added to kv-server's),
# CLIENT (h2load or kv; default h2load), KV_ETCD_JAR (the kv.jar that calls etcd directly: one
# whose EtcdStore sends each Set as its own Put, to measure etcd's).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=${1:-kv-server/target/kv-server.jar}
rounds=${ROUNDS:-5}
seconds=${SECONDS_PER_RUN:-5}
jvm_opts=$(sed -n 's/^ *jvm_opts="\(-Xmx128m[^"]*\)".*/\1/p' bin/kv-server)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

read -r etcd_port peer_port kv_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
wait_for() { # port
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "writes: nothing listens on port $1" >&2
  exit 1
}

etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" > "$work/etcd.log" 2>&1 &
pids+=($!)
etcd_pid=$!
wait_for "$etcd_port"
# shellcheck disable=SC2086
java $jvm_opts -jar "$jar" --listen "127.0.0.1:$kv_port" --store etcd \
  --etcd-endpoints "http://127.0.0.1:$etcd_port" ${KV_SERVER_ARGS:-} > "$work/kv-server.log" 2>&1 &
pids+=($!)
kv_pid=$!
wait_for "$kv_port"

# One gRPC frame: the key bench/1 and a 100-byte value, as PutRequest and SetRequest alike.
python3 - "$work/set.bin" <<'PY'
import sys
def field(number, data): return bytes([number << 3 | 2, len(data)]) + data
message = field(1, b"bench/1") + field(2, b"v" * 100)
open(sys.argv[1], "wb").write(b"\0" + len(message).to_bytes(4, "big") + message)
PY

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() { # url duration -> "rate requests"
  if [[ ${CLIENT:-h2load} == kv ]]; then
    local reach=(--etcd-endpoints "$1")
    [[ $1 == "$set_" ]] && reach=(--server "127.0.0.1:$kv_port")
    local jar=kv-cli/target/kv.jar
    [[ $1 == "$set_" ]] || jar=${KV_ETCD_JAR:-$jar}
    java -jar "$jar" "${reach[@]}" -o json bench --workload set --concurrency 64 \
      --duration "${2}s" > "$work/kv.json"
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["callsPerSecond"], r["calls"])' \
      "$work/kv.json"
    return
  fi
  h2load -c 4 -m 16 -D "$2" -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$work/set.bin" "$1" > "$work/h2load.txt"
  awk '/^finished in/ {rate=$4} /^requests:/ {done=$8} END {print rate, done}' "$work/h2load.txt"
}
put="http://127.0.0.1:$etcd_port/etcdserverpb.KV/Put"
[[ ${CLIENT:-h2load} == kv ]] && put="http://127.0.0.1:$etcd_port"
set_="http://127.0.0.1:$kv_port/kv.KV/Set"
run "$put" 2 > /dev/null # warm-up
run "$set_" 4 > /dev/null

printf '%-5s %10s %12s %10s %12s %14s %7s\n' round put/s etcd-us/put set/s etcd-us/set \
  kv-server-us/set ratio
for round in $(seq "$rounds"); do
  e0=$(ticks "$etcd_pid")
  read -r put_rate put_done < <(run "$put" "$seconds")
  e1=$(ticks "$etcd_pid"); k1=$(ticks "$kv_pid")
  read -r set_rate set_done < <(run "$set_" "$seconds")
  e2=$(ticks "$etcd_pid"); k2=$(ticks "$kv_pid")
  python3 -c "
hz, pr, pd, sr, sd = $hz, float('$put_rate'), $put_done, float('$set_rate'), $set_done
print('%-5d %10.0f %12.1f %10.0f %12.1f %14.1f %7.2f' % ($round, pr, ($e1-$e0)/hz/pd*1e6,
      sr, ($e2-$e1)/hz/sd*1e6, ($k2-$k1)/hz/sd*1e6, sr/pr))"
done | tee "$work/rounds.txt"
python3 - "$work/rounds.txt" <<'PY'
import statistics, sys
rows = [list(map(float, line.split()[1:])) for line in open(sys.argv[1])]
print("median", *("%.1f" % statistics.median(column) for column in zip(*rows)))
PY
