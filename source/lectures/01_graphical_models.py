# %% [markdown]
# # Unit 01 — Probabilistic graphical models
#
# A joint distribution over many variables is a huge table; a directed graph that says which
# variables depend on which shrinks it to a few small tables, tells us how to sample from it, and
# shows where exact inference stops being affordable.

# %% badge

# %% [markdown]
# **Learning outcomes.** After this lecture you can
#
# - write any joint distribution as a product of conditionals (the chain rule of probability);
# - read a directed acyclic graph (DAG) as a factorisation $p(x) = \prod_i p(x_i \mid \mathrm{pa}(x_i))$,
#   and see which independences it encodes (including "explaining away");
# - count the entries and the free parameters of the conditional probability tables (CPTs) of a DAG;
# - build a discrete Bayesian network as a `tfd.JointDistributionNamed` and sample from it ancestrally;
# - learn its CPTs from samples by counting (maximum likelihood);
# - decide by d-separation which independences a DAG implies, and find a variable's Markov blanket;
# - compute a posterior with Bayes' theorem by enumeration, and check it against sampling;
# - explain, and measure, why the evidence of a Bayesian Gaussian mixture has $K^n$ terms to sum, and
#   what stays cheap.

# %% setup

# %%
import itertools
import time

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config, plotting

tfd = tfp.distributions
plotting.style()
print(f"mode: {config.mode().upper()}")

# %% [markdown]
# ## Settings
#
# The sizes that depend on the mode: FAST (`DGM_MODE=fast`, as the tests run) or FULL (the default).

# %%
N_CHAIN = config.pick(fast=100_000, full=1_000_000)  # draws that check the chain rule (section 1)
N_SAMPLES = config.pick(fast=20_000, full=200_000)  # ancestral samples of the five-variable network (sections 4, 5, 7)
N_MAX = config.pick(fast=9, full=11)  # the largest data set whose GMM evidence is enumerated exactly (section 8)
N_MU = config.pick(fast=200_000, full=2_000_000)  # prior draws of the means for the Monte Carlo evidence (section 8)

# %% [markdown]
# ## 1. The chain rule of probability
#
# By the definition of conditional probability, $p(a, b) = p(a)\,p(b \mid a)$. Applying it repeatedly
# to $n$ variables gives the **chain rule**:
#
# $$p(x_1, x_2, \dots, x_n) = p(x_1)\,p(x_2 \mid x_1)\,p(x_3 \mid x_1, x_2) \cdots p(x_n \mid x_1, \dots, x_{n-1})
# = \prod_{i=1}^n p(x_i \mid x_1, \dots, x_{i-1}).$$
#
# It holds for **every** joint distribution and **every** ordering of the variables: it assumes
# nothing. (A common slip is to state it only for events $E_1, \dots, E_n$ whose intersection is the
# sample space; it holds for any events with $\Pr(E_1 \cap \dots \cap E_{n-1}) > 0$, and for random
# variables as above.)
#
# Check: a random joint table over three discrete variables with 2, 3 and 4 values. Computing each
# conditional from the table and multiplying them back would rebuild the table by construction (the
# divisions cancel), which proves nothing. Instead we use the chain rule as a recipe for sampling: draw
# $a$ from $p(a)$, then $b$ from $p(b \mid a)$, then $c$ from $p(c \mid a, b)$, each conditional read off the
# table. If the product of the conditionals is the joint, the triples drawn this way have the frequencies
# of the table. A frequency of a cell with probability $p$ has standard error $\sqrt{p(1-p)/N}$; all 24 must
# lie within 5 standard errors, in the order $(a, b, c)$ and in the order $(c, b, a)$. The test has teeth:
# drawing $b$ from $p(b)$ instead of $p(b \mid a)$, as if $b$ did not depend on $a$, must fail it.


# %%
def draw(probs, rng):
    """One value from each distribution in probs (the last axis), by inverting its cumulative sum."""
    u = rng.random(probs.shape[:-1] + (1,))
    return np.minimum((u > np.cumsum(probs, axis=-1)).sum(axis=-1), probs.shape[-1] - 1)


def z_scores_abc(a, b, c, joint):
    """(frequency - probability) / standard error for every cell of a table over (a, b, c)."""
    freq = np.bincount(np.ravel_multi_index((a, b, c), joint.shape), minlength=joint.size) / len(a)
    p = joint.ravel()
    return (freq - p) / np.sqrt(p * (1 - p) / len(a))


rng_chain = np.random.default_rng(config.seed() + 1)
joint_abc = rng_chain.dirichlet(np.ones(2 * 3 * 4)).reshape(2, 3, 4)  # p(a, b, c), axes a, b, c

p_a = joint_abc.sum(axis=(1, 2))  # p(a)
p_ab = joint_abc.sum(axis=2)  # p(a, b)
p_b_given_a = p_ab / p_a[:, None]  # p(b | a), axes a, b
p_c_given_ab = joint_abc / p_ab[:, :, None]  # p(c | a, b), axes a, b, c
a_draw = draw(np.broadcast_to(p_a, (N_CHAIN, 2)), rng_chain)
b_draw = draw(p_b_given_a[a_draw], rng_chain)
c_draw = draw(p_c_given_ab[a_draw, b_draw], rng_chain)
z_abc = z_scores_abc(a_draw, b_draw, c_draw, joint_abc)

p_c = joint_abc.sum(axis=(0, 1))  # p(c)
p_bc = joint_abc.sum(axis=0)  # p(b, c), axes b, c
p_b_given_c = p_bc / p_c  # p(b | c), axes b, c
p_a_given_bc = joint_abc / p_bc  # p(a | b, c), axes a, b, c
c_back = draw(np.broadcast_to(p_c, (N_CHAIN, 4)), rng_chain)
b_back = draw(p_b_given_c[:, c_back].T, rng_chain)
a_back = draw(p_a_given_bc[:, b_back, c_back].T, rng_chain)
z_cba = z_scores_abc(a_back, b_back, c_back, joint_abc)

# The check can fail: drop a conditioning variable, drawing b from p(b) instead of p(b | a).
b_wrong = draw(np.broadcast_to(p_ab.sum(axis=0), (N_CHAIN, 3)), rng_chain)
z_wrong = z_scores_abc(a_draw, b_wrong, draw(p_c_given_ab[a_draw, b_wrong], rng_chain), joint_abc)

print(f"{N_CHAIN} draws; largest |z| over the 24 cells:")
print(f"   order a, b, c: {np.abs(z_abc).max():.2f}    order c, b, a: {np.abs(z_cba).max():.2f}")
print(f"   b drawn from p(b) instead of p(b | a): {np.abs(z_wrong).max():.1f}")
# Over seeds 0-9 (FAST) the largest |z| was 1.5-3.0 for both orders and 12-77 for the wrong recipe.
assert np.abs(z_abc).max() < 5, f"expected the chain rule (a, b, c) within 5 SE; got |z| = {np.abs(z_abc).max():.2f}"
assert np.abs(z_cba).max() < 5, f"expected the chain rule (c, b, a) within 5 SE; got |z| = {np.abs(z_cba).max():.2f}"
assert np.abs(z_wrong).max() > 5, f"expected p(a) p(b) p(c|a,b) to miss the joint; got |z| = {np.abs(z_wrong).max()}"

