"""Batch verification for organisations: the API's JSON items and the dashboard's CSV rows.

Both channels turn their input into :data:`Item` values and call
:func:`verify_items`, so each answer is the v2 verification answer and each
verification is recorded in the holder's history under the organisation's
registered name, whichever way the organisation sent it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from certificate.errors import validation_fields
from certificate.i18n import N_
from certificate.issuance.summary import claim_outcomes, content_verdict, summary_sentence
from certificate.organisations.models import Organisation
from certificate.organisations.schemas import MAX_BATCH
from certificate.verify.schemas import NumberVerification, TokenVerification
from certificate.verify.service import Verification, Verifier, verify_number, verify_token

Item = TokenVerification | NumberVerification

#: The CSV upload's size cap: a thousand rows of the longest tokens fit well within it.
MAX_CSV_BYTES = 4 * 1024 * 1024
CSV_COLUMNS = ("certificate_id", "date_of_birth", "token")
SUMMARY_KEYS = ("countries", "no_record", "record_found", "unconfirmed", "not_covered")


class BadItem(ValueError):
    """An item that is neither a token nor a typed number; ``fields`` names what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class CsvProblem(ValueError):
    """What is wrong with an uploaded CSV: ``row`` (1 is the header) and ``column`` when known.

    ``message`` is English text marked for translation; ``values`` fill its placeholders.
    """

    def __init__(
        self, message: str, *, row: int | None = None, column: str | None = None, **values: object
    ) -> None:
        self.values: dict[str, object] = {"row": row, "column": column, **values}
        super().__init__(message % self.values)
        self.message = message
        self.row = row
        self.column = column


@dataclass(frozen=True)
class CsvRow:
    """One row to verify: its number in the file (the header is row 1) and its item."""

    number: int
    item: Item


def parse_item(item: dict[str, object]) -> Item:
    """One item as a token or a typed number (``BadItem`` naming its fields otherwise)."""
    model: type[TokenVerification] | type[NumberVerification] = (
        TokenVerification if "token" in item else NumberVerification
    )
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        raise BadItem(validation_fields(exc)) from exc


def verify_items(
    verifier: Verifier, items: Iterable[Item], organisation: Organisation, now: datetime
) -> list[Verification]:
    """Each item's answer, in order, recorded under the organisation's registered name."""
    answers = []
    for item in items:
        if isinstance(item, TokenVerification):
            answers.append(
                verify_token(verifier, item.token.strip(), now, organisation=organisation.name)
            )
        else:
            answers.append(
                verify_number(
                    verifier,
                    item.certificate_id,
                    item.date_of_birth,
                    now,
                    organisation=organisation.name,
                )
            )
    return answers


def _decode(data: bytes) -> str:
    if not data.strip():
        raise CsvProblem(N_("The file is empty."))
    if len(data) > MAX_CSV_BYTES:
        raise CsvProblem(N_("The file is larger than %(size)s MB."), size=MAX_CSV_BYTES // 2**20)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvProblem(N_("The file is not UTF-8 text; save it as CSV (UTF-8).")) from exc


def _reader(text: str) -> csv.DictReader[str]:
    first_line = text.splitlines()[0] if text else ""
    # spreadsheets in many languages separate with semicolons; the header says which
    delimiter = max(",;\t", key=first_line.count)
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def read_csv(data: bytes) -> list[CsvRow]:
    """The rows of an uploaded CSV as items, or the first ``CsvProblem`` found.

    The header names the columns (``certificate_id`` and ``date_of_birth``, or
    ``token``; both kinds may be mixed row by row). At most 1,000 rows.
    """
    reader = _reader(_decode(data))
    try:
        header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise CsvProblem(N_("Row %(row)s cannot be read as CSV."), row=1) from exc
    unknown = [name for name in header if name and name not in CSV_COLUMNS]
    if unknown:
        raise CsvProblem(
            N_(
                "The header names a column this page does not read: %(column)s. "
                "Use certificate_id and date_of_birth, or token."
            ),
            row=1,
            column=unknown[0],
        )
    if "token" not in header and not {"certificate_id", "date_of_birth"} <= set(header):
        raise CsvProblem(
            N_("The first row must name the columns: certificate_id and date_of_birth, or token."),
            row=1,
        )
    reader.fieldnames = header
    rows: list[CsvRow] = []
    try:
        for row in reader:
            number = reader.line_num  # blank lines count, as a spreadsheet numbers them
            if None in row:
                raise CsvProblem(
                    N_("Row %(row)s has more values than the header has columns."),
                    row=number,
                )
            cells = {k: (v or "").strip() for k, v in row.items() if k}
            if not any(cells.values()):
                continue  # a blank line
            if len(rows) == MAX_BATCH:
                raise CsvProblem(
                    N_("The file has more than %(limit)s rows; split it into several files."),
                    row=number,
                    limit=MAX_BATCH,
                )
            rows.append(CsvRow(number, _row_item(number, cells)))
    except csv.Error as exc:
        raise CsvProblem(
            N_("Row %(row)s cannot be read as CSV."),
            row=reader.line_num,
        ) from exc
    if not rows:
        raise CsvProblem(N_("The file has a header but no rows to verify."))
    return rows


def _row_item(number: int, cells: dict[str, str]) -> Item:
    if cells.get("token"):
        fields: dict[str, object] = {"token": cells["token"]}
    else:
        fields = {
            "certificate_id": cells.get("certificate_id", ""),
            "date_of_birth": cells.get("date_of_birth", ""),
        }
    try:
        return parse_item(fields)
    except BadItem as exc:
        column = next(iter(exc.fields))
        message = (
            N_("Row %(row)s, column %(column)s: must be a date written YYYY-MM-DD.")
            if column == "date_of_birth"
            else N_("Row %(row)s, column %(column)s: is missing or too long.")
        )
        raise CsvProblem(message, row=number, column=column) from exc


def results_csv(rows: Sequence[CsvRow], answers: Sequence[Verification], language: str) -> str:
    """The answers as CSV, one row per item in order: the file's row, then what was found.

    ``content`` (``record_found``, ``no_record``, ``not_confirmed``) and ``summary``
    (in ``language``) come before the counts, so that a genuine certificate with a
    record never reads as a clean one. Cells a spreadsheet would run as a formula
    are prefixed with an apostrophe.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "row",
            "certificate_id",
            "status",
            "authentic",
            "content",
            "summary",
            *SUMMARY_KEYS,
            "expires",
        ]
    )
    for row, answer in zip(rows, answers, strict=True):
        item = row.item
        body = answer.as_dict()
        claims = answer.claims or {}
        summary = body["summary"] or {}
        asked = item.certificate_id if isinstance(item, NumberVerification) else ""
        expires = claims.get("exp")
        outcomes = list((claim_outcomes(claims) or {}).values()) if answer.claims else []
        writer.writerow(
            [
                _cell(row.number),
                _cell(claims.get("jti") or asked),
                answer.status,
                "true" if body["authentic"] else "false",
                content_verdict(outcomes) if outcomes else "",
                _cell(summary_sentence(outcomes, language)) if outcomes else "",
                *(_cell(summary.get(key, "")) for key in SUMMARY_KEYS),
                _cell(_day(expires)),
            ]
        )
    return out.getvalue()


def _day(epoch: object) -> str:
    return datetime.fromtimestamp(int(str(epoch)), UTC).date().isoformat() if epoch else ""


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
