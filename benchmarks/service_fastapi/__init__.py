"""The reference service (examples/service) written the way FastAPI users write it: the
same SQLAlchemy models, settings, credentials and route-by-route def / async def split,
with FastAPI's own tools (`Depends` sessions, `OAuth2PasswordBearer` + PyJWT,
`BackgroundTasks`, `anyio.from_thread.run` for the def route calling asyncpg, a
hand-written Redis cache, prometheus-fastapi-instrumentator). A benchmark peer only
(benchmarks/bench_service.py); served by uvicorn: `uvicorn benchmarks.service_fastapi.app:app`.
"""
