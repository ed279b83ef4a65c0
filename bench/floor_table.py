#!/usr/bin/env python3
"""floor_table.py DIR -- the table of bench/floor.sh from its results DIR."""
import csv
import os
import re
import statistics
import sys

SERVERS = ["squall", "limit", "nginx", "h2o"]


def cpu(d):
    """{(server, scenario): (median CPU us/request, median req/s)} from run.sh's runs.tsv."""
    rows = {}
    path = os.path.join(d, "cpu", "runs.tsv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            try:
                n, s = float(r["requests"]), float(r["srv_cpu_s"])
            except (ValueError, KeyError):
                continue
            if n > 0:
                rows.setdefault((r["server"], r["scenario"]), []).append((s * 1e6 / n, float(r["rps"])))
    return {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v)) for k, v in rows.items()}


def instr(path, method):
    """{server: per-request value} from an instr.sh instr.tsv."""
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for r in csv.DictReader(f, delimiter="\t"):
                if r["method"] == method and r["per_request"] != "NA":
                    out[r["server"]] = float(r["per_request"])
    return out


def strace_calls(path):
    """{syscall: calls} from `strace -c -U name,calls,errors` output."""
    calls = {}
    if not os.path.exists(path):
        return calls
    for ln in open(path):
        p = ln.split()
        if len(p) >= 2 and p[1].isdigit() and not p[0].startswith("-"):
            calls[p[0]] = int(p[1])
    return calls


def per(calls, n, top=8):
    body = {k: v for k, v in calls.items() if k != "total"}
    items = sorted(body.items(), key=lambda kv: -kv[1])
    return ", ".join("%s %.2f" % (k, v / n) for k, v in items if v / n >= 0.005)[:400]


def main():
    d = sys.argv[1]
    c = cpu(d)
    ir = instr(os.path.join(d, "ir-m16", "instr.tsv"), "callgrind_Ir")
    s1 = instr(os.path.join(d, "sys-m1", "instr.tsv"), "syscalls")
    s16 = instr(os.path.join(d, "sys-m16", "instr.tsv"), "syscalls")
    conn = {}
    for s in SERVERS:
        wrk = os.path.join(d, "conn-%s.wrk.txt" % s)
        if not os.path.exists(wrk):
            continue
        m = re.search(r"(\d+) requests in", open(wrk).read())
        calls = strace_calls(os.path.join(d, "conn-%s.strace.txt" % s))
        if m and calls.get("total"):
            conn[s] = (calls["total"] / int(m.group(1)), per(calls, int(m.group(1))))

    def f(v, fmt="%.2f"):
        return fmt % v if v is not None else "–"

    print("| server | keep-alive CPU µs/req | conn-per-request CPU µs/req | Ir per pipelined request "
          "| syscalls/req keep-alive | syscalls/req pipelined ×16 | syscalls per connection |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in SERVERS:
        a = c.get((s, "a"))
        cc = c.get((s, "c")) if s != "limit" else None
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            s, f(a and a[0]), f(cc and cc[0]), f(ir.get(s), "%.0f"), f(s1.get(s)), f(s16.get(s)),
            f(conn.get(s, (None,))[0])))
    print()
    fl = c.get(("limit", "a"))
    sq = c.get(("squall", "a"))
    if fl and sq:
        print("keep-alive CPU, squall / floor: %.3fx" % (sq[0] / fl[0]))
    best = min((c[(p, "c")][0], p) for p in ("nginx", "h2o") if (p, "c") in c) if any(
        (p, "c") in c for p in ("nginx", "h2o")) else None
    if best and ("squall", "c") in c:
        print("conn-per-request CPU, squall / best peer (%s): %.3fx" % (best[1], c[("squall", "c")][0] / best[0]))
    print()
    print("System calls by name, per request (keep-alive -m 1 / pipelined -m 16) and per connection:")
    print()
    for s in SERVERS:
        for tag, sub in (("keep-alive", "sys-m1"), ("pipelined", "sys-m16")):
            calls = strace_calls(os.path.join(d, sub, s, "strace-summary.txt"))
            h2 = os.path.join(d, sub, s, "h2load-st.txt")
            m = re.search(r"requests: .* (\d+) succeeded", open(h2).read()) if os.path.exists(h2) else None
            if calls and m:
                print("- %s, %s: %s" % (s, tag, per(calls, int(m.group(1)))))
        if s in conn:
            print("- %s, per connection: %s" % (s, conn[s][1]))
    print()
    print("Requests/s (medians, for reference): " + ", ".join(
        "%s a %.0f%s" % (s, c[(s, "a")][1], (" c %.0f" % c[(s, "c")][1]) if (s, "c") in c and s != "limit" else "")
        for s in SERVERS if (s, "a") in c))


if __name__ == "__main__":
    main()
