"""The verification page's words in INTERPOL's four official languages.

The page (``templates/verify/*``) and its script (``static/verify.js``, which
receives :func:`page_words` as JSON) say the same things from the same
tables. ``site`` holds the site header, navigation and footer, which follow
the page's language on ``/v`` (the rest of the site is in English). Country names come from the ISO 3166 translations that ship with
pycountry. Arabic is written right to left (:data:`RTL`).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import pycountry

from country_adapters.countries import all_countries

LANGUAGES = ("en", "fr", "es", "ar")
DEFAULT = "en"
RTL = frozenset({"ar"})
#: Each language named in itself, for the language selector.
NATIVE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}

_EN: dict[str, Any] = {
    "site": {
        "brand": "International Police Certificate",
        "skip": "Skip to main content",
        "nav_label": "Main",
        "nav_verify": "Verify a certificate",
        "nav_applications": "My applications",
        "nav_queries": "Open queries",
        "nav_failed": "Failed checks",
        "nav_certificates": "Certificates",
        "log_out": "Log out",
        "log_in": "Log in",
        "sign_up": "Sign up",
        "footer_before": "Certificates are signed by this service; anyone can check one on the ",
        "footer_link": "verification page",
        "footer_after": ". Personal data is used only for the checks the applicant consents to.",
    },
    "title": "Verify a certificate",
    "lead": "Check that an International Police Certificate is genuine and still in force. No account is needed.",
    "language": "Language",
    "status_label": "Status: ",
    "holder": "Holder",
    "date_of_birth": "Date of birth",
    "certificate_number": "Certificate number",
    "issued": "Issued",
    "expires": "Expires",
    "countries_caption": "What each country's agency answered",
    "country": "Country",
    "outcome": "Outcome",
    "gap": "Months of declared residence not covered by a confirmed answer: {months}",
    "specimen": "SPECIMEN — produced by the demonstration agencies; this certificate has no legal value.",
    "noscript": "Scanned a QR code? Its answer needs JavaScript; you can still type the number or upload the PDF below.",
    "typed_title": "Type the certificate number",
    "typed_hint": "The number is printed on the certificate. The holder's date of birth must match too.",
    "number_label": "Certificate number",
    "number_hint": "As printed on the certificate, e.g. 7K2M-9QXD-…; case and spaces do not matter.",
    "dob_label": "Holder's date of birth",
    "dob_hint": "Year-month-day, e.g. 1990-04-17.",
    "organisation_label": "Your organisation (optional)",
    "organisation_hint": "If you give it, the holder sees that your organisation checked the certificate. Otherwise nobody learns who you are.",
    "verify_button": "Verify",
    "upload_title": "Upload the PDF",
    "upload_hint": "The file must be exactly the one the service issued; any change makes it invalid.",
    "file_label": "Certificate PDF",
    "upload_button": "Verify the PDF",
    "qr_title": "Scan the QR code",
    "qr_text": "Every certificate carries a QR code. Scan it with a phone camera: it opens this page and shows the answer at once. The certificate's code stays in your browser's address bar and is sent only to the verification service.",
    "checking": "Checking…",
    "checking_text": "Asking the verification service about this certificate.",
    "problem": "Could not verify",
    "rate_limited": "Too many verifications from your connection. Please wait a minute and reload the page.",
    "unreachable": "The verification service could not be reached. Check your connection and reload the page.",
    "service_error": "The verification service answered with an error.",
    "required": "is required",
    "not_a_date": "must be a real date (day, month and year)",
    "choose_file": "choose the certificate's PDF file",
    "statuses": {
        "valid": "Valid",
        "revoked": "Revoked",
        "expired": "Expired",
        "superseded": "Superseded",
        "invalid": "Invalid",
        "unknown": "Not found",
    },
    "reasons": {
        "valid": "The certificate is genuine and in force.",
        "revoked": "The certificate has been revoked by the issuing service.",
        "expired": "The certificate has expired.",
        "superseded": "The certificate has been replaced by a newer one; ask the holder for it.",
        "invalid": "This is not a genuine certificate from this service, or it has been altered.",
        "unknown": "No certificate matches this number and date of birth.",
    },
    "outcomes": {
        "NR": "No record",
        "RF": "Record found",
        "IU": "Identity unconfirmed",
        "NA": "Did not answer: not confirmed",
        "NC": "Not covered: not checked",
    },
}

_FR: dict[str, Any] = {
    "site": {
        "brand": "Certificat de police international",
        "skip": "Aller au contenu principal",
        "nav_label": "Menu principal",
        "nav_verify": "Vérifier un certificat",
        "nav_applications": "Mes demandes",
        "nav_queries": "Requêtes en cours",
        "nav_failed": "Vérifications en échec",
        "nav_certificates": "Certificats",
        "log_out": "Se déconnecter",
        "log_in": "Se connecter",
        "sign_up": "Créer un compte",
        "footer_before": "Les certificats sont signés par ce service ; chacun peut en vérifier un sur la ",
        "footer_link": "page de vérification",
        "footer_after": ". Les données personnelles ne servent qu'aux vérifications auxquelles le demandeur consent.",
    },
    "title": "Vérifier un certificat",
    "lead": "Vérifiez qu'un certificat de police international est authentique et toujours en vigueur. Aucun compte n'est nécessaire.",
    "language": "Langue",
    "status_label": "Statut : ",
    "holder": "Titulaire",
    "date_of_birth": "Date de naissance",
    "certificate_number": "Numéro du certificat",
    "issued": "Délivré le",
    "expires": "Expire le",
    "countries_caption": "Réponse de l'autorité de chaque pays",
    "country": "Pays",
    "outcome": "Résultat",
    "gap": "Mois de résidence déclarée sans réponse confirmée : {months}",
    "specimen": "SPÉCIMEN — produit par les autorités de démonstration ; ce certificat n'a aucune valeur légale.",
    "noscript": "Vous avez scanné un code QR ? Sa réponse nécessite JavaScript ; vous pouvez toujours saisir le numéro ou téléverser le PDF ci-dessous.",
    "typed_title": "Saisir le numéro du certificat",
    "typed_hint": "Le numéro est imprimé sur le certificat. La date de naissance du titulaire doit aussi correspondre.",
    "number_label": "Numéro du certificat",
    "number_hint": "Tel qu'imprimé sur le certificat, par ex. 7K2M-9QXD-… ; majuscules et espaces sans importance.",
    "dob_label": "Date de naissance du titulaire",
    "dob_hint": "Année-mois-jour, par ex. 1990-04-17.",
    "organisation_label": "Votre organisation (facultatif)",
    "organisation_hint": "Si vous l'indiquez, le titulaire verra que votre organisation a vérifié le certificat. Sinon, personne ne saura qui vous êtes.",
    "verify_button": "Vérifier",
    "upload_title": "Téléverser le PDF",
    "upload_hint": "Le fichier doit être exactement celui délivré par le service ; toute modification le rend invalide.",
    "file_label": "PDF du certificat",
    "upload_button": "Vérifier le PDF",
    "qr_title": "Scanner le code QR",
    "qr_text": "Chaque certificat porte un code QR. Scannez-le avec l'appareil photo d'un téléphone : il ouvre cette page et affiche aussitôt la réponse. Le code du certificat reste dans la barre d'adresse de votre navigateur et n'est envoyé qu'au service de vérification.",
    "checking": "Vérification…",
    "checking_text": "Interrogation du service de vérification au sujet de ce certificat.",
    "problem": "Vérification impossible",
    "rate_limited": "Trop de vérifications depuis votre connexion. Attendez une minute puis rechargez la page.",
    "unreachable": "Le service de vérification est injoignable. Vérifiez votre connexion et rechargez la page.",
    "service_error": "Le service de vérification a répondu par une erreur.",
    "required": "est obligatoire",
    "not_a_date": "doit être une date réelle (jour, mois et année)",
    "choose_file": "choisissez le fichier PDF du certificat",
    "statuses": {
        "valid": "Valide",
        "revoked": "Révoqué",
        "expired": "Expiré",
        "superseded": "Remplacé",
        "invalid": "Invalide",
        "unknown": "Introuvable",
    },
    "reasons": {
        "valid": "Le certificat est authentique et en vigueur.",
        "revoked": "Le certificat a été révoqué par le service émetteur.",
        "expired": "Le certificat a expiré.",
        "superseded": "Le certificat a été remplacé par un plus récent ; demandez-le au titulaire.",
        "invalid": "Ce n'est pas un certificat authentique de ce service, ou il a été modifié.",
        "unknown": "Aucun certificat ne correspond à ce numéro et à cette date de naissance.",
    },
    "outcomes": {
        "NR": "Néant",
        "RF": "Condamnation inscrite",
        "IU": "Identité non confirmée",
        "NA": "Pas de réponse : non confirmé",
        "NC": "Non couvert : non vérifié",
    },
}

_ES: dict[str, Any] = {
    "site": {
        "brand": "Certificado policial internacional",
        "skip": "Ir al contenido principal",
        "nav_label": "Menú principal",
        "nav_verify": "Verificar un certificado",
        "nav_applications": "Mis solicitudes",
        "nav_queries": "Consultas abiertas",
        "nav_failed": "Comprobaciones fallidas",
        "nav_certificates": "Certificados",
        "log_out": "Cerrar sesión",
        "log_in": "Iniciar sesión",
        "sign_up": "Crear cuenta",
        "footer_before": "Este servicio firma los certificados; cualquiera puede comprobar uno en la ",
        "footer_link": "página de verificación",
        "footer_after": ". Los datos personales solo se usan para las comprobaciones que el solicitante consiente.",
    },
    "title": "Verificar un certificado",
    "lead": "Compruebe que un certificado policial internacional es auténtico y sigue vigente. No se necesita cuenta.",
    "language": "Idioma",
    "status_label": "Estado: ",
    "holder": "Titular",
    "date_of_birth": "Fecha de nacimiento",
    "certificate_number": "Número de certificado",
    "issued": "Expedido",
    "expires": "Vence",
    "countries_caption": "Lo que respondió la autoridad de cada país",
    "country": "País",
    "outcome": "Resultado",
    "gap": "Meses de residencia declarada sin respuesta confirmada: {months}",
    "specimen": "ESPÉCIMEN — producido por las autoridades de demostración; este certificado no tiene valor legal.",
    "noscript": "¿Escaneó un código QR? Su respuesta necesita JavaScript; aún puede escribir el número o subir el PDF abajo.",
    "typed_title": "Escriba el número del certificado",
    "typed_hint": "El número está impreso en el certificado. La fecha de nacimiento del titular también debe coincidir.",
    "number_label": "Número de certificado",
    "number_hint": "Tal como aparece en el certificado, p. ej. 7K2M-9QXD-…; mayúsculas y espacios no importan.",
    "dob_label": "Fecha de nacimiento del titular",
    "dob_hint": "Año-mes-día, p. ej. 1990-04-17.",
    "organisation_label": "Su organización (opcional)",
    "organisation_hint": "Si la indica, el titular verá que su organización verificó el certificado. Si no, nadie sabrá quién es usted.",
    "verify_button": "Verificar",
    "upload_title": "Subir el PDF",
    "upload_hint": "El archivo debe ser exactamente el que expidió el servicio; cualquier cambio lo invalida.",
    "file_label": "PDF del certificado",
    "upload_button": "Verificar el PDF",
    "qr_title": "Escanear el código QR",
    "qr_text": "Cada certificado lleva un código QR. Escanéelo con la cámara de un teléfono: abre esta página y muestra la respuesta al instante. El código del certificado permanece en la barra de direcciones y solo se envía al servicio de verificación.",
    "checking": "Comprobando…",
    "checking_text": "Consultando al servicio de verificación sobre este certificado.",
    "problem": "No se pudo verificar",
    "rate_limited": "Demasiadas verificaciones desde su conexión. Espere un minuto y recargue la página.",
    "unreachable": "No se pudo contactar con el servicio de verificación. Compruebe su conexión y recargue la página.",
    "service_error": "El servicio de verificación respondió con un error.",
    "required": "es obligatorio",
    "not_a_date": "debe ser una fecha real (día, mes y año)",
    "choose_file": "elija el archivo PDF del certificado",
    "statuses": {
        "valid": "Válido",
        "revoked": "Revocado",
        "expired": "Vencido",
        "superseded": "Sustituido",
        "invalid": "No válido",
        "unknown": "No encontrado",
    },
    "reasons": {
        "valid": "El certificado es auténtico y está vigente.",
        "revoked": "El servicio emisor ha revocado el certificado.",
        "expired": "El certificado ha vencido.",
        "superseded": "El certificado ha sido sustituido por uno más reciente; pídaselo al titular.",
        "invalid": "No es un certificado auténtico de este servicio, o ha sido modificado.",
        "unknown": "Ningún certificado coincide con este número y fecha de nacimiento.",
    },
    "outcomes": {
        "NR": "Sin antecedentes",
        "RF": "Constan antecedentes",
        "IU": "Identidad no confirmada",
        "NA": "Sin respuesta: no confirmado",
        "NC": "No cubierto: no comprobado",
    },
}

_AR: dict[str, Any] = {
    "site": {
        "brand": "شهادة شرطة دولية",
        "skip": "انتقل إلى المحتوى الرئيسي",
        "nav_label": "القائمة الرئيسية",
        "nav_verify": "التحقق من شهادة",
        "nav_applications": "طلباتي",
        "nav_queries": "الاستفسارات المفتوحة",
        "nav_failed": "عمليات التحقق المتعثرة",
        "nav_certificates": "الشهادات",
        "log_out": "تسجيل الخروج",
        "log_in": "تسجيل الدخول",
        "sign_up": "إنشاء حساب",
        "footer_before": "هذه الخدمة توقّع الشهادات؛ ويمكن لأي شخص التحقق من شهادة في ",
        "footer_link": "صفحة التحقق",
        "footer_after": ". لا تُستخدم البيانات الشخصية إلا لعمليات التحقق التي يوافق عليها مقدم الطلب.",
    },
    "title": "التحقق من شهادة",
    "lead": "تحقق من أن شهادة الشرطة الدولية أصلية وما زالت سارية. لا حاجة إلى حساب.",
    "language": "اللغة",
    "status_label": "الحالة: ",
    "holder": "صاحب الشهادة",
    "date_of_birth": "تاريخ الميلاد",
    "certificate_number": "رقم الشهادة",
    "issued": "تاريخ الإصدار",
    "expires": "تاريخ الانتهاء",
    "countries_caption": "ما أجابت به سلطة كل بلد",
    "country": "البلد",
    "outcome": "النتيجة",
    "gap": "أشهر الإقامة المصرح بها غير المشمولة برد مؤكد: {months}",
    "specimen": "نموذج — صادر عن جهات تجريبية؛ لا قيمة قانونية لهذه الشهادة.",
    "noscript": "هل مسحت رمز QR؟ تتطلب الإجابة JavaScript؛ ما زال بإمكانك كتابة الرقم أو تحميل ملف PDF أدناه.",
    "typed_title": "اكتب رقم الشهادة",
    "typed_hint": "الرقم مطبوع على الشهادة. ويجب أن يتطابق تاريخ ميلاد صاحبها أيضًا.",
    "number_label": "رقم الشهادة",
    "number_hint": "كما هو مطبوع على الشهادة، مثل \u20667K2M-9QXD-…\u2069؛ لا أهمية لحالة الأحرف أو المسافات.",
    "dob_label": "تاريخ ميلاد صاحب الشهادة",
    "dob_hint": "السنة-الشهر-اليوم، مثل 1990-04-17.",
    "organisation_label": "جهتك (اختياري)",
    "organisation_hint": "إذا ذكرتها، سيرى صاحب الشهادة أن جهتك تحققت منها. وإلا فلن يعرف أحد من أنت.",
    "verify_button": "تحقق",
    "upload_title": "تحميل ملف PDF",
    "upload_hint": "يجب أن يكون الملف هو نفسه الذي أصدرته الخدمة تمامًا؛ أي تغيير يجعله غير صالح.",
    "file_label": "ملف PDF للشهادة",
    "upload_button": "تحقق من ملف PDF",
    "qr_title": "امسح رمز QR",
    "qr_text": "تحمل كل شهادة رمز QR. امسحه بكاميرا الهاتف: يفتح هذه الصفحة ويعرض الإجابة فورًا. يبقى رمز الشهادة في شريط العنوان ولا يُرسل إلا إلى خدمة التحقق.",
    "checking": "جارٍ التحقق…",
    "checking_text": "نسأل خدمة التحقق عن هذه الشهادة.",
    "problem": "تعذر التحقق",
    "rate_limited": "عدد كبير جدًا من عمليات التحقق من اتصالك. انتظر دقيقة ثم أعد تحميل الصفحة.",
    "unreachable": "تعذر الوصول إلى خدمة التحقق. تحقق من اتصالك وأعد تحميل الصفحة.",
    "service_error": "أجابت خدمة التحقق بخطأ.",
    "required": "مطلوب",
    "not_a_date": "يجب أن يكون تاريخًا حقيقيًا (اليوم والشهر والسنة)",
    "choose_file": "اختر ملف PDF للشهادة",
    "statuses": {
        "valid": "صالحة",
        "revoked": "ملغاة",
        "expired": "منتهية الصلاحية",
        "superseded": "مستبدلة",
        "invalid": "غير صالحة",
        "unknown": "غير موجودة",
    },
    "reasons": {
        "valid": "الشهادة أصلية وسارية المفعول.",
        "revoked": "ألغت الخدمة المُصدِرة هذه الشهادة.",
        "expired": "انتهت صلاحية الشهادة.",
        "superseded": "استُبدلت الشهادة بأحدث منها؛ اطلبها من صاحبها.",
        "invalid": "هذه ليست شهادة أصلية من هذه الخدمة، أو جرى تعديلها.",
        "unknown": "لا توجد شهادة تطابق هذا الرقم وتاريخ الميلاد.",
    },
    "outcomes": {
        "NR": "لا توجد سوابق",
        "RF": "توجد سوابق",
        "IU": "الهوية غير مؤكدة",
        "NA": "لم ترد: غير مؤكد",
        "NC": "غير مشمول: لم يتم التحقق",
    },
}

_WORDS: dict[str, Mapping[str, Any]] = {"en": _EN, "fr": _FR, "es": _ES, "ar": _AR}


def choose_language(requested: str | None, accepted: Iterable[tuple[str, float]]) -> str:
    """``?lang=`` when it names a supported language, else the best of Accept-Language, else en."""
    if requested:
        code = requested.strip().lower()[:2]
        if code in _WORDS:
            return code
    best, best_quality = DEFAULT, 0.0
    for value, quality in accepted:
        code = value.strip().lower()[:2]
        if code in _WORDS and quality > best_quality:
            best, best_quality = code, quality
    return best


def words(language: str) -> Mapping[str, Any]:
    """The page's words in ``language`` (English for an unknown code)."""
    return _WORDS.get(language, _EN)


@lru_cache(maxsize=8)
def _country_translation(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_names(language: str) -> dict[str, str]:
    """Every country's name in ``language``, by ISO 3166-1 alpha-2 code."""
    translate = _country_translation(language).gettext
    return {code: translate(name) for code, name in all_countries()}


def page_words(language: str) -> dict[str, Any]:
    """What verify.js needs to build the answer in the page's language."""
    table = words(language)
    return {**table, "countries": country_names(language)}
