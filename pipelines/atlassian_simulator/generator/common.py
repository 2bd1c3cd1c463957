"""Deterministic randomness and naming shared by the generator modules."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta

FIRST_NAMES = (
    "Ava Ben Chloe Dev Elena Farid Grace Hiro Ines Jonas Kemi Liam Maya Noah Olga Priya Quinn Rosa Sami Tara "
    "Umar Vera Wen Xavier Yara Zane Aiko Bruno Carla Dmitri Esme Felix Gita Hugo Ivy Jun Kai Lena Milo Nadia"
).split()
LAST_NAMES = (
    "Lopez Smith Chen Okafor Muller Rossi Tanaka Novak Silva Dubois Kowalski Haddad Nguyen Jensen Patel Garcia "
    "Ivanova Costa Berg Ali Moreau Schmidt Kim Osei Fischer Romano Sato Lind Horvat Mendes"
).split()
WORDS = (
    "apollo atlas beacon cobalt delta ember falcon granite harbor iris juniper kestrel lumen meridian nova "
    "orbit pioneer quartz raven summit tundra umbra vector willow xenon yonder zephyr aurora basalt cedar"
).split()
COMPANIES = ("acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne", "tyrell", "cyberdyne")


class Rng(random.Random):
    """`random.Random` seeded from a string, with helpers for Atlassian-looking ids.

    String seeds are hashed with SHA-512 by `random.seed` (version 2), so the stream does not
    depend on PYTHONHASHSEED or the platform: the same seed gives the same organization.
    """

    def __init__(self, *parts: object):
        super().__init__(":".join(str(p) for p in parts))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.getrandbits(128), version=4))

    def account_id(self) -> str:
        return f"712020:{self.uuid()}"

    def hex24(self) -> str:
        return f"{self.getrandbits(96):024x}"

    def chance(self, p: float) -> bool:
        return self.random() < p

    def moment(self, start: datetime, end: datetime) -> datetime:
        span = int((end - start).total_seconds())
        return (start + timedelta(seconds=self.randrange(max(span, 1)))).replace(microsecond=0)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of `parts`, stable across processes (for per-index lazy generation)."""
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def days(n: float) -> timedelta:
    return timedelta(days=n)
