"""The data keyring: values sealed for a column open for that column only, and a damaged
value is refused as undecryptable, whichever part of it is damaged."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from certificate.encryption import DataKeyring, DecryptionError


def _ring(**keys: bytes) -> DataKeyring:
    return DataKeyring(keys=dict(keys), current=next(iter(keys)))


def test_a_value_opens_for_its_column_under_any_key_the_ring_holds() -> None:
    first, second = os.urandom(32), os.urandom(32)
    ring = _ring(k1=first)
    old = ring.seal(b"no record", "checks.outcome")
    ring.keys["k2"], ring.current = second, "k2"
    new = ring.seal(b"no record", "checks.outcome")
    assert ring.key_id(old) == "k1"
    assert ring.key_id(new) == "k2"
    assert ring.open(old, "checks.outcome") == ring.open(new, "checks.outcome") == b"no record"
    with pytest.raises(DecryptionError):
        ring.open(new, "certificates.token")


def test_a_key_replaced_under_the_same_id_is_the_one_used() -> None:
    ring = _ring(k1=os.urandom(32))
    before = ring.seal(b"x", "p")
    assert ring.open(before, "p") == b"x"  # the first key's cipher is made and kept
    ring.keys["k1"] = os.urandom(32)
    assert ring.open(ring.seal(b"y", "p"), "p") == b"y"
    with pytest.raises(DecryptionError):
        ring.open(before, "p")  # sealed under the key that is gone


@pytest.mark.parametrize(
    "damage",
    [
        lambda v: v[:-4] + ("A" if v[-4] != "A" else "B") + v[-3:],  # the ciphertext
        lambda v: v[:-2] + "!!",  # not base64
        lambda v: v[:-2] + "é=",  # not even ASCII
        lambda v: v.replace("enc:v2:k1:", "enc:v2:k9:"),  # a key the ring does not hold
        lambda v: v.replace("enc:v2:", "plain:"),  # not sealed at all
    ],
)
def test_a_damaged_value_is_refused(damage: Callable[[str], str]) -> None:
    ring = _ring(k1=os.urandom(32))
    sealed = ring.seal(b"IPC-2026-0001", "certificates.token")
    with pytest.raises(DecryptionError):
        ring.open(damage(sealed), "certificates.token")
