"""Signed checkpoints of the audit chain head, kept outside the database.

An attacker with write access to the database can truncate the chain or
recompute every hash; neither survives comparison with a checkpoint signed
with a key the database does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from steward.core.domain.audit import format_timestamp

FORMAT = "steward-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    created_at: datetime
    signature: str = ""

    def message(self) -> bytes:
        return f"{FORMAT}|{self.seq}|{self.hash}|{format_timestamp(self.created_at)}".encode()

    def signed(self, key: bytes) -> Checkpoint:
        signature = hmac.new(key, self.message(), hashlib.sha256).hexdigest()
        return Checkpoint(self.seq, self.hash, self.created_at, signature)

    def signature_valid(self, key: bytes) -> bool:
        expected = hmac.new(key, self.message(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "seq": self.seq,
                "hash": self.hash,
                "created_at": format_timestamp(self.created_at),
                "signature": self.signature,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError("not a Steward audit checkpoint")
        created = datetime.strptime(data["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return cls(int(data["seq"]), str(data["hash"]), created, str(data["signature"]))
