"""`request.session`: a mutable mapping that knows whether it changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from ..exceptions import HTTPException, StoreError


class Session(MutableMapping[str, Any]):
    """The session of one request: a dict of JSON values, saved after the response only
    when it changed.

    Assigning, deleting, `clear()`, `pop()`, `update()`... mark it changed; changing a
    value in place (`session["cart"].append(x)`) does not: assign it again, or set
    `session.modified = True`. `regenerate()` gives the session a new id when it is saved
    (call it at login: no session fixation). In a cookie session the data is decoded on
    first use only.
    """

    __slots__ = ("_data", "_error", "_loader", "accessed", "id", "modified", "regenerated")

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        loader: Callable[[], dict[str, Any]] | None = None,
        session_id: str | None = None,
        error: StoreError | None = None,
    ) -> None:
        self._data = data
        self._loader = loader
        self._error = error
        #: the server-side id (None for cookie sessions and new ones)
        self.id = session_id
        #: whether the handler used the session (else it is neither decoded nor saved)
        self.accessed = False
        self.modified = False
        self.regenerated = False

    def _dict(self) -> dict[str, Any]:
        if self._error is not None:
            raise HTTPException(503, "the session store is unavailable") from self._error
        data = self._data
        if data is None:
            loader, self._loader = self._loader, None
            data = self._data = loader() if loader is not None else {}
        self.accessed = True
        return data

    @property
    def data(self) -> dict[str, Any]:
        """The values, as a plain dict (for saving)."""
        return self._dict()

    def __getitem__(self, key: str) -> Any:
        return self._dict()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._dict()[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._dict()[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __contains__(self, key: object) -> bool:
        return key in self._dict()

    def get(self, key: str, default: Any = None) -> Any:
        return self._dict().get(key, default)

    def clear(self) -> None:
        data = self._dict()
        if data:
            data.clear()
            self.modified = True

    def regenerate(self) -> None:
        """Save under a new id (the old one is deleted), keeping the values."""
        self._dict()
        self.regenerated = True
        self.modified = True

    def __repr__(self) -> str:
        shown = "<not loaded>" if self._data is None else repr(self._data)
        return f"<Session {shown}{' modified' if self.modified else ''}>"
