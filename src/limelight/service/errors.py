"""One JSON shape for every error the service returns: `{"error": {"code": ..., "message": ...}}`.

Engines raise `LimelightError` subclasses; the service maps each to an HTTP status by class and
keeps the class's stable `code`. Nothing a client sends can produce a 500: validation failures
are 422, unknown routes 404, and anything unexpected is logged and answered with a short 500.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from limelight.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    DataError,
    ForbiddenError,
    InputError,
    LimelightError,
    NotFittedError,
    NotFoundError,
    StorageError,
)

__all__ = [
    "ERROR_RESPONSES",
    "ErrorBody",
    "RateLimitedError",
    "ServiceUnavailableError",
    "error_response",
    "install_error_handlers",
    "status_for",
]

log = logging.getLogger(__name__)


class RateLimitedError(LimelightError):
    """The key has used up its request budget for now."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServiceUnavailableError(LimelightError):
    """A part of the service (an engine, a model) is not ready yet."""

    code = "unavailable"


class PayloadTooLargeError(InputError):
    """A batch or page is larger than the service accepts."""

    code = "payload_too_large"


_STATUS: tuple[tuple[type[LimelightError], int], ...] = (
    (RateLimitedError, 429),
    (ServiceUnavailableError, 503),
    (StorageError, 503),
    (PayloadTooLargeError, 413),
    (AuthError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (NotFittedError, 503),
    (DataError, 422),
    (InputError, 422),
    (ConfigError, 422),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error: a stable machine code and one human sentence."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# The error statuses shared by every authenticated route (routes add 404/409/413 as they apply).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Malformed request (e.g. a body that is not JSON)."),
    401: _doc("Missing, malformed, unknown or revoked API key."),
    403: _doc("The key's role may not do this, or may not see this object."),
    422: _doc("A parameter or body field is invalid; the message names it."),
    429: _doc("The key's rate limit is exhausted; see Retry-After."),
}


def status_for(exc: LimelightError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


@functools.cache
def _pattern_words() -> dict[str, str]:
    """What each field pattern the API checks means, in words (a client should not have to read a regex).

    Imported when first needed: the routes import this module.
    """
    from limelight.payments.churn import MONTH_PATTERN
    from limelight.service.config import EVENT_ID_PATTERN, ID_PATTERN, PERSON_ID_PATTERN
    from limelight.service.keys import KEY_ID_PATTERN
    from limelight.service.routes.admin import MODEL_NAME_PATTERN
    from limelight.service.routes.forecasts import _MONEY
    from limelight.service.routes.payments import _CODE

    return {
        ID_PATTERN: "an id of 1 to 128 letters, digits or _ . : @ - starting with a letter or digit",
        EVENT_ID_PATTERN: "an id of 1 to 128 letters, digits or _ . : @ / - starting with a letter or digit",
        PERSON_ID_PATTERN: "a person id of 1 to 128 characters without / or \\ and no space at either end",
        KEY_ID_PATTERN: "a key id of 12 lower-case hex digits",
        MONTH_PATTERN: "a month written YYYY-MM, from 1900-01 to 2999-12",
        MODEL_NAME_PATTERN: "a model name such as auto or ease (lower-case letters, digits, _ or -)",
        _MONEY: "an amount such as 2500000 or $2,500,000.00",
        _CODE: "a decline code of 1 to 64 letters, digits or _, such as insufficient_funds or 51",
        r"^[A-Z]{2}$": "a two-letter country code in capitals, such as US",
        r"^[A-Za-z]{2}$": "a two-letter country code, such as US",
        r"^[A-Za-z]{3}$": "a three-letter currency code, such as USD",
        r"^[0-9]{1,2}$": "a Mastercard merchant advice code of one or two digits, such as 24",
        r"^[A-Za-z_]{1,20}$": "a card brand of up to 20 letters, such as visa",
        "(?i)^(sag-aftra|wga|dga)$": "sag-aftra, wga or dga (any case)",
    }


def _sentence(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    in_body = bool(loc) and loc[0] == "body"
    where = ".".join(p for p in loc if p != "body") or ("the request body" if in_body else "the request")
    msg = str(err.get("msg", "is invalid"))
    got = err.get("input")
    if err.get("type") == "json_invalid":
        return "the request body must be valid JSON"
    if in_body and isinstance(got, bytes):  # FastAPI hands over raw bytes when the content type is not JSON
        return "the request body must be JSON sent with the header content-type: application/json"
    if err.get("type") == "missing":
        return f"{where} is required"
    if err.get("type") == "string_pattern_mismatch":
        words = _pattern_words().get(str((err.get("ctx") or {}).get("pattern", "")))
        if words:
            return f"{where} must be {words}, got {repr(got)[:60]}"
    if err.get("type") == "value_error":  # our validators word the problem ("must be one of …")
        said = msg.removeprefix("Value error, ")
        return f"{where} {said}" if ", got " in said else f"{where} {said}, got {repr(got)[:60]}"
    shown = repr(got) if isinstance(got, str | int | float | bool) or got is None else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    if loc == ["body"] and err.get("type") in ("model_type", "model_attributes_type", "dict_type"):
        return f"the request body must be a JSON object, got {'null' if got is None else shown}"
    # pydantic names union branches ("seconds_viewed.float"); the field's name is what a client sent
    if where.rsplit(".", 1)[-1] in ("int", "float", "str", "bool", "list", "dict", "datetime", "date"):
        where = where.rsplit(".", 1)[0]
    return f"{where}: {msg[0].lower() + msg[1:] if msg else msg}, got {shown}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LimelightError)
    async def _limelight(request: Request, exc: LimelightError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimitedError):
            from limelight.service.ratelimit import RateLimiter

            headers = {"Retry-After": RateLimiter.retry_after_header(exc.retry_after_s)}
        if isinstance(exc, AuthError):
            headers = {"WWW-Authenticate": "Bearer"}
        return error_response(status_for(exc), exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        message = _sentence(errors[0]) if errors else "the request is invalid"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return error_response(422, "invalid_input", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = "the request body could not be read as JSON (malformed, or nested too deeply)"
        elif exc.status_code == 404 and detail == "Not Found":
            detail = f"there is no route {request.method} {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, code, detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "the service failed unexpectedly; the error was logged")
