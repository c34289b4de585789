# Seed 002, "Solution 3: Multiprocessing", verbatim but for the import line; run as a
# script by the test. `process` and `urls` are free in the document: defined here.
import multiprocessing
import sys

from tests.bridge.seed002._stand_ins import patch_httpx
from tests.bridge.seed002.c002_fetcher import DataFetcher

patch_httpx()  # module level: also runs in spawned children
urls = [f"https://api.example.com/item/{i}" for i in range(8)]


def process(data):
    # one write per line: the pool's children share the parent's stdout pipe
    sys.stdout.write(f"item {data['item']}\n")
    sys.stdout.flush()


if __name__ == "__main__":  # not in the document: the parent uses its loop before forking
    DataFetcher().fetch(urls[0])


# ✅ SAFE: Separate processes (no shared cache)
def worker(url):
    fetcher = DataFetcher()
    data = fetcher.fetch(url)
    process(data)


if __name__ == "__main__":
    with multiprocessing.Pool(processes=4) as pool:
        results = pool.map(worker, urls)