# %% [markdown]
# ## 2. Directed graphical models: a DAG is a factorisation
#
# The chain rule lets the $i$-th factor depend on *all* earlier variables. A **directed acyclic graph**
# (DAG) states that each variable depends only on its **parents** $\mathrm{pa}(x_i)$:
#
# $$p(x_1, \dots, x_n) = \prod_{i=1}^n p\big(x_i \mid \mathrm{pa}(x_i)\big).$$
#
# Nodes are random variables, an arrow $u \to v$ means "$u$ is a parent of $v$". It is the chain rule
# (in an order where parents come first, which exists because the graph has no cycles) with some
# conditioning variables *dropped*: each missing arrow is an assumption of conditional independence.
# Any set of normalised conditional tables defines a normalised joint this way: summing out the last
# variable in the order removes its factor (it sums to one), and so on down to the first.
#
# The smallest interesting case is the **v-structure** $a \to c \leftarrow b$:
# $p(a, b, c) = p(a)\,p(b)\,p(c \mid a, b)$. Compared with the chain rule
# $p(a)\,p(b \mid a)\,p(c \mid a, b)$, the DAG says $p(b \mid a) = p(b)$: $a$ and $b$ are independent.
# But they become **dependent once $c$ is observed** ("explaining away": if either of two causes
# explains an effect, learning that one is present makes the other less likely).
#
# Check: build the joint from three random tables; it sums to one, $p(b \mid a) = p(b)$, and
# $p(a \mid b, c) \ne p(a \mid c)$.

# %%
cpt_a = np.array([0.7, 0.3])
cpt_b = np.array([0.6, 0.4])
rng_v = np.random.default_rng(config.seed() + 2)
cpt_c = rng_v.dirichlet(np.ones(2), size=(2, 2))  # p(c | a, b), axes a, b, c
joint_v = cpt_a[:, None, None] * cpt_b[None, :, None] * cpt_c  # the DAG factorisation

p_ab_v = joint_v.sum(axis=2)
p_b_given_a_v = p_ab_v / p_ab_v.sum(axis=1, keepdims=True)
p_ac_v = joint_v.sum(axis=1)
p_a_given_c = p_ac_v / p_ac_v.sum(axis=0, keepdims=True)  # axes a, c
p_a_given_bc_v = joint_v / joint_v.sum(axis=0, keepdims=True)  # axes a, b, c

print(f"sum of the joint: {joint_v.sum():.15f}")
print(f"p(b | a) for a = 0, 1: {p_b_given_a_v.round(4).tolist()}   p(b) = {cpt_b.tolist()}")
print(
    f"p(a=1 | c=1) = {p_a_given_c[1, 1]:.4f};  p(a=1 | b=0, c=1) = {p_a_given_bc_v[1, 0, 1]:.4f};  "
    f"p(a=1 | b=1, c=1) = {p_a_given_bc_v[1, 1, 1]:.4f}"
)
assert abs(joint_v.sum() - 1) < 1e-12, f"expected the DAG factorisation to sum to 1; got {joint_v.sum()}"
assert np.abs(p_b_given_a_v - cpt_b).max() < 1e-12, f"expected p(b|a) = p(b) = {cpt_b}; got {p_b_given_a_v}"
dependence = np.abs(p_a_given_bc_v - p_a_given_c[:, None, :]).max()
# Over seeds 0-19 the dependence was 0.019-0.43 (and exactly independent tables give about 1e-16).
assert dependence > 1e-3, f"expected a and b to be dependent given c; max |p(a|b,c) - p(a|c)| = {dependence}"

# %% [markdown]
# ## 3. An example: five variables, two graphs
#
# Our example has five discrete variables (continuous ones discretised into bins):
#
# | variable | values | cardinality |
# |---|---|---|
# | age | $a_1, a_2, a_3$ | 3 |
# | salary | $s_1, s_2, s_3$ | 3 |
# | gender | $g_1, g_2$ | 2 |
# | marital status (ms) | $ms_1, ms_2$ | 2 |
# | $y$ (a binary label) | 0, 1 | 2 |
#
# **Full chain rule** (order age, salary, gender, ms, $y$; no assumptions):
#
# $$p(\text{age}, \text{salary}, \text{gender}, \text{ms}, y)
# = p(\text{age})\,p(\text{salary} \mid \text{age})\,p(\text{gender} \mid \text{salary}, \text{age})\,
# p(\text{ms} \mid \text{gender}, \text{salary}, \text{age})\,
# p(y \mid \text{ms}, \text{gender}, \text{salary}, \text{age}).$$
#
# **Expert DAG**: age, gender and ms are independent; salary depends on age and ms; $y$ depends only
# on salary and gender:
#
# $$p(\text{age}, \text{salary}, \text{gender}, \text{ms}, y)
# = p(\text{age})\,p(\text{gender})\,p(\text{ms})\,p(\text{salary} \mid \text{age}, \text{ms})\,
# p(y \mid \text{salary}, \text{gender}).$$

# %%
cardinality = {"age": 3, "salary": 3, "gender": 2, "ms": 2, "y": 2}
chain_parents = {
    "age": [],
    "salary": ["age"],
    "gender": ["salary", "age"],
    "ms": ["gender", "salary", "age"],
    "y": ["ms", "gender", "salary", "age"],
}
expert_parents = {"age": [], "gender": [], "ms": [], "salary": ["age", "ms"], "y": ["salary", "gender"]}

# Nodes on a pentagon, so that no arrow passes through a node.
angles = np.pi / 2 - 2 * np.pi * np.arange(5) / 5
positions = {v: (np.cos(t), np.sin(t)) for v, t in zip(["age", "salary", "y", "gender", "ms"], angles)}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for ax, parents, title in [
    (axes[0], chain_parents, "full chain rule (10 arrows)"),
    (axes[1], expert_parents, "expert DAG (4 arrows)"),
]:
    for child, pas in parents.items():
        for parent in pas:
            ax.annotate(
                "",
                xy=positions[child],
                xytext=positions[parent],
                arrowprops=dict(arrowstyle="-|>", color="0.35", shrinkA=22, shrinkB=22, mutation_scale=14),
            )
    for name, (px, py) in positions.items():
        ax.scatter(px, py, s=1900, color="white", edgecolor=plotting.COLORS["p"], linewidth=2, zorder=3)
        ax.text(px, py, name, ha="center", va="center", zorder=4)
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.2, 1.3)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# ### Counting parameters
#
# A CPT $p(v \mid \mathrm{pa}(v))$ has one row per configuration of the parents, and one entry per value
# of $v$ in each row:
#
# $$\text{entries}(v) = |v| \prod_{u \in \mathrm{pa}(v)} |u|, \qquad
# \text{free}(v) = (|v| - 1) \prod_{u \in \mathrm{pa}(v)} |u|.$$
#
# Each row sums to one, so its last entry is fixed by the others: a row of $|v|$ entries has $|v| - 1$
# free parameters. A common slip is to count the entries as the "unknown probabilities"; the **free
# (non-redundant) parameters** are what a learning algorithm must actually estimate: we do not need to
# learn all the entries.
#
# Check: count both, factor by factor, for both graphs, from the cardinalities and parent sets.

# %%
totals = {}
for graph, parents in [("chain rule", chain_parents), ("expert DAG", expert_parents)]:
    print(f"{graph}:\n   factor                          rows  entries  free")
    entries_total = free_total = 0
    for v, pas in parents.items():
        rows = int(np.prod([cardinality[u] for u in pas]))  # configurations of the parents (1 if none)
        entries, free = rows * cardinality[v], rows * (cardinality[v] - 1)
        entries_total, free_total = entries_total + entries, free_total + free
        factor = f"p({v}" + (" | " + ", ".join(pas) if pas else "") + ")"
        print(f"   {factor:32s}{rows:4d}  {entries:7d}  {free:4d}")
    print(f"   {'total':32s}      {entries_total:7d}  {free_total:4d}")
    totals[graph] = (entries_total, free_total)

