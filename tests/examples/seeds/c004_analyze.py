# ruff: noqa
# fmt: off
"""Seed 004 (FastAPI's sync/async guidance): the CPU-bound block, verbatim.

`background_tasks` is a module-level name the page never defines; on ambi it is the
current app's task queue, whose `add_task` returns the task id the route answers with.
Import lines added: 'from typing import List',
'from ambi.background import current_tasks as background_tasks', and the page's undefined
`app`, `DataSet` and `complex_math_operation` from `_task_apps.py`.
"""
from typing import List
from ambi.background import current_tasks as background_tasks
from ._task_apps import analyze_app as app, DataSet, complex_math_operation

# CPU-bound - use sync or background tasks
def calculate_statistics(data: List[float]):
    # Heavy computation - blocks is fine
    return complex_math_operation(data)

# Better: Move to background task
@app.post("/analyze")
async def analyze_data(data: DataSet):
    task_id = background_tasks.add_task(
        calculate_statistics, 
        data.values
    )
    return {"task_id": task_id}
