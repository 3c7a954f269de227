# %% [markdown]
# # Lab 04 — CAVI for a mixture of Gaussians you derive yourself
#
# Lecture 04 derived coordinate ascent variational inference (CAVI) for one Bayesian mixture of Gaussians: points
# on a line, unit observation variance, equal weights. Here you derive and implement it for a more general model:
# points in $\mathbb R^D$, an observation variance $\tau^2$ and known, unequal mixing weights $\pi$. Then you compute
# its exact evidence by enumeration and see how far below it the mean-field ELBO stays. The lecture's formulas are
# special cases of yours ($D = 1$, $\tau^2 = 1$, $\pi_k = 1/K$); pasted unchanged, they fail the tests.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - derive the mean-field CAVI updates of a new conjugate model from $q_j^* \propto \exp\{\mathbb E_{-j}[\log p]\}$,
#   and implement them with a numerically stable softmax (log-sum-exp);
# - write the ELBO of that model in closed form, entropies included, and check it against Monte Carlo;
# - run CAVI to convergence, with a stopping rule and an ELBO history, and predict what that history can do;
# - compute the exact evidence of a tiny data set in $D$ dimensions by enumerating all $K^n$ assignments, and
#   predict and explain how far below it the mean-field ELBO stays.
#
# **The model.** For data $x_1, \dots, x_n \in \mathbb R^D$ and $K$ clusters,
#
# $$\mu_k \sim \mathcal N(0, \sigma^2 I_D), \qquad c_i \sim \mathrm{Cat}(\pi_1, \dots, \pi_K), \qquad
# x_i \mid c_i, \mu \sim \mathcal N(\mu_{c_i}, \tau^2 I_D),$$
#
# with $\sigma^2$, $\tau^2$ and the weights $\pi$ (positive, summing to one) known. The mean-field family is
#
# $$q(\mu, c) = \prod_k \mathcal N(\mu_k;\ m_k,\ s_k^2 I_D)\ \prod_i \mathrm{Cat}(c_i;\ \varphi_i):$$
#
# one isotropic Gaussian per centre (you will see that the optimal $q(\mu_k)$ has this form) and one categorical
# per point. Throughout, `x` has shape `(n, D)`, `phi` shape `(n, K)` (row $i$ is $\varphi_i$, summing to one),
# `m` shape `(K, D)`, `s2` shape `(K,)` (the **variances** $s_k^2$), `weights` shape `(K,)`, and `sigma2`, `tau2`
# are the prior and observation **variances** (numbers). The tests use $D = 2$ and $D = 3$; any $D \ge 1$ must work.
#
# **Numbers.** Work in NumPy (TensorFlow is fine too). The two updates (Exercises 1 and 2) may use float32 or
# float64: their tests compare to a relative 1e-5, which float32 meets. The ELBO, `cavi` and the exact evidence
# (Exercises 3 to 5) must use float64: their tests compare about 9 significant digits, more than float32 holds.

# %% setup

# %% locked imports
import itertools
import math

import numpy as np

# %% [markdown]
# ## Exercise 1 — the update of the assignments (3 points)
#
# Derive the optimal $q(c_i)$ given $q(\mu)$ from $q^*(c_i) \propto \exp\{\mathbb E_{q(\mu)}[\log p(c_i) +
# \log p(x_i \mid c_i, \mu)]\}$, as lecture 04 (section 4) does for its model. You need two facts:
#
# - $\log \mathcal N(x; \mu, \tau^2 I_D) = -\tfrac D2 \log(2\pi\tau^2) - \lVert x - \mu\rVert^2 / (2\tau^2)$;
# - under $q(\mu_k) = \mathcal N(m_k, s_k^2 I_D)$: $\mathbb E[\mu_k] = m_k$ and
#   $\mathbb E\lVert\mu_k\rVert^2 = D s_k^2 + \lVert m_k\rVert^2$ (each of the $D$ coordinates has variance $s_k^2$).
#
# Drop the terms that are the same for every $k$: what is left is a logit $\ell_{ik}$, and
# $\varphi_{ik} = e^{\ell_{ik}} / \sum_j e^{\ell_{ij}}$. Where do the weights $\pi_k$ enter? For a point far from
# every centre the logits are huge, and `np.exp` overflows to `inf` (`inf/inf = nan`): subtract each row's largest
# logit before exponentiating (**log-sum-exp**).


# %% solution update_assignments
def update_assignments(x, m, s2, weights, tau2):
    """The CAVI update of the responsibilities phi given q(mu), computed stably.

    x: data, shape (n, D); m: means of q(mu_k), shape (K, D); s2: variances s_k^2 of q(mu_k), shape (K,);
    weights: mixing proportions pi, shape (K,); tau2: observation variance tau^2 (a number).
    Returns: phi, an array of shape (n, K) whose rows sum to one, in float32 or float64 (tested to a relative 1e-5).
    """
    ### BEGIN SOLUTION
    points, centres = np.array(x, dtype=np.float64), np.array(m, dtype=np.float64)
    spread = points.shape[1] * np.array(s2, dtype=np.float64)  # D s_k^2
    # E_q ||x_i - mu_k||^2 = ||x_i||^2 - 2 x_i.m_k + D s_k^2 + ||m_k||^2; ||x_i||^2 is the same for every k.
    expected_fit = points @ centres.T - 0.5 * (spread + (centres**2).sum(axis=1))
    scores = np.log(np.array(weights, dtype=np.float64)) + expected_fit / tau2
    log_normaliser = np.logaddexp.reduce(scores, axis=1)  # stable: log-sum-exp over the clusters
    return np.exp(scores - log_normaliser[:, None])
    ### END SOLUTION


# %% test update_assignments points=3
# Tolerances rtol = 1e-5, atol = 1e-6 accept float32: on these cases and 10 random ones like the hidden test's,
# float32 differs from float64 by at most 8.7e-7 (absolute) and 2.6e-6 (relative, where phi > 1e-6); on 100 such
# cases the largest error is 0.12 of the tolerance.
def _softmax_rows(scores):
    scores = np.asarray(scores, dtype=float)
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


# One point (2, 1) in the plane, centres (-1, 0) and (1, 0) with s2 = 1/2, weights (1/4, 3/4), tau2 = 2:
# x.m_k = -2 and 2, D s2 + ||m||^2 = 2, so the logits are log pi_k + (x.m_k - 1)/2 = log pi_k + (-3/2, 1/2).
_x, _m, _s2, _w = np.array([[2.0, 1.0]]), np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([0.5, 0.5]), [0.25, 0.75]
checks.assert_close(
    update_assignments(_x, _m, _s2, np.array(_w), 2.0),
    _softmax_rows([[np.log(0.25) - 1.5, np.log(0.75) + 0.5]]),
    "update_assignments(x=[[2, 1]], m=[[-1, 0], [1, 0]], s2=[1/2, 1/2], weights=[1/4, 3/4], tau2=2)",
    rtol=1e-5,
    atol=1e-6,
    hints=[
        (
            _softmax_rows([[-2.0 - 0.75, 2.0 - 0.75]]),
            "pasted the lecture's version: m_k.x_i - (s2_k + ||m_k||^2)/2 holds only for tau2 = 1, D = 1 and equal "
            "weights. Here the logit has log pi_k, the factor 1/tau2 and D s2_k.",
        ),
        (_softmax_rows([[-1.5, 0.5]]), "the weights are missing: the prior term log pi_k belongs in each logit."),
        (_softmax_rows([[np.log(0.25) - 3.0, np.log(0.75) + 1.0]]), "the factor 1/tau2 is missing from the logits."),
        (
            _softmax_rows([[np.log(0.25) - 3.0 / 4, np.log(0.75) + 1.0 / 4]]),
            "you divided by tau2 twice (tau2 squared): tau2 is already the variance.",
        ),
        (
            _softmax_rows([[0.25 - 1.5, 0.75 + 0.5]]),
            "the weights enter the logit as log pi_k, not pi_k (phi_ik is proportional to pi_k exp{...}).",
        ),
    ],
)
# Equal centres at the origin, different variances, D = 2, tau2 = 1/4: the logits are -D s2_k / (2 tau2) = -4, -12.
checks.assert_close(
    update_assignments(np.zeros((1, 2)), np.zeros((2, 2)), np.array([1.0, 3.0]), np.array([0.5, 0.5]), 0.25),
    _softmax_rows([[-4.0, -12.0]]),
    "update_assignments(x=[[0, 0]], m=0, s2=[1, 3], weights=[1/2, 1/2], tau2=1/4)",
    rtol=1e-5,
    atol=1e-6,
    hints=[
        (
            _softmax_rows([[-2.0, -6.0]]),
            "the factor D is missing: E||mu_k||^2 = D s2_k + ||m_k||^2, since each of the D coordinates has "
            "variance s2_k.",
        ),
        (_softmax_rows([[0.0, 0.0]]), "the s2_k term is missing: E||mu_k||^2 = D s2_k + ||m_k||^2."),
        (_softmax_rows([[-1.0, -3.0]]), "the factor 1/tau2 is missing from the logits."),
    ],
)
# A point far from both centres: exp overflows unless you subtract each row's largest logit first.
checks.assert_close(
    update_assignments(np.array([[3000.0, 500.0]]), _m, _s2, np.array(_w), 2.0),
    [[0.0, 1.0]],
    "update_assignments(x=[[3000, 500]], same centres: logits near -1500 and 1500)",
    atol=1e-6,
    hints=[([[np.nan, np.nan]], "exp overflowed: subtract each row's largest logit before np.exp (log-sum-exp).")],
)


