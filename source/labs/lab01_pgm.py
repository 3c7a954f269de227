# %% [markdown]
# # Lab 01 — Probabilistic graphical models
#
# The lecture worked with one fixed network (age, salary, gender, marital status, $y$) and binary toy graphs.
# Here you write the tools for **any** discrete Bayesian network: count its free parameters (and reject a
# graph with a cycle), build its joint table from its conditional tables, answer queries with several query
# and evidence variables, test a conditional independence on the joint, and learn the tables from samples
# with a pseudo count. You try them on a different network, the "student" network of Koller and Friedman,
# whose grade has three values.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - count the free parameters of the conditional probability tables (CPTs) of any DAG over discrete variables,
#   and say why a directed graph with a cycle defines no distribution;
# - multiply the CPTs of any DAG into its joint table, matching each table's axes to its variables;
# - compute $p(\text{query} \mid \text{evidence})$ for several query variables by fixing the evidence,
#   summing out the hidden variables and normalising;
# - test $a \perp b \mid Z$ on a joint table, and relate the answers to chains, forks and colliders;
# - learn CPTs from samples by counting, with a pseudo count for the parent configurations the data never shows.

# %% setup

# %% locked imports
import itertools

import numpy as np

# %% [markdown]
# ## The student network
#
# A student takes a course. Its **difficulty** and the student's **intelligence** are independent causes of
# the **grade**; intelligence also drives the **SAT** score, and the teacher writes a recommendation
# **letter** from the grade alone (Koller & Friedman 2009, Fig. 3.4):
#
# $$p(d, i, g, s, l) = p(d)\, p(i)\, p(g \mid i, d)\, p(s \mid i)\, p(l \mid g).$$
#
# | variable | values |
# |---|---|
# | difficulty | 0 = easy, 1 = hard |
# | intelligence | 0 = average, 1 = high |
# | grade | 0 = A, 1 = B, 2 = C |
# | sat | 0 = low, 1 = high |
# | letter | 0 = weak, 1 = strong |
#
# **Conventions used throughout the lab.** A network is given by `parents` (each variable's list of parents)
# and `tables`: `tables[v]` has one axis per parent, **in the order of `parents[v]`**, then the axis of `v`
# itself, last; each row (the last axis) sums to one. A joint table has one axis per variable, in the order
# of a list `names`. Note that the grade's table is indexed `[intelligence, difficulty, grade]`, not in the
# order of `student_names`.

# %% locked network
student_names = ["difficulty", "intelligence", "grade", "sat", "letter"]
student_cards = {"difficulty": 2, "intelligence": 2, "grade": 3, "sat": 2, "letter": 2}
student_parents = {
    "difficulty": [],
    "intelligence": [],
    "grade": ["intelligence", "difficulty"],
    "sat": ["intelligence"],
    "letter": ["grade"],
}
student_tables = {
    "difficulty": np.array([0.6, 0.4]),
    "intelligence": np.array([0.7, 0.3]),
    "grade": np.array(  # p(grade | intelligence, difficulty), axes intelligence, difficulty, grade
        [[[0.30, 0.40, 0.30], [0.05, 0.25, 0.70]], [[0.90, 0.08, 0.02], [0.50, 0.30, 0.20]]]
    ),
    "sat": np.array([[0.95, 0.05], [0.20, 0.80]]),  # p(sat | intelligence)
    "letter": np.array([[0.10, 0.90], [0.40, 0.60], [0.99, 0.01]]),  # p(letter | grade)
}

# %% [markdown]
# ## Exercise 1 — Free parameters, and graphs that are not DAGs (3 points)
#
# A CPT $p(v \mid \mathrm{pa}(v))$ has one row per configuration of the parents; each row sums to one, so a row
# over the $|v|$ values of $v$ has $|v| - 1$ free parameters. Return the total number of **free parameters**
# of all the CPTs of the graph.
#
# Only an **acyclic** graph defines a distribution this way: the lecture's argument that the product of the
# tables sums to one sums out a variable that is no other's parent, then the next, which needs an order where
# parents come first. With a cycle there is none, and the product of two perfectly normalised tables
# $p(a \mid b)\,p(b \mid a)$ need not sum to one (the cell below shows it). So your function must **raise a
# `ValueError`** when the graph has a directed cycle (a self-loop included). The dictionaries may list the
# variables in any order.

# %%
# Not graded: a "network" with the cycle a -> b -> a. Both tables are normalised; their product is not.
rng_cycle = np.random.default_rng(0)
a_given_b = rng_cycle.dirichlet(np.ones(3), size=3)  # axes b, a
b_given_a = rng_cycle.dirichlet(np.ones(3), size=3)  # axes a, b
print(f"sum over a, b of p(a | b) p(b | a) = {np.einsum('ba,ab->', a_given_b, b_given_a):.4f}")


# %% solution count_parameters
def count_parameters(parents, cardinalities):
    """The number of free parameters of the CPTs of a discrete Bayesian network.

    parents: dict mapping each variable name to a list of its parents' names ([] for none).
    cardinalities: dict mapping each variable name (the same keys) to its number of values (an int >= 1).
    Returns: an int, the sum over the variables of (|v| - 1) times the number of parent configurations.
    Raises: ValueError if the graph has a directed cycle (a variable listed among its own parents included).
    """
    ### BEGIN SOLUTION
    waiting = {v: set(pa) for v, pa in parents.items()}
    while waiting:  # peel off the variables whose parents are all placed already
        ready = [v for v, pa in waiting.items() if not pa & waiting.keys()]
        if not ready:
            raise ValueError(f"the graph has a directed cycle among {sorted(waiting)}")
        for v in ready:
            del waiting[v]
    free = 0
    for v, pa in parents.items():
        rows = int(np.prod([cardinalities[u] for u in pa], dtype=np.int64))
        free += rows * (cardinalities[v] - 1)
    return int(free)
    ### END SOLUTION


# %% test count_parameters points=2
def _free_hints(parents, cards):
    """Answers that known mistakes give, each with what the mistake is."""
    rows = {v: int(np.prod([cards[u] for u in parents[v]])) for v in cards}
    added = {v: sum(cards[u] for u in parents[v]) if parents[v] else 1 for v in cards}
    return [
        (
            sum(rows[v] * cards[v] for v in cards),
            "that is the number of entries: each row of a CPT sums to one, so a row over |v| values has "
            "|v| - 1 free parameters.",
        ),
        (
            sum(rows[v] * cards[v] for v in cards) - len(cards),
            "you subtracted 1 per variable: the sum-to-one constraint holds for every row (every "
            "configuration of the parents).",
        ),
        (
            sum(added[v] * (cards[v] - 1) for v in cards),
            "a CPT has one row per configuration of its parents: multiply their cardinalities, do not add them.",
        ),
        (
            sum(2 ** len(parents[v]) * (cards[v] - 1) for v in cards),
            "you counted 2 rows per parent, as if every parent were binary: multiply the parents' cardinalities.",
        ),
        (sum(c - 1 for c in cards.values()), "you ignored the parents: a CPT has one row per parent configuration."),
    ]


