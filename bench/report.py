"""Judge the targets of issue 7 and write latest.json, latest.md and the
latency chart (SVG drawn here, no plotting library)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .targets import LABELS, TARGETS

MIB = 1024 * 1024


def _point(results: dict[str, Any], kind: str, rate: float) -> dict[str, Any] | None:
    points = results.get(kind, {}).get("points", {})
    for key, value in points.items():
        if float(key) == float(rate):
            return dict(value)
    return None


def _status(ok: bool | None) -> str:
    return "not run" if ok is None else ("pass" if ok else "miss")


def _ms(us: float | None) -> str:
    return "\u2013" if us is None else f"{us / 1000:.1f}"


def judge(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with pass, miss or not run, and why."""
    sc = data.get("scenarios", {})
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, value: str, detail: str = "") -> None:
        out.append(
            {"target": name, "status": _status(ok), "value": value, "detail": detail}
        )

    for label, key, rate in (("30", "s1", 10), ("500", "s2", 10)):
        results = sc.get(key, {}).get("results", {})
        product = _point(results, "hearth", rate)
        peer = _point(results, "tutorial", rate)
        raw = _point(results, "raw", rate)
        p = product and product.get("cpu_us_per_delivery")
        q = peer and peer.get("cpu_us_per_delivery")
        r = raw and raw.get("cpu_us_per_delivery")
        add(
            f"CPU per delivery at {label} members ≤ 1/3 of the peer's",
            None if not (p and q) else p <= q / 3,
            f"{p} µs vs peer {q} µs" if p and q else "\u2013",
            f"at {rate} msg/s, same run",
        )
        add(
            f"CPU per delivery at {label} members within 5x the raw limit",
            None if not (p and r) else p <= 5 * r,
            f"{p} µs vs raw {r} µs" if p and r else "\u2013",
            f"at {rate} msg/s",
        )
    for size, key, rate, limit_ms in (
        (30, "s1", 2, 5),
        (30, "s1", 10, 10),
        (500, "s2", 2, 40),
        (500, "s2", 10, 60),
    ):
        point = _point(sc.get(key, {}).get("results", {}), "hearth", rate)
        p99 = point["everyone_us"]["p99"] if point else None
        add(
            f"p99 until everyone has it ≤ {limit_ms} ms at {size} members, {rate}/s",
            None if p99 is None else p99 <= limit_ms * 1000,
            f"{_ms(p99)} ms",
        )
    faults = 0
    seen_points = 0
    for key in ("s1", "s2"):
        points = sc.get(key, {}).get("results", {}).get("hearth", {}).get("points", {})
        for point in points.values():
            seen_points += 1
            faults += sum(
                int(point.get(name) or 0)
                for name in (
                    "lost",
                    "doubled",
                    "out_of_order",
                    "event_gaps",
                    "event_doubled",
                )
            )
    add(
        "Nothing lost, doubled or reordered below saturation",
        None if not seen_points else faults == 0,
        f"{faults} faults in {seen_points} points",
        "lost + doubled + out of order + event-seq gaps + event-seq repeats",
    )
    idle = sc.get("s5", {}).get("results", {}).get("hearth", {})
    sizes = sorted((int(k), v) for k, v in idle.items() if "error" not in v)
    if sizes:
        size, biggest = sizes[-1]
        kib = biggest.get("kib_per_connection")
        add(
            "Memory per idle connection ≤ 30 KiB",
            None if kib is None else kib <= 30,
            f"{kib} KiB at {size}",
        )
    else:
        add("Memory per idle connection ≤ 30 KiB", None, "\u2013")
    ten_k = idle.get("10000")
    add(
        "≥ 10,000 connections on one worker with no failure",
        None
        if ten_k is None
        else (
            "error" not in ten_k
            and ten_k.get("failed") == 0
            and not ten_k.get("not_joined")
        ),
        "\u2013" if ten_k is None else f"{ten_k.get('connections')} connected",
        "" if ten_k is not None else "10,000 is in the full profile only",
    )
    two_k = idle.get("2000", {})
    reach = two_k.get("broadcast_to_last_us")
    add(
        "A broadcast reaches 2,000 idle members in ≤ 100 ms",
        None
        if reach is None
        else (reach <= 100_000 and two_k.get("broadcast_lost") == 0),
        f"{_ms(reach)} ms, lost {two_k.get('broadcast_lost')}",
    )
    storm = sc.get("s6", {}).get("results", {}).get("hearth", {})
    if storm and "error" not in storm:
        ok = (
            storm.get("failed_handshakes") == 0
            and (storm.get("all_back_seconds") or 99) <= 3
            and not storm.get("stale_group_members")
            and storm.get("reconnected") == sc["s6"]["params"]["members"]
        )
        add(
            "Reconnect storm: no failed handshake, all back and resumed ≤ 3 s, no stale members",
            ok,
            f"failed {storm.get('failed_handshakes')}, back in "
            f"{storm.get('all_back_seconds')} s, stale {storm.get('stale_group_members')}",
            f"{sc['s6']['params']['members']} members, {sc['s6']['params']['in_flight']} in flight",
        )
    else:
        add(
            "Reconnect storm",
            None,
            storm.get("error", "\u2013")[:120] if storm else "\u2013",
        )
    slow = sc.get("s7", {}).get("results", {}).get("hearth", {})
    if slow and "error" not in slow and slow.get("p99_rise_percent") is not None:
        growth = (slow.get("rss_peak_bytes") or 0) - (slow.get("rss_start_bytes") or 0)
        add(
            "Slow consumer: others' p99 rises ≤ 20%",
            slow["p99_rise_percent"] <= 20,
            f"{slow['p99_rise_percent']}%",
        )
        add(
            "Slow consumer: server memory bounded (≤ 32 MiB growth, our bound)",
            growth <= 32 * MIB,
            f"{growth / MIB:.1f} MiB",
        )
    else:
        add("Slow consumer", None, "\u2013")
    res = sc.get("s8", {}).get("results", {}).get("hearth", {})
    if res and "error" not in res:
        ok = (
            res.get("resumed")
            and res.get("in_order")
            and res.get("chat_events_received") == res.get("missed_chat_events")
            and res.get("seconds_until_resumed", 99) <= 0.1
        )
        add(
            "Resume of 1,000 events ≤ 100 ms, all in order",
            bool(ok),
            f"{res.get('seconds_until_resumed', 0) * 1000:.0f} ms, "
            f"{res.get('chat_events_received')} received",
        )
    else:
        add("Resume of 1,000 events ≤ 100 ms", None, "\u2013")
    pages = sc.get("s9", {}).get("results", {}).get("hearth", {}).get("pages", {})
    if pages:
        worst = max((p["latency_us"]["p99"] or 0) for p in pages.values())
        constant = all(p["queries_small"] == p["queries_full"] for p in pages.values())
        all_ok = all(set(p["statuses"]) == {"200"} for p in pages.values())
        add("Pages: p99 ≤ 50 ms", worst <= 50_000 and all_ok, f"worst {_ms(worst)} ms")
        add(
            "Pages: constant number of queries",
            constant,
            ", ".join(
                f"{n} {p['queries_small']}→{p['queries_full']}"
                for n, p in pages.items()
            ),
        )
    else:
        add("Pages: p99 ≤ 50 ms, constant queries", None, "\u2013")
    rem = sc.get("s10", {})
    parsed = rem.get("results", {}).get("hearth", {}).get("parsed")
    seconds = parsed.get("seconds") if isinstance(parsed, dict) else None
    emails = parsed.get("emails") if isinstance(parsed, dict) else None
    full_size = emails is not None and emails >= 10_000
    add(
        "Reminders: 10,000 in ≤ 30 s",
        None if seconds is None or not full_size else float(seconds) <= 30,
        "\u2013" if seconds is None else f"{seconds} s for {emails} emails",
        rem.get(
            "skipped",
            "judged at 10,000 only (full profile)"
            if seconds is not None and not full_size
            else "",
        ),
    )
    scr = sc.get("s11", {})
    p99 = scr.get("results", {}).get("hearth", {}).get("p99_us")
    add(
        "Screening: p99 ≤ 1 ms per message",
        None if p99 is None else p99 <= 1000,
        "\u2013" if p99 is None else f"{p99} µs",
        scr.get("skipped", ""),
    )
    quality = scr.get("results", {}).get("hearth", {}).get("quality", {})
    shipped = quality.get("figures", {}).get(f"{quality.get('shipped')} (shipped)", {})
    for label, key, goal, higher in (
        ("imminent + method recall ≥ 0.90", "recall_held", 0.90, True),
        ("concern recall ≥ 0.85", "recall_concern", 0.85, True),
        ("third-party recall ≥ 0.80", "recall_third_party", 0.80, True),
        ("false alarms ≤ 3% of hard negatives", "false_alarm_rate", 0.03, False),
    ):
        value = shipped.get(key)
        add(
            f"Screening on the test part: {label}",
            None if value is None else (value >= goal if higher else value <= goal),
            "\u2013" if value is None else f"{value:.3f}",
            scr.get("skipped", ""),
        )
    return out


