"""Configs from text: one clear ConfigError per class of mistake, naming the field or the line."""

from __future__ import annotations

import sys
import types
from typing import Literal

import pytest
from pydantic import Field

from rustok_sim.scenarios.engine import loading
from rustok_sim.scenarios.engine.config import ScenarioConfig, Settings, Window
from rustok_sim.scenarios.engine.loading import ConfigError, apply_overrides, build_config, load_config
from rustok_sim.scenarios.engine.story import Story


class BreakerSection(Settings):
    failure_threshold: int = Field(5, ge=1)
    variant: Literal["resilience", "standalone", "hardened"] | None = None


class ToyConfig(ScenarioConfig):
    scenario: Literal["toy"] = "toy"
    lam: float = Field(9.0, alias="lambda", gt=0)
    c: int = Field(1, ge=1)
    breaker: BreakerSection = BreakerSection()
    outage: Window = Window(start=1.0, duration=2.0)


@pytest.fixture(autouse=True)
def toy_story(monkeypatch):
    module = types.ModuleType("rustok_sim_toy_story")
    module.STORY = Story("toy", "a toy", ToyConfig, lambda world, config: {}, lambda config: [])
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(loading.STORY_MODULES, "toy", module.__name__)


def write(tmp_path, text):
    path = tmp_path / "toy.toml"
    path.write_text(text)
    return str(path)


def test_a_valid_file_with_overrides(tmp_path):
    path = write(tmp_path, 'scenario = "toy"\nlambda = 4\n[breaker]\nfailure_threshold = 3\n')
    config = load_config(path, ["c=2", "breaker.variant=hardened", "outage.start=0.5"], profile="hardened")
    assert (config.lam, config.c, config.profile) == (4.0, 2, "hardened")
    assert config.breaker == BreakerSection(failure_threshold=3, variant="hardened")
    assert config.outage.start == 0.5
    assert load_config(path, ["lam=5"]).lam == 5.0  # the field's own name works as well as its alias


@pytest.mark.parametrize("text, overrides, fragments", [
    ('scenario = "toy"\nlamda = 4\n', [], ["unknown field 'lamda'", "did you mean 'lambda'"]),
    ('scenario = "toy"\n[breaker]\nfailure_treshold = 4\n', [],
     ["unknown field 'breaker.failure_treshold'", "did you mean 'failure_threshold'"]),
    ('scenario = "toy"\nc = "two"\n', [], ["field 'c'", "valid integer", "'two'"]),
    ('scenario = "toy"\nc = 0\n', [], ["field 'c'", "greater than or equal to 1"]),
    ('scenario = "toy"\nc = = 1\n', [], ["TOML syntax error", "line 2"]),
    ('scenario = "toi"\n', [], ["unknown scenario 'toi'", "did you mean 'toy'"]),
    ('c = 1\n', [], ["missing field 'scenario'"]),
    ('scenario = "toy"\n', ["c"], ["expected field=value"]),
    ('scenario = "toy"\n', ["cc=2"], ["unknown field 'cc'", "did you mean 'c'"]),
    ('scenario = "toy"\n', ["breaker.threshold=2"], ["unknown field 'breaker.threshold'"]),
    ('scenario = "toy"\n', ["c.x=2"], ["field 'c' has no sub-fields"]),
    ('scenario = "toy"\n', ["c=1.5"], ["field 'c'", "valid integer"]),
    ('scenario = "toy"\n', ["profile=harden"], ["field 'profile'", "'faithful' or 'hardened'"]),
    ('scenario = "toy"\n', ["breaker.variant=v9"], ["field 'breaker.variant'"]),
])
def test_each_mistake_is_one_clear_error(tmp_path, text, overrides, fragments):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), overrides)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message


def test_unknown_catalog_name_and_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="no catalog entry"):
        load_config("no-such-entry")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.toml"))


def test_overrides_do_not_touch_the_input():
    data = {"scenario": "toy", "breaker": {"failure_threshold": 2}}
    changed = apply_overrides(data, ["breaker.failure_threshold=7"], ToyConfig)
    assert data["breaker"]["failure_threshold"] == 2
    assert build_config(changed, "x").breaker.failure_threshold == 7
