"""What schemathesis found (test_schemathesis.py), each as a focused test: a request the OpenAPI
document allows is taken, one it forbids is refused, and the document says what the server
enforces."""

from __future__ import annotations

import json
import re

import hypothesis
import jsonschema
import pytest
from apiclient import MATURITY
from hypothesis import strategies as st
from support import OPERATOR_PIN, PIN

from goldticket.domain.errors import InvalidInputError
from goldticket.domain.ticket import require_text
from web.api.schemas import PATH_IDS, VISIBLE

pytestmark = pytest.mark.functional


def _raw(members, who: str, path: str, text: str):
    token = members[who].token if who != "operator" else members.operator.token
    return members.client.post(
        f"/api/v1{path}",
        data=text,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_a_whole_number_written_with_a_decimal_point_is_that_integer(members):
    """JSON has one kind of number and JSON Schema's "integer" is any number whose value is whole:
    2120.0 and 2.12e3 are the integer 2120. Taken exactly (never through a binary float): a
    fraction, however small, stays refused."""
    for written in ("2120.0", "2.12e3", "212000e-2"):
        response = _raw(
            members,
            "bank",
            "/credit-lines",
            f'{{"core_org_id": "core", "limit_fen": {written}, "pin": "{PIN}"}}',
        )
        assert response.status_code == 201, (written, response.get_json())
        assert response.get_json()["limit_fen"] == 2120
        assert isinstance(response.get_json()["limit_fen"], int)
    for written in ("2120.5", "1.0000000000000001", "1e400", "-0.0", "NaN", "Infinity", "1e999999999"):
        response = _raw(
            members,
            "bank",
            "/credit-lines",
            f'{{"core_org_id": "core", "limit_fen": {written}, "pin": "{PIN}"}}',
        )
        assert response.status_code == 400, (written, response.status_code, response.get_json())
        assert response.get_json()["error"] == "invalid_input"
    # still never a string, a boolean or null
    for written in ('"2120"', "true", "null"):
        response = _raw(
            members,
            "bank",
            "/credit-lines",
            f'{{"core_org_id": "core", "limit_fen": {written}, "pin": "{PIN}"}}',
        )
        assert response.status_code == 400, written
    # not JSON at all, or nested past any schema: 400, never a server error
    for text in ("{", '{"pin": "1", }', "[" * 50_000, '{"a": ' * 8_000):
        response = _raw(members, "bank", "/credit-lines", text)
        assert response.status_code == 400, (text[:20], response.status_code)
        assert response.get_json()["error"] == "invalid_input"


def test_a_new_cards_user_is_described_with_the_usernames_shape(members):
    doc = members.client.get("/api/v1/openapi.json").get_json()
    user_id = doc["components"]["schemas"]["NewCard"]["properties"]["user_id"]
    username = doc["components"]["schemas"]["NewUser"]["properties"]["username"]
    assert user_id["pattern"] == username["pattern"]
    operator = members.operator
    # what the document allows and nobody has is not found, not invalid
    body = {"user_id": "nobody.here", "desk_pin": OPERATOR_PIN}
    assert operator.post("/cards", body, expect=404)["error"] == "not_found"


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/verify/null,null", None),
        ("/verify/ct0123456789abcdef0123", None),
        ("/tickets/TK0123", "tier1"),
        ("/tickets/tk0123456789abcdef0123/history", "tier1"),
        ("/credit-lines/nonsense/accept", "core"),
    ],
)
def test_an_id_not_of_the_shape_the_server_makes_is_not_found(members, path, who):
    headers = {"Authorization": f"Bearer {members[who].token}"} if who else {}
    method = "POST" if path.endswith("/accept") else "GET"
    body = json.dumps({"pin": PIN}) if method == "POST" else None
    response = members.client.open(
        f"/api/v1{path}", method=method, data=body, headers=headers, content_type="application/json"
    )
    assert response.status_code == 404, (path, response.status_code, response.get_json())
    assert response.get_json()["error"] == "not_found"


def test_every_path_id_is_described_with_its_shape(members):
    doc = members.client.get("/api/v1/openapi.json").get_json()
    for methods in doc["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert parameter["schema"]["pattern"] == PATH_IDS[parameter["name"]]


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
@hypothesis.given(text=st.text(alphabet=st.characters(codec=None), max_size=6))
def test_free_text_is_described_with_the_domains_rule(text: str) -> None:
    """An invoice number, a member's name, a reason: the document's pattern is the domain's
    require_text (no control character, not only white space)."""
    try:
        require_text(text, "text", 500)
        taken = True
    except InvalidInputError:
        taken = False
    assert bool(re.fullmatch(VISIBLE.removeprefix("^").removesuffix("$"), text)) == taken, repr(text)


class _Documented:
    """Each answer checked against the OpenAPI document: its status is listed for the operation
    and its body has the schema the document gives that status."""

    def __init__(self, members) -> None:
        self.members = members
        self.doc = members.client.get("/api/v1/openapi.json").get_json()
        self.seen: set[tuple[str, str, str]] = set()

    def __call__(self, who: str, method: str, path: str, body=None, expect: int = 200):
        api = self.members.operator if who == "operator" else self.members[who]
        answer = api.call(method, path, body, expect=expect)
        for template, methods in self.doc["paths"].items():
            pattern = re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, "/api/v1" + path.split("?")[0]) and method.lower() in methods:
                responses = methods[method.lower()]["responses"]
                break
        else:
            raise AssertionError(f"{method} {path} is not in the document")
        assert str(expect) in responses, (method, path, expect, sorted(responses))
        schema = responses[str(expect)]["content"]["application/json"]["schema"]
        jsonschema.validate(answer, {**schema, "components": self.doc["components"]})
        self.seen.add((method, template, str(expect)))
        return answer


