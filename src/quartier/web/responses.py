"""Fast JSON responses (orjson) with the media types the standards ask for."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"
