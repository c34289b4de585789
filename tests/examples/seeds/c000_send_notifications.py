# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): I/O-Bound Operations (send_notifications).
The block uses asyncio without importing it: the import is added.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, BaseModel, Field, Query'
    -> 'import asyncio\nfrom ambi import App as Catzilla, JSONResponse, BaseModel, Field, Query'
"""
import asyncio
from ambi import App as Catzilla, JSONResponse, BaseModel, Field, Query
from typing import List, Optional

app = Catzilla()

class NotificationItem(BaseModel):
    """Single notification model"""
    id: int = Field(ge=1, description="Notification ID")
    type: str = Field(regex=r'^(email|sms|push)$', description="Notification type")
    recipient: str = Field(min_length=1, max_length=255, description="Recipient address")
    message: str = Field(min_length=1, max_length=1000, description="Notification message")

class NotificationRequest(BaseModel):
    """Batch notification request"""
    notifications: List[NotificationItem] = Field(min_items=1, max_items=100, description="Notifications to send")

@app.post("/send-notifications")
async def send_notifications(request, notification_request: NotificationRequest):
    """Multiple API calls with validation - async shines here"""

    async def send_single_notification(notification: NotificationItem):
        # Simulate sending email, SMS, push notification
        await asyncio.sleep(0.1)
        return {
            "id": notification.id,
            "status": "sent",
            "type": notification.type,
            "recipient": notification.recipient
        }

    # Send all notifications concurrently
    results = await asyncio.gather(*[
        send_single_notification(notif) for notif in notification_request.notifications
    ])

    return JSONResponse({
        "sent": len(results),
        "results": results,
        "handler_type": "async",
        "execution": "concurrent",
        "validation": "automatic"
    })

if __name__ == "__main__":
    app.listen(port=8000)
