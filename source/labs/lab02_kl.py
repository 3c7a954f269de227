# %% [markdown]
# # Lab 02 — The KL divergence
#
# Implement the Kullback–Leibler divergence for discrete and Gaussian distributions, estimate it by
# Monte Carlo, and see forward and reverse KL pull a Gaussian towards different answers.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - compute KL divergences of categorical and Gaussian distributions, stably and in batches;
# - handle the conventions $0 \log 0 = 0$ and $\mathrm{KL} = \infty$ outside the support;
# - estimate a KL by Monte Carlo and give its standard error;
# - fit a Gaussian by minimising forward or reverse KL, and explain why they differ.

# %% setup

# %% locked imports
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

# %% [markdown]
# ## Exercise 1 — KL between categorical distributions (3 points)
#
# For distributions $p, q$ over $K$ outcomes,
# $\mathrm{KL}(p\,\|\,q) = \sum_{k} p_k \log \frac{p_k}{q_k}$ (natural logarithm, so the unit is nats),
# with the conventions $0 \log \frac{0}{q} = 0$ and $p \log \frac{p}{0} = +\infty$ for $p > 0$.
# Your function receives arrays whose **last axis** holds the probabilities; all other axes are a
# batch, and you return one KL per batch entry.
#
# In Exercises 1–3 you implement the formula yourself: while the tests call your function, TFP's own KL
# (`tfd.kl_divergence`, or a distribution's `.kl_divergence` method) raises an error. The tests still use
# TFP as their reference, so you can use it outside your function to check your answers.


# %% solution kl_categorical
def kl_categorical(p, q):
    """KL(p || q) in nats for categorical distributions along the last axis.

    p, q: array-likes of shape (..., K) whose last axis sums to one.
    Returns: an array of shape (...): 0 * log 0 counts as 0; +inf where q_k = 0 < p_k.
    """
    ### BEGIN SOLUTION
    p = tf.convert_to_tensor(p, tf.float64)
    q = tf.convert_to_tensor(q, tf.float64)
    # log(p/q) is only needed where p > 0; elsewhere the term is 0 by convention.
    safe_p = tf.where(p > 0, p, tf.ones_like(p))
    terms = tf.where(p > 0, p * (tf.math.log(safe_p) - tf.math.log(q)), tf.zeros_like(p))
    return tf.reduce_sum(terms, axis=-1)
    ### END SOLUTION


# %% test kl_categorical points=3
_kl_categorical = checks.without_tfp_kl(kl_categorical, "kl_categorical")  # the formula, not tfd.kl_divergence

