"""The MAC that vouches for a stored certificate token (certificate.signing.token_macs)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificate.signing.keys import FileKeyStore
from certificate.signing.token_macs import TokenMacKeys, derive_key, token_mac, vouches

SIGNING = Ed25519PrivateKey.generate()
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJBQjg4In0.c2ln"
NUMBER = "AB88-CENR-Z4P2-N1BD-N4Z8-AVN1-0X6H"


def test_the_key_follows_the_signing_key_and_nothing_else() -> None:
    assert derive_key(SIGNING) == derive_key(SIGNING)
    assert len(derive_key(SIGNING)) == 32
    assert derive_key(Ed25519PrivateKey.generate()) != derive_key(SIGNING)
    assert derive_key(SIGNING) != SIGNING.private_bytes_raw()  # derived, not the key itself


def test_the_mac_ties_the_token_to_its_number() -> None:
    key = derive_key(SIGNING)
    mac = token_mac(key, NUMBER, TOKEN)
    assert len(mac) == 64
    assert vouches(key, NUMBER, TOKEN, mac)
    assert not vouches(key, NUMBER, TOKEN + "x", mac)
    assert not vouches(key, NUMBER.replace("AB88", "AB89"), TOKEN, mac)  # moved to another row
    assert not vouches(derive_key(Ed25519PrivateKey.generate()), NUMBER, TOKEN, mac)
    assert not vouches(key, NUMBER, TOKEN, "0" * 64)


def test_keys_come_from_the_key_store_and_only_for_keys_it_holds(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    kid, _ = store.generate()
    keys = TokenMacKeys(store)
    assert keys.get(kid) == derive_key(store.private_key(kid))
    assert keys.get("unknown") is None  # a verifier without the key: signatures instead


def test_the_store_is_asked_once_a_key_found_or_not(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    kid, _ = store.generate()
    asked: list[str] = []

    class Counting:
        def generate(self) -> tuple[str, dict[str, str]]:
            raise AssertionError("not used")

        def private_key(self, wanted: str) -> Ed25519PrivateKey:
            asked.append(wanted)
            return store.private_key(wanted)

    keys = TokenMacKeys(Counting())
    for _ in range(3):
        assert keys.get(kid) is not None
        assert keys.get("unknown") is None
    assert asked == [kid, "unknown"]
