"""The verbs of the front door: ``predict_motion``, ``animate``, ``estimate_motion``, ``translate``.

They sit above the value objects and find every backend through :mod:`motionkit.registry`;
``import motionkit`` re-exports them lazily (``motionkit.animate`` and so on).
"""
