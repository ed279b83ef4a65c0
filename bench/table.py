#!/usr/bin/env python3
"""The squall benchmark table: one run.sh results directory (scenarios a-e,
all servers measured in the same run) plus any number of instr.sh
directories (Ir/request, syscalls/request), as markdown.

Usage: table.py --run DIR [--instr DIR ...] [--squall NAME] [--baseline NAME]
                [--max-other PCT]

--max-other PCT drops the wrk runs during which the rest of the machine used
more than PCT % of a CPU (the harness records it per run as other_cpu_pct),
unless that would drop every run of a scenario (then all are kept and the
cell is marked with *).  The machine is shared; this keeps the medians to
the runs that had the two CPUs to themselves.

Prints
  * the table: per server, the medians over the runs of rps (a, b, c),
    p50/p99 of (a), bytes per idle connection (e), server CPU us/request
    (a and b), Ir/request and syscalls/request;
  * ratios of squall (default server name "squall") to evhttp (default
    "libevent") and to the best peer per column (best = highest rps, lowest
    cost; peers = every server but squall* and the "limit" floor);
  * the issue-3 bars: a and b rps >= evhttp's, idle memory <= 4 KiB/conn.
"""
import argparse
import csv
import os
import statistics
import sys

NOT_PEERS = ("limit",)


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_run(d, max_other=None):
    order, runs, mem = [], {}, {}
    for row in read_tsv(os.path.join(d, "runs.tsv")):
        n = row["server"]
        if n not in order:
            order.append(n)
        runs.setdefault(n, {}).setdefault(row["scenario"], []).append(row)
    dropped = {}
    if max_other is not None:
        for n, sc in runs.items():
            for scen, rows in sc.items():
                keep = [r for r in rows if num(r.get("other_cpu_pct")) is not None
                        and num(r["other_cpu_pct"]) <= max_other]
                if keep:
                    dropped[(n, scen)] = len(rows) - len(keep)
                    sc[scen] = keep
                else:
                    dropped[(n, scen)] = -1  # nothing clean: all kept, marked
    for row in read_tsv(os.path.join(d, "mem.tsv")):
        if row["server"] not in order:
            order.append(row["server"])
        mem[row["server"]] = row
    return order, runs, mem, dropped


def load_instr(dirs):
    ir, sc = {}, {}
    for d in dirs:
        for row in read_tsv(os.path.join(d, "instr.tsv")):
            v = num(row.get("per_request"))
            if v is None:
                continue
            (ir if row["method"] == "callgrind_Ir" else sc)[row["server"]] = v
    return ir, sc


