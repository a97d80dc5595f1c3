#!/usr/bin/env python3
"""Summarise bench/load/run.sh's raw runs: one table (stdout), JSON and an SVG bar chart.
Re-render an earlier run: report.py --from-json bench/load/results/latest.json --svg OUT.svg

Per target and scenario the medians over rounds of: requests/s (wrk), p50/p99 latency (wrk;
for the pipeline scenario the latency of a batch of DEPTH requests), the server's CPU share
(utime+stime / wall time, from /proc/PID/stat), requests/s per server core (requests/s over
CPU share, per round, then the median), wrk's CPU share; syscalls per request from the
separate strace run. Ratios are ratios of those medians: to the floor server, and to nginx
with the same logging (targets that log are compared to nginx-log, the others to nginx).
Standard library only.
"""
import argparse
import json
import statistics
import sys
from xml.sax.saxutils import escape

TARGET_ORDER = ["floor", "floor-same-bytes", "floor-same-bytes-log", "httpserver-nolog",
                "httpserver-log", "httpserver-log-noserver", "nginx", "nginx-log", "go-tutorial"]
SCENARIO_ORDER = ["keepalive", "pipeline", "close"]
SCENARIO_TITLE = {
    "keepalive": "keep-alive, 64 connections",
    "pipeline": "pipelined, 64 connections x 16 requests per write",
    "close": "new connection per request (Connection: close)",
}
LOGGING = {"httpserver-log", "httpserver-log-noserver", "nginx-log", "go-tutorial", "floor-same-bytes-log"}
COLORS = {
    "floor": "#7f7f7f", "floor-same-bytes": "#a0a0a0", "floor-same-bytes-log": "#c0c0c0",
    "httpserver-nolog": "#1f77b4", "httpserver-log": "#2b8cd8", "httpserver-log-noserver": "#6baed6",
    "nginx": "#2ca02c", "nginx-log": "#69b869", "go-tutorial": "#17becf",
}


def order(seq, pref):
    return sorted(seq, key=lambda x: (pref.index(x) if x in pref else len(pref), x))


def load_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def load_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(runs, syscalls):
    groups = {}
    for r in runs:
        groups.setdefault((r["scenario"], r["target"]), []).append(r)
    sysc = {}
    for s in syscalls:  # of the attempts, the one that served most (least stalled)
        k = (s["scenario"], s["target"])
        if k not in sysc or s["wrk"]["requests"] > sysc[k]["wrk"]["requests"]:
            sysc[k] = s
    rows = []
    for (scenario, target), rs in groups.items():
        rps, per_core, cpu, wrk_cpu, p50, p99, errs, reqs = [], [], [], [], [], [], 0, 0
        for r in rs:
            w = r["wrk"]
            secs = w["duration_us"] / 1e6
            x = w["requests"] / secs if secs > 0 else 0.0
            share = r["server_cpu_s"] / r["wall_s"] if r["wall_s"] > 0 else None
            rps.append(x)
            cpu.append(share)
            per_core.append(x / share if share else None)
            wrk_cpu.append(w["wrk_cpu_s"] / secs if secs > 0 else None)
            # measured latency (stats.lua undoes wrk's coordinated-omission correction);
            # null when wrk's histogram could not be read back
            p50.append(w.get("p50_us"))
            p99.append(w.get("p99_us"))
            errs += sum(w["errors"].values())
            reqs += w["requests"]
        s = sysc.get((scenario, target))
        spr = None
        if s and s.get("calls") and s["wrk"]["requests"] > 0:
            spr = s["calls"] / s["wrk"]["requests"]
        rows.append({
            "scenario": scenario, "target": target, "rounds": len(rs),
            "requests_per_s": med(rps), "requests_per_s_per_core": med(per_core),
            "server_cpu_share": med(cpu), "wrk_cpu_share": med(wrk_cpu),
            "p50_us": med(p50), "p99_us": med(p99),
            "errors": errs, "requests": reqs,
            "syscalls_per_request": spr,
            "syscalls_by_name_per_request": (
                {k: v / s["wrk"]["requests"] for k, v in sorted(s["by_syscall"].items(),
                                                              key=lambda kv: -kv[1])}
                if s and s["wrk"]["requests"] > 0 else None),
        })
    by = {(r["scenario"], r["target"]): r for r in rows}

    def ratio(a, b, key):
        if a is None or b is None or not a.get(key) or not b.get(key):
            return None
        return a[key] / b[key]

    for r in rows:
        floor = by.get((r["scenario"], "floor"))
        ng = by.get((r["scenario"], "nginx-log" if r["target"] in LOGGING else "nginx"))
        r["nginx_baseline"] = ng["target"] if ng else None
        r["ratio_floor_per_core"] = ratio(r, floor, "requests_per_s_per_core")
        r["ratio_floor_raw"] = ratio(r, floor, "requests_per_s")
        r["ratio_nginx_per_core"] = ratio(r, ng, "requests_per_s_per_core")
        r["ratio_nginx_raw"] = ratio(r, ng, "requests_per_s")
    scen = order({r["scenario"] for r in rows}, SCENARIO_ORDER)
    tgts = order({r["target"] for r in rows}, TARGET_ORDER)
    return [by[(s, t)] for s in scen for t in tgts if (s, t) in by]


