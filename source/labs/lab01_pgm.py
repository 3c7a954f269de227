# %% [markdown]
# # Lab 01 — Probabilistic graphical models
#
# Count the parameters of a Bayesian network, build the lecture's five-variable network as a TFP joint
# distribution from its conditional probability tables, and compute posteriors by enumeration.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - count the entries and the free parameters of the CPTs of any DAG over discrete variables;
# - write a Bayesian network as a `tfd.JointDistributionNamed` whose `log_prob` is the sum of the log CPT
#   entries, and sample from it;
# - compute $p(\text{query} \mid \text{evidence})$ from a joint probability table by summing out the hidden
#   variables and normalising;
# - explain what the conditional independences of a DAG buy, and what they cost.

# %% setup

# %% locked imports
import itertools

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

# %% [markdown]
# ## Exercise 1 — Counting the parameters of a DAG (3 points)
#
# A Bayesian network over discrete variables stores one conditional probability table (CPT)
# $p(v \mid \mathrm{pa}(v))$ per variable $v$: one **row** per configuration of the parents, each row a
# distribution over the $|v|$ values of $v$. Return two totals over all the CPTs of the graph:
#
# - the number of **entries** (every number in every table);
# - the number of **free parameters**: each row sums to one, so one entry per row is determined by the others.
#
# For the lecture's expert DAG, for example, the answer is `(37, 22)`.


# %% solution count_parameters
def count_parameters(cardinalities, parents):
    """Count the CPT entries and free parameters of a discrete Bayesian network.

    cardinalities: dict mapping each variable name to its number of values (an int >= 1).
    parents: dict mapping each variable name (the same keys) to a list of its parents' names
        (an empty list for a variable without parents).
    Returns: a tuple (entries, free) of two ints.
    """
    ### BEGIN SOLUTION
    entries = free = 0
    for variable, cardinality in cardinalities.items():
        rows = 1  # configurations of the parents
        for parent in parents[variable]:
            rows *= cardinalities[parent]
        entries += rows * cardinality
        free += rows * (cardinality - 1)
    return int(entries), int(free)
    ### END SOLUTION


# %% test count_parameters points=3
def _count_hints(cards, parents):
    """Answers that known mistakes give, each with what the mistake is."""
    rows = {v: int(np.prod([cards[u] for u in parents[v]])) for v in cards}
    summed = {v: sum(cards[u] for u in parents[v]) if parents[v] else 1 for v in cards}
    entries = sum(rows[v] * cards[v] for v in cards)
    return [
        (
            (entries, entries),
            "your free parameters equal the entries: each row of a CPT sums to one, so a row "
            "over the |v| values of v has |v| - 1 free parameters.",
        ),
        (
            (entries, entries - len(cards)),
            "you subtracted 1 per variable: the sum-to-one constraint holds for every "
            "row (every configuration of the parents), so subtract 1 per row.",
        ),
        (
            (sum(summed[v] * cards[v] for v in cards), sum(summed[v] * (cards[v] - 1) for v in cards)),
            "a CPT has one row per configuration of its parents: multiply their cardinalities, do not add them.",
        ),
        (
            (sum(cards.values()), sum(c - 1 for c in cards.values())),
            "you ignored the parents: a CPT has one row per configuration of its parents.",
        ),
    ]


