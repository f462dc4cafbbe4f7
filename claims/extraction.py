"""Field extraction from claim descriptions, with the character span of each finding.

Rule- and gazetteer-based: regular expressions and small word lists, no model and nothing to
download, so it is fast (bench/claims.py measures it) and every finding can be shown to a
handler as evidence, ``text[span.start:span.end]``.

What it finds (``Span.kind``):

- ``date``: ISO dates ("2025-03-03"), "3 March 2025", "3rd of March", "March 3, 2025",
  "March 3rd", "Mar. 3" and numeric "03/03/2025", which is read month/day/year as written in
  the US. Month names must be capitalised. A date written without a year resolves to the
  latest such date not after the reference date. "yesterday", "the day before yesterday" and
  "last Tuesday" (the most recent Tuesday before the reference date, one to seven days back)
  are read only when a reference date is given. Values are ISO dates.
- ``amount``: a number with a currency symbol, code or word ("$4,200", "4,200.50 USD",
  "EUR 1,250.00", "£300", "12k dollars"); a bare number is not an amount. Values are
  "4200.00 USD": two decimals and an ISO 4217 code.
- ``policy_number``: "AUTO-2026-0001"-style numbers anywhere, and any code with a digit after
  "policy number", "policy no." or "policy #". Values are upper-case.
- ``party``: people and organisations: a title and name ("Dr Amelia Okafor"), a common first
  name and a surname, a name after a role word ("the witness, Jane Doe", "landlord Tom Reyes"),
  a role on its own ("the other driver", "my neighbour"), and organisations ending in Garage,
  Motors, Hospital, Clinic, Ltd, Inc, LLC and the like.
- ``vehicle``: year, make and model ("2019 Toyota Corolla"), a known make with its model,
  UK registrations ("KX19 ABC") anywhere and other plates ("7ABC123") after "plate" or
  "registration".
- ``property``: street addresses ("Flat 4, 22 High Road"), rooms and building parts (kitchen,
  roof, ceiling, ...) and dwellings ("my flat").
- ``injury``: injuries from a gazetteer, with the body part when written ("fractured left
  wrist", "burns to both hands", "neck pain").

Spans come sorted by start; spans of the same kind never overlap (the longer one wins). A
vehicle or property word inside an organisation's name ("Patel Motors", "Elm Street Garage")
belongs to the party only.
"""

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

KINDS = ("date", "amount", "policy_number", "party", "vehicle", "property", "injury")


@dataclass(frozen=True)
class Span:
    kind: str
    value: str
    start: int
    end: int


MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("January", "Jan"),
            ("February", "Feb"),
            ("March", "Mar"),
            ("April", "Apr"),
            ("May",),
            ("June", "Jun"),
            ("July", "Jul"),
            ("August", "Aug"),
            ("September", "Sept", "Sep"),
            ("October", "Oct"),
            ("November", "Nov"),
            ("December", "Dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Longest names first, so that "March" is not read as "Mar" followed by "ch". An abbreviation
# may carry a full stop only before a number, which keeps a sentence's own full stop out.
_MONTH = "(?P<month>{})\\b(?:\\.(?=\\s*\\d))?".format("|".join(sorted(MONTHS, key=len, reverse=True)))
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?\b"
ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}")
MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}\b{_YEAR}")
NUMERIC_DATE = re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}|\d{2})\b")
# Patterns written in lower case run on the text lower-cased: four times as fast as re.IGNORECASE.
RELATIVE_DATE = re.compile(
    rf"\b(?:the day before yesterday|yesterday|last (?P<weekday>{'|'.join(WEEKDAYS)}))\b"
)

