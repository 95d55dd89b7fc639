#!/usr/bin/env bash
# Replication lag of a replica under a sustained write load on a redis-server master.
# usage: benches/replica_lag.sh REPLICA_BIN [seconds] [pipeline] [clients]
#   e.g. flock /tmp/resplica-bench.lock benches/replica_lag.sh target/release/resplica 20
#        flock /tmp/resplica-bench.lock benches/replica_lag.sh /usr/bin/redis-server 20
# A redis-server master (port 7431) gets `redis-benchmark -t set -d 100 -r 1000000` (50 clients by
# default, pipeline 1 by default) for the whole run; REPLICA_BIN (port 7432) replicates it. Every
# 20 ms a probe SETs `lagprobe` to a sequence number on the master and, from the moment the master
# answered +OK, polls the replica (every 0.5 ms) until it reads that number: that interval is the
# lag. Prints the probe lag percentiles (ms), the master's write rate, the largest gap between
# master_repl_offset and the replica's acknowledged offset sampled on the master, and the CPU time
# the replica spent per MiB of stream (user+sys, until it has applied everything; steadier than the
# lag on a shared machine).
# Needs redis-server, redis-cli, redis-benchmark, python3. Stops only what it started.
set -u
R=${1:?REPLICA_BIN}; SECS=${2:-20}; P=${3:-1}; C=${4:-50}
M=${MASTER:-/usr/bin/redis-server}
W=$(mktemp -d /tmp/lag.XXXX); MP=7431; RP=7432
mkdir -p "$W/m" "$W/r"
"$M" --port $MP --save '' --appendonly no --dir "$W/m" --repl-diskless-sync-delay 0 >"$W/m.log" 2>&1 & MPID=$!
for _ in $(seq 100); do redis-cli -p $MP ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
"$R" --port $RP --save '' --appendonly no --dir "$W/r" --replicaof 127.0.0.1 $MP >"$W/r.log" 2>&1 & RPID=$!
for _ in $(seq 300); do
  [ "$(redis-cli -p $RP info replication 2>/dev/null | tr -d '\r' | grep master_link_status: | cut -d: -f2)" = up ] && break
  sleep 0.1
done
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' /proc/"$1"/stat; } # user+sys seconds
off() { redis-cli -p $MP info replication | tr -d '\r' | grep master_repl_offset: | cut -d: -f2; }
c0=$(cpu $RPID); o0=$(off)
timeout "$SECS" redis-benchmark -p $MP -t set -d 100 -r 1000000 -n 2000000000 -c "$C" -P "$P" -q >"$W/bench.txt" 2>&1 & BPID=$!
python3 - "$MP" "$RP" "$SECS" <<'EOF'
import socket, sys, time
mp, rp, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()
    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def reply(self):
        l = self.line()
        if l[:1] == b"$":
            n = int(l[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(65536)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if l[:1] == b"-":
            raise RuntimeError(l.decode())
        return l[1:]

m, r, info = Conn(mp), Conn(rp), Conn(mp)
time.sleep(1.0)  # let the load ramp up
lags, gaps, probes = [], [], 0
end = time.time() + secs - 2.0
w0 = int(dict(l.split(":", 1) for l in info.cmd("INFO", "stats").decode().split("\r\n") if ":" in l)["total_commands_processed"])
t_start = time.time()
while time.time() < end:
    probes += 1
    m.cmd("SET", "lagprobe", probes)
    t_ok = time.perf_counter()
    while True:
        v = r.cmd("GET", "lagprobe")
        if v is not None and int(v) >= probes:
            break
        if time.perf_counter() - t_ok > 10:
            print("probe %d: replica did not catch up within 10 s" % probes)
            break
        time.sleep(0.0005)
    lags.append((time.perf_counter() - t_ok) * 1000)
    # master_repl_offset vs the replica's last ACK, as the master sees them
    rep = info.cmd("INFO", "replication").decode()
    f = dict(l.split(":", 1) for l in rep.split("\r\n") if ":" in l)
    moff = int(f["master_repl_offset"])
    s0 = f.get("slave0", "")
    ack = int(dict(kv.split("=") for kv in s0.split(",")).get("offset", moff)) if s0 else moff
    gaps.append(moff - ack)
    time.sleep(0.02)
elapsed = time.time() - t_start
w1 = int(dict(l.split(":", 1) for l in info.cmd("INFO", "stats").decode().split("\r\n") if ":" in l)["total_commands_processed"])
lags.sort()
pct = lambda p: lags[min(len(lags) - 1, int(len(lags) * p))]
print("probes %d  lag ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (%.0f%% under 100 ms)" % (
    len(lags), pct(0.5), pct(0.9), pct(0.99), lags[-1], 100.0 * sum(1 for x in lags if x < 100) / len(lags)))
print("master writes/s during probes: %.0f; master offset - replica ACK: max %d bytes (ACKs are sent once a second)" % (
    (w1 - w0) / elapsed, max(gaps)))
EOF
wait $BPID 2>/dev/null
o1=$(off)
for _ in $(seq 3000); do # until the replica has applied everything
  [ "$(redis-cli -p $RP info replication | tr -d '\r' | grep '^slave_repl_offset:' | cut -d: -f2)" = "$o1" ] && break; sleep 0.02
done
c1=$(cpu $RPID)
echo "replica CPU per MiB of replication stream: $(echo "scale=2; ($c1 - $c0) * 1000 * 1048576 / ($o1 - $o0)" | bc) ms ($(( (o1 - o0) / 1048576 )) MiB)"
echo "replica $(basename "$R"): link $(redis-cli -p $RP info replication | tr -d '\r' | grep master_link_status:), full syncs on master $(redis-cli -p $MP info stats | tr -d '\r' | grep sync_full:)"
kill $RPID $MPID; wait $RPID $MPID 2>/dev/null
rm -rf "$W"
