"""Identifiers that look like the real ones: credit codes, licence numbers, plates.

Vectorised over numpy arrays where the sample needs many of them (plates);
per facility otherwise (a few thousand at most).
"""

from __future__ import annotations

import numpy as np

from coaltrace.contract.codes import USCC_ALPHABET, uscc_check_char

# GB 11714-1997: the organisation code inside the credit code has its own check.
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_check_char(body8: str) -> str:
    total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc(rng: np.random.Generator, division: str, *, individual: bool = False) -> str:
    """A valid code: office 9 (market regulation), type 1 (enterprise) or 2 (individual business)."""
    if rng.random() < 0.5:
        # Codes issued since 2015 start the organisation part with MA.
        body = "MA" + "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 6))
    else:
        body = "".join(rng.choice(list("0123456789"), 8))
    first17 = ("92" if individual else "91") + division + body + _org_check_char(body)
    return first17 + uscc_check_char(first17)


def broken_uscc(code: str) -> str:
    """The same code with a wrong check character (a typing slip)."""
    right = code[-1]
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(right) + 7) % 31]
    return code[:-1] + wrong


def mining_licence(rng: np.random.Generator, year: int, month: int) -> str:
    """Shaped like C1400002009121220051234: C, province, issue year and month, type, serial."""
    serial = int(rng.integers(0, 10_000_000))
    return f"C140000{year}{month:02d}122{serial:07d}"


# Plate letters never include I or O.
_PLATE_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))


def plates(rng: np.random.Generator, n: int, prefixes: list[str], weights: list[float]) -> np.ndarray:
    """N distinct truck plates like 晋E12345 or 晋EA1234, prefixes drawn by weight.

    The tails alone are distinct (five digits, or a letter and four digits), so
    plates never repeat whatever their prefix.
    """
    capacity = 90_000 + len(_PLATE_LETTERS) * 10_000
    number = rng.choice(capacity, size=n, replace=False)
    digits = np.char.zfill((10_000 + number).astype(str), 5)
    lettered = np.char.add(
        _PLATE_LETTERS[np.clip((number - 90_000) // 10_000, 0, None)],
        np.char.zfill((number % 10_000).astype(str), 4),
    )
    tail = np.where(number < 90_000, digits, lettered)
    p = np.asarray(weights, dtype=float)
    prefix = np.asarray(prefixes)[rng.choice(len(prefixes), size=n, p=p / p.sum())]
    return np.char.add(prefix.astype(str), tail.astype(str))
