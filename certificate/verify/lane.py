"""``POST /api/v1/verify`` with a JSON body, answered in a lane of its own.

Verification is the service's busiest path (every QR scan, every typed
number, every employer's batch), and its own work is small: one indexed
read, one signature check, a row queued for the holder's history. Flask's
per-request machinery around it (request and app contexts, the session and
its cookie, the log-in manager, CSRF, the language and caching hooks, the
response object) cost more than all of that together. The lane is WSGI
middleware in front of the app that answers exactly this request itself:

* with the view's own code: :func:`~certificate.verify.api.read_verification`,
  :func:`~certificate.verify.api.verify_asked` and
  :func:`~certificate.verify.api.answer_body`, the same budget
  (:func:`certificate.rate_limits.count_once`, scope ``verification``), the same
  headers (:func:`certificate.web.security_headers`, ``no-store``) and the
  same request log line;
* everything else goes on to the app, with the body already read handed
  on: another path or method, a query string, another content type, a body
  without a length or longer than the app accepts, a body the view refuses
  (so each 4xx is built in one place, the view's), a client over its budget
  (the view answers 429 with ``Retry-After``), and any unexpected failure
  (the app's error handling answers it).

``tests/integration/verify/test_verification_lane.py`` holds the lane's
answers to the view's, header for header.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

from certificate.api_common import json_from_bytes
from certificate.db import utcnow
from certificate.errors import ApiError
from certificate.i18n.selection import from_accept_language_header
from certificate.observability import log_request
from certificate.rate_limits import count_once
from certificate.runtime import EXTENSION_KEY, start_jobs_once
from certificate.verify.api import answer_body, read_verification, verify_asked
from certificate.web import security_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/api/v1/verify"
#: The view's budget (``verification_limit`` in :mod:`certificate.verify.api`).
LIMIT_SETTING, LIMIT_SCOPE = "VERIFY_RATE_LIMIT", "verification"

log = logging.getLogger(__name__)


class VerificationLane:
    """WSGI middleware: answers ``POST /api/v1/verify`` with a JSON body, hands on the rest."""

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer the request, or let the app answer it."""
        if not _takes(environ):
            return self.inner(environ, start_response)
        length = _length(environ, self.app.config.get("MAX_CONTENT_LENGTH"))
        if length is None:
            return self.inner(environ, start_response)
        started = time.perf_counter()
        raw = environ["wsgi.input"].read(length)
        try:
            payload = self._answer(environ, raw)
        except ApiError:
            payload = None  # the view refuses it the same way, in the app's own shape
        except Exception:  # the app answers it, with its own error handling and log
            log.warning("verification lane: handed to the app after a failure", exc_info=True)
            payload = None
        if payload is None:
            environ["wsgi.input"] = io.BytesIO(raw)
            return self.inner(environ, start_response)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            *security_headers(self.app),
            ("Vary", "Accept-Language"),
        ]
        start_response("200 OK", headers)
        log_request("POST", PATH, 200, started)
        return [payload]

    def _answer(self, environ: WSGIEnvironment, raw: bytes) -> bytes | None:
        """The answer's body, or None for a client over its budget."""
        app = self.app
        if app.config["JOBS_ENABLED"]:
            start_jobs_once(app)
        asked = read_verification(json_from_bytes(raw))
        if not count_once(app, environ, LIMIT_SETTING, LIMIT_SCOPE):
            return None  # the view answers 429 without counting it again
        result = verify_asked(app.extensions[EXTENSION_KEY].verifier, asked, utcnow())
        language = from_accept_language_header(environ.get("HTTP_ACCEPT_LANGUAGE"))
        body: Any = answer_body(result, language)
        # as jsonify writes it: the app's JSON settings, compact, one trailing newline
        return f"{app.json.dumps(body, separators=(',', ':'))}\n".encode()


def _takes(environ: WSGIEnvironment) -> bool:
    return (
        environ.get("PATH_INFO") == PATH
        and environ.get("REQUEST_METHOD") == "POST"
        and not environ.get("QUERY_STRING")
        and environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() == "application/json"
    )


def _length(environ: WSGIEnvironment, limit: int | None) -> int | None:
    """The body's declared length when the lane may read it all (else None)."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if not declared.isdigit() or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    length = int(declared)
    return None if limit is not None and length > limit else length


def install(app: Flask) -> None:
    """Put the lane in front of the app (inside any proxy handling installed later)."""
    app.wsgi_app = VerificationLane(app, app.wsgi_app)  # type: ignore[method-assign]
