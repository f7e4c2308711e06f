"""POST /v1/pin: the gateway proves a PIN on a card without signing anything of the caller's
(a replayed request shows its PIN again, docs/decisions.md). A wrong PIN counts towards locking
the card like a signature's; a locked or unknown card is refused; every request is audited and
no PIN reaches the log."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from support import PIN
from test_gateway import SECRET, client, gateway, serial_of  # noqa: F401 - fixtures

from goldticket.signing.audit import verify
from goldticket.signing.client import GatewayClient
from goldticket.signing.errors import CardLockedError, CardNotFoundError, UnauthenticatedError, WrongPinError

pytestmark = pytest.mark.functional


def _audited(consortium) -> list[dict]:
    path = consortium.platform.settings.data_dir / "cards" / "audit.jsonl"
    text = path.read_text(encoding="utf-8")
    assert PIN not in text and "999999" not in text
    assert verify(path).ok
    return [json.loads(line)["entry"] for line in text.splitlines()]


def test_a_right_pin_is_proved_and_a_wrong_one_counted(consortium, client):  # noqa: F811
    serial = serial_of(consortium, consortium.tier1)
    client.prove_pin(serial=serial, pin=PIN)
    with pytest.raises(WrongPinError) as wrong:
        client.prove_pin(serial=serial, pin="999999")
    assert wrong.value.tries_left == 4
    client.prove_pin(serial=serial, pin=PIN)  # the right PIN clears the count
    assert consortium.platform.cards.registry.tries_left(serial) == 5
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(WrongPinError) as wrong:
            client.prove_pin(serial=serial, pin="999999")
        assert wrong.value.tries_left == left
    with pytest.raises(CardLockedError):
        client.prove_pin(serial=serial, pin=PIN)
    with pytest.raises(CardNotFoundError):
        client.prove_pin(serial=serial + "X", pin=PIN)
    entries = [entry for entry in _audited(consortium) if entry.get("purpose") == "pin"]
    assert [entry["result"] for entry in entries] == ["proved", "refused", "proved", *["refused"] * 7]
    assert entries[0]["user"] == consortium.tier1.username


def test_a_malformed_or_unauthenticated_pin_request_is_refused_and_audited(consortium, gateway):  # noqa: F811
    serial = serial_of(consortium, consortium.tier1)
    with pytest.raises(UnauthenticatedError):
        GatewayClient(gateway.url, "not the secret at all").prove_pin(serial=serial, pin=PIN)
    for body in (b"not json", b'{"serial": "x"}', b"[]"):
        request = urllib.request.Request(
            gateway.url + "/v1/pin",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        refused.value.close()
        assert refused.value.code == 400
    refusals = [entry for entry in _audited(consortium) if entry.get("path") == "/v1/pin"]
    assert [entry["code"] for entry in refusals] == ["unauthenticated", *["invalid_input"] * 3]
