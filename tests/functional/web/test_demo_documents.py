"""#21 done when `make run`'s demo shows every document in the portal: the demo's life cycle
(goldticket demo's services) leaves the issuer's payment commitment, each transfer's assignment
agreement and notice to the debtor and the financing's assignment to the factor, each listed on
the ticket pages of the members in its path (downloadable, verifiable as valid), and refused to
the bank outside the path."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from support import OPERATOR_PASSWORD, OPERATOR_PIN
from test_portal_pages import csrf, portal_login

from goldticket.services import accounts, setup
from goldticket.services.demo import run_demo
from goldticket.settings import Settings
from web import create_app

pytestmark = pytest.mark.functional
DOCUMENT = re.compile(r"/(commitment|agreement|notice|assignment)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("demo") / "data",
        env="test",
        card_kdf_n=2**14,
        signer_rate=1000.0,
        operator_password=OPERATOR_PASSWORD,
        operator_pin=OPERATOR_PIN,
        password_memory_kib=8192,
    )
    portal = setup.init_portal(settings)
    try:
        statement = run_demo(portal.platform, lambda text: None, portal)
        accounts.ensure_demo_accounts(portal)
        portal.follower.catch_up()
        app = create_app({"TESTING": True, "GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0})
        yield app, statement
    finally:
        portal.close()


def _documents(browser: Any, ticket_id: str) -> dict[str, list[str]]:
    """The downloads listed in the ticket page's documents section, by kind."""
    page = browser.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    section = re.search(r'<section[^>]*id="documents".*?</section>', page.get_data(as_text=True), re.S)
    assert section
    found: dict[str, list[str]] = {}
    for row in re.findall(r'<tr data-document="([a-z_]+)">(.*?)</tr>', section.group(0), re.S):
        found.setdefault(row[0], []).extend(
            link for link in re.findall(r'href="([^"]+)"', row[1]) if DOCUMENT.search(link)
        )
    return found


def _valid(browser: Any, link: str) -> None:
    data = browser.get(link)
    assert data.status_code == 200 and data.mimetype == "application/pdf", link
    form = browser.get(f"{link}/verify").get_data(as_text=True)
    answer = browser.post(
        f"{link}/verify",
        data={"csrf_token": csrf(form), "file": (io.BytesIO(data.data), "d.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'data-verdict="valid"' in answer, (link, answer[-800:])


def test_the_demo_shows_every_document_to_the_right_members(demo: tuple[Any, dict[str, Any]]) -> None:
    app, statement = demo
    root = statement["root_id"]
    issuer = portal_login(app, "hdzg.clerk", accounts.DEMO_PASSWORD)
    every = _documents(issuer, root)
    # one commitment, two transfers (agreement and notice each), one financing
    assert {kind: len(links) for kind, links in every.items()} == {
        "payment_commitment": 1,
        "assignment_agreement": 2,
        "assignment_notice": 2,
        "financing_assignment": 1,
    }, every
    for links in every.values():
        for link in links:
            _valid(issuer, link)
    # the factor's financed piece: the holder's assignment and the chain of title above it
    factor = portal_login(app, "hhbl.credit", accounts.DEMO_PASSWORD)
    financed = re.search(r"/applications/([^/]+)/assignment", every["financing_assignment"][0])
    assert financed
    application = factor.get(f"/applications/{financed.group(1)}").get_data(as_text=True)
    assert every["financing_assignment"][0] in application
    _valid(factor, every["financing_assignment"][0])
    # the last transferee sees the commitment and its own transfer's agreement and notice
    tier2 = portal_login(app, "czzg.clerk", accounts.DEMO_PASSWORD)
    shown = _documents(tier2, root)
    assert shown["payment_commitment"] == every["payment_commitment"]
    assert shown["assignment_agreement"] and shown["assignment_notice"]
    for links in shown.values():
        for link in links:
            assert tier2.get(link).status_code == 200, link
    # the bank that only granted the credit line is outside the path: nothing listed, all refused
    outsider = portal_login(app, "jnyh.credit", accounts.DEMO_PASSWORD)
    assert outsider.get(f"/tickets/{root}").status_code == 404
    for links in every.values():
        for link in links:
            assert outsider.get(link).status_code == 403, link
            assert outsider.get(f"{link}/verify").status_code == 403, link