joint_size = int(np.prod(list(cardinality.values())))
print(f"\none big table over all {joint_size} configurations: {joint_size} entries, {joint_size - 1} free")
assert totals["chain rule"] == (138, 71), (
    f"expected (138 entries, 71 free) for the chain rule; got {totals['chain rule']}"
)
assert totals["expert DAG"] == (37, 22), (
    f"expected (37 entries, 22 free) for the expert DAG; got {totals['expert DAG']}"
)
assert totals["chain rule"][1] == joint_size - 1, (
    f"expected the chain rule to have as many free parameters as the full joint table ({joint_size - 1})"
)

# %% [markdown]
# The chain rule has exactly as many free parameters (71) as one table over all $72$ configurations:
# it is the same distribution, written differently, with no assumption. The expert DAG needs 22,
# a third. For $n$ binary variables the full table needs $2^n - 1$ free parameters; a DAG in which
# every node has at most $m$ parents needs at most $n\,2^m$: exponential in $m$, linear in $n$. This is
# the point of graphical models, and of the deep generative models of this course, which use neural
# networks to parameterise the factors.

# %% [markdown]
# ## 4. Ancestral sampling with `tfd.JointDistributionNamed`
#
# To sample from a DAG, visit the nodes in an order where parents come first and draw each from its
# CPT given the values already drawn for its parents: **ancestral sampling**. TFP does this for us:
# `tfd.JointDistributionNamed` takes a dictionary of distributions; an entry that is a function
# receives, **by argument name**, the values of the variables it depends on. The same object evaluates
# `log_prob` of a full configuration as the sum of the log CPT entries.
#
# The CPTs below are made up for the example. Each is indexed by its parents in the order of the
# factor, the child's value last: `cpt_salary[age, ms, salary]`, `cpt_y[salary, gender, y]`.

# %%
cpt = {
    "age": np.array([0.30, 0.45, 0.25]),
    "gender": np.array([0.50, 0.50]),
    "ms": np.array([0.55, 0.45]),
    "salary": np.array(
        [  # p(salary | age, ms), axes age, ms, salary
            [[0.70, 0.25, 0.05], [0.60, 0.30, 0.10]],
            [[0.30, 0.50, 0.20], [0.20, 0.50, 0.30]],
            [[0.20, 0.40, 0.40], [0.10, 0.40, 0.50]],
        ]
    ),
    "y": np.array(
        [  # p(y | salary, gender), axes salary, gender, y
            [[0.80, 0.20], [0.70, 0.30]],
            [[0.55, 0.45], [0.45, 0.55]],
            [[0.25, 0.75], [0.15, 0.85]],
        ]
    ),
}
for name, table in cpt.items():
    assert np.allclose(table.sum(axis=-1), 1.0), f"expected every row of the {name} CPT to sum to 1"

# %% [markdown]
# Each conditional is a function of its parents' values that picks the matching rows of its CPT.


# %%
def salary_given(age, ms):
    # age and ms are integer tensors of any (equal) shape; gather the matching rows of the CPT.
    return tfd.Categorical(probs=tf.gather_nd(cpt["salary"], tf.stack([age, ms], axis=-1)))


def y_given(salary, gender):
    return tfd.Categorical(probs=tf.gather_nd(cpt["y"], tf.stack([salary, gender], axis=-1)))


model = tfd.JointDistributionNamed(
    {
        "age": tfd.Categorical(probs=cpt["age"]),
        "gender": tfd.Categorical(probs=cpt["gender"]),
        "ms": tfd.Categorical(probs=cpt["ms"]),
        "salary": salary_given,  # parents found from the argument names: age, ms
        "y": y_given,  # parents: salary, gender
    }
)
print(model)
print("sampled in the order:", [name for name, _ in model.resolve_graph()])
draws = model.sample(5, seed=(config.seed(), 1))
print({name: value.numpy().tolist() for name, value in draws.items()})

# %% [markdown]
# TFP read the graph from the argument names: `resolve_graph` lists each variable with its parents, in
# the order it samples them. A quick check that it found the expert DAG:

# %%
found = {name: sorted(pas) for name, pas in model.resolve_graph()}
assert found == {v: sorted(pas) for v, pas in expert_parents.items()}, (
    f"expected TFP to find the expert DAG {expert_parents}; got {found}"
)

# %% [markdown]
# **The joint is a proper distribution, and it is the product of the CPTs.** Enumerate all
# $3 \cdot 3 \cdot 2 \cdot 2 \cdot 2 = 72$ configurations, evaluate `model.log_prob` on all of them at once
# (the values are tensors of shape (72,)), and compare with the product of the five CPT entries looked
# up by hand. The probabilities must sum to one.

# %%
names = ["age", "salary", "gender", "ms", "y"]
configs = np.array(list(itertools.product(*[range(cardinality[v]) for v in names])), dtype=np.int32)  # (72, 5)
values = {v: configs[:, i] for i, v in enumerate(names)}
log_p = model.log_prob(values).numpy()

a, s, g, m, yy = (values[v] for v in names)
product = cpt["age"][a] * cpt["gender"][g] * cpt["ms"][m] * cpt["salary"][a, m, s] * cpt["y"][s, g, yy]
table = np.exp(log_p).reshape([cardinality[v] for v in names])  # axes age, salary, gender, ms, y

print(f"{len(configs)} configurations; sum of p = {np.exp(log_p).sum():.15f}")
print(f"max |p(config) - product of CPT entries| = {np.abs(np.exp(log_p) - product).max():.1e}")
assert abs(np.exp(log_p).sum() - 1) < 1e-12, f"expected the probabilities to sum to 1; got {np.exp(log_p).sum()}"
assert np.allclose(np.exp(log_p), product, rtol=1e-12, atol=0), "expected log_prob to equal the log of the CPT product"

# %% [markdown]
# Independences of the expert DAG, read off the 72-entry table: age, gender and ms are mutually
# independent (their joint is the product of their marginals); $y$ is independent of age given salary
# (age acts on $y$ only through salary); but age and ms, independent a priori, become dependent once
# salary is known: the v-structure of section 2.

# %%
p_age_gender_ms = table.sum(axis=(1, 4))  # axes age, gender, ms
outer = np.einsum("a,g,m->agm", cpt["age"], cpt["gender"], cpt["ms"])
p_age_salary_y = table.sum(axis=(2, 3))  # axes age, salary, y
p_y_given_age_salary = p_age_salary_y / p_age_salary_y.sum(axis=2, keepdims=True)
p_salary_y = p_age_salary_y.sum(axis=0)
p_y_given_salary = p_salary_y / p_salary_y.sum(axis=1, keepdims=True)
p_age_salary_ms = table.sum(axis=(2, 4))  # axes age, salary, ms
p_age_given_salary_ms = p_age_salary_ms / p_age_salary_ms.sum(axis=0, keepdims=True)
p_age_given_salary = p_age_salary_ms.sum(axis=2) / p_age_salary_ms.sum(axis=(0, 2))

gap_roots = np.abs(p_age_gender_ms - outer).max()
gap_y = np.abs(p_y_given_age_salary - p_y_given_salary[None]).max()
gap_v = np.abs(p_age_given_salary_ms - p_age_given_salary[:, :, None]).max()
print(f"max |p(age, gender, ms) - p(age) p(gender) p(ms)| = {gap_roots:.1e}")
print(f"max |p(y | age, salary) - p(y | salary)|          = {gap_y:.1e}")
print(f"max |p(age | salary, ms) - p(age | salary)|       = {gap_v:.3f}   (dependent: explaining away)")
assert gap_roots < 1e-12, f"expected age, gender, ms independent; got a gap of {gap_roots}"
assert gap_y < 1e-12, f"expected y independent of age given salary; got a gap of {gap_y}"
assert gap_v > 0.01, f"expected age and ms dependent given salary; got a gap of only {gap_v}"

