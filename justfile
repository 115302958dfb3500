# Everyday recipes. `just` comes with the dev extra (rust-just); run `./run test` once first.
venv := ".venv/bin/"

default: test lint

# the whole test suite
test *args:
    {{venv}}python -m pytest {{args}}

# ruff and mypy
lint:
    {{venv}}ruff check .
    {{venv}}ruff format --check coaltrace tests bench
    {{venv}}mypy

# format the code
fmt:
    {{venv}}ruff format coaltrace tests bench
    {{venv}}ruff check --fix .

# sample month → load → audit → report, in ./demo
demo *args:
    {{venv}}coaltrace demo {{args}}

# load and audit speed and memory against DuckDB's own CSV import
bench *args:
    {{venv}}python bench/run.py {{args}}
