# %% [markdown]
# # Lab 02 — The KL divergence
#
# The lecture derived the KL divergence of two categorical distributions and of two Gaussians. Here you
# apply the same definition, $\mathrm{KL}(p\,\|\,q) = \mathbb E_{x\sim p}[\log p(x) - \log q(x)]$, to cases it
# did not show: binary images given by logits, the Laplace distribution, Gaussians given by precision
# matrices, and a Gaussian mixture that has no closed form at all. Then you fit a Gaussian by forward and
# by reverse KL and see them disagree.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - derive a closed-form KL for a new family by taking the expectation of the log-ratio under $p$;
# - use that a KL of independent parts is the sum of their KLs, and compute it stably from logits;
# - rewrite a formula for another parameterisation (precision instead of covariance) without inverting
#   or taking determinants;
# - estimate a KL that has no closed form by Monte Carlo, in the right direction, reproducibly, with its
#   standard error, using log-sum-exp for a mixture;
# - fit a Gaussian by minimising forward or reverse KL, and explain why they differ.

# %% setup

# %% locked imports
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

# %% [markdown]
# ## Exercise 1 — KL between two binary images given by logits (3 points)
#
# The decoders of units 05–06 describe a binary image $x \in \{0, 1\}^D$ by $D$ **independent** Bernoulli
# pixels, pixel $j$ being 1 with probability $\sigma(a_j) = 1/(1 + e^{-a_j})$, where $a_j$ is its *logit*.
# Take two such distributions, $p$ with logits $a$ and $q$ with logits $b$.
#
# 1. Show that, because both distributions factorise over the pixels, $\mathrm{KL}(p\,\|\,q)$ is the **sum**
#    of the $D$ one-pixel KLs (start from the definition: the log of a product is a sum of logs).
# 2. Write the one-pixel KL of $\mathrm{Bernoulli}(\sigma(a))$ from $\mathrm{Bernoulli}(\sigma(b))$. A pixel has
#    **two** outcomes, and both contribute.
# 3. Compute it **from the logits**. Decoders produce logits of $\pm 40$ and more; there $\sigma(a)$ rounds to
#    exactly 1 in float64, and $\log(1 - \sigma(a))$ becomes $\log 0$. Use
#    $\log \sigma(a) = -\operatorname{softplus}(-a)$ and $\log(1 - \sigma(a)) = -\operatorname{softplus}(a)$, with
#    $\operatorname{softplus}(t) = \log(1 + e^t)$ (`tf.math.softplus` or `np.logaddexp(0, t)`), which stay finite.
#
# In Exercises 1–3 the formula is yours: while the tests call your function, TFP's own KL
# (`tfd.kl_divergence`, or a distribution's `.kl_divergence` method) raises an error. The tests check your
# answer against an enumeration of all $2^D$ images or against TFP, computed outside your function.


# %% solution kl_bernoulli
def kl_bernoulli(logits_p, logits_q):
    """KL(p || q) in nats for two distributions of independent Bernoulli pixels, given by their logits.

    logits_p, logits_q: array-likes (float32 or float64) of the same shape (..., D); the last axis holds
        the D pixels of one image, all other axes are a batch. Logits may be as large as +-100.
    Returns: an array of shape (...), one KL per image (summed over its D pixels), finite for any finite
        logits; float32 arithmetic is accurate enough (the tests use rtol 1e-5, atol 1e-6 for float64 inputs).
    """
    ### BEGIN SOLUTION
    a = tf.convert_to_tensor(logits_p, tf.float64)
    b = tf.convert_to_tensor(logits_q, tf.float64)
    # log sigma(t) = -softplus(-t) and log(1 - sigma(t)) = -softplus(t): finite where sigma(t) rounds to 0 or 1.
    one = tf.sigmoid(a) * (tf.math.softplus(-b) - tf.math.softplus(-a))  # the pixel is 1
    zero = tf.sigmoid(-a) * (tf.math.softplus(b) - tf.math.softplus(a))  # the pixel is 0
    return tf.reduce_sum(one + zero, axis=-1)
    ### END SOLUTION


# %% test kl_bernoulli points=3
import itertools

_kl_bernoulli = checks.without_tfp_kl(kl_bernoulli, "kl_bernoulli")  # the formula, not tfd.kl_divergence

# One pixel: p = Bernoulli(0.5) (logit 0), q = Bernoulli(0.9) (logit ln 9).
_expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
checks.assert_close(
    _kl_bernoulli([0.0], [np.log(9.0)]),
    _expected,
    "kl_bernoulli([0], [ln 9]) (one pixel: p = Bernoulli(0.5), q = Bernoulli(0.9))",
    hints=[
        (0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5), "that is KL(q || p): are the arguments swapped?"),
        (0.5 * np.log(0.5 / 0.9), "that is only the term of x = 1: the pixel is 0 with probability 1 - p, too."),
        (_expected / np.log(2), "that is the KL in bits: use the natural logarithm."),
    ],
)


def _enumerated_kl(a, b):
    """KL(p || q) by summing p(x) log(p(x) / q(x)) over all 2^D binary images x (moderate logits only)."""
    images = np.array(list(itertools.product([0, 1], repeat=len(a))))
    p1, q1 = 1 / (1 + np.exp(-np.asarray(a))), 1 / (1 + np.exp(-np.asarray(b)))
    p_x = np.prod(np.where(images == 1, p1, 1 - p1), axis=1)
    q_x = np.prod(np.where(images == 1, q1, 1 - q1), axis=1)
    return np.sum(p_x * np.log(p_x / q_x))