_cards = {"difficulty": 2, "intelligence": 2, "grade": 3, "sat": 2, "letter": 2}
_parents = {"difficulty": [], "intelligence": [], "grade": ["intelligence", "difficulty"]}
_parents.update({"sat": ["intelligence"], "letter": ["grade"]})
checks.assert_close(
    count_parameters(_parents, _cards), 15, "count_parameters(student network)", hints=_free_hints(_parents, _cards)
)
_order = list(_cards)
_chain = {v: _order[:k] for k, v in enumerate(_order)}  # the chain rule: every variable after all earlier ones
checks.assert_close(
    count_parameters(_chain, _cards),
    2 * 2 * 3 * 2 * 2 - 1,
    "count_parameters(the chain rule over the student variables: as many as one table of 48 entries)",
    hints=_free_hints(_chain, _cards),
)
checks.assert_close(count_parameters({"x": []}, {"x": 4}), 3, "count_parameters for one variable with 4 values")


### BEGIN HIDDEN TESTS
def _brute_force_free(parents, cards):
    """Build every CPT as an array and count its entries minus one per row."""
    total = 0
    for v in cards:
        table = np.zeros([cards[u] for u in parents[v]] + [cards[v]])
        total += table.size - table[..., 0].size
    return total


_rng = np.random.default_rng(11)
for _trial in range(6):
    _names = [f"v{k}" for k in range(int(_rng.integers(3, 8)))]
    _cards = {v: int(_rng.integers(2, 6)) for v in _names}
    _parents = {v: [u for u in _names[:k] if _rng.random() < 0.5] for k, v in enumerate(_names)}
    _parents = {v: list(_rng.permutation(pa)) if pa else [] for v, pa in _parents.items()}
    # Keys in reverse (not topological) order: nothing may depend on the order of the dictionaries.
    _got = count_parameters(dict(reversed(_parents.items())), dict(reversed(_cards.items())))
    checks.assert_close(
        _got,
        _brute_force_free(_parents, _cards),
        f"count_parameters on the random DAG {_parents} with cardinalities {_cards}",
        hints=_free_hints(_parents, _cards),
    )
_names = [f"b{k}" for k in range(10)]
checks.assert_close(
    count_parameters({v: _names[:k] for k, v in enumerate(_names)}, {v: 2 for v in _names}),
    2**10 - 1,
    "count_parameters for 10 binary variables with the chain rule (2^10 - 1 free)",
)
checks.assert_close(
    count_parameters({"a": [], "b": ["a"], "c": ["b"]}, {"a": 3, "b": 1, "c": 2}),
    3,
    "count_parameters with a variable of cardinality 1 (a constant: no free parameter)",
)
checks.assert_close(
    count_parameters({"a": [], "b": []}, {"a": 3, "b": 4}),
    5,
    "count_parameters for a graph without arrows",
    hints=_free_hints({"a": [], "b": []}, {"a": 3, "b": 4}),
)
### END HIDDEN TESTS


# %% test count_parameters:cycles points=1
def _expect_cycle_error(parents, what):
    cards = {v: 2 for v in parents}
    try:
        got = count_parameters(parents, cards)
    except ValueError:
        return
    except Exception as err:
        raise checks.CheckFailure(
            f"count_parameters({parents}) raised {type(err).__name__}: {err}; expected a ValueError ({what})."
        ) from None
    raise checks.CheckFailure(
        f"count_parameters({parents}) returned {got}; expected a ValueError: {what}. A directed graph with a "
        "cycle has no order in which parents come first, and the product of its tables need not sum to one."
    )


_expect_cycle_error({"a": ["b"], "b": ["a"]}, "a -> b -> a is a cycle")
### BEGIN HIDDEN TESTS
_expect_cycle_error({"a": [], "b": ["a", "b"]}, "b is listed among its own parents (a self-loop)")
_expect_cycle_error(
    {"x": [], "a": ["x", "c"], "b": ["a"], "c": ["b"], "y": ["a"]},
    "a -> b -> c -> a is a cycle of length 3 (no pair of variables is each other's parent)",
)
# Acyclic graphs listed in reverse topological order must not raise.
for _parents in [
    {"d": ["c", "a"], "c": ["b"], "b": ["a"], "a": []},
    {"letter": ["grade"], "grade": ["intelligence", "difficulty"], "intelligence": [], "difficulty": []},
]:
    try:
        count_parameters(_parents, {v: 2 for v in _parents})
    except Exception as err:
        raise checks.CheckFailure(
            f"count_parameters({_parents}) raised {type(err).__name__}: {err}; this graph is acyclic, its "
            "variables are only listed children first. Look for a cycle, not for parents listed after a child."
        ) from None
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: one more arrow (1 point)
#
# The student network has 15 free parameters. Suppose the teacher also knows the student, so that the letter
# depends on the grade **and** on intelligence (one more arrow, intelligence → letter); nothing else changes.
# **Before running the cell below**, predict how many free parameters the new network has in total, and put
# the number in `predicted_free_parameters`.

# %% solution predicted_free_parameters
# Your prediction, before running the cell below: a whole number.
### BEGIN SOLUTION
predicted_free_parameters = 18
### END SOLUTION

