"""Extensions of nbgrader 0.9.6 that nbgrader_config.py registers: an outer time bound for autograde,
and feedback without the hidden tests."""

import json
import re
import time

import nbformat
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
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


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[^\n]*", re.S)
HIDDEN_NOTE = "# (hidden tests ran here when the lab was graded; their code is not shown)"
REMOVED = "[output removed: it contained hidden test code]\n"


def hidden_lines(nb) -> set[str]:
    """Lines of the hidden tests in a notebook that appear nowhere else in it (long enough to tell)."""
    hidden, visible = set(), set()
    for cell in nb.cells:
        for block in HIDDEN.findall(cell.source):
            hidden |= {ln.strip() for ln in block.splitlines()[1:-1] if len(ln.strip()) >= 12}
        visible |= {ln.strip() for ln in HIDDEN.sub("", cell.source).splitlines()}
    return {line for line in hidden if not any(line in seen for seen in visible)}


class ScrubHiddenTests(NbGraderPreprocessor):
    """Feedback as a student may see it: the hidden tests' code removed, failures shown as one line.

    Registered for ``nbgrader generate_feedback`` in nbgrader_config.py, so the plain command is as
    safe as ``python -m grading feedback``. In every cell, each hidden-test block becomes a one-line
    note; a graded cell's error keeps only ``Name: message`` (a traceback quotes the hidden lines);
    any output that still shows a hidden line (a student printing their test cell) is removed.
    """

    def preprocess(self, nb, resources):
        secret = hidden_lines(nb)
        for cell in nb.cells:
            if HIDDEN.search(cell.source):
                cell.source = HIDDEN.sub(HIDDEN_NOTE, cell.source)
            if cell.cell_type != "code":
                continue
            graded = cell.metadata.get("nbgrader", {}).get("grade", False)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and graded:
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
            for index, output in enumerate(cell.get("outputs", [])):
                text = json.dumps(output)
                if any(json.dumps(line)[1:-1] in text for line in secret):
                    cell.outputs[index] = nbformat.v4.new_output("stream", name="stdout", text=REMOVED)
        return nb, resources
