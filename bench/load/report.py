#!/usr/bin/env python3
"""Summarise bench/load/run.sh's raw runs: one table (stdout), JSON and an SVG bar chart.
Re-render an earlier run: report.py --from-json bench/load/results/latest.json --svg OUT.svg

Per target and scenario the medians over rounds of: requests/s (wrk), p50/p99 latency (wrk;
for the pipeline scenario the latency of a batch of DEPTH requests), the server's CPU share
(utime+stime / wall time, from /proc/PID/stat), requests/s per server core (requests/s over
CPU share, per round, then the median), wrk's CPU share; syscalls per request from the
separate strace run. Ratios are ratios of those medians: to the floor server, and to nginx
with the same logging (targets that log are compared to nginx-log, the others to nginx).
Round 2's scenarios (scenarios/round2.sh) get a second table: bytes/s per server core for
uploads (request bodies) and large responses, the active rate and RSS with 10,000 connections,
p50/p99/p99.9 at fixed offered rates, ratios to the floor (floor-bodies for uploads), nginx-log
and h2o-log; then the goals of issue 23, each with its figure.
Standard library only.
"""
import argparse
import json
import statistics
import sys
from xml.sax.saxutils import escape

TARGET_ORDER = ["floor", "floor-bodies", "floor-defer", "floor-same-bytes", "floor-same-bytes-log",
                "httpserver-nolog", "httpserver-log", "httpserver-log-noserver", "bench-log",
                "bench-stream-log", "bench-shared-log", "nginx", "nginx-log", "h2o", "h2o-log", "go-tutorial"]
ROUND1 = ["keepalive", "pipeline", "close"]
ROUND2 = ["browser", "upload-1k", "upload-64k", "upload-64k-chunked", "large-64k", "large-1m",
          "many", "rate-max", "rate-50", "rate-90", "rate-90-ours"]
SCENARIO_ORDER = ROUND1 + ROUND2
UPLOAD_BYTES = {"upload-1k": 1024, "upload-64k": 65536, "upload-64k-chunked": 65536}
SCENARIO_TITLE = {
    "keepalive": "keep-alive, 64 connections",
    "pipeline": "pipelined, 64 connections x 16 requests per write",
    "close": "new connection per request (Connection: close)",
    "browser": "browser heads (550-900 bytes, 12-16 fields, varied targets), 64 connections",
    "upload-1k": "POST 1 KiB (Content-Length), 64 connections",
    "upload-64k": "POST 64 KiB (Content-Length), 64 connections",
    "upload-64k-chunked": "POST 64 KiB chunked (8 KiB chunks), 64 connections",
    "large-64k": "GET 64 KiB body, 64 connections",
    "large-1m": "GET 1 MiB body, 64 connections",
    "many": "64 active connections beside 9,936 idle keep-alive ones",
    "rate-max": "constant-rate client unpaced (the max the rates are fractions of)",
    "rate-50": "constant rate: 50 % of each target's max",
    "rate-90": "constant rate: 90 % of each target's max",
    "rate-90-ours": "constant rate: 90 % of httpserver-log's max, for every target",
}
LOGGING = {"httpserver-log", "httpserver-log-noserver", "nginx-log", "go-tutorial",
           "floor-same-bytes-log", "bench-log", "bench-stream-log", "bench-shared-log", "h2o-log"}