def f_int(x):
    return "-" if x is None else f"{x:,.0f}"


def f_lat(us):
    if us is None:
        return "-"
    return f"{us / 1000:.2f} ms"


def f2(x):
    return "-" if x is None else f"{x:.2f}"


def f_sys(x):
    return "-" if x is None else f"{x:.2f}"


def table(rows):
    head = ["scenario", "target", "req/s", "p50", "p99", "server CPU", "req/s per core",
            "syscalls/req", "÷floor per core", "÷floor raw", "÷nginx per core", "÷nginx raw",
            "wrk CPU"]
    body = []
    for r in rows:
        body.append([
            r["scenario"], r["target"], f_int(r["requests_per_s"]), f_lat(r["p50_us"]),
            f_lat(r["p99_us"]), f2(r["server_cpu_share"]), f_int(r["requests_per_s_per_core"]),
            f_sys(r["syscalls_per_request"]), f2(r["ratio_floor_per_core"]),
            f2(r["ratio_floor_raw"]), f2(r["ratio_nginx_per_core"]), f2(r["ratio_nginx_raw"]),
            f2(r["wrk_cpu_share"]),
        ])
    width = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    left = {0, 1}

    def line(cells):
        return "| " + " | ".join(c.ljust(width[i]) if i in left else c.rjust(width[i])
                                 for i, c in enumerate(cells)) + " |"
    out = [line(head),
           "|" + "|".join(("-" * (w + 1) + ":") if i not in left else ("-" * (w + 2))
                          for i, w in enumerate(width)) + "|"]
    out += [line(b) for b in body]
    return "\n".join(out)