# --- SVG chart -------------------------------------------------------------------
COLOURS = {
    "raw": "#1b7837",
    "bare": "#5aae61",
    "tutorial": "#d6604d",
    "hearth": "#2166ac",
}


def chart_series(data: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """p99 until everyone has it (ms) against room size: rooms of 30 and
    500 at 2 msg/s, and the single broadcast to the idle rooms."""
    sc = data.get("scenarios", {})
    series: dict[str, list[tuple[int, float]]] = {}
    for kind in TARGETS:
        points: list[tuple[int, float]] = []
        for key, size in (
            ("s1", 30),
            ("s2", sc.get("s2", {}).get("params", {}).get("size", 500)),
        ):
            point = _point(sc.get(key, {}).get("results", {}), kind, 2)
            if point and point["everyone_us"]["p99"]:
                points.append((int(size), point["everyone_us"]["p99"] / 1000))
        for size, result in sc.get("s5", {}).get("results", {}).get(kind, {}).items():
            reach = result.get("broadcast_to_last_us")
            if reach:
                points.append((int(size), reach / 1000))
        if points:
            series[kind] = sorted(points)
    return series


def svg_chart(data: dict[str, Any]) -> str:
    series = chart_series(data)
    width, height, left, right, top, bottom = 720, 420, 70, 200, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for pts in series.values() for _, v in pts] or [1.0]
    sizes = sorted({s for pts in series.values() for s, _ in pts}) or [30]
    y_lo = 10 ** math.floor(math.log10(max(min(values), 0.01)))
    y_hi = 10 ** math.ceil(math.log10(max(max(values), y_lo * 10)))
    x_lo, x_hi = math.log10(min(sizes)), math.log10(max(sizes) * 1.0001)
    if x_hi - x_lo < 0.5:
        x_lo, x_hi = x_lo - 0.25, x_hi + 0.25

    def x(size: float) -> float:
        return left + (math.log10(size) - x_lo) / (x_hi - x_lo) * plot_w

    def y(ms: float) -> float:
        ms = max(ms, y_lo)
        frac = (math.log10(ms) - math.log10(y_lo)) / (
            math.log10(y_hi) - math.log10(y_lo)
        )
        return top + plot_h - frac * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
        'role="img" aria-labelledby="title">',
        '<title id="title">p99 until everyone has a message, by room size</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    decade = y_lo
    while decade <= y_hi * 1.0001:
        yy = y(decade)
        label = f"{decade:g}"
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>'
        )
        decade *= 10
    for size in sizes:
        xx = x(size)
        parts.append(
            f'<line x1="{xx:.1f}" y1="{top + plot_h}" x2="{xx:.1f}" y2="{top + plot_h + 5}" stroke="#333"/>'
            f'<text x="{xx:.1f}" y="{top + plot_h + 20}" text-anchor="middle">{size:,}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
        "members in the room (log)</text>"
        f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2})">p99 until everyone, ms (log)</text>'
    )
    for n, (kind, points) in enumerate(series.items()):
        colour = COLOURS.get(kind, "#000")
        path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for s, v in points:
            parts.append(
                f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                f"<title>{kind}: {s} members, {v:.1f} ms</title></circle>"
            )
        ly = top + 10 + n * 20
        lx = left + plot_w + 15
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 20}" y2="{ly}" stroke="{colour}" stroke-width="3"/>'
            f'<text x="{lx + 26}" y="{ly + 4}">{kind}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w + 15}" y="{top + 100}" font-size="10" fill="#555">'
        "30 and 500: chat at 2/s;</text>"
        f'<text x="{left + plot_w + 15}" y="{top + 114}" font-size="10" fill="#555">'
        "larger: one broadcast</text>"
        f'<text x="{left + plot_w + 15}" y="{top + 128}" font-size="10" fill="#555">'
        "to an idle room</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


