#!/usr/bin/env bash
# Runs a server binary with a redis-server replica attached, so ../shared/bench/throughput.sh can
# compare "with one replica" against "none" side by side:
#   SERVER=target/release/resplica ../shared/bench/throughput.sh benches/with_replica.sh target/release/resplica
# SERVER gets every argument throughput.sh passes (--port N ...); the replica listens on N+100
# and is stopped with the server. REPLICA= picks the replica binary (default redis-server).
# REPLICA_CPUS=1 pins the replica to CPU 1; run throughput.sh itself under `taskset -c 0`, and the
# master and the client share CPU 0 in both configurations while the replica has a core of its
# own, as it would on its own machine (on 2 cores it otherwise takes the CPU they need).
set -u
BIN=${SERVER:?SERVER=server binary}
PORT=6379; prev=""
for a in "$@"; do [ "$prev" = "--port" ] && PORT=$a; prev=$a; done
# No diskless-sync delay: the replica is attached ~0.1 s after the master starts, not 5 s into
# the first tests.
"$BIN" "$@" --repl-diskless-sync-delay 0 & SPID=$!
RDIR=$(mktemp -d /tmp/with-replica.XXXX)
trap 'kill $SPID ${RPID:-} 2>/dev/null; wait; rm -rf "$RDIR"' EXIT TERM INT
for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
${REPLICA_CPUS:+taskset -c "$REPLICA_CPUS"} "${REPLICA:-/usr/bin/redis-server}" --port $((PORT + 100)) --save '' --appendonly no --dir "$RDIR" \
  --replicaof 127.0.0.1 "$PORT" >"$RDIR/replica.log" 2>&1 & RPID=$!
wait $SPID
