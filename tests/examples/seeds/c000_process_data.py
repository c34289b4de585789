# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): CPU-Bound Operations (process_large_dataset).

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, BaseModel, Field'
    -> 'from ambi import App as Catzilla, JSONResponse, BaseModel, Field'
"""
from ambi import App as Catzilla, JSONResponse, BaseModel, Field
from typing import List, Optional

app = Catzilla()

class DataItem(BaseModel):
    """Data item model with validation"""
    id: int = Field(ge=1, description="Item ID")
    value: float = Field(ge=0, description="Item value")
    name: Optional[str] = Field(None, max_length=100, description="Item name")

class ProcessDataRequest(BaseModel):
    """Request model for data processing"""
    data: List[DataItem] = Field(min_items=1, max_items=1000, description="Data items to process")
    processing_type: str = Field("standard", regex=r'^(standard|advanced|premium)$')

@app.post("/process-data")
def process_large_dataset(request, request_data: ProcessDataRequest):
    """Data processing with auto-validation - sync is optimal"""

    # CPU-intensive data processing with validated data
    processed = []
    for item in request_data.data:
        # Complex calculations on validated data
        result = {
            "id": item.id,
            "processed_value": item.value * 1.5,
            "category": "processed",  # classify_item(item)
            "score": item.value * 2,  # calculate_score(item)
            "name": item.name
        }
        processed.append(result)

    return JSONResponse({
        "processed_items": processed,
        "total": len(processed),
        "processing_type": request_data.processing_type,
        "handler_type": "sync",
        "validation": "automatic"
    })

if __name__ == "__main__":
    app.listen(port=8000)
