"""Where the bot's memory goes: run it under tracemalloc, or report on what a run dumped.

`python bench/traced.py DIR` serves like `python -m bot`, tracing every allocation from before
the first import (BENCH_TRACE_FRAMES frames each, 10 unless set). It writes snapshots to DIR:
`<label>.snap` on SIGUSR1 (the labels in BENCH_TRACE_LABELS, comma-separated, one a signal),
and, from the first of those on, `peak.snap` each time the traced total passes its highest yet
by 8 MiB (a thread looks every 50 ms), so the last one written is the burst's peak. bench/declare.py --trace DIR
drives it; `python bench/traced.py --report DIR` then prints the top sources.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

# above the highest snapshot so far before a new peak snapshot: each one stalls the bot
STEP = 8 * 1024 * 1024
ROOT = str(Path(__file__).resolve().parents[1])


def serve(folder: Path) -> int:
    """Trace, then serve as `python -m bot` does."""
    tracemalloc.start(int(os.environ.get("BENCH_TRACE_FRAMES", "10")))
    folder.mkdir(parents=True, exist_ok=True)
    labels = [label for label in os.environ.get("BENCH_TRACE_LABELS", "").split(",") if label]

    watching = threading.Event()

    def on_signal(_number: int, _frame: object) -> None:
        label = labels.pop(0) if labels else f"extra-{int(time.time())}"
        tracemalloc.take_snapshot().dump(str(folder / f"{label}.snap"))
        watching.set()

    signal.signal(signal.SIGUSR1, on_signal)
    threading.Thread(target=_watch_peak, args=(folder, watching), daemon=True).start()
    sys.path.insert(0, ROOT)
    from bot.__main__ import main

    return main([])


def _watch_peak(folder: Path, watching: threading.Event) -> None:
    """From the first snapshot on (the start-up's imports would each be one), keep the
    highest."""
    watching.wait()
    highest, _ = tracemalloc.get_traced_memory()
    while True:
        time.sleep(0.05)
        current, _peak = tracemalloc.get_traced_memory()
        if current > highest + STEP:
            highest = current
            tracemalloc.take_snapshot().dump(str(folder / "peak.snap"))
            (folder / "peak.txt").write_text(f"{current}\n")


def report(folder: Path, top: int = 12) -> None:
    """The top sources of each snapshot by traceback, and what the peak and the settled
    snapshot hold beyond the idle one."""
    snaps = {p.stem: tracemalloc.Snapshot.load(str(p)) for p in sorted(folder.glob("*.snap"))}
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]  # the snapshots themselves
    snaps = {label: snap.filter_traces(ignore) for label, snap in snaps.items()}
    for label, snap in snaps.items():
        total = sum(stat.size for stat in snap.statistics("filename"))
        print(f"== {label}: {total / 2**20:.1f} MiB traced")
        _print_stats(snap.statistics("filename")[:top], "by file")
    idle = snaps.get("idle")
    if idle is None:
        return
    for label in ("peak", "settled"):
        if label not in snaps:
            continue
        diff = snaps[label].compare_to(idle, "filename")
        growth = sum(stat.size_diff for stat in diff)
        print(f"== {label} minus idle: {growth / 2**20:+.1f} MiB")
        _print_diff(diff[:top])
        by_traceback = snaps[label].compare_to(idle, "traceback")
        _print_by_bot_frame(by_traceback, top)
        for stat in by_traceback[:top]:
            print(f"  {stat.size_diff / 2**20:+7.2f} MiB  {stat.count_diff:+8d} blocks")
            for line in stat.traceback.format(limit=10, most_recent_first=True)[:20]:
                print(f"      {line}")


def _print_by_bot_frame(stats: list[tracemalloc.StatisticDiff], top: int) -> None:
    """Growth summed by the innermost frame in the bot's own code: which of its calls holds it."""
    sizes: Counter[str] = Counter()
    for stat in stats:
        frames = [f for f in stat.traceback if f"{os.sep}bot{os.sep}" in f.filename]
        key = f"{_short(frames[0].filename)}:{frames[0].lineno}" if frames else "(no bot frame)"
        sizes[key] += stat.size_diff
    print("  by innermost bot frame:")
    for key, size in sizes.most_common(top):
        print(f"  {size / 2**20:+7.2f} MiB  {key}")


def _print_stats(stats: list[tracemalloc.Statistic], what: str) -> None:
    print(f"  {what}:")
    for stat in stats:
        frame = stat.traceback[0]
        print(f"  {stat.size / 2**20:7.2f} MiB {stat.count:8d} blocks  {_short(frame.filename)}")


def _print_diff(stats: list[tracemalloc.StatisticDiff]) -> None:
    for stat in stats:
        frame = stat.traceback[0]
        print(
            f"  {stat.size_diff / 2**20:+7.2f} MiB {stat.count_diff:+8d} blocks  "
            f"{_short(frame.filename)}"
        )


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3.", f"{ROOT}/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        report(Path(sys.argv[2]))
    else:
        sys.exit(serve(Path(sys.argv[1])))
