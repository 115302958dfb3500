"""A real headless browser opening a page as a person would, and everything it tried to do.

The page is served from a local HTTP server that is also the browser's proxy: every
request the browser makes for anything (another host, https, a font, a favicon) reaches
that server and is recorded, and only the page itself is answered. The browser's own
log carries the console, so a script error or a request the page's policy blocked is
seen too. Nothing leaves the machine.

Screenshots and the A4 PDF are kept in `tests/artefacts/` (ignored by git), or in
$COALTRACE_ARTEFACTS, for a person to look at after the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

PAGE_HOST = "coaltrace.test"  # a name that is no one's, and not on the HTTPS-only lists
ARTEFACTS = Path(os.environ.get("COALTRACE_ARTEFACTS") or Path(__file__).parent / "artefacts")
# Console lines that mean the page did something wrong: a script error, a load that failed or was refused.
# The browser's own services it calls whatever page it shows (clock, component updates, sign-in); a
# request to any other host, or one that names our page as its referrer, is the page's.
BROWSER_OWN = frozenset(
    {
        "clients2.google.com",
        "update.googleapis.com",
        "accounts.google.com",
        "clientservices.googleapis.com",
        "redirector.gvt1.com",
        "safebrowsing.googleapis.com",
        "optimizationguide-pa.googleapis.com",
        "content-autofill.googleapis.com",
    }
)
_BAD_CONSOLE = re.compile(r"Uncaught|violates the following Content Security Policy|Failed to load|Refused to", re.I)
_CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\]\s*(.*)")


def chromium() -> str:
    """The browser, or the test is skipped saying why (and fails on CI, where .ci/run installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs it with apt-get install -y chromium")
    pytest.skip("no headless browser: install Debian's chromium (apt-get install -y chromium) to run this test")


@dataclass
class Visit:
    dom: str
    requests: list[str]  # every request the page made, as "METHOD target" (the page's own load first)
    browser_own: list[str]  # what the browser asked of its own services meanwhile
    console: list[str]
    problems: list[str] = field(default_factory=list)  # console lines that mean an error


@contextmanager
def _server(folder: Path) -> Iterator[tuple[int, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _record(self) -> str:
            seen.append((f"{self.command} {self.path}", self.headers.get("Referer")))
            return self.path

        def do_GET(self) -> None:
            target = urlsplit(self._record())
            file = folder / target.path.lstrip("/")
            if target.hostname in (PAGE_HOST, None) and file.is_file() and folder in file.resolve().parents:
                body = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def do_CONNECT(self) -> None:
            self._record()
            self.send_error(405)

        do_POST = do_HEAD = do_PUT = do_OPTIONS = do_CONNECT

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def visit(
    page: Path,
    *,
    screenshot: Path | None = None,
    pdf: Path | None = None,
    width: int = 1200,
    height: int = 2400,
) -> Visit:
    """Open PAGE in headless Chromium: its DOM after load, every request it made, its console; and,
    if asked, a PNG of the window and the page printed to an A4 PDF."""
    browser = chromium()
    with tempfile.TemporaryDirectory() as profile, _server(page.parent) as (port, seen):
        base = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-pings",
            "--disable-breakpad",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,Translate,OptimizationHints,"
            "MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater,SignInProfileCreation",
            "--component-updater=disable",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            # Every request the page makes, to any host, comes to our server.
            f"--proxy-server=http://127.0.0.1:{port}",
            "--proxy-bypass-list=<-loopback>",
            "--enable-logging=stderr",
            "--v=0",
        ]
        url = f"http://{PAGE_HOST}/{page.name}"
        dumped = _run([*base, "--dump-dom", url])
        made = list(seen)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            _run([*base, f"--window-size={width},{height}", f"--screenshot={screenshot}", url])
        if pdf is not None:
            pdf.parent.mkdir(parents=True, exist_ok=True)
            _run([*base, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url])
    console = [m.group(1) for m in map(_CONSOLE.search, dumped.stderr.splitlines()) if m]
    own = [r for r, referer in made if referer is None and _host(r) in BROWSER_OWN]
    return Visit(
        dom=dumped.stdout,
        requests=[r for r, referer in made if not (referer is None and _host(r) in BROWSER_OWN)],
        browser_own=own,
        console=console,
        problems=[line for line in console if _BAD_CONSOLE.search(line)],
    )


def _host(request: str) -> str | None:
    method, _, target = request.partition(" ")
    return target.rpartition(":")[0] if method == "CONNECT" else urlsplit(target).hostname


def pdf_pages(pdf: Path) -> list[tuple[float, float]]:
    """The size in points of each page of a PDF Chromium printed (its page objects are not compressed)."""
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    return [(float(w), float(h)) for w, h in boxes]


def is_a4(size: tuple[float, float]) -> bool:
    return abs(size[0] - 595.0) < 2 and abs(size[1] - 842.0) < 2
