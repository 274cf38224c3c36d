"""Traces at the boundary: JSON Lines files, their JSON Schema, and a streaming reader.

A trace file is a header line ``{"format": "rustok-sim-trace", "version": 2, ...}`` followed by one
record per line. The pydantic models that validate a line are generated from the record
declarations in `rustok_sim.model.core.trace` (fields are declared once), and `trace_json_schema()`
exports their JSON Schema, so a trace written by the real Rust services can be checked by the same
code. The reader accepts exactly what the schema does: JSON without NaN or Infinity, integers where
the schema says integer (``"1"`` and ``true`` are not), unique keys, and it reports every problem as a
`TraceFormatError` naming the file and the real line number. It streams: `iter_jsonl` holds one line
at a time, so checking a 200 MB trace costs a few megabytes.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import IO, Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from rustok_sim.model.core.trace import (
    RECORD_TYPES,
    TRACE_FORMAT,
    TRACE_FORMAT_VERSION,
    Detail,
    TraceRecord,
    TraceWriteError,
    encode_record,
    record_fields,
    trace_header,
)

__all__ = ["LINE_MODELS", "TraceFile", "TraceFormatError", "TraceHeader", "TraceWriteError", "iter_jsonl",
           "read_jsonl", "read_jsonl_text", "trace_json_schema", "write_jsonl"]


class TraceFormatError(ValueError):
    """A trace file is not a valid rustok-sim trace; says which file, which line and why."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        # Line 0 means the file as a whole (missing, unreadable): no line to name.
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")


def _exact_integer(value: Any) -> Any:
    # JSON Schema's "integer" includes 1.0; pydantic's strict int does not. Accept exactly that.
    if type(value) is float and value.is_integer():
        return int(value)
    return value


StrictInt = Annotated[int, BeforeValidator(_exact_integer)]


def _line_annotation(annotation: Any) -> Any:
    """The boundary type of a record field: dicts for mappings, strict-but-schema-exact ints."""
    if annotation is int:
        return StrictInt
    if annotation == Detail or annotation is Mapping:
        return dict[str, Any] | None
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return Union[tuple(_line_annotation(arg) for arg in typing.get_args(annotation))]  # noqa: UP007
    return annotation


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _line_model(kind: str, cls: type[TraceRecord]) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    spec: dict[str, Any] = {"kind": (Literal[kind], ...)}
    declared = {f.name: f for f in fields(cls)}
    for name in record_fields(cls):
        decl = declared[name]
        default = ... if decl.default is MISSING else decl.default
        description = decl.metadata.get("description")
        info = Field(default, description=description, ge=0) if name == "seq" else Field(default, description=description)
        spec[name] = (_line_annotation(hints[name]), info)
    return create_model(f"{kind.capitalize()}Line", __base__=_Line, **spec)


LINE_MODELS: dict[str, type[BaseModel]] = {kind: _line_model(kind, cls) for kind, cls in RECORD_TYPES.items()}


class TraceHeader(BaseModel):
    """First line of a trace file."""

    model_config = ConfigDict(extra="allow", strict=True)
    format: Literal["rustok-sim-trace"]
    version: StrictInt = Field(description=f"trace format version; this reader knows version {TRACE_FORMAT_VERSION}")


# The union is built from the generated models, so it is a runtime value rather than a static type.
TraceLine: Any = Annotated[Union[tuple(LINE_MODELS.values())], Field(discriminator="kind")]  # noqa: UP007
_LINE_ADAPTER: TypeAdapter[Any] = TypeAdapter(TraceLine)


def trace_json_schema() -> dict[str, Any]:
    """JSON Schema of one trace line: the header (first line) or a record (every other line)."""
    record_schema = _LINE_ADAPTER.json_schema(ref_template="#/$defs/{model}")
    defs = dict(record_schema.pop("$defs", {}))
    defs["TraceHeader"] = TraceHeader.model_json_schema(ref_template="#/$defs/{model}")
    defs["TraceRecord"] = record_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{TRACE_FORMAT} v{TRACE_FORMAT_VERSION} line",
        "description": "A JSON Lines trace: the first line is a TraceHeader, each later line a TraceRecord.",
        "oneOf": [{"$ref": "#/$defs/TraceHeader"}, {"$ref": "#/$defs/TraceRecord"}],
        "$defs": defs,
    }


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_jsonl(records: Iterable[TraceRecord], target: str | os.PathLike[str] | IO[str],
                meta: Mapping[str, Any] | None = None) -> None:
    """Write a header line (with `meta`) and one JSON object per record. A record that JSON
    cannot hold is a `TraceWriteError` naming it; a file that cannot be written is an `OSError`
    naming the file."""
    header = trace_header(meta)
    if isinstance(target, (str, os.PathLike)):
        try:
            with open(target, "w", encoding="utf-8") as fh:
                _write_lines(fh, header, records)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write trace {os.fspath(target)}: {exc.strerror or exc}") from None
    else:
        _write_lines(target, header, records)


