# ruff: noqa
# fmt: off
"""Seed 003 (Cello async support): Async Middleware.

The seed's lines, unchanged; the snippet uses an `app` it does not create, so one is made
here (a fresh one: the other seed snippets' app stays without middleware). Its third
call, `app.enable_rate_limit(...)`, belongs to the rate-limiting issue and is run by its
tests.
"""
from ambi import App

app = App()

# All middleware runs asynchronously in Rust
app.enable_cors()
app.enable_logging()
