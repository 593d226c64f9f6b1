"""Helpers that tests in several folders import: synthetic videos, tiny Motion-I2V networks, image tensors.

Import them as ``from helpers.synth_video import moving_photo`` (``tests/`` is on ``sys.path``
through the root ``conftest.py``).
"""
