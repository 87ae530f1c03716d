"""Bar 5: running a finished sweep again fits nothing and takes seconds.

python benchmarks/rerun.py
"""

from __future__ import annotations

from _common import config, sweep


def main() -> None:
    cfg = config(
        datasets=["ecoli1", "pima", "yeast1", "glass0"],
        ratios=["native", 10],
        strategies=["none", "threshold", "balanced", "smote", "smote+threshold", "rus"],
    )
    first = sweep(cfg)
    second = sweep(cfg)
    for label, s in (("first run", first), ("rerun", second)):
        work = s["wall_seconds"] - s["startup_seconds"]
        print(
            f"{label:<9}: {s['computed']:>3} cells computed, {s['reused']:>3} reused, "
            f"wall {s['wall_seconds']:.1f} s = start-up {s['startup_seconds']:.1f} s "
            f"+ {work:.1f} s of work"
        )


if __name__ == "__main__":
    main()
