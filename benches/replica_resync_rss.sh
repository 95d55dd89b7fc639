#!/usr/bin/env bash
# Memory cost of a full sync on a replica that already holds data.
# usage: benches/replica_resync_rss.sh REPLICA_BIN [N] [value_bytes] [extra replica args...]
#   e.g. flock /tmp/resplica-bench.lock benches/replica_resync_rss.sh target/release/resplica
#        flock /tmp/resplica-bench.lock benches/replica_resync_rss.sh /usr/bin/redis-server
#        flock /tmp/resplica-bench.lock benches/replica_resync_rss.sh /usr/bin/redis-server 1000000 100 --repl-diskless-load swapdb
# Two redis-server masters hold N different keys of value_bytes hex bytes each (ports 7441,
# 7442). REPLICA_BIN (port 7443) full-syncs from the first: its RSS then is the steady figure.
# Its peak-RSS mark is reset (/proc/PID/clear_refs, Linux) and it is re-pointed at the second
# master with REPLICAOF: the peak RSS until the new dataset is in place is the cost of the full
# sync over a live dataset. Prints steady RSS, peak RSS during the resync, their ratio, the RSS
# after it, the resync time and the CPU seconds the replica spent on it (less noisy than the
# wall time on a shared machine; the poll loop's own commands are included, equally for both). Needs redis-server, redis-cli, python3.
set -u
R=${1:?REPLICA_BIN}; N=${2:-1000000}; VB=${3:-100}; shift $(( $# < 3 ? $# : 3 ))
M=${MASTER:-/usr/bin/redis-server}
W=$(mktemp -d /tmp/rss.XXXX); AP=7441; BP=7442; RP=7443
now() { date +%s.%N; }
kib() { awk -v k="$1" '$1 == k":" {print $2}' /proc/"$2"/status; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' /proc/"$1"/stat; } # user+sys seconds
pids=()
for p in $AP $BP; do
  mkdir -p "$W/$p"
  "$M" --port $p --save '' --appendonly no --dir "$W/$p" --repl-diskless-sync-delay 0 >"$W/$p.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do redis-cli -p $p ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  python3 - "$N" "$VB" "$p" <<'EOF' | redis-cli -p "$p" --pipe >/dev/null
import hashlib, sys
n, vb, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
out = sys.stdout.buffer
for i in range(n):
    k = b"%s:%d" % (tag, i)
    # hex digests: LZF barely compresses them, so the RDB transfer is as large as the data
    v = (hashlib.blake2b(k, digest_size=32).hexdigest().encode() * (vb // 64 + 1))[:vb]
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
EOF
done
synced() { # master port, first key
  [ "$(redis-cli -p $RP info replication 2>/dev/null | tr -d '\r' | grep master_link_status: | cut -d: -f2)" = up ] &&
    [ "$(redis-cli -p $RP dbsize 2>/dev/null)" = "$N" ] && [ -n "$(redis-cli -p $RP get "$1:0" 2>/dev/null)" ]
}
mkdir -p "$W/r"
"$R" --port $RP --save '' --appendonly no --dir "$W/r" --replicaof 127.0.0.1 $AP "$@" >"$W/r.log" 2>&1 & RPID=$!
for _ in $(seq 6000); do synced $AP && break; sleep 0.05; done
steady=$(kib VmRSS $RPID)
echo 5 >/proc/$RPID/clear_refs
c0=$(cpu $RPID); t0=$(now)
redis-cli -p $RP replicaof 127.0.0.1 $BP >/dev/null
for _ in $(seq 6000); do synced $BP && break; sleep 0.02; done
t1=$(now); c1=$(cpu $RPID)
peak=$(kib VmHWM $RPID); after=$(kib VmRSS $RPID)
echo "replica $(basename "$R") $*: steady RSS $((steady/1024)) MiB; peak during resync $((peak/1024)) MiB ($(echo "scale=2; $peak / $steady" | bc)x steady); after $((after/1024)) MiB; resync $(echo "$t1 - $t0" | bc) s, replica CPU $(echo "$c1 - $c0" | bc) s; dbsize $(redis-cli -p $RP dbsize)"
kill $RPID "${pids[@]}"; wait $RPID "${pids[@]}" 2>/dev/null
rm -rf "$W"
