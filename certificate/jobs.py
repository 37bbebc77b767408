"""Running checks and issuance in the background.

The database is the record of work; the engine only supplies workers. The
embedded engine is a thread pool inside the web process plus a sweeper
thread that, every few seconds, re-dispatches due checks, expires overdue
ones and issues any certificate still owed, so a crash or restart loses
nothing. Every step is idempotent. Of an install's processes, the one that
holds the sweeper lease sweeps (certificate/sweeper_lease.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from flask import Flask, current_app
from sqlalchemy import CursorResult, inspect, or_, update
from sqlalchemy.exc import IntegrityError, OperationalError

from certificate.applications.models import Application, ApplicationStatus
from certificate.checks import service as checks
from certificate.checks.models import Check, CheckStatus
from certificate.db import db, utcnow
from certificate.issuance.service import (
    pending_pdf_name,
    prepare_if_ready,
    produce,
    record_issuance,
    settle_document,
)
from certificate.notifications import outbox
from certificate.observability import (
    CERTIFICATES_ISSUED,
    ISSUANCE_FAILURES,
    ISSUANCE_SECONDS,
    timed,
)
from certificate.periodic import run_periodic_tasks
from certificate.runtime import runtime
from certificate.sweeper_lease import SweeperLease
from certificate.warmup import prepare
from country_adapters.base import AdapterError, Answer, CountryAdapter, Pending, Query

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class JobEngine(Protocol):
    """Supplies workers for checks; chosen by configuration."""

    @property
    def running(self) -> bool:
        """True when work submitted now will be run."""
        ...

    def start(self) -> None:
        """Begin background work (idempotent)."""
        ...

    def submit_check(self, check_id: str) -> None:
        """Run one attempt of a check soon."""
        ...

    def submit_issuance(self, application_id: str) -> None:
        """Issue the application's certificate soon, if it is owed."""
        ...

    def stop(self) -> None:
        """Stop taking work and wait for running work to end."""
        ...


def run_check(check_id: str) -> None:
    """One attempt of one check, then issuance if it was the last. Needs an app context.

    The adapter is called outside any transaction: the claim is committed
    first, so a slow agency never holds a database lock.
    """
    claims, results = _group_commits(current_app)
    claimed = claims.run(check_id)  # committed: no transaction of this thread's own from here
    if claimed is None:
        return
    adapter, query = claimed.adapter, claimed.query
    result: Answer | Pending | AdapterError
    if adapter is None or query is None:
        result = AdapterError(f"no adapter serves {claimed.country} any more", retryable=False)
    else:
        try:
            result = adapter.poll(query) if claimed.was_sent else adapter.submit(query)
        except AdapterError as exc:
            result = exc
        except Exception as exc:  # an adapter bug must not kill the worker
            log.exception("adapter for %s raised", claimed.country)
            result = AdapterError(f"adapter error: {type(exc).__name__}", retryable=True)

    if results.run((check_id, result)):
        issue_for(claimed.application_id)


@dataclass(frozen=True)
class ClaimedCheck:
    """A check taken for one attempt, with what its adapter is to be asked."""

    country: str
    application_id: str
    #: Found in the claim's transaction (some sources read the database): None when no
    #: adapter serves the country any more.
    adapter: CountryAdapter | None
    query: Query | None
    was_sent: bool


def _claim_check(check_id: str) -> ClaimedCheck | None:
    """Take one check for an attempt in the session's transaction (None: not due, or held)."""
    settings = current_app.config
    lease = timedelta(seconds=settings["LEASE_SECONDS"])
    check = checks.claim(db.session, check_id, utcnow(), lease)
    if check is None:
        return None
    _keep_for_the_batch(check.application)
    adapter = runtime().registry.get(check.country)
    return ClaimedCheck(
        country=check.country,
        application_id=check.application_id,
        adapter=adapter,
        query=checks.build_query(check) if adapter is not None else None,
        was_sent=check.status == CheckStatus.SENT.value,
    )


def _store_one(item: tuple[str, Answer | Pending | AdapterError]) -> bool:
    return _store_result(*item)


