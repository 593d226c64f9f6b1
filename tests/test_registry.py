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


def test_builtin_backends_are_pairs_of_registered_components(fresh_registry):
    classical, learned = fresh_registry.backend("classical"), fresh_registry.backend("motion-i2v")
    assert (classical.predictor, classical.renderer, classical.shared_options) == ("sparse", "warp", ())
    assert (learned.predictor, learned.renderer) == ("motion-i2v", "motion-i2v")
    assert {"weights", "device", "seed", "steps", "prompt", "progress"} <= set(learned.shared_options)
    listing = fresh_registry.available()
    assert listing["backend"] == {"classical": "motionkit", "motion-i2v": "motionkit"}
    for pair in map(fresh_registry.backend, listing["backend"]):
        assert pair.predictor in listing["predictor"] and pair.renderer in listing["renderer"]


def test_shared_options_are_read_from_the_pairs(fresh_registry):
    assert fresh_registry.shared_options(predictor="sparse", renderer="warp") == ()
    assert fresh_registry.shared_options(predictor="motion-i2v", renderer="warp") == ()
    assert "weights" in fresh_registry.shared_options(predictor="motion-i2v", renderer="motion-i2v")
    assert "seed" in fresh_registry.shared_options(renderer="motion-i2v")
    assert fresh_registry.shared_options(renderer="warp") == ()
    fresh_registry.register_backend("svd", predictor="sparse", renderer="svd", shared_options=["device", "prompt"])
    assert fresh_registry.shared_options(predictor="sparse") == ("device", "prompt")
    assert fresh_registry.backend("svd").shared_options == ("device", "prompt")  # a list arrives as a tuple


def test_a_plugin_registers_a_backend_through_the_callable_it_receives(fresh_registry, monkeypatch):
    plugin = types.ModuleType("mk_plugin_backend")

    def setup(register):
        register("renderer", "svd", lambda: "svd renderer")
        register("backend", "svd-i2v", {"predictor": "sparse", "renderer": "svd", "shared_options": ("prompt",)})

    plugin.setup = setup
    monkeypatch.setitem(sys.modules, "mk_plugin_backend", plugin)
    eps = [EntryPoint(name="svdpack", value="mk_plugin_backend:setup", group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps if group == registry.ENTRY_POINT_GROUP else [])
    assert fresh_registry.backend("svd-i2v") == registry.Backend("sparse", "svd", ("prompt",))
    assert fresh_registry.available()["backend"]["svd-i2v"] == "svdpack"


def test_bad_backends_are_refused_with_what_was_expected(fresh_registry):
    with pytest.raises(InvalidInputError, match="unknown backend 'nope'; expected one of classical, motion-i2v"):
        fresh_registry.backend("nope")
    with pytest.raises(InvalidInputError, match="expected predictor="):
        fresh_registry.register("backend", "b", {"predictor": "sparse", "painter": "warp"})
    with pytest.raises(InvalidInputError, match="renderer must be a registered name"):
        fresh_registry.register_backend("b", predictor="sparse", renderer="")
    with pytest.raises(InvalidInputError, match="sequence of option names"):
        fresh_registry.register_backend("b", predictor="sparse", renderer="warp", shared_options="seed")
    with pytest.raises(InvalidInputError, match="unknown component kind"):
        fresh_registry.create("backend", "classical")  # a backend is data, not a component to build
    assert "b" not in fresh_registry.available()["backend"]