### BEGIN HIDDEN TESTS
def _ref_logits(x, m, s2, w, tau2):
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    sq = np.sum((x[:, None, :] - m[None, :, :]) ** 2, axis=2) + x.shape[1] * np.asarray(s2)  # E||x_i - mu_k||^2
    return np.log(w) - sq / (2 * tau2)


def _hints_phi(x, m, s2, w, tau2):
    d = x.shape[1]
    lecture = x @ m.T - 0.5 * (s2 + np.sum(m**2, axis=1))
    return [
        (
            _softmax_rows(lecture),
            "pasted the lecture's version: m_k.x_i - (s2_k + ||m_k||^2)/2 holds only for tau2 = 1, D = 1 and "
            "equal weights. Here the logit has log pi_k, the factor 1/tau2 and D s2_k.",
        ),
        (_softmax_rows(_ref_logits(x, m, s2, w, tau2) - np.log(w)), "the prior term log pi_k is missing."),
        (_softmax_rows(np.log(w) + (lecture - 0.5 * (d - 1) * s2)), "the factor 1/tau2 is missing from the logits."),
        (
            _softmax_rows(np.log(w) + lecture / tau2),
            "the factor D is missing: E||mu_k||^2 = D s2_k + ||m_k||^2.",
        ),
        (
            _softmax_rows(np.log(w) + (x @ m.T - 0.5 * np.sum(m**2, axis=1)) / tau2),
            "the s2_k term is missing: E||mu_k||^2 = D s2_k + ||m_k||^2.",
        ),
        (
            _softmax_rows(np.log(w) + (x @ m.T - 0.5 * (d * s2 + np.sum(m**2, axis=1))) / tau2**2),
            "you divided by tau2 squared: tau2 is the variance already.",
        ),
    ]


def _ref_elbo_phi(x, phi, m, s2, w, tau2):
    """The terms of the ELBO that involve phi (the rest does not change when only phi does)."""
    safe = np.where(phi > 0, phi, 1.0)
    return float(np.sum(phi * _ref_logits(x, m, s2, w, tau2)) - np.sum(phi * np.log(safe)))


_rng = np.random.default_rng(40)
for _d in (2, 3):
    _x, _m, _s2 = _rng.normal(0, 3, size=(50, _d)), _rng.normal(0, 2, size=(4, _d)), _rng.uniform(0.2, 3.0, size=4)
    _w, _tau2 = _rng.dirichlet(2 * np.ones(4)), 1.7
    _phi = checks.as_array(update_assignments(_x, _m, _s2, _w, _tau2), "update_assignments")
    checks.assert_close(
        _phi,
        _softmax_rows(_ref_logits(_x, _m, _s2, _w, _tau2)),
        f"update_assignments on 50 random points in D = {_d}, K = 4, unequal weights, tau2 = 1.7",
        rtol=1e-5,
        atol=1e-6,
        hints=_hints_phi(_x, _m, _s2, _w, _tau2),
    )
    # The defining property: phi_i maximises the ELBO given q(mu). No perturbed row does better.
    _best = _ref_elbo_phi(_x, _phi, _m, _s2, _w, _tau2)
    for _trial in range(40):
        _i, _scale = _rng.integers(50), 10.0 ** _rng.uniform(-3, 0)
        _other = _phi.copy()
        _other[_i] = (1 - _scale) * _phi[_i] + _scale * _rng.dirichlet(np.ones(4))
        _gain = _ref_elbo_phi(_x, _other, _m, _s2, _w, _tau2) - _best
        checks.assert_true(
            _gain <= 1e-9 * abs(_best),
            f"moving row {_i} of your phi towards another probability vector raised the ELBO by {_gain:.3g}: "
            "your phi is not the coordinate-wise maximiser of the ELBO.",
        )
# Far points on both sides, unequal variances: no NaN, still the right answer.
_x = np.array([[1e3, 0.0], [-1e3, 1e3], [0.0, 0.0], [250.0, -250.0]])
_m, _s2, _w = np.array([[-3.0, 1.0], [0.5, 0.5], [4.0, -2.0]]), np.array([0.5, 1.0, 2.0]), np.array([0.2, 0.5, 0.3])
checks.assert_close(
    update_assignments(_x, _m, _s2, _w, 0.6),
    _softmax_rows(_ref_logits(_x, _m, _s2, _w, 0.6)),
    "update_assignments with points 1000 away (use log-sum-exp: subtract the row maximum)",
    rtol=1e-5,
    atol=1e-6,
)
# Python lists, D = 1 and K = 1.
checks.assert_close(
    update_assignments([[0.3], [-2.0], [5.0]], [[1.5]], [0.7], [1.0], 2.0), np.ones((3, 1)), "update_assignments, K = 1"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — the update of the centres (2 points)
#
# Derive the optimal $q(\mu_k)$ given $q(c)$: collect the terms of $\mathbb E_{q(c)}[\log p(\mu_k) +
# \sum_i \log p(x_i \mid c_i, \mu)]$ that involve $\mu_k$ (under $q(c)$, $c_{ik}$ becomes $\varphi_{ik}$). They are
# $-\tfrac12 a_k \lVert\mu_k\rVert^2 + b_k^\top \mu_k$ for a number $a_k$ and a vector $b_k \in \mathbb R^D$, so
# $q^*(\mu_k)$ is Gaussian with covariance $I_D / a_k$ and mean $b_k / a_k$: isotropic, as the family assumed. What
# are $a_k$ (a precision: the prior's plus the data's) and $b_k$, and where does $\tau^2$ go?


# %% solution update_means
def update_means(x, phi, sigma2, tau2):
    """The CAVI update of q(mu_k) = N(m_k, s2_k I) for every k, given phi.

    x: data, shape (n, D); phi: responsibilities, shape (n, K); sigma2: prior variance of each coordinate of mu_k;
    tau2: observation variance.
    Returns: (m, s2): m of shape (K, D) and the variances s2 of shape (K,), in float32 or float64 (tested to a
    relative 1e-5).
    """
    ### BEGIN SOLUTION
    x, phi = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    counts = phi.sum(axis=0)  # effective number of points per cluster, (K,)
    variances = 1.0 / (1.0 / sigma2 + counts / tau2)
    centres = (phi.T @ x) * (variances / tau2)[:, None]
    return centres, variances
    ### END SOLUTION


# %% test update_means points=2
# Points (1, 0) and (2, 2) in cluster 1, (3, -1) in cluster 2, sigma2 = 4, tau2 = 1/2: the precisions are
# 1/4 + 2/(1/2) = 17/4 and 1/4 + 1/(1/2) = 9/4, and m_k = (sum of the cluster's points / tau2) / precision.
# rtol = 1e-5 accepts float32: on 10 random cases like the hidden test's, float32 is within 9.6e-6
# (relative, for m near 0); with atol = 1e-6, the largest error on 100 such cases is 0.08 of the tolerance.
_x = np.array([[1.0, 0.0], [2.0, 2.0], [3.0, -1.0]])
_phi = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
_result = update_means(_x, _phi, 4.0, 0.5)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"update_means should return a pair (m, s2); got {type(_result).__name__}.",
)
checks.assert_close(
    _result[0],
    [[6 / 4.25, 4 / 4.25], [6 / 2.25, -2 / 2.25]],
    "m from update_means(x=[[1, 0], [2, 2], [3, -1]], hard phi, sigma2=4, tau2=1/2)",
    rtol=1e-5,
    hints=[
        (
            [[3 / 2.25, 2 / 2.25], [3 / 1.25, -1 / 1.25]],
            "pasted the lecture's version: precision 1/sigma2 + sum_i phi_ik and mean sum_i phi_ik x_i / precision "
            "hold only for tau2 = 1. Each point brings precision 1/tau2, and b_k = sum_i phi_ik x_i / tau2.",
        ),
        (
            [[3 / 4.25, 2 / 4.25], [3 / 2.25, -1 / 2.25]],
            "the precision is right but the mean lacks 1/tau2: b_k = sum_i phi_ik x_i / tau2.",
        ),
        ([[1.5, 1.0], [3.0, -1.0]], "that is each cluster's plain average: the prior precision 1/sigma2 is missing."),
    ],
)
checks.assert_close(
    _result[1],
    [1 / 4.25, 1 / 2.25],
    "s2 from update_means(x=[[1, 0], [2, 2], [3, -1]], hard phi, sigma2=4, tau2=1/2)",
    rtol=1e-5,
    hints=[
        ([1 / 2.25, 1 / 1.25], "pasted the lecture's version: each point brings precision 1/tau2, not 1."),
        ([np.sqrt(1 / 4.25), np.sqrt(1 / 2.25)], "s2 is the variance: you returned the standard deviation."),
        ([1 / 8.25, 1 / 6.25], "the prior precision is 1/sigma2, not sigma2."),
        ([2 / 4.25, 2 / 2.25], "s2 is the variance of each coordinate; the factor D does not belong here."),
    ],
)