def _group_commits(
    app: Flask,
) -> tuple[
    GroupCommit[str, ClaimedCheck | None],
    GroupCommit[tuple[str, Answer | Pending | AdapterError], bool],
]:
    """The app's group commits of check claims and of adapter results (one of each per app)."""
    found = app.extensions.get(_GROUP_COMMITS)
    if found is None:
        with _GROUP_COMMITS_LOCK:
            batch = db.engine.dialect.name == "sqlite"  # where writers queue for one lock
            found = app.extensions.setdefault(
                _GROUP_COMMITS,
                (GroupCommit(_claim_check, batch=batch), GroupCommit(_store_one, batch=batch)),
            )
    return found


_GROUP_COMMITS = "ipc.group_commits"
_GROUP_COMMITS_LOCK = threading.Lock()


def _store_result(check_id: str, result: Answer | Pending | AdapterError) -> bool:
    """Apply one adapter result in the session's transaction; True when it left no check of
    the application open, so that issuance is due (twenty answers arriving together: the
    last one stored, not every one, goes on to issue)."""
    settings = current_app.config
    # locked: an answer the agency API stored meanwhile must not be overwritten
    check = db.session.get(Check, check_id, populate_existing=True, with_for_update=True)
    if check is None:  # pragma: no cover - checks are never deleted while open
        return False
    _keep_for_the_batch(check.application)
    checks.apply_result(
        db.session,
        check,
        result,
        now=utcnow(),
        retry_base=float(settings["RETRY_BASE_SECONDS"]),
        retry_cap=float(settings["RETRY_MAX_SECONDS"]),
        max_attempts=int(settings["MAX_ATTEMPTS"]),
    )
    return check.is_final and not checks.any_open(db.session, check.application_id)


_KEPT = "ipc.kept_for_the_batch"


def _keep_for_the_batch(*objects: object) -> None:
    """Hold ``objects`` until the session's transaction ends (:class:`GroupCommit`).

    A session holds what it loaded weakly: between two checks of one group
    commit the application they share was collected, and each check loaded it,
    and its residences, again. Held, the checks of one application claimed or
    answered together load it once.
    """
    db.session.info.setdefault(_KEPT, []).extend(objects)


@dataclass
class _Waiting(Generic[T, R]):
    item: T
    done: threading.Event = field(default_factory=threading.Event)
    result: R | None = None
    error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """Work that arrives together shares one transaction (group commit).

    The first thread to arrive leads: it takes every item queued so far, does
    ``work`` for each in its own session and commits once, and repeats while
    more arrived meanwhile; the others wait for their item's commit. Twenty
    checks starting together, or twenty agencies answering at once, therefore
    cost a few transactions (on SQLite, where writers queue for one lock, a
    few waits for it and a few fsyncs), not twenty in a row. If a batch fails,
    its items are done again one transaction each, so one bad item cannot
    hold back the others. Used for claiming checks and for storing adapter
    results (:func:`run_check`).

    With ``batch=False`` (PostgreSQL, whose writers do not queue for one lock)
    each item has a transaction of its own, in the calling thread. A batch
    there would hold one item's row locks and the audit chain's lock while
    taking the next item's: the reverse of the order in which an agency's
    answer takes them, and so a deadlock with it.
    """

    def __init__(self, work: Callable[[T], R], *, batch: bool = True) -> None:
        self._work = work
        self._batch = batch
        self._lock = threading.Lock()
        self._queue: list[_Waiting[T, R]] = []
        self._leading = False

    def run(self, item: T) -> R:
        """Do ``work`` for ``item`` and commit; returns its result once committed.

        The calling thread must hold no transaction: on SQLite a waiting thread's
        open transaction would hold the write lock the leader needs.
        """
        mine: _Waiting[T, R] = _Waiting(item)
        if self._batch:
            with self._lock:
                self._queue.append(mine)
                lead = not self._leading
                self._leading = True
            if lead:
                self._lead()
            mine.done.wait()
        else:
            self._alone(mine)
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._leading = False
                    return
            try:
                for waiting in batch:
                    waiting.result = self._work(waiting.item)
                db.session.commit()
            except Exception:
                db.session.rollback()
                for waiting in batch:
                    self._alone(waiting)
            finally:
                db.session.info.pop(_KEPT, None)
            for waiting in batch:
                waiting.done.set()

    def _alone(self, waiting: _Waiting[T, R]) -> None:
        try:
            waiting.result = self._work(waiting.item)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            waiting.result, waiting.error = None, exc
        finally:
            db.session.info.pop(_KEPT, None)


