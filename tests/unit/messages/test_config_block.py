"""The channel's organisations read from its config block (#19): the newest block names the
config block (OrdererBlockMetadata.last_config in its signatures metadata), whose Application
group lists the member organisations a MAJORITY endorsement counts. Blocks as an orderer writes
them; real blocks from a network are read in tests/integration/test_private_terms_peers.py."""

from __future__ import annotations

import pytest
from fabric_protos.common import common_pb2, configtx_pb2

from goldticket import messages as m


def _metadata(last_config: int) -> list[bytes]:
    orderer = common_pb2.OrdererBlockMetadata(last_config=common_pb2.LastConfig(index=last_config))
    signatures = common_pb2.Metadata(value=orderer.SerializeToString()).SerializeToString()
    return [signatures, b"", b"", b""]


def _block(number: int, kind: int, data: bytes, last_config: int) -> bytes:
    header = common_pb2.ChannelHeader(type=kind, channel_id="goldticket").SerializeToString()
    payload = common_pb2.Payload(header=common_pb2.Header(channel_header=header), data=data)
    envelope = common_pb2.Envelope(payload=payload.SerializeToString()).SerializeToString()
    return common_pb2.Block(
        header=common_pb2.BlockHeader(number=number),
        data=common_pb2.BlockData(data=[envelope]),
        metadata=common_pb2.BlockMetadata(metadata=_metadata(last_config)),
    ).SerializeToString()


def _config(*msp_ids: str) -> bytes:
    config = configtx_pb2.Config()
    application = config.channel_group.groups["Application"]
    for msp_id in msp_ids:
        application.groups[msp_id].CopyFrom(configtx_pb2.ConfigGroup())
    config.channel_group.groups["Orderer"].groups["OrdererMSP"].CopyFrom(configtx_pb2.ConfigGroup())
    return configtx_pb2.ConfigEnvelope(config=config).SerializeToString()


def test_the_newest_block_names_the_config_block_that_lists_the_members() -> None:
    newest = _block(41, common_pb2.ENDORSER_TRANSACTION, b"a transaction", last_config=7)
    assert m.last_config_index(newest) == 7
    config = _block(7, common_pb2.CONFIG, _config("OperatorMSP", "CoreMSP", "BankMSP", "BankTwoMSP"), 7)
    # the orderer organisations are not endorsers: only the Application group counts
    assert m.config_organisations(config) == ("BankMSP", "BankTwoMSP", "CoreMSP", "OperatorMSP")


def test_a_block_that_is_not_a_config_block_is_refused() -> None:
    with pytest.raises(m.MessageError, match="not a config block"):
        m.config_organisations(_block(41, common_pb2.ENDORSER_TRANSACTION, b"x", 7))
    with pytest.raises(m.MessageError, match="does not decode"):
        m.config_organisations(b"\xff\xff not a block")
    with pytest.raises(m.MessageError, match="a later one"):
        m.last_config_index(_block(3, common_pb2.ENDORSER_TRANSACTION, b"x", last_config=9))
    with pytest.raises(m.MessageError, match="names no last config"):
        m.last_config_index(common_pb2.Block(header=common_pb2.BlockHeader(number=1)).SerializeToString())
