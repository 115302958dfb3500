"""Where coaltrace finds the files it ships (the mine registry, the rule pack), and the
folders it writes into.

In a source checkout the shipped files sit at the top of the repository (`fixtures/`,
`rules/`); an installed wheel carries them inside the package. One function
knows both places so nothing else has to.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from coaltrace.errors import CannotWriteError, UsageError, refused_write

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


def output_dir(path: Path) -> Path:
    """PATH as a folder to write into, made if need be; a path that cannot be one is a usage error,
    one the machine will not let us write (permission, full disk) a CannotWriteError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise refused_write(e) or UsageError(
            f"cannot write into {path}: {e.strerror or e}",
            zh=f"无法写入 {path}：{e.strerror or e}",
            hint="Name a folder you can write to.",
            hint_zh="请指定一个可写入的文件夹。",
        ) from None
    return path


def write_whole(path: Path, data: str | bytes) -> None:
    """All of DATA at PATH or nothing: a page cut short by a full disk must not pass for a whole one.
    PATH's folder is made if need be (`ledger export --out new-folder/sheet.xlsx`)."""
    part = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            part.write_text(data, encoding="utf-8")
        else:
            part.write_bytes(data)
        os.replace(part, path)
    except OSError as e:
        with suppress(OSError):
            part.unlink(missing_ok=True)
        raise refused_write(e) or CannotWriteError(
            f"cannot write {path}: {e.strerror or e}",
            zh=f"无法写入 {path}：{e.strerror or e}",
            hint="Name a path you may write.",
            hint_zh="请指定一个可写入的位置。",
        ) from None


@contextmanager
def whole_folder(out: Path, marker: str, *, what: str, what_zh: str) -> Iterator[Path]:
    """A folder to fill that becomes OUT only when the block ends without error: a failed run
    leaves OUT as it was. OUT may be new, empty, or a previous folder of the same kind (one that
    holds MARKER, which the block must write); any other folder is refused, never replaced.
    WHAT names the kind in messages ("a tables export")."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / marker).is_file())):
        raise UsageError(
            f"{out} exists and is not {what}: choose an empty or new folder",
            zh=f"{out} 已存在且不是{what_zh}，请指定空目录或新目录",
        )
    work = out.with_name(f".{out.name}.writing")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
    except OSError as e:
        raise refused_write(e) or CannotWriteError(f"cannot write {work}: {e.strerror or e}") from None
    try:
        yield work
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException as e:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(e, OSError):
            raise refused_write(e) or CannotWriteError(f"cannot write {out}: {e.strerror or e}") from None
        raise