# %% test predicted_free_parameters points=1
checks.assert_true(
    isinstance(predicted_free_parameters, (int, float, np.integer, np.floating))
    and not isinstance(predicted_free_parameters, bool),
    f"predicted_free_parameters should be a number; got {type(predicted_free_parameters).__name__}.",
)
checks.assert_true(
    predicted_free_parameters >= 15,
    f"predicted_free_parameters = {predicted_free_parameters}: an arrow adds a parent, it never removes a "
    "parameter, so the answer is at least the student network's 15.",
)
### BEGIN HIDDEN TESTS
_rows_before, _rows_after = 3, 3 * 2  # rows of p(letter | grade) and of p(letter | grade, intelligence)
_answer = 15 + (_rows_after - _rows_before) * (2 - 1)
checks.assert_true(
    predicted_free_parameters == _answer,
    f"you predicted {predicted_free_parameters}; the new network has {_answer} free parameters. Only the "
    f"letter's CPT changes: it has one row per configuration of its parents, {_rows_before} for the grade and "
    f"3 x 2 = {_rows_after} for (grade, intelligence), and each row over the letter's 2 values has 1 free "
    f"parameter: 15 - {_rows_before} + {_rows_after} = {_answer}. An arrow does not add one parameter, nor the "
    "new parent's cardinality, nor the new entries (6 more, half of them fixed by the rows summing to one): "
    "it multiplies the rows of the child's table by the new parent's cardinality.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your count_parameters, before and after the arrow intelligence -> letter.
with_arrow = {**student_parents, "letter": ["grade", "intelligence"]}
print("student network:                    ", count_parameters(student_parents, student_cards))
print("with the arrow intelligence -> letter:", count_parameters(with_arrow, student_cards))

# %% [markdown]
# ## Exercise 2 — The joint table of any DAG (4 points)
#
# Multiply the CPTs into the joint table, $p(x) = \prod_v p(x_v \mid x_{\mathrm{pa}(v)})$, for **any** DAG given
# as `parents` and `tables` (the conventions above), returning one axis per variable in the order of `names`.
# The lecture's section 6 did this for binary variables whose parents happened to be listed in the order of
# the table's axes; here neither holds: the cardinalities come from the tables' shapes, and `parents[v]` may
# list the parents in any order (the grade's table is `[intelligence, difficulty, grade]`, while `names` has
# difficulty first). `np.einsum` with integer axis labels, `np.moveaxis` or plain loops all work.


# %% solution build_joint
def build_joint(tables, parents, names):
    """The joint probability table of a discrete Bayesian network.

    tables: dict; tables[v] is an array-like (float32 or float64 or nested lists) with one axis per parent of
        v, in the order of parents[v], then the axis of v; its last axis sums to one.
    parents: dict mapping each variable to the list of its parents (the keys may be in any order).
    names: list of all the variables: the order of the axes of the result.
    Returns: a float64 array with axis k for variable names[k]; entry [x_0, x_1, ...] is p(x), the product of
        the matching CPT entries (tested to rtol 1e-5).
    """
    ### BEGIN SOLUTION
    operands = []
    for v, pa in parents.items():  # each factor with the positions of its variables among names
        operands += [np.asarray(tables[v], dtype=np.float64), [names.index(u) for u in [*pa, v]]]
    return np.einsum(*operands, list(range(len(names))))
    ### END SOLUTION


# %% test build_joint points=2
_tables = {
    "difficulty": np.array([0.6, 0.4]),
    "intelligence": np.array([0.7, 0.3]),
    "grade": np.array([[[0.30, 0.40, 0.30], [0.05, 0.25, 0.70]], [[0.90, 0.08, 0.02], [0.50, 0.30, 0.20]]]),
    "sat": np.array([[0.95, 0.05], [0.20, 0.80]]),
    "letter": np.array([[0.10, 0.90], [0.40, 0.60], [0.99, 0.01]]),
}
_parents = {"difficulty": [], "intelligence": [], "grade": ["intelligence", "difficulty"]}
_parents.update({"sat": ["intelligence"], "letter": ["grade"]})
_names = ["difficulty", "intelligence", "grade", "sat", "letter"]
_t = [_tables[v] for v in ["difficulty", "intelligence", "grade", "sat", "letter"]]
_expected = np.einsum("d,i,idg,is,gl->digsl", *_t)  # this network's product, written out for it alone
_swapped = np.einsum("d,i,dig,is,gl->digsl", *_t)  # the grade's table read as [difficulty, intelligence, grade]
_got = checks.as_array(build_joint(_tables, _parents, _names), "build_joint(student network)")
checks.assert_close(_got.shape, (2, 2, 3, 2, 2), "the shape of build_joint(student network)")
# Hard course, average intelligence, grade C, low SAT, weak letter: 0.4 * 0.7 * 0.70 * 0.95 * 0.99.
checks.assert_close(
    _got[1, 0, 2, 0, 0],
    0.4 * 0.7 * 0.70 * 0.95 * 0.99,
    "p(difficulty=1, intelligence=0, grade=2, sat=0, letter=0) = p(d) p(i) p(g | i, d) p(s | i) p(l | g)",
    hints=[
        (
            _swapped[1, 0, 2, 0, 0],
            "you read p(grade | intelligence=0, difficulty=1) at index [1, 0] of the grade's table, whose axes "
            "are [intelligence, difficulty, grade]: match each axis to the parent listed in that position.",
        )
    ],
)
checks.assert_close(
    _got,
    _expected,
    "build_joint(student network)",
    hints=[(np.log(_expected), "that is the log joint: return the probabilities, the product of the tables.")],
)
checks.assert_close(_got.sum(), 1.0, "the sum of the joint table over all 48 configurations")
### BEGIN HIDDEN TESTS
_names2 = ["letter", "sat", "grade", "intelligence", "difficulty"]  # the axes in another order
checks.assert_close(
    build_joint(_tables, _parents, _names2),
    np.transpose(_expected, [4, 3, 2, 1, 0]),
    f"build_joint(student network, names={_names2})",
    hints=[
        (
            _expected,
            "your axes are in the order of the parents dictionary: the result must have its axes in the order "
            "of names.",
        )
    ],
)
### END HIDDEN TESTS


# %% test build_joint:random points=2
# Two small networks: A -> C <- B with C's parents listed (B, A), and the chain A -> B -> C listed backwards.
_t = {"A": np.array([0.2, 0.8]), "B": np.array([0.1, 0.3, 0.6])}
_t["C"] = np.random.default_rng(1).dirichlet(np.ones(2), size=(3, 2))  # axes B, A, C
_p = {"A": [], "B": [], "C": ["B", "A"]}
checks.assert_close(
    build_joint(_t, _p, ["A", "B", "C"]),
    np.einsum("a,b,bac->abc", _t["A"], _t["B"], _t["C"]),
    "build_joint(A -> C <- B, C's table indexed [B, A, C])",
)
_t = {"C": [[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]], "B": [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]], "A": [0.25, 0.75]}
_p = {"C": ["B"], "B": ["A"], "A": []}
checks.assert_close(
    build_joint(_t, _p, ["C", "A", "B"]),
    np.einsum("a,ab,bc->cab", _t["A"], _t["B"], _t["C"]),
    "build_joint(A -> B -> C, tables as nested lists, names = [C, A, B])",
)


### BEGIN HIDDEN TESTS
def _product_table(tables, parents, names):
    """The joint by brute force: one product of CPT entries per configuration."""
    tables = {v: np.asarray(t, dtype=np.float64) for v, t in tables.items()}
    shape = [tables[v].shape[-1] for v in names]
    out = np.ones(shape)
    for config in itertools.product(*[range(k) for k in shape]):
        value = dict(zip(names, config))
        for v, pa in parents.items():
            out[config] *= tables[v][tuple(value[u] for u in [*pa, v])]
    return out


