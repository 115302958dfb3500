"""Run in a child process with nothing of coaltrace imported: import one module, say what went wrong.

Kept apart from the test module so that the child imports neither pytest nor the tests to run it.
"""

from __future__ import annotations

import importlib
import sys


def import_alone(module: str) -> str | None:
    already = sorted(name for name in sys.modules if name == "coaltrace" or name.startswith("coaltrace."))
    if already:
        return f"not a fresh interpreter: {already} were imported already"
    try:
        importlib.import_module(module)
    except Exception as e:  # the message is the test's evidence
        return f"{type(e).__name__}: {e}"
    return None


def use_bytecode_in(prefix: str) -> None:
    """Read coaltrace's bytecode from PREFIX, where the test compiled it once for every child."""
    sys.pycache_prefix = prefix
