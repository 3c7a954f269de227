"""Extensions of nbgrader 0.9.6 that nbgrader_config.py registers: an outer time bound for autograde,
test cells that an answer cannot disarm, output bounded in bytes, stderr that is not a verdict, and
feedback without the hidden tests."""

import json
import re
import secrets
import time
from pathlib import Path

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


def is_test(cell) -> bool:
    """A graded code cell that is not an answer: a test cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


NOT_RESET = (
    "the grader could not put the kernel back before this test, so it scores 0: an earlier cell changed "
    "how the kernel runs code (an IPython input transformer, a replaced print or sys.stdout, ...)"
)
NOT_FINISHED = (
    "this test cell did not run to its last line, so it scores 0: an earlier cell changed how the kernel "
    "runs code or handles errors (an input transformer, sys.settrace, a custom exception handler, ...)"
)
CUT = "[... {bytes} bytes of output cut: each cell keeps at most {limit} bytes (grading/settings.py OUTPUT_BYTES)]\n"


def _size(output) -> int:
    """Bytes an output takes in the notebook (a stream: its text, counted without a copy through JSON)."""
    if output.get("output_type") == "stream":
        return len(output.get("text", "").encode()) + 64
    return len(json.dumps(output, ensure_ascii=False).encode())


class GuardedExecute(BoundedExecute):
    """BoundedExecute whose test cells an answer cannot disarm, with each cell's output bounded in bytes.

    Before the first cell, a hidden execution captures the kernel as it starts
    (``grading/kernel_guard.py:make_guard``); before each test cell, a hidden execution puts all of it
    back and proves that it ran to its end by returning a per-run token; each test cell runs with one
    more line, the grader's, after which the kernel returns a second token. Both come back as the
    ``user_expressions`` of the execute request: IPython evaluates them without the input transformers,
    and answers on the shell channel, not through the output streams. A test cell scores only when both
    tokens came: else it gets a ``TestNotFinished`` error that says why (and scores 0). The tokens are
    fresh for every notebook graded, and neither they nor the extra line are saved: the autograded
    notebook holds the cell as the gradebook has it. While the kernel runs, each cell keeps at most
    ``output_bytes`` of output (the rest is dropped as it arrives, and a note says how much), so a
    submission that prints gigabytes does not fill the grader's memory or the autograded notebook.
    """

    output_bytes = Integer(100_000, help="Bytes of output kept per cell (the rest is cut).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._guard = "_dgm_guard_" + secrets.token_hex(8)
        self._reset_token, self._end_token = secrets.token_hex(16), secrets.token_hex(16)
        self._started = False
        self._budget = None
        return super().preprocess(nb, resources, km=km)

    def on_cell_executed(self, **kwargs):
        self._reply = kwargs["execute_reply"]
        return super().on_cell_executed(**kwargs)

    def _run(self, cell, index, expression: str, **kwargs) -> str:
        """Execute a cell with ``expression`` as its user expression; what the expression returned."""
        self._expressions, self._reply = {"guard": expression}, None
        try:
            self.execute_cell(cell, index, **kwargs)
        finally:
            self._expressions = {}
        content = (self._reply or {}).get("content", {})
        value = content.get("user_expressions", {}).get("guard", {})
        return value.get("data", {}).get("text/plain", "") if value.get("status") == "ok" else ""

    def _hidden(self, source: str, index: int) -> bool:
        """Run code the notebook does not show, then the reset: True when the reset returned its token."""
        cell = nbformat.v4.new_code_cell(source)
        self._budget = None
        return self._reset_token in self._run(cell, index, f"{self._guard}()", store_history=False)

    def preprocess_cell(self, cell, resources, index):
        if not self._started:
            self._started = True
            execute = self.kc.execute  # every request carries the user expressions the grader set

            def with_expressions(code, **kwargs):
                return execute(code, user_expressions=dict(self._expressions), **kwargs)

            self._expressions, self.kc.execute = {}, with_expressions
            guard = (Path(__file__).parent / "kernel_guard.py").read_text()
            tokens = f"{self._reset_token!r}, {self._end_token!r}"
            capture = f"{guard}\n{self._guard} = make_guard({tokens})\ndel make_guard"
            self._capture_ok = self._hidden(capture, index)
        if cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        reset_ok = self._capture_ok and is_test(cell) and self._hidden("pass", index)
        original = cell.source
        self._budget = {"left": self.output_bytes, "cut": 0}
        finished = False
        try:
            if is_test(cell):
                cell.source = f"{original}\n{self._guard}.done()"
                self._check_assign_resources(resources)
                finished = self._end_token in self._run(cell, index, f"{self._guard}.result()", store_history=True)
            else:
                cell, resources = super().preprocess_cell(cell, resources, index)
        finally:
            cell.source = original
            budget, self._budget = self._budget, None
        for output in cell.outputs:  # a traceback's context can quote the grader's line: not saved
            if output.get("output_type") == "error":
                output["traceback"] = [
                    "\n".join(line for line in entry.split("\n") if self._guard not in line)
                    for entry in output.get("traceback", [])
                ]
        if budget["cut"]:
            note = CUT.format(bytes=budget["cut"], limit=self.output_bytes)
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=note))
        if is_test(cell) and not any(o.output_type == "error" for o in cell.outputs):
            if not (reset_ok and finished):
                reason = NOT_RESET if not reset_ok else NOT_FINISHED
                error = nbformat.v4.new_output(
                    "error", ename="TestNotFinished", evalue=reason, traceback=[f"TestNotFinished: {reason}"]
                )
                cell.outputs.append(error)
        return cell, self.resources

    def output(self, outs, msg, display_id, cell_index):
        budget = self._budget
        content = msg.get("content", {})
        if budget is None:
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "stream":
            text = content.get("text", "")
            data = text.encode()
            keep = data[: max(0, budget["left"])].decode(errors="ignore")
            budget["cut"] += len(data) - len(keep.encode())
            budget["left"] -= len(keep.encode())
            if not keep:
                return None
            msg = {**msg, "content": {**content, "text": keep}}
        else:
            size = _size(content)
            if size > budget["left"]:
                budget["cut"] += size
                return None
            budget["left"] -= size
        return super().output(outs, msg, display_id, cell_index)


class StderrIsNotAVerdict(NbGraderPreprocessor):
    """A test cell's stderr is shown, not scored: errors fail a test, a debug line does not.

    nbgrader 0.9.6 scores 0 a graded cell with any stderr output (``utils.determine_grade``), so a
    correct answer that logs one line lost its points with no word why. Runs after ``IgnorePattern``
    (which drops known log noise) and before ``SaveAutoGrades``: what is left on stderr in a test
    cell becomes stdout, marked ``[stderr]``, so the student and the instructor still see it.
    """

    def preprocess_cell(self, cell, resources, index):
        if is_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
                    output["text"] = "[stderr] " + output.get("text", "")
        return cell, resources


def bound_outputs(nb, cell_bytes: int, notebook_bytes: int) -> int:
    """Cut each cell's outputs to ``cell_bytes`` and the notebook's to ``notebook_bytes``; bytes cut."""
    total, cut_all = 0, 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept, used, cut = [], 0, 0
        for output in cell.get("outputs", []):
            left = min(cell_bytes - used, notebook_bytes - total - used)
            size = _size(output)
            if size <= left:
                kept.append(output)
                used += size
            elif output.get("output_type") == "stream" and left > 64:
                data = output.get("text", "").encode()
                keep = data[: left - 64].decode(errors="ignore")
                cut += len(data) - len(keep.encode())
                kept.append(nbformat.v4.new_output("stream", name=output.get("name", "stdout"), text=keep))
                used += _size(kept[-1])
            elif output.get("output_type") == "error":
                kept.append(output)  # an error is the verdict: kept, its traceback cut to its last line
                output["traceback"] = output.get("traceback", [])[-1:]
                used += _size(output)
            else:
                cut += size
        if cut:
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=CUT.format(bytes=cut, limit=cell_bytes)))
        cell.outputs = kept
        total += used
        cut_all += cut
    return cut_all


class BoundedOutput(NbGraderPreprocessor):
    """Outputs bounded in bytes, not only in lines: at most ``cell_bytes`` per cell and
    ``notebook_bytes`` per notebook, with a note saying how many bytes were cut. nbgrader's
    ``LimitOutput`` counts lines, so a single 50 MB line was kept whole (in the autograded notebook and
    in the feedback page). Registered for autograde (after execution) and for feedback."""

    cell_bytes = Integer(100_000, help="Bytes of output kept per cell.").tag(config=True)
    notebook_bytes = Integer(2_000_000, help="Bytes of output kept per notebook.").tag(config=True)

    def preprocess(self, nb, resources):
        bound_outputs(nb, self.cell_bytes, self.notebook_bytes)
        return nb, resources


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
