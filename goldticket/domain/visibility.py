"""Need to know: which pieces of one ticket tree a member may see (DOMAIN.md, "Who holds what").

A member sees its own pieces (those it holds or held), the path from the root to them, and the
pieces its own transfers and financings made (their first holders are its own counterparties);
a piece it is asked about (an open transfer offer to it, a financing application to it) while
it is asked. The issuer of the tree sees every piece: it pays each one at maturity. Siblings'
holders and their financing stay private. The chaincode's queries and the portal's reads both
decide with this one rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def visible_pieces(
    member_id: str, docs: Mapping[str, Mapping[str, Any]], asked: Iterable[str] = ()
) -> set[str]:
    """The ids in ``docs`` (every piece of one tree: id -> ``parent_id``, ``holder_org_id``,
    ``issuer_org_id``) that ``member_id`` may see; ``asked``: pieces it is asked about."""
    if any(doc["issuer_org_id"] == member_id for doc in docs.values()):
        return set(docs)
    own = {ticket_id for ticket_id, doc in docs.items() if doc["holder_org_id"] == member_id}
    own.update(ticket_id for ticket_id in asked if ticket_id in docs)
    seen = set(own)
    for ticket_id in own:  # the path from the root
        parent = docs[ticket_id].get("parent_id")
        while parent is not None and parent in docs and parent not in seen:
            seen.add(parent)
            parent = docs[parent].get("parent_id")
    for ticket_id, doc in docs.items():  # what its own transfers and financings made
        parent = doc.get("parent_id")
        if parent in own and docs[parent]["holder_org_id"] == member_id:
            seen.add(ticket_id)
    return seen
