"""`realistic_ambi`, with the request id from an ASGI middleware (`realistic.RequestIdASGI`)
instead of `enable_request_id()`: what ASGI middleware costs on ambi, over RSGI (bridged)
and over ASGI."""

from __future__ import annotations

from ambi import App

from . import realistic as spec
from .realistic_ambi import app as native

app = App()
app.enable_cors([spec.ORIGIN], allow_credentials=True)
app.add_middleware(spec.RequestIdASGI)
for _route in native.routes:
    app.add_route(_route.path, _route.endpoint, _route.methods, **_route.options)