def svg(rows, meta):
    """Hand-written SVG: a panel per scenario, two bars per target: requests/s per server
    core (dark) and raw requests/s (light), each labelled, ratio to the floor per core."""
    scen = order({r["scenario"] for r in rows}, SCENARIO_ORDER)
    W, left, right = 900, 150, 250
    bar_h, gap, panel_head = 12, 8, 34
    plot_w = W - left - right
    parts = []
    y = 56
    for s in scen:
        rs = [r for r in rows if r["scenario"] == s]
        vmax = max([r["requests_per_s_per_core"] or 0 for r in rs] +
                   [r["requests_per_s"] or 0 for r in rs] + [1])
        parts.append(f'<text x="10" y="{y + 18}" class="h">{escape(SCENARIO_TITLE.get(s, s))}'
                     f'</text>')
        y += panel_head
        for r in rs:
            c = COLORS.get(r["target"], "#999")
            pc = r["requests_per_s_per_core"] or 0
            raw = r["requests_per_s"] or 0
            w1 = plot_w * pc / vmax
            w2 = plot_w * raw / vmax
            parts.append(f'<text x="{left - 8}" y="{y + bar_h + 3}" class="t" '
                         f'text-anchor="end">{escape(r["target"])}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w1:.1f}" height="{bar_h}" '
                         f'fill="{c}"/>')
            parts.append(f'<rect x="{left}" y="{y + bar_h}" width="{w2:.1f}" '
                         f'height="{bar_h - 4}" fill="{c}" fill-opacity="0.35"/>')
            ratio = r["ratio_floor_per_core"]
            label = f'{pc / 1000:,.1f}k/s per core, {raw / 1000:,.1f}k/s raw'
            if ratio is not None and r["target"] != "floor":
                label += f', {ratio:.2f}x floor'
            parts.append(f'<text x="{left + max(w1, w2) + 6:.1f}" y="{y + bar_h + 1}" '
                         f'class="v">{escape(label)}</text>')
            y += 2 * bar_h - 4 + gap
        y += 10
    sub = (f'median of {meta.get("rounds", "?")} round(s) of {meta.get("duration", "?")}; '
           f'server on 1 core, wrk -t1 on another; {meta.get("started", "")}, load average '
           f'{meta.get("loadavg_start", "?").split()[0]}; '
           f'dark: requests/s per server core, light: raw requests/s')
    H = y + 20
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="sans-serif">',
        '<style>.h{font-size:14px;font-weight:bold}.t{font-size:12px}.v{font-size:11px;'
        'fill:#333}.s{font-size:11px;fill:#555}</style>',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        '<text x="10" y="22" class="h">httpserver load benchmark (wrk, loopback)</text>',
        f'<text x="10" y="40" class="s">{escape(sub)}</text>',
    ]
    return "\n".join(head + parts + ["</svg>"]) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs")
    ap.add_argument("--syscalls")
    ap.add_argument("--meta")
    ap.add_argument("--from-json", help="re-render an earlier results JSON (table, SVG)")
    ap.add_argument("--json")
    ap.add_argument("--svg")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            old = json.load(f)
        runs, syscalls, meta = old["runs"], old["syscalls"], old["meta"]
    elif a.runs and a.syscalls and a.meta:
        runs = load_jsonl(a.runs)
        syscalls = load_jsonl(a.syscalls)
        meta = load_meta(a.meta)
    else:
        ap.error("--runs, --syscalls and --meta, or --from-json")
    if not runs:
        print("load: no runs to report", file=sys.stderr)
        return 1
    rows = summarise(runs, syscalls)
    print()
    print(f'Load benchmark {meta.get("started", "")} .. {meta.get("finished", "")}: '
          f'median of {meta.get("rounds")} round(s) x {meta.get("duration")}, '
          f'wrk -t1 -c{meta.get("connections")} on CPU {meta.get("client_cpu")}, '
          f'server on CPU {meta.get("server_cpu")}, nice {meta.get("nice", "0")}; pipeline depth {meta.get("pipeline_depth")}; '
          f'load average {meta.get("loadavg_start")} -> {meta.get("loadavg_end")}')
    print(f'{meta.get("cpu", "")}, {meta.get("nproc")} CPUs, kernel {meta.get("kernel")}; '
          f'wrk {meta.get("wrk")}, nginx {meta.get("nginx", "-")}, go {meta.get("go", "-")}, '
          f'httpserver {meta.get("httpserver_commit", "?")}'
          + (f' (+{meta["httpserver_src_uncommitted_files"]} uncommitted src files)'
             if meta.get("httpserver_src_uncommitted_files", "0") != "0" else ""))
    print()
    print(table(rows))
    print()
    print("server CPU: share of one core used by the server (all its threads/processes) "
          "during the run; req/s per core = req/s / server CPU.")
    print("÷floor, ÷nginx: ratios of the medians; per core and raw. ÷nginx compares targets "
          "that log (httpserver-log, go-tutorial) to nginx-log, the others to nginx.")
    print("p50/p99: latency as measured (wrk's histogram without its coordinated-omission "
          "correction, which is wrong for pipelining; wrk's own figures are in the JSON); "
          f'pipeline: latency of a whole batch of {meta.get("pipeline_depth")} requests.')
    print(f'syscalls/req: one run of {meta.get("strace_duration")} under strace -c -f. '
          "wrk CPU near 1.00: the client was the limit. close: req/s = new connections/s.")
    for r in rows:
        if r["requests"] and r["errors"] > 0.001 * r["requests"]:
            print(f'warning: {r["scenario"]} {r["target"]}: {r["errors"]} wrk errors in '
                  f'{r["requests"]} requests')
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "summary": rows, "runs": runs, "syscalls": syscalls},
                      f, indent=1)
            f.write("\n")
        print(f"results: {a.json}")
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(rows, meta))
        print(f"chart:   {a.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
