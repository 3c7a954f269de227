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
# - compute a posterior with Bayes' theorem by enumeration, and check it against sampling;
# - explain, and measure, why the evidence of a Bayesian Gaussian mixture costs $O(K^n)$ to compute exactly.

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
rng = np.random.default_rng(config.seed())
print(f"mode: {config.mode().upper()}")

# %% [markdown]
# ## Settings
#
# The sizes that depend on the mode: FAST (`DGM_MODE=fast`, as the tests run) or FULL (the default).

# %%
N_SAMPLES = config.pick(fast=20_000, full=200_000)  # ancestral samples of the five-variable network (sections 4, 5)
N_MAX = config.pick(fast=9, full=11)  # the largest data set whose GMM evidence is enumerated exactly (section 6)
N_MU = config.pick(fast=200_000, full=2_000_000)  # prior draws of the means for the Monte Carlo evidence (section 6)

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
# nothing. (The slides write it for events $E_1, \dots, E_n$ whose intersection is the sample space;
# it holds for any events with $\Pr(E_1 \cap \dots \cap E_{n-1}) > 0$, and for random variables as above.)
#
# Check: a random joint table over three discrete variables with 2, 3 and 4 values. We compute each
# conditional from the table (marginalise, then divide), multiply them back, and recover the table, in
# the order $(a, b, c)$ and in the order $(c, b, a)$.

# %%
joint_abc = rng.dirichlet(np.ones(2 * 3 * 4)).reshape(2, 3, 4)  # p(a, b, c), axes a, b, c

p_a = joint_abc.sum(axis=(1, 2))  # p(a)
p_ab = joint_abc.sum(axis=2)  # p(a, b)
p_b_given_a = p_ab / p_a[:, None]  # p(b | a)
p_c_given_ab = joint_abc / p_ab[:, :, None]  # p(c | a, b)
order_abc = p_a[:, None, None] * p_b_given_a[:, :, None] * p_c_given_ab

p_c = joint_abc.sum(axis=(0, 1))  # p(c)
p_bc = joint_abc.sum(axis=0)  # p(b, c)
p_b_given_c = p_bc / p_c[None, :]  # p(b | c), axes b, c
p_a_given_bc = joint_abc / p_bc[None, :, :]  # p(a | b, c)
order_cba = p_c[None, None, :] * p_b_given_c[None, :, :] * p_a_given_bc

gap_abc, gap_cba = np.abs(order_abc - joint_abc).max(), np.abs(order_cba - joint_abc).max()
print(f"max |p(a) p(b|a) p(c|a,b) - p(a,b,c)| = {gap_abc:.1e}")
print(f"max |p(c) p(b|c) p(a|b,c) - p(a,b,c)| = {gap_cba:.1e}")
assert gap_abc < 1e-15, f"expected the chain rule (order a, b, c) to rebuild the joint; got a gap of {gap_abc}"
assert gap_cba < 1e-15, f"expected the chain rule (order c, b, a) to rebuild the joint; got a gap of {gap_cba}"

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
cpt_c = rng.dirichlet(np.ones(2), size=(2, 2))  # p(c | a, b), axes a, b, c
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
assert dependence > 0.01, f"expected a and b to be dependent given c; max |p(a|b,c) - p(a|c)| = {dependence}"

# %% [markdown]
# ## 3. An example: five variables, two graphs
#
# The slides' example has five discrete variables (continuous ones discretised into bins):
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
# free parameters. The slides' "unknown probabilities" count the entries; the **free (non-redundant)
# parameters** are what a learning algorithm must actually estimate ("we do not need to learn all
# unknown probabilities").
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
# ## 5. Bayes' theorem and inference by enumeration
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
# are summed out. We compute it twice: the normalised slice of the joint, and Bayes' theorem with a
# likelihood $p(e \mid \text{age})$ and the prior $p(\text{age})$.

# %%
evidence = {"y": 1, "gender": 1}
p_age_and_e = table[:, :, evidence["gender"], :, evidence["y"]].sum(axis=(1, 2))  # sum over salary, ms
p_e = p_age_and_e.sum()
post_age = p_age_and_e / p_e

likelihood = p_age_and_e / cpt["age"]  # p(e | age)
post_bayes = likelihood * cpt["age"] / np.sum(likelihood * cpt["age"])

print(f"prior      p(age)            = {cpt['age'].round(4)}")
print(f"likelihood p(e | age)        = {likelihood.round(4)}")
print(f"evidence   p(e)              = {p_e:.4f}")
print(f"posterior  p(age | e)        = {post_age.round(4)}")
assert np.allclose(post_age, post_bayes, rtol=1e-12), (
    f"expected Bayes' theorem {post_bayes} to match the slice {post_age}"
)
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
# ## 6. Why the evidence of a Bayesian GMM costs $O(K^n)$
#
# The Bayesian Gaussian mixture (slides; Blei et al. 2017, §2.1): $K$ cluster means drawn from a common
# prior, each of $n$ points assigned to a cluster uniformly at random, then drawn around its mean:
#
# $$\mu_k \sim \mathcal N(0, \sigma^2)\ (k = 1..K), \qquad c_i \sim \mathrm{Cat}(1/K, \dots, 1/K), \qquad
# x_i \mid c, \mu \sim \mathcal N(\mu_{c_i}, 1)\ (i = 1..n).$$
#
# (The slides write the assignment as a one-hot vector $z_i$, so $\mu_{c_i} = z_i^\top \mu$, and allow a
# known likelihood variance; we fix it to 1, as Blei et al. do.) As a DAG: $\mu \to x_i \leftarrow c_i$
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
# The $K$-dimensional integral over $\mu$ is done exactly, but there are $K^n$ assignments: **exact
# evaluation costs $O(K^n)$** Gaussian densities. (Equivalently: expanding
# $\prod_i \sum_k \tfrac1K\,\mathcal N(x_i; \mu_k, 1)$ inside the integral gives $K^n$ products.)
#
# Below, `log_evidence` enumerates all $K^n$ assignments, in log space with log-sum-exp. First a check of
# one term against TFP's multivariate normal.

