# %% [markdown]
# # Lab 04 — Mean-field VI and CAVI for a Bayesian mixture of Gaussians
#
# Implement coordinate ascent variational inference (CAVI) for the Bayesian mixture of Gaussians of the
# lecture, its ELBO, and the exact evidence by enumeration, and see how far the ELBO is from it.

# %% badge

# %% intro

# %% [markdown]
# **Numbers.** Work in NumPy (TensorFlow is fine too). The two updates (Exercises 1 and 2) may use float32 or
# float64: the tests compare them to a relative 1e-5, which float32 meets. The ELBO, `cavi` and the exact evidence
# (Exercises 3 to 5) must use float64: their tests compare about 9 significant digits, more than float32 holds.
#
# **Learning outcomes.** After this lab you can
# - implement both CAVI updates of the Bayesian GMM, with a numerically stable softmax (log-sum-exp);
# - write its ELBO in closed form, entropies included;
# - run CAVI to convergence, with a stopping rule and an ELBO history, and predict what that history can do;
# - compute the exact evidence of a tiny data set, for any mixing weights, by enumerating all $K^n$
#   assignments, and predict and explain how far below it the mean-field ELBO stays.
#
# **The model** (lecture 04). For data $x_1, \dots, x_n \in \mathbb R$ and $K$ clusters,
#
# $$\mu_k \sim \mathcal N(0, \sigma^2), \qquad c_i \sim \mathrm{Cat}(1/K, \dots, 1/K), \qquad
# x_i \mid c_i, \mu \sim \mathcal N(\mu_{c_i}, 1),$$
#
# and the mean-field family $q(\mu, c) = \prod_k \mathcal N(\mu_k; m_k, s_k^2) \prod_i \mathrm{Cat}(c_i; \varphi_i)$.
# Throughout, `x` has shape `(n,)`, `phi` shape `(n, K)` (row $i$ is $\varphi_i$, summing to one), `m` and
# `s2` shape `(K,)` (`s2` holds the **variances** $s_k^2$), and `sigma2` is the prior variance $\sigma^2$.

# %% setup

# %% locked imports
import itertools
import math

import numpy as np

# %% [markdown]
# ## Exercise 1 — the update of the assignments (3 points)
#
# Given $q(\mu)$, the optimal $q(c_i)$ is categorical with
#
# $$\varphi_{ik} \propto \exp\{\ell_{ik}\}, \qquad \ell_{ik} = m_k x_i - \tfrac12\left(s_k^2 + m_k^2\right),$$
#
# normalised over the clusters $k$ for each point $i$. For a point far from every centre the logits are
# huge (for $x_i = 1000$, $m_k = 4$: $\ell_{ik} \approx 4000$) and `np.exp` overflows to `inf`, giving `inf/inf = nan`.
# Subtract each row's largest logit before exponentiating (the **log-sum-exp** trick): the result is
# mathematically the same, and every exponent is $\le 0$.


# %% solution update_assignments
def update_assignments(x, m, s2):
    """The CAVI update of the responsibilities phi, computed stably.

    x: data, shape (n,); m: means of q(mu_k), shape (K,); s2: variances of q(mu_k), shape (K,).
    Returns: phi, an array of shape (n, K) whose rows sum to one, in float32 or float64 (tested to a relative 1e-5).
    """
    ### BEGIN SOLUTION
    x, m, s2 = (np.asarray(v, dtype=np.float64) for v in (x, m, s2))
    logits = np.outer(x, m) - 0.5 * (s2 + m**2)
    logits -= logits.max(axis=1, keepdims=True)
    phi = np.exp(logits)
    return phi / phi.sum(axis=1, keepdims=True)
    ### END SOLUTION


# %% test update_assignments points=3
# Two points, two centres at -1 and 1 with variance 1: the logits of x = 2 are -3 and 1.
# Tolerances rtol = 1e-5, atol = 1e-6 accept float32: on these cases and 10 random ones like the hidden test's,
# float32 differs from float64 by at most 2.7e-7 (absolute) and 1.5e-6 (relative, where phi > 1e-6).
_expected = np.array([[0.5, 0.5], [np.exp(-4) / (1 + np.exp(-4)), 1 / (1 + np.exp(-4))]])
checks.assert_close(
    update_assignments(np.array([0.0, 2.0]), np.array([-1.0, 1.0]), np.array([1.0, 1.0])),
    _expected,
    "update_assignments(x=[0, 2], m=[-1, 1], s2=[1, 1])",
    rtol=1e-5,
    atol=1e-6,
    hints=[
        (
            np.exp([[-1.0, -1.0], [-3.0, 1.0]]) / np.exp([[-1.0, -1.0], [-3.0, 1.0]]).sum(axis=0),
            "normalise each row (over the clusters k), not each column.",
        ),
        (_expected[:, ::-1], "the sign of m_k x_i looks flipped."),
    ],
)
# Equal means, different variances: the wider q(mu_k) gets less responsibility, through -s2/2.
checks.assert_close(
    update_assignments(np.array([0.0]), np.array([0.0, 0.0]), np.array([1.0, 3.0])),
    [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1))]],
    "update_assignments(x=[0], m=[0, 0], s2=[1, 3])",
    rtol=1e-5,
    atol=1e-6,
    hints=[
        ([[0.5, 0.5]], "the -s2_k/2 term is missing: E[mu_k^2] = s2_k + m_k^2, not m_k^2."),
        (
            [[1 / (1 + np.exp(-2)), np.exp(-2) / (1 + np.exp(-2))]],
            "the factor 1/2 in front of (s2_k + m_k^2) is missing.",
        ),
    ],
)
# A point far from both centres: exp(999) overflows unless you subtract the largest logit first.
checks.assert_close(
    update_assignments(np.array([1000.0]), np.array([-1.0, 1.0]), np.array([1.0, 1.0])),
    [[0.0, 1.0]],
    "update_assignments(x=[1000], m=[-1, 1], s2=[1, 1])",
    atol=1e-6,
    hints=[([[np.nan, np.nan]], "exp overflowed: subtract each row's largest logit before np.exp (log-sum-exp).")],
)


### BEGIN HIDDEN TESTS
def _logits(x, m, s2):
    return np.outer(x, m) - 0.5 * (s2 + m**2)


def _softmax_rows(logits):
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


