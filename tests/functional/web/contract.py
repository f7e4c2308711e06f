"""Every answer of the API in the functional tests is checked against the OpenAPI document:
its status must be one the operation documents, and a JSON body must match that status's
schema (success bodies included). A test client class: ``app.test_client_class``."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.test import TestResponse

from web.api.openapi import document


@functools.cache
def _document() -> dict[str, Any]:
    return document()


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def check(app: Flask, method: str, path: str, response: TestResponse) -> None:
    """AssertionError if ``response`` is not what the document says ``method path`` answers."""
    if not path.startswith("/api/"):
        return
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method, return_rule=True)
    except (NotFound, MethodNotAllowed):
        return  # no operation: the error envelope's own tests cover these
    doc = _document()
    operation = doc["paths"].get(_path(rule.rule), {}).get(method.lower())
    if operation is None:
        return  # HEAD and OPTIONS, which Flask adds
    answers = operation["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method} {path} answered {status}, not in the document: {sorted(answers)}"
    content = answers[status].get("content", {})
    kind = response.mimetype
    if kind != "application/json":
        return
    assert kind in content, f"{method} {path} {status} answered {kind}, the document says {sorted(content)}"
    schema = {**content[kind]["schema"], "components": doc["components"]}
    body = json.loads(response.get_data(as_text=True))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{method} {path} {status}: the answer does not match the document: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5]
    )


class ContractClient(FlaskClient):
    """A test client that checks each API answer against the OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        check(self.application, request.method, request.path, response)
        return response