_a, _b = np.array([1.0, -2.0, 0.5]), np.array([0.0, 1.0, -1.5])
_expected = _enumerated_kl(_a, _b)
checks.assert_close(
    _kl_bernoulli(_a, _b),
    _expected,
    "kl_bernoulli on one image of 3 pixels (against the sum over all 8 images)",
    hints=[(_expected / 3, "that is the mean over the pixels: the KL of independent pixels is their sum.")],
)
checks.assert_close(
    _kl_bernoulli([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]),
    [0.0, 0.0],
    "kl_bernoulli of a batch of two images, each with itself (one KL per image)",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_rng = np.random.default_rng(1)


def _kl(a, b):
    d = tfp.distributions
    a, b = tf.constant(a, tf.float64), tf.constant(b, tf.float64)
    return d.kl_divergence(d.Independent(d.Bernoulli(logits=a), 1), d.Independent(d.Bernoulli(logits=b), 1)).numpy()


_a, _b = 2.0 * _rng.normal(size=(4, 3, 6)), 2.0 * _rng.normal(size=(4, 3, 6))
_expected = _kl(_a, _b)
checks.assert_close(
    _kl_bernoulli(_a, _b),
    _expected,
    "kl_bernoulli on a random batch of shape (4, 3) of 6-pixel images",
    hints=[
        (_kl(_b, _a), "that is KL(q || p): are the arguments swapped?"),
        (_expected / 6, "that is the mean over the pixels: the KL of independent pixels is their sum."),
        (_expected / np.log(2), "that is the KL in bits: use the natural logarithm."),
    ],
)
_a, _b = _rng.normal(size=4), _rng.normal(size=4)
checks.assert_close(_kl_bernoulli(_a, _b), _enumerated_kl(_a, _b), "kl_bernoulli on a random 4-pixel image")
# Large logits, as a decoder produces: sigma(40) rounds to 1.0 in float64, so log(1 - sigma(40)) = log 0.
_a = np.array([[40.0], [-40.0], [100.0], [-100.0], [0.0], [30.0]])
_b = np.array([[-40.0], [40.0], [3.0], [-3.0], [100.0], [30.5]])
checks.assert_true(
    np.all(np.isfinite(checks.as_array(_kl_bernoulli(_a, _b), "kl_bernoulli"))),
    "kl_bernoulli returned inf or NaN for logits up to +-100: sigma(a) rounds to 0 or 1 there, so work with "
    "log sigma(a) = -softplus(-a) and log(1 - sigma(a)) = -softplus(a) instead of the log of a probability.",
)
checks.assert_close(_kl_bernoulli(_a, _b), _kl(_a, _b), "kl_bernoulli with logits up to +-100 (one pixel each)")
_a, _b = 2.0 * _rng.normal(size=(5, 8)), 2.0 * _rng.normal(size=(5, 8))
checks.assert_close(
    _kl_bernoulli(_a.astype(np.float32), _b.astype(np.float32)),
    _kl(_a.astype(np.float32).astype(np.float64), _b.astype(np.float32).astype(np.float64)),
    "kl_bernoulli with float32 inputs",
    rtol=1e-4,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — KL between two Laplace distributions (3 points)
#
# The Laplace distribution $\mathrm{Laplace}(\mu, b)$ has density $\frac{1}{2b}\exp\!\big(-|x - \mu|/b\big)$:
# a peak at $\mu$ and exponential tails, with **scale** $b > 0$ (its standard deviation is $b\sqrt 2$). The
# lecture derived the Gaussian closed form by taking the expectation of $\log p(x) - \log q(x)$ under $p$; do
# the same for $p = \mathrm{Laplace}(\mu_0, b_0)$ and $q = \mathrm{Laplace}(\mu_1, b_1)$. You will need
# $\mathbb E_p|x - \mu_0|$ and $\mathbb E_p|x - \mu_1|$; for the second, split the integral at $\mu_1$ (or write
# $x = \mu_0 + y$ with $|y|$ exponentially distributed with mean $b_0$, and consider where $\mu_1$ lies).
# Then implement your formula. Any argument may be an array: the result broadcasts like NumPy arithmetic.
# The test compares it with numerical integration of $p \log(p/q)$. As in Exercise 1, `tfd.kl_divergence`
# is not allowed.


# %% solution kl_laplace
def kl_laplace(mu0, b0, mu1, b1):
    """KL(Laplace(mu0, b0) || Laplace(mu1, b1)) in nats, elementwise with broadcasting.

    mu0, b0, mu1, b1: numbers or array-likes (float32 or float64); b0, b1 > 0 are scales, not standard
        deviations or variances.
    Returns: an array of the broadcast shape of the inputs (tests: rtol 1e-5, atol 1e-6).
    """
    ### BEGIN SOLUTION
    mu0, b0, mu1, b1 = (tf.convert_to_tensor(v, tf.float64) for v in (mu0, b0, mu1, b1))
    gap = tf.abs(mu0 - mu1)
    # log p - log q = log(b1 / b0) - |x - mu0| / b0 + |x - mu1| / b1, and under p:
    # E|x - mu0| = b0, E|x - mu1| = gap + b0 exp(-gap / b0) (the mass of p beyond mu1 folds back).
    return tf.math.log(b1 / b0) - 1.0 + (gap + b0 * tf.exp(-gap / b0)) / b1
    ### END SOLUTION


# %% test kl_laplace points=3
_kl_laplace = checks.without_tfp_kl(kl_laplace, "kl_laplace")  # the formula, not tfd.kl_divergence


def _gaussian_formula(m0, s0, m1, s1):
    return np.log(s1 / s0) + (s0**2 + (m0 - m1) ** 2) / (2 * s1**2) - 0.5


checks.assert_close(
    _kl_laplace(0.0, 1.0, 0.0, 1.0),
    0.0,
    "kl_laplace(0, 1, 0, 1) (identical distributions)",
    hints=[
        (1.0, "off by exactly 1: is the -1 missing (it is -E_p|x - mu0| / b0 = -1)?"),
        (-1.0, "negative, which a KL never is: E_p|x - mu1| is not |mu0 - mu1|, p has mass on both sides of mu1."),
    ],
)
checks.assert_close(
    _kl_laplace(0.0, 1.0, 0.0, 3.0),
    np.log(3.0) + 1 / 3 - 1,
    "kl_laplace(0, 1, 0, 3) (same centre, q three times as wide)",
    hints=[
        (np.log(1 / 3) + 3 - 1, "that is KL(q || p): are the arguments swapped?"),
        (_gaussian_formula(0.0, 1.0, 0.0, 3.0), "that is the Gaussian closed form: a Laplace is not a Gaussian."),
    ],
)
checks.assert_close(
    _kl_laplace(0.0, 1.0, 2.0, 1.0),
    2.0 + np.exp(-2.0) - 1,
    "kl_laplace(0, 1, 2, 1) (q shifted by 2)",
    hints=[
        (1.0, "E_p|x - mu1| is not |mu0 - mu1|: p has mass on both sides of mu1 (a term b0 exp(-|mu0 - mu1|/b0))."),
        (-2.0 + np.exp(2.0) - 1, "you used mu0 - mu1 with its sign: the formula needs |mu0 - mu1|."),
        (_gaussian_formula(0.0, 1.0, 2.0, 1.0), "that is the Gaussian closed form: a Laplace is not a Gaussian."),
    ],
)
### BEGIN HIDDEN TESTS


def _quadrature(m0, s0, m1, s1):
    """KL by the trapezoidal rule on a fine grid, one pair at a time (independent of any closed form)."""
    m0, s0, m1, s1 = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (m0, s0, m1, s1)))
    out = np.empty(m0.shape)
    for i in np.ndindex(m0.shape):
        x = np.linspace(min(m0[i], m1[i]) - 45 * s0[i], max(m0[i], m1[i]) + 45 * s0[i], 400_001)
        log_p = -np.abs(x - m0[i]) / s0[i] - np.log(2 * s0[i])
        log_q = -np.abs(x - m1[i]) / s1[i] - np.log(2 * s1[i])
        out[i] = np.trapezoid(np.exp(log_p) * (log_p - log_q), x)
    return out


