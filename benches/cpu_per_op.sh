#!/usr/bin/env bash
# Server CPU time per request, two servers side by side: a steadier figure than ops/s on a shared
# 2-core machine, where the benchmark client and other jobs compete with the server for the CPU.
#   benches/cpu_per_op.sh target/release/resplica /usr/bin/redis-server [tests] [pipeline] [requests] [rounds]
# For each round and test, redis-benchmark (50 clients, random members over 100k, as
# ../shared/bench/throughput.sh runs it) is pointed at A then B, and the server's utime+stime
# from /proc/<pid>/stat before and after gives microseconds per request (resolution: one clock
# tick, 10 ms, over the whole run). spop runs after an sadd fill, zpopmin after zadd, lpop/rpop
# after lpush, as in redis-benchmark's own order. Prints medians and the ratios B/A (CPU, >1
# means A is cheaper) and A/B (ops/s). Uses ports 7441/7442; stops only what it started.
set -u
A=${1:?A_BIN}; B=${2:?B_BIN}; TESTS=${3:-hset,sadd,spop,zadd,zpopmin}; P=${4:-32}; N=${5:-200000}
R=${6:-3}
W=$(mktemp -d /tmp/cpu-per-op.XXXX)
"$A" --port 7441 --save '' --appendonly no --dir "$W" >/dev/null 2>&1 & PA=$!
"$B" --port 7442 --save '' --appendonly no --dir "$W" >/dev/null 2>&1 & PB=$!
trap 'kill $PA $PB 2>/dev/null; wait; rm -rf "$W"' EXIT TERM INT
for port in 7441 7442; do
  for _ in $(seq 100); do redis-cli -p $port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
done
tck=$(getconf CLK_TCK)
cpu_us() { awk -v t="$tck" '{print ($14 + $15) * 1000000 / t}' "/proc/$1/stat"; }
for r in $(seq "$R"); do
  for t in ${TESTS//,/ }; do
    for side in A B; do
      if [ $side = A ]; then port=7441; pid=$PA; else port=7442; pid=$PB; fi
      redis-cli -p $port flushall >/dev/null
      case $t in spop) pre=sadd ;; zpopmin) pre=zadd ;; lpop|rpop) pre=lpush ;; *) pre="" ;; esac
      [ -n "$pre" ] && redis-benchmark -p $port -q -n "$N" -r 100000 -c 50 -P "$P" -t $pre >/dev/null 2>&1
      c0=$(cpu_us $pid)
      rps=$(redis-benchmark -p $port -q --csv -n "$N" -r 100000 -c 50 -P "$P" -t "$t" 2>/dev/null \
        | tail -1 | cut -d, -f2 | tr -d '"')
      c1=$(cpu_us $pid)
      echo "$r $t $side $(echo "($c1 - $c0) / $N" | bc -l) $rps"
    done
  done
done >"$W/raw"
python3 - "$W/raw" "$P" <<'PY'
import sys, statistics as st, collections
d = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    r, t, side, us, rps = line.split()
    d[t][side].append((float(us), float(rps)))
print(f"pipeline {sys.argv[2]}")
print(f"{'test':<10}{'A us/op':>9}{'B us/op':>9}{'B/A cpu':>9}{'A/B rps':>9}")
for t, v in d.items():
    a = st.median(x[0] for x in v['A']); b = st.median(x[0] for x in v['B'])
    rr = st.median(x[1] / y[1] for x, y in zip(v['A'], v['B']))
    print(f"{t:<10}{a:>9.3f}{b:>9.3f}{b / a:>9.2f}{rr:>9.2f}")
PY