def issue_for(application_id: str) -> None:
    """Issue the application's certificate if it is owed; safe to call any number of times.

    In three steps (:class:`~certificate.issuance.service.PreparedCertificate`):
    the claims are signed and the document laid out in a short read, the PDF is
    rendered and signed with no transaction open, and the certificate is
    recorded in a short write that first checks it is still owed.
    """
    rt = runtime()
    if not _claim_issuance(application_id, utcnow()):
        db.session.rollback()
        return  # issued, not in progress, failed and waiting for its backoff, or being issued
    application = db.session.get(Application, application_id, populate_existing=True)
    if application is None:  # pragma: no cover - claimed just now
        return
    prepared = None
    try:
        with timed(ISSUANCE_SECONDS):
            prepared = prepare_if_ready(
                db.session, application, keys=rt.keys, settings=rt.issuance, now=utcnow()
            )
            if prepared is None:
                db.session.rollback()  # not owed yet: the claim goes with the transaction
                return
            # ends the transaction (the claim, and a signing key made on first use): the
            # slow part below holds no lock
            db.session.commit()
            pdf = produce(prepared, files=rt.files, settings=rt.issuance)
            application = db.session.get(Application, application_id, populate_existing=True)
            certificate = None
            if application is not None:
                certificate = record_issuance(db.session, application, prepared, pdf)
                application.issuance_retry_at = None  # the claim ends, issued or not
            db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker issued it first; its PDF stays pending
        return
    except Exception as exc:  # isolated: this application waits, every other one goes on
        db.session.rollback()
        _issuance_failed(application_id, exc)
        return
    if certificate is None:  # no longer owed (withdrawn, or issued by another worker)
        rt.files.delete(pending_pdf_name(prepared.certificate_id))
        return
    settle_document(rt.files, certificate.id)
    CERTIFICATES_ISSUED.inc()
    log.info("application %s: certificate %s issued", application_id, certificate.id)


#: How long a worker holds an application's issuance (a render takes about a second): a
#: worker that dies meanwhile leaves it to be issued by another once this has passed.
ISSUANCE_CLAIM = timedelta(minutes=2)


def _claim_issuance(application_id: str, now: datetime) -> bool:
    """Take the application's issuance for this worker until ``now`` + :data:`ISSUANCE_CLAIM`.

    Every process's sweeper and the thread that records the last answer all
    call :func:`issue_for`; without a claim each rendered the same PDF, and four
    renders at once starved the processes' requests for seconds. One atomic
    ``UPDATE`` decides: it succeeds for an application in progress whose retry
    time (the claim, or a failure's backoff) is not in the future. It stays in
    the caller's transaction, so a caller that finds nothing owed rolls it back.
    """
    claimed = db.session.execute(
        update(Application)
        .where(
            Application.id == application_id,
            Application.status == ApplicationStatus.IN_PROGRESS.value,
            or_(Application.issuance_retry_at.is_(None), Application.issuance_retry_at <= now),
        )
        .values(issuance_retry_at=now + ISSUANCE_CLAIM)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], claimed).rowcount) == 1


#: Backoff of a failed issuance: a minute, doubling up to six hours (with jitter).
ISSUANCE_RETRY_BASE_SECONDS = 60.0
ISSUANCE_RETRY_MAX_SECONDS = 6 * 3600.0


def _issuance_failed(application_id: str, exc: Exception) -> None:
    """Log, count and schedule a retry with capped exponential backoff; the operators'
    failed-checks page lists the application with its error."""
    log.exception("issuance for application %s failed; retried with backoff", application_id)
    ISSUANCE_FAILURES.inc()
    application = db.session.get(Application, application_id, populate_existing=True)
    if application is None:  # pragma: no cover - applications are never deleted
        return
    application.issuance_failures += 1
    delay = checks.backoff_delay(
        application.issuance_failures, ISSUANCE_RETRY_BASE_SECONDS, ISSUANCE_RETRY_MAX_SECONDS
    )
    application.issuance_retry_at = utcnow() + timedelta(seconds=delay)
    application.issuance_error = f"{type(exc).__name__}: {exc}"[:500]
    db.session.commit()