_rng = np.random.default_rng(40)
_x, _m, _s2 = _rng.normal(0, 3, size=50), _rng.normal(0, 2, size=4), _rng.uniform(0.2, 3.0, size=4)
_expected = _softmax_rows(_logits(_x, _m, _s2))
_cols = np.exp(_logits(_x, _m, _s2) - _logits(_x, _m, _s2).max(axis=0))
checks.assert_close(
    update_assignments(_x, _m, _s2),
    _expected,
    "update_assignments on 50 random points and K = 4",
    rtol=1e-5,
    atol=1e-6,
    hints=[
        (_softmax_rows(_logits(_x, _m, 0 * _s2)), "the -s2_k/2 term is missing: E[mu_k^2] = s2_k + m_k^2."),
        (_softmax_rows(np.outer(_x, _m) - 0.5 * _s2), "the -m_k^2/2 term is missing: E[mu_k^2] = s2_k + m_k^2."),
        (_softmax_rows(np.outer(_x, _m) - (_s2 + _m**2)), "the factor 1/2 in front of (s2_k + m_k^2) is missing."),
        (_cols / _cols.sum(axis=0), "normalise each row (over the clusters k), not each column."),
    ],
)
# Far points on both sides, unequal variances: no NaN, still the right answer.
_x = np.array([1e3, -1e3, 0.0, 250.0])
_m, _s2 = np.array([-3.0, 0.5, 4.0]), np.array([0.5, 1.0, 2.0])
checks.assert_close(
    update_assignments(_x, _m, _s2),
    _softmax_rows(_logits(_x, _m, _s2)),
    "update_assignments with points at +-1000 (use log-sum-exp: subtract the row maximum)",
    rtol=1e-5,
    atol=1e-6,
)
# Python lists and K = 1.
checks.assert_close(
    update_assignments([0.3, -2.0, 5.0], [1.5], [0.7]), np.ones((3, 1)), "update_assignments with K = 1 (lists)"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — the update of the centres (2 points)
#
# Given $q(c)$, the optimal $q(\mu_k)$ is Gaussian with
#
# $$s_k^2 = \frac{1}{1/\sigma^2 + \sum_i \varphi_{ik}}, \qquad
# m_k = \frac{\sum_i \varphi_{ik}\, x_i}{1/\sigma^2 + \sum_i \varphi_{ik}}.$$
#
# The $1/\sigma^2$ is the prior's precision: it shrinks $m_k$ towards 0 and keeps $s_k^2 \le \sigma^2$, even for
# a cluster with no points at all.


# %% solution update_means
def update_means(x, phi, sigma2):
    """The CAVI update of q(mu_k) = N(m_k, s2_k) for every k.

    x: data, shape (n,); phi: responsibilities, shape (n, K); sigma2: prior variance (a number).
    Returns: (m, s2), two arrays of shape (K,), in float32 or float64 (tested to a relative 1e-5).
    """
    ### BEGIN SOLUTION
    x, phi = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    precision = 1.0 / sigma2 + phi.sum(axis=0)
    return phi.T @ x / precision, 1.0 / precision
    ### END SOLUTION


# %% test update_means points=2
# Points 1 and 2 in cluster 1, point 3 in cluster 2, prior variance 4 (prior precision 1/4).
# rtol = 1e-5 accepts float32: on 10 random cases like the hidden test's, float32 is within 3e-6 (relative).
_result = update_means(np.array([1.0, 2.0, 3.0]), np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 4.0)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"update_means should return a pair (m, s2); got {type(_result).__name__}.",
)
checks.assert_close(
    _result[0],
    [3 / 2.25, 3 / 1.25],
    "m from update_means(x=[1, 2, 3], hard phi, sigma2=4)",
    rtol=1e-5,
    hints=[
        (
            [1.5, 3.0],
            "that is the plain average of each cluster's points: the prior precision 1/sigma2 "
            "is missing from the denominator.",
        ),
        ([3 / 6, 3 / 5], "you added sigma2 to the denominator: the prior precision is 1/sigma2."),
    ],
)
checks.assert_close(
    _result[1],
    [1 / 2.25, 1 / 1.25],
    "s2 from update_means(x=[1, 2, 3], hard phi, sigma2=4)",
    rtol=1e-5,
    hints=[
        ([0.5, 1.0], "s2_k = 1/(1/sigma2 + sum_i phi_ik): the prior precision 1/sigma2 is missing."),
        ([1 / 6, 1 / 5], "you added sigma2 to the denominator: the prior precision is 1/sigma2."),
        ([np.sqrt(1 / 2.25), np.sqrt(1 / 1.25)], "s2 is the variance: you returned the standard deviation."),
    ],
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(41)
_x, _phi, _sigma2 = _rng.normal(0, 3, size=30), _rng.dirichlet(np.ones(3), size=30), 7.5
_precision = 1 / _sigma2 + _phi.sum(axis=0)
_m, _s2 = (
    checks.as_array(update_means(_x, _phi, _sigma2)[0], "m"),
    checks.as_array(update_means(_x, _phi, _sigma2)[1], "s2"),
)
checks.assert_close(
    _m,
    _phi.T @ _x / _precision,
    "m from update_means on random soft responsibilities (n = 30, K = 3)",
    rtol=1e-5,
    hints=[
        (_phi.T @ _x / _phi.sum(axis=0), "the prior precision 1/sigma2 is missing from the denominator."),
        (_phi.T @ _x / (_sigma2 + _phi.sum(axis=0)), "the prior precision is 1/sigma2, not sigma2."),
        (_phi.T @ _x, "divide the weighted sum by the precision 1/sigma2 + sum_i phi_ik."),
    ],
)
checks.assert_close(
    _s2,
    1 / _precision,
    "s2 from update_means on random soft responsibilities (n = 30, K = 3)",
    rtol=1e-5,
    hints=[
        (1 / _phi.sum(axis=0), "s2_k = 1/(1/sigma2 + sum_i phi_ik): the prior precision is missing."),
        (1 / (_sigma2 + _phi.sum(axis=0)), "the prior precision is 1/sigma2, not sigma2."),
    ],
)
# A cluster with no points keeps the prior: m = 0, s2 = sigma2.
_phi = np.zeros((4, 2))
_phi[:, 0] = 1.0
_m, _s2 = update_means(np.array([1.0, 2.0, -1.0, 0.5]), _phi, 3.0)
checks.assert_close(
    _m,
    [2.5 / (1 / 3 + 4), 0.0],
    "m when cluster 2 has no points (it should stay at the prior mean 0)",
    rtol=1e-5,
    hints=[([np.nan, np.nan], "0/0: without the prior precision an empty cluster divides by zero.")],
)
checks.assert_close(
    _s2, [1 / (1 / 3 + 4), 3.0], "s2 when cluster 2 has no points (it should stay at the prior variance)", rtol=1e-5
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the ELBO (4 points)
#
# Implement
#
# $$\mathcal L = \mathbb E_q[\log p(\mu)] +
# \sum_i \big(\mathbb E_q[\log p(c_i)] + \mathbb E_q[\log p(x_i \mid c_i, \mu)]\big) -
# \mathbb E_q[\log q(c)] - \mathbb E_q[\log q(\mu)].$$
#
# Every term has a closed form (lecture 04, section 3), using $\mathbb E_q[\mu_k] = m_k$,
# $\mathbb E_q[\mu_k^2] = s_k^2 + m_k^2$ and $\mathbb E_q[c_{ik}] = \varphi_{ik}$:
#
# - $\mathbb E_q[\log p(\mu_k)] = -\tfrac12\log(2\pi\sigma^2) - (s_k^2 + m_k^2)/(2\sigma^2)$;
# - $\mathbb E_q[\log p(c_i)] = -\log K$;
# - $\mathbb E_q[\log p(x_i \mid c_i, \mu)] =
#   \sum_k \varphi_{ik}\big[-\tfrac12\log 2\pi - \tfrac12(x_i^2 - 2x_i m_k + s_k^2 + m_k^2)\big]$;
# - the two entropies, $-\sum_k\varphi_{ik}\log\varphi_{ik}$ per point (with $0 \log 0 = 0$: hard assignments
#   are allowed) and $\tfrac12\log(2\pi e\, s_k^2)$ per cluster.


# %% solution elbo
def elbo(x, phi, m, s2, sigma2):
    """The evidence lower bound of the mean-field q for the Bayesian GMM, in nats.

    x: data (n,); phi: responsibilities (n, K), rows summing to one (zeros allowed);
    m, s2: means and variances of q(mu_k), shape (K,); sigma2: prior variance (a number).
    Returns: the ELBO, a float, computed in float64 (tested to about 9 significant digits).
    """
    ### BEGIN SOLUTION
    x, phi, m, s2 = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2))
    n, K = phi.shape
    expected_log_prior_mu = np.sum(-0.5 * np.log(2 * np.pi * sigma2) - (s2 + m**2) / (2 * sigma2))
    expected_log_prior_c = -n * np.log(K)
    expected_sq = x[:, None] ** 2 - 2 * x[:, None] * m + s2 + m**2  # E_q[(x_i - mu_k)^2]
    expected_log_lik = np.sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * expected_sq))
    safe_phi = np.where(phi > 0, phi, 1.0)
    entropy_c = -np.sum(phi * np.log(safe_phi))  # 0 log 0 = 0
    entropy_mu = np.sum(0.5 * np.log(2 * np.pi * np.e * s2))
    return float(expected_log_prior_mu + expected_log_prior_c + expected_log_lik + entropy_c + entropy_mu)
    ### END SOLUTION


