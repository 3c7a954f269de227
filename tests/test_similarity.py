"""No graded answer may be code a lecture already shows (tools/similarity.py says how it is measured).

The check is calibrated on the labs as they were before their transfer rewrite: the answers quoted in
``fixtures/copied_answers.py`` were pasted from lectures and must score at or above the threshold;
those in ``fixtures/original_answers.py`` needed real work and must score below it.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from grading import settings
from tools import similarity

FIXTURES = Path(__file__).parent / "fixtures"
LABS = sorted(p.stem for p in (settings.REPOSITORY_ROOT / settings.SOURCE / "labs").glob("lab*.py"))


@pytest.fixture(scope="module")
def lectures():
    return similarity.lecture_cells()


def _report(scores) -> str:
    return "\n".join(
        f"  {s.answer}: {s.score:.2f}, closest lecture cell {s.closest} ({s.closest_score:.2f})" for s in scores
    )


@pytest.mark.parametrize("lab", LABS)
def test_no_graded_answer_is_a_lecture_copy(lab, lectures):
    path = settings.REPOSITORY_ROOT / settings.SOURCE / "labs" / f"{lab}.py"
    scores = similarity.score_text(lab, path.read_text(), lectures)
    assert scores, f"{lab} has no graded answer that writes code"
    copies = [s for s in scores if s.score >= similarity.THRESHOLD]
    assert not copies, (
        f"{lab}: these answers share at least {similarity.THRESHOLD:.0%} of their code with a lecture; make the "
        f"exercise apply the idea to a case the lecture does not show:\n{_report(copies)}"
    )


def test_known_copies_are_flagged(lectures):
    scores = similarity.score_text("copied", (FIXTURES / "copied_answers.py").read_text(), lectures)
    assert len(scores) == 6
    # The one-line reparameterised sample `mean + tf.exp(0.5 * log_var) * eps` is now written in several lectures
    # (05, 07, 08, 10): a course idiom, which the check leaves alone by design. The five other copies are flagged.
    twins = (settings.REPOSITORY_ROOT / settings.SOURCE / "lectures").glob("*.py")
    idiom = [twin.stem for twin in twins if "mean + tf.exp(0.5 * log_var) *" in twin.read_text()]
    assert len(idiom) >= similarity.IDIOM, "the reparameterised sample is no longer an idiom: flag its copy again"
    missed = [s for s in scores if s.score < similarity.THRESHOLD and s.answer != "reparameterize"]
    assert not missed, f"copies scored below {similarity.THRESHOLD}:\n{_report(missed)}"


def test_answers_that_needed_work_pass(lectures):
    scores = similarity.score_text("original", (FIXTURES / "original_answers.py").read_text(), lectures)
    assert len(scores) == 3
    flagged = [s for s in scores if s.score >= similarity.THRESHOLD]
    assert not flagged, f"original answers flagged:\n{_report(flagged)}"


def _lecture_functions():
    """Functions defined in lecture code cells, each with at least 40 tokens."""
    for path in sorted((settings.REPOSITORY_ROOT / settings.SOURCE / "lectures").glob("*.py")):
        for block in re.findall(r"^def \w+\(.*?(?=^\S)", path.read_text(), flags=re.M | re.S):
            if len(similarity.tokens(block, similarity.bound_names(block))) >= 40:
                yield block


def _renamed(code: str, names: set[str]) -> str:
    """``code`` with every variable in ``names`` renamed, as a student adapting it would (keywords kept)."""
    out, depth, previous = [], 0, None
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    for index, token in enumerate(tokens):
        following = tokens[index + 1].string if index + 1 < len(tokens) else ""
        depth += token.string in "([{" and token.type == tokenize.OP
        depth -= token.string in ")]}" and token.type == tokenize.OP
        keyword_argument = depth > 0 and following == "="
        if token.type == tokenize.NAME and token.string in names and previous != "." and not keyword_argument:
            token = token._replace(string=f"renamed_{token.string}")
        out.append(token)
        previous = token.string
    return tokenize.untokenize(out)


def test_a_pasted_lecture_function_is_flagged_even_renamed(lectures):
    """Wrap lecture functions in an answer cell, renaming every variable: each must be flagged."""
    blocks = list(_lecture_functions())
    assert len(blocks) >= 20
    scores = []
    for block in blocks:
        signature, body = _renamed(block, similarity.bound_names(block)).split("\n", 1)
        renamed = body
        cell = f"{signature}\n    ### BEGIN SOLUTION\n{renamed}    ### END SOLUTION\n"
        scores.append(similarity.score_answer("pasted", signature, cell, lectures))
    # Idioms shared by two lectures do not count, so a short lecture function made only of idioms
    # can score low; nearly every pasted function must still be caught.
    missed = [s for s in scores if s.score < similarity.THRESHOLD]
    assert len(missed) <= 0.1 * len(scores), f"missed {len(missed)} of {len(scores)}:\n{_report(missed)}"


def test_predicted_values_and_short_answers_are_not_scored(lectures):
    cell = '# %% solution predicted_growth\npredicted_growth = "b"  ### BEGIN SOLUTION\n'
    assert similarity.score_text("values", cell, lectures) == []
