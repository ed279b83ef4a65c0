#!/usr/bin/env python3
"""The benchmark page's chart, from one bench/page.sh results directory.

Usage: chart.py DIR [-o chart.svg]

One row per language; left, requests/s, right, server CPU microseconds per
request, for keep-alive, pipelined x16 and a connection per request (groups
of bars), squall's servers (warm colours, first) beside the peers (cool
colours); black is the floor, dark grey the C server for scale.  A server
that stalls in a scenario (bjoern, pipelined) has no bar there.  Log scale: the scenarios differ by 100x.  Needs matplotlib
(Debian's python3-matplotlib, or pip); page.sh finds or installs it.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from page_table import GROUPS, SCEN, Page  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SQUALL = ["#d62728", "#ff7f0e", "#e6a000", "#8c564b"]
PEERS = ["#1f77b4", "#17becf", "#2ca02c", "#9467bd", "#7f7f7f", "#bcbd22", "#aec7e8"]
FLOOR = "#000000"
REF = "#555555"  # the C server, for scale, in the bindings' rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("-o", "--out", default="chart.svg")
    args = ap.parse_args()
    p = Page(args.dir)
    groups = [g for g in GROUPS if p.group(g)]
    if not groups:
        sys.exit("chart.py: no servers in " + args.dir)
    plt.rcParams["svg.hashsalt"] = "squall-bench"
    plt.rcParams["svg.fonttype"] = "none"  # text as text: smaller, searchable
    fig, axes = plt.subplots(len(groups), 2, figsize=(15, 3.6 * len(groups)), squeeze=False)
    for row, g in enumerate(groups):
        servers = sorted(p.group(g), key=lambda s: {"squall": 0, "floor": 2, "ref": 2}.get(s[3], 1))
        n = len(servers)
        width = 0.8 / n
        colours, si, pi = [], 0, 0
        for s in servers:
            if s[3] == "squall":
                colours.append(SQUALL[si % len(SQUALL)])
                si += 1
            elif s[3] == "floor":
                colours.append(FLOOR)
            elif s[3] == "ref":
                colours.append(REF)
            else:
                colours.append(PEERS[pi % len(PEERS)])
                pi += 1
        for col, (what, title, fmt) in enumerate(
            (("rps", "requests/s (higher is better)", "{:,.0f}"),
             ("cpu", "server CPU µs per request (lower is better)", "{:.1f}"))
        ):
            ax = axes[row][col]
            vals = getattr(p, what)
            for i, s in enumerate(servers):
                xs, ys = [], []
                for j, (sc, _) in enumerate(SCEN):
                    v = vals.get((s[1], sc))
                    if v and (s[1], sc) not in p.stalled:  # bjoern pipelined: no bar
                        xs.append(j - 0.4 + width * (i + 0.5))
                        ys.append(v)
                bars = ax.bar(xs, ys, width, color=colours[i], label=s[2],
                              edgecolor="black" if s[3] == "squall" else "none", linewidth=0.6)
                for b, y in zip(bars, ys):
                    label = fmt.format(y / 1000) + "k" if what == "rps" else fmt.format(y)
                    ax.annotate(label, (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom",
                                fontsize=6, rotation=90, xytext=(0, 2), textcoords="offset points")
            ax.set_yscale("log")
            ax.margins(y=0.25)
            ax.set_xticks(range(len(SCEN)))
            ax.set_xticklabels([t for _, t in SCEN])
            ax.set_title(f"{GROUPS[g]}: {title}", fontsize=10)
            ax.grid(axis="y", which="major", alpha=0.3)
            if col == 1:
                ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    when = p.meta.get("date", "")
    fig.suptitle(f"squall beside its peers, hello world, one run ({when}; wrk -t1 -c50 on CPU 1, "
                 "each server one loop on CPU 0; medians)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(args.out, metadata={"Date": None})
    print("chart:", args.out)


if __name__ == "__main__":
    main()