### BEGIN HIDDEN TESTS
def _ref_elbo_mu(x, phi, m, s2, sigma2, tau2):
    """The terms of the ELBO that involve q(mu), written as expectations of the log-densities."""
    d = x.shape[1]
    sq = np.sum((x[:, None, :] - m[None]) ** 2, axis=2) + d * s2
    prior = np.sum(-(d * s2 + np.sum(m**2, axis=1)) / (2 * sigma2))
    return float(prior + np.sum(-phi * sq / (2 * tau2)) + np.sum(0.5 * d * np.log(s2)))


_rng = np.random.default_rng(41)
for _d, _tau2 in ((2, 1.7), (3, 0.4)):
    _x, _phi, _sigma2 = _rng.normal(0, 3, size=(30, _d)), _rng.dirichlet(np.ones(3), size=30), 7.5
    _result = update_means(_x, _phi, _sigma2, _tau2)
    _m, _s2 = checks.as_array(_result[0], "m"), checks.as_array(_result[1], "s2")
    _precision = 1 / _sigma2 + _phi.sum(axis=0) / _tau2
    _lecture = 1 / _sigma2 + _phi.sum(axis=0)
    checks.assert_close(
        _m,
        (_phi.T @ _x / _tau2) / _precision[:, None],
        f"m from update_means on random soft phi (n = 30, K = 3, D = {_d}, tau2 = {_tau2})",
        rtol=1e-5,
        hints=[
            ((_phi.T @ _x) / _lecture[:, None], "pasted the lecture's version: it holds only for tau2 = 1."),
            ((_phi.T @ _x) / _precision[:, None], "the mean lacks 1/tau2: b_k = sum_i phi_ik x_i / tau2."),
            ((_phi.T @ _x) / _phi.sum(axis=0)[:, None], "the prior precision 1/sigma2 is missing."),
        ],
    )
    checks.assert_close(
        _s2,
        1 / _precision,
        f"s2 from update_means on random soft phi (n = 30, K = 3, D = {_d}, tau2 = {_tau2})",
        rtol=1e-5,
        hints=[
            (1 / _lecture, "pasted the lecture's version: each point brings precision 1/tau2, not 1."),
            (np.sqrt(1 / _precision), "s2 is the variance: you returned the standard deviation."),
            (1 / (_sigma2 + _phi.sum(axis=0) / _tau2), "the prior precision is 1/sigma2, not sigma2."),
        ],
    )
    # The defining property: (m, s2) maximise the ELBO given phi. No perturbation of one of them does better.
    _best = _ref_elbo_mu(_x, _phi, _m, _s2, _sigma2, _tau2)
    for _trial in range(40):
        _k, _scale = _rng.integers(3), 10.0 ** _rng.uniform(-3, 0)
        _m_other, _s2_other = _m.copy(), _s2.copy()
        _m_other[_k] += _scale * _rng.normal(size=_d)
        _s2_other[_k] *= np.exp(_scale * _rng.normal())
        for _gain in (
            _ref_elbo_mu(_x, _phi, _m_other, _s2, _sigma2, _tau2) - _best,
            _ref_elbo_mu(_x, _phi, _m, _s2_other, _sigma2, _tau2) - _best,
        ):
            checks.assert_true(
                _gain <= 1e-9 * abs(_best),
                f"perturbing m_{_k} or s2_{_k} raised the ELBO by {_gain:.3g}: your q(mu) is not the "
                "coordinate-wise maximiser of the ELBO.",
            )
# A cluster with no points keeps the prior: m = 0, s2 = sigma2.
_phi = np.zeros((4, 2))
_phi[:, 0] = 1.0
_x = np.array([[1.0, 0.0], [2.0, 1.0], [-1.0, 1.0], [0.5, 0.0]])
_m, _s2 = update_means(_x, _phi, 3.0, 2.0)
checks.assert_close(
    _m,
    [[2.5 / 2 / (1 / 3 + 2), 2 / 2 / (1 / 3 + 2)], [0.0, 0.0]],
    "m when cluster 2 has no points (it should stay at the prior mean 0)",
    rtol=1e-5,
    hints=[(np.full((2, 2), np.nan), "0/0: without the prior precision an empty cluster divides by zero.")],
)
checks.assert_close(
    _s2, [1 / (1 / 3 + 2), 3.0], "s2 when cluster 2 has no points (it should stay at the prior variance)", rtol=1e-5
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the ELBO (4 points)
#
# Implement
#
# $$\mathcal L = \mathbb E_q[\log p(\mu)] +
# \sum_i \big(\mathbb E_q[\log p(c_i)] + \mathbb E_q[\log p(x_i \mid c_i, \mu)]\big) -
# \mathbb E_q[\log q(c)] - \mathbb E_q[\log q(\mu)]$$
#
# in closed form. Lecture 04 (section 3) has the table for its model; four of its five lines change here (the entropy
# of $q(c)$ does not).
# Besides the two facts of Exercise 1 you need $\mathbb E_q[c_{ik}] = \varphi_{ik}$, the entropy
# $\tfrac D2 \log(2\pi e\, s^2)$ of $\mathcal N(m, s^2 I_D)$, and $0 \log 0 = 0$ in the entropy of $q(c)$ (hard
# assignments are allowed). A test compares your ELBO with a Monte Carlo average of
# $\log p(x, c, \mu) - \log q(c, \mu)$ over samples of $q$; the hidden tests compare it to 9 digits.


# %% solution elbo
def elbo(x, phi, m, s2, weights, sigma2, tau2):
    """The evidence lower bound of the mean-field q for this Bayesian GMM, in nats.

    x: data (n, D); phi: responsibilities (n, K), rows summing to one (zeros allowed); m: means of q(mu_k), (K, D);
    s2: variances of q(mu_k), (K,); weights: mixing proportions (K,); sigma2, tau2: prior and observation variances.
    Returns: the ELBO, one float, computed in float64 (tested to about 9 significant digits).
    """
    ### BEGIN SOLUTION
    x, phi, m, s2, w = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2, weights))
    log_w = np.log(w)
    dims = x.shape[1]
    mean_sq_mu = dims * s2 + np.einsum("kd,kd->k", m, m)  # E_q ||mu_k||^2
    gap_sq = np.einsum("ikd,ikd->ik", x[:, None, :] - m, x[:, None, :] - m) + dims * s2  # E_q ||x_i - mu_k||^2
    log_prior_centres = np.sum(-0.5 * dims * math.log(2 * math.pi * sigma2) - mean_sq_mu / (2 * sigma2))
    log_prior_labels = np.sum(phi @ log_w)
    log_likelihood = np.sum(phi * (-0.5 * dims * math.log(2 * math.pi * tau2) - gap_sq / (2 * tau2)))
    labels_entropy = -np.sum(phi * np.log(np.where(phi > 0, phi, 1.0)))  # 0 log 0 = 0
    centres_entropy = 0.5 * dims * np.sum(np.log(2 * math.pi * math.e * s2))
    return float(log_prior_centres + log_prior_labels + log_likelihood + labels_entropy + centres_entropy)
    ### END SOLUTION


