"""The benchmark's smoke run: seconds, tiny sizes, so the harness cannot rot.

A room of 3 for 2 s against the raw-websockets limit and the product (on a
throwaway SQLite file, Redis for the channel layer), then the report
writer. It checks that the harness measures, not what it measures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report
from bench.machine import fingerprint

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
def test_smoke_run_measures_both_targets_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--only",
            "s1",
            "--targets",
            "raw,hearth",
            "--database",
            "sqlite",
            "--redis-db-base",
            "6",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((out / "latest.json").read_text())
    results = data["scenarios"]["s1"]["results"]
    for kind in ("raw", "hearth"):
        assert "error" not in results[kind], results[kind]
        point = results[kind]["points"]["2"]
        assert point["messages_sent"] >= 3
        assert point["deliveries"] == point["deliveries_expected"] > 0
        assert point["lost"] == point["doubled"] == point["out_of_order"] == 0
        assert point["cpu_us_per_delivery"] > 0
        assert point["everyone_us"]["p99"] is not None
    assert results["hearth"]["setup"]["joined"] == 3
    markdown = (out / "latest.md").read_text()
    assert "## Targets" in markdown
    assert "1. Room of 30" in markdown
    assert (out / "latest-latency.svg").read_text().startswith("<svg")
    assert data["meta"]["machine"]["fingerprint"]


def test_report_refuses_to_compare_runs_from_different_machines() -> None:
    here = {"cpu_model": "A", "logical_cores": 2, "memory_gib": 24.0}
    there = {"cpu_model": "B", "logical_cores": 2, "memory_gib": 24.0}
    old = {"meta": {"machine": {"fingerprint": fingerprint(here)}}, "scenarios": {}}
    new = {"meta": {"machine": {"fingerprint": fingerprint(there)}}, "scenarios": {}}
    with pytest.raises(ValueError, match="different machines"):
        report.compare(old, new)
    assert report.compare(old, old).startswith("| scenario")


def test_report_writer_judges_targets_from_figures(tmp_path: Path) -> None:
    point = {
        "cpu_us_per_delivery": 10.0,
        "everyone_us": {"n": 5, "p50": 1000, "p99": 4000, "max": 4000},
        "latency_us": {"n": 50, "p50": 900, "p99": 3000, "max": 4000},
        "deliveries": 50,
        "lost": 0,
        "doubled": 0,
        "out_of_order": 0,
        "event_gaps": 0,
        "event_doubled": 0,
        "client_cpu_fraction": 0.1,
        "client_bound": False,
    }
    peer = {**point, "cpu_us_per_delivery": 60.0}
    raw = {**point, "cpu_us_per_delivery": 5.0}
    data = {
        "meta": {
            "profile": "test",
            "started": "now",
            "finished": "now",
            "machine": {
                "cpu_model": "A",
                "logical_cores": 2,
                "memory_gib": 1,
                "kernel": "k",
                "fingerprint": "f",
            },
            "versions": {"redis-py": "7"},
            "pinning": "none",
            "database": "sqlite",
            "redis_dbs": [6],
            "overrides": {},
        },
        "scenarios": {
            "s1": {
                "params": {},
                "results": {
                    "hearth": {"points": {"2": point, "10": point}},
                    "tutorial": {"points": {"2": peer, "10": peer}},
                    "raw": {"points": {"2": raw, "10": raw}},
                },
            }
        },
    }
    report.write(data, tmp_path)
    verdicts = {t["target"]: t["status"] for t in data["targets"]}
    assert verdicts["CPU per delivery at 30 members \u2264 1/3 of the peer's"] == "pass"
    assert verdicts["CPU per delivery at 30 members within 5x the raw limit"] == "pass"
    assert (
        verdicts["p99 until everyone has it \u2264 5 ms at 30 members, 2/s"] == "pass"
    )
    assert verdicts["Memory per idle connection \u2264 30 KiB"] == "not run"
    assert "<polyline" in (tmp_path / "latest-latency.svg").read_text()
