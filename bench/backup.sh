#!/usr/bin/env bash
# Export, import, snapshot and restore of KEYS keys (default 1,000,000) of VALUE_SIZE bytes
# (default 100) on the embedded store, through kv-server: loads them with kv bench (a get workload
# writes every key it reads first), exports them with kv export -f, imports the file into a fresh
# kv-server on an empty data dir, saves a snapshot with kv snapshot save and restores it with
# kv-server restore into a third data dir; exports the imported and the restored stores too and
# compares the counts and the keys and values. For each step: the wall time, the peak RSS and CPU
# of the process that runs it (/usr/bin/time -v), and the serving kv-server's CPU and peak RSS
# meanwhile (sampled from /proc every 0.2 s). Prints a Markdown table.
#
# Needs bin/kv and bin/kv-server built (./mvnw -q package -DskipTests), /usr/bin/time and python3.
# Settings: KEYS, VALUE_SIZE, PORT_BASE (default 29300). The export runs twice: with the JVM's
# default heap, and with SMALL_HEAP (default -Xmx32m), to show that it needs no more than a page.
set -euo pipefail
cd "$(dirname "$0")/.."

keys=${KEYS:-1000000}
value_size=${VALUE_SIZE:-100}
port_base=${PORT_BASE:-29300}
for tool in /usr/bin/time python3 java; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; rm -rf "$work"' EXIT
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_server NAME PORT: a kv-server on the embedded store in $work/NAME; sets server_pid.
start_server() {
  : >"$work/$1.log"
  bin/kv-server --store embedded --data-dir "$work/$1" --listen "127.0.0.1:$2" >"$work/$1.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 150); do
    grep -q "listening on" "$work/$1.log" && return
    sleep 0.2
  done
  echo "bench: kv-server $1 did not start" >&2
  cat "$work/$1.log" >&2
  exit 1
}

# measure LABEL SERVER_PID JAVA_OPTS KV-ARGS...: runs kv under /usr/bin/time -v, sampling the
# server.
measure() {
  local label=$1 server=$2 java_opts=$3 before sampler
  shift 3
  before=$(cpu_ticks "$server")
  (
    peak=0
    while kill -0 "$server" 2>/dev/null; do
      rss=$(awk '/^VmRSS/ {print $2}' "/proc/$server/status")
      [ "$rss" -gt "$peak" ] && peak=$rss && echo "$peak" >"$work/$label.server-rss"
      sleep 0.2
    done
  ) &
  sampler=$!
  echo "bench: kv $* ($java_opts)" >&2
  JAVA_OPTS="$java_opts" /usr/bin/time -v -o "$work/$label.time" bin/kv "$@" \
    >"$work/$label.out" 2>"$work/$label.err" || { cat "$work/$label.err" "$work/$label.time" >&2; exit 1; }
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  echo "$(($(cpu_ticks "$server") - before))" >"$work/$label.server-ticks"
  cat "$work/$label.err" "$work/$label.out" >&2
}

start_server source "$port_base"
source_pid=$server_pid
echo "bench: loading $keys keys of $value_size bytes" >&2
bin/kv --server "127.0.0.1:$port_base" bench -w get --keys "$keys" --value-size "$value_size" \
  -n 1 --warmup 0s -c 256 >"$work/load.out" 2>&1 || { cat "$work/load.out" >&2; exit 1; }

measure export "$source_pid" "" --server "127.0.0.1:$port_base" export -f "$work/export.jsonl"
measure export-small-heap "$source_pid" "${SMALL_HEAP:--Xmx32m}" \
  --server "127.0.0.1:$port_base" export -f "$work/export-small-heap.jsonl"
measure snapshot "$source_pid" "" --server "127.0.0.1:$port_base" snapshot save "$work/kv.snapshot"
start_server target "$((port_base + 1))"
target_pid=$server_pid
measure import "$target_pid" "" --server "127.0.0.1:$((port_base + 1))" import -f "$work/export.jsonl"
bin/kv --server "127.0.0.1:$((port_base + 1))" export -f "$work/again.jsonl" 2>/dev/null

echo "bench: kv-server restore" >&2
/usr/bin/time -v -o "$work/restore.time" bin/kv-server restore "$work/kv.snapshot" \
  --data-dir "$work/restored" >&2
start_server restored "$((port_base + 2))"
bin/kv --server "127.0.0.1:$((port_base + 2))" export -f "$work/restored.jsonl" 2>/dev/null

python3 - "$work" "$keys" "$clk_tck" "${SMALL_HEAP:--Xmx32m}" <<'PY'
import json, os, re, sys
from itertools import zip_longest
work, keys, clk_tck, small_heap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def entries(name):
    """The keys and values of an export, one at a time (revisions are each store's own)."""
    with open(os.path.join(work, name), encoding="utf-8") as f:
        next(f)
        for line in f:
            entry = json.loads(line)
            if "key" in entry:
                yield entry["key"], entry["value"]

count = 0
for first, small, again, restored in zip_longest(
        entries("export.jsonl"), entries("export-small-heap.jsonl"), entries("again.jsonl"),
        entries("restored.jsonl")):
    if not (first == small == again == restored):
        sys.exit(f"bench: the exports differ at key {count}: {first} {small} {again} {restored}")
    count += 1
if count != keys:
    sys.exit(f"bench: exported {count} keys, not {keys}")
size = os.path.getsize(os.path.join(work, "export.jsonl"))
snapshot = os.path.getsize(os.path.join(work, "kv.snapshot"))
print(f"{keys:,} keys of {os.environ.get('VALUE_SIZE', '100')} bytes; export file {size / 1e6:.0f} MB, snapshot {snapshot / 1e6:.0f} MB; imported, and restored, then exported again: the same keys and values\n")
print("| step | wall time | peak RSS | CPU | serving kv-server's CPU | its peak RSS |")
print("|---|---|---|---|---|---|")
for step in ("export", "export-small-heap", "import", "snapshot", "restore"):
    text = open(os.path.join(work, step + ".time")).read()
    field = lambda name: re.search(re.escape(name) + r": (.*)", text).group(1).strip()
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    if step == "restore":
        name, server = "kv-server restore (no server runs)", "| – | – |"
    else:
        server_cpu = int(open(os.path.join(work, step + ".server-ticks")).read()) / clk_tck
        server_rss = int(open(os.path.join(work, step + ".server-rss")).read()) / 1024
        name = "kv " + ({"export-small-heap": f"export, {small_heap}", "snapshot": "snapshot save"}.get(step, step))
        server = f"| {server_cpu:.1f} s | {server_rss:.0f} MB |"
    print(f"| {name} | {seconds:.1f} s ({keys / seconds:,.0f} keys/s) | {rss:.0f} MB | {cpu:.1f} s {server}")
PY
