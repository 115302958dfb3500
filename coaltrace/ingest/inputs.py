"""What a load is given: files as named, folders as the readable files inside them, and what was
passed over (another type, an archive, a lock file, a hidden file, a broken link), each with its
reason, so nothing given is passed over without a word."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from coaltrace.errors import InputFileError, Location, UsageError
from coaltrace.ingest.readers import ARCHIVE_SUFFIXES, READABLE, file_format, shown
from coaltrace.ingest.reasons import SKIP_REASONS


class SkippedInput(BaseModel):
    """A file of a folder, or a sheet of a workbook, that was not read, and why."""

    file: str
    path: str
    sheet: str | None = None
    reason: str  # a code of coaltrace.ingest.reasons.SKIP_REASONS
    detail: str | None = None  # the file type, or the sheet's first row


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[SkippedInput]]:
    """Files as given, folders as the readable files inside them (recursively, sorted), and what was passed over."""
    out: list[Path] = []
    skipped: list[SkippedInput] = []
    missing: list[str] = []
    for p in paths:
        if p.is_dir():
            found: list[Path] = []
            _walk(p, found, skipped)
            out.extend(sorted(found))
        elif p.exists() or p.is_symlink():
            out.append(p)  # given by name: read or refused, never passed over
        else:
            missing.append(str(p))
    if missing:
        raise InputFileError(
            f"no such file or folder: {', '.join(missing)}",
            zh=f"文件或文件夹不存在：{'、'.join(missing)}",
            location=Location(file=missing[0]),
        )
    if not out:
        raise UsageError(
            f"no file to load in {', '.join(map(str, paths))}",
            zh="没有可载入的文件：" + "、".join(map(str, paths)),
            details=[describe_skip(s.path, s) for s in skipped],
            hint=f"coaltrace reads {READABLE} files.",
            hint_zh=f"coaltrace 可读取 {READABLE} 文件。",
        )
    return out, skipped


def describe_skip(where: str, skipped: SkippedInput) -> str:
    # Both languages at once, as in every detail line of a refusal.
    zh, en = SKIP_REASONS[skipped.reason]
    return f"{where}: {en} / {zh}" + (f" ({skipped.detail})" if skipped.detail else "")


def _walk(root: Path, found: list[Path], skipped: list[SkippedInput]) -> None:
    """The files under ROOT that coaltrace reads; the others, and links that loop, into SKIPPED."""
    seen: set[tuple[int, int]] = set()
    # Links to folders are followed (a month folder may link each county's exports),
    # each folder once: a link back up the tree is listed, not walked forever.

    def unreadable(e: OSError) -> None:
        where = Path(e.filename) if e.filename else root
        skipped.append(
            SkippedInput(file=shown(where.name), path=shown(where), reason="unreadable_folder", detail=e.strerror)
        )

    for folder, subfolders, names in os.walk(root, followlinks=True, onerror=unreadable):
        here = Path(folder)
        info = here.stat()
        if (info.st_dev, info.st_ino) in seen:
            skipped.append(SkippedInput(file=shown(here.name), path=shown(here), reason="link_loop"))
            subfolders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        for name in [d for d in subfolders if d.startswith(".")]:
            skipped.append(SkippedInput(file=shown(name), path=shown(here / name), reason="hidden"))
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            path = here / name
            reason = _passed_over(path)
            if reason is None:
                found.append(path)
            else:
                detail = path.suffix.lower() or None if reason in ("unsupported_type", "archive") else None
                skipped.append(SkippedInput(file=shown(name), path=shown(path), reason=reason, detail=detail))


def _passed_over(path: Path) -> str | None:
    """Why a file in a folder is not read (a code of SKIP_REASONS); None to read it."""
    if path.name.startswith("~$"):
        return "lock_file"
    if path.name.startswith("."):
        return "hidden"
    if path.is_symlink() and not path.exists():
        return "broken_link"
    if file_format(path) is not None:
        return None
    return "archive" if path.suffix.lower() in ARCHIVE_SUFFIXES else "unsupported_type"
