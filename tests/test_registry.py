"""The component registry: built-ins by name, lazily loaded plugins, clear failures."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint

import pytest

from motionkit import registry
from motionkit.errors import InvalidInputError, PluginLoadError, UnknownComponentError


def test_builtins_are_listed_by_kind(fresh_registry):
    listing = fresh_registry.available()
    assert {"sparse", "motion-i2v"} <= set(listing["predictor"])
    assert {"warp", "motion-i2v"} <= set(listing["renderer"])
    assert {"dis", "farneback"} <= set(listing["flow_estimator"])
    assert listing["renderer"]["warp"] == "motionkit"


def test_unknown_name_lists_what_exists(fresh_registry):
    with pytest.raises(UnknownComponentError, match="no renderer named 'nope'.*warp"):
        fresh_registry.create("renderer", "nope")
    with pytest.raises(InvalidInputError, match="unknown component kind"):
        fresh_registry.create("painter", "warp")


def test_register_as_decorator_and_override(fresh_registry):
    @fresh_registry.register("renderer", "mine")
    class Mine:
        def __init__(self, strength=1):
            self.strength = strength

    assert fresh_registry.create("renderer", "mine", strength=3).strength == 3
    fresh_registry.register("renderer", "mine", lambda: "replaced")
    assert fresh_registry.create("renderer", "mine") == "replaced"


def test_lazy_string_factory_is_imported_on_first_use(fresh_registry, monkeypatch):
    module = types.ModuleType("fake_backend_for_test")
    module.Thing = lambda **kw: ("thing", kw)
    monkeypatch.setitem(sys.modules, "fake_backend_for_test", module)
    fresh_registry.register("flow_estimator", "thing", "fake_backend_for_test:Thing")
    assert fresh_registry.create("flow_estimator", "thing", a=1) == ("thing", {"a": 1})
    fresh_registry.register("flow_estimator", "broken", "no_such_module_xyz:Thing")
    with pytest.raises(PluginLoadError, match="no_such_module_xyz"):
        fresh_registry.create("flow_estimator", "broken")


def test_entry_point_plugins_load_lazily_and_failures_are_reported(fresh_registry, monkeypatch):
    good = types.ModuleType("mk_plugin_good")

    def setup(register):
        register("renderer", "from-plugin", lambda: "plugin renderer")

    good.setup = setup
    monkeypatch.setitem(sys.modules, "mk_plugin_good", good)
    eps = [
        EntryPoint(name="good", value="mk_plugin_good:setup", group=registry.ENTRY_POINT_GROUP),
        EntryPoint(name="bad", value="mk_plugin_missing_xyz:setup", group=registry.ENTRY_POINT_GROUP),
    ]
    calls = []

    def fake_entry_points(group):
        calls.append(group)
        return eps if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert calls == []  # nothing is scanned until asked
    assert fresh_registry.create("renderer", "from-plugin") == "plugin renderer"
    statuses = {s.name: s for s in fresh_registry.plugins()}
    assert statuses["good"].loaded and not statuses["bad"].loaded
    assert "mk_plugin_missing_xyz" in statuses["bad"].error
    assert fresh_registry.available()["renderer"]["from-plugin"] == "good"
    assert calls == [registry.ENTRY_POINT_GROUP]  # scanned once
    with pytest.raises(UnknownComponentError, match="1 plugin\\(s\\) failed to load"):
        fresh_registry.create("renderer", "absent")
