"""Display names are pseudonyms: nothing that identifies or impersonates."""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.core.exceptions import ValidationError

MIN_LENGTH = 2
MAX_LENGTH = 40

# Characters that reorder or hide text; stripped before anything else.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]"
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_URL = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(com|org|net|io|me|app|co|uk|de|info|ly)\b)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
# Code points that render as nothing (Unicode's default-ignorable set, plus
# the braille blank): a name made with them can pass for another person's,
# or look empty.
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _invisible(ch: str) -> bool:
    code = ord(ch)
    if any(low <= code <= high for low, high in _IGNORABLE_RANGES):
        return True
    category = unicodedata.category(ch)
    return category in ("Cf", "Co", "Cs", "Cn", "Zl", "Zp") or (
        category == "Zs" and ch != " "
    )


_PUNCTUATION = frozenset(" .'-_")
# Words that would let a name pass for a role, staff or a crisis service.
_RESERVED = (
    "facilitator",
    "cofacilitator",
    "moderator",
    "admin",
    "administrator",
    "staff",
    "hearth",
    "support team",
    "lifeline",
    "samaritans",
    "crisis",
    "helpline",
    "hotline",
    "therapist",
    "doctor",
    "official",
    "system",
)
# Folds the common look-alikes onto plain letters before comparing.
_CONFUSABLES = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "а": "a",  # Cyrillic
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "і": "i",
        "ο": "o",  # Greek
        "α": "a",
        "ε": "e",
    }
)

_ADJECTIVES = (
    "Quiet",
    "Steady",
    "Gentle",
    "Bright",
    "Patient",
    "Kind",
    "Brave",
    "Calm",
    "Warm",
    "Hopeful",
    "Tender",
    "Curious",
    "Open",
    "Grounded",
    "Soft",
)
_NOUNS = (
    "Harbour",
    "Willow",
    "Lantern",
    "River",
    "Meadow",
    "Ember",
    "Heron",
    "Cedar",
    "Pebble",
    "Tide",
    "Sparrow",
    "Fern",
    "Hearthstone",
    "Brook",
)


def clean_display_name(value: str) -> str:
    """Normalise a display name: NFKC, no invisible characters, single spaces."""
    value = unicodedata.normalize("NFKC", value or "")
    value = _INVISIBLE.sub("", value)
    return " ".join(value.split())


def _allowed_char(ch: str) -> bool:
    """Letters and digits of any script, with their combining marks (so
    Devanagari, Bengali or Tamil names work), and a little punctuation."""
    return ch.isalnum() or unicodedata.category(ch)[0] == "M" or ch in _PUNCTUATION


def _folded(value: str) -> str:
    return re.sub(r"[^a-z ]", "", value.lower().translate(_CONFUSABLES)).strip()


def validate_display_name(value: str) -> None:
    """Raise ValidationError with a reason when a name is not a safe pseudonym."""
    name = clean_display_name(value)
    if len(name) < MIN_LENGTH:
        raise ValidationError(
            "Choose a name of at least %(n)d characters.",
            code="too_short",
            params={"n": MIN_LENGTH},
        )
    if len(name) > MAX_LENGTH:
        raise ValidationError(
            "Keep the name to %(n)d characters or fewer.",
            code="too_long",
            params={"n": MAX_LENGTH},
        )
    if "\x00" in name or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValidationError("The name contains control characters.", code="control")
    if _EMAIL.search(name):
        raise ValidationError(
            "Please don't use an email address as your name; a pseudonym is safer.",
            code="email",
        )
    if _URL.search(name):
        raise ValidationError("Links can't be part of a display name.", code="url")
    if len(_DIGITS.findall(name)) >= 6:
        raise ValidationError(
            "That looks like a phone number; please choose a pseudonym instead.",
            code="phone",
        )
    if any(_invisible(ch) for ch in name):
        raise ValidationError(
            "The name contains invisible characters.", code="invisible"
        )
    if not all(_allowed_char(ch) for ch in name):
        raise ValidationError(
            "Use letters, numbers, spaces, dots, apostrophes or hyphens.",
            code="characters",
        )
    folded = _folded(name)
    squashed = folded.replace(" ", "")
    for word in _RESERVED:
        if word.replace(" ", "") in squashed:
            raise ValidationError(
                "Names can't suggest a role or a service (such as “%(word)s”); "
                "roles are shown by Hearth itself.",
                code="reserved",
                params={"word": word},
            )


def suggest_pseudonym() -> str:
    """A friendly random pseudonym, offered when someone's choice is refused."""
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)}"