def _formula_with(m0, s0, m1, s1, folded):
    gap = np.abs(m0 - m1)
    return np.log(s1 / s0) - 1 + (gap + folded(gap, s0, s1)) / s1


_rng = np.random.default_rng(2)
_mu0, _mu1 = 2 * _rng.normal(size=(3, 1)), 2 * _rng.normal(size=(1, 4))
_s0, _s1 = np.exp(_rng.normal(size=(3, 1))), np.exp(_rng.normal(size=(1, 4)))
_expected = _quadrature(_mu0, _s0, _mu1, _s1)
checks.assert_close(
    _kl_laplace(_mu0, _s0, _mu1, _s1),
    _expected,
    "kl_laplace on inputs of shapes (3,1) and (1,4) (against numerical integration)",
    hints=[
        (_quadrature(_mu1, _s1, _mu0, _s0), "that is KL(q || p): are the arguments swapped?"),
        (_gaussian_formula(_mu0, _s0, _mu1, _s1), "that is the Gaussian closed form: a Laplace is not a Gaussian."),
        (
            _formula_with(_mu0, _s0, _mu1, _s1, lambda g, s0, s1: s0 * np.exp(-g / s1)),
            "the folded-back term is b0 exp(-|mu0 - mu1| / b0): the exponent uses p's scale b0, not b1.",
        ),
        (
            _formula_with(_mu0, _s0, _mu1, _s1, lambda g, s0, s1: 0 * g),
            "E_p|x - mu1| is not |mu0 - mu1|: p has mass on both sides of mu1.",
        ),
    ],
)
checks.assert_true(
    np.all(checks.as_array(_kl_laplace(_mu0, _s0, _mu1, _s1), "kl_laplace") >= -1e-12),
    "kl_laplace returned a negative value: a KL divergence is never negative.",
)
checks.assert_close(
    _kl_laplace(-1.0, 0.3, 4.0, 2.5), _quadrature(-1.0, 0.3, 4.0, 2.5), "kl_laplace(-1, 0.3, 4, 2.5) (far apart)"
)
checks.assert_close(
    _kl_laplace([0.0, 1.0], 2.0, 0.5, [1.0, 0.5]),
    _quadrature(np.array([0.0, 1.0]), 2.0, 0.5, np.array([1.0, 0.5])),
    "kl_laplace with lists and numbers mixed",
)
checks.assert_close(
    _kl_laplace(np.float32(0.5), np.float32(1.5), np.float32(-0.25), np.float32(0.75)),
    _quadrature(0.5, 1.5, -0.25, 0.75),
    "kl_laplace with float32 inputs",
    rtol=1e-4,
)
### END HIDDEN TESTS

# %% [markdown]
# ### Predict, then run — a centre twice as far away (1 point)
#
# For two Gaussians with the same variance the KL grows as the *square* of the distance between the means:
# doubling the distance multiplies it by 4. Now take $p = \mathrm{Laplace}(0, 1)$ and $q = \mathrm{Laplace}(\mu, 1)$:
# at $\mu = 10$, $\mathrm{KL}(p\,\|\,q) \approx 9.00005$ nats. By about what factor does it grow when $\mu$ doubles
# to 20? Reason from your closed form of Exercise 2, and put your answer in `predicted_kl_growth` **before**
# you run the experiment below it.

# %% solution predicted_kl_growth
# Your prediction, before running the cell below: a number (the factor), as `predicted_kl_growth = ...`.
### BEGIN SOLUTION
predicted_kl_growth = 19 / 9
### END SOLUTION

# %% test predicted_kl_growth points=1
checks.assert_true(
    isinstance(predicted_kl_growth, (int, float, np.integer, np.floating))
    and not isinstance(predicted_kl_growth, bool),
    f"predicted_kl_growth should be a number (the factor); got {type(predicted_kl_growth).__name__}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    1.9 <= float(predicted_kl_growth) <= 2.3,
    f"You predicted a factor of {predicted_kl_growth}; it is about 2.1 (19 / 9.00005). With equal scales the "
    "closed form is |mu| / b + exp(-|mu| / b) - 1: far from the centre the exponential vanishes and the KL grows "
    "in proportion to the distance, (20 - 1) / (10 - 1), not as its square. Exponential tails penalise a "
    "shifted q linearly, Gaussian tails quadratically.",
)
### END HIDDEN TESTS

