"""Latency of each explorer's redraw, driven the way a slider drives it.

For every explorer this sets a control's ``value`` (exactly what the browser's slider does
through the widget's comm: the observer calls ``update``, which recomputes, repaints the moving
artists and encodes the PNG frame), for NUM_MOVES values sweeping the slider's range, and
prints the p50 and p95 of the wall time per move. The target is p95 < 50 ms at the default
sizes. The time to send the frame to the browser is not included (no kernel is attached).
CPU time per move is printed too: on a shared, busy machine wall time is inflated by waiting
for a core, CPU time is not (the 1-minute load average is printed to tell the two apart).
This script prints figures; it asserts nothing.

    .venv/bin/python benchmarks/bench_widgets.py
"""

import os
import time

import numpy as np

from lr_course import widgets

NUM_MOVES = 50
TARGET_P95_MS = 50.0


def sweep_log(slider, num=NUM_MOVES):
    """Values a log slider visits when dragged from one end to the other and back."""
    lo, hi = slider.base ** slider.min, slider.base ** slider.max
    there = np.geomspace(lo, hi, num // 2)
    return np.concatenate([there, there[::-1]])[:num]


def sweep_int(slider, num=NUM_MOVES):
    there = np.linspace(slider.min, slider.max, num // 2).round().astype(int)
    return np.concatenate([there, there[::-1]])[:num]


def time_moves(control, values):
    """Wall and CPU milliseconds of each move (CPU time is what a busy machine does not inflate)."""
    wall, cpu = [], []
    for value in values:
        start, start_cpu = time.perf_counter(), time.process_time()
        control.value = value.item() if hasattr(value, "item") else value
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 1000 * np.array(wall), 1000 * np.array(cpu)


def cases():
    """(explorer, control) pairs: build each explorer once (build time is printed apart)."""
    start = time.perf_counter()
    step = widgets.step_size_explorer()
    yield "step size: lr slider", time.perf_counter() - start, step.slider, sweep_log(step.slider)

    start = time.perf_counter()
    race = widgets.optimizer_race()
    built = time.perf_counter() - start
    yield "race: one racer's lr slider", built, race.sliders["sgd"], sweep_log(race.sliders["sgd"], NUM_MOVES)
    yield "race: step slider / play", 0.0, race.step_slider, sweep_int(race.step_slider)

    start = time.perf_counter()
    designer = widgets.schedule_designer()
    built = time.perf_counter() - start
    yield "schedule designer: lr_min slider", built, designer.controls["lr_min"], \
        sweep_log(designer.controls["lr_min"])
    yield "schedule designer: lr0 slider", 0.0, designer.controls["lr0"], \
        sweep_log(designer.controls["lr0"])

    start = time.perf_counter()
    finder = widgets.range_test_explorer()
    built = time.perf_counter() - start
    seeds = np.arange(NUM_MOVES) % 21
    yield "range test (MLP, reruns): seed slider", built, finder.controls["seed"], seeds

    start = time.perf_counter()
    search = widgets.search_explorer()
    built = time.perf_counter() - start
    yield "search: seed slider", built, search.controls["seed"], np.arange(NUM_MOVES)


def main():
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"explorer latency per slider move, {NUM_MOVES} moves each "
          f"(target p95 < {TARGET_P95_MS:.0f} ms; 1-min load average {load:.1f}, "
          f"{os.cpu_count()} cores)")
    print(f"{'explorer: control':40s} {'build s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} "
          f"{'cpu p95':>8s}  target (on wall p95)")
    for name, built, control, values in cases():
        wall, cpu = time_moves(control, values)
        p50, p95 = np.percentile(wall, [50, 95])
        verdict = "ok" if p95 < TARGET_P95_MS else "MISSED"
        print(f"{name:40s} {built:8.2f} {p50:8.1f} {p95:8.1f} {np.percentile(cpu, 95):8.1f}  "
              f"{verdict}")


if __name__ == "__main__":
    main()