# %% [markdown]
# **Sampling agrees with the table.** Draw many configurations ancestrally and compare the frequency of
# each of the 72 configurations with its probability. A frequency is a binomial proportion, with
# standard error $\sqrt{p(1-p)/N}$; every configuration must lie within 5 standard errors.

# %%
start = time.perf_counter()
samples = model.sample(N_SAMPLES, seed=(config.seed(), 2))
elapsed = time.perf_counter() - start
codes = np.ravel_multi_index([samples[v].numpy() for v in names], [cardinality[v] for v in names])
freq = np.bincount(codes, minlength=len(configs)) / N_SAMPLES
probs = table.ravel()
z_scores = (freq - probs) / np.sqrt(probs * (1 - probs) / N_SAMPLES)
print(
    f"{N_SAMPLES} ancestral samples in {elapsed:.2f} s; "
    f"largest |z| over 72 configurations: {np.abs(z_scores).max():.2f}"
)
assert np.abs(z_scores).max() < 5, (
    f"expected every frequency within 5 SE of its probability; got |z| = {np.abs(z_scores).max():.2f}"
)

fig, ax = plt.subplots(figsize=(6.4, 3.6))
se = np.sqrt(probs * (1 - probs) / N_SAMPLES)
ax.errorbar(probs, freq, yerr=2 * se, fmt="o", ms=3, color=plotting.COLORS["q"], label="sample frequency ± 2 SE")
ax.plot([0, probs.max()], [0, probs.max()], color=plotting.COLORS["p"], label="frequency = probability")
ax.set_xlabel("p(configuration) from the CPTs")
ax.set_ylabel("frequency in the samples")
ax.set_title(f"Ancestral sampling: 72 configurations, N = {N_SAMPLES}")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# ## 5. Learning the tables from data: normalised counts
#
# So far the CPTs were given. From $N$ fully observed configurations, the factorisation turns the
# log-likelihood of the tables $\theta$ into a sum over the CPTs and their rows. Write $N_v(r, k)$ for the
# number of samples whose parents of $v$ are in configuration $r$ and whose $v$ equals $k$:
#
# $$\log p(\text{data} \mid \theta) = \sum_{j=1}^N \sum_v \log \theta_v\big(x^{(j)}_v \mid x^{(j)}_{\mathrm{pa}(v)}\big)
# = \sum_v \sum_r \sum_k N_v(r, k) \log \theta_v(k \mid r).$$
#
# Each row $(v, r)$ appears in its own term, under its own constraint $\sum_k \theta_v(k \mid r) = 1$, so the
# rows are fitted separately. A Lagrange multiplier gives $N_v(r, k) / \theta_v(k \mid r) = \lambda$ for all $k$:
# the **maximum-likelihood CPT is the normalised counts**,
#
# $$\hat\theta_v(k \mid r) = \frac{N_v(r, k)}{N_v(r)}, \qquad N_v(r) = \sum_{k'} N_v(r, k').$$
#
# (No other row does better: $\sum_k N_v(r, k) \log \hat\theta_v(k \mid r) - \sum_k N_v(r, k) \log \theta'_k
# = N_v(r)\, \mathrm{KL}(\hat\theta_v(\cdot \mid r) \,\|\, \theta') \ge 0$.)
#
# We count the ancestral samples of section 4.


# %%
def counted_cpt(sampled, child, parents):
    """The maximum-likelihood CPT p(child | parents): the count of each configuration, each row normalised."""
    shape = [cardinality[v] for v in parents + [child]]
    codes = np.ravel_multi_index([sampled[v] for v in parents + [child]], shape)
    counts = np.bincount(codes, minlength=int(np.prod(shape))).reshape(shape)
    return counts / counts.sum(axis=-1, keepdims=True), counts


def log_likelihood(tables, counts):
    """log p(samples | tables): the sum over all CPT entries of count * log(entry)."""
    return sum(float((counts[v] * np.log(np.where(counts[v] > 0, tables[v], 1.0))).sum()) for v in counts)


sampled = {v: samples[v].numpy() for v in names}
learned, row_counts = {}, {}
for v, pas in expert_parents.items():
    learned[v], row_counts[v] = counted_cpt(sampled, v, pas)
print("p(salary | age, ms): counted from the samples (true value in brackets)")
for age, ms in itertools.product(range(3), range(2)):
    row = ", ".join(f"{p:.3f} [{t:.2f}]" for p, t in zip(learned["salary"][age, ms], cpt["salary"][age, ms]))
    print(f"   age = a{age + 1}, ms = ms{ms + 1}  ({row_counts['salary'][age, ms].sum():5d} samples): {row}")

# %% [markdown]
# **Check: no table fits better than the counts**, neither the true CPTs nor 200 random perturbations of
# the counted ones (each row nudged and renormalised). **Check: the counts estimate the true tables.** Given
# the $N_v(r)$ samples in row $r$, an estimated entry is a binomial proportion with standard error
# $\sqrt{\theta(1 - \theta) / N_v(r)}$; all 37 entries must lie within 5 standard errors. A row seen rarely is
# estimated poorly: every extra parent multiplies the rows and divides the data each row gets.

# %%
rng_nudge = np.random.default_rng(config.seed() + 3)
ll_counted, ll_true = log_likelihood(learned, row_counts), log_likelihood(cpt, row_counts)
ll_nudged = []
for _ in range(200):
    nudged = {v: t * np.exp(0.05 * rng_nudge.normal(size=t.shape)) for v, t in learned.items()}
    ll_nudged.append(log_likelihood({v: t / t.sum(axis=-1, keepdims=True) for v, t in nudged.items()}, row_counts))
z_cpt = np.concatenate(
    [
        ((learned[v] - cpt[v]) / np.sqrt(cpt[v] * (1 - cpt[v]) / row_counts[v].sum(axis=-1, keepdims=True))).ravel()
        for v in cpt
    ]
)
print(
    f"log-likelihood of the {N_SAMPLES} samples: counted CPTs {ll_counted:.2f}, true CPTs {ll_true:.2f}, "
    f"best of 200 perturbed CPTs {max(ll_nudged):.2f}"
)
print(f"largest |z| of the {z_cpt.size} counted entries against the true CPTs: {np.abs(z_cpt).max():.2f}")
assert ll_counted >= ll_true, (
    f"expected the counts to fit at least as well as the true CPTs; got {ll_counted} < {ll_true}"
)
assert ll_counted >= max(ll_nudged), f"expected no perturbed CPT to fit better; got {max(ll_nudged)} > {ll_counted}"
# Over seeds 0-9 (FAST, the same sample size) the largest |z| of the 37 entries was 1.7-4.1.
assert np.abs(z_cpt).max() < 5, (
    f"expected every counted entry within 5 SE of the truth; got |z| = {np.abs(z_cpt).max()}"
)

# %% [markdown]
# ## 6. Reading independences off the graph: d-separation and the Markov blanket
#
# Section 4 found three independences of the expert DAG in its table. The graph alone gives all of them.
# A path between $x$ and $y$ (arrows followed in either direction) passes each node $w$ on it in one of three
# ways:
#
# - a chain $\to w \to$ or a fork $\leftarrow w \to$: observing $w$ **blocks** the path (it carries the
#   whole influence);
# - a collider $\to w \leftarrow$ (a v-structure): the path is blocked **unless** $w$ or one of its
#   descendants is observed (explaining away).
#
# $x$ and $y$ are **d-separated** by a set $Z$ if every path between them is blocked; then $x \perp y \mid Z$
# in every distribution that factorises over the graph. A test that is easy to code (Lauritzen et al. 1990):
# keep only $x$, $y$, $Z$ and their ancestors, link the parents of each node ("moralise"), drop the
# directions, delete $Z$; $x$ and $y$ are d-separated exactly when no path is left between them.


