"""The apps the background-task seed blocks add their routes to, and the helpers those
blocks use but never define.

The blocks are fragments of longer pages: seed 001's "Background Task Integration" uses the
`app` made by the page's first block (background tasks on, as seed 000's version of the
same section does with `app.enable_background_tasks(workers=4)`), and the FastAPI seed's
`/analyze` uses an `app`, a `DataSet` model, `complex_math_operation` and a module-level
`background_tasks` it never shows. They come from here, by import lines.

The backend is in-process unless AMBI_SEED_TASKS_BACKEND names one (a redis:// URL), with
the queue name AMBI_SEED_TASKS_QUEUE: the tests run the same modules under a real server
and `ambi worker` that way.
"""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from ambi import App, BaseModel, UploadFile


def _app() -> App:
    app = App()
    backend = os.environ.get("AMBI_SEED_TASKS_BACKEND")
    if backend:
        app.enable_background_tasks(
            workers=4, backend=backend, queue_name=os.environ["AMBI_SEED_TASKS_QUEUE"]
        )
    else:
        app.enable_background_tasks(workers=4)
    return app


upload_app = _app()
analyze_app = _app()


#: Where this process saves uploads: one directory, removed when the process exits.
_UPLOADS = Path(tempfile.mkdtemp(prefix="ambi-seed-upload-"))
atexit.register(shutil.rmtree, _UPLOADS, True)


def save_uploaded_file(file: UploadFile) -> str:
    """Save an upload under a fresh directory of this process's own; its path."""
    directory = Path(tempfile.mkdtemp(dir=_UPLOADS))
    path = directory / Path(file.filename or "upload").name
    file.seek(0)
    path.write_bytes(file.read())
    return str(path)


class DataSet(BaseModel):
    values: list[float]


def complex_math_operation(data: list[float]) -> dict[str, Any]:
    return {"count": len(data), "mean": statistics.fmean(data), "max": max(data)}