# %%
# The experiment: KL(Laplace(0, 1) || Laplace(mu, 1)) by TFP's closed form, next to the Gaussian pair.
for mu_demo in (5.0, 10.0, 20.0):
    laplace_demo = float(tfd.kl_divergence(tfd.Laplace(0.0, 1.0), tfd.Laplace(mu_demo, 1.0)))
    gaussian_demo = float(tfd.kl_divergence(tfd.Normal(0.0, 1.0), tfd.Normal(mu_demo, 1.0)))
    print(f"mu = {mu_demo:g}: Laplace KL = {laplace_demo:.5f} nats, Gaussian KL = {gaussian_demo:.1f} nats")

# %% [markdown]
# ### Predict, then run — swapping p and q (1 point)
#
# Take $p = \mathrm{Laplace}(0, 1)$ and $q = \mathrm{Laplace}(0, 3)$: the same centre, $q$ three times as wide.
# Which is true?
# (a) $\mathrm{KL}(p\,\|\,q) > \mathrm{KL}(q\,\|\,p)$; (b) $\mathrm{KL}(p\,\|\,q) = \mathrm{KL}(q\,\|\,p)$;
# (c) $\mathrm{KL}(p\,\|\,q) < \mathrm{KL}(q\,\|\,p)$.
# Put the letter in `predicted_swap` **before** you run the experiment below it.

# %% solution predicted_swap
# Your prediction, before running the cell below: "a", "b" or "c", as `predicted_swap = "..."`.
### BEGIN SOLUTION
predicted_swap = "c"
### END SOLUTION

# %% test predicted_swap points=1
_letter = str(predicted_swap).strip().strip("().").lower()
checks.assert_true(
    isinstance(predicted_swap, str) and _letter in ("a", "b", "c"),
    f'predicted_swap should be one of the letters "a", "b" or "c"; got {predicted_swap!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    _letter == "c",
    f"You predicted ({_letter}); the answer is (c): KL(p || q) = ln 3 + 1/3 - 1 = 0.43 nats, KL(q || p) = "
    "ln(1/3) + 3 - 1 = 0.90 nats. The same centre does not make the KL symmetric. KL(q || p) averages over the "
    "wide q, whose tails the narrow p finds very unlikely (the log-ratio grows like |x| (1 - 1/3)); KL(p || q) "
    "averages over the narrow p, which the wide q only spreads a little thin.",
)
### END HIDDEN TESTS

# %%
# The experiment: both directions for this pair, and for a pair of equal scales.
pairs_demo = {"scales 1 and 3": ((0.0, 1.0), (0.0, 3.0)), "equal scales": ((0.0, 2.0), (3.0, 2.0))}
for label_demo, ((m0_demo, b0_demo), (m1_demo, b1_demo)) in pairs_demo.items():
    p_demo, q_demo = tfd.Laplace(m0_demo, b0_demo), tfd.Laplace(m1_demo, b1_demo)
    forward_demo, reverse_demo = tfd.kl_divergence(p_demo, q_demo), tfd.kl_divergence(q_demo, p_demo)
    print(f"{label_demo}: KL(p || q) = {float(forward_demo):.4f}, KL(q || p) = {float(reverse_demo):.4f} nats")

# %% [markdown]
# ## Exercise 3 — KL between multivariate Gaussians given by precision matrices (4 points)
#
# Gaussian graphical models, Laplace approximations and Kalman filters describe a Gaussian by its
# **precision** matrix $\Lambda = \Sigma^{-1}$ rather than its covariance. Rewrite the lecture's closed form
# of $\mathrm{KL}\big(\mathcal N(\mu_0, \Lambda_0^{-1})\,\|\,\mathcal N(\mu_1, \Lambda_1^{-1})\big)$ in terms of
# $\Lambda_0$ and $\Lambda_1$: which matrix now appears in the trace and in the quadratic form, and which way up is the
# log-determinant ratio?
#
# Implement it for a **batch** of pairs, and make it **numerically stable**: in 200 dimensions with
# precisions of about $10^3$, $\det\Lambda \approx 10^{600}$ overflows to $\infty$ although the KL is a modest
# number. Do not invert a matrix and do not take a determinant: with Cholesky factors $\Lambda_i = L_iL_i^\top$
# (`tf.linalg.cholesky`), $\ln\det\Lambda_i = 2\sum_j \ln (L_i)_{jj}$, $\operatorname{tr}(A A^\top)$ is the sum of
# the squared entries of $A$, and `tf.linalg.triangular_solve` solves with a triangular factor. As before,
# `tfd.kl_divergence` is not allowed.


# %% solution kl_mvn
def kl_mvn(mu0, prec0, mu1, prec1):
    """KL(N(mu0, prec0^-1) || N(mu1, prec1^-1)) in nats for a batch of pairs of k-dimensional Gaussians.

    mu0, mu1: array-likes of shape (..., k); prec0, prec1: shape (..., k, k), symmetric positive definite
        PRECISION matrices (inverse covariances).
    Returns: an array of shape (...). Work in float64, without determinants or explicit inverses
        (tests: rtol 1e-5, and 1e-6 in 200 dimensions).
    """
    ### BEGIN SOLUTION
    mu0, prec0, mu1, prec1 = (tf.convert_to_tensor(v, tf.float64) for v in (mu0, prec0, mu1, prec1))
    chol0, chol1 = tf.linalg.cholesky(prec0), tf.linalg.cholesky(prec1)
    k = tf.cast(tf.shape(mu0)[-1], tf.float64)
    # Sigma0 = prec0^-1 = L0^-T L0^-1, so tr(prec1 Sigma0) = ||L0^-1 L1||_F^2.
    trace = tf.reduce_sum(tf.linalg.triangular_solve(chol0, chol1, lower=True) ** 2, axis=[-2, -1])
    # (mu1 - mu0)^T prec1 (mu1 - mu0) = ||L1^T (mu1 - mu0)||^2: q's precision measures the distance.
    shift = tf.linalg.matmul(chol1, (mu1 - mu0)[..., None], transpose_a=True)
    quadratic = tf.reduce_sum(shift**2, axis=[-2, -1])
    # ln det Sigma1 - ln det Sigma0 = ln det prec0 - ln det prec1.
    log_dets = 2.0 * tf.reduce_sum(
        tf.math.log(tf.linalg.diag_part(chol0)) - tf.math.log(tf.linalg.diag_part(chol1)), axis=-1
    )
    return 0.5 * (trace + quadratic - k + log_dets)
    ### END SOLUTION


