"""Minimal stand-ins for the helpers seed 001 calls but never defines.

Each returns small, deterministic data shaped like what the document implies; none
sleeps, so the examples' timing comes from their own code.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "analyze_activity_patterns",
    "calculate_complex_stats",
    "combine_data",
    "complex_tax_calculation",
    "enrich_data_async",
    "fetch_data1",
    "fetch_data2",
    "fetch_data3",
    "fetch_user_activity",
    "fetch_user_from_db",
    "generate_recommendations",
    "get_user_from_db",
    "get_user_from_db_async",
    "get_user_posts",
    "get_user_posts_async",
    "get_user_stats",
    "get_user_stats_async",
    "heavy_data_processing",
    "process_data_sync",
    "save_report_to_file",
    "save_results_async",
]


async def fetch_user_from_db(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "name": f"User {user_id}"}


async def fetch_user_activity(user_id: int) -> list[dict[str, Any]]:
    return [{"action": f"action_{i}", "user_id": user_id} for i in range(3)]


def analyze_activity_patterns(activity: list[dict[str, Any]]) -> dict[str, Any]:
    return {"pattern": "active_user", "events": len(activity)}


def generate_recommendations(user_data: dict[str, Any], analysis: dict[str, Any]) -> list[str]:
    return [f"recommendation_for_{user_data['id']}"]


def heavy_data_processing(report_data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "processed": True} for key in report_data]


def calculate_complex_stats(processed_data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(processed_data)}


def save_report_to_file(processed_data: Any) -> str:
    return "report.json"


def get_user_from_db(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "name": f"User {user_id}"}


def get_user_posts(user_id: int) -> list[dict[str, Any]]:
    return [{"id": i, "title": f"Post {i}"} for i in range(3)]


def get_user_stats(user_id: int) -> dict[str, Any]:
    return {"posts": 3, "followers": 100}


async def get_user_from_db_async(user_id: int) -> dict[str, Any]:
    return get_user_from_db(user_id)


async def get_user_posts_async(user_id: int) -> list[dict[str, Any]]:
    return get_user_posts(user_id)


async def get_user_stats_async(user_id: int) -> dict[str, Any]:
    return get_user_stats(user_id)


def complex_tax_calculation(income: float) -> float:
    return income * (0.25 if income > 50000 else 0.15)


async def enrich_data_async(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"enriched": True, **item} for item in data]


def process_data_sync(enriched_data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"processed": True, **item} for item in enriched_data]


async def save_results_async(processed_data: list[dict[str, Any]]) -> dict[str, int]:
    return {"saved": len(processed_data)}


async def fetch_data1() -> dict[str, str]:
    return {"data": "from_service_1"}


async def fetch_data2() -> dict[str, str]:
    return {"data": "from_service_2"}


async def fetch_data3() -> dict[str, str]:
    return {"data": "from_service_3"}


def combine_data(*parts: Any) -> dict[str, Any]:
    return {"combined": list(parts)}
