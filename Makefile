# Developer entry points. The scripts hold the logic; make only names them.
.PHONY: bench bench-smoke

bench:  ## full benchmark: prints the tables, writes docs/benchmarks.md
	scripts/bench

bench-smoke:  ## the CI version: 3 calls, no layer build, writes nothing
	scripts/bench --smoke
