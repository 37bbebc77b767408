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

Country names are printed in the certificate's language (ISO 3166
translations shipped with pycountry) when the name given is the standard
English one; any other name is printed as given.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

import pycountry

#: Outcome codes a :class:`~certificate.issuance.document.CountryLine` may carry.
OUTCOMES = (
    "no_record",
    "record_found",
    "identity_unconfirmed",
    "no_response",
    "not_covered",
)

_EN: dict[str, str] = {
    "title": "International Police Certificate",
    "specimen": "SPECIMEN",
    "specimen_notice": "SPECIMEN — not valid as a certificate",
    "certificate_number": "Certificate No.",
    "issued_on": "Date of issue",
    "colon": ": ",
    "expires_on": "Valid until",
    "holder": "Holder",
    "family_name": "Family name",
    "given_names": "Given names",
    "other_names": "Other names",
    "date_of_birth": "Date of birth",
    "place_of_birth": "Place of birth",
    "nationalities": "Nationalities",
    "identity_document": "Identity document",
    "purpose": "Purpose",
    "countries": "Answers of the national criminal-record authorities",
    "country": "Country",
    "periods": "Residence periods covered",
    "nationality_only": "Checked as country of nationality",
    "result": "Result",
    "answered_on": "Answered on",
    "authority": "Authority",
    "reference": "Ref.",
    "offence": "Offence",
    "category": "Category",
    "date": "Date",
    "court": "Court",
    "sentence": "Sentence",
    "until_now": "until now",
    "period": "{start} – {end}",
    "period_open": "{start} – until now",
    "outcome_no_record": "No record",
    "outcome_record_found": "Record found — see details below",
    "outcome_identity_unconfirmed": "Identity could not be confirmed — result not confirmed",
    "outcome_no_response": "Did not answer by its deadline — not confirmed",
    "outcome_not_covered": "No participating authority — not checked",
    "statement": (
        "This certificate states what the criminal-record authority of each "
        "country listed below answered about the holder, for the periods "
        "shown. Only a country marked “No record” has confirmed that it holds "
        "no record; every other result is not a confirmation. The certificate "
        "says nothing about any other country or about any period after its "
        "date of issue, and it is valid only until the date shown."
    ),
    "notes": "Notes",
    "coverage": "Residence periods without a confirmed answer",
    "coverage_gap_months": "{months} month(s) of the declared residence are not covered by a confirmed answer.",
    "coverage_full": "Every declared residence period is covered by an answer.",
    "verify_heading": "Verification",
    "verify": (
        "Scan the QR code or visit {base_url}/v and enter the certificate number and date of birth."
    ),
}

_FR: dict[str, str] = {
    "title": "Certificat de police international",
    "specimen": "SPÉCIMEN",
    "specimen_notice": "SPÉCIMEN — sans valeur de certificat",
    "certificate_number": "Certificat n°",
    "issued_on": "Date de délivrance",
    "colon": "\u00a0: ",
    "expires_on": "Fin de validité",
    "holder": "Titulaire",
    "family_name": "Nom de famille",
    "given_names": "Prénoms",
    "other_names": "Autres noms",
    "date_of_birth": "Date de naissance",
    "place_of_birth": "Lieu de naissance",
    "nationalities": "Nationalités",
    "identity_document": "Pièce d’identité",
    "purpose": "Motif de la demande",
    "countries": "Réponses des autorités nationales des casiers judiciaires",
    "country": "Pays",
    "periods": "Périodes de résidence couvertes",
    "nationality_only": "Vérifié comme pays de nationalité",
    "result": "Résultat",
    "answered_on": "Date de réponse",
    "authority": "Autorité",
    "reference": "Réf.",
    "offence": "Infraction",
    "category": "Catégorie",
    "date": "Date",
    "court": "Juridiction",
    "sentence": "Peine",
    "until_now": "à ce jour",
    "period": "{start} – {end}",
    "period_open": "{start} – à ce jour",
    "outcome_no_record": "Aucune condamnation inscrite",
    "outcome_record_found": "Condamnation inscrite — voir le détail ci-dessous",
    "outcome_identity_unconfirmed": (
        "Identité non confirmée par l’autorité — résultat non confirmé"
    ),
    "outcome_no_response": "N’a pas répondu dans le délai — non confirmé",
    "outcome_not_covered": "Aucune autorité participante — non vérifié",
    "statement": (
        "Le présent certificat indique ce que l’autorité du casier judiciaire "
        "de chaque pays ci-dessous a répondu au sujet du titulaire, pour les "
        "périodes indiquées. Seul un pays portant la mention « Aucune "
        "condamnation inscrite » a confirmé ne détenir aucune condamnation ; "
        "tout autre résultat ne vaut pas confirmation. Le certificat ne dit "
        "rien d’un autre pays ni d’une période postérieure à sa date de "
        "délivrance, et n’est valable que jusqu’à la date indiquée."
    ),
    "notes": "Remarques",
    "coverage": "Périodes de résidence sans réponse confirmée",
    "coverage_gap_months": "{months} mois de la résidence déclarée ne sont couverts par aucune réponse confirmée.",
    "coverage_full": "Chaque période de résidence déclarée est couverte par une réponse.",
    "verify_heading": "Vérification",
    "verify": (
        "Scannez le code QR ou rendez-vous sur {base_url}/v et saisissez le "
        "numéro du certificat et la date de naissance."
    ),
}

