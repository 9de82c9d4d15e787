"""``make review``: the review page served on this machine, with one button that applies it.

The server answers 127.0.0.1 only, every request must carry a random token in its path and a
Host (and, when the browser sends one, an Origin) naming this server: another site open in the
same browser cannot read the page or post to it. Apply receives the whole overrides file the page
wrote, refuses it with its problems (``checks.overrides.parse``) or writes it atomically (the
previous file kept as ``<file>.bak``), then regrades the last class run from the cache with the
same submissions and settings (``OUT/run.json``, written by ``make grade``) and answers who
changed, from what to what, and how many groups are now decided. The static page works without
it (Download / Copy all).
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder.checks import overrides
from autograder.report import review_page

RUN_FILE = "run.json"


def record_run(out: Path, request) -> Path:
    """``OUT/run.json``: what a regrade needs to repeat ``request`` (a ``GradeRequest``)."""
    data = {"paths": [str(Path(p).resolve()) for p in request.paths],
            "overrides_file": request.overrides_file, "grade_q1": request.grade_q1,
            "data_dir": request.data_dir, "jobs": request.jobs,
            "limits": dataclasses.asdict(request.limits),
            "checking": dataclasses.asdict(request.checking),
            "cluster": dataclasses.asdict(request.cluster),
            "variants": dataclasses.asdict(request.variants)}
    path = Path(out) / RUN_FILE
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def last_request(out: Path, overrides_file: str):
    """The ``GradeRequest`` of the last run recorded in OUT, reading ``overrides_file``; cached
    executions are reused (a checks-only regrade)."""
    from autograder.grading import session
    from autograder.settings.limits import Checking, Cluster, Limits
    from autograder.settings.variants import Variants

    data = json.loads((Path(out) / RUN_FILE).read_text(encoding="utf-8"))
    return session.GradeRequest(
        tuple(Path(p) for p in data["paths"]), Path(out), limits=Limits(**data["limits"]),
        checking=Checking(**data.get("checking", {})), cluster=Cluster(**data.get("cluster", {})),
        overrides_file=overrides_file, grade_q1=data["grade_q1"], data_dir=data["data_dir"],
        jobs=data["jobs"], variants=Variants(**data["variants"]))


@dataclass(frozen=True)
class Applied:
    """What Apply answers: problems (nothing written), or the changes and the decided count."""

    problems: list[str]
    changes: list[dict]
    decided: int = 0
    backup: str = ""


def write_atomically(path: Path, text: str) -> str:
    """Replace ``path`` by ``text`` in one rename, the previous file kept as ``<path>.bak``."""
    backup = ""
    if path.is_file():
        backup = str(path.with_name(path.name + ".bak"))
        shutil.copy2(path, backup)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return backup


def apply(out: Path, overrides_path: Path, text: str) -> Applied:
    """Check, write and regrade (see the module's docstring)."""
    from autograder.grading import session

    _, problems = overrides.parse(text, file=overrides_path.name)
    if problems:
        return Applied([f"{overrides_path.name}:{p.line}: {p.message}" for p in problems], [])
    backup = write_atomically(overrides_path, text)
    try:
        graded = session.grade(last_request(out, str(overrides_path)))
    except session.NotGraded as exc:
        return Applied(list(exc.lines), [], backup=backup)
    done = graded.done
    return Applied([], [{"submission": c.submission, "student": c.student,
                         "question": c.question, "old": c.old, "new": c.new, "why": c.why}
                        for c in done.changes],
                   sum(g.verdict == "overridden" for g in done.groups), backup)


class ReviewServer(http.server.ThreadingHTTPServer):
    """Serves ``OUT/review.html`` under ``/<token>/`` and applies it at ``/<token>/apply``."""

    def __init__(self, out: Path, overrides_path: Path, port: int = 0):
        self.out, self.overrides_path = Path(out), Path(overrides_path)
        self.token = secrets.token_urlsafe(24)
        self.lock = threading.Lock()  # one Apply at a time
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{self.token}/"

    def allowed(self, host: str, origin: str) -> bool:
        """Host names this server (no DNS rebinding); Origin, when sent, is this server."""
        port = self.server_address[1]
        hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        return host in hosts and (not origin or origin in {f"http://{h}" for h in hosts})


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ReviewServer

    def _refused(self) -> bool:
        s = self.server
        parts = self.path.split("?")[0].split("/")
        given = parts[1] if len(parts) > 2 else ""
        if not s.allowed(self.headers.get("Host", ""), self.headers.get("Origin", "")) or \
                not secrets.compare_digest(given.encode(), s.token.encode()):
            self._send(403, "text/plain", b"refused: wrong token, host or origin\n")
            return True
        return False

    def _send(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self._refused():
            return
        if self.path.split("?")[0] != f"/{self.server.token}/":
            return self._send(404, "text/plain", b"not found\n")
        page = (self.server.out / review_page.REVIEW_PAGE).read_bytes()
        self._send(200, "text/html", page)

    def do_POST(self) -> None:  # noqa: N802
        if self._refused():
            return
        if self.path != f"/{self.server.token}/apply":
            return self._send(404, "text/plain", b"not found\n")
        size = int(self.headers.get("Content-Length") or 0)
        text = self.rfile.read(size).decode("utf-8")
        with self.server.lock:
            applied = apply(self.server.out, self.server.overrides_path, text)
        self._send(200 if not applied.problems else 400, "application/json",
                   json.dumps(dataclasses.asdict(applied)).encode("utf-8"))

    def log_message(self, format, *args) -> None:  # noqa: A002 (quiet: the URL holds the token)
        pass


def serve(out: Path, overrides_path: Path, *, open_browser: bool = True) -> None:
    """Serve until interrupted; open the page in the browser, or print its address."""
    import webbrowser

    server = ReviewServer(out, overrides_path)
    print(f"review page: {server.url} (Ctrl-C stops)", flush=True)
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
