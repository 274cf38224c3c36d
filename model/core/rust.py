"""Rust string semantics that Python spells differently: the one place the model defines them.

Both validators (tenant identifiers, domain events) must agree with Rust on:

- *trim*: Rust's `str::trim` strips exactly the Unicode ``White_Space`` characters
  (`char::is_whitespace`); Python's `str.strip()` also strips U+001C..U+001F. `rust_trim`.
- *length*: Rust's `str::len` counts UTF-8 bytes. `utf8_len`.
- *lowercase*: Rust's `str::to_lowercase` at a newer Unicode version than Python 3.11's.
  `rust_to_lowercase`.
- *alphanumeric*: Rust's `char::is_alphanumeric` (Unicode Alphabetic or Numeric), not
  `str.isalnum()`. `is_rust_alphanumeric`.

Numbers, where Rust's fixed-width integers and float formatting differ from Python's:

- *u32 / usize arithmetic*: `fetch_add` / `fetch_sub` on atomics and release-mode `+` / `-` wrap
  modulo 2**32 / 2**64; Python ints never do. `u32_wrapping_add`, `usize_wrapping_sub`, ...
- *f64 as usize*: truncation toward zero, NaN and negatives to 0, saturating at `usize::MAX`.
  `usize_from_f64`.
- *f64 Display*: shortest round-trip digits, never an exponent, no trailing ".0".
  `rust_f64_display`.

Pure functions, no state.
"""

from __future__ import annotations

import bisect
import math
import unicodedata
from decimal import Decimal
from typing import Final

RUST_UNICODE_VERSION: Final = "17.0.0"
"""Unicode version of the case mapping reproduced here (`char::UNICODE_VERSION` of rustc 1.95)."""