_ES: dict[str, str] = {
    "title": "Certificado policial internacional",
    "specimen": "ESPÉCIMEN",
    "specimen_notice": "ESPÉCIMEN — sin validez como certificado",
    "certificate_number": "Certificado n.º",
    "issued_on": "Fecha de expedición",
    "colon": ": ",
    "expires_on": "Válido hasta",
    "holder": "Titular",
    "family_name": "Apellidos",
    "given_names": "Nombre",
    "other_names": "Otros nombres",
    "date_of_birth": "Fecha de nacimiento",
    "place_of_birth": "Lugar de nacimiento",
    "nationalities": "Nacionalidades",
    "identity_document": "Documento de identidad",
    "purpose": "Finalidad",
    "countries": "Respuestas de las autoridades nacionales de antecedentes penales",
    "country": "País",
    "periods": "Periodos de residencia cubiertos",
    "nationality_only": "Comprobado como país de nacionalidad",
    "result": "Resultado",
    "answered_on": "Fecha de respuesta",
    "authority": "Autoridad",
    "reference": "Ref.",
    "offence": "Delito",
    "category": "Categoría",
    "date": "Fecha",
    "court": "Tribunal",
    "sentence": "Pena",
    "until_now": "hasta la fecha",
    "period": "{start} – {end}",
    "period_open": "{start} – hasta la fecha",
    "outcome_no_record": "Sin antecedentes",
    "outcome_record_found": "Constan antecedentes — véase el detalle abajo",
    "outcome_identity_unconfirmed": (
        "Identidad no confirmada por la autoridad — resultado no confirmado"
    ),
    "outcome_no_response": "No respondió dentro del plazo — no confirmado",
    "outcome_not_covered": "Ninguna autoridad participante — no comprobado",
    "statement": (
        "Este certificado indica lo que la autoridad de antecedentes penales "
        "de cada país indicado a continuación respondió sobre el titular, para "
        "los periodos señalados. Solo un país marcado «Sin antecedentes» ha "
        "confirmado que no le constan antecedentes; cualquier otro resultado "
        "no es una confirmación. El certificado no dice nada de ningún otro "
        "país ni de ningún periodo posterior a su fecha de expedición, y solo "
        "es válido hasta la fecha indicada."
    ),
    "notes": "Observaciones",
    "coverage": "Períodos de residencia sin respuesta confirmada",
    "coverage_gap_months": "{months} mes(es) de la residencia declarada no están cubiertos por una respuesta confirmada.",
    "coverage_full": "Cada período de residencia declarado está cubierto por una respuesta.",
    "verify_heading": "Verificación",
    "verify": (
        "Escanee el código QR o visite {base_url}/v e introduzca el número "
        "del certificado y la fecha de nacimiento."
    ),
}

