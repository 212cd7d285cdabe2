"""callsync's benchmark: API requests per call, compute, cold start, scale, cost.

    python -m bench            # full run, writes docs/benchmarks.md
    python -m bench --smoke    # tiny run (CI): 3 calls, no 200-call loop, no layer build

Not a test suite: figures are measured and reported; only request *counts* are asserted
(tests/e2e/test_api_budget.py).
"""