CURRENCY_SIGNS = {"$": "USD", "US$": "USD", "£": "GBP", "€": "EUR"}
CURRENCY_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
}
CURRENCY_CODES = ("USD", "EUR", "GBP", "CAD", "AUD", "CHF")
MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
_NUMBER = r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_MULTIPLIER = r"(?:\s?(?P<multiplier>k|thousand|m|million)\b)?"
_CODES = "|".join(CURRENCY_CODES).lower()
AMOUNT_BEFORE = re.compile(rf"(?P<currency>us\$|[$£€]|\b(?:{_CODES})\s?){_NUMBER}{_MULTIPLIER}")
AMOUNT_AFTER = re.compile(rf"\b{_NUMBER}{_MULTIPLIER}\s?(?P<currency>{_CODES}|{'|'.join(CURRENCY_WORDS)})\b")

POLICY_CODE = re.compile(r"\b[A-Za-z]{2,5}-\d{4}-\d{3,8}\b")
POLICY_AFTER_WORDS = re.compile(
    r"\bpolicy\s+(?:number|no\.|no|num\.?|#)\s*(?:is\s+|:\s*)?(?P<code>[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){3,19})\b",
    re.IGNORECASE,
)

_NAME = r"(?:[OD]'|Mc)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
TITLED_NAME = re.compile(rf"\b(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof)\.?\s+{_NAME}(?:\s+{_NAME})?")
ROLES = (
    "other driver|other party|third party|other motorist|witness|neighbour|neighbor|landlord|landlady|"
    "passenger|cyclist|pedestrian|tenant"
)
ROLE_ALONE = re.compile(
    rf"\b(?:the|a|an|my|our|his|her|their)\s+(?:{ROLES})\b(?-i:(?!,?\s+{_NAME}))",
    re.IGNORECASE,
)
NAME_AFTER_ROLE = re.compile(
    rf"\b(?i:driver|witness|neighbour|neighbor|landlord|landlady|passenger|cyclist|pedestrian|tenant|"
    rf"owner|plumber|builder|electrician|contractor|named|called)\b,?\s+(?P<name>{_NAME}(?:\s+{_NAME})?)"
)
ORGANISATION_ENDINGS = (
    "Garage|Motors|Bodyshop|Body Shop|Hospital|Infirmary|Clinic|Medical Centre|Medical Center|Surgery|"
    "Care Home|Nursing Home|Vets|Ltd|Inc|LLC|PLC|Lettings|Solicitors|Insurance"
)
ORGANISATION = re.compile(rf"\b(?:[A-Z][\w'&.-]*\s+(?:&\s+)?){{1,4}}(?:{ORGANISATION_ENDINGS})\b")
# Capitalised words that start sentences or clauses rather than names.
NOT_NAMES = frozenset(
    [
        "A",
        "An",
        "And",
        "As",
        "At",
        "After",
        "Before",
        "By",
        "Called",
        "Caller",
        "For",
        "From",
        "He",
        "Her",
        "His",
        "I",
        "In",
        "It",
        "Last",
        "My",
        "On",
        "Our",
        "PH",
        "She",
        "Since",
        "The",
        "Their",
        "Then",
        "They",
        "This",
        "To",
        "TP",
        "We",
        "When",
        "While",
        "With",
        "Yesterday",
    ]
)
WORD_AND_SPACE = re.compile(r"(\S+)\s+")
# A lookahead, so that a pair is still tried after a title or another name took its first word.
CAPITALISED_PAIR = re.compile(rf"\b(?=(?P<first>[A-Z][a-z]+)\s+(?P<last>{_NAME})\b)")
FIRST_NAMES = frozenset(
    [
        "Aaron",
        "Adam",
        "Ahmed",
        "Aisha",
        "Alan",
        "Alex",
        "Alice",
        "Amara",
        "Amelia",
        "Amy",
        "Ana",
        "Andrew",
        "Anna",
        "Anne",
        "Ben",
        "Carlos",
        "Caroline",
        "Charlotte",
        "Chen",
        "Chloe",
        "Chris",
        "Claire",
        "Daniel",
        "David",
        "Diego",
        "Elena",
        "Eliza",
        "Emily",
        "Emma",
        "Eric",
        "Fatima",
        "Fiona",
        "Gary",
        "George",
        "Grace",
        "Hannah",
        "Helen",
        "Ian",
        "Ibrahim",
        "Isabel",
        "Ivan",
        "Jack",
        "Jacob",
        "James",
        "Jane",
        "Jason",
        "Jennifer",
        "Joanna",
        "John",
        "Jose",
        "Joseph",
        "Julia",
        "Karen",
        "Kate",
        "Kenji",
        "Kevin",
        "Kwame",
        "Laura",
        "Leah",
        "Liam",
        "Linda",
        "Lisa",
        "Lucas",
        "Lucy",
        "Luis",
        "Marcus",
        "Maria",
        "Mark",
        "Mary",
        "Megan",
        "Michael",
        "Mohammed",
        "Nadia",
        "Niamh",
        "Noah",
        "Olivia",
        "Oliver",
        "Omar",
        "Patrick",
        "Paul",
        "Paula",
        "Peter",
        "Priya",
        "Rachel",
        "Rahul",
        "Ravi",
        "Rebecca",
        "Richard",
        "Robert",
        "Ryan",
        "Sam",
        "Samuel",
        "Sarah",
        "Sinead",
        "Sofia",
        "Sophie",
        "Stephen",
        "Steven",
        "Susan",
        "Tariq",
        "Thomas",
        "Tom",
        "Victor",
        "Wei",
        "William",
        "Yusuf",
        "Zoe",
    ]
)

