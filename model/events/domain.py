"""The domain events: all 55 variants of RusToK's `DomainEvent` enum and their `validate()`.

Spec §4.4 (the 39 variants of the primary snapshot) and §4.6 (16 added until 03-11). Each variant is
a frozen pydantic model whose fields are the Rust struct fields, in Rust order, with Rust's
well-formedness: UUIDs are `uuid.UUID`, i32/i64/u64 reject values outside their range, strings must
be real strings (no coercion, no lone surrogates: Rust strings are UTF-8). Breaking those is a
*format* error (`EventFormatError` from `parse_event`, `pydantic.ValidationError` from a constructor).

The business rules are separate, as in Rust: `event.validate()` runs the variant's `rules` table
in the spec's order and raises `EventValidationError` for the first one that fails. The table is
data (`Rule` objects with the spec's abbreviation, field and limit), so tests and documentation can
read it.

JSON is serde's adjacently tagged form, `{"type": "<RustVariantName>", "data": {...fields}}`, with
`None` written as null (serde's default for Option) and missing Option fields read as None (serde
does the same). Unknown keys are ignored, as serde does without `deny_unknown_fields`. JSON text
is held to serde_json's reader where Python's is looser: a field given twice is an error naming it
(serde's "duplicate field"; Python would keep the last value), and nesting 128 containers deep is
an error (serde_json's recursion limit), never a `RecursionError`.

`DomainEvent` is the discriminated union of all variants (tag = the "type" key, or the class of an
instance), usable as a pydantic field type (`EventEnvelope.event`) or through `parse_event`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeAlias, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    Strict,
    Tag,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, SchemaSerializer

from rustok_sim.model.events.validation import (
    I32_MAX,
    I32_MIN,
    I64_MAX,
    I64_MIN,
    U64_MAX,
    EventValidationError,
    validate_alphanumeric_with_dash,
    validate_currency_code,
    validate_max_length,
    validate_not_empty,
    validate_not_nil_uuid,
    validate_optional_uuid,
    validate_range,
)

# --------------------------------------------------------------------------------------------
# Rust field types
# --------------------------------------------------------------------------------------------


def _reject_surrogates(value: str) -> str:
    # A Rust String is valid UTF-8, so serde_json rejects a lone surrogate escape ("\ud800");
    # Python's json module lets one through. Rejecting it here also keeps byte lengths defined.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("string is not valid Unicode (it contains a lone surrogate)") from None
    return value


Uuid = uuid.UUID
"""Rust `Uuid`: accepts a UUID or any text form the `uuid` crate parses (hyphenated, simple, ...)."""
String = Annotated[str, Strict(), AfterValidator(_reject_surrogates)]
"""Rust `String`: a str, never coerced from numbers."""
I32 = Annotated[int, Strict(), Field(ge=I32_MIN, le=I32_MAX)]
I64 = Annotated[int, Strict(), Field(ge=I64_MIN, le=I64_MAX)]
U64 = Annotated[int, Strict(), Field(ge=0, le=U64_MAX)]
Bool = Annotated[bool, Strict()]


# --------------------------------------------------------------------------------------------
# Rules: one step of validate(), as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One business rule of a variant, in the spec's notation.

    `code` is the spec's abbreviation (NN, OPT, NE, LEN, AN, GE0, CUR) or, for the one-off rules,
    CONTAINS (every string of `needles` must occur in the field), LESS_THAN / DIFFERS (compared
    with the field `other`), NOT_EMPTY_LIST, EACH_NN (every element of a list is non-nil).
    `optional` rules apply only when the Option field is present. `check(event)` raises
    `EventValidationError` or returns None.
    """

    code: str
    field: str
    check: Callable[[Any], None] = dataclass_field(repr=False, compare=False)
    limit: int | None = None
    optional: bool = False
    needles: tuple[str, ...] = ()
    other: str | None = None

    def __str__(self) -> str:
        args = [self.field]
        if self.limit is not None:
            args.append(str(self.limit))
        if self.other is not None:
            args.append(self.other)
        args.extend(repr(n) for n in self.needles)
        return f"{self.code}({', '.join(args)}){' if present' if self.optional else ''}"


def not_nil(name: str) -> Rule:
    """NN(name): the UUID is not nil."""
    return Rule("NN", name, lambda e: validate_not_nil_uuid(name, getattr(e, name)))


def optional_uuid(name: str) -> Rule:
    """OPT(name): the optional UUID, when present, is not nil."""
    return Rule("OPT", name, lambda e: validate_optional_uuid(name, getattr(e, name)), optional=True)