# --- Markdown ----------------------------------------------------------------------
def _row(cells: list[Any]) -> str:
    return "| " + " | ".join("\u2013" if c is None else str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows), ""]


def _faults(point: dict[str, Any]) -> str:
    return f"{point['lost']}/{point['doubled']}/{point['out_of_order']}" + (
        f" (+{point['event_gaps']} seq gaps)" if point.get("event_gaps") else ""
    )


def _load_rows(section: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for kind in TARGETS:
        result = section.get("results", {}).get(kind)
        if result is None:
            continue
        if "error" in result:
            rows.append([kind, "error", result["error"][:100], *[""] * 8])
            continue
        for rate, point in result.get("points", {}).items():
            lat, every = point["latency_us"], point["everyone_us"]
            reps = point.get("repeats", {}).get("cpu_us_per_delivery", {})
            cpu = point["cpu_us_per_delivery"]
            if reps.get("runs", 0) > 1:
                cpu = f"{reps['median']:.1f} ({reps['min']:.1f}\u2013{reps['max']:.1f})"
            rows.append(
                [
                    kind,
                    rate,
                    point["deliveries"],
                    cpu,
                    point.get("net_cpu_us_per_delivery"),
                    _ms(lat["p50"]),
                    _ms(lat["p99"]),
                    _ms(lat["max"]),
                    _ms(every["p99"]),
                    _faults(point),
                    f"{point['client_cpu_fraction']:.0%}"
                    + (" client-bound" if point["client_bound"] else ""),
                ]
            )
    return rows


LOAD_HEAD = [
    "target",
    "msg/s",
    "deliveries",
    "server CPU µs/delivery",
    "net of idle µs",
    "p50 ms",
    "p99 ms",
    "max ms",
    "p99 everyone ms",
    "lost/doubled/reordered",
    "client CPU",
]


def markdown(data: dict[str, Any], chart_name: str) -> str:
    meta = data["meta"]
    sc = data.get("scenarios", {})
    lines = [
        f"# Hearth benchmark — {meta['profile']} profile",
        "",
        f"Run {meta['started']} → {meta['finished']} ({meta.get('wall_seconds')} s). "
        "Generated by `python -m bench`; do not edit by hand.",
        "",
        "## Setup",
        "",
    ]
    m = meta["machine"]
    lines += [
        f"- Machine: {m['cpu_model']}, {m['logical_cores']} logical cores, "
        f"{m['memory_gib']} GiB, kernel {m['kernel']} (fingerprint `{m['fingerprint']}`).",
        "- Versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + ".",
        f"- Pinning: {meta['pinning']}",
        f"- Product database: {meta['database']}; channel layer: channels_redis "
        "RedisChannelLayer on 127.0.0.1:6379 (bench-only database numbers "
        f"{meta['redis_dbs']}); never the in-memory layer (quadratic group sends).",
        "- redis-py is pinned below 8 by this project (pyproject): redis-py 8's "
        "5 s socket_timeout and 100-connection pool defaults tear channels-redis "
        "consumers down; the figures here are on "
        f"redis-py {meta['versions'].get('redis-py')}.",
        "- Rate limits raised for load runs: "
        + ", ".join(f"`{k}={v}`" for k, v in meta["overrides"].items())
        + " (the product's defaults are 30 a minute and 10 in 10 s per person).",
        "- Every server: loopback, uvicorn `--ws websockets --ws-per-message-deflate "
        "false` (raw: `websockets.serve(compression=None)`), clients send with "
        "compression off, ~150-byte chat frames carrying a send timestamp and a "
        "sequence. Server CPU from /proc/<pid>/task/*/schedstat (ns).",
        *(f"- {note}" for note in meta.get("notes", [])),
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["target", "status", "measured", "detail"],
        [
            [t["target"], f"**{t['status']}**", t["value"], t["detail"]]
            for t in data["targets"]
        ],
    )
    titles = {
        "s1": "1. Room of 30",
        "s2": "2. Town hall",
        "s3": "3. Many rooms, two workers",
        "s4": "4. Saturation",
        "s5": "5. Idle capacity",
        "s6": "6. Reconnect storm",
        "s7": "7. Slow consumer",
        "s8": "8. Resume",
        "s9": "9. Pages",
        "s10": "10. Reminders",
        "s11": "11. Screening",
    }
    for key, title in titles.items():
        section = sc.get(key)
        if section is None:
            continue
        lines += [
            f"## {title}",
            "",
            f"Parameters: `{json.dumps(section.get('params', {}))}`",
            "",
        ]
        if section.get("skipped"):
            lines += [f"Skipped: {section['skipped']}", ""]
        lines += [f"- {note}" for note in section.get("notes", [])]
        if section.get("notes"):
            lines.append("")
        lines += _section_tables(key, section)
    lines += [
        "## Latency against room size",
        "",
        f"![p99 until everyone, by room size]({chart_name})",
        "",
        "Targets: " + ", ".join(f"{k} = {LABELS[k]}" for k in TARGETS) + ".",
        "",
    ]
    return "\n".join(lines)


def _section_tables(key: str, section: dict[str, Any]) -> list[str]:
    results = section.get("results", {})
    if key in ("s1", "s2"):
        lines = _table(LOAD_HEAD, _load_rows(section))
        setup = [
            [
                k,
                r.get("setup", {}).get("setup_seconds"),
                r.get("setup", {}).get("connected"),
                r.get("setup", {}).get("joined"),
            ]
            for k, r in results.items()
            if "error" not in r
        ]
        lines += ["Setup (connect, open, join):", ""]
        lines += _table(["target", "seconds", "connected", "joined"], setup)
        hearth = results.get("hearth", {})
        timed_rows = []
        for rate, point in hearth.get("points", {}).items():
            for kind, figures in point.get("timed_events_us", {}).items():
                timed_rows.append(
                    [rate, kind, figures["n"], _ms(figures["p50"]), _ms(figures["max"])]
                )
        if timed_rows:
            lines += ["Hearth events timed from send to the last member:", ""]
            lines += _table(
                ["msg/s", "event", "n", "p50 ms until everyone", "max ms"], timed_rows
            )
        return lines
    if key == "s3":
        rows = []
        for kind, r in results.items():
            if "error" in r:
                rows.append([kind, r["error"][:100], *[""] * 6])
                continue
            p = r["point"]
            rows.append(
                [
                    kind,
                    p["deliveries_per_second"],
                    p["per_worker_deliveries_per_second"],
                    p["cpu_us_per_delivery"],
                    _ms(p["latency_us"]["p99"]),
                    _ms(p["everyone_us"]["p99"]),
                    _faults(p),
                    f"{p['client_cpu_fraction']:.0%}",
                ]
            )
        return _table(
            [
                "target",
                "deliveries/s",
                "per worker",
                "CPU µs/delivery",
                "p99 ms",
                "p99 everyone ms",
                "lost/doubled/reordered",
                "client CPU",
            ],
            rows,
        )
    if key == "s4":
        rows = []
        for size_key in ("30", "500"):
            sub = section.get(size_key, {})
            for kind, r in sub.get("results", {}).items():
                if not r or "error" in r:
                    rows.append([kind, size_key, "error", "", "", ""])
                    continue
                steps = "; ".join(
                    f"{s['rate']}/s→{s['deliveries_per_second']}/s "
                    f"({s['server_cpu_fraction']:.0%} CPU, p99e {_ms(s['p99_everyone_us'])} ms"
                    f"{', lost ' + str(s['lost']) if s['lost'] else ''})"
                    for s in r["steps"]
                )
                rows.append(
                    [
                        kind,
                        size_key,
                        r["max_healthy_deliveries_per_second"],
                        r["projected_deliveries_per_core_second"],
                        "yes" if r["client_bound"] else "no",
                        steps,
                    ]
                )
        return _table(
            [
                "target",
                "members",
                "max healthy deliveries/s (one worker)",
                "projected deliveries per core-second",
                "client-bound",
                "steps",
            ],
            rows,
        )
    if key == "s5":
        rows = []
        for kind, by_size in results.items():
            for size, r in by_size.items():
                if "error" in r:
                    rows.append([kind, size, r["error"][:100], *[""] * 5])
                    continue
                rows.append(
                    [
                        kind,
                        size,
                        r["connections"],
                        r["failed"],
                        r["kib_per_connection"],
                        f"{r['idle_cpu_fraction']:.1%}",
                        _ms(r["broadcast_to_last_us"]),
                        r["broadcast_lost"],
                        r["setup"].get("setup_seconds"),
                    ]
                )
        return _table(
            [
                "target",
                "size",
                "connected",
                "failed",
                "KiB/connection",
                "idle CPU",
                "broadcast to last ms",
                "lost",
                "setup s",
            ],
            rows,
        )
    if key == "s6":
        rows = []
        for kind, r in results.items():
            if "error" in r:
                rows.append([kind, r["error"][:100], *[""] * 5])
                continue
            rows.append(
                [
                    kind,
                    r["reconnected"],
                    r["failed_handshakes"],
                    r["all_back_seconds"],
                    r["resyncs"],
                    r["stale_group_members"],
                    r["broadcast_after_lost"],
                ]
            )
        return _table(
            [
                "target",
                "back",
                "failed handshakes",
                "all back s",
                "resyncs",
                "stale group members",
                "lost after",
            ],
            rows,
        )
    if key == "s7":
        rows = []
        for kind, r in results.items():
            if "error" in r:
                rows.append([kind, r["error"][:100], *[""] * 5])
                continue
            member = r.get("slow_member") or {}
            rows.append(
                [
                    kind,
                    _ms(r["others_p99_outside_stall_us"]),
                    _ms(r["others_p99_during_stall_us"]),
                    r["p99_rise_percent"],
                    f"{(r['rss_start_bytes'] or 0) / MIB:.1f} → {(r['rss_peak_bytes'] or 0) / MIB:.1f}",
                    f"got {member.get('delivered')}, "
                    + (
                        "still open"
                        if member.get("still_open")
                        else f"closed {member.get('close_code')}"
                    ),
                    r["lost"],
                ]
            )
        return _table(
            [
                "target",
                "others p99 outside ms",
                "others p99 during stall ms",
                "rise %",
                "RSS MiB start → peak",
                "slow member",
                "lost (all members)",
            ],
            rows,
        )
    if key == "s8":
        r = results.get("hearth", {})
        if not r or "error" in r:
            return [f"Error: {r.get('error', 'not run')[:300]}", ""]
        return _table(
            [
                "missed",
                "resumed",
                "ms until resumed",
                "received",
                "in order",
                "doubled",
            ],
            [
                [
                    r["missed_chat_events"],
                    r["resumed"],
                    round(r["seconds_until_resumed"] * 1000, 1),
                    r["chat_events_received"],
                    r["in_order"],
                    r["doubled"],
                ]
            ],
        )
    if key == "s9":
        r = results.get("hearth", {})
        if not r or "error" in r:
            return [f"Error: {r.get('error', 'not run')[:300]}", ""]
        rows = [
            [
                name,
                p["path"],
                p["requests_per_second"],
                _ms(p["latency_us"]["p50"]),
                _ms(p["latency_us"]["p99"]),
                p["server_cpu_ms_per_request"],
                f"{p['queries_small']} → {p['queries_full']}",
                json.dumps(p["statuses"]),
            ]
            for name, p in r["pages"].items()
        ]
        return _table(
            [
                "page",
                "path",
                "req/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms/request",
                "queries small → full",
                "statuses",
            ],
            rows,
        )
    if key in ("s10", "s11"):
        r = results.get("hearth")
        if not r:
            return []
        r = dict(r)
        quality = r.pop("quality", None)
        out = ["```", json.dumps(r, indent=1)[:3000], "```", ""]
        if quality:
            out += [
                f"Quality on the corpus's test part ({quality['test_lines']} lines, "
                "written separately, never tuned on):",
                "",
                quality["table"],
                "",
                "The shipped screener on each test file:",
                "",
                quality.get("parts_table", ""),
                "",
            ]
        return out
    return []


def write(data: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    data["targets"] = judge(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = out_dir / "latest-latency.svg"
    chart.write_text(svg_chart(data))
    json_path = out_dir / "latest.json"
    json_path.write_text(json.dumps(data, indent=1, default=str))
    md_path = out_dir / "latest.md"
    md_path.write_text(markdown(data, chart.name))
    return json_path, md_path


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Side by side, only when both runs come from the same machine kind."""
    a = old.get("meta", {}).get("machine", {}).get("fingerprint")
    b = new.get("meta", {}).get("machine", {}).get("fingerprint")
    if not a or a != b:
        raise ValueError(
            f"refusing to compare runs from different machines (fingerprint {a} vs {b})"
        )
    lines = [
        "| scenario | target | msg/s | old CPU µs/delivery | new | old p99 everyone ms | new |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in ("s1", "s2"):
        for kind in TARGETS:
            old_points = (
                old.get("scenarios", {}).get(key, {}).get("results", {}).get(kind, {})
            )
            new_points = (
                new.get("scenarios", {}).get(key, {}).get("results", {}).get(kind, {})
            )
            for rate, point in new_points.get("points", {}).items():
                before = old_points.get("points", {}).get(rate)
                if not before:
                    continue
                lines.append(
                    _row(
                        [
                            key,
                            kind,
                            rate,
                            before["cpu_us_per_delivery"],
                            point["cpu_us_per_delivery"],
                            _ms(before["everyone_us"]["p99"]),
                            _ms(point["everyone_us"]["p99"]),
                        ]
                    )
                )
    return "\n".join(lines)
