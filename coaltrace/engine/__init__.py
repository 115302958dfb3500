"""Where the rows are worked on: the engine seam (`base.Engine`) and its engines.

Only the store and the engines hold a driver's connection; every other module
asks an engine (`store.engine`).
"""

from coaltrace.engine.base import SOURCE_DIALECT, Engine, Workspace

__all__ = ["SOURCE_DIALECT", "Engine", "Workspace"]
