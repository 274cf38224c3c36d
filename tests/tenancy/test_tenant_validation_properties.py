"""Properties of tenant identifier validation, checked on generated Unicode strings.

The centrepiece is `Oracle`: an independent re-reading of spec section 5, written differently on
purpose (White_Space parsed from the PropList.txt lines, trimming and matching by explicit index
loops, UTF-8 length from code point ranges, hostname labels scanned character by character). It
must agree with `rustok_sim.model.tenancy.validation` on accept/reject, on the error kind, and on the
normalised value. The generators aim at where ports go wrong: every White_Space character plus
the ones only Python strips, case mappings that change length or land in ASCII (İ, ẞ, Σ, the
Kelvin sign, ﬁ, the Unicode 16 capitals), hyphens, dots, digits, and lengths around 63/64/65 and
253/254.

Also here: the four Rust proptests of `validation_proptest.rs`, as Hypothesis properties.
"""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.model.tenancy.validation import (
    RESERVED_SLUGS,
    SLUG_PATTERN,
    WHITE_SPACE,
    IdentifierKind,
    TenantIdentifierValidator,
    TenantValidationError,
    classify_identifier,
)

V = TenantIdentifierValidator

# --- The oracle -------------------------------------------------------------------------------

# Verbatim data lines of PropList.txt for the White_Space property.
PROPLIST_WHITE_SPACE = """
0009..000D    ; White_Space # Cc   [5] <control-0009>..<control-000D>
0020          ; White_Space # Zs       SPACE
0085          ; White_Space # Cc       <control-0085>
00A0          ; White_Space # Zs       NO-BREAK SPACE
1680          ; White_Space # Zs       OGHAM SPACE MARK
2000..200A    ; White_Space # Zs  [11] EN QUAD..HAIR SPACE
2028          ; White_Space # Zl       LINE SEPARATOR
2029          ; White_Space # Zp       PARAGRAPH SEPARATOR
202F          ; White_Space # Zs       NARROW NO-BREAK SPACE
205F          ; White_Space # Zs       MEDIUM MATHEMATICAL SPACE
3000          ; White_Space # Zs       IDEOGRAPHIC SPACE
"""


def _parse_ranges(text: str) -> list[tuple[int, int]]:
    ranges = []
    for line in text.strip().splitlines():
        field = line.split(";")[0].strip()
        lo, _, hi = field.partition("..")
        ranges.append((int(lo, 16), int(hi or lo, 16)))
    return ranges


# Capitals whose lowercase mapping arrived in Unicode 16/17 (Rust has them, Python 3.11 not):
# (first, last, offset to the lowercase letter).
LATE_CAPITALS = [
    (0x1C89, 0x1C89, 0x1C8A - 0x1C89),
    (0xA7CB, 0xA7CB, 0x0264 - 0xA7CB),
    (0xA7CC, 0xA7CC, 1), (0xA7CE, 0xA7CE, 1), (0xA7D2, 0xA7D2, 1), (0xA7D4, 0xA7D4, 1),
    (0xA7DA, 0xA7DA, 1),
    (0xA7DC, 0xA7DC, 0x019B - 0xA7DC),
    (0x10D50, 0x10D65, 0x20),
    (0x16EA0, 0x16EB8, 0x1B),
]

ORACLE_RESERVED = set(
    "api admin www app cdn assets static health metrics docs swagger mail smtp pop imap ftp "
    "sftp ssh vpn auth login logout register signup signin dev test staging prod production "
    "localhost db database cache redis postgres root system internal private public".split()
)
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"


