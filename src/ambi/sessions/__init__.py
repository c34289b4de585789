"""Sessions: `request.session`, a dict saved across requests, turned on with
`app.enable_sessions(secret_key=...)`.

    app.enable_sessions(secret_key=os.environ["SESSION_SECRET"])           # signed cookies
    app.enable_sessions(secret_key=..., store="redis://127.0.0.1:6379/0")  # server-side

    @app.post("/login")
    def login(request, form: Login):
        ...
        request.session.regenerate()   # a new id at login: no session fixation
        request.session["user"] = user.id

- **Signed cookies** (the default): the values are in the cookie, JSON, signed with
  HMAC-SHA256 (itsdangerous) and timestamped; readable by the user, not forgeable. Keep
  them small: a cookie over what browsers keep (4 KB) is refused with a logged 500.
- **Server-side** (`store=` a URL or a `Store`): the cookie holds a random id (256 bits,
  signed); the values live in the store for `max_age` seconds. Ids only ever come from the
  server: an unknown or expired id starts a new session with a new id.
- Saved only when changed (assigning, deleting, `clear()`, `regenerate()`;
  `session.modified = True` after changing a value in place). An emptied session deletes
  the cookie (and the stored values).
- A tampered, expired or foreign cookie is an empty session, never an error. If the store
  is down, using `request.session` answers 503 (handlers that do not use it are served),
  and so does a failed save.
- Cookie flags: `HttpOnly` (default on), `SameSite` (`"lax"` default, `"strict"`, `"none"`
  which needs `secure=True`), `Secure` (default: when the request came over https; say
  `secure=True` behind a TLS-terminating proxy), `Path`, `Domain`, `Max-Age` (`max_age`,
  two weeks by default; None makes a browser-session cookie, for cookie sessions only).
- A response that used the session carries `Vary: Cookie`; the response cache never
  shares responses to requests with cookies (see `ambi.cache`).
"""

from ._layer import SessionLayer, SessionOptions
from ._session import Session

__all__ = ["Session", "SessionLayer", "SessionOptions"]
