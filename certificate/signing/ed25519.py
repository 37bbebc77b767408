"""Ed25519 signature checks by libsodium, without letting go of the interpreter lock.

PyNaCl's bindings (cffi) release the interpreter lock around every libsodium
call, and so does cryptography. For a check of some 50 µs that is a cost in a
web worker: its other threads take the lock meanwhile, and the checking
thread, its answer ready, waits to get it back until the holder blocks or the
switch interval (5 ms) runs out. On this service's busiest path every answer
paid that hand-over twice. Measured on the verify benchmark (PostgreSQL,
typed numbers, five paired rounds): a worker's CPU fell from 758-811 to
740-768 µs a request and the throughput rose in four rounds of five.

:func:`verify` calls the same libsodium function PyNaCl would,
``crypto_sign_verify_detached``, in the library PyNaCl ships, through
:class:`ctypes.PyDLL`, which keeps the lock for the call. Should that library
not export it, the check goes through PyNaCl's own binding.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from nacl import _sodium  # libsodium, as PyNaCl loads it
from nacl.bindings import crypto_sign_BYTES, crypto_sign_open, crypto_sign_PUBLICKEYBYTES
from nacl.exceptions import BadSignatureError

_Verify = Callable[[bytes, bytes, int, bytes], int]


def _bind() -> _Verify | None:
    """libsodium's ``crypto_sign_verify_detached(sig, m, mlen, pk)``, called holding the
    interpreter lock; None when the library PyNaCl loaded does not export it."""
    try:
        function = ctypes.PyDLL(_sodium.__file__).crypto_sign_verify_detached
    except (OSError, AttributeError):  # pragma: no cover - PyNaCl's wheels export it
        return None
    function.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p)
    function.restype = ctypes.c_int
    return function


_VERIFY = _bind()


def verify(signature: bytes, message: bytes, public_key: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``message`` by ``public_key`` (raw)."""
    if len(signature) != crypto_sign_BYTES or len(public_key) != crypto_sign_PUBLICKEYBYTES:
        return False  # libsodium reads exactly these many bytes of each
    if _VERIFY is None:  # pragma: no cover - see _bind
        try:
            crypto_sign_open(signature + message, public_key)
        except BadSignatureError:
            return False
        return True
    return _VERIFY(signature, message, len(message), public_key) == 0
