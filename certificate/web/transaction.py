"""One transaction per request: the view runs, then the session commits once or rolls back.

As Indico's request handlers do, a view states which domain exceptions become
which HTTP answers, instead of catching them and calling ``rollback`` by hand::

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
  ``errors`` is replaced by the answer its function builds (an HTTPException
  or an ApiError); any other exception propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import g

from certificate.db import db

F = TypeVar("F", bound=Callable[..., Any])
DomainErrors = Mapping[type[Exception], Callable[[Any], Exception]]
_AFTER_COMMIT = "ipc_after_commit"


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once the current view's transaction has committed (not on rollback)."""
    g.setdefault(_AFTER_COMMIT, []).append(callback)


def transactional(
    errors: DomainErrors | None = None, *, commit_on_error: bool = False
) -> Callable[[F], F]:
    """Wrap a view in one transaction; map the domain exceptions in ``errors`` to answers."""
    mapping = dict(errors or {})

    def decorate(view: F) -> F:
        @wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            g.pop(_AFTER_COMMIT, None)
            try:
                result = view(*args, **kwargs)
            except Exception as exc:
                if commit_on_error:
                    db.session.commit()
                else:
                    db.session.rollback()
                g.pop(_AFTER_COMMIT, None)
                for kind, answer in mapping.items():
                    if isinstance(exc, kind):
                        raise answer(exc) from exc
                raise
            db.session.commit()
            for callback in g.pop(_AFTER_COMMIT, []):
                callback()
            return result

        return run  # type: ignore[return-value]

    return decorate
