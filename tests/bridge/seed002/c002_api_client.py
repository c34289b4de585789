# Seed 002, "Migration Path / After (async libraries + SmartAsync)", verbatim but for the
# import line.
import httpx

from ambi import smartasync


class APIClient:
    @smartasync
    async def fetch_users(self):
        async with httpx.AsyncClient() as client:
            response = await client.get("https://api.example.com/users")
            return response.json()
