"""How an API endpoint is declared: its route, its request schema (pydantic, which both
validates the body and feeds the OpenAPI document), whether it needs a token, and for ledger
writes the idempotent run with the read model caught up before the answer leaves."""

from __future__ import annotations

import dataclasses
import decimal
import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import pydantic
from flask import Blueprint, current_app, g, jsonify, request

from goldticket.services import accounts, idempotency
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from ..errors import ApiError
from .schemas import PATH_IDS

log = logging.getLogger("goldticket.web")


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # relative to /api/v1, Flask syntax
    summary: str
    body: type[pydantic.BaseModel] | None
    query: type[pydantic.BaseModel] | None
    status: int
    auth: bool
    idempotent: bool
    tag: str
    produces: str = "application/json"  # the media type of a success
    upload: bool = False  # the body is a PDF: multipart field ``file``, or application/pdf
    # the body may come as multipart/form-data too: this field of it as the file ``file``
    file_field: str | None = None


OPERATIONS: list[Operation] = []


def portal() -> Portal:
    return current_app.extensions["goldticket"]  # type: ignore[no-any-return]


def _describe(error: pydantic.ValidationError) -> str:
    """Field and reason of each problem; never the input (it may hold a PIN)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg'].lower()}")
    return "; ".join(parts)


# Larger than any number a schema allows (MAX_FEN is 10**15): a number of 10**18 or more is
# refused before anything computes with it (1e999999999 would be a billion digits).
_DIGITS = 18


def _number(text: str) -> int | float:
    """A JSON number written with a point or an exponent, as JSON Schema reads it: 2120.0 and
    2.12e3 are the integer 2120 (decided exactly, in decimal, never through a binary float);
    any other stays a float, which no integer field takes."""
    value = decimal.Decimal(text)
    if not value.is_finite() or value.adjusted() >= _DIGITS:
        raise ApiError("invalid_input", "a number in the body is out of range")
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _refuse_constant(name: str) -> None:
    raise ApiError("invalid_input", f"{name} is not a JSON number")


def _whole_numbers(raw: bytes) -> bytes:
    """The body with every whole number written as an integer (see ``_number``); the models
    then validate it strictly, as JSON, so an amount is still never a string or a fraction."""
    try:
        data = json.loads(raw, parse_float=_number, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ApiError("invalid_input", "the body is not JSON (RFC 8259)") from None
    return json.dumps(data).encode()


def _parse_body(model: type[pydantic.BaseModel], file_field: str | None = None) -> pydantic.BaseModel:
    if file_field is not None and request.mimetype == "multipart/form-data":
        return _parse_form(model, file_field)
    raw = request.get_data(cache=True)
    if not raw.strip():
        raw = b"{}"
    elif request.mimetype != "application/json":
        raise ApiError("unsupported_media_type", "send the body as application/json")
    raw = _whole_numbers(raw)
    try:
        return model.model_validate_json(raw, strict=True)
    except pydantic.ValidationError as error:
        raise ApiError("invalid_input", _describe(error)) from None


def _parse_form(model: type[pydantic.BaseModel], file_field: str) -> pydantic.BaseModel:
    """The body sent as multipart/form-data: ``file_field`` is the uploaded file ``file`` (UTF-8
    text), every other field of the model a form field. Within the application's body limit
    (413 beyond, as for JSON), then validated by the same model as the JSON body."""
    files, form = request.files, request.form  # parsing the form applies the body limit
    if set(files) != {"file"} or len(files.getlist("file")) != 1:
        raise ApiError("invalid_input", f"upload {file_field} as the one multipart file field file")
    if file_field in form:
        raise ApiError(
            "invalid_input", f"send {file_field} as the multipart file field file, not a form field"
        )
    fields: dict[str, Any] = {}
    for name in form:
        values = form.getlist(name)
        if len(values) != 1:
            raise ApiError("invalid_input", f"the form field {name} is given more than once")
        fields[name] = values[0]
    try:
        fields[file_field] = files["file"].read().decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("invalid_input", "the file is not UTF-8 text") from None
    try:
        return model.model_validate_json(json.dumps(fields), strict=True)
    except pydantic.ValidationError as error:
        raise ApiError("invalid_input", _describe(error)) from None


def _parse_query(model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    try:
        return model.model_validate(dict(request.args.items()))
    except pydantic.ValidationError as error:
        raise ApiError("invalid_input", _describe(error)) from None


def _check_path_ids(url: dict[str, Any]) -> None:
    """An id in the path that has not the shape the server makes (schemas.PATH_IDS, as the
    OpenAPI document says) names nothing: 404, before anything looks it up."""
    for name, value in url.items():
        if not re.fullmatch(PATH_IDS[name].removeprefix("^").removesuffix("$"), str(value)):
            raise ApiError("not_found", f"no {name.removesuffix('_id').replace('_', ' ')} has this id")


def current_actor() -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthenticated", "send Authorization: Bearer <token> (POST /api/v1/auth/token)")
    actor = accounts.authenticate(portal(), token.strip())
    g.actor = actor
    return actor


def _catch_up(current: Portal) -> None:
    """Project the write just committed, so that the next read sees it. The write stands
    whatever happens here: a failure is logged and the follower's next round projects it."""
    try:
        current.follower.catch_up()
    except Exception:
        log.exception("the read model did not catch up after a write; the follower will")