checks.assert_close(
    _kl_categorical([0.5, 0.5], [0.9, 0.1]),
    0.5108256237659907,
    "kl_categorical([.5, .5], [.9, .1])",
    hints=[
        (0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5), "that is KL(q || p): are the arguments swapped?"),
        (0.5108256237659907 / np.log(2), "that is the KL in bits: use the natural logarithm."),
    ],
)
checks.assert_close(
    _kl_categorical([1.0, 0.0], [0.5, 0.5]), np.log(2), "kl_categorical([1, 0], [.5, .5]) (0 log 0 = 0)"
)
checks.assert_true(
    np.isposinf(checks.as_array(_kl_categorical([0.5, 0.5], [1.0, 0.0]), "kl_categorical")),
    "kl_categorical([.5, .5], [1, 0]) should be +inf: p puts mass where q has none.",
)
checks.assert_close(
    _kl_categorical([[0.5, 0.5], [0.2, 0.8]], [[0.5, 0.5], [0.2, 0.8]]),
    [0.0, 0.0],
    "kl_categorical of a batch of two identical pairs",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_rng = np.random.default_rng(1)
_p = _rng.dirichlet(np.ones(5), size=(4, 3))
_q = _rng.dirichlet(np.ones(5), size=(4, 3))
_kl = lambda a, b: tfp.distributions.kl_divergence(
    tfp.distributions.Categorical(probs=a), tfp.distributions.Categorical(probs=b)
).numpy()
_expected = _kl(_p, _q)
checks.assert_close(
    _kl_categorical(_p, _q),
    _expected,
    "kl_categorical on a random batch of shape (4, 3, 5)",
    hints=[
        (_kl(_q, _p), "that is KL(q || p): are the arguments swapped?"),
        (_expected / np.log(2), "that is the KL in bits: use the natural logarithm (np.log)."),
    ],
)
_p[0, 0] = [0.0, 0.25, 0.25, 0.5, 0.0]
_expected = np.sum(np.where(_p > 0, _p * np.log(np.where(_p > 0, _p, 1) / _q), 0.0), axis=-1)
checks.assert_close(_kl_categorical(_p, _q), _expected, "kl_categorical where some p_k = 0 (0 log 0 = 0)")
checks.assert_close(
    _kl_categorical(_p.astype(np.float32), _q.astype(np.float32)),
    _expected,
    "kl_categorical with float32 inputs",
    rtol=1e-4,
)
checks.assert_close(
    _kl_categorical([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]),
    _kl(np.array([0.1, 0.2, 0.7]), np.array([0.3, 0.3, 0.4])),
    "kl_categorical with Python lists",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — KL between univariate Gaussians (3 points)
#
# Derive (or look up in the lecture) the closed form of
# $\mathrm{KL}\big(\mathcal N(\mu_0, \sigma_0^2)\,\|\,\mathcal N(\mu_1, \sigma_1^2)\big)$ and implement it.
# The arguments are **standard deviations** $\sigma$, not variances, and any of them may be arrays:
# the result broadcasts like NumPy arithmetic. As in Exercise 1, `tfd.kl_divergence` is not allowed.


# %% solution kl_gaussian
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    """KL(N(mu0, sigma0^2) || N(mu1, sigma1^2)) in nats, elementwise with broadcasting.

    mu0, sigma0, mu1, sigma1: numbers or array-likes (sigma = standard deviation > 0).
    Returns: an array of the broadcast shape of the inputs.
    """
    ### BEGIN SOLUTION
    mu0, sigma0, mu1, sigma1 = (tf.convert_to_tensor(v, tf.float64) for v in (mu0, sigma0, mu1, sigma1))
    return tf.math.log(sigma1 / sigma0) + (sigma0**2 + (mu0 - mu1) ** 2) / (2 * sigma1**2) - 0.5
    ### END SOLUTION


# %% test kl_gaussian points=3
_kl_gaussian = checks.without_tfp_kl(kl_gaussian, "kl_gaussian")  # the formula, not tfd.kl_divergence

checks.assert_close(
    _kl_gaussian(0.0, 1.0, 0.0, 1.0),
    0.0,
    "kl_gaussian(0, 1, 0, 1) (identical Gaussians)",
    hints=[
        (-0.5, "off by exactly -1/2: is the +sigma0^2/(2 sigma1^2) term missing?"),
        (0.5, "off by exactly 1/2: is the -1/2 (the -k/2 term for k = 1) missing?"),
    ],
)
checks.assert_close(_kl_gaussian(1.0, 1.0, 0.0, 1.0), 0.5, "kl_gaussian(1, 1, 0, 1) (shifted mean)")
checks.assert_close(
    _kl_gaussian(0.0, 2.0, 0.0, 1.0),
    0.8068528194400546,
    "kl_gaussian(0, 2, 0, 1) (wider p)",
    hints=[
        (np.log(2.0) + 1 / 8 - 0.5, "that is KL(N(0,1) || N(0,4)): are the arguments swapped?"),
        (
            0.5 * np.log(1 / 2) + 2 / 2 - 0.5,
            "that is what you get reading the sigmas as variances: they are standard deviations.",
        ),
        (
            np.log(1 / 4) + 4 / 2 - 0.5,
            "the log term is ln(sigma1 / sigma0), or 1/2 ln(sigma1^2 / sigma0^2): is a factor 1/2 missing?",
        ),
    ],
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_rng = np.random.default_rng(2)
_mu0, _mu1 = _rng.normal(size=(3, 1)), _rng.normal(size=(1, 4))
_s0, _s1 = np.exp(_rng.normal(size=(3, 1))), np.exp(_rng.normal(size=(1, 4)))
_kl = lambda m0, s0, m1, s1: tfp.distributions.kl_divergence(
    tfp.distributions.Normal(m0, s0), tfp.distributions.Normal(m1, s1)
).numpy()
_expected = _kl(_mu0, _s0, _mu1, _s1)
checks.assert_close(
    _kl_gaussian(_mu0, _s0, _mu1, _s1),
    _expected,
    "kl_gaussian on inputs of shapes (3,1) and (1,4)",
    hints=[
        (_expected + 0.5, "off by exactly 1/2: is the -1/2 term missing?"),
        (_kl(_mu1, _s1, _mu0, _s0), "that is KL(q || p): are the arguments swapped?"),
        (
            _kl(_mu0, np.sqrt(_s0), _mu1, np.sqrt(_s1)),
            "you read the sigmas as variances: they are standard deviations.",
        ),
        (2 * _expected, "twice the right value: is the factor 1/2 missing?"),
    ],
)
checks.assert_true(
    np.all(checks.as_array(_kl_gaussian(_mu0, _s0, _mu1, _s1), "kl_gaussian") >= -1e-12),
    "kl_gaussian returned a negative value: a KL divergence is never negative.",
)
checks.assert_close(_kl_gaussian(3.0, 0.5, -1.0, 2.5), _kl(3.0, 0.5, -1.0, 2.5), "kl_gaussian(3, 0.5, -1, 2.5)")
checks.assert_close(
    _kl_gaussian([0.0, 1.0], 1.0, 0.0, [1.0, 2.0]),
    _kl(np.array([0.0, 1.0]), 1.0, 0.0, np.array([1.0, 2.0])),
    "kl_gaussian with lists and numbers mixed",
)
### END HIDDEN TESTS

# %% [markdown]
# ### Predict, then run — a mean twice as far away (1 point)
#
# For $p = \mathcal N(0, 1)$ and $q = \mathcal N(\mu, 1)$, $\mathrm{KL}(p\,\|\,q) = 0.5$ nats at $\mu = 1$.
# By what factor does it grow when $\mu$ doubles to 2? Reason from the closed form of Exercise 2, and put
# your answer in `predicted_kl_growth` **before** you run the experiment below it.

# %% solution predicted_kl_growth
# Your prediction, before running the cell below: a number (the factor), as `predicted_kl_growth = ...`.
### BEGIN SOLUTION
predicted_kl_growth = 4
### END SOLUTION

# %% test predicted_kl_growth points=1
checks.assert_true(
    isinstance(predicted_kl_growth, (int, float, np.integer, np.floating))
    and not isinstance(predicted_kl_growth, bool),
    f"predicted_kl_growth should be a number (the factor); got {type(predicted_kl_growth).__name__}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    abs(float(predicted_kl_growth) - 4.0) < 1e-6,
    f"You predicted a factor of {predicted_kl_growth}; it is 4. With equal variances the log term and the "
    "variance term of the closed form cancel, leaving (mu0 - mu1)^2 / (2 sigma1^2): the KL grows as the "
    "square of the distance between the means, not in proportion to it, so doubling mu multiplies it by "
    "2^2 = 4 (from 0.5 to 2 nats).",
)
### END HIDDEN TESTS

# %%
# The experiment: KL(N(0, 1) || N(mu, 1)) by TFP's closed form, as mu doubles and doubles again.
for mu_demo in (1.0, 2.0, 4.0):
    kl_demo = float(tfd.kl_divergence(tfd.Normal(0.0, 1.0), tfd.Normal(mu_demo, 1.0)))
    print(f"mu = {mu_demo:g}: KL(p || q) = {kl_demo:.3f} nats")

# %% [markdown]
# ### Predict, then run — swapping p and q (1 point)
#
# The KL is not symmetric in general. Now take $p = \mathcal N(0, 2^2)$ and $q = \mathcal N(3, 2^2)$, two
# Gaussians with the **same** variance. Which is true?
# (a) $\mathrm{KL}(p\,\|\,q) > \mathrm{KL}(q\,\|\,p)$; (b) $\mathrm{KL}(p\,\|\,q) = \mathrm{KL}(q\,\|\,p)$;
# (c) $\mathrm{KL}(p\,\|\,q) < \mathrm{KL}(q\,\|\,p)$.
# Put the letter in `predicted_swap` **before** you run the experiment below it.

# %% solution predicted_swap
# Your prediction, before running the cell below: "a", "b" or "c", as `predicted_swap = "..."`.
### BEGIN SOLUTION
predicted_swap = "b"
### END SOLUTION

# %% test predicted_swap points=1
_letter = str(predicted_swap).strip().strip("().").lower()
checks.assert_true(
    isinstance(predicted_swap, str) and _letter in ("a", "b", "c"),
    f'predicted_swap should be one of the letters "a", "b" or "c"; got {predicted_swap!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    _letter == "b",
    f"You predicted ({_letter}); the answer is (b): both are 9/8 nats. The KL is not symmetric in general, "
    "but with equal variances the log term and the variance term of the closed form cancel, and what is "
    "left, (mu0 - mu1)^2 / (2 sigma^2), does not change when p and q swap.",
)
### END HIDDEN TESTS

# %%
# The experiment: both directions for this pair, and for a pair whose variances differ.
pairs_demo = {"same variance": ((0.0, 2.0), (3.0, 2.0)), "different variances": ((0.0, 1.0), (3.0, 2.0))}
for label_demo, ((m0_demo, s0_demo), (m1_demo, s1_demo)) in pairs_demo.items():
    p_demo, q_demo = tfd.Normal(m0_demo, s0_demo), tfd.Normal(m1_demo, s1_demo)
    forward_demo, reverse_demo = tfd.kl_divergence(p_demo, q_demo), tfd.kl_divergence(q_demo, p_demo)
    print(f"{label_demo}: KL(p || q) = {float(forward_demo):.4f}, KL(q || p) = {float(reverse_demo):.4f} nats")

# %% [markdown]
# ## Exercise 3 — KL between multivariate Gaussians (4 points)
#
# For $k$-dimensional Gaussians,
#
# $$\mathrm{KL}\big(\mathcal N(\mu_0,\Sigma_0)\,\|\,\mathcal N(\mu_1,\Sigma_1)\big)
# = \tfrac12\Big[\operatorname{tr}(\Sigma_1^{-1}\Sigma_0) + (\mu_1-\mu_0)^\top\Sigma_1^{-1}(\mu_1-\mu_0) - k
# + \ln\frac{\det\Sigma_1}{\det\Sigma_0}\Big].$$
#
# Implement it for a **batch** of pairs, and make it **numerically stable**: in high dimension
# $\det\Sigma$ underflows to 0 or overflows to $\infty$ even when the KL is a modest number. Work with
# Cholesky factors $\Sigma = LL^\top$ (`tf.linalg.cholesky`): $\ln\det\Sigma = 2\sum_i \ln L_{ii}$, and
# solve triangular systems (`tf.linalg.triangular_solve`) instead of inverting matrices. Here too the
# formula is yours: `tfd.kl_divergence` is not allowed.


# %% solution kl_mvn
def kl_mvn(mu0, cov0, mu1, cov1):
    """KL(N(mu0, cov0) || N(mu1, cov1)) in nats for a batch of pairs of k-dimensional Gaussians.

    mu0, mu1: array-likes of shape (..., k); cov0, cov1: shape (..., k, k), symmetric positive definite.
    Returns: an array of shape (...). Work in float64 and avoid determinants and explicit inverses.
    """
    ### BEGIN SOLUTION
    mu0, cov0, mu1, cov1 = (tf.convert_to_tensor(v, tf.float64) for v in (mu0, cov0, mu1, cov1))
    chol0, chol1 = tf.linalg.cholesky(cov0), tf.linalg.cholesky(cov1)
    k = tf.cast(tf.shape(mu0)[-1], tf.float64)
    # tr(S1^-1 S0) = ||L1^-1 L0||_F^2 and the Mahalanobis term = ||L1^-1 (mu1 - mu0)||^2.
    trace = tf.reduce_sum(tf.linalg.triangular_solve(chol1, chol0, lower=True) ** 2, axis=[-2, -1])
    diff = tf.linalg.triangular_solve(chol1, (mu1 - mu0)[..., None], lower=True)
    mahalanobis = tf.reduce_sum(diff**2, axis=[-2, -1])
    log_det_ratio = 2.0 * tf.reduce_sum(
        tf.math.log(tf.linalg.diag_part(chol1)) - tf.math.log(tf.linalg.diag_part(chol0)), axis=-1
    )
    return 0.5 * (trace + mahalanobis - k + log_det_ratio)
    ### END SOLUTION


# %% test kl_mvn points=4
_kl_mvn = checks.without_tfp_kl(kl_mvn, "kl_mvn")  # the formula, not tfd.kl_divergence

_I = np.eye(2)
checks.assert_close(
    _kl_mvn(np.zeros(2), _I, np.zeros(2), _I),
    0.0,
    "kl_mvn of two identical standard Gaussians",
    hints=[(1.0, "off by exactly k/2 = 1: is the -k term missing?")],
)
checks.assert_close(
    _kl_mvn(np.array([1.0, 0.0]), _I, np.zeros(2), _I), 0.5, "kl_mvn with means 1 apart, identity covariances"
)
checks.assert_close(
    _kl_mvn(np.zeros(2), 2 * _I, np.zeros(2), _I),
    0.3068528194400547,
    "kl_mvn(0, 2I, 0, I) in 2-D",
    hints=[
        (0.5 * (4 - 2 + np.log(4)), "off by ln(4): is the log-determinant ratio upside down (det S0 / det S1)?"),
        (0.5 * (1 - 2 + np.log(4)), "that is KL(N(0, I) || N(0, 2I)): are the arguments swapped?"),
        (0.5 * (1 - 2 + np.log(1 / 4)), "your KL is negative, which a KL never is: did you invert S0 instead of S1?"),
    ],
)
checks.assert_close(
    _kl_mvn(np.zeros((3, 2)), np.stack([_I] * 3), np.ones((3, 2)), np.stack([_I] * 3)),
    [1.0, 1.0, 1.0],
    "kl_mvn on a batch of 3 pairs (one KL per pair)",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp


def _random_cov(rng, batch, k, scale=1.0):
    a = rng.normal(size=batch + (k, k))
    return scale * (a @ np.swapaxes(a, -1, -2) / k + 0.5 * np.eye(k))


def _kl(m0, c0, m1, c1):
    d = tfp.distributions
    return d.kl_divergence(
        d.MultivariateNormalTriL(m0, np.linalg.cholesky(c0)), d.MultivariateNormalTriL(m1, np.linalg.cholesky(c1))
    ).numpy()


_rng = np.random.default_rng(3)
_m0, _m1 = _rng.normal(size=(5, 4)), _rng.normal(size=(5, 4))
_c0, _c1 = _random_cov(_rng, (5,), 4), _random_cov(_rng, (5,), 4)
_expected = _kl(_m0, _c0, _m1, _c1)
_logdet = np.linalg.slogdet(_c1)[1] - np.linalg.slogdet(_c0)[1]
checks.assert_close(
    _kl_mvn(_m0, _c0, _m1, _c1),
    _expected,
    "kl_mvn on a random batch of 5 pairs in 4-D",
    hints=[
        (_expected + 2.0, "off by exactly k/2 = 2: is the -k term missing?"),
        (_expected - _logdet, "off by the log-determinant ratio: is it upside down, ln(det S0 / det S1)?"),
        (_kl(_m1, _c1, _m0, _c0), "that is KL(q || p): are the arguments swapped?"),
    ],
)
# High dimension with small variances: det(S) underflows to 0 in float64, the KL does not.
_k = 200
_c0, _c1 = _random_cov(_rng, (), _k, 1e-3), _random_cov(_rng, (), _k, 1e-3)
_m0, _m1 = 0.01 * _rng.normal(size=_k), 0.01 * _rng.normal(size=_k)
checks.assert_close(
    _kl_mvn(_m0, _c0, _m1, _c1),
    _kl(_m0, _c0, _m1, _c1),
    "kl_mvn in 200-D with variances about 1e-3 (det underflows to 0 here: use Cholesky log-determinants)",
    rtol=1e-6,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — A Monte Carlo estimate of the KL (3 points)
#
# When no closed form exists, $\mathrm{KL}(p\,\|\,q) = \mathbb E_{x\sim p}[\log p(x) - \log q(x)]$ can be
# estimated from $n$ samples of $p$. Return the estimate **and its standard error** (the standard
# deviation of the $n$ log-ratios divided by $\sqrt n$), which says how far off the estimate may be.
# `p` and `q` are TFP distributions: use their `sample(n, seed=seed)` and `log_prob` methods.


# %% solution kl_monte_carlo
def kl_monte_carlo(p, q, n, seed=0):
    """Monte Carlo estimate of KL(p || q) from n samples of p.

    p, q: TFP distributions with the same event shape; n: number of samples; seed: an int.
    Returns: (estimate, standard_error), two floats.
    """
    ### BEGIN SOLUTION
    x = p.sample(n, seed=seed)
    log_ratio = p.log_prob(x) - q.log_prob(x)
    estimate = tf.reduce_mean(log_ratio)
    standard_error = tf.math.reduce_std(log_ratio) / np.sqrt(n)
    return float(estimate), float(standard_error)
    ### END SOLUTION


# %% test kl_monte_carlo points=3
import tensorflow_probability as tfp

_d = tfp.distributions

_result = kl_monte_carlo(_d.Normal(0.0, 1.0), _d.Normal(1.0, 2.0), 20_000, seed=7)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"kl_monte_carlo should return (estimate, standard_error); got {type(_result).__name__}.",
)
_est, _se = _result
# KL(N(0,1) || N(1,2)) = ln 2 + (1 + 1) / 8 - 1/2. The log-ratio is -3x^2/8 - x/4 + const with
# x ~ N(0, 1), so its standard deviation is sqrt(9/64 * 2 + 1/16) = sqrt(22/64) exactly.
_exact = np.log(2.0) + 2.0 / 8.0 - 0.5
_sd = np.sqrt(22 / 64)
checks.assert_in_range(
    _se,
    0.9 * _sd / np.sqrt(20_000),
    1.1 * _sd / np.sqrt(20_000),
    "the standard error for n = 20000",
    hint="It is std(log p(x) - log q(x)) / sqrt(n): not the std itself, and not divided by n.",
)
checks.assert_within_se(
    _est,
    _exact,
    _sd / np.sqrt(20_000),
    "the KL estimate for N(0,1) vs N(1,2)",
    hints=[
        (-_exact, "the sign is flipped: average log p(x) - log q(x), not log q - log p."),
        (20_000 * _exact, "that is a sum over samples: average instead."),
    ],
)
### BEGIN HIDDEN TESTS
# Samples must come from p: with samples from q the estimate is -KL(q || p).
# The true standard deviation of the log-ratio, measured independently of the answer on ONE draw of
# 200000 samples of p (TFP's integer seeds are stateful: a second sample(..., seed=1) call draws other
# samples). Here it is 8.26 (exactly sqrt(68.5) = 8.28); over seeds 10-19 the reference estimate lay
# within 1.6 of these standard errors of the exact KL and its standard error within 1 % of this one.
_p, _q = _d.Normal(0.0, 1.0), _d.Normal(2.0, 0.5)
_exact = float(_d.kl_divergence(_p, _q))
_x = _p.sample(200_000, seed=1)
_sd = float(np.std(_p.log_prob(_x) - _q.log_prob(_x)))
_est, _se = kl_monte_carlo(_p, _q, 50_000, seed=11)
checks.assert_within_se(
    _est,
    _exact,
    _sd / np.sqrt(50_000),
    "the KL estimate for N(0,1) vs N(2,0.5)",
    hints=[(-float(_d.kl_divergence(_q, _p)), "that is -KL(q || p): draw the samples from p, not q.")],
)
checks.assert_in_range(
    _se,
    0.8 * _sd / np.sqrt(50_000),
    1.2 * _sd / np.sqrt(50_000),
    "the standard error for N(0,1) vs N(2,0.5), n = 50000",
)
# Multivariate: log_prob returns one value per sample, the estimate is still one number.
_p = _d.MultivariateNormalDiag([0.0, 0.0, 0.0], [1.0, 2.0, 0.5])
_q = _d.MultivariateNormalDiag([1.0, -1.0, 0.0], [1.5, 1.0, 1.0])
_exact = float(_d.kl_divergence(_p, _q))
# The tolerance comes from the true standard error (measured as above: sd 3.02, exactly 3.022), never
# from the answer's own, so that a huge returned standard error cannot make any estimate pass.
_x = _p.sample(200_000, seed=2)
_true_se = float(np.std(_p.log_prob(_x) - _q.log_prob(_x))) / np.sqrt(50_000)
_est, _se = kl_monte_carlo(_p, _q, 50_000, seed=12)
checks.assert_within_se(_est, _exact, _true_se, "the KL estimate for two 3-D Gaussians")
checks.assert_in_range(
    _se,
    0.8 * _true_se,
    1.2 * _true_se,
    "the standard error for two 3-D Gaussians, n = 50000",
    hint="It is the std of the n log-ratios log p(x) - log q(x), one per sample, divided by sqrt(n).",
)
### END HIDDEN TESTS

# %% [markdown]
# ### Predict, then run — four times as many samples (1 point)
#
# An estimate from $n = 1000$ samples has standard error $s$. About what multiple of $s$ is the standard
# error with $n = 4000$ samples (of the same $p$ and $q$)? Put the number in `predicted_se_ratio`
# **before** you run the experiment below it.

# %% solution predicted_se_ratio
# Your prediction, before running the cell below: a number (the new standard error divided by s),
# as `predicted_se_ratio = ...`.
### BEGIN SOLUTION
predicted_se_ratio = 0.5
### END SOLUTION

# %% test predicted_se_ratio points=1
checks.assert_true(
    isinstance(predicted_se_ratio, (int, float, np.integer, np.floating)) and not isinstance(predicted_se_ratio, bool),
    f"predicted_se_ratio should be a number (a multiple of s); got {type(predicted_se_ratio).__name__}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    abs(float(predicted_se_ratio) - 0.5) < 0.01,
    f"You predicted {predicted_se_ratio} s; it is about s / 2. The standard error is std / sqrt(n), and the "
    "std of the log-ratios does not depend on n, so four times the samples give sqrt(4) = 2 times less "
    "error, not 4 times less: each extra digit of accuracy costs a hundred times the samples.",
)
### END HIDDEN TESTS

# %%
# The experiment: the standard error of the estimate for N(0, 1) vs N(1, 2^2), over 5 repetitions each.
rng_demo = np.random.default_rng(config.seed() + 4)
p_demo, q_demo = tfd.Normal(0.0, 1.0), tfd.Normal(1.0, 2.0)
for n_demo in (1000, 4000):
    errors_demo = []
    for _ in range(5):
        x_demo = rng_demo.normal(size=n_demo).astype(np.float32)
        errors_demo.append(np.std(p_demo.log_prob(x_demo) - q_demo.log_prob(x_demo)) / np.sqrt(n_demo))
    print(f"n = {n_demo}: standard errors {np.round(errors_demo, 4)}, mean {np.mean(errors_demo):.4f}")

# %% [markdown]
# ## Exercise 5 — Forward and reverse KL (4 points)
#
# Fit a Gaussian $q = \mathcal N(m, s^2)$ to a one-dimensional distribution $p$ by gradient descent on
#
# - `"forward"`: $\mathrm{KL}(p\,\|\,q)$. Since $\mathbb E_p[\log p]$ does not depend on $q$, minimise
#   $-\mathbb E_{x\sim p}[\log q(x)]$, estimated with samples of $p$;
# - `"reverse"`: $\mathrm{KL}(q\,\|\,p) = \mathbb E_{z\sim q}[\log q(z) - \log p(z)]$, estimated with
#   **reparameterised** samples $z = m + s\,\epsilon$, $\epsilon \sim \mathcal N(0,1)$, so that gradients reach
#   $m$ and $s$.
#
# Suggested recipe: start from $m = 0$, $s = 1$; keep $s$ positive by optimising $\log s$; use
# `keras.optimizers.Adam(0.05)` for `steps` steps with `tf.GradientTape`, 256 samples a step.
# Any correct method passes the tests.


# %% solution fit_gaussian
def fit_gaussian(p, direction, steps=500, seed=0):
    """Fit N(m, s^2) to the 1-D TFP distribution p by minimising KL in the given direction.

    direction: "forward" for KL(p || q) or "reverse" for KL(q || p).
    Returns: (m, s), two floats, s the standard deviation.
    """
    ### BEGIN SOLUTION
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    m = tf.Variable(0.0, dtype=tf.float32)
    log_s = tf.Variable(0.0, dtype=tf.float32)
    optimizer = keras.optimizers.Adam(0.05)
    generator = tf.random.Generator.from_seed(seed)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            q = tfd.Normal(m, tf.exp(log_s))
            if direction == "forward":
                loss = -tf.reduce_mean(
                    q.log_prob(tf.cast(p.sample(256, seed=generator.uniform_full_int([2], tf.int32)), tf.float32))
                )
            else:
                z = m + tf.exp(log_s) * generator.normal([256])
                loss = tf.reduce_mean(q.log_prob(z) - tf.cast(p.log_prob(z), tf.float32))
        optimizer.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))

    for _ in range(steps):
        step()
    return float(m.numpy()), float(tf.exp(log_s).numpy())
    ### END SOLUTION


# %% test fit_gaussian points=4
import tensorflow_probability as tfp

_d = tfp.distributions

# A single Gaussian p: both directions must find it.
for _direction in ("forward", "reverse"):
    _fit = fit_gaussian(_d.Normal(1.5, 0.5), _direction)
    checks.assert_true(
        isinstance(_fit, (tuple, list)) and len(_fit) == 2,
        f"fit_gaussian should return (m, s); got {type(_fit).__name__}.",
    )
    checks.assert_close(
        _fit,
        [1.5, 0.5],
        f"fit_gaussian(N(1.5, 0.5^2), {_direction!r}) returns (m, s)"
        + (" (reverse: do gradients reach m and s through z = m + s * eps?)" if _direction == "reverse" else ""),
        rtol=0,
        atol=0.1,
        hints=[([1.5, 0.25], "s is the standard deviation: you returned the variance.")],
    )
### BEGIN HIDDEN TESTS
# A bimodal p: forward KL matches its moments (mode covering), reverse KL settles on one mode (mode seeking).
_p = _d.MixtureSameFamily(_d.Categorical(probs=[0.4, 0.6]), _d.Normal([-3.0, 2.5], [0.6, 0.8]))
_mean = 0.4 * -3.0 + 0.6 * 2.5
_std = np.sqrt(0.4 * (0.36 + 9.0) + 0.6 * (0.64 + 6.25) - _mean**2)
_forward = checks.as_array(fit_gaussian(_p, "forward", seed=3), "fit_gaussian")
_reverse = checks.as_array(fit_gaussian(_p, "reverse", seed=3), "fit_gaussian")
_is_mode = lambda fit: min(abs(fit[0] + 3.0) + abs(fit[1] - 0.6), abs(fit[0] - 2.5) + abs(fit[1] - 0.8)) < 0.3
checks.assert_true(
    not _is_mode(_forward),
    f"fit_gaussian(p, 'forward') returned {_forward}, which sits on one mode of p: "
    "that is what the reverse KL does. Are the directions swapped?",
)
checks.assert_close(
    _forward,
    [_mean, _std],
    "fit_gaussian(bimodal p, 'forward') should match p's mean and std (forward KL covers both modes)",
    rtol=0,
    atol=0.25,
    hints=[([_mean, _std**2], "s is the standard deviation: you returned the variance.")],
)
checks.assert_true(
    _is_mode(_reverse),
    f"fit_gaussian(bimodal p, 'reverse') returned (m, s) = {_reverse}; expected one mode of p: "
    "(-3, 0.6) or (2.5, 0.8), since reverse KL is mode seeking. If q hardly moved from its start, "
    "do gradients reach m and s through the samples (reparameterisation: z = m + s * eps)?",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 6 — Explain it (3 points, graded by hand)
#
# You fit a unimodal $q$ to a bimodal $p$. Which direction of the KL would you minimise if $q$ must put
# probability wherever $p$ does (for example, to propose samples for $p$)? In two to four sentences,
# explain why that direction spreads $q$ over both modes, while the other direction picks a single mode.
# Refer to what each direction penalises.

# %% written direction points=3
# ### BEGIN SOLUTION
# Minimise the forward KL, KL(p‖q). It averages log p(x)/q(x) over samples of **p**, and that ratio
# is huge wherever p has mass and q has almost none, so q must stretch over both modes. The reverse KL
# averages log q/p over samples of **q**: it only penalises q for putting mass where p has little, so
# covering one mode well and ignoring the other costs nothing, and q locks onto a single mode.
#
# *For graders:* full marks for the forward direction with a reason stated in terms of which
# distribution the expectation is under, or where the penalty becomes infinite (q ≈ 0 < p for forward:
# zero-avoiding; p ≈ 0 < q for reverse: zero-forcing). One point for the right direction alone.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - KL is a sum or an integral of $p \log \frac{p}{q}$: watch the support conventions and compute it in
#   log space, with Cholesky factors in many dimensions.
# - A Monte Carlo estimate is unbiased, and its standard error tells you how many samples you need.
# - Forward KL covers the modes of $p$; reverse KL, which variational inference minimises, seeks one.