def metrics(order, runs, mem, ir, sc):
    out = {}
    for n in order:
        s = runs.get(n, {})

        def m(scen, col):
            return med([num(r.get(col)) for r in s.get(scen, [])])

        def cpu(scen):
            return med([num(r["srv_cpu_s"]) / num(r["requests"]) * 1e6 for r in s.get(scen, [])
                        if num(r.get("srv_cpu_s")) is not None and num(r.get("requests"))])

        mr = mem.get(n, {})
        out[n] = {
            "a": m("a", "rps"), "b": m("b", "rps"), "c": m("c", "rps"),
            "p50": m("a", "p50_us"), "p99": m("a", "p99_us"),
            "mem": num(mr.get("bytes_per_conn")),
            "mem_ok": mr.get("idle_ok"), "mem_fail": mr.get("idle_fail"),
            "cpu_a": cpu("a"), "cpu_b": cpu("b"),
            "ir": ir.get(n), "sc": sc.get(n),
            "srv_pct": "/".join(f(m(x, "srv_cpu_pct")) for x in "abc" for f in [pct]),
            "wrk_pct": "/".join(f(m(x, "wrk_cpu_pct")) for x in "abc" for f in [pct]),
            "oth_pct": "/".join(f(m(x, "other_cpu_pct")) for x in "abc" for f in [pct]),
            "errors": sum(int(num(r.get(k)) or 0) for x in s.values() for r in x
                          for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout")),
        }
    return out


def pct(v):
    return "n/a" if v is None else "%.0f" % v


def f_int(v):
    return "n/a" if v is None else "{:,.0f}".format(v)


def f_ms(v):
    return "n/a" if v is None else "%.2f" % (v / 1000.0)


def f_1(v):
    return "n/a" if v is None else "%.1f" % v


def f_2(v):
    return "n/a" if v is None else "%.2f" % v


COLS = [  # key, header, formatter, higher is better
    ("a", "a: keep-alive rps", f_int, True),
    ("b", "b: pipelined x16 rps", f_int, True),
    ("c", "c: conn-close rps", f_int, True),
    ("p50", "d: p50 ms", f_ms, False),
    ("p99", "d: p99 ms", f_ms, False),
    ("mem", "e: bytes / idle conn", f_int, False),
    ("cpu_a", "CPU us/req (a)", f_1, False),
    ("cpu_b", "CPU us/req (b)", f_2, False),
    ("ir", "Ir / req", f_int, False),
    ("sc", "syscalls / req", f_2, False),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--instr", action="append", default=[])
    ap.add_argument("--squall", default="squall")
    ap.add_argument("--baseline", default="libevent")
    ap.add_argument("--max-other", type=float, default=None)
    a = ap.parse_args()

    order, runs, mem, dropped = load_run(a.run, a.max_other)
    ir, sc = load_instr(a.instr)
    for n in list(ir) + list(sc):
        if n not in order:
            order.append(n)
    M = metrics(order, runs, mem, ir, sc)

    # squall rows first, then the peers in run order, the floor last
    ours = [n for n in order if n.startswith("squall")]
    floor = [n for n in order if n in NOT_PEERS]
    peers = [n for n in order if n not in ours and n not in floor]
    rows = ours + peers + floor

    print("| server | " + " | ".join(h for _, h, _, _ in COLS) + " |")
    print("|---|" + "---:|" * len(COLS))
    for n in rows:
        label = "**%s**" % n if n == a.squall else n
        if n in floor:
            label += " (floor, not HTTP)"
        cells = []
        for k, _, fmt, _ in COLS:
            c = fmt(M[n][k])
            scen = {"a": "a", "b": "b", "c": "c", "p50": "a", "p99": "a", "cpu_a": "a", "cpu_b": "b"}.get(k)
            if scen and dropped.get((n, scen)) == -1:
                c += "*"
            cells.append(c)
        print("| %s | %s |" % (label, " | ".join(cells)))
    if a.max_other is not None:
        nd = sum(v for v in dropped.values() if v > 0)
        star = [k for k, v in dropped.items() if v == -1]
        print()
        print("Medians over the runs with foreign CPU <= %g %%: %d run(s) dropped%s." % (
            a.max_other, nd, "; * = no clean run, all runs kept: %s" % ", ".join("%s %s" % k for k in star) if star else ""))
        print()
        print("| server | runs kept a / b / c |")
        print("|---|---|")
        for n in rows:
            print("| %s | %s |" % (n, " / ".join(
                "%d of %d" % (len(runs.get(n, {}).get(x, [])) if dropped.get((n, x)) != -1 else 0,
                              len(runs.get(n, {}).get(x, [])) + max(dropped.get((n, x), 0), 0))
                for x in "abc")))
    print()
    print("Server, wrk and foreign CPU % (medians for a/b/c; foreign = CPU used by anything else on the machine during the run), errors summed over all wrk runs:")
    print()
    print("| server | server CPU % a/b/c | wrk CPU % a/b/c | foreign CPU % a/b/c | wrk errors |")
    print("|---|---|---|---|---:|")
    for n in rows:
        print("| %s | %s | %s | %s | %d |" % (n, M[n]["srv_pct"], M[n]["wrk_pct"], M[n]["oth_pct"], M[n]["errors"]))
    print()

    q = M.get(a.squall)
    if not q:
        print("(no row for %s)" % a.squall)
        return 0
    base = M.get(a.baseline)

    def best(k, hib):
        vals = [(M[p][k], p) for p in peers if M[p][k] is not None]
        if not vals:
            return None, None
        return (max if hib else min)(vals)

    def ratio(x, y):
        return None if x is None or y is None or y == 0 else x / y

    print("Ratios (squall / other; above 1 is better for rps, below 1 is better for the costs):")
    print()
    print("| column | squall | %s | squall / %s | best peer | squall / best peer |" % (a.baseline, a.baseline))
    print("|---|---:|---:|---:|---|---:|")
    for k, h, fmt, hib in COLS:
        bv, bn = best(k, hib)
        r1 = ratio(q[k], base[k] if base else None)
        r2 = ratio(q[k], bv)
        print("| %s | %s | %s | %s | %s | %s |" % (
            h, fmt(q[k]), fmt(base[k]) if base else "n/a", f_2(r1),
            "n/a" if bn is None else "%s (%s)" % (bn, fmt(bv)), f_2(r2)))
    print()

    def bar(ok):
        return "n/a" if ok is None else ("**met**" if ok else "**missed**")

    ka = None if q["a"] is None or not base or base["a"] is None else q["a"] >= base["a"]
    kb = None if q["b"] is None or not base or base["b"] is None else q["b"] >= base["b"]
    km = None if q["mem"] is None else q["mem"] <= 4096
    print("Bars (issue 3):")
    print()
    print("* keep-alive (a) >= evhttp: %s (%s vs %s req/s)" % (bar(ka), f_int(q["a"]), f_int(base and base["a"])))
    print("* pipelined (b) >= evhttp: %s (%s vs %s req/s)" % (bar(kb), f_int(q["b"]), f_int(base and base["b"])))
    print("* 10,000 idle keep-alive connections <= 4 KiB each: %s (%s bytes/conn, %s ok, %s failed)" % (
        bar(km), f_int(q["mem"]), q["mem_ok"] or "n/a", q["mem_fail"] or "n/a"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
