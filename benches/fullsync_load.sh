#!/usr/bin/env bash
# Client latency and master memory during a full sync: a master holding N keys serves a
# redis-benchmark SET load (pipeline 1); p99 is taken once steady, then again while a fresh
# redis-server replica full-syncs from it; the master's peak RSS during the sync is compared
# with its RSS before.
# usage: benches/fullsync_load.sh MASTER_BIN [keys]
#   REQS=0: no client load, RSS sampled until the replica is in sync (the issue's memory figure)
#   REPLICA_CPUS=1 with the script run under `taskset -c 0`: the replica gets CPU 1 to itself and
#   the master and the client share CPU 0, so the loading replica does not take the CPU they
#   need (as on its own machine)
set -u
BIN=${1:?master binary}; N=${2:-1000000}; REQS=${REQS:-2000000}; MP=${MP:-7431}; RP=${RP:-7432}
W=$(mktemp -d /tmp/fullsync-load.XXXX); mkdir -p "$W/m" "$W/r"
"$BIN" --port $MP --save '' --appendonly no --dir "$W/m" --repl-diskless-sync-delay 0 --enable-debug-command yes >"$W/m.log" 2>&1 &
MPID=$!
trap 'kill $MPID ${RPID:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 100); do redis-cli -p $MP ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p $MP debug populate "$N" key 100 >/dev/null
p99() { # requests
  redis-benchmark -p $MP --csv -n "$1" -r "$N" -c 50 -P 1 -t set 2>/dev/null | tail -1 | tr -d '"' | cut -d, -f7
}
if [ "$REQS" -gt 0 ]; then
  # Warm-up: create the benchmark's keys first, so the steady run does not pay for table growth.
  redis-benchmark -p $MP -q -n $((3 * N)) -r "$N" -c 50 -P 32 -t set >/dev/null 2>&1
  steady=$(p99 200000)
  rss_before=$(ps -o rss= -p $MPID)
  redis-benchmark -p $MP --csv -n "$REQS" -r "$N" -c 50 -P 1 -t set 2>/dev/null | tail -1 | tr -d '"' | cut -d, -f7 >"$W/p99" &
  BENCH=$!
  sleep 0.5
else # no client load: sample until the replica is in sync
  steady=-; echo - >"$W/p99"; rss_before=$(ps -o rss= -p $MPID)
  sleep 1000 & BENCH=$!
fi
${REPLICA_CPUS:+taskset -c "$REPLICA_CPUS"} "${REPLICA:-/usr/bin/redis-server}" --port $RP --save '' --appendonly no --dir "$W/r" --replicaof 127.0.0.1 $MP >"$W/r.log" 2>&1 &
RPID=$!
# One monitor process samples the master's RSS and polls the replica over one connection:
# spawning ps, redis-cli, grep and sleep 20 times a second took CPU from the master and the
# client while the p99 was being measured.
read -r peak synced < <(python3 - "$MPID" "$RP" "$BENCH" "$REQS" "$(date +%s.%N)" <<'PY'
import os, socket, sys, time
mpid, rport, bench, reqs = (int(a) for a in sys.argv[1:5])
t0 = float(sys.argv[5])
def rss():
    with open(f"/proc/{mpid}/status") as f:
        return next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
def running(pid):  # an exited child stays a zombie until the script reaps it
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
peak, synced, sock = rss(), None, None
while running(bench):
    peak = max(peak, rss())
    if synced is None:
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", rport))
                replies = sock.makefile("rb")
            sock.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n")
            line = replies.readline()
            if b"master_link_status:up" in replies.read(int(line[1:]) + 2):
                synced = time.time() - t0
                if reqs == 0:
                    os.kill(bench, 15)
        except (OSError, ValueError):
            sock = None
    time.sleep(0.05)
print(peak, "%.3f" % synced if synced is not None else "not-within-the-run")
PY
)
wait $BENCH 2>/dev/null
echo "$(basename "$BIN"): p99 steady ${steady} ms, during a full sync $(cat "$W/p99") ms; master RSS before $((rss_before/1024)) MiB, peak during sync $((peak/1024)) MiB ($(echo "scale=2; $peak / $rss_before" | bc)x); replica synced after ${synced:-not within the run} s"
