"""The verbs of the front door: ``predict_motion``, ``render``, ``animate``, ``estimate_motion``, ``translate``.

They sit above the value objects and find every backend through :mod:`motionkit.registry`
(backend pairs included); ``import motionkit`` re-exports them lazily (``motionkit.animate``
and so on).
"""
