"""``python -m bench [--smoke] [--out PATH] [--no-layer]``: run the benchmark, print and write the report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: 3 calls, no layer build")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"Markdown report path (default: {DOCS} for a full run, none for --smoke)",
    )
    parser.add_argument("--no-layer", action="store_true", help="skip the layer build (it needs pip and an index)")
    args = parser.parse_args(argv)
    # The handlers log every invocation at INFO; the benchmark's output is the report.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    from bench.report import render
    from bench.suite import Mode, run_suite

    mode = Mode.smoke_mode() if args.smoke else Mode.full()
    if args.no_layer:
        mode.build_layer = False
    results = run_suite(mode)
    text = render(results)
    sys.stdout.write(text)
    out = args.out or (None if args.smoke else DOCS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"\nwritten to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
