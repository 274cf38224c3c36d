"""The tenant identifier suite: a property suite, differential against `TenantIdentifierValidator`.

Every step hands one raw identifier to one of the four validators (``validate_slug``,
``validate_uuid``, ``validate_host``, ``validate_any``) on the target and on the reference and
compares the outcome: the same normalised value (a UUID compared by its hyphenated text, so a
target may return either), or a `TenantValidationError` of the same kind and Display text (the
text of ``Reserved`` names the slug).

The inputs sit where implementations of spec §5 differ: slugs of 62 to 66 bytes, in ASCII and in
2-, 3- and 4-byte characters; characters whose lowercase changes the byte length (İ grows, the
Kelvin sign K shrinks to ASCII k); Rust's White_Space around a value against the U+001C..U+001F
that only Python's ``strip()`` removes; leading, trailing and doubled hyphens; hosts of 253 and 254
bytes, labels of 63 and 64, empty labels, ports, underscores and IPv4 literals; UUIDs hyphenated
in upper, lower and mixed case, and in the simple, braced and urn forms the validator refuses;
and any text at all. ``reserved_slugs`` sends all 41 reserved slugs (respelled in case and
whitespace), and their near misses, through ``validate_slug`` and ``validate_any``.

"Sometimes" goals: each validator's every outcome (each error kind it can give, and success),
each of ``validate_any``'s three routes, every length boundary on both sides, and every reserved
slug refused.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from rustok_sim.conformance.suites.differential import DifferentialMachine
from rustok_sim.conformance.targets import Factory, build_target
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.rust import WHITE_SPACE, rust_trim, utf8_len
from rustok_sim.model.tenancy.validation import (
    RESERVED_SLUGS,
    UUID_PATTERN,
    TenantIdentifierValidator,
    TenantValidationError,
)

__all__ = ["COMPONENT", "VARIANTS", "identifier_suite", "reference_identifier_validator"]

COMPONENT = "tenant_identifiers"
VARIANTS = ("rustok",)
"""One variant: the validator is unchanged from its introduction (02-12) to HEAD."""

METHODS = ("validate_slug", "validate_uuid", "validate_host", "validate_any")
_OUTCOMES = {"validate_slug": ("ok", "Empty", "TooLong", "InvalidCharacters", "Reserved"),
             "validate_uuid": ("ok", "InvalidUuid"),
             "validate_host": ("ok", "Empty", "HostnameTooLong", "InvalidHostname"),
             "validate_any": ("ok", "Empty", "TooLong", "InvalidCharacters", "Reserved",
                              "HostnameTooLong", "InvalidHostname")}
_SPACE = sorted(WHITE_SPACE)
_PYTHON_ONLY_SPACE = ("\x1c", "\x1d", "\x1e", "\x1f")
_MULTIBYTE = ("é", "記", "𝒜", "İ", "\u212a", "ß", "Σ")
"""2-, 3- and 4-byte letters, and letters whose lowercase has another byte length."""
_SLUG_CHARS = "abcxyz0189-"
_HOST_CHARS = "abcxyz0189-."
_JUNK = ("_", "@", ".", " ", ":", "'", "/", "\\", "<", "\u200b", "\x00", "\n", "😀")


def reference_identifier_validator(config: Any, clock: Any, observer: Any = None) -> type[TenantIdentifierValidator]:
    """The reference target: the validator class itself (its methods are static, as the Rust
    associated functions are)."""
    return TenantIdentifierValidator


@functools.cache
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def _pick(draw: Any, options: Any) -> Any:
    options = tuple(options)
    return options[draw(_integers(0, len(options) - 1))]


def _run(draw: Any, alphabet: str, size: int) -> str:
    return "".join(_pick(draw, alphabet) for _ in range(size))


def _slug(draw: Any) -> str:
    size = _pick(draw, (1, 2, 3, 12, 62, 63, 64, 65, 66))
    body = _pick(draw, "abcxyz0189") + _run(draw, _SLUG_CHARS, max(size - 1, 0))
    style = draw(_integers(0, 5))
    if style == 0:
        return body.upper()
    if style == 1:  # a character of another width: a length in bytes, not characters
        at = draw(_integers(0, len(body)))
        return body[:at] + _pick(draw, _MULTIBYTE) + body[at + 1:]
    if style == 2:
        return "-" + body[1:]
    if style == 3:
        return body[:-1] + "-" if len(body) > 1 else body
    return body


def _multibyte_run(draw: Any) -> str:
    char = _pick(draw, _MULTIBYTE)
    return char * draw(_integers(1, 70 // utf8_len(char) + 2))


def _host(draw: Any) -> str:
    labels = []
    for _ in range(draw(_integers(1, 5))):
        size = _pick(draw, (1, 3, 10, 62, 63, 64))
        labels.append(_pick(draw, "abcxyz0189") + _run(draw, "abcxyz0189-", size - 2) + _pick(draw, "abz09")
                      if size > 1 else _pick(draw, "az09"))
    style = draw(_integers(0, 7))
    host = ".".join(labels)
    if style == 0:
        host = host.upper()
    elif style == 1:
        host = "." + host if draw(_integers(0, 1)) else host + "."
    elif style == 2:
        host = host.replace(".", "..", 1) if "." in host else host + ".."
    elif style == 3:
        host = host + ":" + str(draw(_integers(1, 65535)))
    elif style == 4:
        host = "-" + host if draw(_integers(0, 1)) else host.replace(".", "-.", 1)
    return host


def _long_host(draw: Any) -> str:
    """A host of 251 to 255 bytes, made of valid labels: the `HostnameTooLong` boundary at 253."""
    total = _pick(draw, (251, 252, 253, 254, 255))
    labels: list[str] = []
    size = 0
    while size < total:
        width = min(63, total - size - (1 if labels else 0))
        if width <= 0:
            break
        labels.append("a" * width)
        size += width + (1 if len(labels) > 1 else 0)
    return ".".join(labels)


def _uuid_text(draw: Any) -> str:
    value = uuid.UUID(int=draw(_integers(0, 2**128 - 1))) if draw(_integers(0, 5)) else uuid.UUID(int=0)
    form = draw(_integers(0, 8))
    text = str(value)
    if form == 0:
        return text.upper()
    if form == 1:
        return text[:9] + text[9:].upper()
    if form == 2:
        return value.hex
    if form == 3:
        return "{" + text + "}"
    if form == 4:
        return "urn:uuid:" + text
    if form == 5:  # one group a digit short or long, or a letter beyond f
        at = draw(_integers(0, len(text) - 1))
        return _pick(draw, (text[:at] + text[at + 1:], text[:at] + "0" + text[at:], text[:at] + "g" + text[at + 1:]))
    return text


def _spaced(draw: Any, value: str) -> str:
    """`value` with Rust White_Space around it, or with a character that only Python trims."""
    style = draw(_integers(0, 4))
    if style == 0:
        return _pick(draw, _SPACE) + value + _pick(draw, _SPACE)
    if style == 1:
        return _pick(draw, _PYTHON_ONLY_SPACE) + value if draw(_integers(0, 1)) else value + _pick(draw, _PYTHON_ONLY_SPACE)
    if style == 2:
        at = draw(_integers(0, len(value)))
        return value[:at] + _pick(draw, _JUNK) + value[at:]
    return value


@st.composite
def _identifier(draw: Any) -> str:
    kind = draw(_integers(0, 8))
    if kind == 0:
        raw = _slug(draw)
    elif kind == 1:
        raw = _host(draw)
    elif kind == 2:
        raw = _long_host(draw)
    elif kind == 3:
        raw = _uuid_text(draw)
    elif kind == 4:
        raw = _pick(draw, sorted(RESERVED_SLUGS))
        raw = _pick(draw, (raw, raw.upper(), raw + "-1", raw + "s", raw + ".example.com", "x" + raw))
    elif kind == 5:
        raw = _multibyte_run(draw)
    elif kind == 6:
        raw = "".join(_pick(draw, _SPACE + list(_PYTHON_ONLY_SPACE)) for _ in range(draw(_integers(0, 3))))
    elif kind == 7:
        raw = draw(st.text(st.characters(exclude_categories=["Cs"]), max_size=20))
    else:
        raw = _pick(draw, ("", "a", "-", "a-", "a--b", "1.2.3.4", "localhost", "my-tenant.app.com",
                           "'; DROP TABLE--", "<script>alert(1)</script>", "../../../etc/passwd", "..\\windows"))
    return _spaced(draw, raw)


_IDENTIFIERS = _identifier()


class _IdentifierSuite(DifferentialMachine):
    factory: Factory
    table = None
    error_fields = ("kind",)

    @initialize()
    def setup(self) -> None:
        self.config = None
        self.reference = TenantIdentifierValidator
        self.target = build_target(self.factory, None, ManualClock(), COMPONENT, self.target_name)
        self.steps = ["validator"]

    def _check(self, method: str, raw: str) -> tuple[str, Any]:
        target, reference = self.both(f"{method}({raw!r})", lambda v: getattr(v, method)(raw))
        if method == "validate_uuid" and target[0] == reference[0] == "ok":
            target, reference = ("ok", str(target[1])), ("ok", str(reference[1]))
        self.same_outcome(target, reference, compare_values=True)
        outcome = "ok" if reference[0] == "ok" else str(reference[1].kind)
        self.reached(f"{method}: {outcome}")
        self._boundaries(method, raw, reference)
        return reference

    def _boundaries(self, method: str, raw: str, reference: tuple[str, Any]) -> None:
        if method == "validate_any" and reference[0] == "ok":
            trimmed = rust_trim(raw)
            route = "uuid" if UUID_PATTERN.match(trimmed) else "host" if "." in trimmed else "slug"
            self.reached(f"validate_any routes to {route}")
        error = reference[1] if reference[0] == "error" else None
        size = error.length if isinstance(error, TenantValidationError) else utf8_len(str(reference[1]))
        if method == "validate_slug" and (size == 64 or size == 65):
            self.reached(f"a {size}-byte slug")
        if method == "validate_host" and size in (253, 254) and (error is None or error.kind != "InvalidHostname"):
            self.reached(f"a {size}-byte host")

    @rule(method=st.sampled_from(METHODS), raw=_IDENTIFIERS)
    def validate(self, method: str, raw: str) -> None:
        self._check(method, raw)

    @rule(raw=_IDENTIFIERS)
    def every_validator(self, raw: str) -> None:
        """One identifier through all four validators."""
        for method in METHODS:
            self._check(method, raw)

    @rule(spelling=st.sampled_from(("as is", "upper", "spaced", "near miss")))
    def reserved_slugs(self, spelling: str) -> None:
        """All 41 reserved slugs, spelled one way, through `validate_slug` and `validate_any`."""
        for slug in sorted(RESERVED_SLUGS):
            raw = {"as is": slug, "upper": slug.upper(), "spaced": f" \t{slug.title()}\u3000",
                   "near miss": f"{slug}-"}[spelling]
            for method in ("validate_slug", "validate_any"):
                outcome = self._check(method, raw)
                if outcome[0] == "error" and outcome[1].kind == "Reserved":
                    self.reached(f"reserved {slug!r} refused")


def _goals() -> dict[str, str]:
    goals = {f"{method}: {outcome}": f"{method} {'accepted' if outcome == 'ok' else 'gave ' + outcome}"
             for method, outcomes in _OUTCOMES.items() for outcome in outcomes}
    goals.update({f"validate_any routes to {route}": f"validate_any accepted an identifier as a {route}"
                  for route in ("uuid", "host", "slug")})
    goals.update({"a 64-byte slug": "a slug of 64 bytes (past the pattern's 63, within the length limit)",
                  "a 65-byte slug": "a slug of 65 bytes (TooLong)",
                  "a 253-byte host": "a host of exactly 253 bytes", "a 254-byte host": "a host of 254 bytes"})
    goals.update({f"reserved {slug!r} refused": f"the reserved slug {slug!r} refused"
                  for slug in sorted(RESERVED_SLUGS)})
    return goals


def identifier_suite(factory: Factory, variant: str, name: str = "target") -> type[RuleBasedStateMachine]:
    """The suite's machine for one target factory."""
    return type("TenantIdentifierSuite", (_IdentifierSuite,),
                {"factory": staticmethod(factory), "variant": variant, "target_name": name, "goals": _goals()})