# %% test elbo points=4
# One point, one cluster, q(mu) = N(0, 1) = the prior (sigma2 = 1): the ELBO is
# E[log N(x; mu, 1)] + 0 (no entropy of c) + 0 (the prior and q(mu) cancel) = -log(2 pi)/2 - (x^2 + 1)/2.
checks.assert_close(
    elbo(np.array([1.0]), np.ones((1, 1)), np.zeros(1), np.ones(1), 1.0),
    -0.5 * np.log(2 * np.pi) - 1.0,
    "elbo with x=[1], K=1, q(mu) equal to the prior N(0, 1)",
    rtol=1e-8,
    hints=[
        (-0.5 * np.log(2 * np.pi) - 0.5, "E[(x - mu)^2] = x^2 - 2 x m + s2 + m^2: is s2 missing?"),
        (
            -0.5 * np.log(2 * np.pi) - 1.0 - 0.5 * np.log(2 * np.pi * np.e),
            "the entropy of q(mu) is missing (or has the wrong sign): + 1/2 log(2 pi e s2_k) per cluster.",
        ),
    ],
)
# Two points, two clusters, uncertain assignments: phi = 1/2 everywhere adds 2 log 2 of entropy.
_x, _phi, _m, _s2 = np.array([-1.0, 1.0]), np.full((2, 2), 0.5), np.array([-1.0, 1.0]), np.array([0.5, 0.5])
_expected = (
    2 * (-0.5 * np.log(2 * np.pi * 2.0) - 1.5 / 4.0)
    - 2 * np.log(2)
    + 0.5 * np.sum(-0.5 * np.log(2 * np.pi) - 0.5 * ((_x[:, None] - _m) ** 2 + 0.5))
    + 2 * np.log(2)
    + 2 * 0.5 * np.log(2 * np.pi * np.e * 0.5)
)
checks.assert_close(
    elbo(_x, _phi, _m, _s2, 2.0),
    _expected,
    "elbo(x=[-1, 1], phi=1/2, m=[-1, 1], s2=[0.5, 0.5], sigma2=2)",
    rtol=1e-8,
    hints=[
        (_expected - 2 * np.log(2), "the entropy of q(c), -sum phi log phi, is missing."),
        (_expected + 2 * np.log(2), "E[log p(c_i)] = -log K per point is missing."),
    ],
)


### BEGIN HIDDEN TESTS
def _elbo_terms(x, phi, m, s2, sigma2):
    return {
        "prior_mu": np.sum(-np.log(2 * np.pi * sigma2) / 2 - (s2 + m**2) / (2 * sigma2)),
        "prior_c": -phi.shape[0] * np.log(phi.shape[1]),
        "lik": np.sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * ((x[:, None] - m) ** 2 + s2))),
        "entropy_c": -np.sum(np.where(phi > 0, phi * np.log(np.where(phi > 0, phi, 1.0)), 0.0)),
        "entropy_mu": np.sum(0.5 * np.log(2 * np.pi * np.e * s2)),
    }


def _elbo_hints(x, phi, m, s2, sigma2):
    t = _elbo_terms(x, phi, m, s2, sigma2)
    total = sum(t.values())
    no_s2 = {**t, "lik": np.sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * (x[:, None] - m) ** 2))}
    return total, [
        (total - t["entropy_c"], "the entropy of q(c), -sum_ik phi_ik log phi_ik, is missing."),
        (total - t["entropy_mu"], "the entropy of q(mu), sum_k 1/2 log(2 pi e s2_k), is missing."),
        (total - 2 * t["entropy_mu"], "the entropy of q(mu) has the wrong sign: the ELBO adds the entropies."),
        (total - 2 * t["entropy_c"], "the entropy of q(c) has the wrong sign: the ELBO adds the entropies."),
        (sum(no_s2.values()), "in E[log p(x_i | c_i, mu)], E[mu_k^2] = s2_k + m_k^2: is s2 missing?"),
        (total - t["prior_c"], "E[log p(c_i)] = -log K per point is missing."),
        (total - t["prior_mu"], "E[log p(mu)] (the prior of the centres) is missing."),
    ]


