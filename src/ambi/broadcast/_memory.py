"""The in-process backend: a dict of channels, delivered to each subscriber's loop."""

from __future__ import annotations

import threading

from ._base import Backend
from ._subscription import Message, Subscription


class MemoryBackend(Backend):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, set[Subscription]] = {}

    async def add(self, subscription: Subscription) -> None:
        with self._lock:
            self._channels.setdefault(subscription.channel, set()).add(subscription)

    async def remove(self, subscription: Subscription) -> None:
        with self._lock:
            subscriptions = self._channels.get(subscription.channel)
            if subscriptions is not None:
                subscriptions.discard(subscription)
                if not subscriptions:
                    del self._channels[subscription.channel]

    async def publish(self, channel: str, data: bytes) -> None:
        with self._lock:
            subscriptions = list(self._channels.get(channel, ()))
        message = Message(channel, data)
        for subscription in subscriptions:
            subscription.deliver(message)

    async def close(self) -> None:
        with self._lock:
            subscriptions = [s for group in self._channels.values() for s in group]
            self._channels.clear()
        for subscription in subscriptions:
            subscription._end()

    def __repr__(self) -> str:
        return "memory://"
