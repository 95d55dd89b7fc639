#!/usr/bin/env bash
# SET throughput while BGSAVEs run back to back, against the same server's throughput with no
# save running just before and just after (the "no client stalls during a snapshot" figure),
# plus the saves completed. A first unmeasured run creates the benchmark's keys.
# usage: benches/bgsave_load.sh SERVER_BIN [keys] [requests]
#   e.g. benches/bgsave_load.sh target/release/resplica; benches/bgsave_load.sh /usr/bin/redis-server
set -u
BIN=${1:?server binary}; N=${2:-1000000}; R=${3:-3000000}; PORT=${PORT:-7421}
W=$(mktemp -d /tmp/bgsave-load.XXXX)
"$BIN" --port "$PORT" --save '' --appendonly no --dir "$W" --enable-debug-command yes >"$W/log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$PORT" debug populate "$N" key 100 >/dev/null
bench() {
  redis-benchmark -p "$PORT" -q --csv -n "$R" -r "$N" -c 50 -P 16 -t set 2>/dev/null | tail -1 | tr -d '"' | cut -d, -f2
}
bench >/dev/null # warm-up: creates the benchmark's keys, so every measured run sees the same table
idle1=$(bench)
# The save loop keeps one connection: spawning redis-cli and grep 20 times a second took ~7% of
# the machine's CPU, a tax on whichever server was measured.
python3 - "$PORT" "$W/stop" >"$W/saves" <<'PY' &
import os, socket, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
replies = sock.makefile("rb")
def call(*args):
    sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    line = replies.readline()
    return replies.read(int(line[1:]) + 2) if line[:1] == b"$" else line
saves = 0
while not os.path.exists(sys.argv[2]):
    call(b"BGSAVE")
    while b"rdb_bgsave_in_progress:1" in call(b"INFO", b"persistence"):
        time.sleep(0.05)
    saves += 1
print(saves)
PY
LOOP=$!
busy=$(bench)
touch "$W/stop"; wait $LOOP
idle2=$(bench)
idle=$(echo "($idle1 + $idle2) / 2" | bc)
grep -ho "success.*" "$W/log" | tr "\n" " "; echo
echo "$(basename "$BIN"): SET -P 16 ops/s without save $idle ($idle1 before, $idle2 after), during BGSAVEs $busy, ratio $(echo "scale=3; $busy / $idle" | bc), saves completed $(cat "$W/saves")"