class Oracle:
    """Spec section 5, re-derived. Returns ("ok", value) or ("err", variant name)."""

    WS_RANGES = _parse_ranges(PROPLIST_WHITE_SPACE)

    @classmethod
    def is_ws(cls, ch: str) -> bool:
        return any(lo <= ord(ch) <= hi for lo, hi in cls.WS_RANGES)

    @classmethod
    def trim(cls, s: str) -> str:
        start, end = 0, len(s)
        while start < end and cls.is_ws(s[start]):
            start += 1
        while end > start and cls.is_ws(s[end - 1]):
            end -= 1
        return s[start:end]

    @staticmethod
    def lower(s: str) -> str:
        # Per character: differs from whole-string lowering only by the final-sigma rule, which
        # picks between two 2-byte non-ASCII letters and so cannot change any verdict or kind.
        out = []
        for ch in s:
            cp = ord(ch)
            for lo, hi, delta in LATE_CAPITALS:
                if lo <= cp <= hi:
                    out.append(chr(cp + delta))
                    break
            else:
                out.append(ch.lower())
        return "".join(out)

    @staticmethod
    def utf8_len(s: str) -> int:
        total = 0
        for ch in s:
            cp = ord(ch)
            total += 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
        return total

    @staticmethod
    def is_uuid_form(s: str) -> bool:
        if len(s) != 36:
            return False
        for i, ch in enumerate(s):
            if i in (8, 13, 18, 23):
                if ch != "-":
                    return False
            elif ch not in HEX:
                return False
        return True

    @classmethod
    def slug(cls, raw: str):
        s = cls.lower(cls.trim(raw))
        if s == "":
            return ("err", "Empty")
        if cls.utf8_len(s) > 64:
            return ("err", "TooLong")
        if len(s) > 63 or s[0] not in LOWER_ALNUM:
            return ("err", "InvalidCharacters")
        for ch in s[1:]:
            if ch not in LOWER_ALNUM and ch != "-":
                return ("err", "InvalidCharacters")
        if s in ORACLE_RESERVED:
            return ("err", "Reserved")
        return ("ok", s)

    @classmethod
    def uuid(cls, raw: str):
        s = cls.lower(cls.trim(raw))
        return ("ok", s) if cls.is_uuid_form(s) else ("err", "InvalidUuid")

    @classmethod
    def host(cls, raw: str):
        s = cls.lower(cls.trim(raw))
        if s == "":
            return ("err", "Empty")
        if cls.utf8_len(s) > 253:
            return ("err", "HostnameTooLong")
        for ch in s:
            if ch not in LOWER_ALNUM and ch not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-":
                return ("err", "InvalidHostname")
        label = ""
        for ch in s + ".":  # a sentinel dot closes the last label
            if ch != ".":
                label += ch
                continue
            if label == "" or len(label) > 63 or label[0] == "-" or label[-1] == "-":
                return ("err", "InvalidHostname")
            label = ""
        return ("ok", s)

    @classmethod
    def any(cls, raw: str):
        t = cls.trim(raw)
        if cls.is_uuid_form(t):
            return cls.uuid(t)
        if "." in t:
            return cls.host(t)
        return cls.slug(t)


def outcome(validator, raw):
    try:
        return ("ok", str(validator(raw)))
    except TenantValidationError as exc:
        return ("err", exc.kind.value)


# --- Generators -------------------------------------------------------------------------------

RUST_WS = sorted(chr(cp) for lo, hi in Oracle.WS_RANGES for cp in range(lo, hi + 1))
PYTHON_ONLY_WS = ["\x1c", "\x1d", "\x1e", "\x1f"]  # str.isspace() but not White_Space
LOOKALIKE_WS = ["\u180e", "\u200b", "\u2060", "\ufeff"]  # neither
CASE_EDGES = [
    "\u0130", "\u1e9e", "\u00df", "\u03a3", "\u03c3", "\u03c2", "\u212a", "\u212b", "\ufb01",
    "\u0131", "\u2126", "\u01c5", "\u0149", "\u0390", "\ua7cb", "\ua7dc", "\U00010d50",
    "\u1c89", "\U00016ea0",
]
# Lowercasing changes their UTF-8 length: İ 2->3 bytes; Kelvin 3->1; Ω, Å, ẞ and the Unicode 16
# capitals U+A7CB, U+A7DC 3->2.
LENGTH_CHANGING = ["\u0130", "\u212a", "\u2126", "\u212b", "\u1e9e", "\ua7cb", "\ua7dc"]
SLUGGY = list("abkxyz09-") + list("ABKXYZ")
PUNCT = list("._@:/\\' ")

ws_char = st.sampled_from(RUST_WS + PYTHON_ONLY_WS + LOOKALIKE_WS)
edge_char = st.one_of(
    st.sampled_from(SLUGGY + SLUGGY + CASE_EDGES + PUNCT),
    ws_char,
    st.characters(exclude_categories=("Cs",)),
)
padding = st.text(ws_char, max_size=3)


def padded(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda pre, mid, post: pre + mid + post, padding, core, padding)