def _random_network(rng, size):
    """A random DAG (parents in random order, keys not in topological order) and random CPTs."""
    order = [f"x{k}" for k in range(size)]
    cards = {v: int(rng.integers(1, 5)) for v in order}
    parents = {v: list(rng.permutation([u for u in order[:k] if rng.random() < 0.6])) for k, v in enumerate(order)}
    parents = {v: [str(u) for u in parents[v]] for v in rng.permutation(order)}
    tables = {v: rng.dirichlet(np.ones(cards[v]), size=[cards[u] for u in pa]) for v, pa in parents.items()}
    return tables, parents, [str(v) for v in rng.permutation(order)]


_rng = np.random.default_rng(12)
for _trial in range(5):
    _tables, _parents, _names = _random_network(_rng, int(_rng.integers(3, 7)))
    _expected = _product_table(_tables, _parents, _names)
    _hints = []
    if list(_parents) != _names:
        _hints.append(
            (
                _product_table(_tables, _parents, list(_parents)),
                "your axes are in the order of the "
                "parents dictionary: the result must have its axes in the order of names.",
            )
        )
    checks.assert_close(
        build_joint(_tables, _parents, _names),
        _expected,
        f"build_joint(a random network with parents {_parents}, names = {_names})",
        hints=_hints,
    )
