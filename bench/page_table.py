#!/usr/bin/env python3
"""The benchmark page's tables, from one bench/page.sh results directory.

Usage: page_table.py DIR                      the tables as markdown (stdout)
       page_table.py --readme README.md DIR   replace the generated blocks of
                                              README.md with them

DIR holds servers.tsv (group, name, label, role, command; written by
page.sh), run/runs.tsv and run/mem.tsv (the shared harness), instr-m16/top.md
(profile.sh) and meta.txt.  Per server and scenario the medians over the
runs of requests/s and of server CPU per request (the server's utime+stime
over the wrk run, from /proc, divided by the requests wrk counted); for
squall's servers the ratio to the best peer of their language (highest
req/s, lowest CPU).  The blocks are named meta, bars, one per language and
idle (scenario e); in README.md each sits between the lines <!-- page:NAME --> and
<!-- /page:NAME -->.
"""
import argparse
import csv
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import med, num  # noqa: E402

REF_C = ("python", "node", "lua")  # tables with the C server as a reference row
STALL_RPS = 1000  # below this many req/s a server has stalled, not served
SCEN = (("a", "keep-alive"), ("b", "pipelined x16"), ("c", "conn. per request"))
GROUPS = {
    "c": "C core",
    "go": "Go (GOMAXPROCS=1)",
    "rust": "Rust (one thread)",
    "python": "Python (one process)",
    "node": "Node.js",
    "lua": "Lua",
}


def read_tsv(path, header=True):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        if header:
            return list(csv.DictReader(f, delimiter="\t"))
        return [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]


class Page:
    def __init__(self, d):
        self.dir = d
        self.servers = []  # (group, name, label, role)
        for row in read_tsv(os.path.join(d, "servers.tsv"), header=False):
            self.servers.append(tuple(row[:4]))
        self.rps, self.cpu, self.other = {}, {}, {}
        acc = {}
        for row in read_tsv(os.path.join(d, "run", "runs.tsv")):
            key = (row["server"], row["scenario"])
            req, cpu = num(row["requests"]), num(row["srv_cpu_s"])
            a = acc.setdefault(key, ([], [], []))
            a[0].append(num(row["rps"]))
            a[1].append(cpu * 1e6 / req if req and cpu is not None else None)
            a[2].append(num(row["other_cpu_pct"]))
        self.stalled = set()
        for key, (r, c, o) in acc.items():
            self.rps[key], self.cpu[key], self.other[key] = med(r), med(c), med(o)
            # A server that stalls (bjoern, pipelined: it answers the first
            # request of a write) has no meaningful CPU per request and is
            # no one's best peer there.
            if self.rps[key] is not None and self.rps[key] < STALL_RPS:
                self.stalled.add(key)
                self.cpu[key] = None
        self.mem = {}
        for row in read_tsv(os.path.join(d, "run", "mem.tsv")):
            self.mem[row["server"]] = num(row["bytes_per_conn"])
        self.ir = None
        top = os.path.join(d, "instr-m16", "top.md")
        if os.path.exists(top):
            m = re.search(r"Ir/request (\d+)", open(top).read())
            self.ir = int(m.group(1)) if m else None
        self.meta = {}
        for ln in open(os.path.join(d, "meta.txt")) if os.path.exists(os.path.join(d, "meta.txt")) else []:
            k, _, v = ln.partition(": ")
            self.meta[k.strip()] = v.strip()
        self.missing = read_tsv(os.path.join(d, "missing.tsv"), header=False)

    def group(self, g):
        rows = [s for s in self.servers if s[0] == g]
        # the bindings' tables show the C hello server for scale (role ref:
        # no ratios, no one's peer)
        c = next((s for s in self.servers if s[1] == "squall-c"), None)
        if rows and g in REF_C and c:
            rows.append((g, c[1], c[2] + ", for scale", "ref"))
        return rows

    def label(self, name):
        return next((s[2] for s in self.servers if s[1] == name), name)

    def best_peer(self, g, scen, what):
        vals = [(getattr(self, what).get((s[1], scen)), s[1]) for s in self.group(g)
                if s[3] == "peer" and (s[1], scen) not in self.stalled]
        vals = [v for v in vals if v[0] is not None]
        if not vals:
            return None, None
        return (max if what == "rps" else min)(vals)


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_cpu(v):
    return "–" if v is None else f"{v:.1f}" if v >= 1 else f"{v:.2f}"


def fmt_x(v):
    return "–" if v is None else f"{v:.2f}x"


def ratio(a, b):
    return a / b if a is not None and b else None


