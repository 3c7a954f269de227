"""Small extensions of nbgrader 0.9.6 used by nbgrader_config.py."""

import time

from nbgrader.preprocessors import Execute
from traitlets import Integer


class BoundedExecute(Execute):
    """nbgrader's Execute with an outer time bound for the whole notebook.

    nbgrader only bounds each cell (``Execute.timeout``); a submission with many slow cells could
    still hold the class's grading for hours. Here each cell gets at most the time left of
    ``notebook_timeout``; once it is spent, the remaining cells time out at once (and score 0).
    """

    notebook_timeout = Integer(900, help="Seconds for the whole notebook.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        deadline = None  # the clock starts with the first cell, after the kernel has started

        def cell_timeout(cell):
            nonlocal deadline
            if deadline is None:
                deadline = time.monotonic() + self.notebook_timeout
            left = int(deadline - time.monotonic())
            return max(1, min(self.timeout, left))

        self.timeout_func = cell_timeout
        return super().preprocess(nb, resources, km=km)
