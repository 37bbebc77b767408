"""The Celery job engine, for operators who outgrow one machine.

With ``IPC_CELERY_BROKER_URL`` set (a Redis URL), web processes only enqueue
work; ``celery --app certificate.jobs worker`` runs checks and issuance, and
``celery --app certificate.jobs beat`` runs the sweeper on a schedule.
Tasks are acknowledged late and are idempotent: a worker killed in the middle
of one loses nothing, because the check's lease lapses and the sweeper
enqueues it again.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

CELERY_KEY = "ipc.celery"


def make_celery(flask_app: Flask) -> Celery:
    """A Celery app whose tasks run inside ``flask_app``'s context."""
    from certificate import jobs

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    config = flask_app.config
    celery = Celery("certificate", task_cls=FlaskTask)
    celery.conf.update(
        broker_url=config["CELERY_BROKER_URL"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        beat_schedule={
            "sweep": {"task": "ipc.sweep", "schedule": float(config["SWEEP_INTERVAL_SECONDS"])},
        },
    )

    @celery.task(name="ipc.run_check")
    def run_check_task(check_id: str) -> None:
        jobs.run_check(check_id)

    @celery.task(name="ipc.issue")
    def issue_task(application_id: str) -> None:
        jobs.issue_for(application_id)

    @celery.task(name="ipc.sweep")
    def sweep_task() -> None:
        for check_id in jobs.sweep():
            run_check_task.delay(check_id)

    flask_app.extensions[CELERY_KEY] = celery
    return celery


class CeleryJobEngine:
    """Enqueues work for Celery workers; the web process runs none itself."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.celery = make_celery(app)

    @property
    def running(self) -> bool:
        """Always ready: the workers are other processes."""
        return True

    def start(self) -> None:
        """Nothing to start in the web process."""

    def submit_check(self, check_id: str) -> None:
        """Enqueue one attempt of a check."""
        self.celery.tasks["ipc.run_check"].delay(check_id)

    def submit_issuance(self, application_id: str) -> None:
        """Enqueue issuance for an application."""
        self.celery.tasks["ipc.issue"].delay(application_id)

    def stop(self) -> None:
        """Nothing to stop in the web process."""