# %%
K, sigma = 3, 2.0
mu_true = rng.normal(0.0, sigma, size=K)
c_true = rng.integers(K, size=N_MAX)
x_gmm = rng.normal(mu_true[c_true], 1.0)  # one data set from the model; its first n points are used below


def log_gaussian_term(x, assignment):
    """log N(x; 0, I + sigma^2 [c_i = c_j]) through a Cholesky factor."""
    same = (assignment[:, None] == assignment[None, :]).astype(float)
    chol = np.linalg.cholesky(np.eye(len(x)) + sigma**2 * same)
    z = np.linalg.solve(chol, x)
    return -0.5 * z @ z - np.log(np.diag(chol)).sum() - 0.5 * len(x) * np.log(2 * np.pi)


def log_evidence(x):
    """log p(x) by enumerating all K^n assignments (log-sum-exp of the K^n terms)."""
    n = len(x)
    terms = np.array([log_gaussian_term(x, np.array(c)) for c in itertools.product(range(K), repeat=n)])
    terms -= n * np.log(K)  # the prior of each assignment, K^-n
    top = terms.max()
    return top + np.log(np.exp(terms - top).sum())


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
# average over prior draws of $\mu$, with a standard error. (For $K = 3$ this integral is cheap; for large
# $K$ a grid or Monte Carlo over $K$ dimensions is hopeless too.)

# %%
n_check = 4
mu_draws = rng.normal(0.0, sigma, size=(N_MU, K))
per_point = np.exp(-0.5 * (x_gmm[:n_check, None] - mu_draws[:, None, :]) ** 2) / np.sqrt(2 * np.pi)  # (N_MU, n, K)
likelihoods = np.prod(per_point.mean(axis=2), axis=1)  # p(x | mu) for each draw
mc_mean, mc_se = likelihoods.mean(), likelihoods.std(ddof=1) / np.sqrt(N_MU)
exact = np.exp(log_evidence(x_gmm[:n_check]))
print(
    f"n = {n_check}: enumeration p(x) = {exact:.6e};  Monte Carlo over mu = {mc_mean:.6e} ± {mc_se:.1e}"
    f"  ({(mc_mean - exact) / mc_se:+.2f} SE)"
)
assert abs(mc_mean - exact) < 4 * mc_se, (
    f"expected Monte Carlo within 4 SE ({4 * mc_se:.2e}) of {exact:.6e}; got {mc_mean:.6e}"
)

# %% [markdown]
# **The blow-up, measured.** Time the exact enumeration for $n = 1, 2, \dots$ points ($K = 3$). Each extra
# point multiplies the number of terms by $K$, so the time should grow geometrically, by a factor of about 3
# per point. We fit a line to $\log(\text{time})$ against $n$ (from $n = 4$, where fixed overheads no longer
# dominate). The growth factor is reported, not asserted: wall-clock times on a busy machine are noisy,
# and the number of terms, $K^n$, is what the argument rests on.

# %%
ns = np.arange(1, N_MAX + 1)
seconds, log_evidences = [], []
print("  n       K^n   log p(x)     time (s)   time per term (us)")
for n in ns:
    repeats = 3 if K**n < 3_000 else 1  # the best of a few runs, for the cheap ones
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        value = log_evidence(x_gmm[:n])
        best = min(best, time.perf_counter() - start)
    seconds.append(best)
    log_evidences.append(value)
    print(f"{n:3d}  {K**n:8d}   {value:9.4f}   {best:10.5f}   {1e6 * best / K**n:8.1f}")
seconds = np.array(seconds)

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
# A dataset of 100 points is small, yet its exact evidence would take longer than the age of the
# universe. So the posterior $p(\mu, c \mid x) = p(x, \mu, c)/p(x)$ cannot be normalised exactly: the model
# is easy to write down and to sample from (ancestrally, as in section 4), but inference is intractable.
# That is the motivation for variational inference (units 03 and 04): replace the exact posterior by the
# best member of a tractable family, found by optimisation instead of enumeration.

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
# - Bayes' theorem by enumeration: $p(q \mid e) \propto \sum_h p(q, e, h)$, normalised over $q$. Exact, but
#   its cost grows exponentially with the number of hidden variables.
# - The Bayesian GMM evidence is a sum of $K^n$ Gaussian densities: exact inference is intractable even
#   for a simple model, which is why we need approximate inference.
#
# ## References
#
# - D. Koller and N. Friedman (2009). *Probabilistic Graphical Models: Principles and Techniques*, MIT Press,
#   chapter 3 (Bayesian networks, CPTs, independences) and chapter 9 (variable elimination).
# - C. M. Bishop (2006). *Pattern Recognition and Machine Learning*, Springer, §8.1–8.2 (directed graphical
#   models, ancestral sampling, conditional independence, explaining away).
# - K. P. Murphy (2023). *Probabilistic Machine Learning: Advanced Topics*, MIT Press, chapter 4
#   (graphical models).
# - D. M. Blei, A. Kucukelbir and J. D. McAuliffe (2017). Variational inference: a review for
#   statisticians. *Journal of the American Statistical Association* 112(518), 859–877, §2.1 (the Bayesian
#   mixture of Gaussians and its exponential evidence).
# - TensorFlow Probability: `tfp.distributions.JointDistributionNamed`, API documentation.
