#!/usr/bin/env python3
"""A client that follows Sentinel, driven by tests/sentinel.rs.

Usage: sentinel_client.py <master-name> <sentinel-port>...

Writes w:0, w:1, ... through redis-py's Sentinel(...).master_for(name), each followed by
WAIT 1 500. For every write WAIT confirmed it prints "acked <i> <master-port>"; failures print
"error <what>" and the same key is tried again (through a fresh lookup of the master). After 30
acknowledged writes on a master other than the first one it prints "done" and exits 0; after
90 s without that it exits 1.
"""

import sys
import time

from redis.exceptions import ConnectionError, ReadOnlyError, ResponseError, TimeoutError
from redis.sentinel import MasterNotFoundError, Sentinel


def main():
    name = sys.argv[1]
    sentinels = [("127.0.0.1", int(p)) for p in sys.argv[2:]]
    sentinel = Sentinel(sentinels, socket_timeout=0.5, socket_connect_timeout=0.5)
    master = sentinel.master_for(name, socket_timeout=1.0, socket_connect_timeout=0.5)
    first = None
    after = 0
    i = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            master.set(f"w:{i}", i)
            replicas = master.execute_command("WAIT", 1, 500)
            port = int(master.config_get("port")["port"])
        except (ConnectionError, TimeoutError, ReadOnlyError, ResponseError,
                MasterNotFoundError) as e:
            print(f"error {type(e).__name__}: {e}", flush=True)
            time.sleep(0.05)
            continue
        if first is None:
            first = port
        if replicas >= 1:
            print(f"acked {i} {port}", flush=True)
            if port != first:
                after += 1
                if after >= 30:
                    print("done", flush=True)
                    return 0
        i += 1
    print("timeout", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
