"""Update latency of the five explorers at their default sizes.

For each explorer: build it at its defaults, then change one control through several values it
has not computed yet ("cold": compute + figure + widget update) and then back through the same
values ("cached": the explorer keeps rendered frames, so only the widget update). The latency
is the time from ``set(...)`` until ``wait()`` returns, i.e. until the new figure and readout
are in the widget. Prints the median and the largest, the CPU seconds of the cold changes
(close to what an idle machine would take when other jobs share the cores), and the load.

Run: ``.venv/bin/python benchmarks/bench_widgets.py``
"""

from __future__ import annotations

import os
import statistics
import time

from qnncourse import widgets

# explorer factory, the control to move, the values it moves through (none of them the default)
CHANGES = [
    (widgets.landscape_explorer, "theta",
     [widgets.EXPLORERS["landscape"].control("theta").values[k] for k in (3, 6, 10, 14, 16)]),
    (widgets.plateau_explorer, "depth", [1, 2, 3, 6, 8]),
    (widgets.noise_explorer, "rate", [0.01, 0.02, 0.1, 0.2]),
    (widgets.optimizer_race, "scale", [0.5, 2.0, 4.0]),
    (widgets.dla_explorer, "family", list(widgets.EXPLORERS["dla"].control("family").values)[1:]),
]


def _latency(explorer: widgets.Explorer, name: str, value) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process, all threads) of one change."""
    start, cpu = time.perf_counter(), time.process_time()
    explorer.set(**{name: value}).wait(timeout=300)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    rows = []
    for factory, name, values in CHANGES:
        start = time.perf_counter()
        explorer = factory()
        explorer.wait(timeout=300)
        first = time.perf_counter() - start
        cold = [_latency(explorer, name, v) for v in values]
        cached = [_latency(explorer, name, v)[0] for v in values]
        rows.append((factory.__name__, name, first, cold, cached))
    print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'explorer':<20} {'control':<8} {'first':>7} {'cold median':>12} {'cold max':>9} "
          f"{'cold CPU median':>16} {'cached median':>14} {'changes':>8}")
    for explorer, name, first, cold, cached in rows:
        wall, cpu = [w for w, _ in cold], [c for _, c in cold]
        print(f"{explorer:<20} {name:<8} {first:>6.2f}s {statistics.median(wall):>11.2f}s "
              f"{max(wall):>8.2f}s {statistics.median(cpu):>15.2f}s "
              f"{statistics.median(cached):>13.2f}s {len(cold):>8}")


if __name__ == "__main__":
    main()