COLORS = {
    "floor": "#7f7f7f", "floor-same-bytes": "#a0a0a0", "floor-same-bytes-log": "#c0c0c0",
    "httpserver-nolog": "#1f77b4", "httpserver-log": "#2b8cd8", "httpserver-log-noserver": "#6baed6",
    "nginx": "#2ca02c", "nginx-log": "#69b869", "go-tutorial": "#17becf",
    "floor-bodies": "#7f7f7f", "bench-log": "#2b8cd8", "bench-stream-log": "#1f5f9f",
    "bench-shared-log": "#6baed6",
    "h2o": "#d62728", "h2o-log": "#e377c2",
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
        p999, bps, bps_core, extra, per_idle = [], [], [], {}, []
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
            p999.append(w.get("p999_us"))
            # bytes moved: request bodies for uploads, response bytes otherwise
            b = w["requests"] * UPLOAD_BYTES[scenario] if scenario in UPLOAD_BYTES else w["bytes"]
            bps.append(b / secs if secs > 0 else None)
            bps_core.append(b / secs / share if secs > 0 and share else None)
            x = r.get("extra") or {}
            for k, v in x.items():
                if isinstance(v, (int, float)):
                    extra.setdefault(k, []).append(v)
            if x.get("idle_held") and x.get("rss_held_kib") is not None:
                per_idle.append((x["rss_held_kib"] - x["rss_idle_kib"]) * 1024 / x["idle_held"])
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
            "p50_us": med(p50), "p99_us": med(p99), "p999_us": med(p999),
            "bytes_per_s": med(bps), "bytes_per_s_per_core": med(bps_core),
            "extra": {k: med(v) for k, v in extra.items()} or None,
            # the first round's server grows for them; later rounds reuse what it kept
            "bytes_per_idle_connection": max(per_idle) if per_idle else None,
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
        floor = by.get((r["scenario"], "floor")) or by.get((r["scenario"], "floor-bodies"))
        ng = by.get((r["scenario"], "nginx-log" if r["target"] in LOGGING else "nginx"))
        r["nginx_baseline"] = ng["target"] if ng else None
        r["ratio_floor_per_core"] = ratio(r, floor, "requests_per_s_per_core")
        r["ratio_floor_raw"] = ratio(r, floor, "requests_per_s")
        r["ratio_nginx_per_core"] = ratio(r, ng, "requests_per_s_per_core")
        r["ratio_nginx_raw"] = ratio(r, ng, "requests_per_s")
        h2o = by.get((r["scenario"], "h2o-log" if r["target"] in LOGGING else "h2o"))
        r["ratio_h2o_per_core"] = ratio(r, h2o, "requests_per_s_per_core")
        keep = by.get(("keepalive", r["target"]))
        r["ratio_keepalive_raw"] = (ratio(r, keep, "requests_per_s")
                                    if r["scenario"] == "many" else None)

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
    return md_table(head, body, left={0, 1})


def f_mb(x):
    return "-" if x is None else f"{x / 1e6:,.1f}"


def table2(rows):
    """Round 2's scenarios: what each measures beside req/s."""
    head = ["scenario", "target", "req/s", "MB/s", "p50", "p99", "p99.9", "server CPU",
            "req/s per core", "MB/s per core", "syscalls/req", "÷floor per core",
            "÷nginx per core", "÷h2o per core", "notes"]
    body = []
    for r in rows:
        x = r.get("extra") or {}
        notes = []
        if r["scenario"] == "many":
            if r.get("ratio_keepalive_raw") is not None:
                notes.append(f'{r["ratio_keepalive_raw"]:.2f} x keepalive')
            if x.get("rss_held_kib") is not None:
                notes.append(f'RSS {x["rss_idle_kib"] / 1024:.1f} -> {x["rss_held_kib"] / 1024:.1f} MiB'
                             f' with {x.get("idle_held", 0):,.0f} idle')
            if r.get("bytes_per_idle_connection") is not None:
                notes.append(f'{r["bytes_per_idle_connection"]:,.0f} B per idle connection '
                             '(RSS growth, largest round)')
            if x.get("idle_closed_by_server"):
                notes.append(f'{x["idle_closed_by_server"]:,.0f} idle closed by the server')
        if r["scenario"].startswith("rate-") and x:
            if x.get("offered_per_s"):
                notes.append(f'offered {x["offered_per_s"]:,.0f}/s, got {x["achieved_per_s"]:,.0f}/s')
            if x.get("lag_p99_us") is not None:
                notes.append(f'send lag p99 {x["lag_p99_us"] / 1000:.2f} ms')
        body.append([
            r["scenario"], r["target"], f_int(r["requests_per_s"]), f_mb(r.get("bytes_per_s")),
            f_lat(r["p50_us"]), f_lat(r["p99_us"]), f_lat(r.get("p999_us")),
            f2(r["server_cpu_share"]), f_int(r["requests_per_s_per_core"]),
            f_mb(r.get("bytes_per_s_per_core")), f_sys(r["syscalls_per_request"]),
            f2(r["ratio_floor_per_core"]), f2(r["ratio_nginx_per_core"]),
            f2(r.get("ratio_h2o_per_core")), "; ".join(notes),
        ])
    return md_table(head, body, left={0, 1, 14})


def md_table(head, body, left):
    width = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]

    def line(cells):
        return "| " + " | ".join(c.ljust(width[i]) if i in left else c.rjust(width[i])
                                 for i, c in enumerate(cells)) + " |"
    out = [line(head),
           "|" + "|".join(("-" * (w + 1) + ":") if i not in left else ("-" * (w + 2))
                          for i, w in enumerate(width)) + "|"]
    out += [line(b) for b in body]
    return "\n".join(out)


