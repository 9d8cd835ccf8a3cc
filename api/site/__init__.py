"""The members' page: static files served at ``/`` and exportable as a static site.

The page (``www/``: ``index.html`` and its assets under ``site/``) is plain HTML, CSS
and JavaScript modules. It asks only the log's own origin, with URLs relative to the
page, so the same files work from ``tally serve`` and from any web server that
hosts them next to the log's endpoints (``/v1/...``, ``/checkpoint``, ``/tile/...``).
Its verifier (``site/js/verify/``, ``site/js/plan/``) is an implementation of specs/
of its own, sharing no code with ``ledger/`` or ``verifier/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

WWW = Path(__file__).parent / "www"
"""The site's root folder: ``index.html`` and ``site/``."""
ASSETS = "site"
"""The folder (and URL prefix) of the page's assets."""
PAGE_CACHE = "no-cache"
"""The page and its modules are revalidated on each visit, so an upgrade is seen at once."""


class SiteExportError(Exception):
    """The static site could not be written where asked."""


def install(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/site/``."""

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(
            WWW / "index.html", media_type="text/html", headers={"Cache-Control": PAGE_CACHE}
        )

    app.mount(f"/{ASSETS}", _Assets(directory=WWW / ASSETS), name="site")


class _Assets(StaticFiles):
    """Static files, each answered with ``Cache-Control: no-cache`` (ETag revalidation)."""

    def file_response(
        self,
        full_path: str | PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = PAGE_CACHE
        return response


def site_files() -> list[Path]:
    """Every file of the site, relative to its root, in a stable order."""
    return sorted(p.relative_to(WWW) for p in WWW.rglob("*") if p.is_file())


def export_site(dest: Path) -> list[Path]:
    """Write the static site into ``dest``, which must not exist or be an empty folder.

    The files are written to a temporary folder beside ``dest`` and moved into place
    at the end, so a failure leaves nothing half-written. Returns the files written,
    relative to ``dest``.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SiteExportError(f"expected a new or empty folder at {dest}, found one in use")
    parent = dest.parent if dest.parent != Path() else Path.cwd()
    if not parent.is_dir():
        raise SiteExportError(f"expected the folder {parent} to exist, found none")
    files = site_files()
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=parent))
    except OSError as exc:
        raise SiteExportError(f"cannot write in {parent}: {exc.strerror}") from None
    try:
        for rel in files:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(WWW / rel, staging / rel)
        # mkdtemp makes it 0700; a web server must be able to read the site.
        os.chmod(staging, 0o755)  # noqa: S103
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SiteExportError(f"cannot write the site to {dest}: {exc.strerror}") from None
    return files
