#!/usr/bin/env bash
# What metrics cost: Get and Set with h2load on two kv-servers on the memory store, one without
# the admin listener (nothing measured) and one with it (--admin-listen: calls timed into their
# histograms, JVM and process metrics), side by side in alternating rounds, with the CPU per call
# of each from /proc/PID/stat and a scrape of the metered one during each of its measurements, as
# Prometheus would; then both at once, each with its own h2load, so that whatever else runs on the
# machine slows both alike (the throughputs' ratio is then the cost). Prints a Markdown table.
#
# Needs bin/kv-server built (./mvnw -q package -DskipTests), h2load (nghttp2-client), curl and
# python3. Settings: DURATION (per measurement, default 10s), CONCURRENCY (calls in flight,
# default 64), ROUNDS (default 3), PORT_BASE (default 29200).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/h2load-grpc.sh

duration=${DURATION:-10s}
concurrency=${CONCURRENCY:-64}
rounds=${ROUNDS:-3}
port_base=${PORT_BASE:-29200}
for tool in h2load curl python3 java; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
declare -A address=([off]="127.0.0.1:$port_base" [on]="127.0.0.1:$((port_base + 1))")
admin="127.0.0.1:$((port_base + 2))"
bin/kv-server --store memory --listen "${address[off]}" >"$work/off.log" 2>&1 &
pids+=($!)
declare -A pid=([off]=$!)
bin/kv-server --store memory --listen "${address[on]}" --admin-listen "$admin" >"$work/on.log" 2>&1 &
pids+=($!)
pid[on]=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/off.log" && grep -q "listening on" "$work/on.log" && break
  sleep 0.2
done
curl -sf "http://$admin/readyz" >/dev/null || { echo "bench: kv-server did not start" >&2; cat "$work"/*.log >&2; exit 1; }

grpc_requests "$work"

h2() {
  h2load -c 4 -m $((concurrency / 4)) -D "$1" -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "$work/$2.bin" "http://$3/kv.KV/$2"
}
# One measurement: metrics (off | on), call (Get | Set), round; a warm-up second first.
measure() {
  local metrics=$1 call=$2 round=$3 file="$work/$1-$2-$3" before
  echo "bench: metrics $metrics, $call, round $round" >&2
  h2 1 "$call" "${address[$metrics]}" >/dev/null
  before=$(cpu_ticks "${pid[$metrics]}")
  if [ "$metrics" = on ]; then
    (sleep 5; curl -sf -H 'Accept: application/openmetrics-text' "http://$admin/metrics" >/dev/null) &
  fi
  h2 "${duration%s}" "$call" "${address[$metrics]}" >"$file.h2load"
  echo "$(($(cpu_ticks "${pid[$metrics]}") - before))" >"$file.ticks"
}
# Both at once: call (Get | Set), round.
measure_both() {
  local call=$1 round=$2
  echo "bench: both at once, $call, round $round" >&2
  h2 "${duration%s}" "$call" "${address[off]}" >"$work/both-off-$call-$round.h2load" &
  h2 "${duration%s}" "$call" "${address[on]}" >"$work/both-on-$call-$round.h2load"
  wait $!
}
h2 1 Set "${address[off]}" >/dev/null
h2 1 Set "${address[on]}" >/dev/null
for round in $(seq "$rounds"); do
  for call in Get Set; do
    # Which goes first alternates from round to round.
    if ((round % 2)); then order="off on"; else order="on off"; fi
    for metrics in $order; do measure "$metrics" "$call" "$round"; done
    measure_both "$call" "$round"
  done
done

python3 - "$work" "$rounds" "$concurrency" "$duration" "$(getconf CLK_TCK)" <<'PY'
import os, re, statistics, sys
work, rounds, concurrency, duration, tick = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
median = statistics.median
def h2load_rate(path):
    return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", open(path).read()).group(1))
print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {concurrency} calls in flight, {duration} each,"
      f" medians of {rounds} alternating rounds; --store memory; CPU from /proc/PID/stat.\n")
print("| call | metrics | h2load req/s | rounds (req/s) | kv-server CPU µs/call | throughput vs off |")
print("| --- | --- | ---: | --- | ---: | ---: |")
for call in ("Get", "Set"):
    rate = {}
    for metrics in ("off", "on"):
        runs = [f"{work}/{metrics}-{call}-{r}" for r in range(1, rounds + 1)]
        h2 = [open(f"{r}.h2load").read() for r in runs]
        done = [int(re.search(r"(\d+) succeeded", t).group(1)) for t in h2]
        rates = [h2load_rate(f"{r}.h2load") for r in runs]
        ticks = [int(open(f"{r}.ticks").read()) for r in runs]
        cpu = median(t * 1e6 / tick / n for t, n in zip(ticks, done))
        rate[metrics] = median(rates)
        change = "" if metrics == "off" else f"{(rate['on'] / rate['off'] - 1) * 100:+.1f}%"
        print(f"| {call} | {metrics} | {rate[metrics]:,.0f} | {', '.join(f'{r:,.0f}' for r in rates)} "
              f"| {cpu:.1f} | {change} |")
print("\nBoth at once, each with its own h2load:\n")
print("| call | off req/s | on req/s | on vs off, by round | median |")
print("| --- | ---: | ---: | --- | ---: |")
for call in ("Get", "Set"):
    both = {m: [h2load_rate(f"{work}/both-{m}-{call}-{r}.h2load") for r in range(1, rounds + 1)]
            for m in ("off", "on")}
    ratios = [on / off - 1 for on, off in zip(both["on"], both["off"])]
    print(f"| {call} | {median(both['off']):,.0f} | {median(both['on']):,.0f} "
          f"| {', '.join(f'{r * 100:+.1f}%' for r in ratios)} | {median(ratios) * 100:+.1f}% |")
PY