# The Unicode White_Space property (PropList.txt; unchanged since Unicode 6.3): exactly what
# Rust's `char::is_whitespace` and therefore `str::trim` use. Not Python's `str.isspace()`.
WHITE_SPACE: Final[frozenset[str]] = frozenset(
    [chr(cp) for cp in range(0x0009, 0x000D + 1)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(cp) for cp in range(0x2000, 0x200A + 1)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)
_WHITE_SPACE_CHARS: Final = "".join(sorted(WHITE_SPACE))

# Simple lowercase mappings that Unicode 16.0/17.0 added and Python 3.11 (Unicode 14.0) lacks.
# Generated from rustc 1.95 (`char::to_lowercase` over all scalar values, diffed with `str.lower`).
_LOWERCASE_ADDED_AFTER_UNICODE_14: Final[dict[int, int]] = {
    0x1C89: 0x1C8A,  # CYRILLIC CAPITAL LETTER TJE
    0xA7CB: 0x0264,  # LATIN CAPITAL LETTER RAMS HORN (3 bytes -> 2)
    0xA7CC: 0xA7CD,
    0xA7CE: 0xA7CF,
    0xA7D2: 0xA7D3,
    0xA7D4: 0xA7D5,
    0xA7DA: 0xA7DB,
    0xA7DC: 0x019B,  # LATIN CAPITAL LETTER LAMBDA WITH STROKE (3 bytes -> 2)
    **{cp: cp + 0x20 for cp in range(0x10D50, 0x10D65 + 1)},  # Garay capitals
    **{cp: cp + 0x1B for cp in range(0x16EA0, 0x16EB8 + 1)},  # Beria Erfe capitals
}


def rust_trim(text: str) -> str:
    """Rust `str::trim`: strip leading/trailing Unicode White_Space (see `WHITE_SPACE`)."""
    return text.strip(_WHITE_SPACE_CHARS)


def rust_to_lowercase(text: str) -> str:
    """Rust `str::to_lowercase` (full mapping, final-sigma rule) at `RUST_UNICODE_VERSION`."""
    return text.lower().translate(_LOWERCASE_ADDED_AFTER_UNICODE_14)


def utf8_len(text: str) -> int:
    """Length in UTF-8 bytes, as Rust's `str::len`."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def is_rust_alphanumeric(char: str) -> bool:
    """Rust's `char::is_alphanumeric` for one character: Unicode ``Alphabetic`` or ``Numeric``.

    Alphabetic = general categories Lu, Ll, Lt, Lm, Lo, Nl plus the ``Other_Alphabetic`` property
    (mostly combining vowel signs, e.g. U+0345, U+093E DEVANAGARI VOWEL SIGN AA, U+05B0 HEBREW
    POINT SHEVA); Numeric (Rust `is_numeric`) = categories Nd, Nl, No (so '²' and '½' pass).
    Categories come from Python's `unicodedata` (Unicode 14.0 in Python 3.11); the table below
    adds everything else rustc 1.95 accepts (Other_Alphabetic, and the letters and digits assigned
    after Unicode 14.0, which unicodedata does not know), so the result is exactly Rust's at
    `RUST_UNICODE_VERSION`. A combining mark that is not Other_Alphabetic (U+0301 COMBINING ACUTE
    ACCENT) is *not* alphanumeric, so a decomposed 'é' (e + U+0301) fails where the composed one
    passes. '_' and '-' are not alphanumeric.
    """
    if char.isascii():
        return char.isalnum()
    category = unicodedata.category(char)
    if category[0] == "L" or category in ("Nd", "Nl", "No"):
        return True
    code = ord(char)
    index = bisect.bisect_right(_ALPHANUMERIC_EXTRA_STARTS, code) - 1
    return index >= 0 and code <= _ALPHANUMERIC_EXTRA_ENDS[index]


# --------------------------------------------------------------------------------------------
# Numbers: fixed-width integers (the model targets 64-bit Rust, so usize is u64) and f64 text.
# --------------------------------------------------------------------------------------------

U32_MAX: Final = 2**32 - 1
USIZE_MAX: Final = 2**64 - 1


def u32_wrapping_add(value: int, amount: int = 1) -> int:
    """`u32::wrapping_add` (and `AtomicU32::fetch_add`'s stored result): modulo 2**32."""
    return (value + amount) & U32_MAX


def u32_wrapping_sub(value: int, amount: int = 1) -> int:
    """`u32::wrapping_sub` (and `AtomicU32::fetch_sub`'s stored result): 0 - 1 is u32::MAX."""
    return (value - amount) & U32_MAX


def usize_wrapping_add(value: int, amount: int = 1) -> int:
    """`usize::wrapping_add` on a 64-bit target: modulo 2**64."""
    return (value + amount) & USIZE_MAX


def usize_wrapping_sub(value: int, amount: int = 1) -> int:
    """`usize::wrapping_sub` on a 64-bit target (`AtomicUsize::fetch_sub` at 0 gives usize::MAX)."""
    return (value - amount) & USIZE_MAX


def usize_from_f64(value: float) -> int:
    """Rust's ``f64 as usize``: truncate toward zero, NaN and negatives to 0, saturate at max."""
    if math.isnan(value) or value <= 0:
        return 0
    if value >= USIZE_MAX:
        return USIZE_MAX
    return int(value)


def rust_f64_display(value: float) -> str:
    """Rust's `Display` for f64: shortest round-trip digits, never an exponent, no trailing
    ".0" (so 1.0 prints "1" and 2/3 prints "0.6666666666666666"); "NaN", "inf", "-inf"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --------------------------------------------------------------------------------------------
# Every code point that rustc 1.95's `char::is_alphanumeric` (Unicode 17.0) accepts but that is not
# in general category L*, Nd, Nl or No according to Python 3.11's unicodedata (Unicode 14.0), as
# inclusive (first, last) pairs: the Other_Alphabetic marks, plus the letters and digits assigned
# after Unicode 14.0 (CJK Extensions I and J, Kawi, Garay, ...), which unicodedata reports as
# unassigned. Generated by running `char::is_alphanumeric` over all scalar values with rustc 1.95
# and removing what the category rule already accepts; regenerate the same way when the Rust or
# the Python Unicode version moves on. (The earlier table was Other_Alphabetic from a Unicode newer
# than Rust's and lacked the post-14.0 letters: 14 059 code points disagreed with rustc 1.95.)
# --------------------------------------------------------------------------------------------

_ALPHANUMERIC_BEYOND_CATEGORIES = (
    0x0345, 0x0345, 0x0363, 0x036F, 0x05B0, 0x05BD, 0x05BF, 0x05BF, 0x05C1, 0x05C2, 0x05C4, 0x05C5,
    0x05C7, 0x05C7, 0x0610, 0x061A, 0x064B, 0x0657, 0x0659, 0x065F, 0x0670, 0x0670, 0x06D6, 0x06DC,
    0x06E1, 0x06E4, 0x06E7, 0x06E8, 0x06ED, 0x06ED, 0x0711, 0x0711, 0x0730, 0x073F, 0x07A6, 0x07B0,
    0x0816, 0x0817, 0x081B, 0x0823, 0x0825, 0x0827, 0x0829, 0x082C, 0x088F, 0x088F, 0x0897, 0x0897,
    0x08D4, 0x08DF, 0x08E3, 0x08E9, 0x08F0, 0x0903, 0x093A, 0x093B, 0x093E, 0x094C, 0x094E, 0x094F,
    0x0955, 0x0957, 0x0962, 0x0963, 0x0981, 0x0983, 0x09BE, 0x09C4, 0x09C7, 0x09C8, 0x09CB, 0x09CC,
    0x09D7, 0x09D7, 0x09E2, 0x09E3, 0x0A01, 0x0A03, 0x0A3E, 0x0A42, 0x0A47, 0x0A48, 0x0A4B, 0x0A4C,
    0x0A51, 0x0A51, 0x0A70, 0x0A71, 0x0A75, 0x0A75, 0x0A81, 0x0A83, 0x0ABE, 0x0AC5, 0x0AC7, 0x0AC9,
    0x0ACB, 0x0ACC, 0x0AE2, 0x0AE3, 0x0AFA, 0x0AFC, 0x0B01, 0x0B03, 0x0B3E, 0x0B44, 0x0B47, 0x0B48,
    0x0B4B, 0x0B4C, 0x0B56, 0x0B57, 0x0B62, 0x0B63, 0x0B82, 0x0B82, 0x0BBE, 0x0BC2, 0x0BC6, 0x0BC8,
    0x0BCA, 0x0BCC, 0x0BD7, 0x0BD7, 0x0C00, 0x0C04, 0x0C3E, 0x0C44, 0x0C46, 0x0C48, 0x0C4A, 0x0C4C,
    0x0C55, 0x0C56, 0x0C5C, 0x0C5C, 0x0C62, 0x0C63, 0x0C81, 0x0C83, 0x0CBE, 0x0CC4, 0x0CC6, 0x0CC8,
    0x0CCA, 0x0CCC, 0x0CD5, 0x0CD6, 0x0CDC, 0x0CDC, 0x0CE2, 0x0CE3, 0x0CF3, 0x0CF3, 0x0D00, 0x0D03,
    0x0D3E, 0x0D44, 0x0D46, 0x0D48, 0x0D4A, 0x0D4C, 0x0D57, 0x0D57, 0x0D62, 0x0D63, 0x0D81, 0x0D83,
    0x0DCF, 0x0DD4, 0x0DD6, 0x0DD6, 0x0DD8, 0x0DDF, 0x0DF2, 0x0DF3, 0x0E31, 0x0E31, 0x0E34, 0x0E3A,
    0x0E4D, 0x0E4D, 0x0EB1, 0x0EB1, 0x0EB4, 0x0EB9, 0x0EBB, 0x0EBC, 0x0ECD, 0x0ECD, 0x0F71, 0x0F83,
    0x0F8D, 0x0F97, 0x0F99, 0x0FBC, 0x102B, 0x1036, 0x1038, 0x1038, 0x103B, 0x103E, 0x1056, 0x1059,
    0x105E, 0x1060, 0x1062, 0x1064, 0x1067, 0x106D, 0x1071, 0x1074, 0x1082, 0x108D, 0x108F, 0x108F,
    0x109A, 0x109D, 0x1712, 0x1713, 0x1732, 0x1733, 0x1752, 0x1753, 0x1772, 0x1773, 0x17B6, 0x17C8,
    0x1885, 0x1886, 0x18A9, 0x18A9, 0x1920, 0x192B, 0x1930, 0x1938, 0x1A17, 0x1A1B, 0x1A55, 0x1A5E,
    0x1A61, 0x1A74, 0x1ABF, 0x1AC0, 0x1ACC, 0x1ACE, 0x1B00, 0x1B04, 0x1B35, 0x1B43, 0x1B80, 0x1B82,
    0x1BA1, 0x1BA9, 0x1BAC, 0x1BAD, 0x1BE7, 0x1BF1, 0x1C24, 0x1C36, 0x1C89, 0x1C8A, 0x1DD3, 0x1DF4,
    0x24B6, 0x24E9, 0x2DE0, 0x2DFF, 0xA674, 0xA67B, 0xA69E, 0xA69F, 0xA7CB, 0xA7CF, 0xA7D2, 0xA7D2,
    0xA7D4, 0xA7D4, 0xA7DA, 0xA7DC, 0xA7F1, 0xA7F1, 0xA802, 0xA802, 0xA80B, 0xA80B, 0xA823, 0xA827,
    0xA880, 0xA881, 0xA8B4, 0xA8C3, 0xA8C5, 0xA8C5, 0xA8FF, 0xA8FF, 0xA926, 0xA92A, 0xA947, 0xA952,
    0xA980, 0xA983, 0xA9B4, 0xA9BF, 0xA9E5, 0xA9E5, 0xAA29, 0xAA36, 0xAA43, 0xAA43, 0xAA4C, 0xAA4D,
    0xAA7B, 0xAA7D, 0xAAB0, 0xAAB0, 0xAAB2, 0xAAB4, 0xAAB7, 0xAAB8, 0xAABE, 0xAABE, 0xAAEB, 0xAAEF,
    0xAAF5, 0xAAF5, 0xABE3, 0xABEA, 0xFB1E, 0xFB1E, 0x10376, 0x1037A, 0x105C0, 0x105F3, 0x10940,
    0x10959, 0x10A01, 0x10A03, 0x10A05, 0x10A06, 0x10A0C, 0x10A0F, 0x10D24, 0x10D27, 0x10D40,
    0x10D65, 0x10D69, 0x10D69, 0x10D6F, 0x10D85, 0x10EAB, 0x10EAC, 0x10EC2, 0x10EC7, 0x10EFA,
    0x10EFC, 0x11000, 0x11002, 0x11038, 0x11045, 0x11073, 0x11074, 0x11080, 0x11082, 0x110B0,
    0x110B8, 0x110C2, 0x110C2, 0x11100, 0x11102, 0x11127, 0x11132, 0x11145, 0x11146, 0x11180,
    0x11182, 0x111B3, 0x111BF, 0x111CE, 0x111CF, 0x1122C, 0x11234, 0x11237, 0x11237, 0x1123E,
    0x11241, 0x112DF, 0x112E8, 0x11300, 0x11303, 0x1133E, 0x11344, 0x11347, 0x11348, 0x1134B,
    0x1134C, 0x11357, 0x11357, 0x11362, 0x11363, 0x11380, 0x11389, 0x1138B, 0x1138B, 0x1138E,
    0x1138E, 0x11390, 0x113B5, 0x113B7, 0x113C0, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7,
    0x113CA, 0x113CC, 0x113CD, 0x113D1, 0x113D1, 0x113D3, 0x113D3, 0x11435, 0x11441, 0x11443,
    0x11445, 0x114B0, 0x114C1, 0x115AF, 0x115B5, 0x115B8, 0x115BE, 0x115DC, 0x115DD, 0x11630,
    0x1163E, 0x11640, 0x11640, 0x116AB, 0x116B5, 0x116D0, 0x116E3, 0x1171D, 0x1172A, 0x1182C,
    0x11838, 0x11930, 0x11935, 0x11937, 0x11938, 0x1193B, 0x1193C, 0x11940, 0x11940, 0x11942,
    0x11942, 0x119D1, 0x119D7, 0x119DA, 0x119DF, 0x119E4, 0x119E4, 0x11A01, 0x11A0A, 0x11A35,
    0x11A39, 0x11A3B, 0x11A3E, 0x11A51, 0x11A5B, 0x11A8A, 0x11A97, 0x11B60, 0x11B67, 0x11BC0,
    0x11BE0, 0x11BF0, 0x11BF9, 0x11C2F, 0x11C36, 0x11C38, 0x11C3E, 0x11C92, 0x11CA7, 0x11CA9,
    0x11CB6, 0x11D31, 0x11D36, 0x11D3A, 0x11D3A, 0x11D3C, 0x11D3D, 0x11D3F, 0x11D41, 0x11D43,
    0x11D43, 0x11D47, 0x11D47, 0x11D8A, 0x11D8E, 0x11D90, 0x11D91, 0x11D93, 0x11D96, 0x11DB0,
    0x11DDB, 0x11DE0, 0x11DE9, 0x11EF3, 0x11EF6, 0x11F00, 0x11F10, 0x11F12, 0x11F3A, 0x11F3E,
    0x11F40, 0x11F50, 0x11F59, 0x1342F, 0x1342F, 0x13441, 0x13446, 0x13460, 0x143FA, 0x16100,
    0x1612E, 0x16130, 0x16139, 0x16D40, 0x16D6C, 0x16D70, 0x16D79, 0x16EA0, 0x16EB8, 0x16EBB,
    0x16ED3, 0x16F4F, 0x16F4F, 0x16F51, 0x16F87, 0x16F8F, 0x16F92, 0x16FF0, 0x16FF6, 0x187F8,
    0x187FF, 0x18CFF, 0x18CFF, 0x18D09, 0x18D1E, 0x18D80, 0x18DF2, 0x1B132, 0x1B132, 0x1B155,
    0x1B155, 0x1BC9E, 0x1BC9E, 0x1CCF0, 0x1CCF9, 0x1D2C0, 0x1D2D3, 0x1DF25, 0x1DF2A, 0x1E000,
    0x1E006, 0x1E008, 0x1E018, 0x1E01B, 0x1E021, 0x1E023, 0x1E024, 0x1E026, 0x1E02A, 0x1E030,
    0x1E06D, 0x1E08F, 0x1E08F, 0x1E4D0, 0x1E4EB, 0x1E4F0, 0x1E4F9, 0x1E5D0, 0x1E5ED, 0x1E5F0,
    0x1E5FA, 0x1E6C0, 0x1E6DE, 0x1E6E0, 0x1E6F5, 0x1E6FE, 0x1E6FF, 0x1E947, 0x1E947, 0x1F130,
    0x1F149, 0x1F150, 0x1F169, 0x1F170, 0x1F189, 0x2B739, 0x2B73F, 0x2CEA2, 0x2CEAD, 0x2EBF0,
    0x2EE5D, 0x31350, 0x33479,
)
_ALPHANUMERIC_EXTRA_STARTS = _ALPHANUMERIC_BEYOND_CATEGORIES[0::2]
_ALPHANUMERIC_EXTRA_ENDS = _ALPHANUMERIC_BEYOND_CATEGORIES[1::2]
