"""Jinja2 templates, as FastAPI and Starlette users write them.

```python
from ambi.templating import Jinja2Templates

templates = Jinja2Templates(directory="templates")

@app.get("/items/{item_id}")
def item_page(request: Request, item_id: int):
    return templates.TemplateResponse(request, "item.html", {"item_id": item_id})
```

The context gets `request`, and templates get `url_for(name, **params)`: the path of a
named route or mount (`url_for('static', path='site.css')`); a path, not an absolute URL,
so that pages stay right behind a proxy.

Rendering never blocks the event loop: a `TemplateResponse` made in a `def` handler (in the
thread pool) renders there and then; one made on the event loop (an `async def` handler)
renders in the thread pool before it is sent. Needs the `templates` extra
(`pip install 'ambi[templates]'`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .exceptions import ConfigurationError
from .execution import current_worker_loop
from .http import HTMLResponse, Request

try:
    import jinja2
except ImportError as exc:  # pragma: no cover - the extra is in dev
    raise ImportError("ambi.templating needs Jinja2: pip install 'ambi[templates]'") from exc

if TYPE_CHECKING:
    from .execution import Engine

__all__ = ["Jinja2Templates", "TemplateResponse"]

PathLike = str | os.PathLike[str]


@jinja2.pass_context
def _url_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    request = context.get("request")
    if not isinstance(request, Request):
        raise RuntimeError("url_for needs the request in the template context")
    return request.app.url_path_for(name, **params)


class TemplateResponse(HTMLResponse):
    """A rendered template; `template` and `context` say what was rendered."""

    def __init__(
        self,
        env: jinja2.Environment,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.env = env
        self.template_name = name
        self.template: jinja2.Template | None = None
        self.context = context
        super().__init__(b"", status_code, headers, media_type)
        self.deferred = True
        if current_worker_loop() is not None:  # in the thread pool already: render here
            self._render()

    def _render(self) -> None:
        self.template = self.env.get_template(self.template_name)
        self.body = self.render(self.template.render(self.context))
        self.deferred = False

    async def prepare(self, engine: Engine) -> None:
        """Render in the thread pool (a missing template or a failing one fails here)."""
        if self.deferred:
            await engine.run_in_thread(self._render)


class Jinja2Templates:
    """Templates from `directory` (one folder or several), or from a ready `env`.

    Other keyword arguments go to `jinja2.Environment` (`autoescape` is on by default).
    """

    def __init__(
        self,
        directory: PathLike | Sequence[PathLike] | None = None,
        *,
        env: jinja2.Environment | None = None,
        **env_options: Any,
    ) -> None:
        if (directory is None) == (env is None):
            raise ConfigurationError("Jinja2Templates takes a directory or an env, not both")
        if env is None:
            folders = [directory] if isinstance(directory, str | os.PathLike) else directory
            for folder in folders or ():
                if not os.path.isdir(folder):
                    raise ConfigurationError(f"Jinja2Templates: no directory {folder!r}")
            env_options.setdefault("loader", jinja2.FileSystemLoader(folders or []))
            env_options.setdefault("autoescape", True)
            env = jinja2.Environment(**env_options)
        elif env_options:
            raise ConfigurationError(
                f"Jinja2Templates(env=...) takes no environment options ({', '.join(env_options)})"
            )
        env.globals.setdefault("url_for", _url_for)
        self.env = env

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(  # noqa: PLR0917 - Starlette's name and argument order
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> TemplateResponse:
        """Render `name` with `context` (plus `request`) into an HTML response."""
        if not isinstance(request, Request):
            raise TypeError(
                "TemplateResponse(request, name, context): the request comes first, "
                f"not {type(request).__name__}"
            )
        context = dict(context or {})
        context.setdefault("request", request)
        return TemplateResponse(
            self.env, name, context, status_code=status_code, headers=headers, media_type=media_type
        )
