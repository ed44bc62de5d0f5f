"""``python -m bench NAME`` (or ``./run bench NAME``): run one benchmark, or ``all``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (
    "lookups",
    "accuracy",
    "phones",
    "generalization",
    "workers",
    "uploads",
    "throughput",
    "edge",
    "provider_rate",
)


def main(argv: list[str]) -> int:
    name = argv[0] if argv else "all"
    names = BENCHMARKS if name == "all" else (name,)
    for bench in names:
        if bench not in BENCHMARKS:
            print(f"unknown benchmark {bench!r}; choose from: {', '.join(BENCHMARKS)}, all")
            return 2
        importlib.import_module(f"bench.{bench}").main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
