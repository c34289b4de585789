"""Background work: `BackgroundTasks` runs after the response of one request; the app task
queue runs work in the background of the whole app.

The app task queue, in one process (the default)::

    app.enable_background_tasks(workers=4)

    task_id = app.add_task(send_email, user.email, subject="hi")     # any thread, sync or async fn
    task_id = schedule_task(send_email, user.email)                   # the current app's queue
    task_id = app.tasks.submit(send_email, (user.email,), {"subject": "hi"},
                               delay=5, max_retries=3, timeout=30)    # per-task options
    status = await app.tasks.status(task_id)   # in async code; plain call in sync code
    await app.tasks.flush()    # distributed: every task submitted so far is in the broker

`add_task` passes every keyword to the task itself, so per-task options never collide with
the task's own parameters: they go to `submit`, which takes the arguments as a tuple and a
dict. `status` is a `TaskStatus`: `state` (`queued`, `running`, `done`, `failed`), `result`
or `error`, `attempts`, and timings.

Many processes and machines: `app.enable_background_tasks(backend="redis://..." or
"nats://...")` hands the same calls to taskiq; `ambi worker module:app` runs the tasks. See
`_distributed.py` for the delivery guarantees (at least once: make tasks idempotent).
"""

from ..exceptions import QueueClosed, QueueFull, TaskQueueUnavailable
from ._current import CurrentTasks, current_tasks, schedule_task
from ._queue import TaskQueue
from ._request import BackgroundTasks
from ._status import TaskOptions, TaskStatus

__all__ = [
    "BackgroundTasks",
    "CurrentTasks",
    "QueueClosed",
    "QueueFull",
    "TaskOptions",
    "TaskQueue",
    "TaskQueueUnavailable",
    "TaskStatus",
    "current_tasks",
    "schedule_task",
]
