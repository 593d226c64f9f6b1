"""``python -m motionkit.fidelity FIXTURE_DIR``: the parity command (:mod:`motionkit.fidelity.command`)."""

import sys

from motionkit.fidelity.command import main

sys.exit(main())
