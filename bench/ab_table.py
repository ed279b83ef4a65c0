#!/usr/bin/env python3
"""The before/after table of one bench/ab.sh results directory.

Usage: ab_table.py [--max-other PCT] [--tolerance PCT] DIR

DIR holds ab-meta.txt, run/ (the shared harness' runs.tsv and mem.tsv, with
every server twice: NAME@before and NAME@after) and, when measured,
instr-before/top.md and instr-after/top.md (bench/profile.sh: callgrind
instructions per request).  The medians come from table.py (same rules,
same --max-other filter).  Prints, per server and scenario, before, after
and after/before, and flags every figure that is worse after by more than
--tolerance % (default 3): rps lower, or a cost (CPU, memory, Ir) higher.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import COLS, f_2, load_run, metrics  # noqa: E402

SERVERS = {  # harness name -> label
    "squall-c": "C hello",
    "go-squall-raw-p1": "Go raw API",
    "go-squall-http-p1": "Go net/http adapter",
    "go-nethttp-p1": "Go net/http (peer, control)",
    "squall-rust": "Rust closure API",
    "squall-axum": "Rust axum adapter",
    "squall-axum-inline": "Rust axum adapter (inline)",
}
# table.py's columns, those that have a before/after meaning here
ROWS = [c for c in COLS if c[0] in ("a", "b", "c", "mem", "cpu_a", "cpu_b", "ir")]


def read_meta(d):
    meta = {}
    path = os.path.join(d, "ab-meta.txt")
    if os.path.exists(path):
        for ln in open(path):
            k, _, v = ln.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def read_ir(d, side):
    path = os.path.join(d, "instr-%s" % side, "top.md")
    if not os.path.exists(path):
        return None
    m = re.search(r"Ir/request ([\d.]+)", open(path).read())
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--max-other", type=float, default=None)
    ap.add_argument("--tolerance", type=float, default=3.0)
    a = ap.parse_args()

    meta = read_meta(a.dir)
    order, runs, mem, _ = load_run(os.path.join(a.dir, "run"), a.max_other)
    ir = {}
    for side in ("before", "after"):
        v = read_ir(a.dir, side)
        if v is not None:
            ir["squall-c@" + side] = v
    M = metrics(order, runs, mem, ir, {})

    bases = []
    for n in order:
        base = n.rsplit("@", 1)[0]
        if base not in bases:
            bases.append(base)
    tol = a.tolerance / 100.0

    print("Before: %s. After: %s." % (meta.get("before_label", "?"), meta.get("after_label", "?")))
    print()
    print("Command: `%s`%s." % (meta.get("command", "bench/ab.sh"),
                                "; runs with foreign CPU > %g %% dropped" % a.max_other
                                if a.max_other is not None else ""))
    print()
    print("| server | scenario | before | after | after/before | |")
    print("|---|---|---:|---:|---:|---|")
    worse = []
    for base in bases:
        b, f = M.get(base + "@before", {}), M.get(base + "@after", {})
        for key, label, fmt, hib in ROWS:
            vb, va = b.get(key), f.get(key)
            if vb is None and va is None:
                continue
            r = va / vb if vb and va is not None else None
            flag = ""
            if r is not None and ((hib and r < 1 - tol) or (not hib and r > 1 + tol)):
                flag = "worse"
                worse.append("%s %s (%.2f)" % (SERVERS.get(base, base), label, r))
            print("| %s | %s | %s | %s | %s | %s |" % (
                SERVERS.get(base, base), label, fmt(vb), fmt(va), f_2(r), flag))
    print()
    print("Ratios: above 1 is better for rps, below 1 for the costs (CPU, bytes, Ir). "
          "Ir / req: callgrind instructions per request, h2load -m 16 (pipelined).")
    if worse:
        print("Worse after by more than %g %%: %s." % (a.tolerance, "; ".join(worse)))
    else:
        print("Nothing worse after by more than %g %%." % a.tolerance)
    print()
    print("Noise (medians for a/b/c; foreign = CPU used by anything else during the run):")
    print()
    print("| server | foreign CPU % a/b/c | wrk CPU % a/b/c | wrk errors |")
    print("|---|---|---|---:|")
    for n in order:
        print("| %s | %s | %s | %d |" % (n, M[n]["oth_pct"], M[n]["wrk_pct"], M[n]["errors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