def group_table(p, g):
    rows = p.group(g)
    if not rows:
        return None
    out = []
    out.append("| server | " + " | ".join(f"{t} req/s" for _, t in SCEN) + " | "
               + " | ".join(f"CPU µs/req {s}" for s, _ in SCEN) + " | req/s ÷ best peer a / b / c | "
               "CPU ÷ best peer a / b / c | other CPU % |")
    out.append("|---|" + "---:|" * 6 + "---|---|---:|")
    for grp, name, label, role in rows:
        cells = [f"**{label}**" if role == "squall" else label]
        cells += [fmt_int(p.rps.get((name, s))) + (" (stalls)" if (name, s) in p.stalled else "")
                  for s, _ in SCEN]
        cells += [fmt_cpu(p.cpu.get((name, s))) for s, _ in SCEN]
        if role == "squall":
            cells.append(" / ".join(fmt_x(ratio(p.rps.get((name, s)), p.best_peer(g, s, "rps")[0])) for s, _ in SCEN))
            cells.append(" / ".join(fmt_x(ratio(p.cpu.get((name, s)), p.best_peer(g, s, "cpu")[0])) for s, _ in SCEN))
        else:
            cells += ["", ""]
        others = [p.other.get((name, s)) for s, _ in SCEN]
        cells.append(fmt_int(med(others)))
        out.append("| " + " | ".join(cells) + " |")
    best, names = [], set()
    for s, t in SCEN:
        rn, cn = p.best_peer(g, s, "rps")[1], p.best_peer(g, s, "cpu")[1]
        if rn:
            best.append(f"{s}: {p.label(rn)} (req/s), {p.label(cn)} (CPU)")
            names |= {rn, cn}
    if len(names) == 1:
        out += ["", f"Best peer: {p.label(names.pop())}."]
    elif best:
        out += ["", "Best peer per scenario — " + "; ".join(best) + "."]
    return "\n".join(out)


def idle_table(p):
    if not p.mem:
        return None
    ng = p.mem.get("nginx")
    out = ["| server | bytes per idle keep-alive connection | ÷ nginx |", "|---|---:|---:|"]
    for n, v in p.mem.items():
        out.append(f"| {p.label(n)} | {fmt_int(v)} | {fmt_x(ratio(v, ng))} |")
    return "\n".join(out)


def verdict(ok):
    return "not measured" if ok is None else "**met**" if ok else "not met"


def bar(verdict_ok, text, cpu_ok=None):
    v = verdict(verdict_ok)
    if verdict_ok is not None and cpu_ok is not None:
        v += f" (by CPU/req: {verdict(cpu_ok).strip('*')})"
    return f"| {text[0]} | {text[1]} | {v} |"


def both(p, a, b, factor=1.0):
    """squall server a against peer b in scenarios a and b: (ok, text,
    cpu_ok).  The verdict is on req/s (what the bars ask); cpu_ok is the
    same bar read in CPU per request (squall's at most 1/factor of the
    peer's; a stalled peer's scenario is left out), the steadier figure on
    a loaded machine."""
    rs = [ratio(p.rps.get((a, s)), p.rps.get((b, s))) for s in "ab"]
    if any(r is None for r in rs):
        return None, "–", None
    cs = [ratio(p.cpu.get((a, s)), p.cpu.get((b, s))) for s in "ab"]
    rt = [f"{p.label(b)} stalls" if (b, s) in p.stalled else f"{r:.2f}x" for r, s in zip(rs, "ab")]
    known = [c for c in cs if c is not None]
    cpu_ok = all(c <= 1 / factor for c in known) if known else None
    return all(r >= factor for r in rs), (f"req/s {rt[0]} / {rt[1]}; "
                                          f"CPU/req {fmt_x(cs[0])} / {fmt_x(cs[1])}"), cpu_ok