MAKES = (
    "Alfa Romeo|Aston Martin|Land Rover|Range Rover|Mercedes-Benz|Mercedes|Volkswagen|VW|Toyota|Ford|"
    "Honda|BMW|Audi|Nissan|Kia|Hyundai|Tesla|Vauxhall|Opel|Peugeot|Renault|Citroen|Citroën|Skoda|"
    "Cupra|Mazda|Subaru|Chevrolet|Chevy|Jeep|Dodge|Chrysler|GMC|Cadillac|Buick|Lexus|Acura|"
    "Infiniti|Volvo|Fiat|Mini|Jaguar|Porsche|Mitsubishi|Suzuki|Dacia|Polestar|MG"
)
_MODEL = r"(?!I\b)[A-Z0-9][A-Za-z0-9-]*(?:\s+\d[\w-]*)?"
YEAR_MAKE_MODEL = re.compile(rf"\b(?:19[89]\d|20[0-4]\d)\s+(?:{MAKES})\b(?:\s+{_MODEL})?")
MAKE_MODEL = re.compile(rf"\b(?:{MAKES})\b(?:\s+{_MODEL})?")
UK_PLATE = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b")
PLATE_AFTER_WORDS = re.compile(
    r"\b(?i:licen[cs]e plate|number plate|plate|registration|reg\.?)(?:\s+(?i:number|no\.?))?"
    r"(?:\s+(?i:is|was))?\s*:?\s*(?P<plate>[A-Z0-9]{1,4}[- ]?[A-Z0-9]{1,4})\b"
)

STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Close|Drive|Way|Court|Place|Crescent|Gardens|Terrace|"
    "Boulevard|Blvd|Square|Row|Grove|Parade"
)
STREET_TYPE = re.compile(STREET_TYPES)
ADDRESS = re.compile(
    rf"\b(?:(?:Flat|Apartment|Apt\.?|Unit)\s+\d+[A-Z]?,?\s+)?\d{{1,5}}[A-Z]?,?\s+"
    rf"(?:[A-Z][a-z]+\s+){{1,3}}(?:{STREET_TYPES})\b"
)
FLAT_NUMBER = re.compile(r"\b(?:Flat|Apartment|Apt\.?|Unit)\s+\d+[A-Z]?\b")
BUILDING_PARTS = re.compile(
    r"\b(?:kitchen|bathroom|en-suite|bedroom|living room|sitting room|lounge|dining room|hallway|"
    r"landing|utility room|loft|attic|roof|basement|cellar|garage|ceilings?|(?<!side )(?<!rear )"
    r"(?<!car )windows?|conservatory|porch|chimney|fence|shed|driveway|staircase|floorboards|"
    r"walls?|gutters?|patio|balcony|front door|back door)\b"
)
DWELLING = re.compile(
    r"\b(?:my|our|his|her|their|the)\s+(?:house|home|flat|apartment|property|bungalow|cottage|condo|"
    r"townhouse)\b"
)

