"""Real time, for live runs only: simulations and tests drive the model on virtual clocks.

The model never reads these; a live driver passes `monotonic_clock` as a component's clock and
`wall_clock` where a real date must be stamped (event ids of a live run).
"""

from __future__ import annotations

import time

from rustok_sim.model.core.clock import Clock

monotonic_clock: Clock = time.monotonic
"""Real monotonic seconds."""

wall_clock: Clock = time.time
"""Real Unix time; not monotonic."""
