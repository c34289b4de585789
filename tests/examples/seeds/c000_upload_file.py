# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Background Task Integration.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, UploadFile, File'
    -> 'from ambi import App as Catzilla, JSONResponse, UploadFile, File'
and 'import time' added (the block calls `time.time()` without importing it).
"""
from ambi import App as Catzilla, JSONResponse, UploadFile, File
import asyncio
import time

app = Catzilla()

# Enable background task system
app.enable_background_tasks(workers=4)

def process_file_async(task_id: str, file_path: str):
    """Background async processing"""
    import time
    # Simulate processing - thumbnails, metadata extraction, etc.
    time.sleep(2)
    print(f"✅ File processed: {file_path}")

@app.post("/upload-file")
def upload_file(request, file: UploadFile = File(max_size="50MB")):
    """Sync handler that schedules async background processing"""

    # Sync file handling (fast) - using real Catzilla API
    file_path = file.save_to("uploads/", stream=True)
    file_info = {
        "filename": file.filename,
        "size": file.size,
        "content_type": file.content_type,
        "path": file_path
    }

    # Schedule async background processing using real Catzilla API
    task_id = f"process_{file.filename}_{int(time.time())}"
    app.add_task(process_file_async, task_id, file_path)

    return JSONResponse({
        "message": "File uploaded successfully",
        "file": file_info,
        "task_id": task_id,
        "processing": "scheduled in background",
        "handler_type": "sync"
    }, status_code=201)

if __name__ == "__main__":
    app.listen(port=8000)
