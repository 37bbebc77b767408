"""Ed25519 checks by libsodium, holding the interpreter lock (certificate.signing.ed25519)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificate.signing import ed25519

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes_raw()
MESSAGE = b"eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJBQjg4In0"
SIGNATURE = KEY.sign(MESSAGE)


def test_a_signature_by_the_key_verifies() -> None:
    assert ed25519.verify(SIGNATURE, MESSAGE, PUBLIC)
    assert ed25519.verify(KEY.sign(b""), b"", PUBLIC)


def test_any_change_fails() -> None:
    flipped = bytes([SIGNATURE[0] ^ 1]) + SIGNATURE[1:]
    assert not ed25519.verify(flipped, MESSAGE, PUBLIC)
    assert not ed25519.verify(SIGNATURE, MESSAGE + b".", PUBLIC)
    assert not ed25519.verify(SIGNATURE, MESSAGE[:-1], PUBLIC)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert not ed25519.verify(SIGNATURE, MESSAGE, other)


@pytest.mark.parametrize(
    ("signature", "public_key"),
    [(SIGNATURE[:-1], PUBLIC), (SIGNATURE + b"\0", PUBLIC), (SIGNATURE, PUBLIC[:-1]), (b"", b"")],
)
def test_wrong_lengths_fail_without_reading_past_them(signature: bytes, public_key: bytes) -> None:
    assert not ed25519.verify(signature, MESSAGE, public_key)


@pytest.fixture
def long_switch_interval() -> Iterator[None]:
    """Threads swap the lock only when its holder blocks (or after 0.2 s)."""
    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.2)
    yield
    sys.setswitchinterval(saved)


@pytest.mark.usefixtures("long_switch_interval")
def test_the_check_keeps_the_interpreter_lock() -> None:
    # A thread that only computes runs only when this one lets go of the lock. Released
    # around each check (as PyNaCl's and cryptography's bindings do), it runs on the first
    # one and keeps the lock for a whole switch interval, 0.2 s. Kept, it never runs
    # during the checks.
    stop = threading.Event()
    spins = [0]

    def spin() -> None:
        while not stop.is_set():
            spins[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        while not spins[0]:  # the spinner has run: it now waits for the lock
            time.sleep(0.001)
        before = spins[0]
        started = time.perf_counter()
        for _ in range(10):
            assert ed25519.verify(SIGNATURE, MESSAGE, PUBLIC)
        elapsed = time.perf_counter() - started
        during = spins[0] - before
    finally:
        stop.set()
        spinner.join()
    assert during == 0, f"another thread ran {during} steps during the checks ({elapsed:.3f} s)"
