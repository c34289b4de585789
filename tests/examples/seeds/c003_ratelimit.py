# ruff: noqa
# fmt: off
"""Seed 003 (Cello async support): Async Middleware, the rate limit line.

Copied verbatim from the seed document; only the import line changed (Cello exports
`RateLimitConfig` from its top-level package: 'from cello import App, RateLimitConfig' ->
'from ambi import App, RateLimitConfig'). `app.enable_cors()` and `app.enable_logging()`,
the snippet's other two lines, belong to ambi's middleware feature and are not part of
this file. The snippet has no route: `/hello` is the seed's first example's.
"""
from ambi import App, RateLimitConfig

app = App()

@app.get("/hello")
def hello(request):
    return {"message": "Hello, World!"}

app.enable_rate_limit(RateLimitConfig.token_bucket(
    requests=100, window=60
))
