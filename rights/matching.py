"""How names, dates of birth, postcodes, phone numbers and free text are
normalised for the person index, and how a query is read.

The same functions write the index and read the query, so the two agree:
"O'Brien, Mary-Jane", "mary jane obrien" and "MJ O’Brien" all become words
of lower-case letters, accents folded; "+44 7700 900982" and "07700 900 982"
both become ``07700900982``; "n1 1xa" becomes ``N11XA``.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

# Apostrophes join (O'Brien is obrien); any other punctuation separates.
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_LETTER_WORDS = re.compile(r"[^\W\d_]+")
_WORDS = re.compile(r"[^\W_]+")

# A UK postcode anywhere in text: outward code, optional space, inward code.
_POSTCODE_IN_TEXT = re.compile(
    r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE
)
_POSTCODE_WHOLE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
# A UK phone number anywhere in text: +44, 0044 or 0, then 9 or 10 digits
# with the spaces, dashes, dots and brackets people write between them.
_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+44|0044|0)(?:[\s().\-]*\d){9,10}(?!\d)")
_PHONE_SEPARATORS = re.compile(r"[\s().\-]")

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"),
            ("april", "apr"), ("may",), ("june", "jun"), ("july", "jul"),
            ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
            ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})[\s/.\-](\d{1,2})[\s/.\-](\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DATE_WORDS = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\s+(\d{4})\b", re.I)


def _folded(text: str) -> str:
    """Lower case with accents taken off: "Zoë" and "zoe" are one name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_words(name: str) -> list[str]:
    """The words of a name, in order: letters only, lower case, no accents."""
    return _LETTER_WORDS.findall(_APOSTROPHES.sub("", _folded(name)))


def name_variants(words: list[str]) -> list[str]:
    """The forms a name is found by: in full; forename and surname; each
    forename with the surname; initial and surname ("j smith"); reversed
    ("smith john", "smith j"); each word on its own. A name written with an
    initial only ("J Smith") also gets "?j smith", which a query for "John
    Smith" looks for, so the record is found without finding Jane Smith."""
    if not words:
        return []
    if len(words) == 1:
        return [words[0]]
    *forenames, surname = words
    first = forenames[0]
    variants = [
        " ".join(words),
        f"{first} {surname}",
        *(f"{forename} {surname}" for forename in forenames),
        f"{first[0]} {surname}",
        f"{surname} {first}",
        f"{surname} {' '.join(forenames)}",
        f"{surname} {first[0]}",
        *words,
    ]
    if len(first) == 1:
        variants.append(f"?{first} {surname}")
    return list(dict.fromkeys(variants))


def variants_text(words: list[str]) -> str:
    """The variants as one column, each between bars, so that a query looks
    for ``|variant|`` with one indexed-free ``contains`` on any database."""
    variants = name_variants(words)
    return f"|{'|'.join(variants)}|" if variants else ""


def query_variants(words: list[str]) -> list[str]:
    """What a query's name may match among the stored variants."""
    if not words:
        return []
    if len(words) == 1:
        return [words[0]]
    first, surname = words[0], words[-1]
    wanted = [" ".join(words), f"{first} {surname}"]
    if len(first) > 1:
        # A record that gives only the initial ("J Smith") may be this person.
        wanted.append(f"?{first[0]} {surname}")
    return list(dict.fromkeys(wanted))


def text_normalised(text: str) -> str:
    """Free text as words (letters and digits) between single spaces, with a
    space at each end, so a phrase is found with ``contains(" a b ")``."""
    words = _WORDS.findall(_APOSTROPHES.sub("", _folded(text)))
    return f" {' '.join(words)} " if words else ""


def phone_digits(text: str) -> str:
    """A UK number in its national form (``07700900982``), or "" if ``text``
    is not one. "+44 (0)20 7946 0001" is a common way to write one."""
    digits = _PHONE_SEPARATORS.sub("", text)
    for prefix in ("+440", "00440", "+44", "0044"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix) :]
            break
    if re.fullmatch(r"0\d{9,10}", digits):
        return digits
    return ""


def postcode_normalised(text: str) -> str:
    """A full UK postcode in capitals without its space (``N11XA``), or ""."""
    match = _POSTCODE_WHOLE.match(text.strip().upper())
    return f"{match.group(1)}{match.group(2)}" if match else ""


def phones_in(text: str) -> list[str]:
    found = (phone_digits(match.group(0)) for match in _PHONE_IN_TEXT.finditer(text))
    return list(dict.fromkeys(p for p in found if p))


def postcodes_in(text: str) -> list[str]:
    found = (
        f"{m.group(1)}{m.group(2)}".upper() for m in _POSTCODE_IN_TEXT.finditer(text)
    )
    return list(dict.fromkeys(found))


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_in(text: str) -> tuple[date | None, str]:
    """The first date written in ``text`` (31/3/1980, 31 3 1980, 1980-03-31,
    31 March 1980), and the text without it."""
    for pattern, order in (
        (_DATE_ISO, "ymd"),
        (_DATE_NUMERIC, "dmy"),
        (_DATE_WORDS, "dMy"),
    ):
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups(), strict=True))
            if "M" in parts:
                month = MONTHS.get(parts["M"].casefold())
                if month is None:
                    continue
            else:
                month = int(parts["m"])
            found = _valid_date(int(parts["y"]), month, int(parts["d"]))
            if found is not None:
                return found, text[: match.start()] + " " + text[match.end() :]
    return None, text


@dataclass
class PersonQuery:
    """What a search for a person asks for. Any part may be missing; a
    record matching any part is a hit, and the hit says which parts."""

    words: list[str] = field(default_factory=list)
    phrase: str = ""  # the rest of the query as free text (an address line)
    date_of_birth: date | None = None
    postcode: str = ""
    phone: str = ""

    @property
    def is_empty(self) -> bool:
        return not (
            self.words
            or self.phrase
            or self.date_of_birth
            or self.postcode
            or self.phone
        )


def query_read(text: str) -> PersonQuery:
    """Take a date of birth, a postcode and a phone number out of what was
    typed; what is left is a name (or, with digits, an address line)."""
    query = PersonQuery()
    rest = text
    phones = list(_PHONE_IN_TEXT.finditer(rest))
    if phones:
        query.phone = phone_digits(phones[0].group(0))
        rest = rest[: phones[0].start()] + " " + rest[phones[0].end() :]
    postcode = _POSTCODE_IN_TEXT.search(rest)
    if postcode:
        query.postcode = f"{postcode.group(1)}{postcode.group(2)}".upper()
        rest = rest[: postcode.start()] + " " + rest[postcode.end() :]
    query.date_of_birth, rest = date_in(rest)
    query.words = name_words(rest)
    phrase = text_normalised(rest)
    # Digits left over make it an address line ("12 Example Road"): found in
    # free text as typed, and no name is looked for.
    if any(word.isdigit() for word in phrase.split()):
        query.phrase = phrase
        query.words = []
    return query
