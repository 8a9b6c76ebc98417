"""Domain errors → HTTP status, in one place; one JSON error body everywhere.

The body is the OGC API exception shape, ``{"code": …, "description": …}``,
which the platform API shares so clients parse one format.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from quartier.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuartierError,
    TooLarge,
    TooManyAttempts,
    Unauthenticated,
)
from quartier.web.responses import JSONResponse

log = logging.getLogger(__name__)

STATUS: dict[type[QuartierError], int] = {
    NotFound: 404,
    TooLarge: 413,
    InvalidInput: 400,
    Conflict: 409,
    Unauthenticated: 401,
    TooManyAttempts: 429,
    PermissionDenied: 403,
}


def status_of(exc: QuartierError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def error_response(status: int, code: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"code": code, "description": description}, status_code=status, headers=headers
    )


async def _quartier_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QuartierError)
    response = error_response(status_of(exc), type(exc).__name__, str(exc))
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        response.headers["Retry-After"] = str(retry)
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return error_response(400, "InvalidParameterValue", "; ".join(parts))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed", 413: "TooLarge"}.get(
        exc.status_code, "Error"
    )
    return error_response(exc.status_code, code, str(exc.detail))


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(QuartierError, _quartier_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
