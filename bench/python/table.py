#!/usr/bin/env python3
"""The Python table of bench/README.md from one bench/python/run.sh results
directory: per server, medians over the runs of rps and server CPU
microseconds per request for scenarios a (keep-alive) and b (pipelined x16),
the Python layer's own cost (CPU us/request minus squall-c's, the C hello
server measured in the same run), the other-CPU load during the runs, and a
bar chart of keep-alive and pipelined rps.

Usage: table.py DIR
"""
import csv
import statistics
import sys


def main(path: str) -> None:
    rows = list(csv.DictReader(open(f"{path}/runs.tsv"), delimiter="\t"))
    order, data = [], {}
    for r in rows:
        s = r["server"]
        if s not in data:
            order.append(s)
            data[s] = {}
        d = data[s].setdefault(r["scenario"], {"rps": [], "us": [], "other": []})
        rps = float(r["rps"] or 0)
        reqs = float(r["requests"] or 0)
        d["rps"].append(rps)
        d["us"].append(float(r["srv_cpu_s"]) * 1e6 / reqs if reqs else float("nan"))
        d["other"].append(float(r["other_cpu_pct"] or 0))

    def med(s, sc, k):
        v = data[s].get(sc, {}).get(k)
        return statistics.median(v) if v else float("nan")

    floor_a, floor_b = med("squall-c", "a", "us"), med("squall-c", "b", "us")
    print("| server | a: keep-alive rps | b: pipelined x16 rps | CPU us/req a / b "
          "| Python's own us/req a / b | other CPU % (median) |")
    print("|---|---:|---:|---|---|---:|")
    for s in order:
        a_us, b_us = med(s, "a", "us"), med(s, "b", "us")
        own = "—" if s == "squall-c" else f"{a_us - floor_a:.1f} / {b_us - floor_b:.1f}"
        other = statistics.median(data[s].get("a", {"other": [0]})["other"] +
                                  data[s].get("b", {"other": [0]})["other"])
        print(f"| {s} | {med(s, 'a', 'rps'):,.0f} | {med(s, 'b', 'rps'):,.0f} | "
              f"{a_us:.1f} / {b_us:.1f} | {own} | {other:.0f} |")
    print()
    print("```")
    top = max(max(med(s, "a", "rps"), med(s, "b", "rps")) for s in order)
    for sc, label in (("a", "keep-alive"), ("b", "pipelined x16")):
        print(f"{label} (rps, median)")
        for s in order:
            v = med(s, sc, "rps")
            print(f"  {s:<15} {'#' * max(1, round(50 * v / top)):<50} {v:>9,.0f}")
    print("```")


if __name__ == "__main__":
    main(sys.argv[1])
