"""A Catzilla app on ambi: only the imports changed (Catzilla's above each)."""

import asyncio

# from catzilla import Catzilla
# from catzilla import BaseModel, Field, File, JSONResponse, Query, UploadFile
from ambi import App as Catzilla
from ambi import BaseModel, Field, File, JSONResponse, Query, UploadFile

# from catzilla.core import get_handler_stats
from ambi import get_handler_stats

# from catzilla.background_tasks import schedule_task
from ambi.background import schedule_task

app = Catzilla()
app.enable_background_tasks(workers=2)  # the queue schedule_task hands work to

PROCESSED: list[str] = []


class User(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(ge=0)


@app.get("/sync")
def sync_handler(request):
    # runs in the thread pool (Catzilla 0.2.3: on its server thread)
    return JSONResponse({"type": "sync", "execution": "thread_pool"})


@app.get("/async")
async def async_handler(request):
    await asyncio.sleep(0.01)
    return JSONResponse({"type": "async", "execution": "event_loop"})


@app.get("/users/{user_id}")
async def get_user(request, user_id: int):  # an unmarked path parameter is passed
    return JSONResponse({"user_id": user_id})


@app.get("/search")
async def search(
    request, q: str = Query(...), limit: int = Query(10, ge=1, le=100)
):
    return JSONResponse({"q": q, "limit": limit})


@app.post("/users")
def create_user(request, user: User):
    return JSONResponse({"created": user.model_dump()}, status_code=201)


@app.post("/echo")
def echo(request):
    return JSONResponse({"bytes": len(request.body), "json": request.json()})


async def index_upload(filename: str, size: int) -> None:
    await asyncio.sleep(0.01)
    PROCESSED.append(f"{filename}:{size}")


@app.post("/upload")
def upload(request, file: UploadFile = File(...)):
    # the file was streamed, and spooled to disk past 1 MiB
    schedule_task(index_upload, file.filename, file.size)
    return JSONResponse(
        {"filename": file.filename, "size": file.size}, status_code=201
    )


@app.get("/handler-stats")
def handler_stats(request):
    return JSONResponse(get_handler_stats())