def _write_lines(fh: IO[str], header: Mapping[str, Any], records: Iterable[TraceRecord]) -> None:
    fh.write(json.dumps(header, sort_keys=True, allow_nan=False) + "\n")
    for record in records:
        fh.write(encode_record(record) + "\n")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TraceFile:
    """A trace read back from JSON Lines: its header metadata and its records."""

    meta: dict[str, Any]
    records: list[TraceRecord]


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999 is valid JSON but no finite number: the schema's "number" excludes it
        raise ValueError(f"number {text[:40]} is out of range for a float")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > 64:  # no counter or sequence number has that many digits
        raise ValueError(f"integer of {len(text)} digits is out of range")
    return int(text)


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constants,
                            parse_float=_finite_float, parse_int=_bounded_int)


def _parse(raw: str, label: str, number: int) -> Any:
    if number == 1 and raw.startswith("\ufeff"):
        raise TraceFormatError(label, number, "the file starts with a byte-order mark (BOM); "
                                              "a trace is UTF-8 without one")
    try:
        return _DECODER.decode(raw.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        raise TraceFormatError(label, number, f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except _DuplicateKey as exc:
        raise TraceFormatError(label, number, f"duplicate key {exc.args[0]!r} in a JSON object") from None
    except RecursionError:
        raise TraceFormatError(label, number, "JSON nested too deeply to be a trace line") from None
    except ValueError as exc:  # NaN / Infinity
        raise TraceFormatError(label, number, f"not valid JSON: {exc}") from None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "record"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _record_from_line(line: BaseModel) -> TraceRecord:
    data = line.model_dump()
    cls = RECORD_TYPES[data.pop("kind")]
    return cls(**data)


def _open_lines(source: str | os.PathLike[str] | IO[str] | IO[bytes], label: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line; bytes are decoded per line so a bad byte names its line."""
    if isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-":
        yield from _decoded(sys.stdin.buffer, label)
        return
    if isinstance(source, (str, os.PathLike)):
        if os.path.isdir(source):
            raise TraceFormatError(label, 0, "cannot read trace file: it is a directory")
        try:
            fh: Any = open(source, "rb")  # noqa: SIM115 - closed below, also on errors
        except OSError as exc:
            raise TraceFormatError(label, 0, f"cannot read trace file: {exc.strerror or exc}") from None
        try:
            yield from _decoded(fh, label)
        except OSError as exc:
            raise TraceFormatError(label, 0, f"cannot read trace file: {exc.strerror or exc}") from None
        finally:
            fh.close()
    else:
        yield from _decoded(source, label)


def _decoded(fh: Iterable[str | bytes], label: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(fh, start=1):
        if isinstance(raw, bytes):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TraceFormatError(label, number, f"not UTF-8 text: byte {raw[exc.start]:#04x} at "
                                                      f"column {exc.start + 1}") from None
        else:
            yield number, raw


def iter_jsonl(source: str | os.PathLike[str] | IO[str] | IO[bytes], name: str | None = None,
               meta_out: dict[str, Any] | None = None) -> Iterator[TraceRecord]:
    """Stream the records of a JSON Lines trace, validating each line. The header's fields go
    into `meta_out` when given. Raises `TraceFormatError` naming file and line."""
    label: str = name or ("<stdin>" if isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-"
                          else str(source) if isinstance(source, (str, os.PathLike))
                          else str(getattr(source, "name", "<stream>")))
    header_seen = False
    last_seq = -1
    last_t = -math.inf
    for number, raw in _open_lines(source, label):
        if not raw.strip():
            continue
        obj = _parse(raw, label, number)
        if not header_seen:
            _check_header(obj, label, number)
            header_seen = True
            if meta_out is not None:
                meta_out.update(obj)
                meta_out["version"] = int(obj["version"])
            continue
        try:
            line = _LINE_ADAPTER.validate_python(obj)
        except ValidationError as exc:
            raise TraceFormatError(label, number, _describe(exc)) from None
        if line.seq <= last_seq:
            raise TraceFormatError(label, number, f"seq {line.seq} does not increase (previous {last_seq})")
        if line.t < last_t:  # one clock stamps a whole trace, and clocks never go backwards
            raise TraceFormatError(label, number, f"t {line.t} is earlier than the previous record's {last_t}: "
                                                  "time never goes backwards in a trace")
        last_seq, last_t = line.seq, line.t
        yield _record_from_line(line)
    if not header_seen:
        raise TraceFormatError(label, 1, "empty trace: no header line")


def _check_header(obj: Any, label: str, number: int) -> None:
    if not isinstance(obj, dict) or obj.get("format") != TRACE_FORMAT:
        raise TraceFormatError(label, number,
                               f'first line must be a header {{"format": "{TRACE_FORMAT}", "version": N}}')
    try:
        header = TraceHeader.model_validate(obj)
    except ValidationError as exc:
        raise TraceFormatError(label, number, f"bad header: {_describe(exc)}") from None
    if header.version != TRACE_FORMAT_VERSION:
        raise TraceFormatError(label, number, f"trace format version {header.version} is not supported "
                                              f"(this reader knows version {TRACE_FORMAT_VERSION})")


def read_jsonl(source: str | os.PathLike[str] | IO[str] | IO[bytes], name: str | None = None) -> TraceFile:
    """Read and validate a whole JSON Lines trace into memory (use `iter_jsonl` to stream)."""
    meta: dict[str, Any] = {}
    records = list(iter_jsonl(source, name, meta))
    return TraceFile(meta, records)


def read_jsonl_text(text: str, name: str = "<text>") -> TraceFile:
    """`read_jsonl` of a string (tests, small traces)."""
    return read_jsonl(io.StringIO(text), name)
