# Everyday recipes. `just` comes with the dev extra (rust-just): `./run setup` once, then
# `.venv/bin/just` (or `just` with .venv activated). Each recipe is a `./run` command, so
# `just lint` is exactly what CI runs (.ci/run).

default: test lint

# the whole test suite, in parallel (`just test -n 0` for one process)
test *args:
    ./run test {{args}}

# the edit loop: tests not marked slow, a few Hypothesis examples each
quick *args:
    ./run quick {{args}}

# ruff check, ruff format --check and mypy, as CI runs them
lint:
    ./run lint

# format the code and apply ruff's fixes
fmt:
    ./run fmt

# sample month → load → audit → report, in ./demo
demo *args:
    ./run demo {{args}}

# load and audit speed and memory against DuckDB's own CSV import (`just bench --quick` to check they run)
bench *args:
    ./run bench {{args}}

# the same month audited on DuckDB and on Spark in local mode (needs Java 17+); figures: docs/spark.md
bench-spark *args:
    .venv/bin/python bench/bench_spark.py {{args}}
