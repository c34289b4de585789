"""Background tasks run after the response has been sent."""

import asyncio

from ambi import App, BackgroundTasks

app = App()

SENT: list[str] = []


def write_audit_log(user: str) -> None:  # `def`: runs in the thread pool
    SENT.append(f"audit {user}")


async def send_welcome(email: str) -> None:  # `async def`: runs on the event loop
    await asyncio.sleep(0.01)
    SENT.append(f"welcome {email}")


@app.post("/signup/{user}")
def signup(user: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(write_audit_log, user)
    background_tasks.add_task(send_welcome, email=f"{user}@example.com")
    return {"user": user, "tasks": len(SENT)}  # nothing has run yet
