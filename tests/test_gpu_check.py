"""benchmarks/gpu_check.py, the one command for the day a GPU is lent, runs here at toy size on the CPU: every
part ends with a figure or a stated reason, in JSON and in Markdown, and the command ends within a minute. So a
typo cannot cost the GPU's ten minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
PARTS = ["steps", "plain", "loader", "fid", "ddp"]


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def test_the_toy_run_reports_a_figure_or_a_reason_for_every_part(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(BENCHMARKS / "gpu_check.py"), "--cpu-toy", "--threads", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=170, env=env, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    table = (tmp_path / "gpu_check.md").read_text()
    assert report["settings"]["mode"] == "cpu-toy"
    assert {"device", "cpu", "torch", "cuda", "device_details"} <= set(report["environment"])
    assert list(report["parts"]) == PARTS
    for number, (name, part) in enumerate(report["parts"].items(), start=1):
        # an error here is a bug that would also end the part on the GPU
        assert part["status"] in ("done", "partial", "skipped"), (name, part.get("reason"))
        if part["status"] == "skipped":
            assert part["reason"], name
        else:
            assert any(is_number(v) for row in part["rows"] for v in row.values()), name
        assert f"## {number}. {name}:" in table and f"**{part['status']}" in table
    steps = {row["variant"]: row for row in report["parts"]["steps"]["rows"]}
    assert set(steps) == {"fp32", "bf16-mixed", "compile", "channels_last"}
    assert all(row["median_ms"] > 0 for row in steps.values()), steps
    assert is_number(steps["compile"]["compile_s"])
    assert "| fp32 |" in table
    assert elapsed < 120, f"the toy run took {elapsed:.0f} s"


def test_a_part_that_overruns_its_box_is_cut_and_one_that_fails_is_recorded(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(BENCHMARKS))
    report = gpu_check.Report(tmp_path, {}, {}, ["steps", "plain", "loader"])
    report.write = lambda: None  # the Markdown needs a full environment; the statuses are what is checked
    watchdog = gpu_check.Watchdog(report, grace=30)  # not started: nothing here hangs

    def slow(part, clock):
        part["rows"].append({"variant": "fp32", "median_ms": 1.0})
        time.sleep(30)

    def failing(part, clock):
        raise RuntimeError("CUDA out of memory\nsecond line")

    def fine(part, clock):
        part["rows"].append({"source": "x", "images_per_s": 10})

    started = time.monotonic()
    gpu_check.run_part("steps", slow, 4, report, watchdog)
    assert time.monotonic() - started < 10
    gpu_check.run_part("plain", failing, 5, report, watchdog)
    gpu_check.run_part("loader", fine, 5, report, watchdog)
    parts = report.data["parts"]
    assert parts["steps"]["status"] == "partial" and "time box of 4 s" in parts["steps"]["reason"]
    assert parts["plain"] == {**parts["plain"], "status": "error", "reason": "RuntimeError: CUDA out of memory"}
    assert parts["loader"]["status"] == "done"
