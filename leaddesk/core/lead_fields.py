"""Lead fields a column can map to, and recognising them from the headers files really have."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable

FIRST_NAME = "first_name"
LAST_NAME = "last_name"
FULL_NAME = "full_name"
EMAIL = "email"
PHONE = "phone"
COUNTRY = "country"
LANGUAGE = "language"
IP = "ip"
REGISTERED_AT = "registered_at"
SOURCE = "source"
SUB_ID1 = "sub_id1"
SUB_ID2 = "sub_id2"
SUB_ID3 = "sub_id3"
PASSWORD = "password"

# The targets of a column mapping; CUSTOM keeps the column as a custom field, SKIP ignores it.
LEAD_FIELDS = (
    FIRST_NAME,
    LAST_NAME,
    FULL_NAME,
    EMAIL,
    PHONE,
    COUNTRY,
    LANGUAGE,
    IP,
    REGISTERED_AT,
    SOURCE,
    SUB_ID1,
    SUB_ID2,
    SUB_ID3,
    PASSWORD,
)
CUSTOM = ""
SKIP = "skip"
# Fields without a column of their own in the lead table: kept in the lead's extra fields.
EXTRA_FIELDS = (IP, REGISTERED_AT, SOURCE, SUB_ID1, SUB_ID2, SUB_ID3, PASSWORD)

# Header spellings after header_key (accents, case and punctuation dropped). A spelling ending
# in a digit is matched as it is ("Sub ID 2"); others also match with a number ("Email 1").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    FIRST_NAME: (
        "firstname",
        "fname",
        "givenname",
        "forename",
        "vorname",
        "prenom",
        "nombre",
        "nome",
        "voornaam",
        "imie",
        "primernombre",
    ),
    LAST_NAME: (
        "lastname",
        "lname",
        "surname",
        "familyname",
        "nachname",
        "familienname",
        "nom",
        "nomdefamille",
        "apellido",
        "apellidos",
        "cognome",
        "achternaam",
        "nazwisko",
        "sobrenome",
    ),
    FULL_NAME: (
        "name",
        "fullname",
        "displayname",
        "contactname",
        "contact",
        "customername",
        "leadname",
        "nomcomplet",
        "nombrecompleto",
        "vollername",
        "nomecompleto",
    ),
    EMAIL: (
        "email",
        "emails",
        "emailid",
        "emailaddress",
        "mail",
        "mailadresse",
        "emailadresse",
        "adresseemail",
        "courriel",
        "correo",
        "correoelectronico",
        "posta",
    ),
    PHONE: (
        "phone",
        "phones",
        "phonenumber",
        "mobilephone",
        "mobile",
        "mobilenumber",
        "mobil",
        "mobiltelefon",
        "handy",
        "telephone",
        "tel",
        "telefon",
        "telefonnummer",
        "rufnummer",
        "telefono",
        "telefone",
        "movil",
        "celular",
        "cellulare",
        "portable",
        "contactnumber",
        "contactnumbers",
        "cell",
        "cellphone",
        "msisdn",
        "whatsapp",
    ),
    COUNTRY: (
        "country",
        "countrycode",
        "countryname",
        "countryiso",
        "billingcountry",
        "land",
        "pays",
        "pais",
        "paese",
        "geo",
    ),
    LANGUAGE: ("language", "lang", "sprache", "langue", "idioma", "lingua", "locale"),
    IP: ("ip", "ipaddress", "ipaddr", "userip", "clientip", "ipadresse"),
    REGISTERED_AT: (
        "registeredat",
        "registered",
        "registrationdate",
        "regdate",
        "signupdate",
        "createdat",
        "createdtime",
        "datecreated",
        "creationdate",
        "leaddate",
        "registrierungsdatum",
    ),
    SOURCE: ("source", "leadsource", "utmsource", "quelle", "fuente", "trafficsource"),
    SUB_ID1: ("subid", "subid1", "sub1", "affsub", "affsub1"),
    SUB_ID2: ("subid2", "sub2", "affsub2"),
    SUB_ID3: ("subid3", "sub3", "affsub3"),
    PASSWORD: ("password", "pass", "pwd", "passwort", "motdepasse", "contrasena"),
}
FIELD_BY_HEADER_KEY = {key: name for name, keys in HEADER_ALIASES.items() for key in keys}


def name_key(text: str) -> str:
    """Fold a header or a country name: no accents, no case, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


def header_key(header: str) -> str:
    """The folded header without a trailing number: "E-Mail 1" -> "email"."""
    return name_key(header).rstrip("0123456789")


def recognise(header: str) -> str:
    """The lead field a header names, or "" when it names none."""
    key = name_key(header)
    return FIELD_BY_HEADER_KEY.get(key) or FIELD_BY_HEADER_KEY.get(key.rstrip("0123456789"), "")


def recognise_all(headers: Iterable[str]) -> dict[str, str]:
    """Each header mapped to its lead field, or to CUSTOM when it names none."""
    return {header: recognise(header) for header in headers}


def header_signature(headers: Iterable[str]) -> str:
    """A stable key for a file's header, to remember the mapping chosen for it.

    Headers are compared folded (case, accents and punctuation dropped), in order.
    """
    folded = "\x1f".join(name_key(header) for header in headers)
    return hashlib.sha256(folded.encode()).hexdigest()[:32]
