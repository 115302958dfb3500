"""Where coaltrace finds the files it ships (the mine registry, the rule pack).

In a source checkout they sit at the top of the repository (`fixtures/`,
`rules/`); an installed wheel carries them inside the package. One function
knows both places so nothing else has to.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent

# name -> (path in a source checkout, path inside an installed wheel)
_SHIPPED = {
    "mines": (_CHECKOUT / "fixtures" / "gcmt-shanxi-mines.csv", _PACKAGE / "sample" / "gcmt-shanxi-mines.csv"),
    "rules": (_CHECKOUT / "rules", _PACKAGE / "_rules"),
}


def shipped(name: str) -> Path:
    checkout, wheel = _SHIPPED[name]
    return checkout if checkout.exists() else wheel


DEFAULT_DB = "coaltrace.duckdb"