_rng = np.random.default_rng(42)
_x, _phi = _rng.normal(0, 3, size=40), _rng.dirichlet(np.ones(3), size=40)
_m, _s2, _sigma2 = _rng.normal(0, 2, size=3), _rng.uniform(0.1, 2.0, size=3), 6.0
_expected, _hints = _elbo_hints(_x, _phi, _m, _s2, _sigma2)
checks.assert_close(
    elbo(_x, _phi, _m, _s2, _sigma2), _expected, "elbo on a random q (n = 40, K = 3)", rtol=1e-8, hints=_hints
)
# Hard assignments: phi holds zeros (0 log 0 = 0), K = 4.
_phi = np.eye(4)[_rng.integers(0, 4, size=25)]
_x, _m, _s2 = _rng.normal(0, 3, size=25), _rng.normal(0, 2, size=4), _rng.uniform(0.1, 2.0, size=4)
_expected, _hints = _elbo_hints(_x, _phi, _m, _s2, 2.5)
checks.assert_close(
    elbo(_x, _phi, _m, _s2, 2.5),
    _expected,
    "elbo with one-hot phi (phi log phi must count as 0 where phi = 0)",
    rtol=1e-8,
    hints=_hints,
)
checks.assert_true(
    np.ndim(checks.as_array(elbo(_x, _phi, _m, _s2, 2.5), "elbo")) == 0,
    "elbo should return one number (a float), not an array per point or per cluster.",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: can the ELBO go down? (1 point)
#
# You now have both updates and the ELBO. One CAVI iteration sets $\varphi$ to its optimum given $q(\mu)$, then
# $q(\mu)$ to its optimum given $\varphi$. The cell after your answer runs 30 such iterations from a poor start (all
# three centres inside the right-hand cluster of three) and records the ELBO after every half-step. **Before
# running it**, predict which of these you will see:
#
# - (a) the ELBO sometimes goes down, when an update overshoots;
# - (b) the ELBO may go down in the first iterations, while $\varphi$ is far from its optimum, and then only goes up;
# - (c) the ELBO never goes down (up to rounding).
#
# Put the letter in `predicted_elbo_decrease`.

# %% solution predicted_elbo_decrease
# Your prediction, before running the cell below: predicted_elbo_decrease = "a", "b" or "c".
### BEGIN SOLUTION
predicted_elbo_decrease = "c"
### END SOLUTION

# %% test predicted_elbo_decrease points=1
checks.assert_true(
    isinstance(predicted_elbo_decrease, str) and predicted_elbo_decrease.strip().lower() in ("a", "b", "c"),
    f"predicted_elbo_decrease should be one of the letters 'a', 'b', 'c'; got {predicted_elbo_decrease!r}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_elbo_decrease.strip().lower() == "c",
    f"you predicted ({predicted_elbo_decrease.strip().lower()}); the answer is (c). Each half-step replaces one "
    "block (phi, or m and s2) by the maximiser of the ELBO over that block with the others held fixed; the old "
    "value of the block was one of the candidates, so the ELBO cannot go down, however poor the start. Nothing "
    "can overshoot: there is no step size. A decrease always means a bug, in an update or in the ELBO.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your update_assignments, update_means and elbo, from a poor start.
rng_demo = np.random.default_rng(7)
x_demo = np.array([-6.0, -1.0, 5.0])[rng_demo.integers(0, 3, size=300)] + rng_demo.normal(size=300)
m_demo, s2_demo, phi_demo = np.array([4.5, 5.0, 5.5]), np.ones(3), np.full((300, 3), 1 / 3)
half_steps = [elbo(x_demo, phi_demo, m_demo, s2_demo, 25.0)]  # the ELBO at the start, then after each half-step
for _ in range(30):
    phi_demo = update_assignments(x_demo, m_demo, s2_demo)
    half_steps.append(elbo(x_demo, phi_demo, m_demo, s2_demo, 25.0))
    m_demo, s2_demo = update_means(x_demo, phi_demo, 25.0)
    half_steps.append(elbo(x_demo, phi_demo, m_demo, s2_demo, 25.0))
changes = np.diff(half_steps)
print(f"ELBO {half_steps[0]:.2f} at the start, {half_steps[-1]:.4f} after 30 iterations; m = {np.round(m_demo, 3)}")
smallest = changes[0::2].min(), changes[1::2].min()
print(f"smallest change: after a phi update {smallest[0]:.2g}, after an (m, s2) update {smallest[1]:.2g}")
decreases = np.sum(changes < -1e-9 * np.abs(half_steps[:-1]))  # changes of order 1e-13 are rounding
print(f"the ELBO went down (by more than rounding) in {decreases} of {len(changes)} half-steps")

# %% [markdown]
# ## Exercise 4 — CAVI (4 points)
#
# Put the pieces together (Blei et al. 2017, Algorithm 2). Follow this recipe exactly, so that the
# tests can check what you return:
#
# 1. `rng = np.random.default_rng(seed)`; start from `m` = $K$ distinct data points drawn with
#    `rng.choice(x, K, replace=False)`, `s2` = ones, and `phi` = $1/K$ everywhere. The history starts with
#    the ELBO of this starting point.
# 2. One iteration = update `phi` (Exercise 1), then update `m, s2` (Exercise 2), then append the ELBO.
# 3. Stop after `max_iter` iterations, or as soon as an iteration improved the ELBO by less than `tol`.
#
# Call your functions from Exercises 1–3. (While this exercise is graded, the tests run your `cavi`
# with reference versions of those three functions, so that a mistake there does not cost you twice.)
# The ELBO must never decrease: if it does, an update or the ELBO is wrong.


# %% solution cavi
def cavi(x, K, sigma2, max_iter=100, tol=1e-8, seed=0):
    """Coordinate ascent VI for the Bayesian GMM.

    x: data (n,), with n >= K distinct values; K: number of clusters; sigma2: prior variance; max_iter: most
    iterations; tol: stop as soon as an iteration improves the ELBO by less than tol (an absolute change in
    nats); seed: seeds the start, m = K distinct data points drawn with rng.choice(x, K, replace=False).
    Returns: (phi, m, s2, elbo_history) with phi (n, K), m and s2 (K,) after the last iteration, and
    elbo_history a 1-D array: the ELBO at the start, then after each iteration (length iterations + 1).
    Work in float64: the ELBO history is compared to about 9 significant digits.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    m, s2 = rng.choice(x, K, replace=False), np.ones(K)
    phi = np.full((len(x), K), 1.0 / K)
    history = [elbo(x, phi, m, s2, sigma2)]
    for _ in range(max_iter):
        phi = update_assignments(x, m, s2)
        m, s2 = update_means(x, phi, sigma2)
        history.append(elbo(x, phi, m, s2, sigma2))
        if history[-1] - history[-2] < tol:
            break
    return phi, m, s2, np.array(history)
    ### END SOLUTION


# %% test cavi points=4
### BEGIN HIDDEN TESTS
# While grading, cavi runs with reference versions of the three functions of Exercises 1-3, so that
# this test depends on cavi alone. The student's versions are restored at the end of the cell.
def _ref_update_assignments(x, m, s2):
    _xs, _ms, _vs = (np.asarray(v, dtype=np.float64) for v in (x, m, s2))
    _scores = np.outer(_xs, _ms) - (_vs + _ms**2) / 2
    z = np.exp(_scores - _scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _ref_update_means(x, phi, sigma2):
    _xs, _resp = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    _prec = _resp.sum(axis=0) + 1 / sigma2
    return _resp.T @ _xs / _prec, 1 / _prec


def _ref_elbo(x, phi, m, s2, sigma2):
    _xs, _resp, _ms, _vs = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2))
    _n, _k = _resp.shape
    _total = np.sum(-np.log(2 * np.pi * sigma2) / 2 - (_vs + _ms**2) / (2 * sigma2)) - _n * np.log(_k)
    _total += np.sum(_resp * (-np.log(2 * np.pi) / 2 - ((_xs[:, None] - _ms) ** 2 + _vs) / 2))
    _total -= np.sum(np.where(_resp > 0, _resp * np.log(np.where(_resp > 0, _resp, 1.0)), 0.0))
    return float(_total + np.sum(np.log(2 * np.pi * np.e * _vs) / 2))


_student_functions = {name: globals().get(name) for name in ("update_assignments", "update_means", "elbo")}
globals().update(update_assignments=_ref_update_assignments, update_means=_ref_update_means, elbo=_ref_elbo)
### END HIDDEN TESTS


def _run_cavi(x, K, sigma2, **kwargs):
    result = cavi(x, K, sigma2, **kwargs)
    checks.assert_true(
        isinstance(result, (tuple, list)) and len(result) == 4,
        f"cavi should return (phi, m, s2, elbo_history); got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        + ".",
    )
    phi, m, s2, history = (checks.as_array(v, name) for v, name in zip(result, ("phi", "m", "s2", "elbo_history")))
    checks.assert_true(
        phi.shape == (len(x), K) and m.shape == (K,) and s2.shape == (K,) and history.ndim == 1,
        f"cavi returned shapes phi {phi.shape}, m {m.shape}, s2 {s2.shape}, history {history.shape}; "
        f"expected ({len(x)}, {K}), ({K},), ({K},) and a 1-D history.",
    )
    steps = np.diff(history)
    if not np.all(steps >= -1e-9 * np.abs(history[:-1])):
        checks.assert_true(
            False,
            f"the ELBO decreased during CAVI (smallest step {steps.min():.3g}); each CAVI step "
            "maximises the ELBO over one block, so it can never go down: check the updates and the ELBO.",
        )
    return phi, m, s2, history


_rng = np.random.default_rng(4)
_x = np.concatenate([_rng.normal(-5.0, 1.0, size=20), _rng.normal(5.0, 1.0, size=20)])
_phi, _m, _s2, _history = _run_cavi(_x, 2, 25.0)
checks.assert_close(
    np.sort(_m),
    [_x[:20].sum() / (1 / 25 + 20), _x[20:].sum() / (1 / 25 + 20)],
    "the sorted means m found by cavi on two clusters at -5 and 5",
    atol=0.05,
)
checks.assert_true(
    len(_history) < 101,
    f"cavi ran {len(_history) - 1} iterations on easy data: does it stop when the ELBO improves by less than tol?",
)
### BEGIN HIDDEN TESTS
try:
    checks.assert_close(
        _history[-1],
        _ref_elbo(_x, _phi, _m, _s2, 25.0),
        "the last entry of elbo_history vs the ELBO of the returned (phi, m, s2)",
        rtol=1e-9,
    )
    # Three clusters: the best of three seeds recovers the means; every run is monotone and stops at a fixed point.
    _rng = np.random.default_rng(44)
    _true = np.array([-7.0, 0.0, 6.0])
    _x = _true[_rng.integers(0, 3, size=150)] + _rng.normal(size=150)
    _runs = [_run_cavi(_x, 3, 30.0, seed=_seed) for _seed in range(3)]
    for _phi, _m, _s2, _history in _runs:
        checks.assert_close(
            _history[-1],
            _ref_elbo(_x, _phi, _m, _s2, 30.0),
            "the last entry of elbo_history vs the ELBO recomputed from the returned (phi, m, s2)",
            rtol=1e-9,
        )
        checks.assert_true(
            len(_history) < 101,
            "cavi ran all 100 iterations on well-separated data: stop as soon as an iteration improves "
            "the ELBO by less than tol.",
        )
        checks.assert_true(
            _history[-1] - _history[-2] < 1e-8 and (len(_history) < 3 or _history[-2] - _history[-3] >= 1e-8),
            f"cavi should stop right after the first iteration that improves the ELBO by less than tol = 1e-8; "
            f"the last improvements were {np.diff(_history)[-3:]}.",
        )
        _m_again, _s2_again = _ref_update_means(_x, _phi, 30.0)
        checks.assert_close(
            np.concatenate([_m, _s2]),
            np.concatenate([_m_again, _s2_again]),
            "the returned (m, s2) vs the centre update applied to the returned phi (one iteration ends "
            "with the centre update)",
            rtol=1e-8,
        )
        checks.assert_close(
            _phi,
            _ref_update_assignments(_x, _m, _s2),
            "the returned phi vs the assignment update applied to the returned (m, s2) (at convergence they agree)",
            atol=1e-3,
        )
    _best = max(_runs, key=lambda run: run[3][-1])
    checks.assert_close(
        np.sort(_best[1]),
        _true,
        "the sorted means of the best of 3 seeds on clusters at -7, 0, 6",
        atol=0.4,
        hints=[
            (
                np.full(3, np.mean(_x) * 150 / (150 + 1 / 30)),
                "all components are identical: did you update the centres first, from the "
                "uniform phi? Update phi first, from the starting m.",
            )
        ],
    )
    # The history includes the starting point: one iteration gives two entries.
    _phi, _m, _s2, _history = _run_cavi(_x, 3, 30.0, max_iter=1, seed=1)
    checks.assert_true(
        len(_history) == 2,
        f"cavi(max_iter=1) returned a history of length {len(_history)}; expected 2: the ELBO at the "
        "start, then after the single iteration.",
    )
    _m0 = np.random.default_rng(1).choice(_x, 3, replace=False)
    checks.assert_close(
        _history[0],
        _ref_elbo(_x, np.full((150, 3), 1 / 3), _m0, np.ones(3), 30.0),
        "elbo_history[0]: the ELBO of the start (m = rng.choice(x, K, replace=False), s2 = 1, phi = 1/K)",
        rtol=1e-9,
    )
    # With tol = -inf the ELBO never stalls: exactly max_iter iterations.
    _history = _run_cavi(_x, 3, 30.0, max_iter=4, tol=-np.inf, seed=2)[3]
    checks.assert_true(
        len(_history) == 5, f"cavi(max_iter=4, tol=-inf) returned {len(_history)} ELBO values; expected 5."
    )
    # The same seed gives the same run.
    _again = _run_cavi(_x, 3, 30.0, seed=2)[3]
    _repeat = _run_cavi(_x, 3, 30.0, seed=2)[3]
    checks.assert_true(
        _again.shape == _repeat.shape and np.allclose(_again, _repeat, rtol=0, atol=0),
        "two calls of cavi with the same seed gave different runs: draw the start with np.random.default_rng(seed).",
    )
    # Distinct starting points. Two centres that start equal get equal responsibilities, hence equal updates,
    # forever: they never separate (bit for bit). From distinct points they stay apart (closest pair over
    # seeds 0-9 on these six points: 2.3e-5 apart; drawn with replacement, 6 of the 10 seeds end exactly equal).
    _x = np.array([-5.2, -4.7, 0.3, -0.2, 4.6, 5.3])
    for _seed in range(10):
        _m = _run_cavi(_x, 3, 25.0, seed=_seed)[1]
        _closest = np.min(np.abs(_m[:, None] - _m[None, :])[np.triu_indices(3, 1)])
        checks.assert_true(
            _closest > 1e-12,
            f"cavi(x with 6 points, K=3, seed={_seed}) ended with two identical centres, m = {_m}: they started "
            "at the same data point (drawn with replacement?), and two identical components get identical "
            "updates, so they never separate. Start from K distinct points: rng.choice(x, K, replace=False).",
        )
finally:
    globals().update(_student_functions)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 5 — the exact evidence by enumeration, with unequal mixing weights (3 points)
#
# The lecture enumerates the assignments for the uniform prior $c_i \sim \mathrm{Cat}(1/K, \dots, 1/K)$. Here
# the clusters have **mixing proportions** $\pi = (\pi_1, \dots, \pi_K)$ (positive, summing to one) and
# $c_i \sim \mathrm{Cat}(\pi)$ independently, so an assignment $c \in \{1..K\}^n$ has prior probability
# $P(c) = \prod_i \pi_{c_i}$, which now depends on $c$. For a fixed $c$ with one-hot matrix $A_c$ ($n \times K$),
# $x = A_c\mu + \varepsilon$ is Gaussian: $p(x \mid c) = \mathcal N(x;\ 0,\ I_n + \sigma^2 A_c A_c^\top)$. Hence
#
# $$\log p(x) = \log \sum_{c \in \{1..K\}^n} \exp\Big\{\sum_{i=1}^n \log \pi_{c_i} +
# \log \mathcal N\big(x;\ 0,\ I_n + \sigma^2 A_c A_c^\top\big)\Big\}.$$
#
# With uniform weights $\pi_k = 1/K$ every $\log P(c)$ equals $-n\log K$, a constant that comes out of the sum:
# that is the lecture's formula. With unequal weights the prior term differs from one assignment to the next,
# so it must go *inside* the log-sum-exp. The number of clusters is `K = len(weights)`.
#
# Enumerate the assignments with `itertools.product(range(K), repeat=n)`, compute each log-density
# (e.g. `np.linalg.slogdet` and `np.linalg.solve`), add $\sum_i \log \pi_{c_i}$, and add the terms with
# **log-sum-exp**: for data far from 0 every single density underflows to 0.


# %% solution exact_log_evidence
def exact_log_evidence(x, weights, sigma2):
    """log p(x) of the Bayesian GMM with c_i ~ Cat(weights), by summing over all K**n assignments (small n only).

    x: data (n,); weights: the mixing proportions pi, shape (K,), positive and summing to one;
    sigma2: prior variance of the centres.
    Returns: log p(x), a float, computed in float64 (tested to about 8 significant digits).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    log_weights = np.log(np.asarray(weights, dtype=np.float64))
    n, K = len(x), len(log_weights)
    assignments = np.array(list(itertools.product(range(K), repeat=n)))  # (K**n, n)
    A = np.eye(K)[assignments]  # (K**n, n, K)
    cov = np.eye(n) + sigma2 * A @ np.swapaxes(A, 1, 2)
    _, logdet = np.linalg.slogdet(cov)
    quad = np.einsum("i,mi->m", x, np.linalg.solve(cov, np.broadcast_to(x, (len(A), n))[..., None])[..., 0])
    log_prior = log_weights[assignments].sum(axis=1)  # log P(c) = sum_i log pi_{c_i}
    log_lik = -0.5 * (n * np.log(2 * np.pi) + logdet + quad)  # log N(x; 0, I + sigma2 A A^T)
    log_terms = log_prior + log_lik
    top = log_terms.max()
    return float(top + np.log(np.sum(np.exp(log_terms - top))))
    ### END SOLUTION


# %% test exact_log_evidence points=3
def _log_normal(x, var):
    return -0.5 * np.log(2 * np.pi * var) - x**2 / (2 * var)


# One point: whatever the weights (they sum to one), x ~ N(0, 1 + sigma2).
_w = np.array([0.3, 0.7])
checks.assert_close(
    exact_log_evidence(np.array([0.5]), _w, 2.0),
    _log_normal(0.5, 3.0),
    "exact_log_evidence(x=[0.5], weights=[0.3, 0.7], sigma2=2)",
    rtol=1e-8,
    hints=[
        (
            _log_normal(0.5, 3.0) + np.log(2),
            "the prior of the assignments is missing: add log pi_{c_i} for every point to each term.",
        ),
        (
            _log_normal(0.5, 3.0) + np.log(np.sum(np.exp(_w))),
            "the weights enter as log-probabilities: add log pi_{c_i}, not pi_{c_i}.",
        ),
        (_log_normal(0.5, 2.0), "the covariance is I + sigma2 A A^T: the likelihood's unit variance is missing."),
    ],
)
# Two points, uniform weights (the lecture's case): the same cluster (probability 1/2, correlated through mu)
# or different clusters (independent).
_x = np.array([1.0, -0.5])
_same = (
    -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(np.eye(2) + 2.0)) - 0.5 * _x @ np.linalg.solve(np.eye(2) + 2.0, _x)
)
_different = _log_normal(_x, 3.0).sum()
_expected = np.logaddexp(_same, _different) - np.log(2)
checks.assert_close(
    exact_log_evidence(_x, np.array([0.5, 0.5]), 2.0),
    _expected,
    "exact_log_evidence(x=[1, -0.5], weights=[0.5, 0.5], sigma2=2)",
    rtol=1e-8,
    hints=[
        (
            _expected + 2 * np.log(2),
            "the prior of the assignments is missing: with weights [0.5, 0.5] "
            "each assignment has prior probability 1/4.",
        ),
        (
            _expected + 2 * np.log(2) + 2 * 0.5,
            "the weights enter as log-probabilities: add log pi_{c_i}, not pi_{c_i}.",
        ),
        (
            _different,
            "that treats the points as independent: points in one cluster share mu_k, so "
            "the covariance is I + sigma2 A A^T, not (1 + sigma2) I.",
        ),
        (
            (_same + _different) / 2,
            "that is the average of log p(x | c) over the assignments: average "
            "the probabilities instead (log-sum-exp).",
        ),
    ],
)
# Two points, K = 3, unequal weights. Independent check: integrate mu out numerically (Gauss-Hermite, 60 nodes
# per centre), summing each c_i out inside the likelihood:
# p(x) = E_{mu ~ N(0, sigma2 I)}[prod_i sum_k pi_k N(x_i; mu_k, 1)].
_w = np.array([0.6, 0.3, 0.1])
_nodes, _node_weights = np.polynomial.hermite.hermgauss(60)
_mu = np.stack(np.meshgrid(*[np.sqrt(2 * 2.0) * _nodes] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
_mu_weights = np.einsum("i,j,k->ijk", _node_weights, _node_weights, _node_weights).reshape(-1) / np.pi**1.5
_likelihood = np.prod(np.exp(_log_normal(_x[None, :, None] - _mu[:, None, :], 1.0)) @ _w, axis=1)
_expected = np.log(_mu_weights @ _likelihood)
# The same two cases as above: both points in one cluster (probability sum_k pi_k^2) or in two.
_p_same = np.sum(_w**2)
_e = np.exp(_w)
checks.assert_close(
    exact_log_evidence(_x, _w, 2.0),
    _expected,
    "exact_log_evidence(x=[1, -0.5], weights=[0.6, 0.3, 0.1], sigma2=2) against numerical integration over mu",
    rtol=1e-8,
    hints=[
        (
            np.log(np.exp(_same) / 3 + np.exp(_different) * 2 / 3),
            "the weights are ignored: that is the lecture's uniform prior, -n log K for every assignment. "
            "With c_i ~ Cat(pi) an assignment c has prior probability prod_i pi_{c_i}.",
        ),
        (
            np.log(3 * np.exp(_same) + 6 * np.exp(_different)),
            "the prior of the assignments is missing: add log pi_{c_i} for every point to each term.",
        ),
        (
            np.log(np.sum(_e**2) * np.exp(_same) + (np.sum(_e) ** 2 - np.sum(_e**2)) * np.exp(_different)),
            "the weights enter as log-probabilities: add log pi_{c_i}, not pi_{c_i}.",
        ),
        (_different, "that treats the points as independent: the covariance is I + sigma2 A A^T."),
        (
            _p_same * _same + (1 - _p_same) * _different,
            "that is the prior average of log p(x | c): average the probabilities (log-sum-exp), not their logarithms.",
        ),
    ],
)
### BEGIN HIDDEN TESTS
import itertools


def _ref_terms(x, K, sigma2):
    """All assignments (K**n, n) and log p(x | c) for each, cluster by cluster: N(0, I + sigma2 11^T) has
    log det = log(1 + n_k sigma2) and a Sherman-Morrison inverse."""
    x = np.asarray(x, dtype=float)
    assignments = np.array(list(itertools.product(range(K), repeat=len(x))))
    A = np.eye(K)[assignments, :]
    counts, sums = A.sum(axis=1), np.einsum("mik,i->mk", A, x)
    logdet = np.log1p(counts * sigma2).sum(axis=1)
    quad = x @ x - np.sum(sigma2 * sums**2 / (1 + counts * sigma2), axis=1)
    return assignments, -0.5 * (len(x) * np.log(2 * np.pi) + logdet + quad)


def _lse(terms):
    return terms.max() + np.log(np.sum(np.exp(terms - terms.max())))


_rng = np.random.default_rng(45)
_x = np.array([-4.0, -3.5, 0.2, 4.1, 4.4, 3.8, -0.3]) + 0.1 * _rng.normal(size=7)
_w = _rng.dirichlet(np.ones(3))
_assignments, _log_lik = _ref_terms(_x, 3, 9.0)
_log_prior = np.log(_w)[_assignments].sum(axis=1)
_expected = _lse(_log_prior + _log_lik)
checks.assert_close(
    exact_log_evidence(_x, _w, 9.0),
    _expected,
    f"exact_log_evidence on 7 points, weights {np.round(_w, 3)}, sigma2 = 9",
    rtol=1e-8,
    hints=[
        (
            _lse(_log_lik) - 7 * np.log(3),
            "the weights are ignored: that is the lecture's uniform prior, "
            "-n log K for every assignment. With c_i ~ Cat(pi) an "
            "assignment c has prior probability prod_i pi_{c_i}.",
        ),
        (_lse(_log_lik), "the prior of the assignments is missing: add log pi_{c_i} for every point."),
        (
            _lse(_w[_assignments].sum(axis=1) + _log_lik),
            "the weights enter as log-probabilities: add log pi_{c_i}, not pi_{c_i}.",
        ),
        (_log_normal(_x, 10.0).sum(), "that treats the points as independent: the covariance is I + sigma2 A A^T."),
        (
            np.sum(np.exp(_log_prior) * _log_lik),
            "that is the prior average of log p(x | c): average the probabilities (log-sum-exp), not their logarithms.",
        ),
        (
            np.mean(_log_prior + _log_lik),
            "that is the average of the log-terms: add the probabilities (log-sum-exp), not their logarithms.",
        ),
    ],
)
checks.assert_close(
    exact_log_evidence(list(_x[:5]), [1.0], 4.0),
    _lse(_ref_terms(_x[:5], 1, 4.0)[1]),
    "exact_log_evidence with K = 1 (weights [1.0], Python lists)",
    rtol=1e-8,
)
# Data far from the prior: every p(x | c) underflows to 0 in float64, log p(x) does not.
_x = 60.0 + _rng.normal(size=5)
_w = np.array([0.2, 0.8])
_assignments, _log_lik = _ref_terms(_x, 2, 1.0)
_expected = _lse(np.log(_w)[_assignments].sum(axis=1) + _log_lik)
checks.assert_close(
    exact_log_evidence(_x, _w, 1.0),
    _expected,
    "exact_log_evidence on 5 points near 60 (weights [0.2, 0.8], "
    "sigma2 = 1): each p(x | c) underflows, so add the terms in log space (log-sum-exp)",
    rtol=1e-8,
    hints=[
        (-np.inf, "log(sum(exp(...))) underflowed to log(0) = -inf: subtract the largest term first."),
        (_lse(_log_lik) - 5 * np.log(2), "the weights are ignored: that is the lecture's uniform prior."),
    ],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Putting it together (not graded), after a prediction (1 point)
#
# The cell after your answer runs your `cavi` (the best of ten seeds) and your `exact_log_evidence` (uniform
# weights, the model that `cavi` fits) on two tiny data sets made of well-separated pairs of points: six points
# in three pairs with $K = 3$, then eight points in four pairs with $K = 4$. On the six points, lecture 04
# (section 7) found the best ELBO about 1.80 nats below $\log p(x)$. **Before running it**, predict: how many
# nats below $\log p(x)$ will the best ELBO be on the eight points, with $K = 4$? Put a number in
# `predicted_gap_k4`.

# %% solution predicted_gap_k4
# Your prediction, before running the cell below: predicted_gap_k4 = a number of nats.
### BEGIN SOLUTION
predicted_gap_k4 = math.log(math.factorial(4))
### END SOLUTION

# %% test predicted_gap_k4 points=1
import math

checks.assert_true(
    isinstance(predicted_gap_k4, (int, float, np.integer, np.floating)) and not isinstance(predicted_gap_k4, bool),
    f"predicted_gap_k4 should be a number (nats); got {type(predicted_gap_k4).__name__}.",
)
checks.assert_true(
    np.isfinite(predicted_gap_k4) and predicted_gap_k4 >= 0,
    f"predicted_gap_k4 = {predicted_gap_k4}: the ELBO is a lower bound on log p(x), so the gap is a number >= 0.",
)
### BEGIN HIDDEN TESTS
# The best ELBO of the solution's cavi (ten seeds) is 3.1782 nats below log p(x); log 4! = 3.1781.
checks.assert_true(
    abs(predicted_gap_k4 - math.log(24)) <= 0.3,
    f"you predicted {predicted_gap_k4:.3g} nats; the gap is about log 4! = log 24 = 3.18 nats. Relabelling the "
    "4 clusters (with the labels of c) leaves p(x, c, mu) unchanged, so the posterior has 4! = 24 copies of "
    "each mode; with well-separated pairs they barely overlap, each holds 1/24 of the mass, and a mean-field q "
    "sits in one of them: KL(q || p(. | x)) is about log 24. The gap grows like log K! (1.79 for K = 3, 3.18 for "
    "K = 4), not like log K, and more restarts cannot close it.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your cavi and exact_log_evidence.
for x_pairs, K, sigma2 in [
    (np.array([-5.2, -4.7, 0.3, -0.2, 4.6, 5.3]), 3, 25.0),
    (np.array([-9.2, -8.7, -3.3, -2.8, 2.6, 3.3, 8.8, 9.3]), 4, 36.0),
]:
    best_elbo = max(cavi(x_pairs, K, sigma2, seed=s)[3][-1] for s in range(10))
    log_evidence = exact_log_evidence(x_pairs, np.full(K, 1 / K), sigma2)
    print(
        f"K = {K}, n = {len(x_pairs)}: best ELBO {best_elbo:.4f}   log p(x) {log_evidence:.4f}   "
        f"gap {log_evidence - best_elbo:.4f}   log {K}! = {math.log(math.factorial(K)):.4f}"
    )

# %% [markdown]
# ## Exercise 6 — explain the gap (2 points, graded by hand)
#
# On the six points the best ELBO is about 1.80 nats below $\log p(x)$, and $\log 3! \approx 1.79$; on the eight
# points about 3.18, and $\log 4! \approx 3.18$. In two to four sentences: why can the mean-field ELBO not reach
# $\log p(x)$ here, and where does the number $\log K!$ come from? Would more restarts close the gap?

# %% written gap points=2
# ### BEGIN SOLUTION
# The gap is KL(q ‖ p(μ, c | x)). The posterior is invariant to relabelling the clusters, so it has
# K! = 6 identical, well-separated modes, each with about 1/K! of the mass; a mean-field q (a product
# of one Gaussian per centre and one categorical per point) can sit on only one of them, where
# log q − log p(·|x) ≈ log K!, so the gap is about log K! however well q fits that mode. Restarts do not
# help: they find the same mode up to relabelling, with the same ELBO.
#
# *For graders:* one point for "label switching / K! symmetric modes, q covers one"; one for the
# explanation of log K! (each mode holds 1/K! of the posterior mass, so the density ratio is about K!)
# or for "restarts cannot fix it".
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - CAVI alternates two closed-form updates: responsibilities
#   $\varphi_{ik} \propto \exp\{m_k x_i - \tfrac12(s_k^2 + m_k^2)\}$ (normalised with log-sum-exp) and
#   Gaussian centres with precision $1/\sigma^2 + \sum_i\varphi_{ik}$.
# - Its ELBO is closed form, entropies included, and never decreases: the best test of an implementation.
# - Stop when the ELBO stalls; keep the starting value in the history; restart from several seeds.
# - The exact evidence costs $K^n$ terms; for well-separated clusters the ELBO stays about $\log K!$ below it.
