# ruff: noqa
# fmt: off
"""Seed 003 (Cello async support): Async Background Tasks.

Copied verbatim from the seed document; only import lines changed:
  'from cello import App, BackgroundTasks' -> 'from ambi import App, BackgroundTasks', and
  what the snippet uses without defining (app, Response, save_order, email_service,
  inventory_service) comes from the stand-ins (tests/examples/seeds/_cello.py).
"""
from ambi import App, BackgroundTasks
from tests.examples.seeds._cello import app, Response, save_order, email_service, inventory_service

@app.post("/orders")
async def create_order(request):
    data = request.json()
    order_id = await save_order(data)

    tasks = BackgroundTasks()
    tasks.add_task(send_confirmation_email, order_id)
    tasks.add_task(update_inventory, data["items"])

    return Response.json(
        {"order_id": order_id, "status": "created"},
        status=201
    )

async def send_confirmation_email(order_id):
    """Runs after the 201 response has been sent."""
    await email_service.send(
        template="order_confirmation",
        order_id=order_id
    )

async def update_inventory(items):
    """Runs after the 201 response has been sent."""
    for item in items:
        await inventory_service.decrement(item["sku"], item["qty"])
