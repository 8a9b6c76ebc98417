"""OpenAPI documents per area, generated from that area's routes only."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.openapi.utils import get_openapi

from quartier import __version__


def document(
    request: Request, group: str, *, title: str, description: str = ""
) -> dict[str, Any]:
    cache: dict[str, dict[str, Any]] = request.app.state.__dict__.setdefault(
        "_openapi", {}
    )
    key = f"{group}:{request.base_url}"
    if key not in cache:
        spec = get_openapi(
            title=title,
            version=__version__,
            description=description,
            routes=request.app.state.groups.get(group, []),
        )
        spec["servers"] = [{"url": str(request.base_url).rstrip("/")}]
        cache[key] = spec
    return cache[key]