def not_empty(name: str) -> Rule:
    """NE(name): not empty after trimming Unicode White_Space."""
    return Rule("NE", name, lambda e: validate_not_empty(name, getattr(e, name)))


def max_len(name: str, limit: int, *, optional: bool = False) -> Rule:
    """LEN(name, limit): at most `limit` UTF-8 bytes (skipped when optional and absent)."""
    def check(event: Any) -> None:
        value = getattr(event, name)
        if value is not None:
            validate_max_length(name, value, limit)
    return Rule("LEN", name, check, limit=limit, optional=optional)


def alphanumeric(name: str) -> Rule:
    """AN(name): only Unicode-alphanumeric characters, '-' and '_'."""
    return Rule("AN", name, lambda e: validate_alphanumeric_with_dash(name, getattr(e, name)))


def non_negative(name: str, *, optional: bool = False) -> Rule:
    """GE0(name): validate_range(name, value, 0, i64::MAX); i32 values are widened first."""
    def check(event: Any) -> None:
        value = getattr(event, name)
        if value is not None:
            validate_range(name, value, 0, I64_MAX)
    return Rule("GE0", name, check, optional=optional)


def currency(name: str) -> Rule:
    """CUR(name): exactly 3 bytes, all 'A'..'Z'."""
    return Rule("CUR", name, lambda e: validate_currency_code(name, getattr(e, name)))


def contains(name: str, needles: tuple[str, ...], reason: str) -> Rule:
    """InvalidValue(name, reason) unless every one of `needles` occurs somewhere in the field."""
    def check(event: Any) -> None:
        value = getattr(event, name)
        if not all(needle in value for needle in needles):
            raise EventValidationError.invalid_value(name, reason)
    return Rule("CONTAINS", name, check, needles=needles)


def less_than(name: str, other: str, reason: str) -> Rule:
    """InvalidValue(name, reason) unless field `name` < field `other`."""
    def check(event: Any) -> None:
        if not getattr(event, name) < getattr(event, other):
            raise EventValidationError.invalid_value(name, reason)
    return Rule("LESS_THAN", name, check, other=other)


def differs_from(name: str, other: str, reason: str) -> Rule:
    """InvalidValue(name, reason) if field `name` equals field `other` (exact, case-sensitive)."""
    def check(event: Any) -> None:
        if getattr(event, name) == getattr(event, other):
            raise EventValidationError.invalid_value(name, reason)
    return Rule("DIFFERS", name, check, other=other)


def not_empty_list(name: str, reason: str) -> Rule:
    """InvalidValue(name, reason) if the list is empty."""
    def check(event: Any) -> None:
        if not getattr(event, name):
            raise EventValidationError.invalid_value(name, reason)
    return Rule("NOT_EMPTY_LIST", name, check)


def each_not_nil(name: str, reported_as: str) -> Rule:
    """NN on every element of the list `name`, reported under the field name `reported_as`."""
    def check(event: Any) -> None:
        for item in getattr(event, name):
            validate_not_nil_uuid(reported_as, item)
    return Rule("EACH_NN", name, check)


# Rule groups that recur across variants (spec §8 lists the limits).
KIND_MAX, LOCALE_MAX, MIME_MAX, EMAIL_MAX = 64, 10, 255, 255
STATUS_MAX, REASON_MAX, TARGET_TYPE_MAX, INDEX_NAME_MAX, REQUESTED_BY_MAX = 50, 500, 64, 64, 255

_REASON_STATUS_SAME = "must be different from old_status"


def _text(name: str, limit: int) -> tuple[Rule, Rule]:
    """NE(name); LEN(name, limit) — the usual pair for a required string."""
    return not_empty(name), max_len(name, limit)


# --------------------------------------------------------------------------------------------
# The base of every variant
# --------------------------------------------------------------------------------------------


