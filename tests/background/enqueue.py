"""`python -m tests.background.enqueue COUNT PREFIX`: an app process that queues tasks."""

import asyncio
import sys

from tests.background.dist_app import enqueue

asyncio.run(enqueue(int(sys.argv[1]), sys.argv[2]))