def text_of_length(alphabet: st.SearchStrategy[str], lengths: list[int]) -> st.SearchStrategy[str]:
    return st.sampled_from(lengths).flatmap(
        lambda n: st.text(alphabet, min_size=n, max_size=n)
    )


def mutate(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Replace one character of `base` (maybe none) by an edge character."""

    def apply(s: str, pos: int, ch: str, do: bool) -> str:
        if not s or not do:
            return s
        i = pos % len(s)
        return s[:i] + ch + s[i + 1:]

    return st.builds(apply, base, st.integers(0, 300), edge_char, st.booleans())


slug_alphabet = st.sampled_from(list("abz09-") + ["\u212a", "\u0130", "A"])
slug_boundary = text_of_length(slug_alphabet, [1, 2, 21, 22, 62, 63, 64, 65, 66])

ALNUM_EDGES = list("abz09") + ["\u212a"]  # the Kelvin sign lowercases to ASCII 'k'


@st.composite
def label(draw, length: int) -> str:
    """A hostname label of `length` chars; hyphens only inside, so its length is what counts."""
    if length == 0:
        return ""
    ends = st.sampled_from(ALNUM_EDGES)
    if length == 1:
        return draw(ends)
    middle = draw(st.text(st.sampled_from(ALNUM_EDGES + ["-"]), min_size=length - 2,
                          max_size=length - 2))
    return draw(ends) + middle + draw(ends)


def host_of(label_lengths: st.SearchStrategy[list[int]]) -> st.SearchStrategy[str]:
    return label_lengths.flatmap(lambda ns: st.tuples(*(label(n) for n in ns))).map(".".join)


host_boundary = host_of(  # 3 x 63 plus one label of 60..64: 252..256 bytes
    st.integers(60, 64).map(lambda n: [63, 63, 63, n])
)
label_boundary = host_of(st.integers(62, 65).map(lambda n: [n, 3]))
host_like = host_of(st.lists(st.sampled_from([0, 1, 2, 5, 62, 63, 64]), min_size=1, max_size=4))


def _repeat_to(ch: str, target_bytes: int, nudge: int) -> str:
    per_char = Oracle.utf8_len(Oracle.lower(ch))
    return ch * max(1, target_bytes // per_char + nudge)


# One character repeated until its *lowercased* UTF-8 length is near a limit: catches a length
# taken before lowercasing, in chars, or with the wrong case tables (İ grows, Kelvin and the
# Unicode 16 capitals shrink).
repeated_edge = st.builds(
    _repeat_to,
    st.sampled_from(LENGTH_CHANGING + ["a", "A", "-", ".", "\u03a3", "\ufb01"]),
    st.sampled_from([63, 64, 65, 66, 252, 253, 254, 255]),
    st.integers(-1, 1),
)

uuid_like = st.builds(
    lambda u, upper: str(u).upper() if upper else str(u), st.uuids(), st.booleans()
)

boundary_identifiers = st.one_of(
    repeated_edge, padded(slug_boundary), host_boundary, label_boundary
)

identifiers = st.one_of(
    st.text(edge_char, max_size=80),
    repeated_edge,
    padded(mutate(slug_boundary)),
    padded(mutate(host_boundary)),
    padded(mutate(host_like)),
    padded(mutate(uuid_like)),
    padded(st.sampled_from(sorted(RESERVED_SLUGS)).map(str.upper)),
)

# --- The oracle agrees ------------------------------------------------------------------------


@given(identifiers)
def test_validate_slug_agrees_with_the_oracle(raw):
    assert outcome(V.validate_slug, raw) == Oracle.slug(raw)


@given(identifiers)
def test_validate_host_agrees_with_the_oracle(raw):
    assert outcome(V.validate_host, raw) == Oracle.host(raw)


@given(identifiers)
def test_validate_uuid_agrees_with_the_oracle(raw):
    assert outcome(V.validate_uuid, raw) == Oracle.uuid(raw)


@given(identifiers)
def test_validate_any_agrees_with_the_oracle(raw):
    assert outcome(V.validate_any, raw) == Oracle.any(raw)


@given(boundary_identifiers)
def test_length_boundaries_agree_with_the_oracle(raw):
    assert outcome(V.validate_slug, raw) == Oracle.slug(raw)
    assert outcome(V.validate_host, raw) == Oracle.host(raw)
    assert outcome(V.validate_any, raw) == Oracle.any(raw)


def test_every_length_changing_char_at_every_limit_agrees_with_the_oracle():
    # The repeated-character domain is small enough to sweep exhaustively.
    for ch in LENGTH_CHANGING:
        for target in (63, 64, 65, 66, 252, 253, 254, 255):
            for nudge in (-1, 0, 1):
                raw = _repeat_to(ch, target, nudge)
                assert outcome(V.validate_slug, raw) == Oracle.slug(raw), ascii(raw)
                assert outcome(V.validate_host, raw) == Oracle.host(raw), ascii(raw)


def test_oracle_white_space_table_matches_the_module():
    assert set(RUST_WS) == WHITE_SPACE
    assert all(ch.isspace() for ch in PYTHON_ONLY_WS) and not set(PYTHON_ONLY_WS) & WHITE_SPACE


# --- Normalisation ----------------------------------------------------------------------------


@given(identifiers)
def test_slug_normalisation_is_idempotent(raw):
    try:
        once = V.validate_slug(raw)
    except TenantValidationError:
        return
    assert V.validate_slug(once) == once


@given(identifiers)
def test_host_normalisation_is_idempotent(raw):
    try:
        once = V.validate_host(raw)
    except TenantValidationError:
        return
    assert V.validate_host(once) == once


@given(identifiers)
def test_every_accepted_slug_matches_the_pattern_and_is_not_reserved(raw):
    try:
        slug = V.validate_slug(raw)
    except TenantValidationError:
        return
    assert SLUG_PATTERN.fullmatch(slug) and slug not in RESERVED_SLUGS
    assert slug.isascii() and len(slug) <= 63


@given(padding, identifiers, padding)
def test_white_space_padding_never_changes_the_outcome(pre, raw, post):
    pre = "".join(ch for ch in pre if ch in WHITE_SPACE)
    post = "".join(ch for ch in post if ch in WHITE_SPACE)
    for fn in (V.validate_slug, V.validate_uuid, V.validate_host, V.validate_any):
        assert outcome(fn, pre + raw + post) == outcome(fn, raw)


@given(identifiers)
def test_validate_any_is_one_of_the_three_validators(raw):
    got = outcome(V.validate_any, raw)
    assert got in (
        outcome(V.validate_uuid, raw), outcome(V.validate_host, raw), outcome(V.validate_slug, raw)
    )


@given(st.uuids())
def test_validate_any_gives_the_same_string_for_upper_and_lower_uuids(u):
    assert V.validate_any(str(u).upper()) == V.validate_any(str(u)) == str(u)


@given(identifiers)
def test_classify_identifier_is_uuid_first_then_slug(raw):
    uuid_outcome, slug_outcome = outcome(V.validate_uuid, raw), outcome(V.validate_slug, raw)
    try:
        got = classify_identifier(raw)
    except TenantValidationError as exc:
        assert uuid_outcome[0] == "err" and slug_outcome == ("err", exc.kind.value)
        return
    if uuid_outcome[0] == "ok":
        assert got.kind is IdentifierKind.UUID
        assert got.value == str(got.uuid) == uuid_outcome[1]
    else:
        assert (got.kind, got.value, got.uuid.int) == (IdentifierKind.SLUG, slug_outcome[1], 0)


# --- Rust proptests (validation_proptest.rs) --------------------------------------------------


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True))
def test_proptest_pattern_slugs_are_ok_or_reserved(slug):
    try:
        assert V.validate_slug(slug) == slug
    except TenantValidationError as exc:
        assert exc.kind == "Reserved" and exc.value == slug


def test_proptest_empty_slug_is_empty():
    assert outcome(V.validate_slug, "") == ("err", "Empty")


@given(st.from_regex(r"[A-Z][A-Z0-9-]{0,20}", fullmatch=True))
def test_proptest_uppercase_slugs_lowercase_when_ok(raw):
    try:
        assert V.validate_slug(raw) == raw.lower()
    except TenantValidationError as exc:
        assert exc.kind == "Reserved"


@given(st.binary(min_size=16, max_size=16).filter(any))
def test_proptest_random_non_nil_uuids_are_ok(raw_bytes):
    u = uuid.UUID(bytes=raw_bytes)
    assert V.validate_uuid(str(u)) == u
