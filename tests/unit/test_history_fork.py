"""A verification history buffer inherited through fork (gunicorn's workers are forked from
its arbiter): the child writes with a writer of its own, and never writes the parent's rows
unless it records some itself."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, NoReturn

import pytest

from certificate.verify.history import HistoryBuffer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _no_database() -> NoReturn:
    raise AssertionError("nothing may be written in this test")


def _in_child(work: Any) -> str:
    """Run ``work()`` in a forked child; what it returned (a short string)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without the parent's exit handlers
        try:
            answer = str(work())
        except BaseException as exc:  # pragma: no cover - reported to the parent
            answer = f"error: {exc!r}"
        os.write(write, answer.encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    assert os.waitstatus_to_exitcode(status) == 0
    return answer


def _record(buffer: HistoryBuffer) -> None:
    buffer.record("IPC-TEST", datetime(2026, 1, 1, tzinfo=UTC), "number", "valid", None)


def test_a_forked_child_starts_a_writer_of_its_own() -> None:
    buffer = HistoryBuffer(_no_database, interval=3600)
    _record(buffer)
    parents = buffer._writer
    assert parents is not None
    assert parents.is_alive()

    def child() -> str:
        _record(buffer)
        writer = buffer._writer
        return f"{writer is not parents} {writer is not None and writer.is_alive()}"

    try:
        assert _in_child(child) == "True True"
    finally:
        buffer._rows.clear()  # nothing to write: the database is not there
        buffer.close()


def test_a_buffer_inherited_but_unused_leaves_the_parents_rows_alone() -> None:
    buffer = HistoryBuffer(_no_database, interval=3600)
    _record(buffer)

    def child() -> str:
        buffer.close()  # would call _no_database if it wrote the parent's row
        return str(buffer.pending())

    try:
        assert _in_child(child) == "1"
    finally:
        buffer._rows.clear()
        buffer.close()
