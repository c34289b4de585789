# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Data Processing Pipeline.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, BaseModel, Field'
    -> 'from ambi import App as Catzilla, JSONResponse, BaseModel, Field'
"""
from ambi import App as Catzilla, JSONResponse, BaseModel, Field
from typing import List
import asyncio

app = Catzilla()

@app.post("/process-pipeline")
async def process_pipeline(request, data: List[dict]):
    """Mix async I/O with sync processing"""

    async def enrich_data_async(data):
        # Simulate async data enrichment (I/O bound)
        await asyncio.sleep(0.1)
        return [{"enriched": True, **item} for item in data]

    def process_data_sync(enriched_data):
        # CPU-intensive processing (sync)
        return [{"processed": True, "value": item.get("value", 0) * 2} for item in enriched_data]

    async def save_results_async(processed_data):
        # Simulate async save operation (I/O bound)
        await asyncio.sleep(0.1)
        return {"saved": len(processed_data)}

    # Async: Fetch additional data
    enriched_data = await enrich_data_async(data)

    # Sync: CPU-intensive processing
    processed_data = process_data_sync(enriched_data)

    # Async: Save results
    save_result = await save_results_async(processed_data)

    return JSONResponse({
        "processed": len(processed_data),
        "save_result": save_result
    })

if __name__ == "__main__":
    app.listen(port=8000)
