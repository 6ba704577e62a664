# Sourced by the benchmarks that call kv.KV with h2load.

# grpc_requests DIR: GetRequest and SetRequest of bench/1 (the key kv bench writes first), with a
# 100-byte value as kv bench's, each after gRPC's 5-byte frame header, in DIR/Get.bin and
# DIR/Set.bin, for h2load -d.
grpc_requests() {
  python3 - "$1" <<'PY'
import sys
def field(number, data): return bytes([number << 3 | 2, len(data)]) + data
def frame(message): return b"\0" + len(message).to_bytes(4, "big") + message
for name, message in {"Get": field(1, b"bench/1"),
                      "Set": field(1, b"bench/1") + field(2, b"v" * 100)}.items():
    open(f"{sys.argv[1]}/{name}.bin", "wb").write(frame(message))
PY
}

# cpu_ticks PID: the CPU time PID has used, user and system, in clock ticks (getconf CLK_TCK).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

