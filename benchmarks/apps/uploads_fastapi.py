"""FastAPI's app of `benchmarks/bench_uploads.py` (the same route as `uploads.py`).

No `from __future__ import annotations`: FastAPI resolves `UploadFile` from the annotation.
"""

from typing import Any

from fastapi import FastAPI, File, UploadFile

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/upload")
async def upload(file: UploadFile = File(...)) -> dict[str, Any]:  # noqa: B008
    return {"size": file.size}


@app.get("/")
async def root() -> str:
    return "ok"
