# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Mixed Workloads (analyze_user, process_report).

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, BaseModel, Field, Query'
    -> 'from ambi import App as Catzilla, JSONResponse, BaseModel, Field, Query'
"""
from ambi import App as Catzilla, JSONResponse, BaseModel, Field, Query
from typing import List, Optional
import asyncio

app = Catzilla()

# Primary I/O with some CPU work - use async
@app.get("/analyze-user")
async def analyze_user(request, user_id: int = Query(..., ge=1, description="User ID to analyze")):
    """I/O-heavy with some CPU work - async is better"""

    async def fetch_user_from_db(user_id):
        await asyncio.sleep(0.1)
        return {"id": user_id, "name": f"User {user_id}", "created": "2023-01-01"}

    async def fetch_user_activity(user_id):
        await asyncio.sleep(0.15)
        return [{"action": f"action_{i}", "timestamp": f"2023-01-{i:02d}"} for i in range(1, 6)]

    def analyze_activity_patterns(activity):
        # CPU work
        return {"pattern": "active_user", "score": 85}

    def generate_recommendations(user_data, analysis):
        # CPU work
        return ["recommendation_1", "recommendation_2"]

    # I/O operations (primary workload)
    user_data = await fetch_user_from_db(user_id)
    user_activity = await fetch_user_activity(user_id)

    # CPU work (secondary)
    analysis = analyze_activity_patterns(user_activity)
    recommendations = generate_recommendations(user_data, analysis)

    return JSONResponse({
        "user_id": user_id,
        "analysis": analysis,
        "recommendations": recommendations,
        "handler_type": "async"
    })

class ReportData(BaseModel):
    """Report data model with validation"""
    title: str = Field(min_length=1, max_length=200, description="Report title")
    data_points: List[dict] = Field(min_items=1, max_items=10000, description="Data points")
    report_type: str = Field(regex=r'^(daily|weekly|monthly|yearly)$', description="Report type")
    filters: Optional[dict] = Field(None, description="Optional filters")

# Primary CPU with some I/O - use sync
@app.post("/process-report")
def process_report(request, report_data: ReportData):
    """CPU-heavy with some I/O - sync is better"""

    def heavy_data_processing(data_points):
        # Simulate heavy CPU processing
        return [{"processed": True, "value": point.get("value", 0) * 2} for point in data_points]

    def calculate_complex_stats(processed_data):
        # Simulate complex statistics calculation
        total = sum(item["value"] for item in processed_data)
        return {"total": total, "average": total / len(processed_data), "count": len(processed_data)}

    def save_report_to_file(report_content):
        # Simulate saving to file (I/O operation)
        import json
        filename = f"report_{report_content['type']}.json"
        # In real app: with open(filename, 'w') as f: json.dump(report_content, f)
        return filename

    # CPU work (primary workload) with validated data
    processed_data = heavy_data_processing(report_data.data_points)
    statistics = calculate_complex_stats(processed_data)

    # I/O work (secondary) - can be done synchronously
    filename = save_report_to_file({
        "title": report_data.title,
        "type": report_data.report_type,
        "data": processed_data,
        "stats": statistics
    })

    return JSONResponse({
        "statistics": statistics,
        "processed_items": len(processed_data),
        "report_title": report_data.title,
        "report_type": report_data.report_type,
        "saved_to": filename,
        "handler_type": "sync",
        "validation": "automatic"
    })

if __name__ == "__main__":
    app.listen(port=8000)