# %% test elbo points=4
import tensorflow as _tf
import tensorflow_probability as tfp

_tfd = tfp.distributions


def _lecture_elbo(x, phi, m, s2, sigma2):
    """Lecture 04's ELBO (D = 1, tau2 = 1, weights 1/K), with squares summed over the D coordinates."""
    n, K = phi.shape
    sq = np.sum((x[:, None, :] - m[None]) ** 2, axis=2) + s2
    value = np.sum(-0.5 * np.log(2 * np.pi * sigma2) - (s2 + np.sum(m**2, axis=1)) / (2 * sigma2)) - n * np.log(K)
    value += np.sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * sq))
    value -= np.sum(phi * np.log(np.where(phi > 0, phi, 1.0)))
    return value + np.sum(0.5 * np.log(2 * np.pi * np.e * s2))


# One point, one cluster, q(mu) = the prior N(0, I) (sigma2 = 1), D = 2, tau2 = 1/2: the prior and q(mu) cancel,
# q(c) has no entropy, and the ELBO is E_q[log N(x; mu, tau2 I)] = -log(2 pi tau2) - (||x||^2 + 2 sigma2)/(2 tau2).
_x, _phi, _m, _s2 = np.array([[1.0, -1.0]]), np.ones((1, 1)), np.zeros((1, 2)), np.ones(1)
checks.assert_close(
    elbo(_x, _phi, _m, _s2, np.ones(1), 1.0, 0.5),
    -np.log(np.pi) - 4.0,
    "elbo with x=[[1, -1]], K=1, q(mu) equal to the prior N(0, I), tau2 = 1/2",
    rtol=1e-8,
    hints=[
        (
            _lecture_elbo(_x, _phi, _m, _s2, 1.0),
            "pasted the lecture's version: its ELBO holds for D = 1, tau2 = 1 and equal weights only.",
        ),
        (-np.log(np.pi) - 2.0, "E||x - mu||^2 = ||x - m||^2 + D s2: the D s2 term is missing from the likelihood."),
        (-np.log(np.pi) - 3.0, "E||x - mu||^2 = ||x - m||^2 + D s2: the factor D is missing."),
    ],
)
# A random q for five points in the plane, K = 3: the closed form against a Monte Carlo average of
# log p(x, c, mu) - log q(c, mu) over 20,000 samples of q (TFP distributions; their standard error is about 0.1,
# and the check allows 5 of them).
_rng = np.random.default_rng(43)
_x, _phi = _rng.normal(0, 2, size=(5, 2)), _rng.dirichlet(np.ones(3), size=5)
_m, _s2, _w, _sigma2, _tau2 = _rng.normal(0, 2, size=(3, 2)), _rng.uniform(0.3, 1.5, size=3), [0.5, 0.3, 0.2], 4.0, 0.6
_q_mu = _tfd.Independent(_tfd.Normal(_m, np.sqrt(_s2)[:, None] * np.ones(2)), 2)
_q_c = _tfd.Independent(_tfd.Categorical(probs=_phi), 1)
_mu, _c = _q_mu.sample(20_000, seed=(4, 3)), _q_c.sample(20_000, seed=(4, 4))
_log_p = (
    _tfd.Independent(_tfd.Normal(np.zeros((3, 2)), np.sqrt(_sigma2)), 2).log_prob(_mu)
    + _tfd.Independent(_tfd.Categorical(probs=np.tile(_w, (5, 1))), 1).log_prob(_c)
    + _tfd.Independent(_tfd.Normal(_tf.gather(_mu, _c, batch_dims=1), np.sqrt(_tau2)), 2).log_prob(_x)
)
_values = (_log_p - _q_mu.log_prob(_mu) - _q_c.log_prob(_c)).numpy()
checks.assert_within_se(
    elbo(_x, _phi, _m, _s2, np.array(_w), _sigma2, _tau2),
    _values.mean(),
    _values.std() / np.sqrt(len(_values)),
    "elbo of a random q (n = 5, K = 3, D = 2) against Monte Carlo of E_q[log p(x, c, mu) - log q(c, mu)]",
    hints=[
        (
            _lecture_elbo(_x, _phi, _m, _s2, _sigma2),
            "pasted the lecture's version: its ELBO holds for D = 1, tau2 = 1 and equal weights only.",
        )
    ],
)


### BEGIN HIDDEN TESTS
def _ref_elbo_terms(x, phi, m, s2, w, sigma2, tau2):
    """The five terms, from TFP: E_q log N(a; b, v I) = -(cross-entropy of N(m, s2 I) relative to N(., v I))."""
    d = x.shape[1]
    q_mu = _tfd.MultivariateNormalDiag(m, np.sqrt(s2)[:, None] * np.ones(d))
    prior = _tfd.MultivariateNormalDiag(np.zeros(d), np.sqrt(sigma2) * np.ones(d))
    q_mu_ik = _tfd.MultivariateNormalDiag(m[None], np.sqrt(s2)[None, :, None] * np.ones(d))
    lik_ik = _tfd.MultivariateNormalDiag(x[:, None, :], np.sqrt(tau2) * np.ones(d))
    return {
        "prior_mu": -float(np.sum(q_mu.cross_entropy(prior))),
        "prior_c": float(np.sum(phi * np.log(w))),
        "lik": float(np.sum(phi * -q_mu_ik.cross_entropy(lik_ik).numpy())),
        "entropy_c": float(-np.sum(phi * np.log(np.where(phi > 0, phi, 1.0)))),
        "entropy_mu": float(np.sum(q_mu.entropy())),
    }


def _elbo_hints(x, phi, m, s2, w, sigma2, tau2):
    t = _ref_elbo_terms(x, phi, m, s2, w, sigma2, tau2)
    total, (n, d), K = sum(t.values()), x.shape, len(w)
    return total, [
        (
            _lecture_elbo(x, phi, m, s2, sigma2),
            "pasted the lecture's version: its ELBO holds for D = 1, tau2 = 1 and equal weights only.",
        ),
        (total - t["prior_c"] - n * np.log(K), "the weights are ignored: E[log p(c_i)] = sum_k phi_ik log pi_k."),
        (total - t["entropy_c"], "the entropy of q(c), -sum_ik phi_ik log phi_ik, is missing."),
        (total - 2 * t["entropy_c"], "the entropy of q(c) has the wrong sign: the ELBO adds the entropies."),
        (total - t["entropy_mu"], "the entropy of q(mu), sum_k D/2 log(2 pi e s2_k), is missing."),
        (total - 2 * t["entropy_mu"], "the entropy of q(mu) has the wrong sign: the ELBO adds the entropies."),
        (total - t["entropy_mu"] * (d - 1) / d, "the entropy of q(mu) lacks its factor D: D/2 log(2 pi e s2_k)."),
        (
            total + (d - 1) * np.sum(s2) / (2 * sigma2),
            "in E[log p(mu_k)], E||mu_k||^2 = D s2_k + ||m_k||^2: the factor D is missing.",
        ),
        (
            total + (d - 1) * np.sum(phi * s2) / (2 * tau2),
            "in the likelihood term, E||x_i - mu_k||^2 = ||x_i - m_k||^2 + D s2_k: the factor D is missing.",
        ),
        (
            total + 0.5 * (d - 1) * (K * np.log(2 * np.pi * sigma2) + n * np.log(2 * np.pi * tau2)),
            "the normalising constants of N(., v I_D) are -D/2 log(2 pi v): the factor D is missing.",
        ),
        (
            total + 0.5 * d * n * np.log(tau2),
            "the likelihood's normalising constant is -D/2 log(2 pi tau2): tau2 is missing from it.",
        ),
    ]


