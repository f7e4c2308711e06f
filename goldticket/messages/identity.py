"""Fabric identities: an MSP ID and a PEM certificate, serialized as SerializedIdentity."""

from __future__ import annotations

import dataclasses

from fabric_protos.msp import identities_pb2

from .errors import MessageError


@dataclasses.dataclass(frozen=True)
class Identity:
    msp_id: str
    certificate_pem: bytes

    def serialize(self) -> bytes:
        return identities_pb2.SerializedIdentity(
            mspid=self.msp_id, id_bytes=self.certificate_pem
        ).SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> Identity:
        try:
            identity = identities_pb2.SerializedIdentity.FromString(data)
        except Exception as error:  # protobuf raises DecodeError, a bare Exception subclass
            raise MessageError("creator is not a serialized identity") from error
        if not identity.mspid or not identity.id_bytes:
            raise MessageError("creator has no MSP ID or certificate")
        return cls(identity.mspid, bytes(identity.id_bytes))