_BODY_PART = (
    r"(?:(?:the|his|her|my|their|a|both|left|right|upper|lower)\s+){0,2}"
    r"(?:wrists?|arms?|forearms?|legs?|ankles?|knees?|hips?|shoulders?|collarbone|ribs?|jaw|nose|"
    r"fingers?|thumbs?|toes?|hands?|feet|foot|elbows?|back(?!\s+(?:door|window|gate|garden|seat|bumper))|"
    r"neck|pelvis|skull|cheekbone|spine|face|head|eye)\b"
)
# Alternatives are tried in order, not for the longest: the forms with a body part come first.
INJURY = re.compile(
    rf"\b(?:torn\s+(?:knee\s+)?ligaments?"
    rf"|(?:fractured|broken|broke|sprained|dislocated|bruised|twisted|cracked|torn|tore|strained|injured|"
    rf"hurt|burnt|burned|cut)\s+{_BODY_PART}"
    rf"|(?:hairline\s+)?(?:fractures?|breaks?|sprains?|burns|lacerations?|cuts?|bruising|injury|injuries)"
    rf"\s+(?:to|of|on)\s+{_BODY_PART}"
    rf"|(?:(?:left|right)\s+)?(?:wrist|arm|leg|ankle|knee|hip|shoulder|back|neck|head|spinal|spine|"
    rf"soft tissue|facial|chest)\s+(?:fracture|injury|injuries|pain|sprain|strain)"
    rf"|hairline\s+fractures?|smoke inhalation|internal bleeding|broken bones?|fractures?|whiplash|"
    rf"concussion|sprains?|lacerations?|burns|bruising)\b"
)


def extract(text: str, *, reference_date: date | None = None) -> list[Span]:
    """Every finding in ``text``, sorted by start; see the module docstring for what is found."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text.translate(ASCII_LOWER)
    found = [
        *_dates(text, lowered, reference_date),
        *_amounts(lowered),
        *_policy_numbers(text),
        *_parties(text),
        *_vehicles(text),
        *_properties(text, lowered),
        *_matches("injury", text, lowered, INJURY),
    ]
    kept = [span for kind in KINDS for span in _without_overlaps(s for s in found if s.kind == kind)]
    organisations = [span for span in kept if span.kind == "party"]
    kept = [span for span in kept if not _inside_organisation(span, organisations)]
    return sorted(kept, key=lambda span: (span.start, span.end, KINDS.index(span.kind)))


# str.lower() may lengthen a string ("İ" becomes two characters), which would shift every span after
# it; then only ASCII letters are lowered, a slower way.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _without_overlaps(spans: Iterator[Span]) -> list[Span]:
    """The longest spans first, then the earliest; a span overlapping a kept one is dropped."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, s.start)):
        if all(span.end <= other.start or other.end <= span.start for other in kept):
            kept.append(span)
    return kept


def _inside_organisation(span: Span, parties: list[Span]) -> bool:
    return span.kind in ("vehicle", "property") and any(
        party.start <= span.start and span.end <= party.end for party in parties
    )


def _span(kind: str, value: str, match: re.Match[str], group: int | str = 0) -> Span:
    return Span(kind, value, match.start(group), match.end(group))


def _matches(kind: str, text: str, searched: str, pattern: re.Pattern[str]) -> Iterator[Span]:
    """Spans of ``pattern`` found in ``searched`` (the text or its lower-cased copy), valued as written."""
    for match in pattern.finditer(searched):
        yield Span(kind, text[match.start() : match.end()], match.start(), match.end())