# %%
def ancestors(parents, nodes):
    """The nodes and all their ancestors."""
    found, stack = set(nodes), list(nodes)
    while stack:
        for parent in parents[stack.pop()]:
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def d_separated(parents, x, y, given):
    """Whether x and y are d-separated by the set given, in the DAG {node: its parents}."""
    keep = ancestors(parents, {x, y, *given})
    links = {v: set() for v in keep}
    for v in keep:
        for parent in parents[v]:  # the arrows, without their direction
            links[v].add(parent)
            links[parent].add(v)
        for p, q in itertools.combinations(parents[v], 2):  # marry the parents
            links[p].add(q)
            links[q].add(p)
    seen, stack = {x}, [x]
    while stack:
        for w in links[stack.pop()] - set(given) - seen:
            if w == y:
                return False
            seen.add(w)
            stack.append(w)
    return True


# %% [markdown]
# A small DAG with all three kinds of node: cloudy weather makes the sprinkler less likely and rain more
# likely, both wet the grass, wet grass is slippery. Build its joint from random CPTs and test all 80
# statements $x \perp y \mid Z$ (10 pairs, each with the 8 subsets of the other three variables) by
# enumeration: is $p(x \mid y, Z) = p(x \mid Z)$? Every d-separated pair must be independent. The others
# should be dependent: a graph only *allows* a dependence, and special tables could cancel it, but random
# ones do not.

# %%
wet_parents = {
    "cloudy": [],
    "sprinkler": ["cloudy"],
    "rain": ["cloudy"],
    "wet": ["sprinkler", "rain"],
    "slippery": ["wet"],
}
wet_names = list(wet_parents)
rng_wet = np.random.default_rng(config.seed() + 5)
joint_wet = np.ones([2] * len(wet_names))
for v, pas in wet_parents.items():  # parents listed in the order of wet_names, so the table's axes are in order
    table_v = rng_wet.dirichlet(np.ones(2), size=[2] * len(pas))  # p(v | parents), the child's axis last
    axes = [wet_names.index(u) for u in pas + [v]]
    joint_wet = joint_wet * table_v.reshape([2 if i in axes else 1 for i in range(len(wet_names))])


def conditional(joint, names, v, given):
    """p(v | given) from a joint table, keeping one axis per variable (size 1 for those summed out)."""
    keep = {v, *given}
    marginal = joint.sum(axis=tuple(i for i, u in enumerate(names) if u not in keep), keepdims=True)
    return marginal / marginal.sum(axis=names.index(v), keepdims=True)


def dependence_gap(joint, names, x, y, given):
    """max |p(x | y, given) - p(x | given)|: zero exactly when x and y are independent given the set."""
    return np.abs(conditional(joint, names, x, [y, *given]) - conditional(joint, names, x, given)).max()


# %%
separated, connected = [], []
for x, y in itertools.combinations(wet_names, 2):
    rest = [v for v in wet_names if v not in (x, y)]
    for given in itertools.chain.from_iterable(itertools.combinations(rest, r) for r in range(len(rest) + 1)):
        gap = dependence_gap(joint_wet, wet_names, x, y, given)
        (separated if d_separated(wet_parents, x, y, given) else connected).append((gap, x, y, given))
print(f"sum of the joint: {joint_wet.sum():.15f}")
print(f"{len(separated)} d-separated statements: largest dependence {max(s[0] for s in separated):.1e}")
print(f"{len(connected)} others: smallest dependence {min(c[0] for c in connected):.1e}")
for given in [("cloudy",), ("cloudy", "slippery")]:
    verdict = "d-separated" if d_separated(wet_parents, "sprinkler", "rain", given) else "not d-separated"
    gap = dependence_gap(joint_wet, wet_names, "sprinkler", "rain", given)
    print(f"   sprinkler, rain given {', '.join(given):17s}: {verdict:15s}  dependence {gap:.1e}")
assert abs(joint_wet.sum() - 1) < 1e-12, f"expected the joint to sum to 1; got {joint_wet.sum()}"
assert d_separated(wet_parents, "sprinkler", "rain", ["cloudy"]), "expected the fork cloudy, observed, to block"
assert not d_separated(wet_parents, "sprinkler", "rain", ["cloudy", "slippery"]), (
    "expected slippery, a descendant of the collider wet, to open the path sprinkler -> wet <- rain"
)
# Over seeds 0-99 the d-separated statements gave at most 2.2e-16 and the others at least 4.9e-06.
assert max(s[0] for s in separated) < 1e-12, f"expected every d-separated pair independent; got {max(separated)}"
assert min(c[0] for c in connected) > 1e-9, f"expected the other pairs dependent; got {min(connected)}"

# %% [markdown]
# The **Markov blanket** of $v$ is its parents, its children and its children's other parents. Given its
# blanket, $v$ is independent of everything else: $p(v \mid \text{all others}) = p(v \mid \mathrm{mb}(v))$. In
# $p(v \mid \text{others}) = p(x) / \sum_{v'} p(x)$ every factor without $v$ cancels; the factors left are
# $v$'s own CPT and its children's, which mention only $v$'s parents, children and co-parents. (Gibbs
# sampling draws each variable from exactly this conditional.) Check for every variable: the blanket is
# enough, and leaving out any member of it is not, the co-parent included.

# %%
blankets = {}
for v in wet_names:
    children = [u for u in wet_names if v in wet_parents[u]]
    blankets[v] = (set(wet_parents[v]) | set(children) | {p for u in children for p in wet_parents[u]}) - {v}
    full = conditional(joint_wet, wet_names, v, [u for u in wet_names if u != v])
    gap = np.abs(full - conditional(joint_wet, wet_names, v, blankets[v])).max()
    short = min(np.abs(full - conditional(joint_wet, wet_names, v, blankets[v] - {u})).max() for u in blankets[v])
    print(f"mb({v}) = {sorted(blankets[v])}: gap {gap:.1e}; without one member, at least {short:.1e}")
    assert gap < 1e-12, f"expected p({v} | all others) = p({v} | mb({v})); got a gap of {gap}"
    # Over seeds 0-99 leaving out a member changed the conditional by at least 4.8e-04.
    assert short > 1e-9, f"expected every member of mb({v}) to be needed; leaving one out changed only {short}"
assert blankets["sprinkler"] == {"cloudy", "wet", "rain"}, "expected mb(sprinkler) = cloudy, wet, rain"

# %% [markdown]
# ## 7. Bayes' theorem and inference by enumeration
#
# The DAG tells us how to go *forward* (causes to effects). Inference goes backwards: having observed
# some variables $e$ (the evidence), what do we believe about a query variable $q$? **Bayes' theorem**:
#
# $$p(q \mid e) = \frac{p(e \mid q)\,p(q)}{p(e)}, \qquad p(e) = \sum_{q'} p(e \mid q')\,p(q').$$
#
# In a discrete network every term is a sum of the joint over the variables that are neither query
# nor evidence (the *hidden* ones, $h$): $p(q, e) = \sum_h p(q, e, h)$, and
# $p(q \mid e) = p(q, e) / \sum_{q'} p(q', e)$. This is **inference by enumeration**.
#
# Query: the age of a person with $y = 1$ and gender $g_2$ (index 1),
# $p(\text{age} \mid y = 1, \text{gender} = g_2)$. Age reaches $y$ only through salary, so salary and ms
# are summed out. We compute it by two independent routes. The first slices the joint table that TFP's
# `log_prob` gave in section 4 and normalises. The second never builds the joint: it applies Bayes' theorem
# to the factors. The likelihood is $p(e \mid \text{age}) = \sum_{\text{salary}, \text{ms}} p(\text{age}, \text{salary},
# \text{ms}, e) / p(\text{age})$; dividing the factorisation by $p(\text{age})$ and moving each factor out of the
# sums that do not involve it leaves
#
# $$p(e \mid \text{age}) = p(\text{gender} = g_2) \sum_{\text{ms}} p(\text{ms}) \sum_{\text{salary}}
# p(\text{salary} \mid \text{age}, \text{ms})\, p(y = 1 \mid \text{salary}, \text{gender} = g_2),$$
#
# which Bayes' theorem multiplies by the prior $p(\text{age})$ and normalises.

