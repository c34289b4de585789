# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): API Gateway Pattern. It needs the network (aiohttp to
http://<service>.internal); tests replace aiohttp's ClientSession with a local stand-in.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse
import aiohttp
import asyncio

app = Catzilla()

@app.get("/api-gateway/{service}")
async def api_gateway(request, service: str):
    """Async is perfect for proxying requests"""
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{service}.internal") as response:
                data = await response.json()
    except Exception as e:
        return JSONResponse({"error": str(e)}, status_code=500)

    return JSONResponse(data)

if __name__ == "__main__":
    app.listen(port=8000)