def test_the_answers_of_a_life_cycle_have_the_documents_schemas(members, accepted):
    documented = _Documented(members)
    ticket_id = accepted["id"]
    documented("tier1", "GET", f"/tickets/{ticket_id}")
    documented("tier1", "GET", "/tickets?status=ACTIVE")
    offer = documented(
        "tier1",
        "POST",
        f"/tickets/{ticket_id}/transfers",
        {"to_org_id": "tier2", "amount_fen": 100, "pin": PIN},
        201,
    )
    moved = documented("tier2", "POST", f"/offers/{offer['offer_id']}/accept", {"pin": PIN})
    piece = moved["transferred"]["id"]
    applied = documented(
        "tier2",
        "POST",
        f"/tickets/{piece}/financing",
        {"bank_org_id": "bank", "amount_fen": 100, "max_annual_rate_bp": 500, "pin": PIN},
        201,
    )
    documented("bank", "POST", f"/financing/{applied['application_id']}/reject", {"pin": PIN, "reason": "no"})
    documented("tier1", "GET", f"/tickets/{ticket_id}/history")
    documented("tier1", "GET", f"/tickets/{ticket_id}/lineage")
    documented("tier1", "POST", f"/tickets/{ticket_id}/freeze", {"pin": PIN, "reason": "x"}, 403)
    documented("operator", "GET", "/orgs")
    documented("core", "GET", "/credit-lines")
    documented("tier1", "GET", f"/tickets/TK{'0' * 20}", expect=404)
    documented("tier1", "POST", f"/tickets/{ticket_id}/transfers", {"amount_fen": 1.5}, 400)
    documented(
        "tier1",
        "POST",
        f"/tickets/{ticket_id}/transfers",
        {"to_org_id": "tier2", "amount_fen": 1, "pin": "000000"},
        403,
    )
    assert len(documented.seen) == 14


def test_every_operation_lists_the_statuses_it_answers(members):
    doc = members.client.get("/api/v1/openapi.json").get_json()
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            assert [code for code in responses if code.startswith("2")], (method, path)
            for code, answer in responses.items():
                if not code.startswith("2"):
                    assert answer["content"] == {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    }, (method, path, code)
            if "Idempotency-Key" in {p["name"] for p in operation.get("parameters", [])}:
                assert {"403", "409", "422", "423", "429", "503"} <= set(responses), (method, path)
    assert set(doc["paths"]["/api/v1/quote"]["get"]["responses"]) == {"200", "400", "414", "422", "431"}


def test_a_new_password_equal_to_the_old_is_a_rule_between_fields(members):
    """Both fields are what the document allows; that they must differ is a rule between them,
    which JSON Schema cannot say: 422 rule_violation, as every such rule (docs/decisions.md)."""
    same = "an equal password"
    answer = members["tier1"].post("/me/password", {"old_password": same, "new_password": same}, expect=422)
    assert answer["error"] == "rule_violation" and same not in answer["message"]
    members["tier1"].get("/me", expect=200)  # nothing changed, the token still works
    doc = members.client.get("/api/v1/openapi.json").get_json()
    assert "422" in doc["paths"]["/api/v1/me/password"]["post"]["responses"]


def test_an_invoice_listed_twice_is_a_rule_between_items(members, portal):
    """Each invoice is what the document allows; that two of them are one document or one
    number is a rule between items (JSON Schema's uniqueItems compares whole items): 422."""
    height = portal.platform.ledger.height()
    same = {"number": "INV-T", "amount_fen": 100, "sha256": "ab" * 32}
    body = {"payee_org_id": "tier1", "amount_fen": 100, "maturity_date": MATURITY.isoformat(), "pin": PIN}
    for invoices in ([same, {**same, "amount_fen": 50}], [same, {**same, "number": "INV-U"}]):
        answer = members["core"].post("/tickets", {**body, "invoices": invoices}, expect=422)
        assert answer["error"] == "rule_violation" and "listed twice" in answer["message"]
    assert portal.platform.ledger.height() == height
