"""The OpenAPI 3.1 document, generated from the declared operations and their pydantic
schemas: the classes that validate a request are the ones described."""

from __future__ import annotations

import re
from typing import Any

import pydantic

import goldticket

from ._endpoint import OPERATIONS, Operation
from .schemas import PATH_IDS

PREFIX = "/api/v1"
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


BINARY = {"type": "string", "format": "binary"}
UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {"file": BINARY}},
            "encoding": {"file": {"contentType": "application/pdf"}},
        },
        "application/pdf": {"schema": BINARY},
    },
}


def _success(op: Operation) -> dict[str, Any]:
    """The schema of a success body: any JSON, a PDF's bytes, or PEM text."""
    if op.produces == "application/json":
        return {}
    return BINARY if op.produces == "application/pdf" else {"type": "string"}


def _path_schema(name: str) -> dict[str, Any]:
    """A path parameter: the shape of the ids the ledger and the card registry make (every id
    in a path has one; the server answers 404 for any other)."""
    return {"type": "string", "pattern": PATH_IDS[name]}


def _present(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: present with a value, or absent (a query string has no
    null), so pydantic's ``X | None = None`` is described as X."""
    shown = {key: value for key, value in prop.items() if key not in ("title", "description")}
    choices = shown.pop("anyOf", None)
    if choices is not None:
        kept = [choice for choice in choices if choice != {"type": "null"}]
        shown = {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **shown}
    if shown.get("default", "") is None:
        del shown["default"]
    return shown


def _path(rule: str) -> str:
    return PREFIX + re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _schema(model: type[pydantic.BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        path = _path(op.rule)
        operation: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
            "responses": {
                str(op.status): {"description": "done", "content": {op.produces: {"schema": _success(op)}}},
                "default": {
                    "description": "an error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
            for name in re.findall(r"{([a-z_]+)}", path)
        ]
        if op.query is not None:
            query_schema = op.query.model_json_schema()
            required = set(query_schema.get("required", []))
            for name, prop in query_schema["properties"].items():
                parameter = {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": _present(prop),
                }
                if "description" in prop:
                    parameter["description"] = prop["description"]
                parameters.append(parameter)
            if query_schema.get("description"):
                operation["description"] = query_schema["description"]
        if op.idempotent:
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "pattern": "^[\\x20-\\x7e]+$",
                    },
                    "description": "a retry with the same key and body returns the first result"
                    " (after its PIN is proved again on the caller's card)",
                }
            )
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        if op.upload:
            operation["requestBody"] = UPLOAD
        if op.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "GoldTicket API", "version": goldticket.__version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