# %%
evidence = {"y": 1, "gender": 1}
p_age_and_e = table[:, :, evidence["gender"], :, evidence["y"]].sum(axis=(1, 2))  # sum over salary, ms
p_e = p_age_and_e.sum()
post_age = p_age_and_e / p_e

g_e, y_e = evidence["gender"], evidence["y"]
likelihood = cpt["gender"][g_e] * np.einsum("m,ams,s->a", cpt["ms"], cpt["salary"], cpt["y"][:, g_e, y_e])  # p(e | age)
p_e_bayes = np.sum(likelihood * cpt["age"])
post_bayes = likelihood * cpt["age"] / p_e_bayes

print(f"prior      p(age)            = {cpt['age'].round(4)}")
print(f"likelihood p(e | age)        = {likelihood.round(4)}")
print(f"evidence   p(e)              = {p_e_bayes:.4f} (the factors), {p_e:.4f} (the joint)")
print(f"posterior  p(age | e)        = {post_bayes.round(4)} (the factors), {post_age.round(4)} (the joint)")
assert np.allclose(post_age, post_bayes, rtol=1e-10, atol=0), (
    f"expected Bayes' theorem on the factors, {post_bayes}, to match the slice of the joint, {post_age}"
)
assert abs(p_e - p_e_bayes) < 1e-12, f"expected the same p(e) both ways; got {p_e_bayes} and {p_e}"
assert abs(post_age.sum() - 1) < 1e-12, f"expected a normalised posterior; it sums to {post_age.sum()}"

# %% [markdown]
# **Check by sampling.** Among the ancestral samples of section 4, keep those that match the evidence
# (rejection sampling) and count their ages. With $M$ kept samples, each frequency has standard error
# $\sqrt{p(1-p)/M}$; the enumeration must lie within 4 standard errors. The kept fraction estimates $p(e)$.

# %%
keep = (samples["y"].numpy() == evidence["y"]) & (samples["gender"].numpy() == evidence["gender"])
kept = int(keep.sum())
freq_age = np.bincount(samples["age"].numpy()[keep], minlength=3) / kept
se_age = np.sqrt(post_age * (1 - post_age) / kept)
se_e = np.sqrt(p_e * (1 - p_e) / N_SAMPLES)
print(f"kept {kept} of {N_SAMPLES} samples: p(e) ~ {kept / N_SAMPLES:.4f} (exact {p_e:.4f} ± {se_e:.4f})")
print(f"sampled frequencies  {freq_age.round(4)}  ± {se_age.round(4)}")
print(f"enumeration          {post_age.round(4)}")
assert np.all(np.abs(freq_age - post_age) < 4 * se_age), (
    f"expected the sampled posterior {freq_age} within 4 SE ({4 * se_age}) of the enumeration {post_age}"
)
assert abs(kept / N_SAMPLES - p_e) < 4 * se_e, f"expected the kept fraction {kept / N_SAMPLES} near p(e) = {p_e}"

fig, ax = plt.subplots()
ticks = np.arange(3)
ax.bar(ticks - 0.2, cpt["age"], width=0.4, color=plotting.COLORS["p"], label="prior p(age)")
ax.bar(ticks + 0.2, post_age, width=0.4, color=plotting.COLORS["q"], label="posterior p(age | y=1, gender=g2)")
ax.errorbar(ticks + 0.2, freq_age, yerr=2 * se_age, fmt="k.", label="rejection sampling ± 2 SE")
ax.set_xticks(ticks, ["a1", "a2", "a3"])
ax.set_xlabel("age")
ax.set_ylabel("probability")
ax.set_ylim(0, 0.65)
ax.set_title("Bayes' theorem: observing y = 1 shifts belief towards older ages")
ax.legend(frameon=False, fontsize=8)
plt.show()

# %% [markdown]
# Rejection sampling wastes the samples that disagree with the evidence: with many observed variables
# $p(e)$ is tiny and almost nothing is kept. Enumeration is exact, but it sums over every configuration
# of the hidden variables, a number that grows exponentially with how many there are. The next section
# shows this blow-up in the model that motivates variational inference.

# %% [markdown]
# ## 8. The exact evidence of a Bayesian GMM: a sum of $K^n$ terms
#
# The Bayesian Gaussian mixture (Blei et al. 2017, §2.1): $K$ cluster means drawn from a common
# prior, each of $n$ points assigned to a cluster uniformly at random, then drawn around its mean:
#
# $$\mu_k \sim \mathcal N(0, \sigma^2)\ (k = 1..K), \qquad c_i \sim \mathrm{Cat}(1/K, \dots, 1/K), \qquad
# x_i \mid c, \mu \sim \mathcal N(\mu_{c_i}, 1)\ (i = 1..n).$$
#
# (The assignment is often written as a one-hot vector $z_i$, so $\mu_{c_i} = z_i^\top \mu$, and the
# likelihood variance can be any known value; we fix it to 1, as Blei et al. do.) As a DAG: $\mu \to x_i \leftarrow c_i$
# for every $i$. The posterior $p(\mu, c \mid x) = p(x, \mu, c) / p(x)$ needs the **evidence**
#
# $$p(x) = \sum_{c \in \{1..K\}^n} \int p(\mu)\, \prod_{i=1}^n p(c_i)\, p(x_i \mid \mu_{c_i})\, d\mu .$$
#
# **Each term is Gaussian.** For a fixed assignment $c$, $x_i = \mu_{c_i} + \varepsilon_i$ with independent
# $\varepsilon_i \sim \mathcal N(0, 1)$, a linear function of Gaussians. So $x \mid c$ is Gaussian with mean 0
# and covariance $\operatorname{Cov}(x_i, x_j) = \sigma^2\,[c_i = c_j] + [i = j]$ (two points share their
# mean's variance when they share a cluster):
#
# $$p(x) = \sum_{c \in \{1..K\}^n} K^{-n}\; \mathcal N\big(x;\ 0,\ I_n + \sigma^2 B_c\big),
# \qquad (B_c)_{ij} = [c_i = c_j].$$
#
# The $K$-dimensional integral over $\mu$ is done exactly. What grows exponentially is the **number of
# terms**: one per assignment, $K^n$ of them. Each term on its own is cheap: one Gaussian density in $n$
# dimensions, a Cholesky factor of an $n \times n$ matrix, $O(n^3)$ operations. Exact evaluation by
# enumeration therefore costs $O(K^n n^3)$. (Equivalently: expanding $\prod_i \sum_k \tfrac1K\,\mathcal N(x_i;
# \mu_k, 1)$ inside the integral gives $K^n$ products.)
#
# Below, `log_evidence` enumerates all $K^n$ assignments, in log space with log-sum-exp, and returns how
# many terms it summed. First a check of one term against TFP's multivariate normal.

# %%
K, sigma = 3, 2.0
rng_gmm = np.random.default_rng(config.seed() + 8)
mu_true = rng_gmm.normal(0.0, sigma, size=K)
c_true = rng_gmm.integers(K, size=N_MAX)
x_gmm = rng_gmm.normal(mu_true[c_true], 1.0)  # one data set from the model; its first n points are used below