def bars(p):
    out = ["| bar (issue 13) | this run (squall ÷ peer) | verdict |", "|---|---|---|"]
    sq, fl = p.cpu.get(("squall-c", "a")), p.cpu.get(("limit", "a"))
    r = ratio(sq, fl)
    out.append(bar(None if r is None else r <= 1.05,
                   ("server CPU per keep-alive request ≤ 1.05x the floor",
                    "–" if r is None else f"{fmt_cpu(sq)} vs {fmt_cpu(fl)} µs: {r:.2f}x")))
    c, cn = p.best_peer("c", "c", "cpu")
    sq = p.cpu.get(("squall-c", "c"))
    r = ratio(sq, c)
    out.append(bar(None if r is None else r <= 1.0,
                   ("server CPU per connection-per-request ≤ the best peer",
                    "–" if r is None else f"{fmt_cpu(sq)} vs {p.label(cn)} {fmt_cpu(c)} µs: {r:.2f}x")))
    m = p.mem.get("squall-c")
    ng = p.mem.get("nginx")
    out.append(bar(None if m is None else m <= 1024,
                   ("bytes per idle keep-alive connection ≤ 1,024 (stretch ≤ nginx)",
                    "–" if m is None else f"{fmt_int(m)} (nginx {fmt_int(ng)}"
                    + (", stretch met)" if ng is not None and m <= ng else ")"))))
    out.append(bar(None if p.ir is None else p.ir <= 2000,
                   ("instructions per pipelined request (callgrind) ≤ 2,000",
                    "–" if p.ir is None else f"{p.ir:,} (h2load -m 16 under callgrind, profile.sh)")))
    ok, t, c = both(p, "go-squall-raw-p1", "go-fasthttp-p1")
    out.append(bar(ok, ("Go raw API ≥ fasthttp, keep-alive / pipelined", t), c))
    ok, t, c = both(p, "go-squall-http-p1", "go-nethttp-p1", 1.5)
    out.append(bar(ok, ("Go net/http adapter ≥ 1.5x net/http, keep-alive / pipelined", t), c))
    ok, t, c = both(p, "squall-axum", "axum")
    out.append(bar(ok, ("axum on squall (default options) ≥ axum on current-thread tokio, keep-alive / pipelined",
                        t), c))
    out.append("")
    out.append("The verdicts are on requests/s, as the issues word the bars; \"by CPU/req\" reads the same "
               "bar in server CPU per request (squall's at most the peer's, or 1/1.5 of it for a 1.5x bar), "
               "the steadier figure on a loaded machine.")
    out.append("")
    out.append("| bar (issues 10, 11) | this run (squall ÷ peer) | verdict |")
    out.append("|---|---|---|")
    for a, b, f, t in (("squall-wsgi", "bjoern", 1, "squall WSGI ≥ bjoern"),
                       ("squall-wsgi", "granian-wsgi", 1, "squall WSGI ≥ granian WSGI"),
                       ("squall-asgi", "uvicorn", 1, "squall ASGI ≥ uvicorn"),
                       ("squall-asgi", "granian-asgi", 1, "squall ASGI ≥ granian ASGI"),
                       ("node-squall-koffi", "node-http", 1, "Node: squall ≥ node:http (stretch 2x)"),
                       ("lua-squall", "lua-http", 3, "Lua: squall ≥ 3x lua-http"),
                       ("lua-squall", "squall-c", 0.7, "Lua: squall ≥ 0.7x the C server")):
        ok, txt, c = both(p, a, b, f)
        out.append(bar(ok, (t + ", keep-alive / pipelined", txt), c))
    return "\n".join(out)


def meta(p):
    lines = [f"Run of {p.meta.get('date', '?')}, tree {p.meta.get('tree', '?')}: "
             f"`{p.meta.get('command', 'bench/page.sh')}`; load average {p.meta.get('loadavg', '?')} at the start"
             f" and {p.meta.get('loadavg at end', '?')} at the end."]
    if p.missing:
        lines.append("")
        lines.append("Not measured (not installed): " + "; ".join(f"{m[0]} ({m[1]})" for m in p.missing) + ".")
    return "\n".join(lines)


def blocks(p):
    b = {"meta": meta(p), "bars": bars(p)}
    for g in GROUPS:
        t = group_table(p, g)
        if t:
            b[g] = t
    t = idle_table(p)
    if t:
        b["idle"] = t
    return b


def splice(readme, b):
    text = open(readme).read()
    for name, body in b.items():
        pat = re.compile(r"(<!-- page:%s -->\n).*?(<!-- /page:%s -->)" % (name, name), re.S)
        if not pat.search(text):
            print(f"page_table.py: no <!-- page:{name} --> block in {readme}", file=sys.stderr)
            continue
        text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    open(readme, "w").write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--readme")
    args = ap.parse_args()
    p = Page(args.dir)
    b = blocks(p)
    if args.readme:
        splice(args.readme, b)
        return
    print(f"# Benchmark page\n\n{b['meta']}\n")
    for g, title in GROUPS.items():
        if g in b:
            print(f"## {title}\n\n{b[g]}\n")
    if "idle" in b:
        print(f"## Idle connections\n\n{b['idle']}\n")
    print(f"## Bars\n\n{b['bars']}")


if __name__ == "__main__":
    main()