# %% test kl_mvn points=4
_kl_mvn = checks.without_tfp_kl(kl_mvn, "kl_mvn")  # the formula, not tfd.kl_divergence


def _covariance_formula(m0, c0, m1, c1):
    """The lecture's closed form, given covariance matrices (a reference outside the answer)."""
    d = m1 - m0
    k = m0.shape[-1]
    trace = np.trace(np.linalg.solve(c1, c0), axis1=-2, axis2=-1)
    quadratic = np.sum(d * np.linalg.solve(c1, d[..., None])[..., 0], axis=-1)
    return 0.5 * (trace + quadratic - k + np.linalg.slogdet(c1)[1] - np.linalg.slogdet(c0)[1])


def _half_quadratic(d, a):
    return 0.5 * np.einsum("...i,...ij,...j->...", d, a, d)


def _half_trace(a, b):
    return 0.5 * np.trace(a @ b, axis1=-2, axis2=-1)


def _hints(m0, l0, m1, l1):
    inv = np.linalg.inv
    k = m0.shape[-1]
    logdet = np.linalg.slogdet(l0)[1] - np.linalg.slogdet(l1)[1]
    return [
        (
            _covariance_formula(m0, l0, m1, l1),
            "that is the covariance formula with the precisions in place of the covariances: Sigma = prec^-1.",
        ),
        (_covariance_formula(m1, inv(l1), m0, inv(l0)), "that is KL(q || p): are the arguments swapped?"),
        (
            _covariance_formula(m0, inv(l0), m1, inv(l1)) - logdet,
            "the log-determinant ratio is upside down: ln det Sigma1 / det Sigma0 = ln det prec0 / det prec1.",
        ),
        (_covariance_formula(m0, inv(l0), m1, inv(l1)) + k / 2, "off by exactly k/2: is the -k term missing?"),
        (
            _covariance_formula(m0, inv(l0), m1, inv(l1)) + _half_quadratic(m1 - m0, l0) - _half_quadratic(m1 - m0, l1),
            "the distance between the means is measured with q's precision prec1, not p's.",
        ),
        (
            _covariance_formula(m0, inv(l0), m1, inv(l1)) + _half_trace(l0, inv(l1)) - _half_trace(l1, inv(l0)),
            "the trace term is tr(prec1 Sigma0) = tr(prec1 prec0^-1): q's precision times p's covariance.",
        ),
    ]


