# ruff: noqa
# fmt: off
"""Seed 001 (Catzilla, reStructuredText), "Background Task Integration", verbatim.

Only import lines changed:
  'from catzilla.background_tasks import schedule_task'
    -> 'from ambi.background import schedule_task'
and the names the block takes from the page's other blocks or leaves undefined (`app`,
`JSONResponse`, `File`, `asyncio`, `save_uploaded_file`) come from import lines too (see
`_task_apps.py`).
"""
import asyncio
from ambi import JSONResponse, File
from ._task_apps import upload_app as app, save_uploaded_file

from ambi.background import schedule_task

@app.post("/upload-file")
def upload_file(request, file = File(...)):
    """Sync handler that schedules async background processing"""

    # Sync file handling (fast)
    file_path = save_uploaded_file(file)
    file_info = {
        "filename": file.filename,
        "size": file.size,
        "path": file_path
    }

    # Schedule async background processing
    schedule_task(process_file_async, file_path)

    return JSONResponse({
        "message": "File uploaded successfully",
        "file": file_info,
        "processing": "scheduled in background",
        "handler_type": "sync"
    }, status_code=201)

async def process_file_async(file_path: str):
    """Background async processing"""
    await asyncio.sleep(2)  # Simulate processing
    # Process file, generate thumbnails, extract metadata, etc.
