"""The package's import graph: no cycles, and every module imports alone in a fresh interpreter.

`import coaltrace.graph` once failed in a fresh interpreter because graph/
imported provenance/, whose package imported graph/ again. Two checks keep such
a cycle from coming back: the static graph of module-level imports has none,
and each module is imported first thing in a process that has imported nothing
of coaltrace (forked from a server that preloaded only third-party libraries,
and reading bytecode compiled once for all of them, so the check costs
milliseconds a module, not a second).
"""

from __future__ import annotations

import ast
import compileall
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.import_probe import import_alone, use_bytecode_in

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "coaltrace"
THIRD_PARTY = [
    "duckdb",
    "polars",
    "pyarrow",
    "numpy",
    "scipy.sparse.linalg",
    "scipy.sparse.csgraph",
    "pydantic",
    "pydantic.main",
    "pydantic.fields",
    "pydantic.functional_validators",
    "pydantic.types",
    "pydantic.json_schema",
    "sqlglot",
    "typer",
    "rich.console",
    "rich.table",
    "rich.progress",
    "yaml",
    "fastexcel",
    "openpyxl",
    "charset_normalizer",
    "networkx",
    "tomllib",
]


def _modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    is_package = (PACKAGE.parent / Path(*base) / "__init__.py").exists()
    anchor = base if is_package else base[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def _module_level_imports(module: str) -> set[str]:
    """coaltrace modules MODULE imports when it is imported (not inside functions or TYPE_CHECKING)."""
    path = PACKAGE.parent / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in (
            ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else []
        ):
            if isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names}
            elif isinstance(sub, ast.ImportFrom):
                target = _resolve(module, sub)
                found.add(target)
                found |= {f"{target}.{a.name}" for a in sub.names}
    # Importing a.b.c imports the packages a and a.b first; a module's own packages are being imported already.
    closed = set()
    for name in found:
        parts = name.split(".")
        closed |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {m for m in closed if m in MODULES and m != module and not module.startswith(m + ".")}


def test_the_module_level_import_graph_has_no_cycle() -> None:
    graph = {m: _module_level_imports(m) for m in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = stack[stack.index(n) :] + [n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m)


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter(tmp_path: Path) -> None:
    # Compiled here once, not in every child (the source tree may be read-only, or bytecode not written).
    prefix, sys.pycache_prefix = sys.pycache_prefix, str(tmp_path)
    try:
        assert compileall.compile_dir(PACKAGE, quiet=1)
    finally:
        sys.pycache_prefix = prefix
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", *THIRD_PARTY, "tests.import_probe"])
    # One module a worker: every import starts from a process that has imported nothing of coaltrace.
    with ProcessPoolExecutor(
        2, mp_context=context, max_tasks_per_child=1, initializer=use_bytecode_in, initargs=(str(tmp_path),)
    ) as pool:
        failures = {m: e for m, e in zip(MODULES, pool.map(import_alone, MODULES), strict=True) if e}
    assert failures == {}