_f32 = {v: t.astype(np.float32) for v, t in _tables.items()}
checks.assert_close(build_joint(_f32, _parents, _names), _expected, "build_joint(float32 tables)", rtol=1e-5, atol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — Queries with several variables (3 points)
#
# Compute the posterior of one **or several** query variables, $p(q_1, \dots, q_m \mid e)$, from a joint table:
# fix each observed variable to its value, **sum out** the hidden variables (neither query nor evidence), and
# normalise so that the whole result sums to one: $p(q \mid e) = p(q, e) / p(e)$. The result has one axis per
# query variable, **in the order of `query`**, which need not be the order of the table's axes. The evidence
# may be on any variables, effects (descendants) as well as causes.


# %% solution posterior
def posterior(joint, names, query, evidence):
    """p(query | evidence) by enumeration over a joint probability table.

    joint: array-like with one axis per variable (entries >= 0 summing to one); axis k is variable names[k].
    names: list of the variable names, in the order of the axes.
    query: a list of one or more variable names (none of them in evidence).
    evidence: dict mapping observed variable names to their observed values (ints); may be empty.
        You may assume p(evidence) > 0.
    Returns: a float64 array with axis j for variable query[j] (shape: their cardinalities, in that order),
        summing to one (tested to rtol 1e-5).
    """
    ### BEGIN SOLUTION
    joint = np.asarray(joint, dtype=np.float64)
    fixed = joint[tuple(evidence.get(v, slice(None)) for v in names)]  # p(everything else, evidence)
    free = [v for v in names if v not in evidence]
    p_q_e = np.einsum(fixed, list(range(len(free))), [free.index(v) for v in query])  # hidden summed out
    return p_q_e / p_q_e.sum()
    ### END SOLUTION


# %% test posterior points=3
def _check(query, evidence, expected, hints):
    checks.assert_close(
        posterior(_student, _names, query, evidence),
        expected,
        f"posterior(student joint, names, query={query}, evidence={evidence})",
        hints=hints,
    )


_pg = np.array([[[0.30, 0.40, 0.30], [0.05, 0.25, 0.70]], [[0.90, 0.08, 0.02], [0.50, 0.30, 0.20]]])  # i, d, g
_student = np.einsum(
    "d,i,idg,is,gl->digsl",
    [0.6, 0.4],
    [0.7, 0.3],
    _pg,
    [[0.95, 0.05], [0.20, 0.80]],
    [[0.10, 0.90], [0.40, 0.60], [0.99, 0.01]],
)
_names = ["difficulty", "intelligence", "grade", "sat", "letter"]
_NOT_NORMALISED = "that is p(query, evidence), the joint: divide by p(evidence) so that it sums to one."
_PRIOR = "that is the prior p(query): the evidence was summed out instead of fixed to its observed values."
# p(intelligence | strong letter): evidence on a descendant. Slice letter = 1, sum over difficulty, grade, sat.
_q_e = _student[..., 1].sum(axis=(0, 2, 3))
_check(["intelligence"], {"letter": 1}, _q_e / _q_e.sum(), [(_q_e, _NOT_NORMALISED), ([0.7, 0.3], _PRIOR)])
_q_e = _student[:, :, :, 0, 1].sum(axis=(0, 2))  # sat = 0 and letter = 1
_check(["intelligence"], {"letter": 1, "sat": 0}, _q_e / _q_e.sum(), [(_q_e, _NOT_NORMALISED), ([0.7, 0.3], _PRIOR)])
# Two query variables, in the order (grade, intelligence): the table has intelligence first.
_q_e = _student[..., 0].sum(axis=(0, 3)).T  # axes grade, intelligence
_check(
    ["grade", "intelligence"],
    {"letter": 0},
    _q_e / _q_e.sum(),
    [
        (_q_e, _NOT_NORMALISED),
        (_student.sum(axis=(0, 3, 4)).T, _PRIOR),
        (
            _q_e / _q_e.sum(axis=-1, keepdims=True),
            "you normalised each row (the last axis) separately: that is p(last query | other queries, evidence); "
            "the joint posterior of all the query variables sums to one as a whole.",
        ),
        (
            _q_e.T / _q_e.sum(),
            "your axes are in the order of the table, not of query: move them to the order of query.",
        ),
    ],
)
_q = _student.sum(axis=(1, 2, 4)).T  # no evidence: the prior of (sat, difficulty)
_check(["sat", "difficulty"], {}, _q, [(_q.T, "your axes are in the order of the table, not of query.")])


### BEGIN HIDDEN TESTS
def _reference_posterior(joint, names, query, evidence, normalise="all", fix=True):
    """The posterior by a loop over every configuration; or what a known mistake gives."""
    joint = np.asarray(joint, dtype=np.float64)
    out = np.zeros([joint.shape[names.index(v)] for v in query])
    for config in itertools.product(*[range(k) for k in joint.shape]):
        value = dict(zip(names, config))
        if not fix or all(value[v] == int(k) for v, k in evidence.items()):
            out[tuple(value[v] for v in query)] += joint[config]
    if normalise == "all":
        return out / out.sum()
    if normalise == "last":
        return out / out.sum(axis=-1, keepdims=True)
    return out


def _check_posterior(joint, names, query, evidence):
    hints = [
        (_reference_posterior(joint, names, query, evidence, normalise=None), _NOT_NORMALISED),
        (_reference_posterior(joint, names, query, evidence, fix=False), _PRIOR),
    ]
    if len(query) > 1:
        hints.append(
            (
                _reference_posterior(joint, names, query, evidence, normalise="last"),
                "you normalised each row (the last axis) separately: the joint posterior sums to one as a whole.",
            )
        )
        in_table_order = [v for v in names if v in query]
        if in_table_order != list(query):
            hints.append(
                (
                    _reference_posterior(joint, names, in_table_order, evidence),
                    "your axes are in the order of the table, not of query: move them to the order of query.",
                )
            )
    checks.assert_close(
        posterior(joint, names, query, evidence),
        _reference_posterior(joint, names, query, evidence),
        f"posterior(joint, {names}, query={query}, evidence={evidence})",
        hints=hints,
    )


_rng = np.random.default_rng(13)
_big_names = ["a", "b", "c", "d", "e"]
_big = _rng.dirichlet(np.full(2 * 3 * 2 * 4 * 3, 0.5)).reshape(2, 3, 2, 4, 3)
for _query, _evidence in [
    (["d"], {"a": 1, "e": 2}),
    (["e", "a"], {"c": 0}),
    (["d", "b", "a"], {"e": 1}),
    (["c", "e"], {"b": 2, "d": 3}),
    (["b"], {"a": 0, "c": 1, "d": 2, "e": 0}),
    (["e", "b"], {"d": np.int64(1)}),
]:
    _check_posterior(_big, _big_names, _query, _evidence)
_check_posterior(_big.tolist(), _big_names, ["b", "a"], {"d": 0})
_check_posterior(_student.astype(np.float32), _names, ["difficulty", "grade"], {"letter": 0, "intelligence": 1})
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — Testing a conditional independence on the joint (3 points)
#
# Variables $a$ and $b$ are independent given a set $Z$ when $p(a, b \mid z) = p(a \mid z)\,p(b \mid z)$ for all
# values of $a$ and $b$ and every configuration $z$ of $Z$ with $p(z) > 0$ (where $p(z) = 0$ the conditionals are
# undefined: skip those configurations, do not let them turn into NaN). Return `True` when the largest
# $|p(a, b \mid z) - p(a \mid z)\,p(b \mid z)|$ over these is at most `tol`: sums of floating-point numbers are
# rarely *exactly* equal, so never compare them with `==`.
#
# The visible tests ask the classic d-separation questions of the student network: two causes of a collider
# (difficulty and intelligence) are independent until the grade, **or one of its descendants**, is observed; a
# chain or a fork is blocked by observing its middle variable.


# %% solution independent
def independent(joint, names, a, b, given=(), tol=1e-9):
    """Whether a and b are independent given the variables in `given`, by enumeration on a joint table.

    joint: array-like with one axis per variable (entries >= 0 summing to one); axis k is variable names[k].
    names: list of the variable names, in the order of the axes.
    a, b: two different variable names; given: a list or tuple of other variable names (may be empty).
    tol: the largest |p(a, b | z) - p(a | z) p(b | z)| still counted as independent; configurations z of
        `given` with p(z) = 0 are skipped.
    Returns: a bool (Python or NumPy).
    """
    ### BEGIN SOLUTION
    joint = np.asarray(joint, dtype=np.float64)
    axes = [names.index(v) for v in (a, b, *given)]
    p_abz = np.einsum(joint, list(range(joint.ndim)), axes)  # axes a, b, then the given variables
    p_az, p_bz, p_z = p_abz.sum(axis=1), p_abz.sum(axis=0), p_abz.sum(axis=(0, 1))
    # p(a,b|z) - p(a|z) p(b|z) = (p(a,b,z) p(z) - p(a,z) p(b,z)) / p(z)^2, and 0 where p(z) = 0
    gap = np.abs(p_abz * p_z - p_az[:, None] * p_bz[None, :]) / np.where(p_z > 0, p_z, 1.0) ** 2
    return bool(gap.max() <= tol)
    ### END SOLUTION


# %% test independent points=2
def _check_independent(joint, names, a, b, given, expected, why):
    got = independent(joint, names, a, b, given)
    checks.assert_true(
        isinstance(got, (bool, np.bool_)),
        f"independent(joint, names, {a!r}, {b!r}, {list(given)}) returned {type(got).__name__} {got!r}; "
        "expected True or False.",
    )
    checks.assert_true(
        bool(got) == expected,
        f"independent(joint, names, {a!r}, {b!r}, given={list(given)}) returned {got}; expected {expected}: {why}",
    )


_pg = np.array([[[0.30, 0.40, 0.30], [0.05, 0.25, 0.70]], [[0.90, 0.08, 0.02], [0.50, 0.30, 0.20]]])  # i, d, g
_student = np.einsum(
    "d,i,idg,is,gl->digsl",
    [0.6, 0.4],
    [0.7, 0.3],
    _pg,
    [[0.95, 0.05], [0.20, 0.80]],
    [[0.10, 0.90], [0.40, 0.60], [0.99, 0.01]],
)
_names = ["difficulty", "intelligence", "grade", "sat", "letter"]
_FLOAT = " (computed sums are rarely exactly equal: compare with the tolerance tol, not with ==)"
_cases = [
    ("difficulty", "intelligence", [], True, "two causes of the grade, with nothing observed, are independent."),
    (
        "difficulty",
        "intelligence",
        ["grade"],
        False,
        "observing the common child (the collider grade) couples its causes: explaining away.",
    ),
    (
        "difficulty",
        "intelligence",
        ["letter"],
        False,
        "the letter is a descendant of the collider grade; observing it opens the collider too.",
    ),
    (
        "difficulty",
        "sat",
        [],
        True,
        "the only path difficulty -> grade <- intelligence -> sat is blocked at the "
        "unobserved collider grade" + _FLOAT + ".",
    ),
    (
        "letter",
        "sat",
        [],
        False,
        "the path letter <- grade <- intelligence -> sat is open: both depend on intelligence.",
    ),
    ("letter", "sat", ["intelligence"], True, "observing intelligence, the fork, blocks the only path" + _FLOAT + "."),
    (
        "letter",
        "intelligence",
        ["grade"],
        True,
        "observing grade, the middle of the chain intelligence -> grade -> letter, blocks it" + _FLOAT + ".",
    ),
    (
        "letter",
        "difficulty",
        ["grade", "sat"],
        True,
        "the grade blocks the chain difficulty -> grade -> letter; "
        "compare p(a, b | z) with p(a | z) p(b | z), not with the unconditional p(a) p(b)" + _FLOAT + ".",
    ),
]
for _a, _b, _given, _expected, _why in _cases:
    _check_independent(_student, _names, _a, _b, _given, _expected, _why)
### BEGIN HIDDEN TESTS
# Random tables on the student graph: the same verdicts (the independences come from the graph, not the numbers).
_rng = np.random.default_rng(14)
for _trial in range(2):
    _random = np.einsum(
        "d,i,idg,is,gl->digsl",
        _rng.dirichlet(np.ones(2)),
        _rng.dirichlet(np.ones(2)),
        _rng.dirichlet(np.ones(3), size=(2, 2)),
        _rng.dirichlet(np.ones(2), size=2),
        _rng.dirichlet(np.ones(2), size=3),
    )
    for _a, _b, _given, _expected, _why in _cases:
        _check_independent(_random, _names, _a, _b, _given, _expected, _why)
    _check_independent(
        _random,
        _names,
        "sat",
        "difficulty",
        ["letter"],
        False,
        "the letter opens the collider grade on the path sat <- intelligence -> grade <- difficulty.",
    )
    _check_independent(_random, _names, "grade", "sat", ["intelligence", "difficulty"], True, "the fork is observed.")
# A dense random joint: everything depends on everything; axes in another order than the query.
_dense = _rng.dirichlet(np.ones(24)).reshape(2, 3, 4)
_check_independent(_dense, ["x", "y", "z"], "z", "x", ["y"], False, "a random joint has no independences.")
### END HIDDEN TESTS


# %% test independent:edge_cases points=1
def _check_independent(joint, names, a, b, given, expected, why, **options):
    got = independent(joint, names, a, b, given, **options)
    checks.assert_true(
        isinstance(got, (bool, np.bool_)),
        f"independent(joint, names, {a!r}, {b!r}, {list(given)}) returned {type(got).__name__} {got!r}; "
        "expected True or False.",
    )
    checks.assert_true(
        bool(got) == expected,
        f"independent(joint, names, {a!r}, {b!r}, given={list(given)}{', ' if options else ''}"
        f"{', '.join(f'{k}={v:g}' for k, v in options.items())}) returned {got}; expected {expected}: {why}",
    )


# z = 1 never happens: p(a, b | z = 1) is undefined, and must be skipped, not turned into NaN.
_pa, _pb = np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3])
_zero = np.stack([np.outer(_pa, _pb), np.zeros((2, 3))], axis=-1)  # axes a, b, z
_check_independent(
    _zero,
    ["a", "b", "z"],
    "a",
    "b",
    ["z"],
    True,
    "given z = 0 (the only value that occurs) a and b are independent; z = 1 has p(z) = 0 and must be skipped "
    "(0/0 gives NaN, and a comparison with NaN is always False).",
)
### BEGIN HIDDEN TESTS
# A deterministic network: c = a XOR b for binary a, b; then d depends only on c. Some (c, a) pairs never occur.
_xor = np.zeros((2, 2, 2))
for _x, _y in itertools.product(range(2), range(2)):
    _xor[_x, _y, _x ^ _y] = [0.4, 0.6][_x] * [0.5, 0.5][_y]
