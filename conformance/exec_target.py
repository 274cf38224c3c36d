"""``exec:COMMAND`` targets: an implementation in any language, driven over stdin/stdout with a
versioned JSON Lines protocol (in the spirit of Maelstrom's nodes). `docs/conformance.md`
documents it; version 1 speaks the ``circuit_breaker``, ``event_validation`` and
``tenant_identifiers`` components.

One process serves a whole gate run. Each request is one line: ``{"v": 1, "id": N, "t": SECONDS,
"op": ...}`` with ``t`` the controlled clock's time (the only time the target may use):

- ``"op": "new"``, ``"component"``, ``"config"``: start a fresh instance (each example does);
- ``"op": "call"``, ``"method"``, ``"args"``: call a method; a permit is passed as
  ``{"permit": HANDLE}``;
- ``"op": "get"``, ``"name"``: read a property.

Each reply is one line: ``{"id": N, "ok": VALUE}`` or ``{"id": N, "error": {"kind": NAME,
"message": TEXT, "fields": {...}}}``. A permit is returned as ``{"permit": HANDLE}``; a state as
its text (``"closed"``); ``stats`` as an object with the `CircuitBreakerStats` fields.

A process that exits, stays silent past the timeout, or answers something that is not a reply to
the request is a `TargetProtocolError`: the suite reports it as the target's outcome of that
step, so it becomes a finding with the step that caused it, and the gate never hangs.
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from rustok_sim.model.events.domain import EventFormatError
from rustok_sim.model.events.validation import EventValidationError
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig, CircuitOpenError, CircuitState
from rustok_sim.model.tenancy.validation import TenantValidationError, TenantValidationErrorKind

__all__ = ["EXEC_COMPONENTS", "PROTOCOL_VERSION", "ExecBreaker", "ExecEventValidator", "ExecIdentifierValidator",
           "ExecProcess", "TargetProtocolError", "exec_factory"]

PROTOCOL_VERSION = 1
REPLY_TIMEOUT_S = 5.0


class TargetProtocolError(Exception):
    """The target process crashed, hung or answered garbage."""


class ExecProcess:
    """The target's process and the request/reply exchange with it."""

    def __init__(self, command: str, timeout: float = REPLY_TIMEOUT_S) -> None:
        self.command, self.timeout = command, timeout
        self.next_id = 0
        # stderr goes to a file, not a pipe nobody reads (a chatty target would block on it);
        # its tail explains a crash.
        self.stderr = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=self.stderr, text=True, bufsize=1)
        except OSError as exc:
            raise TargetProtocolError(f"cannot start {command!r}: {exc}") from None
        self.selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        self.buffer = ""

    def request(self, clock: float, op: str, **fields: Any) -> Any:
        self.next_id += 1
        message = {"v": PROTOCOL_VERSION, "id": self.next_id, "t": clock, "op": op, **fields}
        op = f"{op} {fields.get('method') or fields.get('name') or fields.get('component') or ''}".strip()
        process = self.process
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise TargetProtocolError(f"target process exited (code {process.poll()}) before {op}"
                                      f"{self.stderr_tail()}") from None
        line = self._read_line(op)
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            raise TargetProtocolError(f"reply to {op} is not JSON: {line[:120]!r}") from None
        if not isinstance(reply, dict) or reply.get("id") != self.next_id:
            raise TargetProtocolError(f"reply to {op} does not answer request {self.next_id}: {line[:120]!r}")
        if "error" in reply:
            raise _error_from(reply["error"], op)
        if "ok" not in reply:
            raise TargetProtocolError(f"reply to {op} has neither 'ok' nor 'error': {line[:120]!r}")
        return reply["ok"]

    def _read_line(self, op: str) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        fd = stdout.fileno()
        while "\n" not in self.buffer:
            if not self.selector.select(self.timeout):
                self.close()
                raise TargetProtocolError(f"no reply to {op} within {self.timeout:g} s")
            chunk = os.read(fd, 65536).decode("utf-8", "replace")
            if not chunk:
                raise TargetProtocolError(f"target process exited (code {self.process.wait()}) during {op}"
                                          f"{self.stderr_tail()}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split("\n", 1)
        return line

    def stderr_tail(self, size: int = 400) -> str:
        """The end of what the process wrote to stderr, as a clause for an error message."""
        try:
            self.stderr.seek(0, os.SEEK_END)
            self.stderr.seek(max(0, self.stderr.tell() - size))
            tail = self.stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return f"; its stderr ends: {tail!r}" if tail else ""

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


_ERRORS: dict[str, type[Exception]] = {}


def _error_from(error: Any, op: str) -> Exception:
    if not isinstance(error, dict) or not isinstance(error.get("kind"), str):
        return TargetProtocolError(f"malformed error reply to {op}: {error!r:.120}")
    kind, message, fields = error["kind"], str(error.get("message", "")), error.get("fields") or {}
    if kind == "CircuitOpenError":
        try:
            return CircuitOpenError(message, CircuitState(fields.get("state")), fields.get("retry_after"))
        except ValueError:
            return TargetProtocolError(f"CircuitOpenError with an unknown state {fields.get('state')!r}")
    try:
        known = _known_error(kind, fields)
    except (TypeError, ValueError) as exc:
        return TargetProtocolError(f"{kind} reply to {op} with unusable fields {fields!r:.120}: {exc}")
    if known is not None:
        known.args = (message,)  # the target's own text is what the suite compares
        return known
    cls = _ERRORS.get(kind)
    if cls is None:
        cls = _ERRORS[kind] = type(kind, (Exception,), {})
    return cls(message)


def _known_error(kind: str, fields: dict[str, Any]) -> Exception | None:
    """The validators' errors, rebuilt with their fields (which the suites compare one by one)."""
    if kind == "EventValidationError":
        return EventValidationError(fields["kind"], str(fields["field"]), max=fields.get("max"), min=fields.get("min"),
                                    value=fields.get("value"), reason=fields.get("reason"))
    if kind == "EventFormatError":
        field = fields.get("field")
        return EventFormatError("DomainEvent", [{"field": field, "type": "target", "message": "", "input": None}])
    if kind == "TenantValidationError":
        return TenantValidationError(TenantValidationErrorKind(fields["kind"]), str(fields.get("value", "")))
    return None


class _RemotePermit:
    __slots__ = ("handle",)

    def __init__(self, handle: Any) -> None:
        self.handle = handle


def _permit(value: Any) -> _RemotePermit:
    if not isinstance(value, dict) or "permit" not in value:
        raise TargetProtocolError(f"expected a permit, got {value!r:.80}")
    return _RemotePermit(value["permit"])


class ExecBreaker:
    """A circuit breaker living in another process, with the reference's surface."""

    def __init__(self, process: ExecProcess, config: CircuitBreakerConfig, clock: Callable[[], float]) -> None:
        self._process, self._clock = process, clock
        process.request(clock(), "new", component="circuit_breaker", config=config.model_dump())

    def _call(self, method: str, *args: Any) -> Any:
        return self._process.request(self._clock(), "call", method=method, args=list(args))

    def _get(self, name: str) -> Any:
        return self._process.request(self._clock(), "get", name=name)

    @property
    def state(self) -> CircuitState:
        return CircuitState(self._get("state"))

    @property
    def variant(self) -> str:
        return str(self._get("variant"))

    @property
    def failure_count(self) -> int:
        return int(self._get("failure_count"))

    @property
    def success_count(self) -> int:
        return int(self._get("success_count"))

    def admit(self) -> Any:
        value = self._call("admit")
        return None if value is None else _permit(value)

    def try_acquire(self) -> Any:
        return _permit(self._call("try_acquire"))

    def on_success(self, permit: Any) -> None:
        self._call("on_success", {"permit": permit.handle})

    def on_failure(self, permit: Any) -> None:
        self._call("on_failure", {"permit": permit.handle})

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        permit = self.try_acquire()
        try:
            result = fn(*args, **kwargs)
        except Exception:
            self.on_failure(permit)
            raise
        self.on_success(permit)
        return result

    def retry_after(self) -> float | None:
        value = self._call("retry_after")
        return None if value is None else float(value)

    def stats(self) -> Any:
        value = self._call("stats")
        if not isinstance(value, dict):
            raise TargetProtocolError(f"stats is not an object: {value!r:.80}")
        if "state" in value:
            value = {**value, "state": CircuitState(value["state"])}
        return SimpleNamespace(**value)

    def open(self) -> None:
        self._call("open")

    def close(self) -> None:
        self._call("close")

    def reset(self) -> None:
        self._call("reset")


class ExecEventValidator:
    """An event validator in another process. A payload given as JSON text goes as
    ``validate_json`` with the text, any other as ``validate`` with the JSON value."""

    def __init__(self, process: ExecProcess, snapshot: str, clock: Callable[[], float]) -> None:
        self._process, self._clock = process, clock
        process.request(clock(), "new", component="event_validation", config=snapshot)

    def validate(self, event: Any) -> None:
        if isinstance(event, (bytes, bytearray)):
            event = bytes(event).decode("utf-8", "surrogateescape")
        method = "validate_json" if isinstance(event, str) else "validate"
        self._process.request(self._clock(), "call", method=method, args=[event])


class ExecIdentifierValidator:
    """A tenant identifier validator in another process; a UUID comes back as its text."""

    def __init__(self, process: ExecProcess, clock: Callable[[], float]) -> None:
        self._process, self._clock = process, clock
        process.request(clock(), "new", component="tenant_identifiers", config=None)

    def _call(self, method: str, raw: str) -> Any:
        return self._process.request(self._clock(), "call", method=method, args=[raw])

    def validate_slug(self, raw: str) -> str:
        return str(self._call("validate_slug", raw))

    def validate_uuid(self, raw: str) -> Any:
        return self._call("validate_uuid", raw)

    def validate_host(self, raw: str) -> str:
        return str(self._call("validate_host", raw))

    def validate_any(self, raw: str) -> str:
        return str(self._call("validate_any", raw))


EXEC_COMPONENTS: dict[str, Callable[[ExecProcess, Any, Callable[[], float]], Any]] = {
    "circuit_breaker": ExecBreaker,
    "event_validation": ExecEventValidator,
    "tenant_identifiers": lambda process, config, clock: ExecIdentifierValidator(process, clock),
}
"""The components protocol v1 speaks -> the local stand-in that forwards to the process."""


def exec_factory(component: str, command: str,
                 timeout: float = REPLY_TIMEOUT_S) -> Callable[[Any, Callable[[], float]], Any]:
    """The factory of an ``exec:COMMAND`` target: one process, a fresh instance per example."""
    stand_in = EXEC_COMPONENTS.get(component)
    if stand_in is None:
        raise ValueError(f"exec targets speak {', '.join(EXEC_COMPONENTS)} (protocol v{PROTOCOL_VERSION}), "
                         f"not {component}")
    holder: dict[str, ExecProcess] = {}

    def factory(config: Any, clock: Callable[[], float]) -> Any:
        process = holder.get("process")
        if process is None or process.process.poll() is not None:
            process = holder["process"] = ExecProcess(command, timeout)
        return stand_in(process, config, clock)
    factory.close = lambda: holder["process"].close() if "process" in holder else None  # type: ignore[attr-defined]
    return factory
