"""Labels printed on a certificate, per language.

Outcome wording is deliberately honest: only ``no_record`` reads as "no
record". Every other outcome says plainly that nothing was confirmed or that
nothing was checked, so that a reader skimming the table cannot take a
missing or unusable answer for a clean one.

``verify`` contains a ``{base_url}`` placeholder to fill with
:meth:`str.format`; ``period`` and ``period_open`` a ``{start}`` (and
``{end}``). Arabic says "from … to …" in words rather than with a dash, so
that a date range reads in the right order both on the page and in the
extracted text. Arabic labels carry no optional diacritics (tanwin): the
shaper drops them, and what is printed must be exactly these words.

The English labels below are the catalogue's source; every language's
words come from its catalogue (``certificate/i18n/translations``). Country
names are printed in the certificate's language (CLDR, through Babel) when
the name given is the standard English one; any other name is printed as
given.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pycountry

from certificate.i18n import N_, cldr, codes, gettext_in, is_rtl_language

#: Outcome codes a :class:`~certificate.issuance.document.CountryLine` may carry.
OUTCOMES = (
    "no_record",
    "record_found",
    "identity_unconfirmed",
    "no_response",
    "failed",
    "not_covered",
)

_EN: dict[str, str] = {
    "title": N_("International Police Certificate"),
    "specimen": N_("SPECIMEN"),
    "specimen_notice": N_("SPECIMEN — not valid as a certificate"),
    "certificate_number": N_("Certificate No."),
    "issued_on": N_("Date of issue"),
    "colon": N_(": "),
    "expires_on": N_("Valid until"),
    "holder": N_("Holder"),
    "family_name": N_("Family name"),
    "given_names": N_("Given names"),
    "latin_name": N_("Name in Latin letters"),
    "other_names": N_("Other names"),
    "date_of_birth": N_("Date of birth"),
    "place_of_birth": N_("Place of birth"),
    "nationalities": N_("Nationalities"),
    "identity_document": N_("Identity document"),
    "purpose": N_("Purpose"),
    "countries": N_("Answers of the national criminal-record authorities"),
    "country": N_("Country"),
    "periods": N_("Residence periods covered"),
    "nationality_only": N_("Checked as country of nationality"),
    "result": N_("Result"),
    "answered_on": N_("Answered on"),
    "authority": N_("Authority"),
    "reference": N_("Ref."),
    "offence": N_("Offence"),
    "category": N_("Category"),
    "date": N_("Date"),
    "court": N_("Court"),
    "sentence": N_("Sentence"),
    "until_now": N_("until now"),
    "period": N_("{start} – {end}"),
    "period_open": N_("{start} – until now"),
    "outcome_no_record": N_("No record"),
    "outcome_record_found": N_("Record found — see details below"),
    "outcome_identity_unconfirmed": N_("Identity could not be confirmed — result not confirmed"),
    "outcome_no_response": N_("Did not answer by its deadline — not confirmed"),
    "outcome_failed": N_(
        "Check failed: the agency could not be asked or its answer could not be used"
        " — not confirmed"
    ),
    "outcome_not_covered": N_("No participating authority — not checked"),
    "statement": N_(
        "This certificate states what the criminal-record authority of each "
        "country listed below answered about the holder, for the periods "
        "shown. Only a country marked “No record” has confirmed that it holds "
        "no record; every other result is not a confirmation. The certificate "
        "says nothing about any other country or about any period after its "
        "date of issue, and it is valid only until the date shown."
    ),
    "notes": N_("Notes"),
    "identity_sandbox": N_("Identity: confirmed by the sandbox (a demonstration, no real proof)."),
    "identity_in_person": N_(
        "Identity: confirmed in person by {by}, who saw the identity document."
    ),
    "identity_oidc": N_("Identity: confirmed electronically by {by}."),
    "identity_other": N_("Identity: confirmed by {method} ({by})."),
    "coverage": N_("Residence periods without a confirmed answer"),
    "coverage_gap_months": N_(
        "{months} month(s) of the declared residence are not covered by a confirmed answer."
    ),
    "coverage_full": N_("Every declared residence period is covered by an answer."),
    "page_of": N_("Page {page} of {pages}"),
    "verify_heading": N_("Verification"),
    "verify": N_(
        "Scan the QR code or visit {base_url}/v and enter the certificate number and date of birth."
    ),
    # the QR code's alternative text, read by screen readers instead of the image
    "qr_alt": N_("QR code for verifying certificate {number}. It holds the link {url}"),
}

#: Languages a certificate can be printed in.
LANGUAGES = codes()

#: Languages written right to left.
RTL_LANGUAGES = frozenset(code for code in LANGUAGES if is_rtl_language(code))


def labels(language: str) -> Mapping[str, str]:
    """Return the read-only label table for ``language`` (en, fr, es, ar).

    Raises:
        ValueError: if ``language`` is not one of :data:`LANGUAGES`.
    """
    if language not in codes():
        raise ValueError(
            f"unknown certificate language {language!r}; expected one of {', '.join(codes())}"
        )
    return MappingProxyType({key: gettext_in(language, text) for key, text in _EN.items()})


def outcome_phrase(language: str, outcome: str) -> str:
    """Return the printed phrase for a country's ``outcome`` code.

    Raises:
        ValueError: for an unknown language or outcome code.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    return labels(language)["outcome_" + outcome]


def country_name(code: str, name: str, language: str) -> str:
    """``name`` of country ``code`` in ``language`` when it is the standard English name.

    A name that is not the standard English short name (an override, a
    name already translated) is returned unchanged.
    """
    country = pycountry.countries.get(alpha_2=code)
    if country is None or country.name != name:
        return name
    return name if language == "en" else cldr.country_name(code, language)


_CATEGORY_WORDS: dict[str, str] = {
    "child_sexual_abuse": N_("Sexual offence against a child"),
    "child_abuse": N_("Other offence against a child"),
    "sexual_other": N_("Sexual offence"),
    "violence": N_("Violent offence"),
    "drugs": N_("Drug offence"),
    "fraud": N_("Fraud or economic offence"),
    "property": N_("Property offence"),
    "traffic": N_("Road traffic offence"),
    "other": N_("Other offence"),
}


def category_words(language: str, code: str) -> str:
    """A record category code (see :mod:`country_adapters.records`) in words.

    A code outside the list (only possible for records stored before the list
    existed) is printed with spaces for underscores, so it never breaks mid-word.
    """
    labels(language)  # ValueError for an unknown language
    if code not in _CATEGORY_WORDS:
        return code.replace("_", " ")
    return gettext_in(language, _CATEGORY_WORDS[code])