_det = _xor[..., None] * np.array([[0.9, 0.1], [0.2, 0.8]])[None, None]  # axes a, b, c, d
_check_independent(
    _det,
    ["a", "b", "c", "d"],
    "d",
    "a",
    ["c", "b"],
    True,
    "given c, d depends on nothing else; the configurations (c, b) that never occur must be skipped.",
)
# A nearly independent joint: the tolerance decides, and it must be the argument tol. The factor 10 on either
# side lets an answer that measures |p(a | b, z) - p(a | z)| instead (larger by 1/p(b | z) <= 3.4 here) agree.
_mix = 0.999 * np.outer([0.4, 0.6], [0.3, 0.7]) + 0.001 * np.array([[0.5, 0.0], [0.0, 0.5]])
_pab = _mix / _mix.sum()
_gap = np.abs(_pab - np.outer(_pab.sum(axis=1), _pab.sum(axis=0))).max()
_check_independent(_pab, ["a", "b"], "a", "b", [], False, f"the largest gap is {_gap:.1e}, above tol.", tol=_gap / 10)
_check_independent(_pab, ["a", "b"], "a", "b", [], True, f"the largest gap is {_gap:.1e}: within tol.", tol=_gap * 10)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: a strong letter, then a hard course (1 point)
#
# In the student network you read a **strong** letter (letter = 1) and nothing else: that makes high
# intelligence more likely than its prior 0.3. Then you learn that the course was **hard** (difficulty = 1).
# You have not seen the grade. **Before running the cell below**, predict how
# $p(\text{intelligence} = \text{high} \mid \text{letter} = \text{strong}, \text{difficulty} = \text{hard})$
# compares with $p(\text{intelligence} = \text{high} \mid \text{letter} = \text{strong})$:
#
# - (a) it is higher;
# - (b) it is lower: the hard course explains away the evidence of the letter;
# - (c) it is the same: difficulty and intelligence are independent, and the grade, their common child, is not
#   observed.
#
# Put the letter in `predicted_intelligence_given_difficulty`.

# %% solution predicted_intelligence_given_difficulty
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_intelligence_given_difficulty = "a"
### END SOLUTION

