# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Performance Optimization Tips 2 (concurrent operations).

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse
import asyncio

app = Catzilla()

# Good: Concurrent async operations
async def good_async_pattern(request):
    async def fetch_data1():
        await asyncio.sleep(0.1)
        return {"data": "from_service_1"}

    async def fetch_data2():
        await asyncio.sleep(0.1)
        return {"data": "from_service_2"}

    async def fetch_data3():
        await asyncio.sleep(0.1)
        return {"data": "from_service_3"}

    def combine_data(data1, data2, data3):
        return {"combined": [data1, data2, data3]}

    data1, data2, data3 = await asyncio.gather(
        fetch_data1(),
        fetch_data2(),
        fetch_data3()
    )
    return combine_data(data1, data2, data3)

# Bad: Sequential async operations
async def bad_async_pattern(request):
    async def fetch_data1():
        await asyncio.sleep(0.1)
        return {"data": "from_service_1"}

    async def fetch_data2():
        await asyncio.sleep(0.1)
        return {"data": "from_service_2"}

    async def fetch_data3():
        await asyncio.sleep(0.1)
        return {"data": "from_service_3"}

    def combine_data(data1, data2, data3):
        return {"combined": [data1, data2, data3]}

    data1 = await fetch_data1()
    data2 = await fetch_data2()  # Waits for data1
    data3 = await fetch_data3()  # Waits for data2
    return combine_data(data1, data2, data3)

@app.get("/good-pattern")
async def good_pattern_endpoint(request):
    result = await good_async_pattern(request)
    return JSONResponse(result)

@app.get("/bad-pattern")
async def bad_pattern_endpoint(request):
    result = await bad_async_pattern(request)
    return JSONResponse(result)

if __name__ == "__main__":
    app.listen(port=8000)
