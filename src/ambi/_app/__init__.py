"""The parts of `ambi.App`, one concern each, as the mixins `App` is made of.

- `_registration`: routes, websocket routes, framework routes and mounts; URL paths and
  the OpenAPI document.
- `_features`: the features switched on with `enable_*` (JWT, rate limits, the task
  queue, the cache store, sessions, metrics, the status page, tracing), `add_stage`, and
  the readers of what they measure.
- `_lifecycle`: startup and shutdown (hooks, the lifespan, the engine) and the exception
  handlers registered on the app.
- `_serving`: the ASGI and RSGI entry points, `listen()`, and the request path from the
  server to a route's pipeline.

`ambi.app` keeps the constructor, compiling and freezing the routes, what the request path
measures (`_route_measured`), the choice of an exception handler and the 500 answer.

A mixin's `self` is typed as the mixin: each declares the attributes and methods of `App`
it uses (a part comes after, in `App`'s bases, those whose methods it declares), and
where it hands `self` to a function that takes an `App`, the call says
`# type: ignore[arg-type]`.
"""