_AR: dict[str, str] = {
    "title": "شهادة شرطة دولية",
    "specimen": "نموذج",
    "specimen_notice": "نموذج — ليست شهادة صالحة",
    "certificate_number": "رقم الشهادة",
    "issued_on": "تاريخ الإصدار",
    "colon": ": ",
    "expires_on": "صالحة حتى",
    "holder": "صاحب الشهادة",
    "family_name": "اسم العائلة",
    "given_names": "الاسم الشخصي",
    "other_names": "أسماء أخرى",
    "date_of_birth": "تاريخ الميلاد",
    "place_of_birth": "مكان الميلاد",
    "nationalities": "الجنسيات",
    "identity_document": "وثيقة الهوية",
    "purpose": "الغرض",
    "countries": "ردود السلطات الوطنية المختصة بالسجل الجنائي",
    "country": "البلد",
    "periods": "فترات الإقامة المشمولة",
    "nationality_only": "تم التحقق بصفته بلد الجنسية",
    "result": "النتيجة",
    "answered_on": "تاريخ الرد",
    "authority": "السلطة",
    "reference": "المرجع",
    "offence": "الجريمة",
    "category": "الفئة",
    "date": "التاريخ",
    "court": "المحكمة",
    "sentence": "الحكم",
    "until_now": "حتى الآن",
    # no-break spaces: a period too long for its column wraps before "إلى"
    "period": "من\u00a0{start} إلى\u00a0{end}",
    "period_open": "من\u00a0{start} حتى الآن",
    "outcome_no_record": "لا توجد سوابق",
    "outcome_record_found": "توجد سوابق — انظر التفاصيل أدناه",
    "outcome_identity_unconfirmed": "تعذر تأكيد الهوية — النتيجة غير مؤكدة",
    "outcome_no_response": "لم ترد في الموعد المحدد — غير مؤكد",
    "outcome_not_covered": "لا توجد سلطة مشاركة — لم يتم التحقق",
    "statement": (
        "تبين هذه الشهادة ما أجابت به سلطة السجل الجنائي في كل بلد مذكور "
        "أدناه بشأن صاحب الشهادة، عن الفترات المبينة. وحده البلد الذي يحمل "
        "عبارة «لا توجد سوابق» قد أكد عدم وجود سوابق؛ وأي نتيجة أخرى لا تعد "
        "تأكيدا. ولا تقول الشهادة شيئا عن أي بلد آخر ولا عن أي فترة لاحقة "
        "لتاريخ إصدارها، وهي صالحة حتى التاريخ المبين فقط."
    ),
    "notes": "ملاحظات",
    "coverage": "فترات إقامة دون رد مؤكد",
    "coverage_gap_months": "{months} شهرا من الإقامة المصرح بها غير مشمولة برد مؤكد.",
    "coverage_full": "كل فترات الإقامة المصرح بها مشمولة برد.",
    "verify_heading": "التحقق",
    "verify": "امسح رمز QR أو زر {base_url}/v وأدخل رقم الشهادة وتاريخ الميلاد.",
}

_LABELS: dict[str, Mapping[str, str]] = {
    "en": MappingProxyType(_EN),
    "fr": MappingProxyType(_FR),
    "es": MappingProxyType(_ES),
    "ar": MappingProxyType(_AR),
}

#: Languages a certificate can be printed in.
LANGUAGES = tuple(_LABELS)

#: Languages written right to left.
RTL_LANGUAGES = frozenset({"ar"})


def labels(language: str) -> Mapping[str, str]:
    """Return the read-only label table for ``language`` (en, fr, es, ar).

    Raises:
        ValueError: if ``language`` is not one of :data:`LANGUAGES`.
    """
    try:
        return _LABELS[language]
    except KeyError:
        raise ValueError(
            f"unknown certificate language {language!r}; expected one of {', '.join(LANGUAGES)}"
        ) from None


def outcome_phrase(language: str, outcome: str) -> str:
    """Return the printed phrase for a country's ``outcome`` code.

    Raises:
        ValueError: for an unknown language or outcome code.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    return labels(language)["outcome_" + outcome]


@lru_cache(maxsize=8)
def _country_translation(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str, name: str, language: str) -> str:
    """``name`` of country ``code`` in ``language`` when it is pycountry's English name.

    A name that is not the standard English short name (an override, a
    name already translated) is returned unchanged, as is any name without
    a translation.
    """
    country = pycountry.countries.get(alpha_2=code)
    if country is None or country.name != name:
        return name
    return str(_country_translation(language).gettext(name))