# %% test predicted_intelligence_given_difficulty points=1
checks.assert_true(
    isinstance(predicted_intelligence_given_difficulty, str)
    and predicted_intelligence_given_difficulty.strip().lower() in ("a", "b", "c"),
    "predicted_intelligence_given_difficulty should be one of the letters 'a', 'b', 'c'; "
    f"got {predicted_intelligence_given_difficulty!r}.",
)
### BEGIN HIDDEN TESTS
_pg = np.array([[[0.30, 0.40, 0.30], [0.05, 0.25, 0.70]], [[0.90, 0.08, 0.02], [0.50, 0.30, 0.20]]])  # i, d, g
_p_dil = np.einsum("d,i,idg,gl->dil", [0.6, 0.4], [0.7, 0.3], _pg, [[0.10, 0.90], [0.40, 0.60], [0.99, 0.01]])
_strong = _p_dil[:, :, 1]  # p(difficulty, intelligence, letter = strong)
_given_letter = _strong[:, 1].sum() / _strong.sum()
_given_both = _strong[1, 1] / _strong[1].sum()
checks.assert_true(
    predicted_intelligence_given_difficulty.strip().lower() == "a",
    f"you predicted ({predicted_intelligence_given_difficulty.strip().lower()}); the answer is (a): "
    f"p(high | strong letter) = {_given_letter:.2f} rises to p(high | strong letter, hard course) = "
    f"{_given_both:.2f}. Observing the letter, a descendant of the collider grade, already couples the grade's "
    "two causes, so (c) does not hold. And the direction depends on what was observed: a strong letter means a "
    "good grade, which a hard course makes harder to get, so it now takes high intelligence even more to explain "
    "it. 'Explaining away' lowers the other cause only when the new cause also explains the observation, as a "
    "hard course would explain a weak letter.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your build_joint, posterior and independent on the student network.
joint = build_joint(student_tables, student_parents, student_names)
high = posterior(joint, student_names, ["intelligence"], {"letter": 1})[1]
high_hard = posterior(joint, student_names, ["intelligence"], {"letter": 1, "difficulty": 1})[1]
print(f"p(intelligence = high)                               = {joint.sum(axis=(0, 2, 3, 4))[1]:.3f}")
print(f"p(intelligence = high | strong letter)               = {high:.3f}")
print(f"p(intelligence = high | strong letter, hard course)  = {high_hard:.3f}")
print(
    "difficulty independent of intelligence given letter?",
    independent(joint, student_names, "difficulty", "intelligence", ["letter"]),
)

# %% [markdown]
# ## Exercise 5 — Learning the tables from samples, with a pseudo count (4 points)
#
# The lecture's maximum-likelihood CPT is the normalised counts, $N_v(r, k) / N_v(r)$. A parent configuration
# $r$ that no sample shows gives $0/0$. A **pseudo count** $\alpha > 0$ (Laplace smoothing; with $\alpha = 1$ it is
# the posterior mean under a uniform Dirichlet prior on each row) fixes this:
#
# $$\hat\theta_v(k \mid r) = \frac{N_v(r, k) + \alpha}{N_v(r) + \alpha\,|v|},$$
#
# so an unseen row becomes uniform, and a row seen often is close to its normalised counts. Return one table
# per variable, with the conventions above (parents' axes in the order of `parents[v]`, then $v$'s axis).


# %% solution learn_tables
def learn_tables(samples, parents, cardinalities, pseudo_count=1.0):
    """CPTs learned from complete samples by counting, with a pseudo count added to every entry.

    samples: dict mapping each variable to an integer array-like of shape (N,): sample j has value
        samples[v][j] for v.
    parents: dict mapping each variable to the list of its parents; cardinalities: dict of ints.
    pseudo_count: alpha >= 0, added to every count (alpha = 0 is maximum likelihood; the tests then show
        every parent configuration at least once).
    Returns: dict mapping each variable v to a float64 array of shape [cardinalities[u] for u in parents[v]]
        + [cardinalities[v]], entry [r..., k] = (N(r, k) + alpha) / (N(r) + alpha * |v|) (tested to rtol 1e-6).
    """
    ### BEGIN SOLUTION
    learned = {}
    for v, pa in parents.items():
        counts = np.full([cardinalities[u] for u in [*pa, v]], float(pseudo_count))
        np.add.at(counts, tuple(np.asarray(samples[u], dtype=np.int64) for u in [*pa, v]), 1.0)
        learned[v] = counts / counts.sum(axis=-1, keepdims=True)
    return learned
    ### END SOLUTION


# %% test learn_tables points=2
def _check_tables(got, counts, alpha, what):
    """Compare with (N(r, k) + alpha) / (N(r) + alpha |v|), from the counts N of each table."""
    checks.assert_true(
        isinstance(got, dict) and set(got) == set(counts),
        f"{what} should return a dict with the keys {sorted(counts)}; got {type(got).__name__}"
        + (f" with the keys {sorted(got)}" if isinstance(got, dict) else ""),
    )
    for v, n_rk in counts.items():
        n_rk = np.asarray(n_rk, dtype=np.float64)
        expected = (n_rk + alpha) / (n_rk.sum(axis=-1, keepdims=True) + alpha * n_rk.shape[-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            hints = [
                (
                    n_rk / n_rk.sum(axis=-1, keepdims=True),
                    "those are the plain normalised counts: add the pseudo count to every entry (an unseen "
                    "parent configuration gives 0/0 = NaN otherwise).",
                ),
                (
                    (n_rk + alpha) / (n_rk + alpha).sum(axis=0, keepdims=True),
                    "you normalised over the first axis: each row, the LAST axis (the values of v for one parent "
                    "configuration), sums to one.",
                ),
                (
                    (n_rk + alpha) / (n_rk + alpha).sum(),
                    "that is the joint p(parents, v), counts over all samples: the CPT is the conditional, each "
                    "row normalised on its own.",
                ),
                (
                    (n_rk + alpha) / (n_rk.sum(axis=-1, keepdims=True) + alpha),
                    "the denominator needs alpha once per value of v, alpha * |v|, so that each row sums to one.",
                ),
            ]
        checks.assert_close(got[v], expected, f"{what}[{v!r}]", rtol=1e-6, atol=1e-9, hints=hints)


# Eight students: (difficulty, intelligence, grade). No sample has intelligence = 1 with difficulty = 1.
_samples = {
    "difficulty": np.array([0, 0, 1, 0, 1, 0, 0, 1]),
    "intelligence": np.array([1, 0, 0, 1, 0, 0, 1, 0]),
    "grade": np.array([0, 1, 2, 0, 1, 2, 1, 2]),
}
_parents = {"difficulty": [], "intelligence": [], "grade": ["intelligence", "difficulty"]}
_cards = {"difficulty": 2, "intelligence": 2, "grade": 3}
_counts = {  # N(r, k), read off the eight samples; the grade's axes are intelligence, difficulty, grade
    "difficulty": [5, 3],
    "intelligence": [5, 3],
    "grade": [[[0, 1, 1], [0, 1, 2]], [[2, 1, 0], [0, 0, 0]]],
}
_got = learn_tables(_samples, _parents, _cards, pseudo_count=1.0)
_check_tables(_got, _counts, 1.0, "learn_tables(eight students, pseudo_count=1)")
checks.assert_close(
    _got["grade"][1, 1],
    np.full(3, 1 / 3),
    "learn_tables(...)['grade'][intelligence=1, difficulty=1], a row no sample shows: the pseudo counts alone",
)
checks.assert_close(
    _got["grade"][0, 1], [1 / 6, 2 / 6, 3 / 6], "learn_tables(...)['grade'][0, 1]: counts (0, 1, 2) plus 1 each"
)
### BEGIN HIDDEN TESTS
_got = learn_tables({v: s.tolist() for v, s in _samples.items()}, _parents, _cards, pseudo_count=0.5)
_check_tables(_got, _counts, 0.5, "learn_tables(eight students as lists, pseudo_count=0.5)")


def _count_loop(samples, parents, cards):
    """N(r, k) of every table, by a loop over the samples."""
    out = {}
    for v, pa in parents.items():
        out[v] = np.zeros([cards[u] for u in [*pa, v]])
        for j in range(len(samples[v])):
            out[v][tuple(int(samples[u][j]) for u in [*pa, v])] += 1
    return out


_rng = np.random.default_rng(15)
for _trial in range(3):
    _order = [f"x{k}" for k in range(5)]
    _cards = {v: int(_rng.integers(2, 4)) for v in _order}
    _parents = {
        v: [str(u) for u in _rng.permutation([u for u in _order[:k] if _rng.random() < 0.6])]
        for k, v in enumerate(_order)
    }
    _parents = dict(reversed(_parents.items()))
    _samples = {v: _rng.integers(0, _cards[v], size=40) for v in _order}
    _alpha = float(_rng.choice([0.1, 1.0, 3.0]))
    _check_tables(
        learn_tables(_samples, _parents, _cards, pseudo_count=_alpha),
        _count_loop(_samples, _parents, _cards),
        _alpha,
        f"learn_tables(40 random samples, parents {_parents}, pseudo_count={_alpha})",
    )
### END HIDDEN TESTS


# %% test learn_tables:convergence points=2
# Ancestral samples of the student network; the learned tables must approach the true ones.
_true = {
    "difficulty": np.array([0.6, 0.4]),
    "intelligence": np.array([0.7, 0.3]),
    "grade": np.array([[[0.30, 0.40, 0.30], [0.05, 0.25, 0.70]], [[0.90, 0.08, 0.02], [0.50, 0.30, 0.20]]]),
    "sat": np.array([[0.95, 0.05], [0.20, 0.80]]),
    "letter": np.array([[0.10, 0.90], [0.40, 0.60], [0.99, 0.01]]),
}
_parents = {"difficulty": [], "intelligence": [], "grade": ["intelligence", "difficulty"]}
_parents.update({"sat": ["intelligence"], "letter": ["grade"]})
_cards = {v: t.shape[-1] for v, t in _true.items()}
_p_rows = {  # the probability of each parent configuration of each table
    "difficulty": np.array(1.0),
    "intelligence": np.array(1.0),
    "grade": np.outer(_true["intelligence"], _true["difficulty"]),
    "sat": _true["intelligence"],
    "letter": np.einsum("i,d,idg->g", _true["intelligence"], _true["difficulty"], _true["grade"]),
}


def _ancestral(n, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for v in ["difficulty", "intelligence", "grade", "sat", "letter"]:
        rows = _true[v][tuple(out[u] for u in _parents[v])] if _parents[v] else np.broadcast_to(_true[v], (n, 2))
        out[v] = (rng.random((n, 1)) > np.cumsum(rows, axis=-1)).sum(axis=-1).clip(max=rows.shape[-1] - 1)
    return out


_n = 20_000
_samples = _ancestral(_n, 16)
_got = learn_tables(_samples, _parents, _cards)
for _v, _table in _true.items():
    _se = np.sqrt(_table * (1 - _table) / (_n * _p_rows[_v][..., None]))  # a binomial proportion's SE
    _z = np.abs(checks.as_array(_got[_v], f"learn_tables(...)[{_v!r}]") - _table) / _se
    # Over seeds 0-19 the largest |z| over the 26 entries was 1.3-2.8; normalising over the wrong axis gave > 240.
    checks.assert_true(
        np.all(_z < 6),
        f"learn_tables({_n} ancestral samples of the student network)[{_v!r}] should be within 6 standard errors "
        f"of the true table {_table.round(3).tolist()}; got {np.round(_got[_v], 3).tolist()}. Each row is one "
        "parent configuration, normalised over the values of the child, the last axis.",
    )
### BEGIN HIDDEN TESTS
# pseudo_count = 0 is maximum likelihood; here every row is seen, so nothing is 0/0.
_ml = learn_tables(_samples, _parents, _cards, pseudo_count=0.0)
for _v in _true:
    _counts = np.zeros([_cards[u] for u in [*_parents[_v], _v]])
    np.add.at(_counts, tuple(_samples[u] for u in [*_parents[_v], _v]), 1)
    checks.assert_close(
        _ml[_v], _counts / _counts.sum(axis=-1, keepdims=True), f"learn_tables(..., pseudo_count=0)[{_v!r}]", rtol=1e-6
    )
# With few samples the pseudo count pulls each row towards uniform: 30 samples, alpha = 5.
_few = _ancestral(30, 17)
_smooth = learn_tables(_few, _parents, _cards, pseudo_count=5.0)
for _v in _true:
    _counts = np.zeros([_cards[u] for u in [*_parents[_v], _v]])
    np.add.at(_counts, tuple(_few[u] for u in [*_parents[_v], _v]), 1)
    checks.assert_close(
        _smooth[_v],
        (_counts + 5.0) / (_counts.sum(axis=-1, keepdims=True) + 5.0 * _cards[_v]),
        f"learn_tables(30 samples, pseudo_count=5)[{_v!r}]",
        rtol=1e-6,
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 6 — What the graph buys, and what it costs (3 points, graded by hand)
#
# The student network needs 15 free parameters; a full table over the same five variables needs 47. You learn
# the tables with `learn_tables` from the records of 100 students. In three to five sentences: name one
# practical advantage of the network over the full table, one risk of using it (refer to a specific arrow that
# the network leaves out), and say what the pseudo count does for a parent configuration that no record shows,
# and what it costs for a row seen only a few times.

# %% written dag points=3
# ### BEGIN SOLUTION
# Advantage: with 15 instead of 47 free parameters, each row is estimated from many more records: the full table
# spreads 100 students over 48 cells (about two each), while $p(\text{letter} \mid \text{grade})$ has 3 rows of
# about 33 records each; the estimates vary less, the model overfits less, and inference and storage are cheaper.
# Risk: every missing arrow is an assumption. If the teacher also knows the student, so that the letter depends
# on intelligence given the grade (the network has no arrow intelligence → letter), the network cannot represent
# it, however much data there is: its estimates are biased, and its answers to queries such as
# $p(\text{intelligence} \mid \text{letter})$ are wrong. Pseudo count: an unseen parent configuration gets the
# uniform row instead of $0/0$, so every query stays defined; for a row seen a few times it pulls the estimate
# towards uniform (a bias that vanishes as the counts grow, $\alpha|v|$ pseudo-observations against $N(r)$ real ones).
#
# *For graders:* one point for an advantage tied to fewer parameters (variance, data per row, overfitting, cost);
# one point for the risk that a wrong independence assumption (a named missing arrow) biases the model; one point
# for the pseudo count: defined (uniform) rows where the data has none, and a pull towards uniform, strong when
# $N(r)$ is small. Bias–variance wording is welcome but not required.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A CPT over $v$ has $\prod_{\mathrm{pa}(v)} |u|$ rows with $|v| - 1$ free parameters each; an arrow multiplies
#   its child's rows by the new parent's cardinality. Only an acyclic graph is a factorisation.
# - The joint table of any DAG is the product of its tables, each broadcast along the axes of its own variables.
# - A posterior by enumeration: fix the evidence, sum out the hidden variables, normalise the whole result.
# - Independence given $Z$ is a property of the joint, tested up to a tolerance and only where $p(z) > 0$; a
#   collider couples its causes once it or a descendant is observed, and the direction of the coupling depends
#   on what was observed.
# - Counting with a pseudo count keeps every row defined; it is maximum likelihood when $\alpha = 0$.
#
# ## References
#
# - D. Koller and N. Friedman (2009). *Probabilistic Graphical Models: Principles and Techniques*, MIT Press,
#   §3.2 (the student network), §3.3 (d-separation), §17.3–17.4 (Bayesian parameter estimation, Dirichlet priors).
