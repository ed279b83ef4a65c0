"""Slowloris: 1,000 connections sending a head a byte at a time.

Normal clients (a connection, a GET, a close) are timed without and during
the attack: their p99 during it must stay within 10x of the p99 without it
(the baseline floored at 1 ms: below that, scheduling noise on a shared
machine is the whole figure).  Every attacking connection must be cut by
the header timeout (4 s here), although it never stops sending.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib as sl  # noqa: E402

sl.skip_if_disabled()
ATTACKERS = 1000
SAMPLES = 300
HEADER_TIMEOUT_MS = 4000
sl.raise_nofile(ATTACKERS + 256)

srv = sl.Server(options={5: HEADER_TIMEOUT_MS, 1: 2048})  # header timeout, backlog


def sample(n):
    lat = []
    for _ in range(n):
        t = time.monotonic()
        s = sl.connect(srv.port)
        status, body = sl.get(s)
        s.close()
        assert status == 200 and body == b"ok 0\n"
        lat.append(time.monotonic() - t)
    return lat


try:
    base = sample(SAMPLES)
    socks = [sl.connect(srv.port) for _ in range(ATTACKERS)]
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"a" * 100000
    state = {"closed": 0, "last_close": 0.0, "stop": False, "sent": 0}
    t_attack = time.monotonic()

    def attack():
        open_ = list(range(ATTACKERS))
        pos = 0
        while open_ and not state["stop"]:
            still = []
            for i in open_:
                try:
                    socks[i].send(head[pos:pos + 1])
                    state["sent"] += 1
                    still.append(i)
                except OSError:
                    state["closed"] += 1
                    state["last_close"] = time.monotonic() - t_attack
            open_ = still
            pos += 1
            time.sleep(0.05)  # pacing of the attack, not synchronisation

    th = threading.Thread(target=attack)
    th.start()
    during = sample(SAMPLES)
    th.join(HEADER_TIMEOUT_MS / 1000.0 + 10)
    state["stop"] = True
    th.join()
    p99_base = sl.percentile(base, 99)
    p99_during = sl.percentile(during, 99)
    sl.report("slowloris", attackers=ATTACKERS, bytes_sent_by_attackers=state["sent"],
              p50_base_ms=sl.percentile(base, 50) * 1000, p99_base_ms=p99_base * 1000,
              p50_attack_ms=sl.percentile(during, 50) * 1000, p99_attack_ms=p99_during * 1000,
              ratio=p99_during / max(p99_base, 1e-3), cut=state["closed"],
              last_cut_after_s=state["last_close"])
    assert p99_during <= 10 * max(p99_base, 1e-3), "normal clients slowed more than 10x"
    assert state["closed"] == ATTACKERS, "%d attackers were never cut" % (ATTACKERS - state["closed"])
    assert state["last_close"] <= HEADER_TIMEOUT_MS / 1000.0 + 3.0, "cut late"
    for s in socks:
        s.close()
finally:
    assert srv.stop() == 0