def sweep() -> list[str]:
    """Run the features' periodic tasks, expire overdue checks, issue what is owed,
    and return the ids of due checks."""
    run_periodic_tasks()
    now = utcnow()
    touched = checks.expire_overdue(db.session, now)
    db.session.commit()
    owed = checks.applications_awaiting_issuance(db.session, now)
    for application_id in [*sorted(touched - set(owed)), *owed]:
        issue_for(application_id)
    due = checks.due_check_ids(db.session, utcnow())
    db.session.rollback()
    return due


class ThreadJobEngine:
    """Worker threads inside the web process, and a sweeper."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._pool: ThreadPoolExecutor | None = None
        self._sweeper: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._schema_found = False

    @property
    def running(self) -> bool:
        """True once started and not stopped."""
        return self._pool is not None and not self._stopping.is_set()

    def start(self) -> None:
        """Start the pool and the sweeper (once)."""
        with self._lock:
            if self._pool is not None:
                return
            self._pool = ThreadPoolExecutor(
                max_workers=int(self.app.config["JOB_WORKERS"]), thread_name_prefix="ipc-check"
            )
            self._sweeper = threading.Thread(
                target=self._sweep_loop, name="ipc-sweeper", daemon=True
            )
            self._sweeper.start()
            # done already under gunicorn (post_worker_init); under `flask run`, beside the sweeper
            threading.Thread(target=self._prepare, name="ipc-prepare", daemon=True).start()

    def _prepare(self) -> None:
        try:
            prepare(self.app)
        except Exception:
            log.exception("start-up preparation failed; the first certificate will do it")

    def submit_check(self, check_id: str) -> None:
        """Queue an attempt unless one for the same check is already queued here."""
        if self._pool is None:
            return
        with self._lock:
            if check_id in self._in_flight:
                return
            self._in_flight.add(check_id)
        self._pool.submit(self._run, check_id)

    def submit_issuance(self, application_id: str) -> None:
        """Issue in the background; without a running pool the sweeper does it."""
        if self._pool is not None:
            self._pool.submit(self._issue, application_id)

    def _issue(self, application_id: str) -> None:
        try:
            with self.app.app_context():
                issue_for(application_id)
        except Exception:
            log.exception("issuance for %s failed; the sweeper will retry", application_id)

    def _run(self, check_id: str) -> None:
        try:
            with self.app.app_context():
                run_check(check_id)
        except Exception:
            log.exception("check %s: attempt failed; the sweeper will retry", check_id)
        finally:
            with self._lock:
                self._in_flight.discard(check_id)

    def sweep_once(self) -> None:
        """One pass of the sweeper (also used by tests)."""
        with self.app.app_context():
            if not self._schema_found:
                # a catalogue query and an inspector: 2-7 ms of CPU, so asked until found
                if not inspect(db.engine).has_table("checks"):
                    return  # schema not created yet: `flask db upgrade` first
                self._schema_found = True
            due = sweep()
        for check_id in due:
            self.submit_check(check_id)

    def _sweep_loop(self) -> None:
        """Sweep every interval while this process holds the install's sweeper lease."""
        interval = float(self.app.config["SWEEP_INTERVAL_SECONDS"]) or 1.0
        with self.app.app_context():  # the database's URL as the app resolved it
            lease = SweeperLease(db.engine.url.render_as_string(hide_password=False))
        try:
            while not self._stopping.is_set():
                if lease.held():
                    self._sweep_logged()
                self._stopping.wait(interval)
        finally:
            lease.release()

    def _sweep_logged(self) -> None:
        try:
            self.sweep_once()
        except OperationalError:
            log.warning("sweeper: database unavailable, will retry")
        except Exception:
            log.exception("sweeper pass failed")

    def stop(self) -> None:
        """Stop the sweeper and wait for running attempts."""
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        outbox(self.app).stop()


def __getattr__(name: str) -> object:
    """``celery --app certificate.jobs``: the Celery app, built on first use (PEP 562)."""
    if name in ("celery", "app"):
        from certificate import create_app
        from certificate.celery_engine import CELERY_KEY

        flask_app = create_app()
        if CELERY_KEY not in flask_app.extensions:
            raise RuntimeError("set IPC_CELERY_BROKER_URL to run Celery workers")
        return flask_app.extensions[CELERY_KEY]
    raise AttributeError(name)
