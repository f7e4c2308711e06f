"""#20 Help: the glossary of states and terms in both languages, open before a login, and the
tour of each role's day on the work page after the first login, closed and shown again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from apiclient import MEMBERS, Members
from support import OPERATOR_PASSWORD, OPERATOR_PIN
from test_portal_pages import csrf, portal_login

from goldticket.domain.status import OVERDUE, TicketStatus
from web.portal.formatting import STATUS_TEXT
from web.portal.help_views import STATE_MEANING, TERMS, TOURS

pytestmark = pytest.mark.functional


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_glossary_names_every_state_and_term_in_the_pages_language(app: Any, lang: str) -> None:
    reader = app.test_client()  # no login: a supplier reads it before its first
    reader.get(f"/lang/{lang}")
    answer = reader.get("/help")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    codes = [*TicketStatus, OVERDUE]
    assert set(STATE_MEANING) == set(codes)  # a state added to the domain needs its meaning here
    for code in codes:
        assert f'id="state-{str(code).lower()}"' in html, code
    text = _text(html)
    english = [str(meaning._args[0]) for meaning in STATE_MEANING.values()]  # the msgids
    english += [str(part._args[0]) for pair in TERMS for part in pair]
    english += [str(STATUS_TEXT[str(code)]._args[0]) for code in codes]
    shown = [sentence for sentence in english if sentence in text]
    if lang == "en":
        assert shown == english  # every state and term, in English
    else:
        assert shown == [], shown  # none left untranslated on the Chinese page
        assert "术语" in text and "金票" in text


def test_the_tour_opens_after_the_first_login_closes_and_comes_back(app: Any, members: Members) -> None:
    operator = members.operator
    created = operator.post(
        "/users",
        {"org_id": "tier1", "username": "tier1.tour", "role": "clerk", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    user = app.test_client()
    user.get("/lang/en")
    form = csrf(user.get("/activate").get_data(as_text=True))
    answer = user.post(
        "/activate",
        data={
            "csrf_token": form,
            "username": "tier1.tour",
            "activation_code": created["activation_code"],
            "password": "a supplier's new password",
            "password_again": "a supplier's new password",
        },
    )
    assert answer.status_code == 302
    home = user.get("/").get_data(as_text=True)
    assert 'id="tour"' in home
    assert str(TOURS["supplier"][0][1]._args[0]) in _text(home)  # the supplier's steps
    links = re.findall(r'<section class="card tour".*?</section>', home, flags=re.S)[0]
    for href in re.findall(r'<li><a href="([^"]+)"', links):
        assert user.get(href).status_code == 200, href  # every step is a page this role may open
    user.post("/help/tour", data={"csrf_token": csrf(home)})
    assert 'id="tour"' not in user.get("/").get_data(as_text=True)
    # a later login does not open it again; the help page does
    again = portal_login(app, "tier1.clerk")
    assert 'id="tour"' not in again.get("/").get_data(as_text=True)
    page = again.get("/help").get_data(as_text=True)
    again.post("/help/tour", data={"csrf_token": csrf(page), "show": "1"})
    assert 'id="tour"' in again.get("/").get_data(as_text=True)


@pytest.mark.parametrize("username", ["operator", *(m[2] for m in MEMBERS)])
def test_every_roles_tour_leads_to_pages_it_may_open(app: Any, members: Members, username: str) -> None:
    password = OPERATOR_PASSWORD if username == "operator" else None
    user = portal_login(app, username, password) if password else portal_login(app, username)
    page = user.get("/help").get_data(as_text=True)
    user.post("/help/tour", data={"csrf_token": csrf(page), "show": "1"})
    home = user.get("/").get_data(as_text=True)
    tour = re.findall(r'<section class="card tour".*?</section>', home, flags=re.S)
    assert tour, home[:800]
    hrefs = re.findall(r'<li><a href="([^"]+)"', tour[0])
    assert len(hrefs) >= 4
    for href in hrefs:
        assert user.get(href).status_code == 200, (username, href)


def test_the_tour_cannot_be_opened_without_a_login(app: Any) -> None:
    stranger = app.test_client()
    page = stranger.get("/help").get_data(as_text=True)
    form = csrf(stranger.get("/login").get_data(as_text=True))
    answer = stranger.post("/help/tour", data={"csrf_token": form, "show": "1"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert "Show the tour" not in page
