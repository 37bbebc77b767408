"""Periodic tasks: work a feature asks the job engine's sweeper to repeat.

A feature adds its tasks in its ``init_app`` with :func:`add_periodic_task`;
every engine (the embedded sweeper thread, ``celery beat``) runs
:func:`run_periodic_tasks` at the start of each sweep, so the engine needs
to know no feature by name. A task runs inside an app context, commits its
own work, and must be safe to repeat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

log = logging.getLogger(__name__)

REGISTRY_KEY = "ipc.periodic"


@dataclass
class PeriodicTask:
    """One repeated piece of work.

    ``every_setting`` names a configuration key holding the least number of
    seconds between two runs; without one the task runs on every sweep.
    """

    name: str
    run: Callable[[], object]
    every_setting: str | None = None
    last_run: float = field(default=float("-inf"), compare=False)

    def due(self, now: float, config: dict[str, object]) -> bool:
        """True when the task should run at monotonic time ``now``."""
        if self.every_setting is None:
            return True
        return now - self.last_run >= float(str(config[self.every_setting]))


def add_periodic_task(
    app: Flask, name: str, run: Callable[[], object], every_setting: str | None = None
) -> None:
    """Ask the sweeper to run ``run`` on every sweep (or at most every ``every_setting`` s)."""
    tasks = periodic_tasks(app)
    if any(task.name == name for task in tasks):
        raise ValueError(f"periodic task {name!r} is registered twice")
    tasks.append(PeriodicTask(name, run, every_setting))


def periodic_tasks(app: Flask) -> list[PeriodicTask]:
    """The app's periodic tasks, in the order the features added them."""
    tasks: list[PeriodicTask] = app.extensions.setdefault(REGISTRY_KEY, [])
    return tasks


def run_periodic_tasks() -> None:
    """Run every due task of the current app, in order. Needs an app context."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for task in periodic_tasks(app):
        now = time.monotonic()
        if task.due(now, app.config):
            task.last_run = now
            task.run()