_cards = {"age": 3, "salary": 3, "gender": 2, "ms": 2, "y": 2}
_expert = {"age": [], "gender": [], "ms": [], "salary": ["age", "ms"], "y": ["salary", "gender"]}
checks.assert_close(
    count_parameters(_cards, _expert),
    (37, 22),
    "count_parameters for the lecture's expert DAG",
    hints=_count_hints(_cards, _expert),
)
_chain = {
    "age": [],
    "salary": ["age"],
    "gender": ["salary", "age"],
    "ms": ["gender", "salary", "age"],
    "y": ["ms", "gender", "salary", "age"],
}
checks.assert_close(
    count_parameters(_cards, _chain),
    (138, 71),
    "count_parameters for the full chain rule",
    hints=_count_hints(_cards, _chain),
)
checks.assert_close(count_parameters({"x": 4}, {"x": []}), (4, 3), "count_parameters for one variable with 4 values")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(11)
for _trial in range(5):
    _names = [f"v{i}" for i in range(int(_rng.integers(3, 8)))]
    _cards = {v: int(_rng.integers(2, 6)) for v in _names}
    _parents = {v: [u for u in _names[:i] if _rng.random() < 0.5] for i, v in enumerate(_names)}
    _rows = {v: int(np.prod([_cards[u] for u in _parents[v]])) for v in _names}
    _expected = (sum(_rows[v] * _cards[v] for v in _names), sum(_rows[v] * (_cards[v] - 1) for v in _names))
    # Keys in reverse order: nothing may depend on the order of the dictionaries.
    _got = count_parameters(dict(reversed(_cards.items())), dict(reversed(_parents.items())))
    checks.assert_close(
        _got,
        _expected,
        f"count_parameters on the random DAG {_parents} with cardinalities {_cards}",
        hints=_count_hints(_cards, _parents),
    )
# n binary variables, each depending on all earlier ones: the full joint table, 2^n - 1 free parameters.
_names = [f"b{i}" for i in range(10)]
checks.assert_close(
    count_parameters({v: 2 for v in _names}, {v: _names[:i] for i, v in enumerate(_names)}),
    (2**11 - 2, 2**10 - 1),
    "count_parameters for 10 binary variables with the chain rule (2^10 - 1 free)",
)
checks.assert_close(
    count_parameters({"a": 3, "b": 1, "c": 2}, {"a": [], "b": ["a"], "c": ["b"]}),
    (8, 3),
    "count_parameters with a variable of cardinality 1 (a constant: no free parameter)",
)
checks.assert_close(
    count_parameters({"a": 3, "b": 4}, {"a": [], "b": []}),
    (7, 5),
    "count_parameters for a graph without arrows",
    hints=_count_hints({"a": 3, "b": 4}, {"a": [], "b": []}),
)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: one more arrow (1 point)
#
# The expert DAG has 22 free parameters. Suppose the expert adds one arrow, age → $y$: $y$ now depends on
# salary, gender **and** age; nothing else changes. **Before running the cell below**, predict how many free
# parameters the new DAG has in total, and put the number in `predicted_free_parameters`.

# %% solution predicted_free_parameters
# Your prediction, before running the cell below: a whole number.
### BEGIN SOLUTION
predicted_free_parameters = 34
### END SOLUTION

