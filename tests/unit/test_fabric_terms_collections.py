"""#19: the collections config a newcomer's admission extends (fabnet/lifecycle.py), without a
network: the first file has one ``terms-<MSP>`` per peer organisation of the layout; adding a
bank that joined later adds its collection (members: the operator's organisation and it) and
keeps the others as they were, and adding it again changes nothing; the collection names are
found in a committed definition whichever JSON shape the peer CLI gives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fabric-network"))

from fabnet import lifecycle  # noqa: E402
from fabnet.layout import Layout  # noqa: E402


def test_a_later_bank_gets_its_collection_and_the_others_stay(tmp_path: Path) -> None:
    layout = Layout.from_env(
        {"GOLDTICKET_DATA_DIR": str(tmp_path / "data"), "GOLDTICKET_FABRIC_PORT_BASE": "24050"}
    )
    path = lifecycle.collections_file(layout)
    before = json.loads(path.read_text())
    assert {item["name"] for item in before} == {f"terms-{peer.msp_id}" for peer in layout.peers}
    assert lifecycle.add_collection(layout, "BankTwoMSP") is True
    after = {item["name"]: item for item in json.loads(path.read_text())}
    assert [item for item in before if after[item["name"]] != item] == []
    added = after["terms-BankTwoMSP"]
    assert added["policy"] == "OR('BankTwoMSP.member', 'OperatorMSP.member')"
    assert (added["memberOnlyRead"], added["memberOnlyWrite"], added["blockToLive"]) == (True, True, 0)
    assert lifecycle.add_collection(layout, "BankTwoMSP") is False
    assert len(json.loads(path.read_text())) == len(before) + 1


def test_collection_names_in_either_shape() -> None:
    go_shape = {"Payload": {"StaticCollectionConfig": {"name": "terms-A", "member_orgs_policy": {}}}}
    proto_shape = {"static_collection_config": {"name": "terms-B"}}
    committed = {"sequence": 2, "collections": {"config": [go_shape, proto_shape]}}
    assert lifecycle.collection_names(committed) == {"terms-A", "terms-B"}
    assert lifecycle.collection_names({"sequence": 1}) == set()
