# Seed 002, "Real-World Example: Data Processing Pipeline / After SmartAsync", verbatim
# but for the import line.
# ruff: noqa: SIM117 - the document nests its `async with` statements
import aiofiles
import asyncpg
import httpx

from ambi import smartasync


class DataPipeline:
    @smartasync
    async def fetch_data(self, api_url: str):
        async with httpx.AsyncClient() as client:
            response = await client.get(api_url)
            return response.json()

    @smartasync
    async def download_file(self, url: str, path: str):
        async with httpx.AsyncClient() as client:
            async with aiofiles.open(path, "wb") as f:
                async for chunk in client.stream("GET", url):
                    await f.write(chunk)

    @smartasync
    async def save_to_db(self, data: dict):
        conn = await asyncpg.connect("postgresql://...")
        await conn.execute("INSERT INTO results VALUES ($1)", data)
        await conn.close()