# %% test predicted_free_parameters points=1
checks.assert_true(
    isinstance(predicted_free_parameters, (int, float, np.integer, np.floating))
    and not isinstance(predicted_free_parameters, bool),
    f"predicted_free_parameters should be a number; got {type(predicted_free_parameters).__name__}.",
)
checks.assert_true(
    predicted_free_parameters >= 22,
    f"predicted_free_parameters = {predicted_free_parameters}: an arrow adds a parent, it never removes a "
    "parameter, so the answer is at least the expert DAG's 22.",
)
### BEGIN HIDDEN TESTS
_rows_before, _rows_after = 3 * 2, 3 * 2 * 3  # the rows of p(y | salary, gender) and of p(y | salary, gender, age)
_answer = 22 + (_rows_after - _rows_before) * (2 - 1)
checks.assert_true(
    predicted_free_parameters == _answer,
    f"you predicted {predicted_free_parameters}; the new DAG has {_answer} free parameters. Only y's CPT changes: "
    f"it has one row per configuration of its parents, 3 x 2 = {_rows_before} rows for (salary, gender) and "
    f"3 x 2 x 3 = {_rows_after} for (salary, gender, age), and each row of y's 2 values has 1 free parameter: "
    f"22 - {_rows_before} + {_rows_after} = {_answer}. An arrow does not add one parameter, nor the new parent's "
    "cardinality: it multiplies the rows of the child's table by that cardinality.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your count_parameters, before and after the arrow age -> y.
cards = {"age": 3, "salary": 3, "gender": 2, "ms": 2, "y": 2}
expert = {"age": [], "gender": [], "ms": [], "salary": ["age", "ms"], "y": ["salary", "gender"]}
with_arrow = {**expert, "y": ["salary", "gender", "age"]}
print("expert DAG:               (entries, free) =", count_parameters(cards, expert))
print("with the arrow age -> y:  (entries, free) =", count_parameters(cards, with_arrow))

# %% [markdown]
# ## Exercise 2 — The lecture's network as a TFP joint distribution (4 points)
#
# Build the expert DAG of the lecture,
#
# $$p(\text{age}, \text{salary}, \text{gender}, \text{ms}, y)
# = p(\text{age})\,p(\text{gender})\,p(\text{ms})\,p(\text{salary} \mid \text{age}, \text{ms})\,
# p(y \mid \text{salary}, \text{gender}),$$
#
# as a `tfd.JointDistributionNamed` from CPTs you are **given** (do not hard-code numbers). Every variable
# is a `tfd.Categorical` with integer values $0, \dots, |v| - 1$. The conditionals must work on *batches*:
# the tests call `log_prob` with every value a tensor of shape (72,) (all configurations at once) and draw
# thousands of samples. `tf.gather_nd` picks CPT rows for a batch of parent values.


# %% solution build_joint
def build_joint(cpts):
    """The lecture's expert DAG as a TFP joint distribution, from given CPTs.

    cpts: dict of array-likes (probabilities; every row sums to one along the LAST axis):
        cpts["age"]    shape (3,)        p(age)
        cpts["gender"] shape (2,)        p(gender)
        cpts["ms"]     shape (2,)        p(ms)
        cpts["salary"] shape (3, 2, 3)   p(salary | age, ms), indexed [age, ms, salary]
        cpts["y"]      shape (3, 2, 2)   p(y | salary, gender), indexed [salary, gender, y]
    Returns: a tfd.JointDistributionNamed (or tfd.JointDistributionNamedAutoBatched) with the components
        "age", "gender", "ms", "salary", "y", each a tfd.Categorical.
    """
    ### BEGIN SOLUTION
    salary_cpt = tf.convert_to_tensor(cpts["salary"])
    y_cpt = tf.convert_to_tensor(cpts["y"])

    def salary(age, ms):  # the argument names tell TFP the parents
        return tfd.Categorical(probs=tf.gather_nd(salary_cpt, tf.stack([age, ms], axis=-1)))

    def y(salary, gender):
        return tfd.Categorical(probs=tf.gather_nd(y_cpt, tf.stack([salary, gender], axis=-1)))

    return tfd.JointDistributionNamed(
        {
            "age": tfd.Categorical(probs=cpts["age"]),
            "gender": tfd.Categorical(probs=cpts["gender"]),
            "ms": tfd.Categorical(probs=cpts["ms"]),
            "salary": salary,
            "y": y,
        }
    )
    ### END SOLUTION


# %% test build_joint points=4
import itertools

import tensorflow_probability as tfp

_tfd = tfp.distributions
_names = ["age", "salary", "gender", "ms", "y"]
_shape = {"age": 3, "salary": 3, "gender": 2, "ms": 2, "y": 2}
_grid = np.array(list(itertools.product(*[range(_shape[v]) for v in _names])), dtype=np.int32)
_values = {v: _grid[:, i] for i, v in enumerate(_names)}


def _reference(c, salary_parent="ms", y_parent="gender", logits=False):
    """log p of all 72 configurations from the CPTs, or what a known mistake gives."""
    c = {k: np.asarray(v, dtype=np.float64) for k, v in c.items()}
    log = (lambda t: t - np.log(np.exp(t).sum(axis=-1, keepdims=True))) if logits else np.log
    a, s, g, m, y = (_values[v] for v in _names)
    return (
        log(c["age"])[a]
        + log(c["gender"])[g]
        + log(c["ms"])[m]
        + log(c["salary"])[a, _values[salary_parent], s]
        + log(c["y"])[s, _values[y_parent], y]
    )


def _joint_hints(c):
    return [
        (
            _reference(c, salary_parent="gender"),
            "salary's parents are age and ms (the CPT is indexed [age, ms, salary]), not age and gender.",
        ),
        (_reference(c, y_parent="ms"), "y's parents are salary and gender (the CPT is indexed [salary, gender, y])."),
        (_reference(c, logits=True), "you passed probabilities as logits: use probs=..., or logits=log(probs)."),
    ]


def _log_prob(c, what):
    joint = build_joint(c)
    checks.assert_true(
        isinstance(joint, _tfd.JointDistribution),
        f"{what} returned a {type(joint).__name__}; expected a tfd.JointDistributionNamed.",
    )
    try:
        return joint, joint.log_prob(_values)
    except Exception as err:
        raise checks.CheckFailure(
            f"{what}.log_prob on all 72 configurations at once (each value a tensor of shape (72,)) raised "
            f"{type(err).__name__}: {str(err).strip()[:300]}\nCheck that the components are named age, gender, ms, "
            "salary, y, that each CPT is indexed [parents..., child] in the order the docstring gives, and that "
            "the conditionals accept batches of parent values."
        ) from None


def _check_samples(joint, c, what, n=4000):
    draws = joint.sample(n, seed=(7, 8))
    checks.assert_true(
        isinstance(draws, dict) and set(draws) == set(_names),
        f"{what}.sample(n) should return a dict with the keys {_names}; got {type(draws).__name__} "
        f"with keys {sorted(draws) if isinstance(draws, dict) else '-'}.",
    )
    for v in _names:
        values = np.asarray(draws[v])
        checks.assert_true(
            values.shape == (n,),
            f"{what}.sample({n})['{v}'] has shape {values.shape}; expected ({n},). "
            "A conditional whose batch shape already holds the samples must not add another sample axis.",
        )
        checks.assert_true(
            values.min() >= 0 and values.max() < _shape[v],
            f"{what}.sample({n})['{v}'] has values outside 0..{_shape[v] - 1}.",
        )
    p_y1 = np.exp(_reference(c))[_values["y"] == 1].sum()
    checks.assert_within_se(
        np.mean(np.asarray(draws["y"]) == 1),
        p_y1,
        np.sqrt(p_y1 * (1 - p_y1) / n),
        f"the frequency of y = 1 in {what}.sample({n})",
    )


_cpts = {
    "age": [0.30, 0.45, 0.25],
    "gender": [0.50, 0.50],
    "ms": [0.55, 0.45],
    "salary": [
        [[0.70, 0.25, 0.05], [0.60, 0.30, 0.10]],
        [[0.30, 0.50, 0.20], [0.20, 0.50, 0.30]],
        [[0.20, 0.40, 0.40], [0.10, 0.40, 0.50]],
    ],
    "y": [[[0.80, 0.20], [0.70, 0.30]], [[0.55, 0.45], [0.45, 0.55]], [[0.25, 0.75], [0.15, 0.85]]],
}
_cpts = {k: np.array(v) for k, v in _cpts.items()}
_joint, _got = _log_prob(_cpts, "build_joint(lecture CPTs)")
checks.assert_close(
    _got, _reference(_cpts), "build_joint(lecture CPTs).log_prob of all 72 configurations", hints=_joint_hints(_cpts)
)
checks.assert_close(np.exp(checks.as_array(_got, "log_prob")).sum(), 1.0, "the sum of p over all 72 configurations")
_check_samples(_joint, _cpts, "build_joint(lecture CPTs)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(12)
for _trial in range(2):
    _random = {
        "age": _rng.dirichlet(np.ones(3)),
        "gender": _rng.dirichlet(np.ones(2)),
        "ms": _rng.dirichlet(np.ones(2)),
        "salary": _rng.dirichlet(np.ones(3), size=(3, 2)),
        "y": _rng.dirichlet(np.ones(2), size=(3, 2)),
    }
    _joint, _got = _log_prob(_random, "build_joint(random CPTs)")
    checks.assert_close(
        _got,
        _reference(_random),
        "build_joint(random CPTs).log_prob of all 72 configurations "
        "(are the CPTs taken from the argument, not hard-coded?)",
        hints=_joint_hints(_random),
    )
_check_samples(_joint, _random, "build_joint(random CPTs)")
_f32 = {k: v.astype(np.float32) for k, v in _random.items()}
_joint, _got = _log_prob(_f32, "build_joint(float32 CPTs)")
checks.assert_close(_got, _reference(_random), "build_joint(float32 CPTs).log_prob", rtol=1e-4, atol=1e-5)
_lists = {k: v.tolist() for k, v in _random.items()}
_joint, _got = _log_prob(_lists, "build_joint(CPTs as nested lists)")
checks.assert_close(_got, _reference(_random), "build_joint(CPTs as nested lists).log_prob")
# A single configuration (scalar values) must work too.
_one = {v: 1 for v in _names}
checks.assert_close(
    build_joint(_random).log_prob(_one),
    _reference(_random)[np.all(_grid == 1, axis=1)][0],
    "build_joint(random CPTs).log_prob of the single configuration with every variable = 1",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — A posterior by enumeration (3 points)
#
# Given a joint probability table (one axis per variable), compute
# $p(\text{query} \mid \text{evidence})$: fix the observed variables to their values, **sum out** the hidden
# variables (neither query nor evidence), and normalise over the values of the query. This is Bayes'
# theorem: $p(q \mid e) = p(q, e) / p(e)$ with $p(e) = \sum_{q'} p(q', e)$.


# %% solution posterior
def posterior(table, names, query, evidence):
    """p(query | evidence) by enumeration over a joint probability table.

    table: array-like with one axis per variable (entries >= 0 summing to one); axis i is variable names[i].
    names: list of the variable names, in the order of the axes.
    query: the name of the query variable (not in evidence).
    evidence: dict mapping observed variable names to their observed values (ints); may be empty.
        You may assume p(evidence) > 0.
    Returns: a 1-D array of length table.shape[names.index(query)], the posterior, summing to one.
    """
    ### BEGIN SOLUTION
    table = np.asarray(table, dtype=np.float64)
    observed = table[tuple(evidence[v] if v in evidence else slice(None) for v in names)]
    remaining = [v for v in names if v not in evidence]  # the axes left: query and hidden variables
    hidden_axes = tuple(i for i, v in enumerate(remaining) if v != query)
    joint_q_e = observed.sum(axis=hidden_axes)  # p(query, evidence)
    return joint_q_e / joint_q_e.sum()  # divided by p(evidence)
    ### END SOLUTION


# %% test posterior points=3
def _parts(table, names, query, evidence, reduce=np.sum):
    """p(query, evidence) (hidden variables reduced) and the prior p(query), by a route of its own."""
    t = np.moveaxis(np.asarray(table, dtype=np.float64), names.index(query), 0)
    rest = [v for v in names if v != query]
    q_e = t[(slice(None),) + tuple(evidence.get(v, slice(None)) for v in rest)]
    q_e = reduce(q_e.reshape(q_e.shape[0], -1), axis=1)
    return q_e, t.reshape(t.shape[0], -1).sum(axis=1)


def _check_posterior(table, names, query, evidence):
    q_e, prior = _parts(table, names, query, evidence)
    q_e_max, _ = _parts(table, names, query, evidence, reduce=np.max)
    checks.assert_close(
        posterior(table, names, query, evidence),
        q_e / q_e.sum(),
        f"posterior(table, {names}, query={query!r}, evidence={evidence})",
        hints=[
            (q_e, "that is p(query, evidence), the joint: divide by p(evidence) so that it sums to one."),
            (
                q_e / prior,
                "that is the likelihood p(evidence | query): Bayes' theorem also "
                "multiplies by the prior p(query) and normalises.",
            ),
            (prior, "that is the prior p(query): the evidence was ignored."),
            (q_e_max / q_e_max.sum(), "you took the maximum over the hidden variables: sum them out."),
        ],
    )


# Rain and a sprinkler both wet the grass: p(rain) p(sprinkler) p(wet | rain, sprinkler).
_p_wet = np.array([[[0.95, 0.05], [0.10, 0.90]], [[0.20, 0.80], [0.01, 0.99]]])  # axes rain, sprinkler, wet
_table = np.array([0.8, 0.2])[:, None, None] * np.array([0.6, 0.4])[None, :, None] * _p_wet
_grass = ["rain", "sprinkler", "wet"]
_check_posterior(_table, _grass, "rain", {"wet": 1})
_check_posterior(_table, _grass, "rain", {"wet": 1, "sprinkler": 1})  # explaining away: rain less likely
_check_posterior(_table, _grass, "sprinkler", {"rain": 0})
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(13)
_names = ["a", "b", "c", "d", "e"]
_big = _rng.dirichlet(np.full(2 * 3 * 2 * 4 * 3, 0.5)).reshape(2, 3, 2, 4, 3)
for _query, _evidence in [
    ("d", {"a": 1, "e": 2}),
    ("a", {"c": 0}),
    ("e", {"b": 2, "c": 1, "d": 3}),
    ("b", {}),
    ("c", {"a": 0, "b": 1, "d": 2, "e": 0}),
    ("d", {"e": np.int64(1)}),
]:
    _check_posterior(_big, _names, _query, _evidence)
_check_posterior(_big.tolist(), _names, "b", {"d": 0})
_got = checks.as_array(posterior(_table, _grass, "wet", {}), "posterior")
checks.assert_close(_got.sum(), 1.0, "the sum of posterior(..., evidence={}) (the marginal of the query)")
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: explaining away (1 point)
#
# In the wet-grass network of the visible tests above, rain and the sprinkler are independent causes of wet
# grass: $p(\text{rain}, \text{sprinkler}, \text{wet}) = p(\text{rain})\,p(\text{sprinkler})\,p(\text{wet} \mid
# \text{rain}, \text{sprinkler})$, with $p(\text{rain}) = 0.2$ and $p(\text{sprinkler on}) = 0.4$. Either cause
# alone usually wets the grass ($p(\text{wet})$ is 0.8 with rain only, 0.9 with the sprinkler only, 0.99 with
# both, 0.05 with neither). You see that the grass is wet; then you learn that the sprinkler was on.
# **Before running the cell below**, predict how $p(\text{rain} \mid \text{wet}, \text{sprinkler on})$ compares
# with $p(\text{rain} \mid \text{wet})$:
#
# - (a) it is higher: the sprinkler being on is one more sign of a wet day;
# - (b) it is lower;
# - (c) it is the same: rain and the sprinkler are independent.
#
# Put the letter in `predicted_rain_given_sprinkler`.

# %% solution predicted_rain_given_sprinkler
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_rain_given_sprinkler = "b"
### END SOLUTION

# %% test predicted_rain_given_sprinkler points=1
checks.assert_true(
    isinstance(predicted_rain_given_sprinkler, str)
    and predicted_rain_given_sprinkler.strip().lower() in ("a", "b", "c"),
    "predicted_rain_given_sprinkler should be one of the letters 'a', 'b', 'c'; "
    f"got {predicted_rain_given_sprinkler!r}.",
)
### BEGIN HIDDEN TESTS
_p_wet1 = np.array([[0.05, 0.90], [0.80, 0.99]])  # p(wet = 1 | rain, sprinkler)
_both = np.array([0.8, 0.2])[:, None] * np.array([0.6, 0.4])[None, :] * _p_wet1  # p(rain, sprinkler, wet = 1)
_given_wet = _both[1].sum() / _both.sum()
_given_wet_on = _both[1, 1] / _both[:, 1].sum()
checks.assert_true(
    predicted_rain_given_sprinkler.strip().lower() == "b",
    f"you predicted ({predicted_rain_given_sprinkler.strip().lower()}); the answer is (b): p(rain | wet) = "
    f"{_given_wet:.2f} falls to p(rain | wet, sprinkler on) = {_given_wet_on:.2f}. Rain and the sprinkler are "
    "independent only as long as their common child, wet grass, is not observed (a v-structure). Once the grass "
    "is known to be wet, the two causes compete to explain it: the sprinkler alone explains it well, so rain is "
    "no longer needed to explain it and becomes less likely. This is explaining away.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your posterior on the wet-grass network.
p_wet = np.array([[[0.95, 0.05], [0.10, 0.90]], [[0.20, 0.80], [0.01, 0.99]]])  # axes rain, sprinkler, wet
grass_table = np.array([0.8, 0.2])[:, None, None] * np.array([0.6, 0.4])[None, :, None] * p_wet
grass = ["rain", "sprinkler", "wet"]
print(f"p(rain)                      = {posterior(grass_table, grass, 'rain', {})[1]:.3f}")
print(f"p(rain | sprinkler on)       = {posterior(grass_table, grass, 'rain', {'sprinkler': 1})[1]:.3f}")
print(f"p(rain | wet)                = {posterior(grass_table, grass, 'rain', {'wet': 1})[1]:.3f}")
print(f"p(rain | wet, sprinkler on)  = {posterior(grass_table, grass, 'rain', {'wet': 1, 'sprinkler': 1})[1]:.3f}")

# %% [markdown]
# ## Exercise 4 — What the expert DAG buys, and what it costs (2 points, graded by hand)
#
# The expert DAG of the lecture needs 22 free parameters; the full chain rule needs 71. In two to four
# sentences: name one practical advantage of the smaller model when the parameters are estimated from a
# data set, and one risk of using it. Refer to a specific missing arrow of the expert DAG.

# %% written dag points=2
# ### BEGIN SOLUTION
# Advantage: with 22 instead of 71 free parameters, each CPT row is estimated from many more data points
# (for example $p(y \mid \text{salary}, \text{gender})$ has 6 rows instead of the 36 rows of
# $p(y \mid \text{ms}, \text{gender}, \text{salary}, \text{age})$), so the estimates vary less and the model
# overfits less; it is also cheaper to store and to do inference in. Risk: every missing arrow is an
# assumption. If, say, $y$ really depends on age even given salary (the DAG has no arrow age → $y$), the
# model cannot represent it, however much data we have: its estimates are biased.
#
# *For graders:* one point for an advantage tied to fewer parameters (variance, data per row, overfitting,
# cost); one point for the risk that a wrong independence assumption (a named missing arrow) biases the
# model. Bias–variance wording is welcome but not required.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A CPT over $v$ has $\prod_{\mathrm{pa}(v)} |u|$ rows of $|v|$ entries, of which $|v| - 1$ are free.
# - `tfd.JointDistributionNamed` finds the parents from the argument names of each conditional; its
#   `log_prob` is the sum of the log CPT entries, and `sample` draws ancestrally.
# - A posterior by enumeration: slice the table at the evidence, sum out the hidden variables, normalise.
# - An arrow multiplies the rows of its child's CPT by the parent's cardinality.
# - Two independent causes become dependent once their common effect is observed (explaining away).
