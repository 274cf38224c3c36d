"""From text to a validated config: catalog names and TOML files, ``--set field=value``
overrides, and one clear `ConfigError` for anything wrong (naming the field or the line and
suggesting the closest valid name).
"""

from __future__ import annotations

import difflib
import importlib
import tomllib
import typing
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rustok_sim.scenarios.engine.config import ScenarioConfig
from rustok_sim.scenarios.engine.story import Story

__all__ = ["STORY_MODULES", "CatalogEntry", "ConfigError", "apply_overrides", "build_config", "catalog",
           "load_config", "story_named"]

STORY_MODULES: dict[str, str] = {
    name: f"rustok_sim.scenarios.stories.{name}"
    for name in ("flood", "mmck", "redis_outage", "rollback", "stampede", "mixed")
}


class ConfigError(ValueError):
    """A config that cannot run: says where (file, field, line) and what."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source, self.message = source, message


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(sorted(choices))}"


def story_named(name: str, source: str = "config") -> Story[Any]:
    module_name = STORY_MODULES.get(name)
    if module_name is None:
        raise ConfigError(source, f"unknown scenario {name!r}{_suggest(name, list(STORY_MODULES))}")
    story: Story[Any] = importlib.import_module(module_name).STORY
    return story


# -- the catalog --------------------------------------------------------------------------


class CatalogEntry:
    __slots__ = ("name", "scenario", "description", "text")

    def __init__(self, name: str, scenario: str, description: str, text: str) -> None:
        self.name, self.scenario, self.description, self.text = name, scenario, description, text


def catalog() -> dict[str, CatalogEntry]:
    """The named configs shipped in the package (scenarios/catalog/*.toml), by file stem."""
    entries: dict[str, CatalogEntry] = {}
    folder = resources.files("rustok_sim.scenarios.catalog")
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".toml"):
            continue
        name = item.name.removesuffix(".toml")
        text = item.read_text(encoding="utf-8")
        data = parse_toml(text, f"catalog entry {name}")
        entries[name] = CatalogEntry(name, str(data.get("scenario", "")), str(data.get("description", "")), text)
    return entries


# -- parsing ------------------------------------------------------------------------------


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, f"TOML syntax error: {exc}") from None


def _parse_value(raw: str) -> Any:
    """A ``--set`` value is a TOML value (``5``, ``0.25``, ``true``, ``"v1"``, ``[1, 2]``,
    ``{kind = "constant", value = 0.01}``); anything that is not one is taken as a bare string,
    so ``--set profile=hardened`` works without quotes."""
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """Every name a field answers to (its name and its alias) -> the name it is stored under in
    the input (the alias when there is one, as the TOML files spell it)."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        names[name] = key
        names[key] = key
    return names


def _submodel(model: type[BaseModel], key: str, data: Mapping[str, Any] | None = None) -> type[BaseModel] | None:
    """The section model of field `key`. A union of sections (``arrivals``: poisson | ramp |
    diurnal) resolves by the ``kind`` the data names, else by the first member that is a
    section (an optional section, ``X | None``, is X)."""
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            members = [m for m in typing.get_args(info.annotation) or (info.annotation,)
                       if isinstance(m, type) and issubclass(m, BaseModel)]
            kind = data.get("kind") if isinstance(data, Mapping) else None
            for member in members:
                field = member.model_fields.get("kind")
                if kind is not None and field is not None and field.default == kind:
                    return member
            return members[0] if members else None
    return None


def _section_default(model: type[BaseModel], key: str) -> dict[str, Any]:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            default = info.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                return default.model_dump(by_alias=True)
    return {}


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str], config_cls: type[ScenarioConfig]) -> dict[str, Any]:
    """`data` with each ``dotted.field=value`` applied, every field name checked against the
    config model (an unknown one is an error suggesting the closest)."""
    result: dict[str, Any] = _deep_copy(data)
    for override in overrides:
        source = f"--set {override}"
        path_text, sep, raw = override.partition("=")
        path = [part.strip() for part in path_text.split(".")]
        if not sep or not all(path):
            raise ConfigError(source, "expected field=value (a dotted field such as breaker.failure_threshold)")
        model: type[BaseModel] | None = config_cls
        target = result
        for depth, part in enumerate(path):
            if model is None:
                where = ".".join(path[:depth])
                raise ConfigError(source, f"field {where!r} has no sub-fields")
            names = _field_names(model)
            if part not in names:
                where = ".".join(path[:depth] + [part])
                raise ConfigError(source, f"unknown field {where!r}{_suggest(part, list(names))}")
            key = names[part]
            if depth == len(path) - 1:
                target[key] = _parse_value(raw.strip())
            else:
                nested = target.get(key)
                if not isinstance(nested, dict):
                    # A section the input leaves out starts from its default, so that setting one
                    # of its fields keeps the others.
                    nested = _section_default(model, key)
                    target[key] = nested
                target = nested
                model = _submodel(model, key, nested)
    return result


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def build_config(data: Mapping[str, Any], source: str) -> ScenarioConfig:
    """Validate `data` as the config of the story its ``scenario`` names."""
    name = data.get("scenario")
    if not isinstance(name, str):
        raise ConfigError(source, f"missing field 'scenario' (one of: {', '.join(STORY_MODULES)})")
    story = story_named(name, source)
    try:
        return story.config.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(source, _describe(exc, story.config)) from None


def _describe(error: ValidationError, model: type[BaseModel]) -> str:
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        where = ".".join(loc) or "config"
        if item["type"] == "extra_forbidden":
            parent: type[BaseModel] | None = model
            for part in loc[:-1]:
                parent = _submodel(parent, part) if parent is not None else None
            hint = _suggest(loc[-1], list(_field_names(parent))) if parent is not None else ""
            problems.append(f"unknown field {where!r}{hint}")
        else:
            message = item["msg"]
            if item["type"] == "value_error":
                message = message.removeprefix("Value error, ")
            problems.append(f"field {where!r}: {message} (got {item['input']!r})"
                            if item["type"] != "missing" else f"field {where!r}: required")
    return "; ".join(problems)


def load_config(name_or_path: str, overrides: Sequence[str] = (), *, profile: str | None = None) -> ScenarioConfig:
    """A catalog entry by name, or a TOML file by path, with overrides applied and validated."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(source, f"cannot read: {exc.strerror or exc}") from None
    else:
        entries = catalog()
        entry = entries.get(name_or_path)
        if entry is None:
            raise ConfigError(name_or_path, f"no catalog entry or .toml file of that name"
                                            f"{_suggest(name_or_path, list(entries))}")
        source, text = f"catalog entry {name_or_path}", entry.text
    data = parse_toml(text, source)
    name = data.get("scenario")
    if not isinstance(name, str):
        raise ConfigError(source, f"missing field 'scenario' (one of: {', '.join(STORY_MODULES)})")
    config_cls = story_named(name, source).config
    if profile is not None:
        overrides = [*overrides, f"profile={profile}"]
    data = apply_overrides(data, overrides, config_cls)
    return build_config(data, source)
