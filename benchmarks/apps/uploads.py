"""ambi's app of `benchmarks/bench_uploads.py`: one route taking one uploaded file and
answering its size (FastAPI's twin: `uploads_fastapi.py`)."""

from __future__ import annotations

from typing import Any

from ambi import App, File, UploadFile

ambi_app = App(openapi_url=None, docs_url=None, redoc_url=None)


@ambi_app.post("/upload")
async def ambi_upload(file: UploadFile = File(max_size="200MB")) -> dict[str, Any]:
    return {"size": file.size}


@ambi_app.get("/")
async def ambi_root() -> str:
    return "ok"
