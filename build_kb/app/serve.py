"""`kb serve`: a small HTTP server over `build_kb.site.preview.Preview`, and a watcher of the content folder.

The server renders pages on request (`build_kb.site.livesite`), injects a reload script into every HTML
page and answers its long poll as soon as the preview's version changes. The watcher (watchdog, installed
with MkDocs) collects the YAML files saved, waits a moment for an editor to finish writing, and hands them
to the preview: first the quick step for a single entry, then the whole step, skipped when more edits came
in meanwhile (they start the cycle again).
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from build_kb.core.errors import KbError
from build_kb.site.preview import EVENTS_PATH, Preview, Update

SETTLE_SECONDS = 0.03
"""Quiet time after a file event before reading: editors write a file in several steps."""
POLL_SECONDS = 25.0
"""How long the reload script's request waits for a change before it asks again."""

Report = Callable[[str, Update | None, float], None]
"""Told of each step: (what happened, the update or None, seconds since the save)."""


class ServeError(KbError):
    """The preview cannot start (the port is taken, the content folder is missing)."""


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and what to preview."""

    content_root: Path = Path("content")
    host: str = "127.0.0.1"
    port: int = 8000
    strict: bool = False
    drafts: bool = False


def site_path(url_path: str) -> str | None:
    """The site address of a request path (`/entries/x.html`, `/` -> `index.html`); None if it leaves the site."""
    path = unquote(urlsplit(url_path).path)
    if path.endswith("/"):
        path += "index.html"
    normal = posixpath.normpath("/" + path.lstrip("/")).lstrip("/")
    if normal.startswith("..") or "\\" in normal or "\x00" in normal:
        return None
    return normal or "index.html"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], preview: Preview) -> None:
        self.preview = preview
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        preview = self.server.preview
        if self.path.startswith(EVENTS_PATH):
            after = parse_qs(urlsplit(self.path).query).get("after", ["0"])[0]
            version = preview.wait(int(after) if after.isdigit() else 0, POLL_SECONDS)
            self._send(HTTPStatus.OK, str(version).encode("ascii"), "text/plain; charset=utf-8")
            return
        uri = site_path(self.path)
        try:
            served = preview.respond(uri) if uri is not None else None
        except KbError as error:
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR, str(error).encode("utf-8"), "text/plain; charset=utf-8"
            )
            return
        if served is None:
            missing = preview.not_found()
            body, kind = (missing.body, missing.media_type) if missing else (b"404 Not Found", "text/plain")
            self._send(HTTPStatus.NOT_FOUND, body, kind)
            return
        self._send(HTTPStatus.OK, served.body, served.media_type)

    def _send(self, status: HTTPStatus, body: bytes, media_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload cancels its long poll)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the terminal shows edits and problems."""


class _Changes:
    """YAML files saved under the content folder, collected by watchdog's thread."""

    def __init__(self) -> None:
        self._paths: dict[Path, float] = {}
        self._cond = threading.Condition()

    def add(self, path: str) -> None:
        if path.endswith((".yaml", ".yml")):
            with self._cond:
                self._paths.setdefault(Path(path), time.perf_counter())
                self._cond.notify_all()

    def pending(self) -> bool:
        with self._cond:
            return bool(self._paths)

    def take(self, stop: threading.Event) -> dict[Path, float]:
        """The files saved, once they have been quiet for `SETTLE_SECONDS`; empty when stopping."""
        with self._cond:
            while not self._paths and not stop.is_set():
                self._cond.wait(0.25)
            count = -1
            while count != len(self._paths) and not stop.is_set():
                count = len(self._paths)
                self._cond.wait(SETTLE_SECONDS)
            taken, self._paths = self._paths, {}
            return taken


def _watch(root: Path, changes: _Changes) -> Any:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                return
            for path in (event.src_path, getattr(event, "dest_path", "")):
                if path:
                    changes.add(str(path))

    observer = Observer()
    observer.schedule(Handler(), str(root), recursive=True)
    observer.start()
    return observer


class PreviewServer:
    """The running preview: `start()`, `run()` until `request_stop()`, then `close()`."""

    def __init__(self, options: ServeOptions, report: Report) -> None:
        self.options = options
        self.report = report
        self._stop = threading.Event()
        self._work = Path(tempfile.mkdtemp(prefix="kb-serve-"))
        self.preview = Preview(options.content_root, self._work, strict=options.strict, drafts=options.drafts)
        self._server: _Server | None = None
        self._observer: Any = None
        self._changes = _Changes()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> Update:
        """Validate and export the content, then listen: raises ServeError when it cannot listen."""
        if not self.options.content_root.is_dir():
            raise ServeError(f"{self.options.content_root.as_posix()}: content folder not found")
        started = time.perf_counter()
        update = self.preview.whole()
        self.report("started", update, time.perf_counter() - started)
        try:
            self._server = _Server((self.options.host, self.options.port), self.preview)
        except OSError as error:
            raise ServeError(
                f"cannot listen on {self.options.host}:{self.options.port}: {error.strerror or error}"
                " (choose another --port)"
            ) from None
        threading.Thread(target=self._server.serve_forever, name="kb-serve-http", daemon=True).start()
        self._observer = _watch(self.options.content_root, self._changes)
        return update

    def run(self) -> None:
        """Apply edits until stopped: the quick step here, at once; the whole step in a thread of its own."""
        wanted = threading.Event()
        since: list[float] = []
        worker = threading.Thread(
            target=self._whole_steps, args=(wanted, since), name="kb-serve-whole", daemon=True
        )
        worker.start()
        while not self._stop.is_set():
            saved = self._changes.take(self._stop)
            if not saved:
                continue
            first = min(saved.values())
            since.append(first)
            entries = [path for path in saved if path.parent != self.options.content_root]
            quick = self.preview.quick(entries[0]) if len(saved) == 1 and entries else None
            if quick is None:
                self.preview.saved()
            elif quick.step != "unchanged":
                self.report("quick", quick, time.perf_counter() - first)
            wanted.set()
        wanted.set()
        worker.join(timeout=30)

    def _whole_steps(self, wanted: threading.Event, since: list[float]) -> None:
        while not self._stop.is_set():
            if not wanted.wait(0.25):
                continue
            wanted.clear()
            try:
                whole = self.preview.whole()
            except Exception as error:  # keep previewing: the next save may fix it
                self.report(
                    f"error: {type(error).__name__}: {error}",
                    None,
                    time.perf_counter() - min(since, default=0),
                )
                continue
            if whole.step == "stale":
                continue  # a newer save came in; it has asked for another whole step
            first = min(since, default=time.perf_counter())
            since.clear()
            self.report("whole", whole, time.perf_counter() - first)

    def request_stop(self) -> None:
        """Make `run()` return (safe from a signal handler or another thread)."""
        self._stop.set()

    def close(self) -> None:
        """Stop serving and watching, and delete the preview's folder."""
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        shutil.rmtree(self._work, ignore_errors=True)
