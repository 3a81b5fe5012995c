"""Stopping cleanly on Ctrl-C or a termination request."""

import signal
from typing import Optional


class StopRequest:
    """Turns SIGINT and SIGTERM into a flag that the training loop checks between steps.

    The step in flight finishes, then the loop saves a checkpoint and exits: nothing is
    torn. mlx sends SIGINT on Ctrl-C (and SIGKILL if the script has not stopped after a
    grace period); schedulers such as Slurm send SIGTERM before they preempt.
    """

    def __init__(self):
        self.signal: Optional[str] = None
        # A plain attribute, not a property: the loop reads it at every step, where the kernels in
        # between have evicted Python's code and data and one more call costs microseconds.
        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame):
        self.signal = signal.Signals(signum).name
        self.requested = True