class DomainEventBase(BaseModel):
    """Common behaviour of the 55 variants. Use `DomainEvent` (the union) as a type annotation.

    Class attributes: `variant` (the Rust variant name, also the JSON "type" tag), `event_type`
    (the dotted name, e.g. "node.created"), `schema_version` (1 for all), `affects_index`
    (`DomainEvent::affects_index()`), `rules` (validate()'s steps in order).

    Serialising gives the tagged form everywhere (`model_dump()` too): a variant never appears on
    the wire without its tag, as in Rust. Validating accepts the tagged form or plain fields.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    variant: ClassVar[str]
    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    affects_index: ClassVar[bool]
    rules: ClassVar[tuple[Rule, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.variant = cls.__name__
        for rule in cls.rules:  # a typo in a rule table should fail at import, not in a scenario
            if rule.field not in cls.model_fields or (rule.other and rule.other not in cls.model_fields):
                raise TypeError(f"{cls.__name__}: rule {rule} names a field the variant does not have")

    def validate(self) -> None:  # type: ignore[override]  # (pydantic v1's deprecated classmethod)
        """Raise `EventValidationError` for the first rule that fails, in the spec's order."""
        for rule in self.rules:
            rule.check(self)

    def is_valid(self) -> bool:
        """True if `validate()` passes."""
        try:
            self.validate()
        except EventValidationError:
            return False
        return True

    @model_validator(mode="before")
    @classmethod
    def _unwrap_adjacent_tag(cls, data: Any) -> Any:
        # Accept the serde form {"type": ..., "data": {...}} as well as plain keyword fields, so
        # the union (which dispatches on "type") and `NodeCreated.model_validate(...)` both work.
        if isinstance(data, dict) and "type" in data:
            if data["type"] != cls.__name__:
                raise PydanticCustomError("event_tag_mismatch", "event type {tag!r} is not {variant}",
                                          {"tag": data["type"], "variant": cls.__name__})
            if "data" not in data:
                raise PydanticCustomError("missing", "Field required")
            return data["data"]
        return data

    @model_serializer(mode="wrap")
    def _adjacently_tagged(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {"type": self.variant, "data": handler(self)}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # Describe the wire form (tag + data), not the flat fields, so the exported schema can
        # check payloads written by the Rust services.
        fields = dict(handler.resolve_ref_schema(handler(core_schema)))
        title = fields.pop("title", cls.__name__)
        return {"type": "object", "title": title,
                "description": f"{cls.event_type} (schema_version {cls.schema_version})",
                "properties": {"type": {"const": cls.__name__}, "data": fields},
                "required": ["type", "data"]}

    def to_json_dict(self) -> dict[str, Any]:
        """The serde JSON form as plain Python data: {"type": variant, "data": {...}}."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """The serde JSON form as a compact string (byte-equal to ``model_dump_json()``)."""
        return event_json(self)


_DATA_SERIALIZERS: dict[type, tuple[str, SchemaSerializer] | None] = {}


def _data_serializer(cls: type[DomainEventBase]) -> tuple[str, SchemaSerializer] | None:
    """The JSON text before ``data`` and a serializer of the variant's fields alone: its core
    schema without the adjacently tagged wrap serializer, so one Rust call writes ``data`` with
    no callback into Python. None (use pydantic's own path) for a schema shape it does not know."""
    schema: Any = cls.__pydantic_core_schema__
    if schema.get("type") != "model" or schema.get("serialization", {}).get("type") != "function-wrap":
        return None
    plain = dict(schema)
    del plain["serialization"]
    return f'{{"type":{json.dumps(cls.variant)},"data":', SchemaSerializer(plain)


def event_json(event: DomainEventBase) -> str:
    """The serde JSON form of one event, ``{"type":"<Variant>","data":{...}}``: byte-equal to
    ``event.model_dump_json()`` (a test holds them equal for every variant) at about half its
    cost (what costs there is the wrap serializer's callback into Python)."""
    cls = event.__class__
    try:
        known = _DATA_SERIALIZERS[cls]
    except KeyError:
        known = _DATA_SERIALIZERS[cls] = _data_serializer(cls)
    if known is None:
        return event.model_dump_json()
    return f"{known[0]}{known[1].to_json(event).decode()}}}"


# --------------------------------------------------------------------------------------------
# §4.4 – the 39 variants of the primary snapshot (1df8c5b3e), in Rust order
# --------------------------------------------------------------------------------------------

# -- content ----------------------------------------------------------------------------------


class NodeCreated(DomainEventBase):
    event_type, affects_index = "node.created", True
    rules = (not_nil("node_id"), *_text("kind", KIND_MAX), alphanumeric("kind"), optional_uuid("author_id"))
    node_id: Uuid
    kind: String
    author_id: Uuid | None = None


class NodeUpdated(DomainEventBase):
    event_type, affects_index = "node.updated", True
    rules = (not_nil("node_id"), *_text("kind", KIND_MAX))  # no AN, unlike NodeCreated
    node_id: Uuid
    kind: String


class NodeTranslationUpdated(DomainEventBase):
    event_type, affects_index = "node.translation.updated", True
    rules = (not_nil("node_id"), *_text("locale", LOCALE_MAX))
    node_id: Uuid
    locale: String


class NodePublished(DomainEventBase):
    event_type, affects_index = "node.published", True
    rules = (not_nil("node_id"), *_text("kind", KIND_MAX))
    node_id: Uuid
    kind: String


class NodeUnpublished(DomainEventBase):
    event_type, affects_index = "node.unpublished", True
    rules = NodePublished.rules
    node_id: Uuid
    kind: String


class NodeDeleted(DomainEventBase):
    event_type, affects_index = "node.deleted", True
    rules = NodePublished.rules
    node_id: Uuid
    kind: String


class BodyUpdated(DomainEventBase):
    event_type, affects_index = "body.updated", True
    rules = (not_nil("node_id"), *_text("locale", LOCALE_MAX))
    node_id: Uuid
    locale: String


class CategoryCreated(DomainEventBase):
    event_type, affects_index = "category.created", False
    rules = (not_nil("category_id"),)
    category_id: Uuid


class CategoryUpdated(DomainEventBase):
    event_type, affects_index = "category.updated", False
    rules = (not_nil("category_id"),)
    category_id: Uuid


class CategoryDeleted(DomainEventBase):
    event_type, affects_index = "category.deleted", False
    rules = (not_nil("category_id"),)
    category_id: Uuid


class TagCreated(DomainEventBase):
    event_type, affects_index = "tag.created", False
    rules = (not_nil("tag_id"),)
    tag_id: Uuid


class TagAttached(DomainEventBase):
    event_type, affects_index = "tag.attached", True
    rules = (not_nil("tag_id"), *_text("target_type", TARGET_TYPE_MAX), not_nil("target_id"))
    tag_id: Uuid
    target_type: String
    target_id: Uuid


class TagDetached(DomainEventBase):
    event_type, affects_index = "tag.detached", True
    rules = TagAttached.rules
    tag_id: Uuid
    target_type: String
    target_id: Uuid


# -- media and users ----------------------------------------------------------------------------


class MediaUploaded(DomainEventBase):
    event_type, affects_index = "media.uploaded", False
    rules = (not_nil("media_id"), *_text("mime_type", MIME_MAX),
             contains("mime_type", ("/",), "must be in format 'type/subtype'"), non_negative("size"))
    media_id: Uuid
    mime_type: String
    size: I64


class MediaDeleted(DomainEventBase):
    event_type, affects_index = "media.deleted", False
    rules = (not_nil("media_id"),)
    media_id: Uuid


class UserRegistered(DomainEventBase):
    event_type, affects_index = "user.registered", False
    # The whole e-mail check: an '@' and a '.' anywhere, in any order ("a.b@c" passes).
    rules = (not_nil("user_id"), *_text("email", EMAIL_MAX),
             contains("email", ("@", "."), "invalid email format"))
    user_id: Uuid
    email: String


class UserLoggedIn(DomainEventBase):
    event_type, affects_index = "user.logged_in", False
    rules = (not_nil("user_id"),)
    user_id: Uuid


class UserUpdated(DomainEventBase):
    event_type, affects_index = "user.updated", False
    rules = (not_nil("user_id"),)
    user_id: Uuid


class UserDeleted(DomainEventBase):
    event_type, affects_index = "user.deleted", False
    rules = (not_nil("user_id"),)
    user_id: Uuid


# -- commerce -------------------------------------------------------------------------------------


class ProductCreated(DomainEventBase):
    event_type, affects_index = "product.created", True
    rules = (not_nil("product_id"),)
    product_id: Uuid


class ProductUpdated(DomainEventBase):
    event_type, affects_index = "product.updated", True
    rules = (not_nil("product_id"),)
    product_id: Uuid


class ProductPublished(DomainEventBase):
    event_type, affects_index = "product.published", True
    rules = (not_nil("product_id"),)
    product_id: Uuid


class ProductDeleted(DomainEventBase):
    event_type, affects_index = "product.deleted", True
    rules = (not_nil("product_id"),)
    product_id: Uuid


class VariantCreated(DomainEventBase):
    event_type, affects_index = "variant.created", False  # sic: N in Rust, unlike VariantUpdated
    rules = (not_nil("variant_id"), not_nil("product_id"))
    variant_id: Uuid
    product_id: Uuid


class VariantUpdated(DomainEventBase):
    event_type, affects_index = "variant.updated", True
    rules = VariantCreated.rules
    variant_id: Uuid
    product_id: Uuid


class VariantDeleted(DomainEventBase):
    event_type, affects_index = "variant.deleted", False
    rules = VariantCreated.rules
    variant_id: Uuid
    product_id: Uuid


class InventoryUpdated(DomainEventBase):
    event_type, affects_index = "inventory.updated", True
    rules = (not_nil("variant_id"), not_nil("product_id"), not_nil("location_id"),
             non_negative("old_quantity"), non_negative("new_quantity"))
    variant_id: Uuid
    product_id: Uuid
    location_id: Uuid
    old_quantity: I32
    new_quantity: I32


class InventoryLow(DomainEventBase):
    event_type, affects_index = "inventory.low", False
    rules = (not_nil("variant_id"), not_nil("product_id"), non_negative("remaining"),
             non_negative("threshold"),
             less_than("remaining", "threshold", "must be less than threshold for low inventory"))
    variant_id: Uuid
    product_id: Uuid
    remaining: I32
    threshold: I32


class PriceUpdated(DomainEventBase):
    event_type, affects_index = "price.updated", True
    rules = (not_nil("variant_id"), not_nil("product_id"), currency("currency"),
             non_negative("old_amount", optional=True), non_negative("new_amount"))
    variant_id: Uuid
    product_id: Uuid
    currency: String
    old_amount: I64 | None = None
    new_amount: I64


class OrderPlaced(DomainEventBase):
    event_type, affects_index = "order.placed", False
    rules = (not_nil("order_id"), optional_uuid("customer_id"), non_negative("total"),
             currency("currency"))
    order_id: Uuid
    customer_id: Uuid | None = None
    total: I64
    currency: String


class OrderStatusChanged(DomainEventBase):
    event_type, affects_index = "order.status_changed", False
    rules = (not_nil("order_id"), *_text("old_status", STATUS_MAX), *_text("new_status", STATUS_MAX),
             differs_from("new_status", "old_status", _REASON_STATUS_SAME))
    order_id: Uuid
    old_status: String
    new_status: String


class OrderCompleted(DomainEventBase):
    event_type, affects_index = "order.completed", False
    rules = (not_nil("order_id"),)
    order_id: Uuid


class OrderCancelled(DomainEventBase):
    event_type, affects_index = "order.cancelled", False
    rules = (not_nil("order_id"), max_len("reason", REASON_MAX, optional=True))  # "" is allowed
    order_id: Uuid
    reason: String | None = None


# -- index, tenants, locales ------------------------------------------------------------------


class ReindexRequested(DomainEventBase):
    event_type, affects_index = "index.reindex_requested", False
    rules = (*_text("target_type", TARGET_TYPE_MAX), optional_uuid("target_id"))
    target_type: String
    target_id: Uuid | None = None


class IndexUpdated(DomainEventBase):
    event_type, affects_index = "index.updated", False
    rules = (*_text("index_name", INDEX_NAME_MAX), not_nil("target_id"))
    index_name: String
    target_id: Uuid


class TenantCreated(DomainEventBase):
    event_type, affects_index = "tenant.created", False
    rules = (not_nil("tenant_id"),)
    tenant_id: Uuid


class TenantUpdated(DomainEventBase):
    event_type, affects_index = "tenant.updated", False
    rules = (not_nil("tenant_id"),)
    tenant_id: Uuid


class LocaleEnabled(DomainEventBase):
    event_type, affects_index = "locale.enabled", False
    rules = (not_nil("tenant_id"), *_text("locale", LOCALE_MAX))  # no BCP-47 check in Rust
    tenant_id: Uuid
    locale: String


class LocaleDisabled(DomainEventBase):
    event_type, affects_index = "locale.disabled", False
    rules = LocaleEnabled.rules
    tenant_id: Uuid
    locale: String


# --------------------------------------------------------------------------------------------
# §4.6 – the 16 variants added 02-19 .. 03-11 (rules of the 39 above did not change)
# --------------------------------------------------------------------------------------------


class BuildRequested(DomainEventBase):
    event_type, affects_index = "build.requested", False
    rules = (not_nil("build_id"), *_text("requested_by", REQUESTED_BY_MAX))
    build_id: Uuid
    requested_by: String


class ForumTopicCreated(DomainEventBase):
    event_type, affects_index = "forum.topic.created", True
    rules = (not_nil("topic_id"), not_nil("category_id"), optional_uuid("author_id"),
             *_text("locale", LOCALE_MAX))
    topic_id: Uuid
    category_id: Uuid
    author_id: Uuid | None = None
    locale: String


class ForumTopicReplied(DomainEventBase):
    event_type, affects_index = "forum.topic.replied", True
    rules = (not_nil("topic_id"), not_nil("reply_id"), optional_uuid("author_id"))
    topic_id: Uuid
    reply_id: Uuid
    author_id: Uuid | None = None


class ForumTopicStatusChanged(DomainEventBase):
    event_type, affects_index = "forum.topic.status_changed", True
    rules = (not_nil("topic_id"), *_text("old_status", STATUS_MAX), *_text("new_status", STATUS_MAX),
             differs_from("new_status", "old_status", _REASON_STATUS_SAME),
             optional_uuid("moderator_id"))
    topic_id: Uuid
    old_status: String
    new_status: String
    moderator_id: Uuid | None = None


class ForumTopicPinned(DomainEventBase):
    event_type, affects_index = "forum.topic.pinned", False
    rules = (not_nil("topic_id"), optional_uuid("moderator_id"))
    topic_id: Uuid
    is_pinned: Bool
    moderator_id: Uuid | None = None


class ForumReplyStatusChanged(DomainEventBase):
    event_type, affects_index = "forum.reply.status_changed", False
    rules = (not_nil("reply_id"), not_nil("topic_id"), *_text("new_status", STATUS_MAX),
             optional_uuid("moderator_id"))
    reply_id: Uuid
    topic_id: Uuid
    new_status: String
    moderator_id: Uuid | None = None


class BlogPostCreated(DomainEventBase):
    event_type, affects_index = "blog.post.created", True
    rules = (not_nil("post_id"), optional_uuid("author_id"), *_text("locale", LOCALE_MAX))
    post_id: Uuid
    author_id: Uuid | None = None
    locale: String


class BlogPostPublished(DomainEventBase):
    event_type, affects_index = "blog.post.published", True
    rules = (not_nil("post_id"), optional_uuid("author_id"))
    post_id: Uuid
    author_id: Uuid | None = None


class BlogPostUnpublished(DomainEventBase):
    event_type, affects_index = "blog.post.unpublished", True
    rules = (not_nil("post_id"),)
    post_id: Uuid


class BlogPostUpdated(DomainEventBase):
    event_type, affects_index = "blog.post.updated", True
    rules = (not_nil("post_id"), *_text("locale", LOCALE_MAX))
    post_id: Uuid
    locale: String


class BlogPostArchived(DomainEventBase):
    event_type, affects_index = "blog.post.archived", True
    rules = (not_nil("post_id"), max_len("reason", REASON_MAX, optional=True))
    post_id: Uuid
    reason: String | None = None


class BlogPostDeleted(DomainEventBase):
    event_type, affects_index = "blog.post.deleted", True
    rules = (not_nil("post_id"),)
    post_id: Uuid


class TopicPromotedToPost(DomainEventBase):
    event_type, affects_index = "content.topic.promoted_to_post", False
    rules = (not_nil("topic_id"), not_nil("post_id"), *_text("locale", LOCALE_MAX),
             max_len("reason", REASON_MAX, optional=True))
    topic_id: Uuid
    post_id: Uuid
    moved_comments: U64
    locale: String
    reason: String | None = None


class PostDemotedToTopic(DomainEventBase):
    event_type, affects_index = "content.post.demoted_to_topic", False
    rules = (not_nil("post_id"), not_nil("topic_id"), *_text("locale", LOCALE_MAX),
             max_len("reason", REASON_MAX, optional=True))
    post_id: Uuid
    topic_id: Uuid
    moved_comments: U64
    locale: String
    reason: String | None = None


class TopicSplit(DomainEventBase):
    event_type, affects_index = "content.topic.split", False
    rules = (not_nil("source_topic_id"), not_nil("target_topic_id"),
             not_empty_list("moved_comment_ids", "must not be empty"),
             each_not_nil("moved_comment_ids", reported_as="moved_comment_ids[]"),
             max_len("reason", REASON_MAX, optional=True))
    source_topic_id: Uuid
    target_topic_id: Uuid
    moved_comment_ids: list[Uuid]
    moved_comments: U64
    reason: String | None = None


class TopicsMerged(DomainEventBase):
    event_type, affects_index = "content.topics.merged", False
    rules = (not_nil("target_topic_id"), max_len("reason", REASON_MAX, optional=True))
    target_topic_id: Uuid
    moved_comments: U64
    reason: String | None = None


# --------------------------------------------------------------------------------------------
# The union, lookup tables and parsing
# --------------------------------------------------------------------------------------------

PRIMARY_VARIANTS: tuple[type[DomainEventBase], ...] = (
    NodeCreated, NodeUpdated, NodeTranslationUpdated, NodePublished, NodeUnpublished, NodeDeleted,
    BodyUpdated, CategoryCreated, CategoryUpdated, CategoryDeleted, TagCreated, TagAttached,
    TagDetached, MediaUploaded, MediaDeleted, UserRegistered, UserLoggedIn, UserUpdated,
    UserDeleted, ProductCreated, ProductUpdated, ProductPublished, ProductDeleted, VariantCreated,
    VariantUpdated, VariantDeleted, InventoryUpdated, InventoryLow, PriceUpdated, OrderPlaced,
    OrderStatusChanged, OrderCompleted, OrderCancelled, ReindexRequested, IndexUpdated,
    TenantCreated, TenantUpdated, LocaleEnabled, LocaleDisabled,
)
"""The 39 variants of spec §4.4 (primary snapshot 1df8c5b3e), in Rust order."""

LATER_VARIANTS: tuple[type[DomainEventBase], ...] = (
    BuildRequested, ForumTopicCreated, ForumTopicReplied, ForumTopicStatusChanged, ForumTopicPinned,
    ForumReplyStatusChanged, BlogPostCreated, BlogPostPublished, BlogPostUnpublished,
    BlogPostUpdated, BlogPostArchived, BlogPostDeleted, TopicPromotedToPost, PostDemotedToTopic,
    TopicSplit, TopicsMerged,
)
"""The 16 variants of spec §4.6 (added 02-19 .. 03-11)."""

ALL_VARIANTS: tuple[type[DomainEventBase], ...] = PRIMARY_VARIANTS + LATER_VARIANTS
VARIANTS_BY_NAME: dict[str, type[DomainEventBase]] = {cls.variant: cls for cls in ALL_VARIANTS}
VARIANTS_BY_EVENT_TYPE: dict[str, type[DomainEventBase]] = {cls.event_type: cls for cls in ALL_VARIANTS}


def _variant_tag(value: Any) -> str | None:
    """The union's discriminator: the "type" key of the serde form, or an instance's variant."""
    if isinstance(value, DomainEventBase):
        return value.variant
    if isinstance(value, dict):
        tag = value.get("type")
        return tag if isinstance(tag, str) else None
    return None


if TYPE_CHECKING:
    # A union built from ALL_VARIANTS at import time is not a static type; to a type checker
    # every variant is a DomainEventBase, which is what the union admits.
    DomainEvent: TypeAlias = DomainEventBase
else:
    DomainEvent = Annotated[
        Union[tuple(Annotated[cls, Tag(cls.variant)] for cls in ALL_VARIANTS)],  # noqa: UP007
        Discriminator(_variant_tag),
    ]
"""Any of the 55 variants: a pydantic discriminated union on the serde "type" tag."""

_DOMAIN_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(DomainEvent)


class EventFormatError(ValueError):
    """A payload is not a well-formed event (or envelope): bad JSON, unknown variant, missing field,
    wrong type, integer out of its Rust type's range.

    `field` is the dotted JSON path of the first problem ("data.node_id", "event.type",
    "data.moved_comment_ids[2]"), or None when the input as a whole is wrong (not JSON, not an
    object). `errors` lists every problem as dicts with "field", "type", "message" and "input".
    """

    def __init__(self, what: str, errors: list[dict[str, Any]]) -> None:
        self.what = what
        self.errors = errors
        first = errors[0]
        self.field: str | None = first["field"]
        where = f"field '{self.field}': " if self.field else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"malformed {what}: {where}{first['message']}{more}")


def _json_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location -> the path in the JSON document.

    Inside the union, pydantic puts the variant tag where the JSON has "data" (the before
    validator unwrapped it), so a variant name in the location reads as "data".
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = "data" if part in VARIANTS_BY_NAME else part
            path += f".{name}" if path else name
    return path


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def format_errors(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as EventFormatError entries, with JSON paths and plain messages."""
    out: list[dict[str, Any]] = []
    for item in error.errors(include_url=False):
        path, kind, value = _json_path(item["loc"]), item["type"], item.get("input")
        message = item["msg"]
        if kind == "union_tag_invalid":
            tag = item.get("ctx", {}).get("tag", value)
            path, message = _join(path, "type"), f"unknown event variant {tag!r}"
        elif kind == "union_tag_not_found":
            if isinstance(value, dict) and "type" not in value:
                path, message = _join(path, "type"), "Field required (the Rust variant name, e.g. 'NodeCreated')"
            elif isinstance(value, dict):
                path = _join(path, "type")
                message = f"the variant name must be a string, got {type(value['type']).__name__}"
            else:
                message = (f'expected an object {{"type": <variant>, "data": {{...}}}}, '
                           f"got {type(value).__name__}")
        elif kind == "json_invalid":
            message = f"not valid JSON: {item.get('ctx', {}).get('error', message)}"
        out.append({"field": path or None, "type": kind, "message": message, "input": value})
    return out


SERDE_RECURSION_LIMIT = 128
"""serde_json's reader refuses a document with this many nested arrays/objects (127 is the most
it reads): it counts down from 128 on every `[` / `{` and fails when the count reaches 0."""

# A JSON string token (escapes included) or a bracket: enough to count nesting outside strings.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class _Pairs(dict[str, Any]):
    """A JSON object that repeated some of its keys (`repeated`, in order)."""

    repeated: list[str]


def _object_with_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _Pairs(obj)
    marked.repeated = [key for key, _ in pairs if key in seen or seen.add(key)]  # type: ignore[func-returns-value]
    return marked


def _nesting_exceeds_serde(text: str) -> bool:
    if text.count("[") + text.count("{") < SERDE_RECURSION_LIMIT:
        return False  # cheap: too few brackets to be that deep (the usual case)
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth >= SERDE_RECURSION_LIMIT:
                return True
        elif token == "]" or token == "}":
            depth -= 1
    return False


def serde_json_problem(text: str | bytes | bytearray, duplicate_in: Callable[[Any], str | None]
                       ) -> dict[str, Any] | None:
    """What serde_json (with derived structs) would refuse in `text` that Python's readers let
    through, as an `EventFormatError` entry, or None. Checks nesting (serde_json's recursion
    limit) and fields given twice: `duplicate_in(document)` names the first repeated *field* (a
    repeated unknown key is ignored by serde, and so here). Anything else wrong with the text is
    left to the parser proper, which reports it with its usual message."""
    decoded = text if isinstance(text, str) else bytes(text).decode("utf-8", "surrogateescape")
    if _nesting_exceeds_serde(decoded):
        return {"field": None, "type": "recursion_limit_exceeded", "input": None,
                "message": f"recursion limit exceeded: JSON nested {SERDE_RECURSION_LIMIT} or more levels deep "
                           f"(serde_json reads at most {SERDE_RECURSION_LIMIT - 1})"}
    if '"' not in decoded:
        return None
    try:
        document = json.loads(decoded, object_pairs_hook=_object_with_repeats)
    except (ValueError, RecursionError):
        return None  # not JSON: the parser proper reports it
    field = duplicate_in(document)
    if field is None:
        return None
    key = field.rsplit(".", 1)[-1]
    return {"field": field, "type": "duplicate_field", "input": None,
            "message": f"duplicate field `{key}` (serde refuses a repeated field)"}


def _repeated_fields(obj: Any, fields: Iterable[str]) -> list[str]:
    if not isinstance(obj, _Pairs):
        return []
    names = set(fields)
    return [key for key in obj.repeated if key in names]


def duplicate_event_field(document: Any, path: str = "") -> str | None:
    """The JSON path of the first field an adjacently tagged event repeats ("type", "data" or a
    field of the variant's data), or None. For documents read with `_object_with_repeats`."""
    repeated = _repeated_fields(document, ("type", "data"))
    if repeated:
        return _join(path, repeated[0])
    if not isinstance(document, dict):
        return None
    tag = document.get("type")
    cls = VARIANTS_BY_NAME.get(tag) if isinstance(tag, str) else None
    if cls is None:
        return None
    repeated = _repeated_fields(document.get("data"), cls.model_fields)
    return _join(_join(path, "data"), repeated[0]) if repeated else None


def _recursion_error() -> list[dict[str, Any]]:
    return [{"field": None, "type": "recursion_limit_exceeded", "input": None,
             "message": "recursion limit exceeded: the value is nested too deeply"}]


def parse_event(obj: dict[str, Any] | str | bytes | bytearray) -> DomainEventBase:
    """Read a `DomainEvent` from its serde JSON form (a dict, or JSON text as str or bytes).

    Checks well-formedness only (as serde does); call `.validate()` for the business rules.
    Raises `EventFormatError` naming the field.
    """
    try:
        if isinstance(obj, (str, bytes, bytearray)):
            problem = serde_json_problem(obj, duplicate_event_field)
            if problem is not None:
                raise EventFormatError("DomainEvent", [problem])
            return _DOMAIN_EVENT_ADAPTER.validate_json(obj)
        return _DOMAIN_EVENT_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        raise EventFormatError("DomainEvent", format_errors(exc)) from None
    except RecursionError:
        raise EventFormatError("DomainEvent", _recursion_error()) from None
