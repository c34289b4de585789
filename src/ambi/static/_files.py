"""`StaticFiles`: a folder of files served under a mount path, without path traversal.

What a request may reach is decided in two steps. On the event loop, the (percent-decoded)
path is split on `/` and refused (404) if any piece is `..` or holds a backslash or a NUL
byte: encoded variants (`%2e%2e`, `..%2f`, `%5c`, `%00`) arrive decoded, so they are caught
here too. Then, in the thread pool, the file's real path (symlinks resolved) must lie inside
the real path of the directory, unless `follow_symlink=True`; only regular files are served.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from email.utils import formatdate
from typing import TYPE_CHECKING, NamedTuple, TypedDict
from urllib.parse import quote

from ..exceptions import ConfigurationError, HTTPException
from ..http import RedirectResponse, Response
from ._conditions import (
    accepted_encodings,
    http_date_seconds,
    if_range_holds,
    none_match,
    parse_range,
)
from ._response import StaticFileResponse

if TYPE_CHECKING:
    from ..http import Request

__all__ = ["StaticFiles", "StaticOptions"]


class StaticOptions(TypedDict, total=False):
    """The options of `StaticFiles` besides its directory (for `app.mount_static`)."""

    html: bool
    fallback: str | None
    precompressed: bool
    cache_control: str | None
    follow_symlink: bool
    check_dir: bool


_SUFFIXES = {"br": ".br", "gzip": ".gz"}
_ENCODED_TYPES = {"gzip": "application/gzip"}


class _Found(NamedTuple):
    """What a lookup chose: the file to send and how to describe it."""

    path: str  # the real path of the file sent (maybe a .br/.gz sibling)
    info: os.stat_result
    media_type: str
    encoding: str | None  # the content coding of a precompressed sibling
    varies: bool  # precompressed siblings exist: the answer depends on Accept-Encoding
    status: int = 200


class _Redirect:
    """A directory asked for without its trailing slash (with `html=True`)."""


_REDIRECT = _Redirect()


def _media_type(name: str) -> str:
    guessed, encoding = mimetypes.guess_type(name)
    if encoding is not None:  # `x.tar.gz` asked for as itself: it is a gzip file
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    return guessed or "application/octet-stream"


def _safe_parts(path: str) -> list[str] | None:
    """The pieces of a request path under the mount, or None if it must not be served."""
    if "\0" in path or "\\" in path:
        return None
    parts = [part for part in path.split("/") if part and part != "."]
    if ".." in parts:
        return None
    return parts


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class StaticFiles:
    """Serve the files under `directory`: `app.mount("/static", StaticFiles(directory=...),
    name="static")`, or `app.mount_static("/static", directory=...)`.

    - GET and HEAD (other methods: 405); content type from the file name; `ETag` and
      `Last-Modified`, answered with 304 when `If-None-Match`/`If-Modified-Since` match;
      `Range` (one range: 206; several: 206 `multipart/byteranges`; none satisfiable: 416;
      an unreadable header is ignored), with `If-Range`.
    - `html=True`: a directory serves its `index.html` (asked for without the trailing
      slash, it is redirected to it), and a `404.html` at the top answers misses.
    - `fallback="index.html"`: a file sent, with status 200, for requests that accept
      `text/html` and match no file (a single-page app's client-side routes).
    - `precompressed=True`: `x.js.br` or `x.js.gz` beside `x.js` is sent instead of it
      (with `Content-Encoding` and `Vary`) when the client accepts that coding.
    - `cache_control="public, max-age=3600"`: the `Cache-Control` of every file answer.
    - `follow_symlink=True`: symlinks may lead out of `directory` (never `..`).
    - `check_dir=False`: `directory` may not exist yet (otherwise a `ConfigurationError`).
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str],
        html: bool = False,
        fallback: str | None = None,
        precompressed: bool = True,
        cache_control: str | None = None,
        follow_symlink: bool = False,
        check_dir: bool = True,
    ) -> None:
        self.directory = os.fspath(directory)
        self.html = html
        self.precompressed = precompressed
        self.cache_control = cache_control
        self.follow_symlink = follow_symlink
        self.fallback = fallback
        root = os.path.realpath(self.directory)
        if check_dir and not os.path.isdir(root):
            raise ConfigurationError(
                f"StaticFiles: directory {self.directory!r} does not exist or is not a "
                "directory (pass check_dir=False if it is made later)"
            )
        self._root: str | None = root if check_dir else None
        self._fallback_parts: list[str] = []
        if fallback is not None:
            parts = _safe_parts(fallback)
            if not parts:
                raise ConfigurationError(f"StaticFiles: fallback {fallback!r} is not a file name")
            self._fallback_parts = parts
            if check_dir and not isinstance(self._file(root, parts, False, []), _Found):
                raise ConfigurationError(
                    f"StaticFiles: fallback {fallback!r} is not a file in {self.directory!r}"
                )

    def __repr__(self) -> str:
        options = "".join(
            f", {name}={getattr(self, name)!r}"
            for name in ("html", "fallback", "cache_control")
            if getattr(self, name)
        )
        return f"StaticFiles(directory={self.directory!r}{options})"

    # In the thread pool -------------------------------------------------------------------

    def _follow(self, path: str, root: str) -> tuple[str, os.stat_result] | None:
        """Where the symlink `path` leads and what is there, if it may be served."""
        real = os.path.realpath(path)
        if not self.follow_symlink and not _inside(real, root):
            return None
        try:
            return real, os.stat(real)
        except OSError:
            return None

    def _resolve(self, root: str, parts: list[str]) -> tuple[str, os.stat_result] | None:
        """The real path under `root` that `parts` name, and its metadata.

        # PERF: `os.path.realpath` walks every component from `/` in Python; below the
        # already-real root one `lstat` per part proves there is no symlink to check (a
        # file at the top: one syscall, whose result is the file's metadata too). `_lookup`
        # of a file with two absent siblings, realpath version vs this one, interleaved in
        # one timeit run on a loaded machine: 104-162 -> 21-32 µs.
        """
        path, names = root, parts or [""]  # no parts: the root itself
        try:
            for name in names:
                path = os.path.join(path, name) if name else path
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    return self._follow(os.path.join(root, *parts), root)
        except OSError:
            return None
        return path, info

    def _file(
        self, root: str, parts: list[str], trailing: bool, encodings: list[str]
    ) -> _Found | _Redirect | None:
        resolved = self._resolve(root, parts)
        if resolved is None:
            return None
        real, info = resolved
        if stat.S_ISDIR(info.st_mode):
            return self._directory(root, parts, trailing, encodings)
        if not stat.S_ISREG(info.st_mode) or trailing:
            return None
        return self._representation(real, info, root, encodings)

    def _directory(
        self, root: str, parts: list[str], trailing: bool, encodings: list[str]
    ) -> _Found | _Redirect | None:
        if not self.html:
            return None
        if not trailing:
            return _REDIRECT
        index = self._file(root, [*parts, "index.html"], False, encodings)
        return index if isinstance(index, _Found) else None

    def _representation(
        self, real: str, info: os.stat_result, root: str, encodings: list[str]
    ) -> _Found:
        media_type = _media_type(real)
        if not self.precompressed:
            return _Found(real, info, media_type, None, False)
        siblings: dict[str, tuple[str, os.stat_result]] = {}
        for coding, suffix in _SUFFIXES.items():
            # `real` has no symlink in it: only the sibling's own name may be one
            try:
                found: tuple[str, os.stat_result] | None = (real + suffix, os.lstat(real + suffix))
            except OSError:
                continue
            if found is not None and stat.S_ISLNK(found[1].st_mode):
                found = self._follow(real + suffix, root)
            if found is not None and stat.S_ISREG(found[1].st_mode):
                siblings[coding] = found
        for coding in encodings:
            if coding in siblings:
                path, sibling_info = siblings[coding]
                return _Found(path, sibling_info, media_type, coding, True)
        return _Found(real, info, media_type, None, bool(siblings))

    def _lookup(
        self, parts: list[str], trailing: bool, encodings: list[str], wants_html: bool
    ) -> _Found | _Redirect | None:
        root = self._root or os.path.realpath(self.directory)
        found = self._file(root, parts, trailing, encodings)
        if found is not None:
            return found
        if wants_html:
            fallback = self._file(root, self._fallback_parts, False, encodings)
            if isinstance(fallback, _Found):
                return fallback
        if self.html:
            missing = self._file(root, ["404.html"], False, encodings)
            if isinstance(missing, _Found):
                return missing._replace(status=404)
        return None

    # On the event loop --------------------------------------------------------------------

    async def serve_mounted(self, request: Request, path: str) -> Response:
        """Answer `request` for `path`, the part of the request path under the mount."""
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"allow": "GET, HEAD"})
        parts = _safe_parts(path)
        if parts is None:
            raise HTTPException(404)
        headers = request.headers
        ranged = request.method == "GET" and "range" in headers
        encodings = (
            accepted_encodings(headers.get("accept-encoding", ""))
            if self.precompressed and not ranged
            else []
        )
        wants_html = self.fallback is not None and "text/html" in headers.get("accept", "")
        found = await request.app.engine.run_in_thread(
            self._lookup, parts, path.endswith("/"), encodings, wants_html
        )
        if found is None:
            raise HTTPException(404)
        if isinstance(found, _Redirect):
            # Relative, so that it holds under any mount path and cannot name another host.
            location = "./" + quote(request.path.rsplit("/", 1)[-1]) + "/"
            if request.query_string:
                location += "?" + request.query_string
            return RedirectResponse(location, 307)
        return self._answer(request, found, ranged)

    def _answer(self, request: Request, found: _Found, ranged: bool) -> Response:
        info = found.info
        coding = f"-{found.encoding}" if found.encoding else ""
        etag = f'"{info.st_size:x}-{info.st_mtime_ns:x}{coding}"'
        modified = int(info.st_mtime)
        headers = {
            "etag": etag,
            "last-modified": formatdate(modified, usegmt=True),
            "accept-ranges": "bytes",
        }
        if found.varies:
            headers["vary"] = "accept-encoding"
        if found.status != 200:
            return self._send(found, headers)
        if self.cache_control is not None:
            headers["cache-control"] = self.cache_control
        if self._not_modified(request, etag, modified):
            return Response(b"", 304, headers)
        if not ranged:
            return self._send(found, headers)
        ranges = parse_range(request.headers["range"], info.st_size)
        if_range = request.headers.get("if-range")
        if ranges is None or (if_range and not if_range_holds(if_range, etag, modified)):
            return self._send(found, headers)
        if not ranges:
            raise HTTPException(416, headers={"content-range": f"bytes */{info.st_size}"})
        return self._send(found, headers, ranges)

    @staticmethod
    def _not_modified(request: Request, etag: str, modified: int) -> bool:
        headers = request.headers
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None:
            return none_match(if_none_match, etag)
        since = headers.get("if-modified-since")
        if since is None:
            return False
        seconds = http_date_seconds(since)
        return seconds is not None and modified <= seconds

    @staticmethod
    def _send(
        found: _Found, headers: dict[str, str], ranges: list[tuple[int, int]] | None = None
    ) -> StaticFileResponse:
        if found.encoding is not None:
            headers["content-encoding"] = found.encoding
        return StaticFileResponse(
            found.path,
            found.info.st_size,
            headers,
            found.media_type,
            ranges=ranges or (),
            status_code=found.status,
        )