def log_gaussian_term(x, assignment):
    """log N(x; 0, I + sigma^2 [c_i = c_j]) through a Cholesky factor."""
    same = (assignment[:, None] == assignment[None, :]).astype(float)
    chol = np.linalg.cholesky(np.eye(len(x)) + sigma**2 * same)
    z = np.linalg.solve(chol, x)
    return -0.5 * z @ z - np.log(np.diag(chol)).sum() - 0.5 * len(x) * np.log(2 * np.pi)


def log_evidence(x):
    """log p(x) by enumerating all K^n assignments (log-sum-exp of the terms), and the number of terms."""
    n = len(x)
    terms = np.array([log_gaussian_term(x, np.array(c)) for c in itertools.product(range(K), repeat=n)])
    terms -= n * np.log(K)  # the prior of each assignment, K^-n
    top = terms.max()
    return top + np.log(np.exp(terms - top).sum()), len(terms)


c_check = np.array([0, 2, 0, 1])
by_numpy = log_gaussian_term(x_gmm[:4], c_check)
cov_check = np.eye(4) + sigma**2 * (c_check[:, None] == c_check[None, :])
by_tfp = float(tfd.MultivariateNormalTriL(np.zeros(4), np.linalg.cholesky(cov_check)).log_prob(x_gmm[:4]))
print(f"log N(x; 0, I + sigma^2 B_c) for c = {c_check.tolist()}: NumPy {by_numpy:.10f}, TFP {by_tfp:.10f}")
assert abs(by_numpy - by_tfp) < 1e-10, f"expected the Cholesky log density {by_numpy} to equal TFP's {by_tfp}"

# %% [markdown]
# **Check the whole sum** against a route that never enumerates assignments: integrate over $\mu$ by
# Monte Carlo. Given $\mu$, the points are independent, each a mixture: $p(x \mid \mu) = \prod_i \sum_k \frac1K
# \mathcal N(x_i; \mu_k, 1)$, so $p(x) = \mathbb E_{\mu \sim p(\mu)}\big[p(x \mid \mu)\big]$, estimated by an
# average over prior draws of $\mu$, with a standard error. (Here $\mu$ has only $K = 3$ dimensions, so
# prior draws cover it well enough.)

# %%
n_check = 4
mu_draws = rng_gmm.normal(0.0, sigma, size=(N_MU, K))
per_point = np.exp(-0.5 * (x_gmm[:n_check, None] - mu_draws[:, None, :]) ** 2) / np.sqrt(2 * np.pi)  # (N_MU, n, K)
likelihoods = np.prod(per_point.mean(axis=2), axis=1)  # p(x | mu) for each draw
mc_mean, mc_se = likelihoods.mean(), likelihoods.std(ddof=1) / np.sqrt(N_MU)
exact = np.exp(log_evidence(x_gmm[:n_check])[0])
print(
    f"n = {n_check}: enumeration p(x) = {exact:.6e};  Monte Carlo over mu = {mc_mean:.6e} ± {mc_se:.1e}"
    f"  ({(mc_mean - exact) / mc_se:+.2f} SE)"
)
# Over seeds 0-9 (FAST) Monte Carlo was within 1.7 SE of the enumeration.
assert abs(mc_mean - exact) < 4 * mc_se, (
    f"expected Monte Carlo within 4 SE ({4 * mc_se:.2e}) of {exact:.6e}; got {mc_mean:.6e}"
)

# %% [markdown]
# **The blow-up, measured.** Time the exact enumeration for $n = 1, 2, \dots$ points ($K = 3$). Each extra
# point multiplies the number of terms by $K$, so the time should grow geometrically, by a factor of about 3
# per point. We fit a line to $\log(\text{time})$ against $n$ (from $n = 4$, where fixed overheads no longer
# dominate). The growth factor is reported, not asserted: wall-clock times on a busy machine are noisy.
# What the argument rests on is the number of terms, and that is asserted: `log_evidence` sums exactly
# $K^n$ of them for every $n$.

# %%
ns = np.arange(1, N_MAX + 1)
seconds, log_evidences, n_terms = [], [], []
print("  n       K^n   log p(x)     time (s)   time per term (us)")
for n in ns:
    repeats = 3 if K**n < 3_000 else 1  # the best of a few runs, for the cheap ones
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        value, count = log_evidence(x_gmm[:n])
        best = min(best, time.perf_counter() - start)
    seconds.append(best)
    log_evidences.append(value)
    n_terms.append(count)
    print(f"{n:3d}  {K**n:8d}   {value:9.4f}   {best:10.5f}   {1e6 * best / K**n:8.1f}")
seconds = np.array(seconds)
assert n_terms == [K**n for n in ns], f"expected K^n = {[K**n for n in ns]} terms; log_evidence summed {n_terms}"

fit = ns >= 4
slope, intercept = np.polyfit(ns[fit], np.log(seconds[fit]), 1)
growth = np.exp(slope)
per_term = np.median(seconds[fit] / K ** ns[fit].astype(float))
print(f"\nfitted growth factor per extra point: {growth:.2f}  (K = {K})")
for n_big in (20, 50, 100):
    years = per_term * float(K) ** n_big / (3600 * 24 * 365)
    print(
        f"n = {n_big:3d}: K^n = {float(K) ** n_big:.1e} terms, "
        f"about {years:.1e} years at {1e6 * per_term:.0f} us per term"
    )

# %%
fig, ax = plt.subplots()
ax.semilogy(ns, seconds, "o", color=plotting.COLORS["q"], label="exact enumeration (measured)")
ax.semilogy(
    ns[fit], np.exp(intercept + slope * ns[fit]), color=plotting.COLORS["p"], label=f"fit: time ∝ {growth:.2f}$^n$"
)
ax.set_xlabel("number of data points n")
ax.set_ylabel("seconds")
ax.set_title(f"Exact evidence of a Bayesian GMM (K = {K}): O(K^n)")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# **Could a cleverer enumeration escape?** Relabelling the clusters leaves $B_c$, and so the term, unchanged:
# only the partition of the points into clusters matters. There are $\sum_{k=1}^{K} S(n, k)$ partitions into at
# most $K$ blocks ($S$: Stirling numbers of the second kind, $S(n, k) = k\,S(n-1, k) + S(n-1, k-1)$). Each
# partition comes from at most $K!$ assignments, so there are at least $K^n / K!$ of them: still exponential.
# Check: count the distinct matrices $B_c$ among the $K^n$ assignments, against the Stirling sum and that bound.

# %%
stirling = {(0, 0): 1}  # S(n, k) by the recurrence
for n in range(1, N_MAX + 1):
    for k in range(0, n + 1):
        stirling[n, k] = k * stirling.get((n - 1, k), 0) + stirling.get((n - 1, k - 1), 0)
print("  n     K^n   distinct B_c   sum_k S(n, k)   K^n / K!")
for n in range(1, 9):
    distinct = {
        tuple((np.array(c)[:, None] == np.array(c)[None, :]).ravel()) for c in itertools.product(range(K), repeat=n)
    }
    partitions = sum(stirling.get((n, k), 0) for k in range(1, K + 1))
    print(f"{n:3d}  {K**n:6d}   {len(distinct):12d}   {partitions:13d}   {K**n / np.prod(range(1, K + 1)):8.1f}")
    assert len(distinct) == partitions, f"n = {n}: expected {partitions} distinct terms; got {len(distinct)}"
    assert partitions >= K**n / np.prod(range(1, K + 1)), f"n = {n}: expected at least K^n / K! partitions"