def goals(rows, meta=None):
    """Issue 23's goals (log on, per server core), each with its figure from this run."""
    by = {(r["scenario"], r["target"]): r for r in rows}

    def get(s, t, k):
        r = by.get((s, t))
        return None if r is None else r.get(k)

    def q(x, fmt="{:.2f}"):
        return "-" if x is None else fmt.format(x)

    out = []

    def goal(text, figure, ok):
        mark = "?" if ok is None else ("met" if ok else "MISSED")
        out.append(f"- [{mark}] {text}: {figure}")

    hs = "httpserver-log"
    a, b = get("browser", hs, "ratio_nginx_per_core"), get("browser", hs, "ratio_floor_per_core")
    goal("browser heads >= 1.5 x nginx-log and >= 1.0 x the floor, per core",
         f"{q(a)} x nginx-log, {q(b)} x floor, {q(get('browser', hs, 'ratio_h2o_per_core'))} x h2o-log",
         None if a is None or b is None else a >= 1.5 and b >= 1.0)
    get_ir, mix_ir = ((meta or {}).get(k) for k in ("instructions_get", "instructions_mix"))
    if get_ir and mix_ir:
        r = int(mix_ir) / int(get_ir)
        goal("browser mix within 2 x the GET's instructions per request (callgrind, "
             "bench/instructions text 4 1000 --socket)",
             f"{int(mix_ir):,} against {int(get_ir):,}: {r:.2f} x", r <= 2)
    for t in ("bench-log", "bench-stream-log"):
        a = get("upload-1k", t, "ratio_nginx_per_core")
        goal(f"upload 1 KiB >= 1.5 x nginx-log ({t})", f"{q(a)} x nginx-log",
             None if a is None else a >= 1.5)
        for s in ("upload-64k", "upload-64k-chunked"):
            a = get(s, t, "ratio_floor_per_core")
            goal(f"{s} within 0.9 of the plain read loop ({t} / floor-bodies, per core)",
                 f"{q(a)}; {q(get(s, t, 'bytes_per_s_per_core'), '{:,.0f}')} B/s per core",
                 None if a is None else a >= 0.9)
    for s in ("large-64k", "large-1m"):
        a = get(s, "bench-log", "ratio_nginx_per_core")
        goal(f"{s} >= nginx-log per core (bench-log)",
             f"{q(a)} x nginx-log, {q(get(s, 'bench-log', 'ratio_h2o_per_core'))} x h2o-log; "
             f"{q(get(s, 'bench-log', 'bytes_per_s_per_core'), '{:,.0f}')} B/s per core",
             None if a is None else a >= 1.0)
    a = get("many", hs, "ratio_keepalive_raw")
    goal("many: active rate >= 0.90 x the 64-connection run", f"{q(a)}",
         None if a is None else a >= 0.90)
    out.append("  bytes per idle connection (RSS): " + ", ".join(
        f'{t} {q(get("many", t, "bytes_per_idle_connection"), "{:,.0f}")}'
        for t in (hs, "nginx-log", "h2o-log")))
    a, b = get("close", hs, "ratio_h2o_per_core"), get("close", hs, "ratio_floor_per_core")
    goal("new connections >= 1.0 x h2o-log and >= 0.95 x the floor, per core",
         f"{q(a)} x h2o-log, {q(b)} x floor; syscalls/req: " + ", ".join(
             f'{t} {q(get("close", t, "syscalls_per_request"))}'
             for t in ("floor", hs, "nginx-log", "h2o-log")),
         None if a is None or b is None else a >= 1.0 and b >= 0.95)
    ours, ng = get("rate-90-ours", hs, "p99_us"), get("rate-90-ours", "nginx-log", "p99_us")
    goal("latency: p99 at 90 % load no worse than nginx-log's at the same offered rate",
         f"{q(ours, '{:.0f}')} us against {q(ng, '{:.0f}')} us (at 90 % of ours); at each "
         f"one's own 90 %: {q(get('rate-90', hs, 'p99_us'), '{:.0f}')} us against "
         f"{q(get('rate-90', 'nginx-log', 'p99_us'), '{:.0f}')} us",
         None if ours is None or ng is None else ours <= ng)
    for s in ROUND1:
        a = get(s, hs, "ratio_floor_per_core")
        if a is not None:
            out.append(f"  round 1, {s}: httpserver-log {q(a)} x floor, "
                       f"{q(get(s, hs, 'ratio_nginx_per_core'))} x nginx-log per core")
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
        # bytes/s for bodies, p99 for fixed rates, requests/s otherwise
        if s in UPLOAD_BYTES or s.startswith("large-"):
            k1, k2, unit, scale = "bytes_per_s_per_core", "bytes_per_s", "MB/s", 1e6
        elif s.startswith("rate-") and s != "rate-max":
            k1, k2, unit, scale = "p99_us", "p50_us", "ms", 1e3
        else:
            k1, k2, unit, scale = "requests_per_s_per_core", "requests_per_s", "k/s", 1e3
        vmax = max([r.get(k1) or 0 for r in rs] + [r.get(k2) or 0 for r in rs] + [1])
        parts.append(f'<text x="10" y="{y + 18}" class="h">{escape(SCENARIO_TITLE.get(s, s))}'
                     f'</text>')
        y += panel_head
        for r in rs:
            c = COLORS.get(r["target"], "#999")
            pc = r.get(k1) or 0
            raw = r.get(k2) or 0
            w1 = plot_w * pc / vmax
            w2 = plot_w * raw / vmax
            parts.append(f'<text x="{left - 8}" y="{y + bar_h + 3}" class="t" '
                         f'text-anchor="end">{escape(r["target"])}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w1:.1f}" height="{bar_h}" '
                         f'fill="{c}"/>')
            parts.append(f'<rect x="{left}" y="{y + bar_h}" width="{w2:.1f}" '
                         f'height="{bar_h - 4}" fill="{c}" fill-opacity="0.35"/>')
            ratio = r["ratio_floor_per_core"]
            if unit == "ms":
                label = f'p99 {pc / scale:,.2f} ms, p50 {raw / scale:,.2f} ms'
            else:
                label = f'{pc / scale:,.1f}{unit} per core, {raw / scale:,.1f}{unit} raw'
            if ratio is not None and not r["target"].startswith("floor") and unit != "ms":
                label += f', {ratio:.2f}x floor'
            parts.append(f'<text x="{left + max(w1, w2) + 6:.1f}" y="{y + bar_h + 1}" '
                         f'class="v">{escape(label)}</text>')
            y += 2 * bar_h - 4 + gap
        y += 10
    sub = (f'median of {meta.get("rounds", "?")} round(s) of {meta.get("duration", "?")}; '
           f'server on 1 core, wrk -t1 on another; {meta.get("started", "")}, load average '
           f'{meta.get("loadavg_start", "?").split()[0]}; '
           f'dark: per server core, light: raw (fixed rates: dark p99, light p50)')
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
    r1 = [r for r in rows if r["scenario"] not in ROUND2]
    r2 = [r for r in rows if r["scenario"] in ROUND2]
    if r1:
        print(table(r1))
        print()
    if r2:
        print(table2(r2))
        print()
        print("MB/s: request bodies (uploads) or response bytes, 10^6 bytes/s. ÷floor: to the "
              "floor (floor-bodies for uploads); ÷nginx, ÷h2o: to nginx-log, h2o-log for targets "
              "that log. many: active req/s over the same target's keepalive req/s; RSS of the "
              "server's processes. rate-*: latency from each request's send; send lag: how late "
              "requests left against the schedule (rate.lua).")
        print()
        print("Goals (issue 23):")
        print(goals(rows, meta))
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
