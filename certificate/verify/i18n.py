"""The verification page's words, from the catalogue, in every served language.

The page (``templates/verify/*``) and its script (``static/verify.js``, which
receives :func:`page_words` as JSON) say the same things from the same
table. The English words below are the catalogue's source; country names come from CLDR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from certificate.i18n import N_, gettext_in
from certificate.i18n.cldr import country_names as cldr_country_names

_EN: dict[str, Any] = {
    "title": N_("Verify a certificate"),
    "lead": N_(
        "Check that an International Police Certificate is genuine and still in force. No account is needed."
    ),
    "language": N_("Language"),
    "status_label": N_("Status: "),
    "holder": N_("Holder"),
    "date_of_birth": N_("Date of birth"),
    "certificate_number": N_("Certificate number"),
    "issued": N_("Issued"),
    "expires": N_("Expires"),
    "countries_caption": N_("What each country's agency answered"),
    "country": N_("Country"),
    "outcome": N_("Outcome"),
    "gap": N_("Months of declared residence not covered by a confirmed answer: {months}"),
    "specimen": N_(
        "SPECIMEN — produced by the demonstration agencies; this certificate has no legal value."
    ),
    "noscript": N_(
        "Scanned a QR code? Its answer needs JavaScript; you can still type the number or upload the PDF below."
    ),
    "typed_title": N_("Type the certificate number"),
    "typed_hint": N_(
        "The number is printed on the certificate. The holder's date of birth must match too."
    ),
    "number_label": N_("Certificate number"),
    "number_hint": N_(
        "As printed on the certificate, e.g. 7K2M-9QXD-…; case and spaces do not matter."
    ),
    "dob_label": N_("Holder's date of birth"),
    "dob_hint": N_("Year-month-day, e.g. 1990-04-17."),
    "organisation_label": N_("Your organisation (optional)"),
    "organisation_hint": N_(
        "If you give it, the holder sees that your organisation checked the certificate. Otherwise nobody learns who you are."
    ),
    "verify_button": N_("Verify"),
    "upload_title": N_("Upload the PDF"),
    "upload_hint": N_(
        "The file must be exactly the one the service issued; any change makes it invalid."
    ),
    "file_label": N_("Certificate PDF"),
    "upload_button": N_("Verify the PDF"),
    "qr_title": N_("Scan the QR code"),
    "qr_text": N_(
        "Every certificate carries a QR code. Scan it with a phone camera: it opens this page and shows the answer at once. The certificate's code stays in your browser's address bar and is sent only to the verification service."
    ),
    "checking": N_("Checking…"),
    "checking_text": N_("Asking the verification service about this certificate."),
    "problem": N_("Could not verify"),
    "rate_limited": N_(
        "Too many verifications from your connection. Please wait a minute and reload the page."
    ),
    "unreachable": N_(
        "The verification service could not be reached. Check your connection and reload the page."
    ),
    "service_error": N_("The verification service answered with an error."),
    "required": N_("is required"),
    "not_a_date": N_("must be a real date (day, month and year)"),
    "choose_file": N_("choose the certificate's PDF file"),
    "statuses": {
        "valid": N_("Valid"),
        "revoked": N_("Revoked"),
        "expired": N_("Expired"),
        "superseded": N_("Superseded"),
        "invalid": N_("Invalid"),
        "unknown": N_("Not found"),
    },
    "reasons": {
        "valid": N_(
            "The document is genuine and in force. Whether it shows a record is said in its summary."
        ),
        "revoked": N_("The certificate has been revoked by the issuing service."),
        "expired": N_("The certificate has expired."),
        "superseded": N_(
            "The certificate has been replaced by a newer one; ask the holder for it."
        ),
        "invalid": N_(
            "This is not a genuine certificate from this service, or it has been altered."
        ),
        "unknown": N_("No certificate matches this number and date of birth."),
    },
    # the headline of a genuine certificate in force says what it contains
    "headlines": {
        "record_found": N_("Record found"),
        "not_confirmed": N_("Not confirmed"),
        "no_record": N_("No record"),
    },
    "outcomes": {
        "NR": N_("No record"),
        "RF": N_("Record found"),
        "IU": N_("Identity unconfirmed"),
        "NA": N_("Did not answer: not confirmed"),
        "FA": N_("Check failed: not confirmed"),
        "NC": N_("Not covered: not checked"),
    },
}


def _translated(table: Mapping[str, Any], language: str) -> dict[str, Any]:
    return {
        key: _translated(value, language)
        if isinstance(value, Mapping)
        else gettext_in(language, value)
        for key, value in table.items()
    }


def words(language: str) -> dict[str, Any]:
    """The page's words in ``language`` (English for an unknown code)."""
    return _translated(_EN, language)


def country_names(language: str) -> dict[str, str]:
    """Every country's name in ``language``, by ISO 3166-1 alpha-2 code."""
    return dict(cldr_country_names(language))


def page_words(language: str) -> dict[str, Any]:
    """What verify.js needs to build the answer in the page's language."""
    return {**words(language), "countries": country_names(language)}
