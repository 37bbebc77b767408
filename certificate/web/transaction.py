"""One transaction per request: the view runs, then the session commits once or rolls back.

Every view that writes is wrapped; no view calls ``commit`` or ``rollback``
itself (a test keeps it so). As Indico's request handlers do, a view states
which domain exceptions become which HTTP answers, instead of catching them
and rolling back by hand::

    @bp.post("/queries/<check_id>/answer")
    @transactional({ConflictingAnswer: lambda exc: Conflict("This query is already final.")})
    def answer(check_id: str) -> ResponseReturnValue:
        changed = service.answer_query(db.session, ...)
        if changed:
            after_commit(lambda: runtime().jobs.submit_issuance(application_id))
        return redirect(...)

* the view returns: the session commits, then the :func:`after_commit`
  callbacks run (work handed to other processes must see committed rows);
* the view raises: the session rolls back (or commits, with
  ``commit_on_error=True``, for what must be kept even when the request is
  refused: a spent assertion, a counted failure), and an exception listed in
  ``errors`` is replaced by the answer its function builds: an exception to
  raise (an HTTPException or an ApiError) or a response to return (a page
  with its status); any other exception propagates;
* the view calls :func:`discard` with a response (a form shown again with
  the service's objection, the same answer for a taken address as for a new
  one): the session rolls back and that response is the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import Flask, g, request

from certificate.db import begin_writing, db, end_reads_only, reads_only

F = TypeVar("F", bound=Callable[..., Any])
DomainErrors = Mapping[type[Exception], Callable[[Any], Any]]
_AFTER_COMMIT = "ipc_after_commit"


class _Discarded(Exception):
    """Raised by :func:`discard`: roll back, then answer with ``response``."""

    def __init__(self, response: Any) -> None:
        super().__init__("the view's changes are discarded")
        self.response = response


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once the current view's transaction has committed (not on rollback)."""
    g.setdefault(_AFTER_COMMIT, []).append(callback)


def discard(*response: Any) -> NoReturn:
    """Roll back everything the current view did and answer with ``response``.

    ``response`` is what a view returns (a body, or a body and a status). Only
    a :func:`transactional` view may call it.
    """
    raise _Discarded(response[0] if len(response) == 1 else response)


#: Requests that only read, unless their view is :func:`transactional` (``HEAD`` and
#: ``OPTIONS`` as ``GET``).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_ONLY_TOKEN = "ipc_reads_only"


def reads_without_the_write_lock(app: Flask) -> None:
    """Let every ``GET`` begin its transactions as reads (:func:`certificate.db.reads_only`).

    Registered before every other hook, so that no transaction of the request
    begins before it; a :func:`transactional` view (or a hook that writes)
    switches to writing when it starts.
    """

    @app.before_request
    def _reads_only() -> None:
        if request.method in SAFE_METHODS:
            g.setdefault(_READS_ONLY_TOKEN, reads_only())

    @app.teardown_request
    def _done(_exc: BaseException | None) -> None:
        token = g.pop(_READS_ONLY_TOKEN, None)
        if token is not None:
            end_reads_only(token)


def transactional(
    errors: DomainErrors | None = None, *, commit_on_error: bool = False
) -> Callable[[F], F]:
    """Wrap a view in one transaction; map the domain exceptions in ``errors`` to answers."""
    mapping = dict(errors or {})

    def decorate(view: F) -> F:
        @wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            begin_writing(db.session)  # a page read (GET) that writes takes the write lock first
            g.pop(_AFTER_COMMIT, None)
            try:
                result = view(*args, **kwargs)
            except _Discarded as discarded:
                db.session.rollback()
                g.pop(_AFTER_COMMIT, None)
                return discarded.response
            except Exception as exc:
                if commit_on_error:
                    db.session.commit()
                else:
                    db.session.rollback()
                g.pop(_AFTER_COMMIT, None)
                for kind, build in mapping.items():
                    if isinstance(exc, kind):
                        answer = build(exc)
                        if isinstance(answer, BaseException):
                            raise answer from exc
                        return answer
                raise
            db.session.commit()
            for callback in g.pop(_AFTER_COMMIT, []):
                callback()
            return result

        return run  # type: ignore[return-value]

    return decorate
