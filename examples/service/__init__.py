"""A reference service on ambi: a task tracker on PostgreSQL and Redis.

    make service-demo               # creates the database, migrates, serves on :8000
    python -m examples.service      # the same, with the settings of the environment

- `settings.py`  the environment's settings
- `models.py`    SQLAlchemy 2 tables and the API's pydantic shapes
- `migrations.py` numbered schema steps, applied at startup (or `... migrate`)
- `db.py`        the engines and pools (sync psycopg, async asyncpg, raw asyncpg, Redis)
- `credentials.py` password hashing and JWT access tokens (framework-free)
- `auth.py`      the signed-in user from the verified token
- `changes.py`   the background task after a write: audit row + feed message
- `routes/`      accounts, projects, tasks (cached listing), files (uploads), insight
                 (stats through smartasync, audit, the SSE feed)
- `app.py`       `create_app(settings)`, and `app` for servers to import

Its tests: tests/examples/service/. Its FastAPI twin (a benchmark peer only):
benchmarks/service_fastapi/.
"""
