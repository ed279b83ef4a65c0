#!/usr/bin/env python3
"""Markdown table of one bench/scale/run.sh results directory.

    bench/scale/table.py RESULTS_DIR

Per scenario and server: median requests/s and its ratio to squall-1loop,
median server CPU per request (us; utime+stime of the process tree over
wrk's request count) and its ratio to squall-1loop (bar: squall with 2
loops <= 1.1x), and for squall the share of requests each loop / process
served: the smallest share seen in any run (bar: >= 40% with 2 workers)
and the median over runs of the smallest share.
"""
import csv
import statistics
import sys
from collections import defaultdict

SCEN = {"a": "keep-alive", "c": "connection per request"}


def main(d):
    rows = defaultdict(list)
    order = []
    with open(f"{d}/runs.tsv") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            key = (r["scenario"], r["server"])
            if key not in rows:
                order.append(key)
            rows[key].append(r)
    out = []
    for sc in sorted({k[0] for k in order}):
        base = rows.get((sc, "squall-1loop"))
        med = {}
        for k in order:
            if k[0] != sc:
                continue
            rs = rows[k]
            rps = statistics.median(float(r["rps"]) for r in rs)
            cpu = statistics.median(
                int(r["cpu_ticks"]) / int(r["clk_tck"]) * 1e6 / max(1, int(r["requests"])) for r in rs)
            med[k[1]] = (rps, cpu)
        b = med.get("squall-1loop")
        out.append(f"\n**{SCEN.get(sc, sc)}** ({sc}), {len(base or [])} runs, medians\n")
        out.append("| server | requests/s | vs squall 1 loop | server CPU us/request | vs squall 1 loop "
                   "| errors | min share (worst run / median) |")
        out.append("|---|---:|---:|---:|---:|---:|---|")
        for k in order:
            if k[0] != sc:
                continue
            rps, cpu = med[k[1]]
            errs = sum(int(r["errors"]) for r in rows[k])
            mins = []
            for r in rows[k]:
                if r["shares"] in ("", "-"):
                    continue
                counts = [int(x.split(":")[1]) for x in r["shares"].split(",")]
                if len(counts) > 1:
                    mins.append(min(counts) / max(1, sum(counts)))
            share = f"{min(mins):.1%} / {statistics.median(mins):.1%}" if mins else "-"
            rr = f"{rps / b[0]:.2f}" if b else "-"
            cr = f"{cpu / b[1]:.2f}" if b else "-"
            out.append(f"| {k[1]} | {rps:,.0f} | {rr} | {cpu:.1f} | {cr} | {errs} | {share} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