_I = np.eye(2)
checks.assert_close(
    _kl_mvn(np.zeros(2), _I, np.zeros(2), _I),
    0.0,
    "kl_mvn of two identical standard Gaussians",
    hints=[(1.0, "off by exactly k/2 = 1: is the -k term missing?")],
)
checks.assert_close(
    _kl_mvn(np.array([1.0, 0.0]), 4 * _I, np.zeros(2), 4 * _I),
    2.0,
    "kl_mvn with means 1 apart and precisions 4I (standard deviations 1/2)",
    hints=[(0.125, "that measured the distance with the covariance 4I: precision 4I means variance 1/4.")],
)
_m0, _l0 = np.array([1.0, -0.5]), np.array([[4.0, 1.0], [1.0, 1.0]])
_m1, _l1 = np.array([0.0, 0.5]), np.array([[1.0, -0.3], [-0.3, 2.0]])
checks.assert_close(
    _kl_mvn(_m0, _l0, _m1, _l1),
    _covariance_formula(_m0, np.linalg.inv(_l0), _m1, np.linalg.inv(_l1)),
    "kl_mvn in 2-D with full precision matrices",
    hints=_hints(_m0, _l0, _m1, _l1),
)
checks.assert_close(
    _kl_mvn(np.zeros((3, 2)), np.stack([_I] * 3), np.ones((3, 2)), np.stack([_I] * 3)),
    [1.0, 1.0, 1.0],
    "kl_mvn on a batch of 3 pairs (one KL per pair)",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp


def _random_spd(rng, batch, k, scale=1.0):
    a = rng.normal(size=batch + (k, k))
    return scale * (a @ np.swapaxes(a, -1, -2) / k + 0.5 * np.eye(k))


def _kl(m0, l0, m1, l1):
    d = tfp.distributions
    scale = lambda prec: np.linalg.cholesky(np.linalg.inv(prec))  # noqa: E731
    return d.kl_divergence(d.MultivariateNormalTriL(m0, scale(l0)), d.MultivariateNormalTriL(m1, scale(l1))).numpy()


_rng = np.random.default_rng(3)
_m0, _m1 = _rng.normal(size=(5, 4)), _rng.normal(size=(5, 4))
_l0, _l1 = _random_spd(_rng, (5,), 4), _random_spd(_rng, (5,), 4)
checks.assert_close(
    _kl_mvn(_m0, _l0, _m1, _l1),
    _kl(_m0, _l0, _m1, _l1),
    "kl_mvn on a random batch of 5 pairs in 4-D (against TFP with covariances prec^-1)",
    hints=_hints(_m0, _l0, _m1, _l1),
)
# 200 dimensions with precisions about 1e3: det(prec) overflows to inf in float64, the KL does not.
_k = 200
_l0, _l1 = _random_spd(_rng, (), _k, 1e3), _random_spd(_rng, (), _k, 1e3)
_m0, _m1 = 0.01 * _rng.normal(size=_k), 0.01 * _rng.normal(size=_k)
checks.assert_close(
    _kl_mvn(_m0, _l0, _m1, _l1),
    _kl(_m0, _l0, _m1, _l1),
    "kl_mvn in 200-D with precisions about 1e3 (det overflows here: use Cholesky log-determinants)",
    rtol=1e-6,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — A Monte Carlo KL to a Gaussian mixture (3 points)
#
# Variational inference (unit 03) fits a simple $q$ to a complicated $p$ by minimising the **reverse** KL,
# $\mathrm{KL}(q\,\|\,p)$. Take $q = \mathcal N(m, s^2)$ and a Gaussian mixture
# $p(z) = \sum_k w_k\, \mathcal N(z; \mu_k, \sigma_k^2)$: no closed form exists, so estimate
#
# $$\mathrm{KL}(q\,\|\,p) = \mathbb E_{z\sim q}\big[\log q(z) - \log p(z)\big]$$
#
# from $n$ samples, and return the estimate **and its standard error** (the standard deviation of the $n$
# log-ratios divided by $\sqrt n$). Three things matter:
#
# - **the direction**: the expectation is under $q$, the *first* argument, so the samples come from $q$;
# - **the mixture's log-density**:
#   $\log p(z) = \log \sum_k \exp\big(\log w_k + \log \mathcal N(z; \mu_k, \sigma_k^2)\big)$ must be a
#   log-sum-exp (`tf.reduce_logsumexp` or `np.logaddexp.reduce`): far from every component
#   each $\mathcal N(z; \mu_k, \sigma_k^2)$ underflows to 0, but its log does not;
# - **the seed**: the same `seed` must give the same result, and another seed other samples. Use
#   `np.random.default_rng(seed)`, `tf.random.Generator.from_seed(seed)` or a stateless seed pair such as
#   `sample(n, seed=(seed, 0))`. (A plain integer seed in TFP's `sample(n, seed=seed)` is *stateful*: a second
#   call with the same integer draws other samples.)
#
# You may use TFP's distributions (`tfd.Normal`, `tfd.MixtureSameFamily`) for the log-densities.


# %% solution kl_monte_carlo
def kl_monte_carlo(m, s, weights, means, stds, n, seed=0):
    """Monte Carlo estimate of KL(q || p) for q = N(m, s^2) and the mixture p = sum_k w_k N(means_k, stds_k^2).

    m, s: numbers (s > 0 a standard deviation); weights, means, stds: array-likes of shape (K,), the weights
        summing to one, stds standard deviations; n: the number of samples of q; seed: an int, the only
        source of randomness (the same seed gives the same result).
    Returns: (estimate, standard_error), two floats (tests: the estimate within 5 true standard errors of the
        exact KL, the standard error within 10 % of the true one).
    """
    ### BEGIN SOLUTION
    weights, means, stds = (tf.constant(np.asarray(v, np.float64)) for v in (weights, means, stds))
    eps = tf.random.stateless_normal([n], seed=[seed, 0], dtype=tf.float64)
    z = m + s * eps  # samples of q, the first argument
    log_q = -0.5 * eps**2 - np.log(s) - 0.5 * np.log(2 * np.pi)
    # log p(z) = logsumexp_k(log w_k + log N(z; mu_k, sd_k^2)), never the log of a sum of densities.
    per_component = tf.math.log(weights) + tfd.Normal(means, stds).log_prob(z[:, None])  # (n, K)
    log_ratio = log_q - tf.reduce_logsumexp(per_component, axis=-1)
    return float(tf.reduce_mean(log_ratio)), float(tf.math.reduce_std(log_ratio) / np.sqrt(n))
    ### END SOLUTION


# %% test kl_monte_carlo points=3
def _quadrature(m, s, weights, means, stds, reverse=True):
    """KL(q || p) (or KL(p || q)) and the standard deviation of its log-ratio, by the rectangle rule on a grid."""
    weights, means, stds = (np.asarray(v, np.float64) for v in (weights, means, stds))
    z = np.linspace(min(m - 15 * s, (means - 15 * stds).min()), max(m + 15 * s, (means + 15 * stds).max()), 400_001)
    log_q = -0.5 * ((z - m) / s) ** 2 - np.log(s * np.sqrt(2 * np.pi))
    log_parts = np.log(weights) - 0.5 * ((z[:, None] - means) / stds) ** 2 - np.log(stds * np.sqrt(2 * np.pi))
    top = log_parts.max(axis=1)
    log_p = top + np.log(np.exp(log_parts - top[:, None]).sum(axis=1))
    density, ratio = (np.exp(log_q), log_q - log_p) if reverse else (np.exp(log_p), log_p - log_q)
    kl = np.sum(density * ratio) * (z[1] - z[0])
    return kl, np.sqrt(np.sum(density * ratio**2) * (z[1] - z[0]) - kl**2)


# A "mixture" of one component is a Gaussian: KL(N(0, 1) || N(1, 2^2)) = ln 2 + (1 + 1) / 8 - 1/2, and the
# log-ratio -3z^2/8 - z/4 + const with z ~ N(0, 1) has standard deviation sqrt(22/64) exactly.
_exact, _sd, _n = np.log(2.0) + 2.0 / 8.0 - 0.5, np.sqrt(22 / 64), 20_000
_result = kl_monte_carlo(0.0, 1.0, [1.0], [1.0], [2.0], _n, seed=7)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"kl_monte_carlo should return (estimate, standard_error); got {type(_result).__name__}.",
)
_est, _se = (float(checks.as_array(v, "kl_monte_carlo")) for v in _result)
# The bounds: over seeds 0-19 the solution's standard error lay within 2 % of the true one, its estimate
# within 2.1 true standard errors of the exact KL (here and in the cases below).
checks.assert_within_se(
    _est,
    _exact,
    _sd / np.sqrt(_n),
    "the KL(q || p) estimate for q = N(0, 1), p = N(1, 2^2) (a mixture of one component)",
    hints=[
        (_quadrature(0.0, 1.0, [1.0], [1.0], [2.0], reverse=False)[0], "that is KL(p || q): sample from q, not p."),
        (-_exact, "the sign is flipped: average log q(z) - log p(z), with q the first argument."),
        (_quadrature(0.0, 1.0, [1.0], [1.0], [np.sqrt(2.0)])[0], "stds are standard deviations, not variances."),
    ],
)
checks.assert_in_range(
    _se,
    0.9 * _sd / np.sqrt(_n),
    1.1 * _sd / np.sqrt(_n),
    "the standard error for n = 20000",
    hint="It is std(log q(z) - log p(z)) / sqrt(n): not the std itself, and not divided by n.",
)
_again = checks.as_array(kl_monte_carlo(0.0, 1.0, [1.0], [1.0], [2.0], _n, seed=7), "kl_monte_carlo")
_other = checks.as_array(kl_monte_carlo(0.0, 1.0, [1.0], [1.0], [2.0], _n, seed=8), "kl_monte_carlo")
checks.assert_true(
    np.array_equal(_again, [_est, _se]),
    f"kl_monte_carlo with seed=7 returned {[_est, _se]}, then {_again.tolist()}: the same seed must give the same "
    "result. Draw the samples from a generator seeded with `seed` (TFP's sample(n, seed=<int>) is stateful).",
)
checks.assert_true(
    not np.array_equal(_other, [_est, _se]),
    "kl_monte_carlo returned the same result for seeds 7 and 8: is the seed argument used?",
)
### BEGIN HIDDEN TESTS
# Two modes with unequal weights, q in the valley between them. The tolerance is the TRUE standard error
# (from quadrature), never the answer's own, so that a huge returned standard error cannot make any estimate pass.
_case = (0.0, 1.0, [0.3, 0.7], [-3.0, 2.0], [0.6, 0.8])
_exact, _sd = _quadrature(*_case)
_n = 50_000
_est, _se = (float(checks.as_array(v, "kl_monte_carlo")) for v in kl_monte_carlo(*_case, _n, seed=11))
checks.assert_within_se(
    _est,
    _exact,
    _sd / np.sqrt(_n),
    "the KL(q || p) estimate for q = N(0, 1) and the mixture 0.3 N(-3, 0.6^2) + 0.7 N(2, 0.8^2)",
    hints=[
        (_quadrature(*_case, reverse=False)[0], "that is KL(p || q): sample from q, the first argument, not p."),
        (_quadrature(*_case[:2], [0.5, 0.5], *_case[3:])[0], "that ignores the weights: log p needs log w_k."),
        (_quadrature(*_case[:4], np.sqrt(_case[4]))[0], "stds are standard deviations, not variances."),
    ],
)
checks.assert_in_range(
    _se,
    0.9 * _sd / np.sqrt(_n),
    1.1 * _sd / np.sqrt(_n),
    "the standard error for the two-mode mixture, n = 50000",
    hint="It is the std of the n log-ratios log q(z) - log p(z), one per sample, divided by sqrt(n).",
)
# A broad q and a narrow mixture: for |z| > 9 every component density underflows to 0 in float64, so
# log(sum of densities) = -inf; the log-sum-exp stays finite (log p(20) is about -4500).
_case = (0.0, 5.0, [0.3, 0.7], [-1.0, 1.0], [0.1, 0.2])
_exact, _sd = _quadrature(*_case)
_n = 20_000
_result = [float(checks.as_array(v, "kl_monte_carlo")) for v in kl_monte_carlo(*_case, _n, seed=12)]
checks.assert_true(
    np.all(np.isfinite(_result)),
    f"kl_monte_carlo returned {_result} for q = N(0, 5^2) and a mixture of two narrow components (exact KL "
    f"{_exact:.1f}): far from the components their densities underflow to 0. Compute log p(z) as a "
    "log-sum-exp of log w_k + log N(z; mu_k, sd_k^2).",
)
checks.assert_within_se(_result[0], _exact, _sd / np.sqrt(_n), "the KL(q || p) estimate for a broad q, narrow p")
### END HIDDEN TESTS

# %% [markdown]
# ### Predict, then run — four times as many samples (1 point)
#
# An estimate from $n = 1000$ samples has standard error $s$. About what multiple of $s$ is the standard
# error with $n = 4000$ samples (of the same $q$ and $p$)? Put the number in `predicted_se_ratio`
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
# The experiment: the standard error of the estimate of KL(q || p) for q = N(0, 1) and the two-mode mixture
# of the hidden test, over 5 repetitions each.
rng_demo = np.random.default_rng(config.seed() + 4)
q_demo = tfd.Normal(0.0, 1.0)
p_demo = tfd.MixtureSameFamily(tfd.Categorical(probs=[0.3, 0.7]), tfd.Normal([-3.0, 2.0], [0.6, 0.8]))
for n_demo in (1000, 4000):
    errors_demo = []
    for _ in range(5):
        z_demo = rng_demo.normal(size=n_demo).astype(np.float32)
        errors_demo.append(np.std(q_demo.log_prob(z_demo) - p_demo.log_prob(z_demo)) / np.sqrt(n_demo))
    print(f"n = {n_demo}: standard errors {np.round(errors_demo, 4)}, mean {np.mean(errors_demo):.4f}")

# %% [markdown]
# ## Exercise 5 — Forward and reverse KL, from what each one needs (4 points)
#
# The lecture fitted $q = \mathcal N(m, s^2)$ to a bimodal $p$ by quadrature on a grid, which needs the
# normalised density of $p$ everywhere. In practice you never have that; you have what each direction needs:
#
# - `"forward"`: minimise $\mathrm{KL}(p\,\|\,q)$ when $p$ is known only through **data**, samples
#   $x_1, \dots, x_N$ of $p$ (as in maximum likelihood). Since $\mathbb E_p[\log p]$ does not depend on $q$,
#   minimise $-\frac1N\sum_i \log q(x_i)$ (or a minibatch estimate of it);
# - `"reverse"`: minimise $\mathrm{KL}(q\,\|\,p) = \mathbb E_{z\sim q}[\log q(z) - \log p(z)]$ when $p$ is known
#   only through an **unnormalised log-density** $\log p(z) + c$ (as in variational inference, where $c$ is
#   the unknown log-evidence), estimated with **reparameterised** samples $z = m + s\,\epsilon$,
#   $\epsilon \sim \mathcal N(0,1)$, so that gradients reach $m$ and $s$. The constant $c$ changes the KL by $-c$,
#   not its minimiser.
#
# Suggested recipe: start from $m = 0$, $s = 1$; keep $s$ positive by optimising $\log s$; use
# `keras.optimizers.Adam(0.05)` for `steps` steps with `tf.GradientTape`, 256 samples (or data points) a
# step. Any correct method passes the tests.


# %% solution fit_gaussian
def fit_gaussian(direction, data=None, log_density=None, steps=500, seed=0):
    """Fit q = N(m, s^2) by minimising KL(p || q) ("forward") or KL(q || p) ("reverse").

    direction: "forward" or "reverse".
    data: for "forward" only, an array-like of shape (N,) (float32 or float64) of samples of p.
    log_density: for "reverse" only, a function mapping a float32 tensor z (any shape) to log p(z) + c, a
        tensor of the same shape, c an unknown constant; TensorFlow can differentiate it.
    steps, seed: the number of optimisation steps and the seed of any randomness.
    Returns: (m, s), two floats, s the standard deviation (the tests allow 0.1 on a Gaussian p, and 0.25
        from the moments of bimodal data).
    """
    ### BEGIN SOLUTION
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    params = tf.Variable([0.0, 0.0])  # (m, log s): optimising log s keeps s positive
    adam = keras.optimizers.Adam(learning_rate=0.05)
    noise = tf.random.Generator.from_seed(seed)
    if direction == "forward":
        data = tf.constant(np.asarray(data, np.float32))

    def objective(m, log_s):
        if direction == "forward":  # KL(p || q) = const - E_p[log q]: a minibatch of the data
            x = tf.gather(data, noise.uniform([256], maxval=data.shape[0], dtype=tf.int32))
            return tf.reduce_mean(log_s + 0.5 * tf.square((x - m) * tf.exp(-log_s)))
        eps = noise.normal([256])  # KL(q || p) = E_q[log q - log p] + c, with z = m + s eps reparameterised
        z = m + tf.exp(log_s) * eps
        return tf.reduce_mean(-log_s - 0.5 * tf.square(eps) - tf.cast(log_density(z), tf.float32))

    @tf.function
    def descend():
        with tf.GradientTape() as tape:
            value = objective(params[0], params[1])
        adam.apply([tape.gradient(value, params)], [params])

    for _ in range(steps):
        descend()
    m, log_s = params.numpy()
    return float(m), float(np.exp(log_s))
    ### END SOLUTION


# %% test fit_gaussian points=4
import tensorflow_probability as tfp

_d = tfp.distributions

# A single Gaussian p = N(1.5, 0.5^2): forward from 20000 samples of it, reverse from its log-density plus 7.
_data = np.random.default_rng(5).normal(1.5, 0.5, size=20_000)
_fits = {
    "forward": fit_gaussian("forward", data=_data),
    "reverse": fit_gaussian("reverse", log_density=lambda z: 7.0 - 2.0 * (z - 1.5) ** 2),
}
for _direction, _fit in _fits.items():
    checks.assert_true(
        isinstance(_fit, (tuple, list)) and len(_fit) == 2,
        f"fit_gaussian should return (m, s); got {type(_fit).__name__}.",
    )
    _fit = checks.as_array(_fit, "fit_gaussian")
    checks.assert_true(
        _fit[1] > 0.1,
        f"fit_gaussian({_direction!r}) on N(1.5, 0.5^2) returned s = {_fit[1]:.3g}: q collapsed towards a point. "
        "The reverse KL is E_q[log q] - E_q[log p]: without the E_q[log q] term nothing stops s from shrinking.",
    )
    checks.assert_close(
        _fit,
        [1.5, 0.5],
        f"fit_gaussian({_direction!r}) on p = N(1.5, 0.5^2) returns (m, s)"
        + (" (reverse: do gradients reach m and s through z = m + s * eps?)" if _direction == "reverse" else ""),
        rtol=0,
        atol=0.1,
        hints=[([1.5, 0.25], "s is the standard deviation: you returned the variance.")],
    )
### BEGIN HIDDEN TESTS
# A bimodal p: forward KL matches the moments of its data (mode covering), reverse KL settles on one mode
# (mode seeking), given only log p + 5.
_p = _d.MixtureSameFamily(_d.Categorical(probs=[0.4, 0.6]), _d.Normal([-3.0, 2.5], [0.6, 0.8]))
_data = _p.sample(20_000, seed=(4, 0)).numpy().astype(np.float64)
_mean, _std = _data.mean(), _data.std()
_forward = checks.as_array(fit_gaussian("forward", data=_data, seed=3), "fit_gaussian")
_reverse = checks.as_array(fit_gaussian("reverse", log_density=lambda z: _p.log_prob(z) + 5.0, seed=3), "fit_gaussian")
_is_mode = lambda fit: min(abs(fit[0] + 3.0) + abs(fit[1] - 0.6), abs(fit[0] - 2.5) + abs(fit[1] - 0.8)) < 0.3
checks.assert_true(
    not _is_mode(_forward),
    f"fit_gaussian('forward', data) returned {_forward}, which sits on one mode of p: "
    "that is what the reverse KL does. The forward KL averages -log q over all the data.",
)
checks.assert_close(
    _forward,
    [_mean, _std],
    "fit_gaussian('forward') on bimodal data should match the data's mean and std (forward KL covers both modes)",
    rtol=0,
    atol=0.25,
    hints=[([_mean, _std**2], "s is the standard deviation: you returned the variance.")],
)
checks.assert_true(
    _is_mode(_reverse),
    f"fit_gaussian('reverse') on a bimodal p returned (m, s) = {_reverse}; expected one mode of p: "
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
# - A KL is the expectation under its first argument of a log-ratio: take that expectation for a new family
#   (Laplace), and a KL of independent parts is the sum of their KLs (Bernoulli pixels).
# - Compute it in log space: softplus for logits, log-sum-exp for mixtures, Cholesky factors in many
#   dimensions, whichever parameterisation (covariance or precision) you are given.
# - A Monte Carlo estimate is unbiased; sample from the first argument, seed it, and report its standard
#   error, which tells you how many samples you need.
# - Forward KL covers the modes of $p$; reverse KL, which variational inference minimises, seeks one.