_rng = np.random.default_rng(42)
_x, _phi = _rng.normal(0, 3, size=(40, 2)), _rng.dirichlet(np.ones(3), size=40)
_m, _s2, _w = _rng.normal(0, 2, size=(3, 2)), _rng.uniform(0.1, 2.0, size=3), _rng.dirichlet(2 * np.ones(3))
_expected, _hints = _elbo_hints(_x, _phi, _m, _s2, _w, 6.0, 1.8)
checks.assert_close(
    elbo(_x, _phi, _m, _s2, _w, 6.0, 1.8),
    _expected,
    "elbo on a random q (n = 40, K = 3, D = 2, tau2 = 1.8)",
    rtol=1e-8,
    hints=_hints,
)
# Hard assignments: phi holds zeros (0 log 0 = 0), K = 4, D = 3.
_phi = np.eye(4)[_rng.integers(0, 4, size=25)]
_x, _m, _s2 = _rng.normal(0, 3, size=(25, 3)), _rng.normal(0, 2, size=(4, 3)), _rng.uniform(0.1, 2.0, size=4)
_w = np.array([0.1, 0.2, 0.3, 0.4])
_expected, _hints = _elbo_hints(_x, _phi, _m, _s2, _w, 2.5, 0.7)
checks.assert_close(
    elbo(_x, _phi, _m, _s2, _w, 2.5, 0.7),
    _expected,
    "elbo with one-hot phi in D = 3 (phi log phi must count as 0 where phi = 0)",
    rtol=1e-8,
    hints=_hints,
)
checks.assert_true(
    np.ndim(checks.as_array(elbo(_x, _phi, _m, _s2, _w, 2.5, 0.7), "elbo")) == 0,
    "elbo should return one number (a float), not an array per point or per cluster.",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: can the ELBO go down? (1 point)
#
# You now have both updates and the ELBO. One CAVI iteration sets $\varphi$ to its optimum given $q(\mu)$, then
# $q(\mu)$ to its optimum given $\varphi$. The cell after your answer runs 30 such iterations on 300 points in the
# plane (three clusters, weights $0.5, 0.3, 0.2$, $\tau^2 = 0.5$) from a poor start (all three centres inside one
# cluster) and records the ELBO after every half-step. **Before running it**, predict which of these you will see:
#
# - (a) the ELBO sometimes goes down, when an update overshoots;
# - (b) the ELBO may go down in the first iterations, while $\varphi$ is far from its optimum, and then only goes up;
# - (c) the ELBO never goes down (up to rounding).
#
# Put the letter in `predicted_elbo_decrease`. (From such a start CAVI may also end in a poor local optimum, two
# centres sharing one cluster: that is a different matter, lecture 04 section 9.)

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
weights_demo, tau2_demo, sigma2_demo = np.array([0.5, 0.3, 0.2]), 0.5, 25.0
centres_demo = np.array([[-6.0, 0.0], [0.0, 4.0], [5.0, -3.0]])
labels_demo = rng_demo.choice(3, size=300, p=weights_demo)
x_demo = centres_demo[labels_demo] + np.sqrt(tau2_demo) * rng_demo.normal(size=(300, 2))
m_demo, s2_demo = centres_demo[2] + np.array([[-0.5, 0.0], [0.0, 0.0], [0.5, 0.0]]), np.ones(3)
phi_demo = np.tile(weights_demo, (300, 1))
half_steps = [elbo(x_demo, phi_demo, m_demo, s2_demo, weights_demo, sigma2_demo, tau2_demo)]  # start, then each
for _ in range(30):
    phi_demo = update_assignments(x_demo, m_demo, s2_demo, weights_demo, tau2_demo)
    half_steps.append(elbo(x_demo, phi_demo, m_demo, s2_demo, weights_demo, sigma2_demo, tau2_demo))
    m_demo, s2_demo = update_means(x_demo, phi_demo, sigma2_demo, tau2_demo)
    half_steps.append(elbo(x_demo, phi_demo, m_demo, s2_demo, weights_demo, sigma2_demo, tau2_demo))
changes = np.diff(half_steps)
print(f"ELBO {half_steps[0]:.2f} at the start, {half_steps[-1]:.4f} after 30 iterations")
print("m =", np.round(np.asarray(m_demo), 3).tolist())
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
# 1. `rng = np.random.default_rng(seed)`; start from `m` = $K$ distinct data points (rows of `x`) chosen by
#    `x[rng.choice(n, K, replace=False)]`, `s2` = ones, and every row of `phi` equal to the weights (the prior
#    of $c_i$). The history starts with the ELBO of this starting point.
# 2. One iteration = update `phi` (Exercise 1), then update `m, s2` (Exercise 2), then append the ELBO.
# 3. Stop after `max_iter` iterations, or as soon as an iteration improved the ELBO by less than `tol` (an
#    absolute change, in nats).
#
# The number of clusters is `K = len(weights)`. Call your functions from Exercises 1–3. (While this exercise is
# graded, the tests run your `cavi` with reference versions of those three functions, so that a mistake there does
# not cost you twice.) The ELBO must never decrease: if it does, an update or the ELBO is wrong.


# %% solution cavi
def cavi(x, weights, sigma2, tau2, max_iter=100, tol=1e-8, seed=0):
    """Coordinate ascent VI for this Bayesian GMM.

    x: data (n, D), with at least K = len(weights) distinct rows; weights: mixing proportions (K,); sigma2, tau2:
    prior and observation variances; max_iter: most iterations; tol: stop as soon as an iteration improves the ELBO
    by less than tol (nats); seed: seeds the start, m = x[rng.choice(n, K, replace=False)], s2 = 1, phi = weights.
    Returns: (phi, m, s2, elbo_history) with phi (n, K), m (K, D) and s2 (K,) after the last iteration, and
    elbo_history a 1-D array: the ELBO at the start, then after each iteration (length iterations + 1).
    Work in float64: the ELBO history is compared to about 9 significant digits.
    """
    ### BEGIN SOLUTION
    x, weights = np.asarray(x, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    centres = x[rng.choice(len(x), len(weights), replace=False)]
    variances, resp = np.ones(len(weights)), np.tile(weights, (len(x), 1))
    trace = [elbo(x, resp, centres, variances, weights, sigma2, tau2)]
    while len(trace) <= max_iter:
        resp = update_assignments(x, centres, variances, weights, tau2)
        centres, variances = update_means(x, resp, sigma2, tau2)
        trace.append(elbo(x, resp, centres, variances, weights, sigma2, tau2))
        if trace[-1] - trace[-2] < tol:
            break
    return resp, centres, variances, np.array(trace)
    ### END SOLUTION


# %% test cavi points=4
### BEGIN HIDDEN TESTS
# While grading, cavi runs with reference versions of the three functions of Exercises 1-3, so that
# this test depends on cavi alone. The student's versions are restored at the end of the cell.
def _ref_update_assignments(x, m, s2, weights, tau2):
    _xs, _ms, _vs = (np.asarray(v, dtype=np.float64) for v in (x, m, s2))
    _sq = np.sum((_xs[:, None, :] - _ms[None]) ** 2, axis=2) + _xs.shape[1] * _vs
    _scores = np.log(np.asarray(weights, dtype=np.float64)) - _sq / (2 * tau2)
    z = np.exp(_scores - _scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _ref_update_means(x, phi, sigma2, tau2):
    _xs, _resp = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    _prec = _resp.sum(axis=0) / tau2 + 1 / sigma2
    return (_resp.T @ _xs) / (tau2 * _prec[:, None]), 1 / _prec


def _ref_elbo(x, phi, m, s2, weights, sigma2, tau2):
    _xs, _resp, _ms, _vs = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2))
    _d = _xs.shape[1]
    _total = np.sum(-_d * np.log(2 * np.pi * sigma2) / 2 - (_d * _vs + np.sum(_ms**2, axis=1)) / (2 * sigma2))
    _total += np.sum(_resp * np.log(np.asarray(weights, dtype=np.float64)))
    _sq = np.sum((_xs[:, None, :] - _ms[None]) ** 2, axis=2) + _d * _vs
    _total += np.sum(_resp * (-_d * np.log(2 * np.pi * tau2) / 2 - _sq / (2 * tau2)))
    _total -= np.sum(np.where(_resp > 0, _resp * np.log(np.where(_resp > 0, _resp, 1.0)), 0.0))
    return float(_total + np.sum(_d * np.log(2 * np.pi * np.e * _vs) / 2))


_student_functions = {name: globals().get(name) for name in ("update_assignments", "update_means", "elbo")}
globals().update(update_assignments=_ref_update_assignments, update_means=_ref_update_means, elbo=_ref_elbo)
### END HIDDEN TESTS


def _run_cavi(x, weights, sigma2, tau2, **kwargs):
    result = cavi(x, weights, sigma2, tau2, **kwargs)
    checks.assert_true(
        isinstance(result, (tuple, list)) and len(result) == 4,
        f"cavi should return (phi, m, s2, elbo_history); got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        + ".",
    )
    phi, m, s2, history = (checks.as_array(v, name) for v, name in zip(result, ("phi", "m", "s2", "elbo_history")))
    n, D, K = len(x), np.shape(x)[1], len(weights)
    checks.assert_true(
        phi.shape == (n, K) and m.shape == (K, D) and s2.shape == (K,) and history.ndim == 1,
        f"cavi returned shapes phi {phi.shape}, m {m.shape}, s2 {s2.shape}, history {history.shape}; "
        f"expected ({n}, {K}), ({K}, {D}), ({K},) and a 1-D history.",
    )
    steps = np.diff(history)
    if not np.all(steps >= -1e-9 * np.abs(history[:-1])):
        checks.assert_true(
            False,
            f"the ELBO decreased during CAVI (smallest step {steps.min():.3g}); each CAVI step "
            "maximises the ELBO over one block, so it can never go down: check the updates and the ELBO.",
        )
    return phi, m, s2, history


# Two clusters in the plane at (-5, -5) and (5, 5), 30 and 10 points, weights (3/4, 1/4), tau2 = 1/2, sigma2 = 25.
_rng = np.random.default_rng(4)
_x = np.concatenate([_rng.normal(-5.0, np.sqrt(0.5), size=(30, 2)), _rng.normal(5.0, np.sqrt(0.5), size=(10, 2))])
_phi, _m, _s2, _history = _run_cavi(_x, np.array([0.75, 0.25]), 25.0, 0.5)
_expected = np.stack([_x[:30].sum(axis=0) / 0.5 / (1 / 25 + 30 / 0.5), _x[30:].sum(axis=0) / 0.5 / (1 / 25 + 10 / 0.5)])
checks.assert_close(
    _m[np.argsort(_m[:, 0])], _expected, "the means m found by cavi on two clusters at (-5, -5) and (5, 5)", atol=0.05
)
checks.assert_true(
    len(_history) < 101,
    f"cavi ran {len(_history) - 1} iterations on easy data: does it stop when the ELBO improves by less than tol?",
)
### BEGIN HIDDEN TESTS
try:
    _w = np.array([0.75, 0.25])
    checks.assert_close(
        _history[-1],
        _ref_elbo(_x, _phi, _m, _s2, _w, 25.0, 0.5),
        "the last entry of elbo_history vs the ELBO of the returned (phi, m, s2)",
        rtol=1e-9,
    )
    # Three clusters in the plane, unequal weights: the best of three seeds recovers the means; every run is
    # monotone and stops at a fixed point.
    _rng = np.random.default_rng(44)
    _true = np.array([[-7.0, 1.0], [0.0, -4.0], [6.0, 3.0]])
    _w = np.array([0.5, 0.3, 0.2])
    _x = _true[_rng.choice(3, size=150, p=_w)] + np.sqrt(0.8) * _rng.normal(size=(150, 2))
    _runs = [_run_cavi(_x, _w, 30.0, 0.8, seed=_seed) for _seed in range(3)]
    for _phi, _m, _s2, _history in _runs:
        checks.assert_close(
            _history[-1],
            _ref_elbo(_x, _phi, _m, _s2, _w, 30.0, 0.8),
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
        _m_again, _s2_again = _ref_update_means(_x, _phi, 30.0, 0.8)
        checks.assert_close(
            np.concatenate([_m.ravel(), _s2]),
            np.concatenate([_m_again.ravel(), _s2_again]),
            "the returned (m, s2) vs the centre update applied to the returned phi (one iteration ends "
            "with the centre update)",
            rtol=1e-8,
        )
        checks.assert_close(
            _phi,
            _ref_update_assignments(_x, _m, _s2, _w, 0.8),
            "the returned phi vs the assignment update applied to the returned (m, s2) (at convergence they agree)",
            atol=1e-3,
        )
    _best = max(_runs, key=lambda run: run[3][-1])
    checks.assert_close(
        _best[1][np.argsort(_best[1][:, 0])],
        _true,
        "the means (sorted by their first coordinate) of the best of 3 seeds on clusters at (-7, 1), (0, -4), (6, 3)",
        atol=0.4,
        hints=[
            (
                np.tile(_x.mean(axis=0) * 150 / 0.8 / (150 / 0.8 + 1 / 30), (3, 1)),
                "all components are identical: did you update the centres first, from phi = the weights? "
                "Update phi first, from the starting m.",
            )
        ],
    )
    # The history includes the starting point: one iteration gives two entries.
    _phi, _m, _s2, _history = _run_cavi(_x, _w, 30.0, 0.8, max_iter=1, seed=1)
    checks.assert_true(
        len(_history) == 2,
        f"cavi(max_iter=1) returned a history of length {len(_history)}; expected 2: the ELBO at the "
        "start, then after the single iteration.",
    )
    _m0 = _x[np.random.default_rng(1).choice(150, 3, replace=False)]
    checks.assert_close(
        _history[0],
        _ref_elbo(_x, np.tile(_w, (150, 1)), _m0, np.ones(3), _w, 30.0, 0.8),
        "elbo_history[0]: the ELBO of the start (m = x[rng.choice(n, K, replace=False)], s2 = 1, phi = the weights)",
        rtol=1e-9,
        hints=[
            (
                _ref_elbo(_x, np.full((150, 3), 1 / 3), _m0, np.ones(3), _w, 30.0, 0.8),
                "phi starts at 1/K (the lecture's start): here every row of phi starts at the weights.",
            )
        ],
    )
    # With tol = -inf the ELBO never stalls: exactly max_iter iterations.
    _history = _run_cavi(_x, _w, 30.0, 0.8, max_iter=4, tol=-np.inf, seed=2)[3]
    checks.assert_true(
        len(_history) == 5, f"cavi(max_iter=4, tol=-inf) returned {len(_history)} ELBO values; expected 5."
    )
    # The same seed gives the same run.
    _again = _run_cavi(_x, _w, 30.0, 0.8, seed=2)[3]
    _repeat = _run_cavi(_x, _w, 30.0, 0.8, seed=2)[3]
    checks.assert_true(
        _again.shape == _repeat.shape and np.allclose(_again, _repeat, rtol=0, atol=0),
        "two calls of cavi with the same seed gave different runs: draw the start with np.random.default_rng(seed).",
    )
    # Distinct starting points. Two centres that start equal get equal responsibilities, hence equal updates,
    # forever: they never separate (bit for bit). From distinct points they stay apart (closest pair over
    # seeds 0-9 on these six points: 7.0e-4 apart; drawn with replacement, 6 of the 10 seeds end
    # exactly equal).
    _x = np.array([[-5.2, 0.1], [-4.7, -0.2], [0.3, 4.0], [-0.2, 4.4], [4.6, 0.0], [5.3, 0.3]])
    for _seed in range(10):
        _m = _run_cavi(_x, np.full(3, 1 / 3), 25.0, 1.0, seed=_seed)[1]
        _closest = np.min(np.linalg.norm(_m[:, None] - _m[None, :], axis=2)[np.triu_indices(3, 1)])
        checks.assert_true(
            _closest > 1e-12,
            f"cavi(x with 6 points, K=3, seed={_seed}) ended with two identical centres, m = {_m.tolist()}: they "
            "started at the same data point (drawn with replacement?) or were updated first from rows of phi that "
            "are all equal, and two identical components get identical updates, so they never separate. Start from "
            "K distinct points, x[rng.choice(n, K, replace=False)], and update phi first.",
        )
finally:
    globals().update(_student_functions)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 5 — the exact evidence by enumeration (3 points)
#
# The evidence sums over all $K^n$ assignments, each weighted by its prior $P(c) = \prod_i \pi_{c_i}$:
#
# $$\log p(x) = \log \sum_{c \in \{1..K\}^n} \exp\Big\{\sum_{i=1}^n \log \pi_{c_i} + \log p(x \mid c)\Big\}.$$
#
# Lecture 04 (section 2) found $p(x \mid c) = \mathcal N(x;\ 0,\ I_n + \sigma^2 A_c A_c^\top)$ for its 1-D model
# ($A_c$ the $n \times K$ one-hot matrix of $c$). Work out $p(x \mid c)$ here: given $c$, write the $d$-th coordinates
# of all points, the column $x_{:,d} \in \mathbb R^n$, as $A_c \mu_{:,d} + \varepsilon_{:,d}$. What is its covariance,
# and how do the $D$ columns combine? (They share the assignment $c$, so the sum over $c$ stays outside any
# product over $d$.) With unequal weights, $\log P(c)$ differs from one assignment to the next, so it goes *inside*
# the log-sum-exp; only for $\pi_k = 1/K$ is it the lecture's constant $-n \log K$.
#
# Enumerate with `itertools.product(range(K), repeat=n)`, compute each log-density (with `np.linalg.slogdet`
# and `np.linalg.solve`, or the closed form for one cluster's block), and add the terms with **log-sum-exp**: for
# data far from 0 every single density underflows to 0.


# %% solution exact_log_evidence
def exact_log_evidence(x, weights, sigma2, tau2):
    """log p(x) of this Bayesian GMM, by summing over all K**n assignments (small n only).

    x: data (n, D); weights: mixing proportions pi, shape (K,), positive and summing to one;
    sigma2, tau2: prior and observation variances.
    Returns: log p(x), a float, computed in float64 (tested to about 8 significant digits).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    log_pi = np.log(np.asarray(weights, dtype=np.float64))
    n, dims = x.shape
    labels = np.array(list(itertools.product(range(len(log_pi)), repeat=n)))  # (K**n, n)
    onehot = labels[:, :, None] == np.arange(len(log_pi))  # (K**n, n, K)
    sizes = onehot.sum(axis=1)  # points per cluster, (K**n, K)
    totals = np.einsum("aik,id->akd", onehot, x)  # sum of each cluster's points, (K**n, K, D)
    # One cluster's block of each column is N(0, tau2 I + sigma2 1 1^T): its determinant is
    # tau2^{n_k} (1 + n_k sigma2 / tau2) and its inverse follows from Sherman-Morrison.
    log_det = n * math.log(tau2) + np.log1p(sizes * sigma2 / tau2).sum(axis=1)
    shrink = sigma2 / (tau2 * (tau2 + sizes * sigma2))
    quadratic = np.sum(x * x) / tau2 - np.sum(shrink * np.einsum("akd,akd->ak", totals, totals), axis=1)
    log_terms = log_pi[labels].sum(axis=1) - 0.5 * (n * dims * math.log(2 * math.pi) + dims * log_det + quadratic)
    peak = log_terms.max()
    return float(peak + math.log(np.exp(log_terms - peak).sum()))
    ### END SOLUTION


# %% test exact_log_evidence points=3
def _log_mvn(x, cov):
    """log N(x; 0, cov) for a vector x."""
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (len(x) * np.log(2 * np.pi) + logdet + x @ np.linalg.solve(cov, x))


# One point in the plane: whatever the weights (they sum to one), x ~ N(0, (sigma2 + tau2) I).
_w = np.array([0.3, 0.7])
_x = np.array([[0.5, -1.0]])
checks.assert_close(
    exact_log_evidence(_x, _w, 2.0, 0.5),
    _log_mvn(_x[0], 2.5 * np.eye(2)),
    "exact_log_evidence(x=[[0.5, -1]], weights=[0.3, 0.7], sigma2=2, tau2=1/2)",
    rtol=1e-8,
    hints=[
        (
            _log_mvn(_x[0], 3.0 * np.eye(2)),
            "the observation variance is tau2, not 1: pasted the lecture's version (unit variance)?",
        ),
        (_log_mvn(_x[0], 2.5 * np.eye(2)) + np.log(2), "the prior of the assignments, log pi_{c_i}, is missing."),
        (_log_mvn(_x[0], 2.0 * np.eye(2)), "the covariance is tau2 I + sigma2 A A^T: the tau2 part is missing."),
    ],
)
# Two points in the plane, K = 2, weights (0.3, 0.7): the same cluster (probability 0.3^2 + 0.7^2 = 0.58; each
# column is then N(0, tau2 I + sigma2 1 1^T)) or different clusters (probability 0.42; independent points).
_x = np.array([[1.0, -0.5], [0.8, 0.2]])
_same = sum(_log_mvn(_x[:, d], 0.5 * np.eye(2) + 2.0) for d in range(2))
_different = sum(_log_mvn(_x[i], 2.5 * np.eye(2)) for i in range(2))
_expected = np.logaddexp(np.log(0.58) + _same, np.log(0.42) + _different)
_columns = sum(np.logaddexp(np.log(0.58) + _log_mvn(_x[:, d], 0.5 * np.eye(2) + 2.0),
                            np.log(0.42) + sum(_log_mvn(_x[i, d : d + 1], 2.5 * np.eye(1)) for i in range(2)))
               for d in range(2))  # fmt: skip
checks.assert_close(
    exact_log_evidence(_x, _w, 2.0, 0.5),
    _expected,
    "exact_log_evidence(x=[[1, -0.5], [0.8, 0.2]], weights=[0.3, 0.7], sigma2=2, tau2=1/2)",
    rtol=1e-8,
    hints=[
        (
            _columns,
            "that sums over the assignments separately for each coordinate d: the D coordinates of a point share "
            "its assignment c_i, so sum over c once, of the product over d.",
        ),
        (
            np.logaddexp(_same, _different) - np.log(2),
            "the weights are ignored: that is the lecture's uniform prior, -n log K for every assignment.",
        ),
        (np.logaddexp(np.log(2) + _same, np.log(2) + _different), "the prior of the assignments is missing."),
        (_different, "that treats the points as independent: points in one cluster share mu_k."),
        (
            0.58 * _same + 0.42 * _different,
            "that is the prior average of log p(x | c): average the probabilities (log-sum-exp), not their logs.",
        ),
    ],
)
### BEGIN HIDDEN TESTS
import itertools

import tensorflow_probability as tfp


def _ref_log_evidence(x, w, sigma2, tau2, prior=True, per_column=False):
    """Enumeration with TFP: x flattened (column by column) is N(0, I_D kron (tau2 I + sigma2 A A^T)) given c."""
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    cs = np.array(list(itertools.product(range(len(w)), repeat=n)))
    A = np.eye(len(w))[cs]
    cov = tau2 * np.eye(n) + sigma2 * A @ np.swapaxes(A, 1, 2)  # (K**n, n, n), one column's covariance
    mvn = tfp.distributions.MultivariateNormalTriL(np.zeros(n), np.linalg.cholesky(cov))
    per_d = np.stack([mvn.log_prob(x[:, j]).numpy() for j in range(d)], axis=1)  # (K**n, D)
    log_prior = np.log(w)[cs].sum(axis=1) if prior else np.zeros(len(cs))
    if per_column:
        return float(sum(_lse(log_prior + per_d[:, j]) for j in range(d)))
    return _lse(log_prior + per_d.sum(axis=1))


def _lse(terms):
    return float(terms.max() + np.log(np.sum(np.exp(terms - terms.max()))))


def _evidence_hints(x, w, sigma2, tau2):
    K = len(w)
    return [
        (
            _ref_log_evidence(x, np.full(K, 1 / K), sigma2, 1.0),
            "pasted the lecture's version: uniform weights and unit observation variance.",
        ),
        (_ref_log_evidence(x, w, sigma2, 1.0), "the observation variance is tau2, not 1."),
        (
            _ref_log_evidence(x, w, sigma2, tau2, per_column=True),
            "that sums over the assignments separately for each coordinate d: the D coordinates of a point share "
            "its assignment, so sum over c once, of the product over d.",
        ),
        (
            _ref_log_evidence(x, np.full(K, 1 / K), sigma2, tau2),
            "the weights are ignored: that is the lecture's uniform prior, -n log K for every assignment.",
        ),
        (_ref_log_evidence(x, w, sigma2, tau2, prior=False), "the prior of the assignments is missing."),
    ]


_rng = np.random.default_rng(45)
_x = np.array([[-4.0, 1.0], [-3.5, 1.2], [0.2, -3.0], [4.1, 2.0], [4.4, 2.5], [-0.3, -3.3]])
_x = _x + 0.1 * _rng.normal(size=_x.shape)
_w = _rng.dirichlet(2 * np.ones(3))
checks.assert_close(
    exact_log_evidence(_x, _w, 9.0, 0.6),
    _ref_log_evidence(_x, _w, 9.0, 0.6),
    f"exact_log_evidence on 6 points in the plane, weights {np.round(_w, 3)}, sigma2 = 9, tau2 = 0.6",
    rtol=1e-8,
    hints=_evidence_hints(_x, _w, 9.0, 0.6),
)
_x3 = _rng.normal(0, 2, size=(4, 3))
checks.assert_close(
    exact_log_evidence(_x3, [0.35, 0.65], 4.0, 1.5),
    _ref_log_evidence(_x3, np.array([0.35, 0.65]), 4.0, 1.5),
    "exact_log_evidence on 4 points in D = 3, weights [0.35, 0.65], sigma2 = 4, tau2 = 1.5",
    rtol=1e-8,
    hints=_evidence_hints(_x3, np.array([0.35, 0.65]), 4.0, 1.5),
)
checks.assert_close(
    exact_log_evidence(_x[:5].tolist(), [1.0], 4.0, 0.8),
    _ref_log_evidence(_x[:5], np.array([1.0]), 4.0, 0.8),
    "exact_log_evidence with K = 1 (weights [1.0], Python lists)",
    rtol=1e-8,
)
# Data far from the prior: every p(x | c) underflows to 0 in float64, log p(x) does not.
_x = 60.0 + _rng.normal(size=(5, 2))
_w = np.array([0.2, 0.8])
checks.assert_close(
    exact_log_evidence(_x, _w, 1.0, 0.5),
    _ref_log_evidence(_x, _w, 1.0, 0.5),
    "exact_log_evidence on 5 points near (60, 60) (weights [0.2, 0.8], sigma2 = 1, tau2 = 1/2): each p(x | c) "
    "underflows, so add the terms in log space (log-sum-exp)",
    rtol=1e-8,
    hints=[(-np.inf, "log(sum(exp(...))) underflowed to log(0) = -inf: subtract the largest term first.")],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Putting it together (not graded), after a prediction (1 point)
#
# The cell after your answer runs your `cavi` (the best of ten seeds) and your `exact_log_evidence` on eight points
# in the plane: four well-separated pairs, near the corners of a square, with $K = 4$, $\sigma^2 = 36$,
# $\tau^2 = 0.5$ and **unequal** weights $\pi = (0.4, 0.3, 0.2, 0.1)$. For lecture 04's model (1-D, equal weights)
# and six points in three pairs, the best ELBO was about 1.80 nats below $\log p(x)$. **Before running it**,
# predict: how many nats below $\log p(x)$ will the best ELBO be here? Put a number in `predicted_gap_k4`.

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
# The best ELBO of the solution's cavi (ten seeds) is 3.1781 nats below log p(x) (5 of the 10 seeds reach it; the others
# stop in poor optima 138-183 nats lower); log 4! = 3.1781. With cluster sizes 3, 1, 2, 2 the best gap is 2.13.
checks.assert_true(
    abs(predicted_gap_k4 - math.log(24)) <= 0.3,
    f"you predicted {predicted_gap_k4:.3g} nats; the gap is about log 4! = log 24 = 3.18 nats, as with equal weights. "
    "Relabelling the 4 clusters (mu and the labels of c together) multiplies the prior of a labelled assignment by "
    "prod_k pi_{new k}^{n_k} / pi_k^{n_k}, which is 1 when every cluster holds the same number of points (two here). "
    "So the posterior still has 4! = 24 equal, well-separated modes; a mean-field q sits in one of them, and "
    "KL(q || p(. | x)) is about log 24. Unequal weights alone do not break the symmetry; unequal cluster sizes would.",
)
### END HIDDEN TESTS

# %%
# The experiment (not graded): your cavi and exact_log_evidence.
corners = np.array([[-6.0, -6.0], [-6.0, 6.0], [6.0, -6.0], [6.0, 6.0]])
x_pairs = np.repeat(corners, 2, axis=0) + np.tile([[0.3, -0.2], [-0.3, 0.2]], (4, 1))
weights_pairs = np.array([0.4, 0.3, 0.2, 0.1])
best_elbo = max(cavi(x_pairs, weights_pairs, 36.0, 0.5, seed=s)[3][-1] for s in range(10))
log_evidence = exact_log_evidence(x_pairs, weights_pairs, 36.0, 0.5)
print(
    f"K = 4, n = 8: best ELBO {best_elbo:.4f}   log p(x) {log_evidence:.4f}   gap {log_evidence - best_elbo:.4f}   "
    f"log 4! = {math.log(24):.4f}"
)

# %% [markdown]
# ## Exercise 6 — explain the gap (2 points, graded by hand)
#
# With unequal weights $(0.4, 0.3, 0.2, 0.1)$ the best ELBO is still about $\log 4! \approx 3.18$ nats below
# $\log p(x)$. In two to four sentences: why can the mean-field ELBO not reach $\log p(x)$ here, where does
# $\log 4!$ come from, and why do the unequal weights not change it? What would change if one cluster had three
# points and another only one?

# %% written gap points=2
# ### BEGIN SOLUTION
# The gap is KL(q ‖ p(μ, c | x)). Relabelling the clusters (permuting μ together with the labels of c) leaves the
# likelihood and the prior of μ unchanged and multiplies the prior of the assignments by ∏_k π_{σ(k)}^{n_k} / π_k^{n_k},
# which is 1 here because every cluster has two points. So the posterior has 4! = 24 equal, well-separated modes,
# each with about 1/24 of the mass; a mean-field q covers only one, where log q − log p(·|x) ≈ log 24. With clusters of
# three and one points, the relabellings no longer have equal prior mass: the modes differ, the best one (the largest
# weight on the largest cluster) holds more than 1/24 of the mass, so the best gap is smaller than log 4!, and
# restarts matter, since CAVI from a poor start can end in a lighter mode.
#
# *For graders:* one point for "label switching: K! modes, q covers one, each with 1/K! of the mass, so the gap is
# log K!"; one for "the prior of a relabelled assignment is unchanged because the clusters have equal sizes" or the
# correct consequence for unequal sizes (unequal modes, a smaller best gap, restarts matter).
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - Your model's CAVI updates: $\varphi_{ik} \propto \pi_k \exp\{(x_i^\top m_k - \tfrac12(D s_k^2 +
#   \lVert m_k\rVert^2))/\tau^2\}$ (normalised with log-sum-exp), and Gaussian centres with precision
#   $1/\sigma^2 + \sum_i\varphi_{ik}/\tau^2$ and mean $s_k^2 \sum_i \varphi_{ik} x_i / \tau^2$.
# - Its ELBO is closed form, entropies included, and never decreases: the best test of an implementation.
# - Stop when the ELBO stalls; keep the starting value in the history; restart from several seeds.
# - The exact evidence costs $K^n$ terms, with $\log P(c) = \sum_i \log \pi_{c_i}$ inside the log-sum-exp and the
#   $D$ coordinates sharing each assignment; for well-separated clusters of equal size the ELBO stays about
#   $\log K!$ below it, whatever the weights.
