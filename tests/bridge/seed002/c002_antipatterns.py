# Seed 002, "Anti-Patterns" 2 and 3, verbatim but for the import line. The document leaves
# `url` free in Pipeline.process and DataFetcher as defined earlier in it.
import asyncio

from ambi import smartasync

from .c002_fetcher import DataFetcher

url = "https://api.example.com/item/7"


class Pipeline:
    @smartasync
    async def fetch(self, url: str):
        await asyncio.sleep(0)
        return {"fetched": url}

    async def process(self):
        # This works but is unnecessary
        data = await self.fetch(url)  # Auto-detects async context correctly
        return data


# ✅ GOOD: Batch in async context
async def fetch_all(urls):
    fetcher = DataFetcher()
    tasks = [fetcher.fetch(url) for url in urls]
    return await asyncio.gather(*tasks)
