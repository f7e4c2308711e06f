"""Every error leaves as ``{"error": code, "message": sentence}`` with the status of its code
(../shared/API.md); never an HTML page, never a stack trace."""

from __future__ import annotations

import errno
import logging
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import HTTPException

from goldticket.domain import DomainError
from goldticket.ledger import LedgerError
from goldticket.settings import ConfigError
from goldticket.signing.errors import SigningError

log = logging.getLogger("goldticket.web")

STATUS = {
    "insufficient_storage": 507,
    "invalid_input": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "wrong_pin": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "payload_too_large": 413,
    "uri_too_long": 414,
    "unsupported_media_type": 415,
    "expectation_failed": 417,
    "rule_violation": 422,
    "card_locked": 423,
    "card_revoked": 423,
    "rate_limited": 429,
    "headers_too_large": 431,
    "internal_error": 500,
    "not_implemented": 501,
    "signing_failed": 502,
    "gateway_unavailable": 503,
    "ledger_error": 503,
    "audit_failed": 503,
}
HTTP_CODES = {
    400: "invalid_input",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}
# Seconds a client should wait before retrying while a dependency is down: `goldticket serve`
# or systemd restarts the signing gateway within 0.5-10 s.
RETRY_AFTER = {"gateway_unavailable": 2, "ledger_error": 5, "audit_failed": 5, "insufficient_storage": 30}
# Headers an HTTP error carries that its answer keeps (405 names the methods that are allowed).
KEPT_HEADERS = ("Allow", "Retry-After")


class ApiError(Exception):
    """An error raised by the web layer itself (bad body, missing token)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def wants_page() -> bool:
    """The portal's pages answer errors with a page of their own; the API with JSON."""
    if request.blueprint is not None:
        return request.blueprint == "portal"
    return not request.path.startswith(("/api/", "/healthz", "/metrics"))


def error_response(code: str, message: str, status: int | None = None) -> Any:
    status = status or STATUS.get(code, 500)
    if wants_page():
        page = (
            "portal/404.html"
            if status == 404
            else "portal/500.html"
            if status >= 500
            else "portal/error.html"
        )
        headers = {"Retry-After": str(RETRY_AFTER[code])} if code in RETRY_AFTER else {}
        return render_template(page, code=code, status=status), status, headers
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    if code in RETRY_AFTER:
        response.headers["Retry-After"] = str(RETRY_AFTER[code])
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Any:
        return error_response(error.code, error.message)

    @app.errorhandler(DomainError)
    @app.errorhandler(SigningError)
    @app.errorhandler(LedgerError)
    @app.errorhandler(ConfigError)
    def typed(error: Any) -> Any:
        code = getattr(error, "code", "internal_error")
        if STATUS.get(code, 500) >= 500 and disk_full(error):
            return _insufficient_storage(error)
        if STATUS.get(code, 500) >= 500:
            log.warning("request %s failed: %s: %s", g.get("request_id"), code, error)
        response = error_response(code, str(error))
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int) and not wants_page():
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http(error: HTTPException) -> Any:
        status = error.code or 500
        code = HTTP_CODES.get(status, "invalid_input" if status < 500 else "internal_error")
        response = app.make_response(
            error_response(code, (error.description or error.name).rstrip("."), status)
        )
        for name, value in error.get_headers():
            if name in KEPT_HEADERS:
                response.headers[name] = value
        return response

    @app.errorhandler(ParseException)
    @app.errorhandler(NoMoreData)
    def unreadable_body(error: Exception) -> Any:
        """gunicorn reads a chunked body as the view reads it: a chunk that is not HTTP/1.1 (or
        a body cut short) is the client's error, raised inside the view; the connection closes."""
        response = error_response("invalid_input", "the request's body is not valid HTTP/1.1 chunked coding")
        response.headers["Connection"] = "close"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        if disk_full(error):
            return _insufficient_storage(error)
        log.error("request %s failed", g.get("request_id"), exc_info=error)
        return error_response("internal_error", "the server failed; the request id is in the logs", 500)


SQLITE_FULL = 13
POSTGRES_DISK_FULL = "53100"


def disk_full(error: BaseException) -> bool:
    """Whether ``error`` or anything that caused it is a full disk: ENOSPC or EDQUOT, SQLite's
    SQLITE_FULL (also wrapped by SQLAlchemy or the ledger), PostgreSQL's disk_full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(current, "sqlite_errorcode", None) == SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == POSTGRES_DISK_FULL:
            return True
        if "database or disk is full" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _insufficient_storage(error: BaseException) -> Any:
    """507 in the envelope, with Retry-After: the disk is full; a retry under the same
    Idempotency-Key is safe (a write that committed is answered from the ledger)."""
    log.error("request %s failed: the disk is full: %s", g.get("request_id"), type(error).__name__)
    return error_response(
        "insufficient_storage",
        "the server's disk is full; try again later with the same Idempotency-Key",
        507,
    )
