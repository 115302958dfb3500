"""Identifiers of the contract and their checks: unified social credit codes
(GB 32100-2015) and licence plates (GA 36-2018).

The loader keeps codes as written (a wrong check character is evidence, not an
unreadable cell); the rule views judge them with the SQL below, and the sample
generator makes valid codes with `uscc_check_char`.
"""

from __future__ import annotations

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character that completes the first 17 characters of a USCC."""
    if len(first17) != 17 or any(ch not in USCC_ALPHABET for ch in first17):
        raise ValueError(f"not the first 17 characters of a USCC: {first17!r}")
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid_sql(col: str) -> str:
    """Standard SQL: TRUE iff COL is an 18-character USCC with the right check character; NULL if COL is NULL."""
    positions = [f"POSITION(SUBSTRING({col} FROM {i + 1} FOR 1) IN '{USCC_ALPHABET}')" for i in range(18)]
    all_known = " AND ".join(f"{p} > 0" for p in positions)
    # POSITION is 1-based, so each character's value is POSITION - 1.
    total = " + ".join(f"({p} - 1) * {w}" for p, w in zip(positions, _USCC_WEIGHTS, strict=False))
    check = f"SUBSTRING('{USCC_ALPHABET}' FROM MOD(31 - MOD({total}, 31), 31) + 1 FOR 1)"
    return (
        f"(CASE WHEN {col} IS NULL THEN NULL"
        f" WHEN CHAR_LENGTH({col}) <> 18 THEN FALSE"
        f" WHEN NOT ({all_known}) THEN FALSE"
        f" ELSE {check} = SUBSTRING({col} FROM 18 FOR 1) END)"
    )


def plate_valid_sql(col: str) -> str:
    """DuckDB SQL: TRUE iff a normalised plate looks like a Chinese plate; NULL if COL is NULL.

    A province character and a letter, then 5 alphanumerics (6 on new-energy
    plates), or 4 and a trailer/learner/police/Hong Kong/Macau character.
    """
    return f"regexp_matches({col}, '^[{PROVINCES}][A-Z]([A-Z0-9]{{5,6}}|[A-Z0-9]{{4}}[挂学警港澳])$')"