def _dates(text: str, lowered: str, reference_date: date | None) -> Iterator[Span]:
    today = reference_date or date.today()
    for pattern in (ISO_DATE, DAY_MONTH, MONTH_DAY, NUMERIC_DATE):
        for match in pattern.finditer(text):
            found = _calendar_date(match, today)
            if found is not None:
                yield _span("date", found.isoformat(), match)
    if reference_date is not None:
        for match in RELATIVE_DATE.finditer(lowered):
            yield _span("date", _relative_date(match, reference_date).isoformat(), match)


def _calendar_date(match: re.Match[str], today: date) -> date | None:
    month_text, day, year = match["month"], int(match["day"]), match["year"]
    month = int(month_text) if month_text.isdigit() else MONTHS[month_text]
    if year is None:
        return _latest_date(month, day, today)
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    try:
        return date(full_year, month, day)
    except ValueError:
        return None


def _latest_date(month: int, day: int, today: date) -> date | None:
    """The latest month/day not after today; 29 February looks back up to the last leap year."""
    for year in range(today.year, today.year - 8, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def _relative_date(match: re.Match[str], reference_date: date) -> date:
    if match[0] == "yesterday":
        return reference_date - timedelta(days=1)
    if match[0] == "the day before yesterday":
        return reference_date - timedelta(days=2)
    weekday = WEEKDAYS.index(match["weekday"])
    return reference_date - timedelta(days=(reference_date.weekday() - weekday) % 7 or 7)


def _amounts(lowered: str) -> Iterator[Span]:
    for pattern in (AMOUNT_BEFORE, AMOUNT_AFTER):
        for match in pattern.finditer(lowered):
            yield _span("amount", _amount_value(match), match)


def _amount_value(match: re.Match[str]) -> str:
    currency = match["currency"].strip()
    code = CURRENCY_SIGNS.get(currency.upper()) or CURRENCY_WORDS.get(currency) or currency.upper()
    number = Decimal(match["number"].replace(",", ""))
    if match["multiplier"]:
        number *= MULTIPLIERS[match["multiplier"]]
    return f"{number:.2f} {code}"


def _policy_numbers(text: str) -> Iterator[Span]:
    for match in POLICY_CODE.finditer(text):
        yield _span("policy_number", match[0].upper(), match)
    for match in POLICY_AFTER_WORDS.finditer(text):
        if any(character.isdigit() for character in match["code"]):
            yield _span("policy_number", match["code"].upper(), match, "code")


def _parties(text: str) -> Iterator[Span]:
    for pattern in (TITLED_NAME, ROLE_ALONE):
        yield from _matches("party", text, text, pattern)
    for match in NAME_AFTER_ROLE.finditer(text):
        yield _span("party", match["name"], match, "name")
    for match in CAPITALISED_PAIR.finditer(text):
        if match["first"] in FIRST_NAMES and not STREET_TYPE.fullmatch(match["last"]):
            start, end = match.start("first"), match.end("last")
            yield Span("party", text[start:end], start, end)
    yield from _organisations(text)


def _organisations(text: str) -> Iterator[Span]:
    """Organisation names, less the sentence words that the capitalised run picked up in front."""
    for match in ORGANISATION.finditer(text):
        start = match.start()
        for word in WORD_AND_SPACE.finditer(match[0]):
            if word[1] not in NOT_NAMES:
                break
            start = match.start() + word.end()
        if " " in text[start : match.end()]:
            yield Span("party", text[start : match.end()], start, match.end())


def _vehicles(text: str) -> Iterator[Span]:
    for pattern in (YEAR_MAKE_MODEL, MAKE_MODEL, UK_PLATE):
        yield from _matches("vehicle", text, text, pattern)
    for match in PLATE_AFTER_WORDS.finditer(text):
        plate = match["plate"]
        if any(c.isdigit() for c in plate) and any(c.isalpha() for c in plate):
            yield _span("vehicle", plate, match, "plate")


def _properties(text: str, lowered: str) -> Iterator[Span]:
    for pattern in (ADDRESS, FLAT_NUMBER):
        yield from _matches("property", text, text, pattern)
    for pattern in (BUILDING_PARTS, DWELLING):
        yield from _matches("property", text, lowered, pattern)
