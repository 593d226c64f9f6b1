"""One module per ``motionkit`` command; each defines ``register(app)``.

Every command calls the public API a script would (``motionkit.animate``, ``motionkit.render``,
``MotionField.load`` ...) and adds only argument parsing and progress messages.
"""
