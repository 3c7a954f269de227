"""How close is each graded answer to code a lecture already shows?

    python tools/similarity.py            # a table: every graded answer, its score and the closest lecture cell
    python tools/similarity.py lab05_vae  # one lab

A lab exercise must apply the lecture's idea to a case the lecture does not show, so pasting a lecture
cell into the function must not pass. This tool measures how much of an answer could have been pasted.

The code a student writes (between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and every lecture
code cell are turned into token sequences with the names a student would rename abstracted: a name the
code binds itself (a parameter, an assigned variable, a loop variable, a function it defines) becomes
``ID``, numbers become ``NUM`` and strings ``STR``. Library calls, attributes, keyword names and Python
keywords are kept, because they are what a copy keeps. The score is the share of the answer's
``WINDOW``-token windows that occur somewhere in the lectures: 1.0 is a copy, 0.0 shares nothing.
Windows found in two or more lectures are the course's idioms (a Keras training step, a log-sum-exp)
and count for neither side: sharing them is style, not copying.
``tests/test_similarity.py`` holds every lab below ``THRESHOLD`` and checks that known copies exceed it.

What it cannot see: a lecture cell re-typed in another library (``tf.reduce_sum`` as ``np.sum``) or
re-ordered keeps its meaning and loses its tokens. That is why each catalogue also submits the
lecture's own version of an exercise as a wrong answer: the behavioural check, through nbgrader.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import io
import keyword
import re
import sys
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grading import markers, settings

WINDOW = 8  # tokens; shorter windows match common idioms (`return tf.reduce_sum(ID, axis=-1)`) by chance
THRESHOLD = 0.3  # calibrated on the labs before their transfer rewrite: see tests/test_similarity.py
IDIOM = 2  # a window in this many lectures is an idiom of the course
SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION", re.M | re.S)
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
SKIPPED |= {tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass(frozen=True)
class Score:
    lab: str
    answer: str
    tokens: int
    score: float  # share of the answer's windows found anywhere in the lectures
    closest: str  # the lecture cell sharing most windows, as "lecture:line"
    closest_score: float


def bound_names(code: str) -> set[str]:
    """Names the code binds (parameters, targets, definitions, imports): what a student would rename."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias) and not (node.asname or node.name).startswith(("tf", "np", "keras")):
            names.add((node.asname or node.name).split(".")[0])
    return names


def tokens(code: str, bound: set[str]) -> list[str]:
    """The normalised token sequence of ``code``: bound names, numbers and strings abstracted."""
    out: list[str] = []
    previous = ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in SKIPPED:
                continue
            text = token.string
            if token.type == tokenize.NAME and previous != "." and not keyword.iskeyword(text):
                text = "ID" if text in bound and not hasattr(builtins, text) else text
            elif token.type == tokenize.NUMBER:
                text = "NUM"
            elif token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_START", -1):
                text = "STR"
            elif token.type in (getattr(tokenize, "FSTRING_MIDDLE", -1), getattr(tokenize, "FSTRING_END", -1)):
                continue
            out.append(text)
            previous = token.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def windows(sequence: list[str]) -> set[tuple[str, ...]]:
    if len(sequence) < WINDOW:
        return {tuple(sequence)} if sequence else set()
    return {tuple(sequence[i : i + WINDOW]) for i in range(len(sequence) - WINDOW + 1)}


def _dedent_block(block: str) -> str:
    lines = block.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    body = "\n".join(line[indent:] for line in lines)
    return body + "\n"


def answer_code(cell: str) -> list[str]:
    """The parts of a solution cell a student writes, each dedented to parse on its own."""
    return [_dedent_block(block) for block in SOLUTION.findall(cell)]


def lecture_cells() -> list[tuple[str, set[tuple[str, ...]]]]:
    """Every lecture code cell as ("lecture:line", its windows), idioms of the course left out."""
    out = []
    for path in sorted((settings.REPOSITORY_ROOT / settings.SOURCE / "lectures").glob("*.py")):
        text = path.read_text()
        line = 1
        for chunk in re.split(r"^(?=# %%)", text, flags=re.M):
            first = chunk.splitlines()[0] if chunk else ""
            if first.startswith("# %%") and "[markdown]" not in first and chunk.strip():
                body = chunk.split("\n", 1)[1] if "\n" in chunk else ""
                out.append((f"{path.stem}:{line}", windows(tokens(body, bound_names(body)))))
            line += chunk.count("\n")
    lectures: dict[str, set] = {}
    for where, cell_windows in out:
        lectures.setdefault(where.split(":")[0], set()).update(cell_windows)
    seen = Counter(window for windows_of_one in lectures.values() for window in windows_of_one)
    idioms = {window for window, count in seen.items() if count >= IDIOM}
    return [(where, cell_windows - idioms) for where, cell_windows in out] + [("idioms", idioms)]


def score_answer(lab: str, name: str, cell: str, lectures) -> Score | None:
    """The score of one graded answer, or None when it writes no code (a predicted value, say)."""
    if not re.search(r"^(def|class) ", cell, flags=re.M):
        return None  # a value such as `predicted_kl_growth = "b"`: nothing to copy
    bound = bound_names(cell)
    sequence = [token for block in answer_code(cell) for token in tokens(block, bound)]
    *cells, (_, idioms) = lectures
    own = windows(sequence) - idioms
    if not own:
        return Score(lab, name, len(sequence), 0.0, "", 0.0)
    everywhere = set().union(*(cell_windows for _, cell_windows in cells))
    best, best_share = "", 0.0
    for where, cell_windows in cells:
        share = len(own & cell_windows) / len(own)
        if share > best_share:
            best, best_share = where, share
    return Score(lab, name, len(sequence), len(own & everywhere) / len(own), best, best_share)


def score_text(lab: str, text: str, lectures=None) -> list[Score]:
    """Scores of every graded answer in a lab's text twin."""
    lectures = lecture_cells() if lectures is None else lectures
    out = []
    for key, cell in markers.cells(text, lab).items():
        kind, _, name = key.partition(" ")
        if kind == "solution":
            score = score_answer(lab, name, cell, lectures)
            if score is not None:
                out.append(score)
    return out


def score_labs(only: list[str] | None = None) -> list[Score]:
    lectures = lecture_cells()
    out = []
    for path in sorted((settings.REPOSITORY_ROOT / settings.SOURCE / "labs").glob("lab*.py")):
        if not only or path.stem in only:
            out.extend(score_text(path.stem, path.read_text(), lectures))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="lab names (default: all)")
    args = parser.parse_args(argv)
    scores = score_labs(args.labs)
    print(f"{'lab':<12} {'answer':<36} {'tokens':>6} {'score':>6}  closest lecture cell")
    for s in scores:
        flag = "  COPY" if s.score >= THRESHOLD else ""
        print(f"{s.lab:<12} {s.answer:<36} {s.tokens:>6} {s.score:6.2f}  {s.closest} ({s.closest_score:.2f}){flag}")
    copies = [s for s in scores if s.score >= THRESHOLD]
    print(f"\n{len(copies)} of {len(scores)} answers at or above the threshold {THRESHOLD}.")
    return 1 if copies else 0


if __name__ == "__main__":
    sys.exit(main())