# %% [markdown]
# **What stays cheap.** Nothing but the number of terms grows exponentially. For $n = 200$ points, one term
# (a Gaussian in 200 dimensions) and the log joint $\log p(x, \mu, c)$ at one given $(\mu, c)$ (a sum of
# $K + 2n$ log densities, $O(n)$) each take about a millisecond (well under a second, asserted below); check
# both against TFP. Variational inference (units 03 and 04) needs only cheap quantities like these: it
# replaces the posterior over the $K^n$ assignments by a product $q(c) = \prod_i q(c_i)$, which, counted as in
# section 3 (a DAG without arrows), has $n(K - 1)$ free parameters instead of the $K^n - 1$ of an arbitrary
# distribution over assignments.

# %%
rng_big = np.random.default_rng(config.seed() + 9)
n_big = 200
mu_big = rng_big.normal(0.0, sigma, size=K)
c_big = rng_big.integers(K, size=n_big)
x_big = rng_big.normal(mu_big[c_big], 1.0)

start = time.perf_counter()
term_big = log_gaussian_term(x_big, c_big)
seconds_term = time.perf_counter() - start
cov_big = np.eye(n_big) + sigma**2 * (c_big[:, None] == c_big[None, :])
term_tfp = float(tfd.MultivariateNormalTriL(np.zeros(n_big), np.linalg.cholesky(cov_big)).log_prob(x_big))

start = time.perf_counter()
log_joint = (
    np.sum(-0.5 * (mu_big / sigma) ** 2 - np.log(sigma * np.sqrt(2 * np.pi)))  # log p(mu)
    - n_big * np.log(K)  # log p(c)
    + np.sum(-0.5 * (x_big - mu_big[c_big]) ** 2 - 0.5 * np.log(2 * np.pi))  # log p(x | mu, c)
)
seconds_joint = time.perf_counter() - start
joint_tfp = float(
    tfd.Normal(np.float64(0.0), sigma).log_prob(mu_big).numpy().sum()
    + tfd.Categorical(probs=np.full(K, 1 / K)).log_prob(c_big).numpy().sum()
    + tfd.Normal(mu_big[c_big], 1.0).log_prob(x_big).numpy().sum()
)
print(f"n = {n_big}: one term {term_big:.4f} (TFP {term_tfp:.4f}) in {1e3 * seconds_term:.2f} ms")
print(f"        log p(x, mu, c) = {log_joint:.4f} (TFP {joint_tfp:.4f}) in {1e3 * seconds_joint:.2f} ms")
print(f"        the enumeration would sum K^n = {float(K) ** n_big:.1e} terms")
assert abs(term_big - term_tfp) < 1e-8 * abs(term_tfp), f"expected one term {term_big} to equal TFP's {term_tfp}"
assert abs(log_joint - joint_tfp) < 1e-8 * abs(joint_tfp), f"expected log p(x, mu, c) {log_joint} = TFP's {joint_tfp}"
assert max(seconds_term, seconds_joint) < 1.0, (
    f"expected one term and the log joint to take well under a second; got {seconds_term:.3f} s, {seconds_joint:.3f} s"
)

n_q = 6
q_c = np.random.default_rng(config.seed() + 10).dirichlet(np.ones(K), size=n_q)  # q(c_i), one row per point
q_table = q_c[0]
for row in q_c[1:]:
    q_table = np.multiply.outer(q_table, row)  # q(c_1, ..., c_n) over all K^n assignments
print(f"mean-field q(c) for n = {n_q}: {q_c.size} numbers, {n_q * (K - 1)} free; its table has {q_table.size} entries")
assert q_table.size == K**n_q and abs(q_table.sum() - 1) < 1e-12, (
    f"expected a normalised table of K^n = {K**n_q} entries; got {q_table.size} summing to {q_table.sum()}"
)

# %% [markdown]
# A data set of 100 points is small, yet its $3^{100} \approx 5 \cdot 10^{47}$ terms, even at a billion a second,
# would take about $10^{31}$ years; the universe is $1.4 \cdot 10^{10}$ years old (checked below). So the
# posterior $p(\mu, c \mid x) = p(x, \mu, c)/p(x)$ is easy to evaluate up to its normaliser, and the model is
# easy to sample from (ancestrally, as in section 4), but computing the normaliser by enumeration is
# intractable. That is the motivation for variational inference (units 03 and 04): replace the exact
# posterior by the best member of a tractable family, found by optimisation instead of enumeration.

# %%
years_at_a_billion = float(K) ** 100 / 1e9 / (3600 * 24 * 365.25)
print(f"3^100 terms at 10^9 a second: {years_at_a_billion:.1e} years")
assert years_at_a_billion > 1.4e10, f"expected longer than the age of the universe; got {years_at_a_billion:.1e} years"

# %% [markdown]
# ## Summary
#
# - Chain rule: $p(x_1, \dots, x_n) = \prod_i p(x_i \mid x_{<i})$, for any joint and any ordering; no assumption.
# - A DAG drops conditioning variables: $p(x) = \prod_i p(x_i \mid \mathrm{pa}(x_i))$. Missing arrows are
#   conditional independences; in a v-structure $a \to c \leftarrow b$, observing $c$ couples $a$ and $b$.
# - A CPT has $|v| \prod_{\mathrm{pa}} |u|$ entries and $(|v| - 1)\prod_{\mathrm{pa}} |u|$ free parameters. The
#   example: 138 entries / 71 free with the chain rule (as many as the full joint table), 37 / 22 with the
#   expert DAG.
# - `tfd.JointDistributionNamed` builds a network from its CPTs (parents by argument name), samples it
#   ancestrally and evaluates `log_prob` as the sum of log CPT entries.
# - Maximum likelihood for a CPT from complete data is the normalised counts of each row; a row seen
#   rarely is estimated poorly, so every parent costs data.
# - d-separation reads independences off the graph: chains and forks are blocked by observing the middle
#   node, colliders are opened by observing them or a descendant. Given its Markov blanket (parents,
#   children, co-parents), a variable is independent of the rest.
# - Bayes' theorem by enumeration: $p(q \mid e) \propto \sum_h p(q, e, h)$, normalised over $q$. Exact, but
#   the number of configurations summed over grows exponentially with the number of hidden variables.
# - The Bayesian GMM evidence is a sum of $K^n$ Gaussian densities (at least $K^n / K!$ distinct ones). Each
#   term, the log joint and a mean-field family are cheap; the exponential number of terms is what makes
#   exact inference by enumeration intractable, and approximate inference necessary.
#
# ## References
#
# - D. Koller and N. Friedman (2009). *Probabilistic Graphical Models: Principles and Techniques*, MIT Press,
#   chapter 3 (Bayesian networks, CPTs, independences) and chapter 9 (variable elimination).
# - C. M. Bishop (2006). *Pattern Recognition and Machine Learning*, Springer, §8.1–8.2 (directed graphical
#   models, ancestral sampling, conditional independence, explaining away).
# - K. P. Murphy (2023). *Probabilistic Machine Learning: Advanced Topics*, MIT Press, chapter 4
#   (graphical models).
# - S. L. Lauritzen, A. P. Dawid, B. N. Larsen and H.-G. Leimer (1990). Independence properties of directed
#   Markov fields. *Networks* 20(5), 491–505 (d-separation by the moralised ancestral graph).
# - D. M. Blei, A. Kucukelbir and J. D. McAuliffe (2017). Variational inference: a review for
#   statisticians. *Journal of the American Statistical Association* 112(518), 859–877, §2.1 (the Bayesian
#   mixture of Gaussians and its exponential evidence).
# - TensorFlow Probability: `tfp.distributions.JointDistributionNamed`, API documentation.
