"""The tenant context's JSON, with serde_json's limits: nesting depth, duplicate fields, typed errors."""

from __future__ import annotations

import pickle
import uuid

import pytest

from rustok_sim.model.tenancy import context as context_module
from rustok_sim.model.tenancy.context import MAX_NESTING, PARSE_MEMO_SIZE, TenantContext, TenantContextFormatError

TID = uuid.UUID("6f1c1c1e-8d2a-4b5e-9a33-0c3d8c2e7a01")


def nested(depth: int) -> dict:
    """A settings object nesting `depth` levels of objects (depth 1 is ``{}``)."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def document(settings_json: str) -> bytes:
    return ('{"id":"%s","name":"Acme","slug":"acme","domain":null,"settings":%s,"is_active":true}'
            % (TID, settings_json)).encode()


def test_serde_reads_127_nested_levels_and_refuses_the_128th() -> None:
    # The context object is level 1, so settings may nest 126 levels.
    deepest = TenantContext(TID, "Acme", "acme", settings=nested(MAX_NESTING - 2))
    assert TenantContext.from_json(deepest.to_json()) == deepest
    too_deep = document("[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1))
    with pytest.raises(TenantContextFormatError) as info:
        TenantContext.from_json(too_deep)
    column = too_deep.index(b"[") + MAX_NESTING - 2 + 1  # the 128th opening bracket, 1-based
    assert str(info.value) == f"recursion limit exceeded at line 1 column {column}"
    assert (info.value.reason, info.value.line, info.value.column) == ("recursion limit exceeded", 1, column)


def test_brackets_inside_strings_do_not_count_towards_the_depth() -> None:
    text = '"' + "[{" * 500 + '\\" ]"'
    ctx = TenantContext.from_json(document('{"s":%s}' % text))
    assert ctx.settings == {"s": "[{" * 500 + '" ]'}


def test_any_depth_is_a_parse_error_never_a_recursion_error() -> None:
    for depth in (200, 5_000, 100_000):
        with pytest.raises(TenantContextFormatError, match="recursion limit exceeded"):
            TenantContext.from_json(document("[" * depth + "]" * depth))


def test_to_json_refuses_what_serde_could_not_read_back() -> None:
    with pytest.raises(TenantContextFormatError, match="recursion limit exceeded"):
        TenantContext(TID, "Acme", "acme", settings=nested(MAX_NESTING - 1)).to_json()
    with pytest.raises(TenantContextFormatError, match="recursion limit exceeded"):
        TenantContext(TID, "Acme", "acme", settings=nested(3_000)).to_json()
    with pytest.raises(TenantContextFormatError, match="not JSON"):
        TenantContext(TID, "Acme", "acme", settings={"when": object()}).to_json()


def test_a_duplicate_field_is_a_typed_error_naming_the_key() -> None:
    data = ('{"id":"%s","name":"Acme","slug":"acme","slug":"evil","domain":null,"settings":{},'
            '"is_active":true}' % TID).encode()
    with pytest.raises(TenantContextFormatError, match="duplicate field `slug`") as info:
        TenantContext.from_json(data)
    assert info.value.key == "slug"


def test_a_duplicate_key_inside_settings_is_a_json_value_and_the_last_wins() -> None:
    ctx = TenantContext.from_json(document('{"plan":"free","plan":"pro"}'))
    assert ctx.settings == {"plan": "pro"}


def test_missing_field_and_garbage_are_typed_format_errors() -> None:
    with pytest.raises(TenantContextFormatError, match="missing field `name`"):
        TenantContext.from_json(('{"id":"%s"}' % TID).encode())
    for bad in (b"not json", b"[]", b"\xff\xfe", b'{"id":5,"name":"a","slug":"a","domain":null,'
                                                   b'"settings":{},"is_active":true}'):
        with pytest.raises(TenantContextFormatError):
            TenantContext.from_json(bad)


def test_format_errors_pickle_with_their_fields() -> None:
    error = TenantContextFormatError("duplicate field `id`", key="id", line=1, column=9)
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.key, again.line, again.column) == (str(error), "id", 1, 9)


def test_parsing_is_memoised_by_the_stored_bytes_and_bounded() -> None:
    data = TenantContext(TID, "Acme", "acme", settings={"plan": "pro"}).to_json()
    assert TenantContext.from_json(data) is TenantContext.from_json(bytes(data))
    for n in range(PARSE_MEMO_SIZE + 10):
        TenantContext.from_json(TenantContext(uuid.UUID(int=n + 1), f"T{n}", f"t{n}").to_json())
    assert len(context_module._PARSED) <= PARSE_MEMO_SIZE


@pytest.mark.parametrize(("fields", "message"), [
    ({"id": str(TID)}, "TenantContext.id must be a uuid.UUID, got str"),
    ({"name": None}, "TenantContext.name must be str, got NoneType"),
    ({"settings": [1]}, "TenantContext.settings must be a dict"),
    ({"is_active": 1}, "TenantContext.is_active must be bool, got int"),
    ({"domain": b"acme.example.com"}, "TenantContext.domain must be str or None, got bytes"),
])
def test_the_constructor_says_which_field_has_the_wrong_type(fields: dict, message: str) -> None:
    values = {"id": TID, "name": "Acme", "slug": "acme", **fields}
    with pytest.raises(TypeError, match=message.replace(".", r"\.")):
        TenantContext(**values)