class Write:
    """A ledger write in a view: ``run(perform, present)`` where ``perform`` calls the use case
    and ``present`` turns its (chaincode) result into the answer's body."""

    def __init__(self, actor: Actor, status: int, body: pydantic.BaseModel | None) -> None:
        self.actor = actor
        self.status = status
        self.body = body

    def run(
        self,
        perform: Callable[[], Any],
        present: Callable[[Any], Any] = lambda result: result,
        status_of: Callable[[Any], int] | None = None,
    ) -> Any:
        """``status_of`` picks the status from the answer where it varies (202 for a card that
        waits for approval)."""
        current = portal()

        def status(answer: Any) -> int:
            return status_of(answer) if status_of is not None else self.status

        def once() -> tuple[int, Any]:
            answer = present(perform())
            _catch_up(current)
            return status(answer), answer

        def recover(result: Any) -> tuple[int, Any]:
            _catch_up(current)
            answer = present(result)
            return status(answer), answer

        shown = self.body.model_dump(mode="json") if self.body is not None else {}
        fingerprint = idempotency.fingerprint(request.method, request.path, shown)
        key = request.headers.get("Idempotency-Key")
        outcome = idempotency.run(
            current, self.actor, key, fingerprint, once, recover, pin=self.authorising_pin()
        )
        response = jsonify(outcome.body)
        response.status_code = outcome.status
        if outcome.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    def authorising_pin(self) -> str | None:
        """The PIN of the actor's own card that authorises this write: ``desk_pin`` at the
        operator desk (where a ``pin`` is a new card's), else ``pin``; None if it has none."""
        for name in ("desk_pin", "pin"):
            value = getattr(self.body, name, None)
            if isinstance(value, str):
                return value
        return None


def endpoint(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    body: type[pydantic.BaseModel] | None = None,
    query: type[pydantic.BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    write: bool = False,
    produces: str = "application/json",
    upload: bool = False,
    file_field: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a view. It is called with ``actor`` (when ``auth``), ``body``/``query`` models
    (when given), ``write`` (a :class:`Write`, when ``write``) and the URL's variables.
    ``produces`` and ``upload`` only describe it in the OpenAPI document: a view that answers
    other than JSON, or reads an uploaded PDF, says so. With ``file_field`` the body may also
    come as multipart/form-data, that field of ``body`` as the uploaded file ``file``."""
    prefix = bp.url_prefix or ""
    OPERATIONS.append(
        Operation(
            method,
            prefix + rule,
            summary,
            body,
            query,
            status,
            auth,
            write,
            bp.name,
            produces,
            upload,
            file_field,
        )
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handle(**url: Any) -> Any:
            kwargs: dict[str, Any] = dict(url)
            actor = current_actor() if auth else None
            if auth:
                kwargs["actor"] = actor
            _check_path_ids(url)
            parsed = _parse_body(body, file_field) if body is not None else None
            if body is not None:
                kwargs["body"] = parsed
            if query is not None:
                kwargs["query"] = _parse_query(query)
            if write:
                assert actor is not None
                kwargs["write"] = Write(actor, status, parsed)
                return view(**kwargs)
            result = view(**kwargs)
            if isinstance(result, tuple | list | dict):
                response = jsonify(result)
                response.status_code = status
                return response
            return result

        bp.add_url_rule(rule, endpoint=f"{view.__name__}", view_func=handle, methods=[method])
        return handle

    return decorate
