"""Fidelity checks for spec §3.1 (EventEnvelope) and §4 (event validation), case by case.

Each test pins one observable detail of the Rust code as the spec describes it: the exact error
(kind, field, payload, Display text) of the *first* failing rule, limits counted in UTF-8 bytes,
Rust's Unicode rules (trim, `char::is_alphanumeric`), event_type / affects_index, the serde JSON
form (adjacently tagged events, chrono timestamps) and the envelope that `EventEnvelope::new`
builds. The expected values are written out from the spec, not read back from the model.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events import (
    BlogPostCreated,
    BuildRequested,
    DomainEventBase,
    EventEnvelope,
    EventFormatError,
    EventValidationError,
    ForumReplyStatusChanged,
    ForumTopicPinned,
    ForumTopicStatusChanged,
    IdGenerator,
    IndexUpdated,
    InventoryLow,
    InventoryUpdated,
    LocaleEnabled,
    MediaUploaded,
    NodeCreated,
    NodeUpdated,
    OrderCancelled,
    OrderPlaced,
    OrderStatusChanged,
    PriceUpdated,
    ReindexRequested,
    TagAttached,
    TopicPromotedToPost,
    TopicsMerged,
    TopicSplit,
    UserRegistered,
    parse_event,
    validate_alphanumeric_with_dash,
    validate_currency_code,
    validate_max_length,
    validate_not_empty,
    validate_range,
)
from rustok_sim.model.events.ids import ulid_timestamp_ms

NIL = uuid.UUID(int=0)
A = uuid.UUID("0190f3b4-6d8e-7c3a-9b1e-2f4a5c6d7e8f")
B = uuid.UUID("11111111-2222-4333-8444-555555555555")
C = uuid.UUID("66666666-7777-4888-9999-aaaaaaaaaaaa")
I64_MAX = 2**63 - 1
I32_MIN = -(2**31)


def _error(event: DomainEventBase) -> EventValidationError:
    with pytest.raises(EventValidationError) as info:
        event.validate()
    return info.value


def _assert_error(event: DomainEventBase, kind: str, field: str, display: str) -> None:
    error = _error(event)
    assert (error.kind, error.field, str(error)) == (kind, field, display)


# --------------------------------------------------------------------------------------------
# §4.1 – the 7 error variants and their Display texts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "kind", "text"), [
    (EventValidationError.empty_field("kind"), "EmptyField", "Field 'kind' cannot be empty"),
    (EventValidationError.field_too_long("locale", 10), "FieldTooLong",
     "Field 'locale' exceeds maximum length of 10 characters"),
    (EventValidationError.nil_uuid("node_id"), "NilUuid", "UUID field 'node_id' cannot be nil"),
    (EventValidationError.invalid_value("email", "invalid email format"), "InvalidValue",
     "Invalid value for field 'email': invalid email format"),
    (EventValidationError.missing_field("x"), "MissingField", "Missing required field 'x'"),
    (EventValidationError.out_of_range("size", -1, 0, I64_MAX), "OutOfRange",
     "Field 'size' value -1 is out of valid range (0..9223372036854775807)"),
    (EventValidationError.invalid_characters("kind"), "InvalidCharacters",
     "Field 'kind' contains invalid characters"),
])
def test_error_kind_and_display(error: EventValidationError, kind: str, text: str) -> None:
    assert error.kind == kind and str(error) == text


def test_validate_returns_none_for_a_valid_event() -> None:
    assert NodeCreated(node_id=A, kind="post", author_id=B).validate() is None


# --------------------------------------------------------------------------------------------
# §4.2 – helpers
# --------------------------------------------------------------------------------------------


def test_max_length_error_carries_the_limit_not_the_length() -> None:
    with pytest.raises(EventValidationError) as info:
        validate_max_length("f", "x" * 20, 10)
    assert info.value.max == 10 and str(info.value).endswith("maximum length of 10 characters")


def test_max_length_counts_utf8_bytes() -> None:
    validate_max_length("f", "é" * 5, 10)  # 5 characters, 10 bytes: OK
    with pytest.raises(EventValidationError):
        validate_max_length("f", "é" * 5 + "a", 10)  # 6 characters, 11 bytes


def test_range_payload_is_value_min_max() -> None:
    with pytest.raises(EventValidationError) as info:
        validate_range("n", 11, 1, 10)
    assert (info.value.value, info.value.min, info.value.max) == (11, 1, 10)
    assert str(info.value) == "Field 'n' value 11 is out of valid range (1..10)"


def test_zero_width_space_is_not_blank_for_rust_trim() -> None:
    validate_not_empty("f", "\u200b")  # U+200B is not White_Space


def test_ideographic_space_only_is_blank() -> None:
    with pytest.raises(EventValidationError):
        validate_not_empty("f", "\u3000\u00a0\u2028")


def test_alphanumeric_empty_string_passes() -> None:
    validate_alphanumeric_with_dash("f", "")


@pytest.mark.parametrize("char", [
    "\U0002EBF0",  # CJK Extension I (Unicode 15.1)
    "\U00031350",  # CJK Extension H (Unicode 15.0)
    "\U000323B0",  # CJK Extension J (Unicode 17.0)
    "\U0001E4D0",  # Nag Mundari letter (Unicode 15.0)
    "\U00011F04",  # Kawi letter (Unicode 15.0)
    "\U00010D4A",  # Garay letter (Unicode 16.0)
    "\u0345",      # Other_Alphabetic combining mark
    "\U0001F130",  # SQUARED LATIN CAPITAL LETTER A (So, but Other_Alphabetic)
    "\u2460",      # CIRCLED DIGIT ONE (No)
])
def test_letters_rust_1_95_calls_alphanumeric_pass(char: str) -> None:
    validate_alphanumeric_with_dash("kind", f"a-{char}_1")


@pytest.mark.parametrize("char", ["\u05c8", "\U00010ECB", "\U00011DF0", "\u0301", "\u200b"])
def test_code_points_rust_1_95_does_not_call_alphanumeric_fail(char: str) -> None:
    with pytest.raises(EventValidationError) as info:
        validate_alphanumeric_with_dash("kind", f"a{char}")
    assert info.value.kind == "InvalidCharacters"


@pytest.mark.parametrize(("code", "reason"), [
    ("€", "currency code must be uppercase letters"),      # 3 bytes, 1 character
    ("ÀB", "currency code must be uppercase letters"),     # 3 bytes, 2 characters
    ("ABC ", "currency code must be exactly 3 characters"),
    ("€€", "currency code must be exactly 3 characters"),  # 6 bytes
    ("", "currency code must be exactly 3 characters"),
])
def test_currency_code_checks_bytes_then_letters(code: str, reason: str) -> None:
    with pytest.raises(EventValidationError) as info:
        validate_currency_code("currency", code)
    assert info.value.kind == "InvalidValue" and info.value.reason == reason


@given(st.text(max_size=5))
def test_prop_currency_valid_iff_three_ascii_uppercase(code: str) -> None:
    expected = len(code.encode()) == 3 and all("A" <= c <= "Z" for c in code)
    try:
        validate_currency_code("currency", code)
        valid = True
    except EventValidationError:
        valid = False
    assert valid is expected


# --------------------------------------------------------------------------------------------
# §4.4 / §4.6 – first failing rule, exact errors
# --------------------------------------------------------------------------------------------


def test_node_created_blank_kind_is_empty_not_invalid_characters() -> None:
    _assert_error(NodeCreated(node_id=A, kind="   "), "EmptyField", "kind", "Field 'kind' cannot be empty")


def test_node_created_length_is_checked_before_characters() -> None:
    _assert_error(NodeCreated(node_id=A, kind="@" * 65), "FieldTooLong", "kind",
                  "Field 'kind' exceeds maximum length of 64 characters")


def test_node_created_zero_width_space_kind_is_invalid_characters() -> None:
    _assert_error(NodeCreated(node_id=A, kind="\u200b"), "InvalidCharacters", "kind",
                  "Field 'kind' contains invalid characters")


def test_node_created_characters_before_nil_author() -> None:
    _assert_error(NodeCreated(node_id=A, kind="a b", author_id=NIL), "InvalidCharacters", "kind",
                  "Field 'kind' contains invalid characters")


def test_node_created_nil_author() -> None:
    _assert_error(NodeCreated(node_id=A, kind="post", author_id=NIL), "NilUuid", "author_id",
                  "UUID field 'author_id' cannot be nil")


def test_node_created_nil_id_before_everything() -> None:
    _assert_error(NodeCreated(node_id=NIL, kind="", author_id=NIL), "NilUuid", "node_id",
                  "UUID field 'node_id' cannot be nil")


def test_node_updated_has_no_character_check() -> None:
    NodeUpdated(node_id=A, kind="invalid@kind with spaces").validate()


def test_locale_limit_is_10_bytes_not_characters() -> None:
    LocaleEnabled(tenant_id=A, locale="é" * 5).validate()
    _assert_error(LocaleEnabled(tenant_id=A, locale="é" * 5 + "x"), "FieldTooLong", "locale",
                  "Field 'locale' exceeds maximum length of 10 characters")


def test_locale_has_no_format_check() -> None:
    LocaleEnabled(tenant_id=A, locale="??").validate()


def test_tag_attached_nil_target_is_checked_last() -> None:
    _assert_error(TagAttached(tag_id=A, target_type="node", target_id=NIL), "NilUuid", "target_id",
                  "UUID field 'target_id' cannot be nil")
    _assert_error(TagAttached(tag_id=A, target_type=" ", target_id=NIL), "EmptyField", "target_type",
                  "Field 'target_type' cannot be empty")


def test_media_mime_without_slash_before_negative_size() -> None:
    _assert_error(MediaUploaded(media_id=A, mime_type="invalid", size=-1), "InvalidValue", "mime_type",
                  "Invalid value for field 'mime_type': must be in format 'type/subtype'")


def test_media_negative_size() -> None:
    _assert_error(MediaUploaded(media_id=A, mime_type="image/png", size=-1), "OutOfRange", "size",
                  "Field 'size' value -1 is out of valid range (0..9223372036854775807)")


def test_media_mime_limit_255_before_slash_rule() -> None:
    _assert_error(MediaUploaded(media_id=A, mime_type="x" * 256, size=0), "FieldTooLong", "mime_type",
                  "Field 'mime_type' exceeds maximum length of 255 characters")


def test_media_lone_slash_is_a_mime_type() -> None:
    MediaUploaded(media_id=A, mime_type="/", size=0).validate()


@pytest.mark.parametrize("email", ["a.b@c", "@.", "x@y.z", "first.last@host"])
def test_email_with_at_and_dot_anywhere_is_valid(email: str) -> None:
    UserRegistered(user_id=A, email=email).validate()


@pytest.mark.parametrize("email", ["user@example", "user.example.com", "plain"])
def test_email_missing_at_or_dot(email: str) -> None:
    _assert_error(UserRegistered(user_id=A, email=email), "InvalidValue", "email",
                  "Invalid value for field 'email': invalid email format")


def test_email_limit_is_255() -> None:
    _assert_error(UserRegistered(user_id=A, email="a@b." + "c" * 252), "FieldTooLong", "email",
                  "Field 'email' exceeds maximum length of 255 characters")


def test_inventory_updated_old_quantity_first() -> None:
    _assert_error(InventoryUpdated(variant_id=A, product_id=B, location_id=C, old_quantity=I32_MIN,
                                   new_quantity=-1),
                  "OutOfRange", "old_quantity",
                  "Field 'old_quantity' value -2147483648 is out of valid range (0..9223372036854775807)")


def test_inventory_updated_nil_location() -> None:
    _assert_error(InventoryUpdated(variant_id=A, product_id=B, location_id=NIL, old_quantity=0,
                                   new_quantity=0), "NilUuid", "location_id", "UUID field 'location_id' cannot be nil")


def test_inventory_low_negative_threshold_before_comparison() -> None:
    _assert_error(InventoryLow(variant_id=A, product_id=B, remaining=5, threshold=-1), "OutOfRange",
                  "threshold", "Field 'threshold' value -1 is out of valid range (0..9223372036854775807)")


def test_inventory_low_equal_is_not_low() -> None:
    _assert_error(InventoryLow(variant_id=A, product_id=B, remaining=10, threshold=10), "InvalidValue",
                  "remaining", "Invalid value for field 'remaining': must be less than threshold for low inventory")


def test_inventory_low_zero_below_one_is_low() -> None:
    InventoryLow(variant_id=A, product_id=B, remaining=0, threshold=1).validate()


def test_price_currency_before_amounts() -> None:
    _assert_error(PriceUpdated(variant_id=A, product_id=B, currency="usd", old_amount=-1, new_amount=-1),
                  "InvalidValue", "currency", "Invalid value for field 'currency': currency code must be uppercase letters")


def test_price_old_amount_before_new_amount() -> None:
    error = _error(PriceUpdated(variant_id=A, product_id=B, currency="EUR", old_amount=-1, new_amount=-2))
    assert (error.kind, error.field, error.value) == ("OutOfRange", "old_amount", -1)


def test_price_absent_old_amount_is_skipped() -> None:
    error = _error(PriceUpdated(variant_id=A, product_id=B, currency="EUR", new_amount=-2))
    assert (error.kind, error.field) == ("OutOfRange", "new_amount")


def test_order_placed_nil_customer_before_negative_total() -> None:
    _assert_error(OrderPlaced(order_id=A, customer_id=NIL, total=-1, currency="US"), "NilUuid",
                  "customer_id", "UUID field 'customer_id' cannot be nil")


def test_order_placed_negative_total_before_currency() -> None:
    error = _error(OrderPlaced(order_id=A, total=-100, currency="US"))
    assert (error.kind, error.field) == ("OutOfRange", "total")


def test_order_placed_currency_length_reason() -> None:
    _assert_error(OrderPlaced(order_id=A, total=0, currency="US"), "InvalidValue", "currency",
                  "Invalid value for field 'currency': currency code must be exactly 3 characters")


def test_order_status_old_status_checked_before_new() -> None:
    _assert_error(OrderStatusChanged(order_id=A, old_status="", new_status=""), "EmptyField", "old_status",
                  "Field 'old_status' cannot be empty")


def test_order_status_limit_is_50() -> None:
    OrderStatusChanged(order_id=A, old_status="a" * 50, new_status="b").validate()
    _assert_error(OrderStatusChanged(order_id=A, old_status="a", new_status="b" * 51), "FieldTooLong",
                  "new_status", "Field 'new_status' exceeds maximum length of 50 characters")


def test_order_status_same_status() -> None:
    _assert_error(OrderStatusChanged(order_id=A, old_status="pending", new_status="pending"), "InvalidValue",
                  "new_status", "Invalid value for field 'new_status': must be different from old_status")


def test_order_status_comparison_is_exact() -> None:
    OrderStatusChanged(order_id=A, old_status="pending", new_status="Pending").validate()
    OrderStatusChanged(order_id=A, old_status="pending", new_status="pending ").validate()


def test_order_cancelled_reason_may_be_empty() -> None:
    OrderCancelled(order_id=A, reason="").validate()
    OrderCancelled(order_id=A).validate()


def test_order_cancelled_reason_limit_is_500_bytes() -> None:
    OrderCancelled(order_id=A, reason="x" * 500).validate()
    _assert_error(OrderCancelled(order_id=A, reason="é" * 250 + "x"), "FieldTooLong", "reason",
                  "Field 'reason' exceeds maximum length of 500 characters")


def test_reindex_requested_optional_target() -> None:
    ReindexRequested(target_type="node").validate()
    _assert_error(ReindexRequested(target_type="node", target_id=NIL), "NilUuid", "target_id",
                  "UUID field 'target_id' cannot be nil")


def test_index_updated_name_limit_64() -> None:
    _assert_error(IndexUpdated(index_name="i" * 65, target_id=NIL), "FieldTooLong", "index_name",
                  "Field 'index_name' exceeds maximum length of 64 characters")


def test_build_requested_rules() -> None:
    BuildRequested(build_id=A, requested_by="admin@rustok.local").validate()
    _assert_error(BuildRequested(build_id=A, requested_by=""), "EmptyField", "requested_by",
                  "Field 'requested_by' cannot be empty")
    _assert_error(BuildRequested(build_id=A, requested_by="r" * 256), "FieldTooLong", "requested_by",
                  "Field 'requested_by' exceeds maximum length of 255 characters")


def test_forum_status_sameness_before_nil_moderator() -> None:
    _assert_error(ForumTopicStatusChanged(topic_id=A, old_status="open", new_status="open", moderator_id=NIL),
                  "InvalidValue", "new_status", "Invalid value for field 'new_status': must be different from old_status")


def test_forum_status_nil_moderator_last() -> None:
    _assert_error(ForumTopicStatusChanged(topic_id=A, old_status="open", new_status="closed", moderator_id=NIL),
                  "NilUuid", "moderator_id", "UUID field 'moderator_id' cannot be nil")


def test_forum_reply_status_has_only_new_status() -> None:
    _assert_error(ForumReplyStatusChanged(reply_id=A, topic_id=B, new_status=" "), "EmptyField", "new_status",
                  "Field 'new_status' cannot be empty")


def test_forum_topic_pinned_nil_moderator() -> None:
    _assert_error(ForumTopicPinned(topic_id=A, is_pinned=False, moderator_id=NIL), "NilUuid", "moderator_id",
                  "UUID field 'moderator_id' cannot be nil")


def test_blog_post_nil_author_before_empty_locale() -> None:
    _assert_error(BlogPostCreated(post_id=A, author_id=NIL, locale=""), "NilUuid", "author_id",
                  "UUID field 'author_id' cannot be nil")


def test_promoted_locale_before_long_reason() -> None:
    _assert_error(TopicPromotedToPost(topic_id=A, post_id=B, moved_comments=0, locale="", reason="r" * 501),
                  "EmptyField", "locale", "Field 'locale' cannot be empty")


def test_topic_split_empty_list() -> None:
    _assert_error(TopicSplit(source_topic_id=A, target_topic_id=B, moved_comment_ids=[], moved_comments=0),
                  "InvalidValue", "moved_comment_ids", "Invalid value for field 'moved_comment_ids': must not be empty")


def test_topic_split_nil_target_before_empty_list() -> None:
    _assert_error(TopicSplit(source_topic_id=A, target_topic_id=NIL, moved_comment_ids=[], moved_comments=0),
                  "NilUuid", "target_topic_id", "UUID field 'target_topic_id' cannot be nil")


def test_topic_split_nil_element_field_name() -> None:
    _assert_error(TopicSplit(source_topic_id=A, target_topic_id=B, moved_comment_ids=[C, NIL],
                             moved_comments=2, reason="r" * 501),
                  "NilUuid", "moved_comment_ids[]", "UUID field 'moved_comment_ids[]' cannot be nil")


def test_topics_merged_reason_limit() -> None:
    _assert_error(TopicsMerged(target_topic_id=A, moved_comments=0, reason="r" * 501), "FieldTooLong", "reason",
                  "Field 'reason' exceeds maximum length of 500 characters")


# --------------------------------------------------------------------------------------------
# event_type, affects_index, schema_version
# --------------------------------------------------------------------------------------------

# The variants whose idx column is Y (spec §4.4 + §4.6); all others are N.
INDEXED = {
    "NodeCreated", "NodeUpdated", "NodeTranslationUpdated", "NodePublished", "NodeUnpublished",
    "NodeDeleted", "BodyUpdated", "TagAttached", "TagDetached", "ProductCreated", "ProductUpdated",
    "ProductPublished", "ProductDeleted", "VariantUpdated", "InventoryUpdated", "PriceUpdated",
    "ForumTopicCreated", "ForumTopicReplied", "ForumTopicStatusChanged", "BlogPostCreated",
    "BlogPostPublished", "BlogPostUnpublished", "BlogPostUpdated", "BlogPostArchived", "BlogPostDeleted",
}

EVENT_TYPES = {
    "NodeCreated": "node.created", "NodeUpdated": "node.updated",
    "NodeTranslationUpdated": "node.translation.updated", "NodePublished": "node.published",
    "NodeUnpublished": "node.unpublished", "NodeDeleted": "node.deleted", "BodyUpdated": "body.updated",
    "CategoryCreated": "category.created", "CategoryUpdated": "category.updated",
    "CategoryDeleted": "category.deleted", "TagCreated": "tag.created", "TagAttached": "tag.attached",
    "TagDetached": "tag.detached", "MediaUploaded": "media.uploaded", "MediaDeleted": "media.deleted",
    "UserRegistered": "user.registered", "UserLoggedIn": "user.logged_in", "UserUpdated": "user.updated",
    "UserDeleted": "user.deleted", "ProductCreated": "product.created", "ProductUpdated": "product.updated",
    "ProductPublished": "product.published", "ProductDeleted": "product.deleted",
    "VariantCreated": "variant.created", "VariantUpdated": "variant.updated",
    "VariantDeleted": "variant.deleted", "InventoryUpdated": "inventory.updated",
    "InventoryLow": "inventory.low", "PriceUpdated": "price.updated", "OrderPlaced": "order.placed",
    "OrderStatusChanged": "order.status_changed", "OrderCompleted": "order.completed",
    "OrderCancelled": "order.cancelled", "ReindexRequested": "index.reindex_requested",
    "IndexUpdated": "index.updated", "TenantCreated": "tenant.created", "TenantUpdated": "tenant.updated",
    "LocaleEnabled": "locale.enabled", "LocaleDisabled": "locale.disabled",
    "BuildRequested": "build.requested", "ForumTopicCreated": "forum.topic.created",
    "ForumTopicReplied": "forum.topic.replied", "ForumTopicStatusChanged": "forum.topic.status_changed",
    "ForumTopicPinned": "forum.topic.pinned", "ForumReplyStatusChanged": "forum.reply.status_changed",
    "BlogPostCreated": "blog.post.created", "BlogPostPublished": "blog.post.published",
    "BlogPostUnpublished": "blog.post.unpublished", "BlogPostUpdated": "blog.post.updated",
    "BlogPostArchived": "blog.post.archived", "BlogPostDeleted": "blog.post.deleted",
    "TopicPromotedToPost": "content.topic.promoted_to_post",
    "PostDemotedToTopic": "content.post.demoted_to_topic", "TopicSplit": "content.topic.split",
    "TopicsMerged": "content.topics.merged",
}


def test_there_are_55_variants_and_25_affect_the_index() -> None:
    assert len(EVENT_TYPES) == 55 and len(INDEXED) == 25


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_event_type_affects_index_and_schema_version(name: str) -> None:
    cls = getattr(__import__("rustok_sim.model.events", fromlist=[name]), name)
    assert (cls.event_type, cls.affects_index, cls.schema_version) == (EVENT_TYPES[name], name in INDEXED, 1)


def test_metadata_is_readable_on_an_instance() -> None:
    event = parse_event({"type": "VariantCreated", "data": {"variant_id": str(A), "product_id": str(B)}})
    assert (event.event_type, event.affects_index, event.schema_version) == ("variant.created", False, 1)


# --------------------------------------------------------------------------------------------
# JSON (serde adjacently tagged) and parse_event
# --------------------------------------------------------------------------------------------


def test_json_is_adjacently_tagged_with_fields_in_rust_order() -> None:
    event = PriceUpdated(variant_id=A, product_id=B, currency="USD", new_amount=5)
    assert json.loads(event.to_json()) == {"type": "PriceUpdated", "data": {
        "variant_id": str(A), "product_id": str(B), "currency": "USD", "old_amount": None, "new_amount": 5}}
    assert list(event.to_json_dict()["data"]) == ["variant_id", "product_id", "currency", "old_amount",
                                                  "new_amount"]


def test_parse_event_reads_a_json_string() -> None:
    text = json.dumps({"type": "TopicSplit", "data": {"source_topic_id": str(A), "target_topic_id": str(B),
                                                      "moved_comment_ids": [str(C)], "moved_comments": 1}})
    event = parse_event(text)
    assert isinstance(event, TopicSplit) and event.moved_comment_ids == [C] and event.reason is None


def test_parse_event_does_not_validate() -> None:
    event = parse_event({"type": "NodeCreated", "data": {"node_id": str(NIL), "kind": ""}})
    assert _error(event).kind == "NilUuid"


def test_data_before_type_is_accepted() -> None:
    text = '{"data": {"tag_id": "%s"}, "type": "TagCreated"}' % A
    assert parse_event(text).to_json_dict() == {"type": "TagCreated", "data": {"tag_id": str(A)}}


@pytest.mark.parametrize("bad", [
    {"type": "node.created", "data": {"node_id": str(A), "kind": "post"}},  # dotted name is no tag
    {"type": "nodecreated", "data": {"node_id": str(A), "kind": "post"}},
    {"type": "NodeCreated", "data": {"node_id": str(A)}},
    {"type": "NodeCreated", "data": {"node_id": str(A), "kind": None}},
    {"type": "NodeCreated", "data": {"node_id": "nil", "kind": "post"}},
    {"node_id": str(A), "kind": "post"},
    {"type": "InventoryLow", "data": {"variant_id": str(A), "product_id": str(B), "remaining": 2**31,
                                      "threshold": 1}},
    {"type": "OrderPlaced", "data": {"order_id": str(A), "total": 1.5, "currency": "USD"}},
    {"type": "TopicsMerged", "data": {"target_topic_id": str(A), "moved_comments": -1}},
    "", "{", "null", "[1]", 42, None, b"\xff",
])
def test_malformed_input_is_a_typed_format_error(bad: Any) -> None:
    with pytest.raises(EventFormatError) as info:
        parse_event(bad)
    assert isinstance(info.value, ValueError) and not isinstance(info.value, EventValidationError)


# --------------------------------------------------------------------------------------------
# §3.1 – EventEnvelope
# --------------------------------------------------------------------------------------------


def _envelope(event: DomainEventBase | None = None, t: float = 0.0, seed: int = 3) -> EventEnvelope:
    event = event or NodeCreated(node_id=A, kind="post")
    return EventEnvelope.new(B, None, event, ids=IdGenerator(ManualClock(t), seed, epoch=1_770_000_000))


def test_envelope_new_defaults() -> None:
    env = _envelope(OrderPlaced(order_id=A, total=1, currency="USD"))
    assert env.correlation_id == env.id and env.causation_id is None and env.retry_count == 0
    assert (env.event_type, env.schema_version) == ("order.placed", 1)
    assert env.tenant_id == B and env.actor_id is None and env.trace_id is None


def test_envelope_id_is_a_ulid_of_the_envelope_time() -> None:
    env = _envelope(t=12.345)
    assert ulid_timestamp_ms(env.id) == 1_770_000_012_345
    assert env.timestamp == datetime.fromtimestamp(1_770_000_012.345, UTC)


def test_envelope_ids_sort_in_creation_order() -> None:
    clock = ManualClock(0.0)
    ids = IdGenerator(clock, 7)
    made = []
    for step in (0.0, 0.0, 0.001, 0.0, 5.0):
        clock.advance(step)
        made.append(EventEnvelope.new(B, None, NodeCreated(node_id=A, kind="k"), ids=ids).id)
    assert made == sorted(made, key=lambda u: u.int) and len(set(made)) == len(made)


@pytest.mark.parametrize(("micros", "text"), [
    (0, "2026-02-02T02:40:00Z"),
    (123000, "2026-02-02T02:40:00.123Z"),
    (1000, "2026-02-02T02:40:00.001Z"),
    (123456, "2026-02-02T02:40:00.123456Z"),
    (120, "2026-02-02T02:40:00.000120Z"),
])
def test_timestamp_json_is_chrono_auto_si(micros: int, text: str) -> None:
    when = datetime(2026, 2, 2, 2, 40, 0, micros, tzinfo=UTC)
    env = EventEnvelope.new(B, None, NodeCreated(node_id=A, kind="k"), ids=IdGenerator(ManualClock(), 0), now=when)
    assert env.to_json_dict()["timestamp"] == text
    assert json.loads(env.to_json())["timestamp"] == text


def test_envelope_json_round_trip_is_lossless() -> None:
    env = _envelope(TopicSplit(source_topic_id=A, target_topic_id=B, moved_comment_ids=[C], moved_comments=1,
                               reason=""), t=0.5)
    assert EventEnvelope.from_json(env.to_json()) == env
    assert EventEnvelope.from_json(env.to_json()).to_json() == env.to_json()
    assert EventEnvelope.from_json(env.to_json_dict()) == env


def test_envelope_event_is_adjacently_tagged_and_event_type_dotted() -> None:
    data = _envelope().to_json_dict()
    assert data["event_type"] == "node.created" and data["event"]["type"] == "NodeCreated"


@pytest.mark.parametrize("text", ["1770000000", "2026-02-13T08:13Z", "2026-02-13", "13/02/2026 08:13:00Z"])
def test_timestamp_text_chrono_would_not_read_is_refused(text: str) -> None:
    data = _envelope().to_json_dict()
    data["timestamp"] = text
    with pytest.raises(EventFormatError) as info:
        EventEnvelope.from_json(data)
    assert info.value.field == "timestamp"


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-02-13T11:13:00+03:00", datetime(2026, 2, 13, 8, 13, tzinfo=UTC)),
    ("2026-02-13t08:13:00z", datetime(2026, 2, 13, 8, 13, tzinfo=UTC)),
    ("2026-02-13 08:13:00Z", datetime(2026, 2, 13, 8, 13, tzinfo=UTC)),
    ("2026-02-13T08:13:00.5Z", datetime(2026, 2, 13, 8, 13, 0, 500000, tzinfo=UTC)),
])
def test_rfc3339_timestamp_forms_are_read_as_utc(text: str, expected: datetime) -> None:
    data = _envelope().to_json_dict()
    data["timestamp"] = text
    assert EventEnvelope.from_json(data).timestamp == expected
