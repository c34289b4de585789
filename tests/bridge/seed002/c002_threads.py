# Seed 002, "Issue #2: Not Thread-Safe": the shared-instance example the document calls
# unsafe (safe in ambi), and Solutions 1 and 2, verbatim but for the import line. The
# document leaves `process` and `urls` free: here they collect the results.
import threading

from .c002_fetcher import DataFetcher

urls = [f"https://api.example.com/item/{i}" for i in range(16)]
processed = []


def process(data):
    processed.append(data)


# ❌ UNSAFE: Multiple threads sharing instance
fetcher = DataFetcher()  # Shared across threads


def worker(url):
    data = fetcher.fetch(url)  # Race condition!
    process(data)


# ✅ SAFE: Each thread has its own instance
def worker_per_thread(url):
    fetcher = DataFetcher()  # New instance per thread
    data = fetcher.fetch(url)
    process(data)


# ✅ SAFE: Thread-local storage
thread_local = threading.local()


def get_fetcher():
    """Get or create thread-local fetcher."""
    if not hasattr(thread_local, "fetcher"):
        thread_local.fetcher = DataFetcher()
    return thread_local.fetcher


def worker_thread_local(url):
    fetcher = get_fetcher()
    data = fetcher.fetch(url)
    process(data)
