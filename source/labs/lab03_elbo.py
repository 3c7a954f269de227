# %% [markdown]
# # Lab 03 — The ELBO
#
# Compute the exact evidence and posterior of a linear-Gaussian latent-variable model, then estimate
# the evidence lower bound (ELBO) and the importance-weighted bound, fit $q$ by black-box (Monte Carlo) variational
# inference, and measure why reparameterised gradients are preferred.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - compute the evidence $p(x)$ and the posterior $p(z \mid x)$ of a linear-Gaussian model in closed form;
# - estimate the ELBO by Monte Carlo with a standard error, and compute it exactly for a Gaussian $q$;
# - estimate the importance-weighted bound $\mathcal L_K$ stably, and see it approach $\log p(x)$;
# - fit $q$ by black-box (Monte Carlo) variational inference with reparameterised gradients;
# - measure the variance of reparameterised and score-function gradient estimators.

# %% setup

# %% locked imports
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

# %% [markdown]
# ## The model
#
# Every exercise uses the same latent-variable model, with a latent $z \in \mathbb R^d$ and an
# observation $x \in \mathbb R^D$:
#
# $$z \sim \mathcal N(0, I_d), \qquad x \mid z \sim \mathcal N(Wz + b,\ \sigma^2 I_D),$$
#
# with a $D \times d$ matrix $W$, a vector $b \in \mathbb R^D$ and a noise standard deviation $\sigma > 0$.
# Arguments are always passed as `x` of shape `(D,)`, `W` of shape `(D, d)`, `b` of shape `(D,)` and
# `sigma` a positive number. The variational distribution is a **diagonal Gaussian**
# $q(z) = \mathcal N(m, \operatorname{diag}(s^2))$, passed as `q_mean` $= m$ and `q_std` $= s$, both of
# shape `(d,)` (standard deviations, not variances).
#
# The cell below gives you $\log p(x, z) = \log \mathcal N(z; 0, I) + \log \mathcal N(x; Wz + b, \sigma^2 I)$
# for any batch of $z$; use it wherever it helps.


# %% locked model
def log_joint(z, x, W, b, sigma):
    """log p(x, z) for the linear-Gaussian model, for a batch of latent vectors.

    z: shape (..., d); x: (D,); W: (D, d); b: (D,); sigma > 0.
    Returns: a float64 tensor of shape (...), one log-density per latent vector.
    """
    z, x, W, b, sigma = (tf.convert_to_tensor(v, tf.float64) for v in (z, x, W, b, sigma))
    log_prior = tf.reduce_sum(tfd.Normal(tf.constant(0.0, tf.float64), 1.0).log_prob(z), axis=-1)
    mean = tf.einsum("...j,ij->...i", z, W) + b
    log_likelihood = tf.reduce_sum(tfd.Normal(mean, sigma).log_prob(x), axis=-1)
    return log_prior + log_likelihood


# %% [markdown]
# ## Exercise 1 — exact evidence and posterior (4 points)
#
# Because everything is Gaussian and linear, the marginal and the posterior are Gaussian too:
#
# - $x = Wz + b + \sigma\varepsilon$ with $\varepsilon \sim \mathcal N(0, I_D)$ independent of $z$, so
#   $p(x) = \mathcal N(x;\ b,\ WW^\top + \sigma^2 I_D)$;
# - completing the square in $\log p(z) + \log p(x \mid z)$ gives
#   $p(z \mid x) = \mathcal N(\mu_{z|x}, \Sigma_{z|x})$ with precision
#   $\Sigma_{z|x}^{-1} = I_d + W^\top W / \sigma^2$ and mean $\mu_{z|x} = \Sigma_{z|x} W^\top (x - b) / \sigma^2$.
#
# Return $\log p(x)$ (a number) and the posterior mean and covariance. `tfd.MultivariateNormalTriL`
# and `tf.linalg.cholesky` / `tf.linalg.inv` (or their NumPy versions) are all you need.


# %% solution exact_evidence_and_posterior
def exact_evidence_and_posterior(x, W, b, sigma):
    """The exact log-evidence and posterior of the model z ~ N(0, I_d), x | z ~ N(W z + b, sigma^2 I_D).

    x: shape (D,); W: (D, d); b: (D,); sigma > 0 (a standard deviation).
    Returns: (log_px, post_mean, post_cov): a float, an array of shape (d,), an array of shape (d, d).
    """
    ### BEGIN SOLUTION
    x, W, b = (tf.convert_to_tensor(v, tf.float64) for v in (x, W, b))
    sigma = tf.convert_to_tensor(sigma, tf.float64)
    D, d = W.shape
    evidence_cov = tf.matmul(W, W, transpose_b=True) + sigma**2 * tf.eye(D, dtype=tf.float64)
    log_px = tfd.MultivariateNormalTriL(b, tf.linalg.cholesky(evidence_cov)).log_prob(x)
    precision = tf.eye(d, dtype=tf.float64) + tf.matmul(W, W, transpose_a=True) / sigma**2
    post_cov = tf.linalg.cholesky_solve(tf.linalg.cholesky(precision), tf.eye(d, dtype=tf.float64))
    post_mean = tf.linalg.matvec(post_cov, tf.linalg.matvec(W, x - b, transpose_a=True)) / sigma**2
    return float(log_px), post_mean.numpy(), post_cov.numpy()
    ### END SOLUTION


# %% test exact_evidence_and_posterior points=1
# 1-D: z ~ N(0, 1), x | z ~ N(z, 1), x = 2. Then p(x) = N(2; 0, 2), p(z | x) = N(1, 1/2).
_result = exact_evidence_and_posterior(np.array([2.0]), np.array([[1.0]]), np.array([0.0]), 1.0)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 3,
    f"exact_evidence_and_posterior should return (log_px, post_mean, post_cov); got {type(_result).__name__}.",
)
_log_px, _mean, _cov = _result
checks.assert_close(
    _log_px,
    -0.5 * np.log(2 * np.pi * 2.0) - 1.0,
    "log p(x) for the 1-D model with x = 2",
    hints=[(-0.5 * np.log(2 * np.pi) - 2.0, "that is log N(x; b, W W^T): the covariance of x is W W^T + sigma^2 I.")],
)
checks.assert_close(
    _cov,
    [[0.5]],
    "the posterior covariance for the 1-D model",
    hints=[([[1.0]], "that is (W^T W / sigma^2)^-1: the precision is I + W^T W / sigma^2 (the prior adds I).")],
)
checks.assert_close(
    _mean,
    [1.0],
    "the posterior mean for the 1-D model with x = 2",
    hints=[([2.0], "that is (W^T W)^-1 W^T (x - b), the mean without the prior's pull towards 0.")],
)
# sigma is a standard deviation: sigma = 2 means noise variance 4.
_log_px, _mean, _cov = exact_evidence_and_posterior(np.array([1.0]), np.array([[1.0]]), np.array([0.0]), 2.0)
checks.assert_close(
    _log_px,
    -0.5 * np.log(2 * np.pi * 5.0) - 1.0 / 10.0,
    "log p(x) for x | z ~ N(z, 2^2), x = 1",
    hints=[
        (
            -0.5 * np.log(2 * np.pi * 3.0) - 1.0 / 6.0,
            "sigma is a standard deviation: the noise variance is sigma^2, not sigma.",
        )
    ],
)
checks.assert_close(_cov, [[0.8]], "the posterior covariance for x | z ~ N(z, 2^2)")
checks.assert_close(_mean, [0.2], "the posterior mean for x | z ~ N(z, 2^2), x = 1")

# %% test exact_evidence_and_posterior:random_evidence points=1
# log p(x) for random models with D > d, D = d and D < d, against a reference from TFP.
_rng = np.random.default_rng(31)
_W, _b, _x = _rng.normal(size=(5, 2)), _rng.normal(size=5), _rng.normal(size=5) * 2
_log_px = exact_evidence_and_posterior(_x, _W, _b, 0.7)[0]
checks.assert_true(
    np.ndim(checks.as_array(_log_px, "log_px")) == 0,
    f"log p(x) should be one number; got an array of shape {np.shape(_log_px)}.",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp


def _reference(x, W, b, s):
    n_obs, n_latent = W.shape
    cov_x = W @ W.T + s**2 * np.eye(n_obs)
    log_px = float(tfp.distributions.MultivariateNormalTriL(b, np.linalg.cholesky(cov_x)).log_prob(x))
    cov = np.linalg.inv(np.eye(n_latent) + W.T @ W / s**2)
    return log_px, cov @ W.T @ (x - b) / s**2, cov


_rng = np.random.default_rng(31)
for _D, _d in [(5, 2), (3, 3), (1, 4)]:
    _W, _b, _x, _s = _rng.normal(size=(_D, _d)), _rng.normal(size=_D), _rng.normal(size=_D) * 2, 0.7
    _log_px = exact_evidence_and_posterior(_x, _W, _b, _s)[0]
    _what = f"(D = {_D}, d = {_d}, random W, b, x, sigma = 0.7)"
    _hints = [(_reference(_x, _W, _b, np.sqrt(_s))[0], "sigma is a standard deviation: the noise variance is sigma^2.")]
    if _D <= _d:  # W W^T is invertible here, so the mistake gives a finite number
        _hints.append(
            (
                float(tfp.distributions.MultivariateNormalTriL(_b, np.linalg.cholesky(_W @ _W.T)).log_prob(_x)),
                "that is log N(x; b, W W^T): the covariance of x is W W^T + sigma^2 I.",
            )
        )
    checks.assert_close(_log_px, _reference(_x, _W, _b, _s)[0], f"log p(x) {_what}", rtol=1e-6, hints=_hints)
### END HIDDEN TESTS

# %% test exact_evidence_and_posterior:random_moments points=1
# The posterior mean and covariance for random models with D > d, D = d and D < d, against a reference.
_rng = np.random.default_rng(31)
_W, _b, _x = _rng.normal(size=(5, 2)), _rng.normal(size=5), _rng.normal(size=5) * 2
_log_px, _mean, _cov = exact_evidence_and_posterior(_x, _W, _b, 0.7)
checks.assert_true(
    np.shape(_mean) == (2,) and np.shape(_cov) == (2, 2),
    "for W of shape (5, 2) the posterior mean should have shape (2,) and its covariance shape (2, 2); "
    f"got {np.shape(_mean)} and {np.shape(_cov)}.",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp


def _reference(x, W, b, s):
    n_obs, n_latent = W.shape
    cov_x = W @ W.T + s**2 * np.eye(n_obs)
    log_px = float(tfp.distributions.MultivariateNormalTriL(b, np.linalg.cholesky(cov_x)).log_prob(x))
    cov = np.linalg.inv(np.eye(n_latent) + W.T @ W / s**2)
    return log_px, cov @ W.T @ (x - b) / s**2, cov


_rng = np.random.default_rng(31)
for _D, _d in [(5, 2), (3, 3), (1, 4)]:
    _W, _b, _x, _s = _rng.normal(size=(_D, _d)), _rng.normal(size=_D), _rng.normal(size=_D) * 2, 0.7
    _log_px, _mean, _cov = exact_evidence_and_posterior(_x, _W, _b, _s)
    _ref = _reference(_x, _W, _b, _s)
    _what = f"(D = {_D}, d = {_d}, random W, b, x, sigma = 0.7)"
    checks.assert_close(
        _cov,
        _ref[2],
        f"the posterior covariance {_what}",
        rtol=1e-6,
        hints=[
            (np.linalg.pinv(_W.T @ _W / _s**2), "that is (W^T W / sigma^2)^-1: the precision is I + W^T W / sigma^2.")
        ],
    )
    checks.assert_close(
        _mean,
        _ref[1],
        f"the posterior mean {_what}",
        rtol=1e-6,
        hints=[
            (_ref[2] @ _W.T @ _x / _s**2, "use x - b, not x: the likelihood's mean is W z + b."),
            (_ref[2] @ _W.T @ (_x - _b), "the mean is Sigma W^T (x - b) / sigma^2: is the 1 / sigma^2 missing?"),
        ],
    )
### END HIDDEN TESTS

# %% test exact_evidence_and_posterior:large_values points=1
# Large values (D = 20, W of size 30, sigma = 0.01): work with Cholesky factors or solves, and the answer stays finite.
_rng = np.random.default_rng(41)
_W, _b, _x = _rng.normal(size=(20, 3)) * 30, np.zeros(20), _rng.normal(size=20) * 100
_log_px, _mean, _cov = exact_evidence_and_posterior(_x, _W, _b, 0.01)
checks.assert_true(
    np.isfinite(checks.as_array(_log_px, "log_px")) and np.all(np.isfinite(checks.as_array(_mean, "post_mean"))),
    f"with D = 20, large W and sigma = 0.01, log p(x) = {_log_px} and the posterior mean should be finite: "
    "use Cholesky factors or solves rather than determinants and inverses of W W^T + sigma^2 I.",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp


def _reference(x, W, b, s):
    n_obs, n_latent = W.shape
    cov_x = W @ W.T + s**2 * np.eye(n_obs)
    log_px = float(tfp.distributions.MultivariateNormalTriL(b, np.linalg.cholesky(cov_x)).log_prob(x))
    cov = np.linalg.inv(np.eye(n_latent) + W.T @ W / s**2)
    return log_px, cov @ W.T @ (x - b) / s**2, cov


_ref = _reference(_x, _W, _b, 0.01)
checks.assert_close(_log_px, _ref[0], "log p(x) with D = 20, large W and small sigma = 0.01", rtol=1e-6)
checks.assert_close(_mean, _ref[1], "the posterior mean with D = 20, large W and small sigma = 0.01", rtol=1e-6)
### END HIDDEN TESTS


# %% [markdown]
# ## Exercise 2 — the ELBO by Monte Carlo (3 points)
#
# For any distribution $q$ over $z$,
#
# $$\mathrm{ELBO}(q) = \mathbb E_{z \sim q}\big[\log p(x, z) - \log q(z)\big] \;\le\; \log p(x).$$
#
# Estimate it from $n$ samples $z_1, \dots, z_n \sim q$: return the average of the **log-weights**
# $\log w_i = \log p(x, z_i) - \log q(z_i)$ and its **standard error** (their standard deviation divided by
# $\sqrt n$). Draw the samples with the given integer `seed`, e.g.
# `tf.random.stateless_normal([n, d], seed=[seed, 0], dtype=tf.float64)` or `np.random.default_rng(seed)`.


# %% solution elbo_monte_carlo
def elbo_monte_carlo(x, W, b, sigma, q_mean, q_std, n, seed=0):
    """Monte Carlo estimate of the ELBO for q = N(q_mean, diag(q_std^2)), from n samples of q.

    x: (D,); W: (D, d); b: (D,); sigma > 0; q_mean, q_std: (d,); n: number of samples; seed: an int.
    Returns: (estimate, standard_error), two floats: the mean of log p(x, z) - log q(z) over the
    samples and the standard deviation of those n values divided by sqrt(n).
    """
    ### BEGIN SOLUTION
    q_mean, q_std = (tf.convert_to_tensor(v, tf.float64) for v in (q_mean, q_std))
    eps = tf.random.stateless_normal([n, q_mean.shape[0]], seed=[seed, 0], dtype=tf.float64)
    z = q_mean + q_std * eps
    log_q = tf.reduce_sum(tfd.Normal(q_mean, q_std).log_prob(z), axis=-1)
    log_w = log_joint(z, x, W, b, sigma) - log_q
    return float(tf.reduce_mean(log_w)), float(tf.math.reduce_std(log_w)) / np.sqrt(n)
    ### END SOLUTION


# %% test elbo_monte_carlo points=1
# 1-D: z ~ N(0, 1), x | z ~ N(z, 1), x = 2; the posterior is N(1, 1/2) and log p(x) = log N(2; 0, 2).
_args = (np.array([2.0]), np.array([[1.0]]), np.array([0.0]), 1.0)
_log_px = -0.5 * np.log(4 * np.pi) - 1.0
# q = the prior N(0, 1): ELBO = E[log N(2; z, 1)] = -log(2 pi)/2 - (4 + 1)/2. The log-weights are
# -log(2 pi)/2 - (2 - z)^2/2, whose standard deviation is sqrt(Var[(2 - z)^2]/4) = sqrt(4.5).
_elbo, _sd, _n = -0.5 * np.log(2 * np.pi) - 2.5, np.sqrt(4.5), 20_000
_result = elbo_monte_carlo(*_args, np.array([0.0]), np.array([1.0]), _n, seed=2)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"elbo_monte_carlo should return (estimate, standard_error); got {type(_result).__name__}.",
)
_est, _se = _result
_entropy = 0.5 * np.log(2 * np.pi * np.e)
checks.assert_within_se(
    _est,
    _elbo,
    _sd / np.sqrt(_n),
    "the ELBO estimate for q = N(0, 1)",
    hints=[
        (_elbo - _entropy, "that is E_q[log p(x, z)] alone: subtract log q(z) too (the entropy term)."),
        (_n * _elbo, "that is a sum over samples: average instead."),
    ],
)
checks.assert_in_range(
    _se,
    0.9 * _sd / np.sqrt(_n),
    1.1 * _sd / np.sqrt(_n),
    "the standard error for q = N(0, 1), n = 20000",
    hint="It is std(log w) / sqrt(n): not the std itself, and not divided by n.",
)
# q = the exact posterior N(1, 1/2): every log-weight log p(x, z) - log q(z) = log p(z | x) + log p(x) - log q(z)
# equals log p(x), so the estimate is exact and its standard error 0.
_est, _se = elbo_monte_carlo(*_args, np.array([1.0]), np.array([np.sqrt(0.5)]), 1000, seed=1)
checks.assert_true(
    abs(_est - _log_px) < 1e-8 and abs(_se) < 1e-8,
    f"elbo_monte_carlo with q = the exact posterior N(1, 1/2) should return (log p(x), 0) = ({_log_px:.5f}, 0), "
    f"since every log-weight equals log p(x) there; got ({_est:.5f}, {_se:.3g}). "
    "Is log q(z) subtracted from log p(x, z)?",
)

# %% test elbo_monte_carlo:random points=1
# A random 3-D q (D = 4, d = 3): the estimate and its standard error against the exact ELBO.
_rng = np.random.default_rng(32)
_W, _b, _x, _s = _rng.normal(size=(4, 3)), _rng.normal(size=4), _rng.normal(size=4) * 2, 0.8
_m, _sq = _rng.normal(size=3) * 0.5, np.exp(_rng.normal(size=3) * 0.3 - 0.5)
_n = 5_000
_result = elbo_monte_carlo(_x, _W, _b, _s, _m, _sq, _n, seed=3)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"elbo_monte_carlo should return (estimate, standard_error); got {type(_result).__name__}.",
)
_est, _se = _result
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_d = tfp.distributions
_cov = np.linalg.inv(np.eye(3) + _W.T @ _W / _s**2)
_post = _d.MultivariateNormalTriL(_cov @ _W.T @ (_x - _b) / _s**2, np.linalg.cholesky(_cov))
_log_px = float(_d.MultivariateNormalTriL(_b, np.linalg.cholesky(_W @ _W.T + _s**2 * np.eye(4))).log_prob(_x))
_q = _d.MultivariateNormalDiag(_m, _sq)
_elbo = _log_px - float(_d.kl_divergence(_q, _post))  # log p(x) = ELBO + KL(q || p(z | x))


def _log_w(z):
    """log p(x, z) - log q(z) at samples z (a TFP reference)."""
    log_joint_ref = _d.MultivariateNormalDiag(np.zeros(3), np.ones(3)).log_prob(z).numpy()
    log_joint_ref += _d.Normal(z @ _W.T + _b, _s).log_prob(_x).numpy().sum(-1)
    return log_joint_ref - _q.log_prob(z).numpy()


_sd = _log_w(_rng.normal(size=(200_000, 3)) * _sq + _m).std()
_from_prior = float(np.mean(_log_w(_rng.normal(size=(200_000, 3)))))  # at samples of the prior, a common mistake
_hints = [
    (_from_prior, "that average is over samples of the prior N(0, I): draw z from q."),
    (_elbo - float(_q.entropy()), "that is E_q[log p(x, z)] alone: subtract log q(z) too (the entropy term)."),
]
_hints.sort(key=lambda hint: abs(hint[0] - float(checks.as_array(_est, "elbo_monte_carlo"))))  # the nearest first
checks.assert_within_se(
    _est, _elbo, _sd / np.sqrt(_n), "the ELBO estimate for a random 3-D q (D = 4, d = 3)", hints=_hints
)
checks.assert_in_range(
    _se,
    0.85 * _sd / np.sqrt(_n),
    1.15 * _sd / np.sqrt(_n),
    "the standard error for a random 3-D q, n = 5000",
    hint="It is std(log w) / sqrt(n), with log w = log p(x, z) - log q(z) and z ~ q.",
)
### END HIDDEN TESTS

# %% test elbo_monte_carlo:edge_cases points=1
# Edge cases: a narrow q (std 0.1) near the posterior mean, and the seed argument.
_rng = np.random.default_rng(32)
_W, _b, _x, _s = _rng.normal(size=(4, 3)), _rng.normal(size=4), _rng.normal(size=4) * 2, 0.8
_m, _sq = _rng.normal(size=3) * 0.5, np.exp(_rng.normal(size=3) * 0.3 - 0.5)
_cov = np.linalg.inv(np.eye(3) + _W.T @ _W / _s**2)
_m2, _sq2, _n = _cov @ _W.T @ (_x - _b) / _s**2 + 0.3, np.full(3, 0.1), 5_000
_est, _se = elbo_monte_carlo(_x, _W, _b, _s, _m2, _sq2, _n, seed=4)
checks.assert_true(
    np.isfinite(checks.as_array(_est, "elbo_monte_carlo")),
    f"elbo_monte_carlo for a narrow q (std 0.1) returned {_est}, not a finite number.",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_d = tfp.distributions
# Samples must come from q, not from the prior (the two differ a lot for a narrow q far from 0).
_post = _d.MultivariateNormalTriL(_cov @ _W.T @ (_x - _b) / _s**2, np.linalg.cholesky(_cov))
_log_px = float(_d.MultivariateNormalTriL(_b, np.linalg.cholesky(_W @ _W.T + _s**2 * np.eye(4))).log_prob(_x))
_q2 = _d.MultivariateNormalDiag(_m2, _sq2)
_elbo2 = _log_px - float(_d.kl_divergence(_q2, _post))
_z2 = _rng.normal(size=(50_000, 3)) * _sq2 + _m2
_sd2 = np.std(
    _d.MultivariateNormalDiag(np.zeros(3), np.ones(3)).log_prob(_z2).numpy()
    + _d.Normal(_z2 @ _W.T + _b, _s).log_prob(_x).numpy().sum(-1)
    - _q2.log_prob(_z2).numpy()
)
# The tolerance comes from the reference's spread, not from the standard error returned (which could be anything).
checks.assert_within_se(
    _est, _elbo2, max(_sd2 / np.sqrt(_n), 1e-3), "the ELBO estimate for a narrow q (std 0.1) near the posterior mean"
)
# Two seeds give different samples, the same seed the same ones.
checks.assert_true(
    elbo_monte_carlo(_x, _W, _b, _s, _m, _sq, 100, seed=5)[0]
    == elbo_monte_carlo(_x, _W, _b, _s, _m, _sq, 100, seed=5)[0],
    "elbo_monte_carlo with the same seed twice gave different estimates: draw the samples from the seed argument.",
)
checks.assert_true(
    elbo_monte_carlo(_x, _W, _b, _s, _m, _sq, 100, seed=5)[0]
    != elbo_monte_carlo(_x, _W, _b, _s, _m, _sq, 100, seed=6)[0],
    "elbo_monte_carlo with seeds 5 and 6 gave the same estimate: draw the samples from the seed argument.",
)
### END HIDDEN TESTS


# %% [markdown]
# ## Exercise 3 — the ELBO in closed form (3 points)
#
# For this model and a diagonal Gaussian $q$ the ELBO needs no sampling. Use the second form
#
# $$\mathrm{ELBO}(q) = \mathbb E_q[\log p(x \mid z)] - \mathrm{KL}\big(q(z)\,\|\,p(z)\big).$$
#
# With $z = m + \operatorname{diag}(s)\,\varepsilon$, the residual $x - Wz - b$ has mean $x - Wm - b$ and
# covariance $W \operatorname{diag}(s^2) W^\top$, so
#
# $$\mathbb E_q[\log p(x \mid z)] = -\frac D2 \log(2\pi\sigma^2) -
# \frac{\lVert x - Wm - b\rVert^2 + \sum_{i,j} W_{ij}^2 s_j^2}{2\sigma^2},$$
#
# and $\mathrm{KL}(q\,\|\,\mathcal N(0, I)) = \frac12 \sum_j (s_j^2 + m_j^2 - 1 - \ln s_j^2)$.


# %% solution elbo_analytic
def elbo_analytic(x, W, b, sigma, q_mean, q_std):
    """The exact ELBO E_q[log p(x | z)] - KL(q || p(z)) for q = N(q_mean, diag(q_std^2)).

    x: (D,); W: (D, d); b: (D,); sigma > 0; q_mean, q_std: (d,).
    Returns: a float.
    """
    ### BEGIN SOLUTION
    x, W, b, m, s = (tf.convert_to_tensor(v, tf.float64) for v in (x, W, b, q_mean, q_std))
    sigma = tf.convert_to_tensor(sigma, tf.float64)
    D = tf.cast(tf.shape(x)[0], tf.float64)
    residual = x - tf.linalg.matvec(W, m) - b
    spread = tf.reduce_sum(W**2 * s**2)  # tr(W diag(s^2) W^T)
    log_normaliser = -0.5 * D * tf.math.log(2 * np.pi * sigma**2)
    reconstruction = log_normaliser - (tf.reduce_sum(residual**2) + spread) / (2 * sigma**2)
    kl = 0.5 * tf.reduce_sum(s**2 + m**2 - 1.0 - tf.math.log(s**2))
    return float(reconstruction - kl)
    ### END SOLUTION


# %% test elbo_analytic points=1
# 1-D: z ~ N(0, 1), x | z ~ N(z, 1), x = 2; the posterior is N(1, 1/2) and log p(x) = log N(2; 0, 2).
_args = (np.array([2.0]), np.array([[1.0]]), np.array([0.0]), 1.0)
_log_px = -0.5 * np.log(4 * np.pi) - 1.0
checks.assert_close(
    elbo_analytic(*_args, np.array([1.0]), np.array([np.sqrt(0.5)])),
    _log_px,
    "elbo_analytic with q = the exact posterior N(1, 1/2) (the ELBO equals log p(x) there)",
    hints=[
        (_log_px + 2 * 0.5 * (0.5 + 1 - 1 - np.log(0.5)), "the KL(q || p(z)) term is added: the ELBO subtracts it."),
        (
            _log_px - 0.5 * np.log(2 * np.pi * np.e * 0.5),
            "the entropy of q is missing: that is E_q[log p(x, z)] alone.",
        ),
        (
            _log_px + 0.25,
            "the reconstruction term misses the spread of z: add sum W_ij^2 s_j^2 to the squared residual.",
        ),
    ],
)
# q = N(0.5, 1): reconstruction -log(2 pi)/2 - (1.5^2 + 1)/2, KL = 0.5^2 / 2.
_expected = -0.5 * np.log(2 * np.pi) - (1.5**2 + 1) / 2 - 0.125
checks.assert_close(
    elbo_analytic(*_args, np.array([0.5]), np.array([1.0])),
    _expected,
    "elbo_analytic with q = N(0.5, 1)",
    hints=[
        (_expected + 0.25, "the KL(q || p(z)) term is added: the ELBO subtracts it."),
        (
            _expected + 0.5,
            "the reconstruction term misses the spread of z: add sum W_ij^2 s_j^2 to the squared residual.",
        ),
    ],
)

# %% test elbo_analytic:random points=1
# Random models (D = 6, d = 2 and D = 3, d = 4) and random diagonal q, against log p(x) - KL(q || p(z | x)).
_rng = np.random.default_rng(33)
_W, _b, _x = _rng.normal(size=(6, 2)), _rng.normal(size=6), _rng.normal(size=6) * 2
_m, _sq = _rng.normal(size=2), np.exp(_rng.normal(size=2) * 0.5 - 0.3)
_elbo = elbo_analytic(_x, _W, _b, 0.5, _m, _sq)
checks.assert_true(
    np.ndim(checks.as_array(_elbo, "elbo_analytic")) == 0,
    f"elbo_analytic should return one number; got an array of shape {np.shape(_elbo)}.",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_d = tfp.distributions
_rng = np.random.default_rng(33)
for _D, _dz, _s in [(6, 2, 0.5), (3, 4, 1.3)]:
    _W, _b, _x = _rng.normal(size=(_D, _dz)), _rng.normal(size=_D), _rng.normal(size=_D) * 2
    _m, _sq = _rng.normal(size=_dz), np.exp(_rng.normal(size=_dz) * 0.5 - 0.3)
    _cov = np.linalg.inv(np.eye(_dz) + _W.T @ _W / _s**2)
    _post = _d.MultivariateNormalTriL(_cov @ _W.T @ (_x - _b) / _s**2, np.linalg.cholesky(_cov))
    _log_px = float(_d.MultivariateNormalTriL(_b, np.linalg.cholesky(_W @ _W.T + _s**2 * np.eye(_D))).log_prob(_x))
    _q = _d.MultivariateNormalDiag(_m, _sq)
    _expected = _log_px - float(_d.kl_divergence(_q, _post))  # log p(x) = ELBO + KL(q || p(z | x))
    _kl_prior = float(_d.kl_divergence(_q, _d.MultivariateNormalDiag(np.zeros(_dz), np.ones(_dz))))
    _spread = np.sum(_W**2 * _sq**2) / (2 * _s**2)
    checks.assert_close(
        elbo_analytic(_x, _W, _b, _s, _m, _sq),
        _expected,
        f"elbo_analytic for a random model (D = {_D}, d = {_dz}, sigma = {_s}) and a random diagonal q",
        hints=[
            (_expected + 2 * _kl_prior, "the KL(q || p(z)) term is added: the ELBO subtracts it."),
            (
                _expected + _spread,
                "the reconstruction term misses the spread of z: add sum W_ij^2 s_j^2 to the squared residual.",
            ),
            (_expected - float(_q.entropy()), "the entropy of q is missing: that is E_q[log p(x, z)] alone."),
        ],
    )
### END HIDDEN TESTS

# %% test elbo_analytic:diagonal_posterior points=1
# The ELBO is never above log p(x), and equals it at the posterior when the posterior is diagonal.
_W = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
_x, _b, _s = np.array([1.0, -2.0, 0.5]), np.array([0.5, 0.0, 0.0]), 0.5
_var = 1 / (1 + np.diag(_W.T @ _W) / _s**2)
_elbo = elbo_analytic(_x, _W, _b, _s, _var * (_W.T @ (_x - _b)) / _s**2, np.sqrt(_var))
checks.assert_true(
    np.ndim(checks.as_array(_elbo, "elbo_analytic")) == 0,
    f"elbo_analytic should return one number; got an array of shape {np.shape(_elbo)}.",
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp

_log_px = tfp.distributions.MultivariateNormalTriL(_b, np.linalg.cholesky(_W @ _W.T + _s**2 * np.eye(3))).log_prob(_x)
checks.assert_close(
    _elbo,
    float(_log_px),
    "elbo_analytic at the exact (diagonal) posterior of a 2-D model, which must equal log p(x)",
)
### END HIDDEN TESTS


# %% [markdown]
# ## Predict, then run — the gap of a shifted $q$ (1 point)
#
# Answer **before** running the cell below the test. Take the 1-D model of the visible tests,
# $z \sim \mathcal N(0, 1)$, $x \mid z \sim \mathcal N(z, 1)$, $x = 2$, whose exact posterior is $\mathcal N(1, 1/2)$.
# Now let $q = \mathcal N(2, 1/2)$: the posterior's shape, with its mean moved by 1. By how many nats is
# $\mathrm{ELBO}(q)$ below $\log p(x)$? Reason it out from
# $\log p(x) = \mathrm{ELBO}(q) + \mathrm{KL}(q\,\|\,p(z \mid x))$.


# %% solution predicted_elbo_gap
# Your prediction, before running the cell below: a number (nats).
### BEGIN SOLUTION
predicted_elbo_gap = 1.0
### END SOLUTION

# %% test predicted_elbo_gap points=1
checks.assert_true(
    isinstance(predicted_elbo_gap, (int, float, np.integer, np.floating)) and not isinstance(predicted_elbo_gap, bool),
    f"predicted_elbo_gap should be a number of nats, such as 0.3; got {predicted_elbo_gap!r}.",
)
### BEGIN HIDDEN TESTS
# The gap is KL(N(2, 1/2) || N(1, 1/2)); for equal variances v the KL is (difference of means)^2 / (2 v).
_gap = (2.0 - 1.0) ** 2 / (2 * 0.5)
checks.assert_true(
    abs(float(predicted_elbo_gap) - _gap) < 0.05,
    f"You predicted a gap of {predicted_elbo_gap} nats; it is {_gap:g}. The gap log p(x) - ELBO(q) is exactly "
    "KL(q || p(z | x)) = KL(N(2, 1/2) || N(1, 1/2)), and for two Gaussians with the same variance v that is "
    "(difference of means)^2 / (2 v) = 1 / (2 * 1/2) = 1 nat: the variance is q's 1/2, not 1, and moving the "
    "mean does cost ELBO even though the shape is right.",
)
### END HIDDEN TESTS

# %%
# The experiment, with your elbo_analytic: the gap grows as the square of the shift (shift^2 / (2 * 1/2)).
log_px_1d = -0.5 * np.log(4 * np.pi) - 1.0  # log N(2; 0, 2)
for shift in [0.0, 0.5, 1.0, 2.0]:
    elbo = elbo_analytic(
        np.array([2.0]), np.array([[1.0]]), np.array([0.0]), 1.0, np.array([1.0 + shift]), np.array([np.sqrt(0.5)])
    )
    print(f"q = N({1 + shift:.1f}, 1/2):  ELBO = {elbo:.4f},  log p(x) - ELBO = {log_px_1d - elbo:.4f}")

# %% [markdown]
# ## Exercise 4 — the importance-weighted bound (4 points)
#
# With $K$ samples $z_1, \dots, z_K \sim q$ and weights $w_k = p(x, z_k) / q(z_k)$, the average
# $\frac1K \sum_k w_k$ is an unbiased estimate of $p(x)$, so by Jensen
#
# $$\mathcal L_K = \mathbb E\Big[\log \frac1K \sum_{k=1}^K w_k\Big] \le \log p(x),$$
#
# and $\mathcal L_1 = \mathrm{ELBO} \le \mathcal L_K \le \mathcal L_{K+1}$ (Burda et al., 2016).
# Estimate $\mathcal L_K$ by drawing `n_outer` independent sets of $K$ samples, computing
# $\log \frac1K \sum_k w_k$ for each set **in log space** (weights can be $e^{-1000}$; use
# `tf.reduce_logsumexp` or subtract the maximum before exponentiating), and returning the average over
# the sets and its standard error.


# %% solution iwae_bound
def iwae_bound(x, W, b, sigma, q_mean, q_std, k, n_outer, seed=0):
    """Monte Carlo estimate of the importance-weighted bound L_k for q = N(q_mean, diag(q_std^2)).

    x: (D,); W: (D, d); b: (D,); sigma > 0; q_mean, q_std: (d,); k: samples per set;
    n_outer: number of independent sets; seed: an int.
    Returns: (estimate, standard_error), two floats: the mean over the n_outer sets of
    log((1/k) sum_j w_j), w_j = p(x, z_j) / q(z_j), and the standard deviation of those values / sqrt(n_outer).
    """
    ### BEGIN SOLUTION
    q_mean, q_std = (tf.convert_to_tensor(v, tf.float64) for v in (q_mean, q_std))
    eps = tf.random.stateless_normal([n_outer, k, q_mean.shape[0]], seed=[seed, 0], dtype=tf.float64)
    z = q_mean + q_std * eps
    log_w = log_joint(z, x, W, b, sigma) - tf.reduce_sum(tfd.Normal(q_mean, q_std).log_prob(z), axis=-1)
    per_set = tf.reduce_logsumexp(log_w, axis=1) - np.log(k)
    return float(tf.reduce_mean(per_set)), float(tf.math.reduce_std(per_set)) / np.sqrt(n_outer)
    ### END SOLUTION


# %% test iwae_bound points=2
def _iwae_reference(x, W, b, s, m, sq, k, n_outer, rng):
    """Mean and standard deviation of log((1/k) sum w) over n_outer sets, and the mean log-weight (NumPy)."""
    z = m + sq * rng.normal(size=(n_outer, k, len(m)))
    log_lik = -0.5 * np.sum((x - z @ W.T - b) ** 2, -1) / s**2 - len(x) * np.log(s) - 0.5 * len(x) * np.log(2 * np.pi)
    log_w = log_lik - 0.5 * np.sum(z**2, -1) + 0.5 * np.sum(((z - m) / sq) ** 2, -1) + np.sum(np.log(sq))
    top = log_w.max(axis=1, keepdims=True)
    per_set = np.log(np.mean(np.exp(log_w - top), axis=1)) + top[:, 0]
    return per_set.mean(), per_set.std(), log_w.mean()


# 1-D: z ~ N(0, 1), x | z ~ N(z, 1), x = 2. With q = the posterior N(1, 1/2) every weight equals p(x).
_args = (np.array([2.0]), np.array([[1.0]]), np.array([0.0]), 1.0)
_log_px = -0.5 * np.log(4 * np.pi) - 1.0
_result = iwae_bound(*_args, np.array([1.0]), np.array([np.sqrt(0.5)]), 10, 50, seed=1)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"iwae_bound should return (estimate, standard_error); got {type(_result).__name__}.",
)
checks.assert_close(
    _result,
    [_log_px, 0.0],
    "iwae_bound with q = the exact posterior, k = 10 (every weight is p(x))",
    atol=1e-8,
    hints=[([_log_px + np.log(10), 0.0], "off by log k: average the weights (subtract log k after the log-sum-exp).")],
)
# q = the prior N(0, 1), k = 50: the bound is far above the ELBO (-3.42) and just below log p(x) (-2.27).
_rng = np.random.default_rng(0)
_mean, _sd, _elbo = _iwae_reference(*_args, np.array([0.0]), np.array([1.0]), 50, 100_000, _rng)
_est, _se = iwae_bound(*_args, np.array([0.0]), np.array([1.0]), 50, 2_000, seed=2)
checks.assert_within_se(
    _est,
    _mean,
    _sd / np.sqrt(2_000),
    "the k = 50 bound for q = N(0, 1)",
    hints=[
        (_elbo, "that is the ELBO: average the weights inside the log (log-mean-exp), not the log-weights."),
        (_mean + np.log(50), "off by log k: average the weights (subtract log k after the log-sum-exp)."),
    ],
)
checks.assert_in_range(
    _se,
    0.85 * _sd / np.sqrt(2_000),
    1.15 * _sd / np.sqrt(2_000),
    "the standard error of the k = 50 bound, n_outer = 2000",
    hint="It is the std of the n_outer values of log((1/k) sum w) divided by sqrt(n_outer).",
)

# %% test iwae_bound:random points=1
# A random 2-D model (D = 4): L_1 (the ELBO), L_10 and L_100 against a NumPy reference.
_rng = np.random.default_rng(34)
_W, _b, _x, _s = _rng.normal(size=(4, 2)), _rng.normal(size=4), _rng.normal(size=4) * 2, 0.6
_m, _sq = np.array([0.3, -0.2]), np.array([0.6, 0.5])
_result = iwae_bound(_x, _W, _b, _s, _m, _sq, 1, 1_000, seed=1)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"iwae_bound should return (estimate, standard_error); got {type(_result).__name__}.",
)


### BEGIN HIDDEN TESTS
def _iwae_reference(x, W, b, s, m, sq, k, n_outer, rng):
    """Mean and standard deviation of log((1/k) sum w) over n_outer sets, and the mean log-weight (NumPy)."""
    z = m + sq * rng.normal(size=(n_outer, k, len(m)))
    log_lik = -0.5 * np.sum((x - z @ W.T - b) ** 2, -1) / s**2 - len(x) * np.log(s) - 0.5 * len(x) * np.log(2 * np.pi)
    log_w = log_lik - 0.5 * np.sum(z**2, -1) + 0.5 * np.sum(((z - m) / sq) ** 2, -1) + np.sum(np.log(sq))
    top = log_w.max(axis=1, keepdims=True)
    per_set = np.log(np.mean(np.exp(log_w - top), axis=1)) + top[:, 0]
    return per_set.mean(), per_set.std(), log_w.mean()


_previous = -np.inf
for _k in (1, 10, 100):
    _mean, _sd, _elbo = _iwae_reference(_x, _W, _b, _s, _m, _sq, _k, 300_000 // _k, _rng)
    _est, _se = iwae_bound(_x, _W, _b, _s, _m, _sq, _k, 1_000, seed=_k)
    _hints = [(_mean + np.log(_k), "off by log k: average the weights (subtract log k after the log-sum-exp).")]
    if _k > 1:
        _hints.insert(
            0, (_elbo, "that is the ELBO: average the weights inside the log (log-mean-exp), not the log-weights.")
        )
    checks.assert_within_se(
        _est, _mean, _sd / np.sqrt(1_000), f"the k = {_k} bound for a random 2-D model", hints=_hints
    )
    checks.assert_true(_mean > _previous, "internal check: the reference bound should grow with k")
    _previous = _mean
### END HIDDEN TESTS

# %% test iwae_bound:far_q points=1
# A q far from the posterior: log-weights near -1000, whose exp underflows to 0 in float64.
_rng = np.random.default_rng(34)
_W, _b, _x, _s = _rng.normal(size=(4, 2)), _rng.normal(size=4), _rng.normal(size=4) * 2, 0.6
_m_far, _sq_far = np.array([25.0, -25.0]), np.array([0.3, 0.3])
_result = iwae_bound(_x, _W, _b, _s, _m_far, _sq_far, 20, 1_000, seed=7)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"iwae_bound should return (estimate, standard_error); got {type(_result).__name__}.",
)
_est, _se = _result


### BEGIN HIDDEN TESTS
def _iwae_reference(x, W, b, s, m, sq, k, n_outer, rng):
    """Mean and standard deviation of log((1/k) sum w) over n_outer sets, and the mean log-weight (NumPy)."""
    z = m + sq * rng.normal(size=(n_outer, k, len(m)))
    log_lik = -0.5 * np.sum((x - z @ W.T - b) ** 2, -1) / s**2 - len(x) * np.log(s) - 0.5 * len(x) * np.log(2 * np.pi)
    log_w = log_lik - 0.5 * np.sum(z**2, -1) + 0.5 * np.sum(((z - m) / sq) ** 2, -1) + np.sum(np.log(sq))
    top = log_w.max(axis=1, keepdims=True)
    per_set = np.log(np.mean(np.exp(log_w - top), axis=1)) + top[:, 0]
    return per_set.mean(), per_set.std(), log_w.mean()


_mean, _sd, _ = _iwae_reference(_x, _W, _b, _s, _m_far, _sq_far, 20, 20_000, _rng)
checks.assert_true(
    np.isfinite(checks.as_array(_est, "iwae_bound")),
    f"iwae_bound for a q far from the posterior (log-weights about {_mean:.0f}) returned {_est}: the weights "
    "underflow to 0 when exponentiated. Work in log space: tf.reduce_logsumexp, or subtract the max log-weight first.",
)
checks.assert_within_se(
    _est, _mean, _sd / np.sqrt(1_000), "the k = 20 bound for a q far from the posterior (log-weights near -1000)"
)
### END HIDDEN TESTS


# %% [markdown]
# ## Predict, then run — which $q$ gains more from $K$? (1 point)
#
# Answer **before** running the cell below the test. Same 1-D model, posterior $\mathcal N(1, 1/2)$ (standard
# deviation $0.71$). Two proposals, both centred on the posterior mean: a **wide** $q$ with twice the
# posterior's standard deviation, and a **narrow** $q$ with half of it. Going from $K = 1$ (the ELBO) to
# $K = 100$, which bound rises by more nats?
#
# - **(a)** the wide $q$'s;
# - **(b)** the narrow $q$'s;
# - **(c)** both by about the same amount.
#
# Put the letter in `predicted_iwae_gain` (a string). Think about how far each ELBO is below $\log p(x)$ to
# start with, and what a narrow $q$ almost never samples.


# %% solution predicted_iwae_gain
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_iwae_gain = "a"
### END SOLUTION

# %% test predicted_iwae_gain points=1
checks.assert_true(
    isinstance(predicted_iwae_gain, str) and predicted_iwae_gain.strip().lower() in ("a", "b", "c"),
    f'predicted_iwae_gain should be one of the letters "a", "b" or "c"; got {predicted_iwae_gain!r}.',
)
### BEGIN HIDDEN TESTS
# KL(N(1, r^2 v) || N(1, v)) = (r^2 - 1 - 2 log r) / 2: 0.81 nats for r = 2, 0.32 for r = 1/2. The gain from
# K = 1 to 100 cannot exceed that gap; measured over 4,000 sets, the wide q gains 0.80 and the narrow 0.26.
_gaps = {r: 0.5 * (r**2 - 1 - 2 * np.log(r)) for r in (2.0, 0.5)}
checks.assert_true(
    predicted_iwae_gain.strip().lower() == "a",
    f"You predicted ({predicted_iwae_gain.strip()}); the answer is (a), the wide q. Its ELBO starts further below "
    f"log p(x): the gap is KL(q || p(z | x)) = {_gaps[2.0]:.2f} nats for the wide q against {_gaps[0.5]:.2f} for "
    "the narrow one, and no L_K can gain more than that gap. The wide q also covers the posterior, so its weights "
    "p(x, z) / q(z) are bounded and L_100 is within about 0.005 nats of log p(x); the narrow q rarely samples the "
    "posterior's tails, its weights are heavy-tailed, and L_100 stays about 0.06 nats short. L_K forgives a q "
    "that is too wide far better than one that is too narrow.",
)
### END HIDDEN TESTS

# %%
# The experiment, with your iwae_bound: L_K - log p(x) for both proposals.
log_px_1d = -0.5 * np.log(4 * np.pi) - 1.0  # log N(2; 0, 2)
for label, std in [("wide", 2 * np.sqrt(0.5)), ("narrow", 0.5 * np.sqrt(0.5))]:
    for k in [1, 10, 100]:
        estimate, se = iwae_bound(
            np.array([2.0]), np.array([[1.0]]), np.array([0.0]), 1.0, np.array([1.0]), np.array([std]), k, 4_000, seed=k
        )
        print(f"{label:6s} q, K = {k:3d}:  L_K - log p(x) = {estimate - log_px_1d:+.4f} ± {se:.4f}")

# %% [markdown]
# ## Exercise 5 — black-box variational inference (4 points)
#
# Fit the diagonal Gaussian $q$ by **maximising the ELBO with reparameterised gradients**: write
# $z = m + s \odot \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$, so that a Monte Carlo estimate of
# the ELBO is a differentiable function of $(m, \log s)$, and follow its gradient with Adam.
#
# Suggested recipe: start at $m = 0$, $s = 1$; optimise $\log s$ so that $s$ stays positive; each step,
# draw 256 samples of $\varepsilon$ and minimise $-\frac1{256}\sum_i [\log p(x, z_i) - \log q(z_i)]$ with
# `keras.optimizers.Adam(0.05)` for `steps` steps, then a further `steps` steps with learning rate 0.005
# to let the noise settle. Use `tf.GradientTape` (and `tf.function` for speed). Any correct method passes
# if its answer lands within 0.05 of the optimum, so do not stop while the estimates still jump around.
#
# When the exact posterior is diagonal, $q$ can match it. When it is not, the best diagonal $q$ still
# has the posterior's mean, but its variances are $1 / (\Sigma_{z|x}^{-1})_{jj}$: smaller than the
# posterior's marginal variances (unit 04 calls this mean-field under-estimating the variance).


# %% solution fit_posterior
def fit_posterior(x, W, b, sigma, steps=500, seed=0):
    """Fit q = N(m, diag(s^2)) to p(z | x) by maximising the ELBO with reparameterised gradients.

    x: (D,); W: (D, d); b: (D,); sigma > 0; steps: optimisation steps (per learning-rate stage in the
    suggested recipe); seed: an int.
    Returns: (q_mean, q_std): two arrays of shape (d,), q_std the standard deviations.
    """
    ### BEGIN SOLUTION
    x, W, b = (tf.convert_to_tensor(v, tf.float64) for v in (x, W, b))
    sigma = tf.convert_to_tensor(sigma, tf.float64)
    d = W.shape[1]
    m = tf.Variable(tf.zeros(d, tf.float64))
    log_s = tf.Variable(tf.zeros(d, tf.float64))
    generator = tf.random.Generator.from_seed(seed)

    def stage(learning_rate, n_steps):
        optimizer = keras.optimizers.Adam(learning_rate)

        @tf.function
        def step():
            eps = generator.normal([256, d], dtype=tf.float64)
            with tf.GradientTape() as tape:
                s = tf.exp(log_s)
                z = m + s * eps
                log_q = tf.reduce_sum(tfd.Normal(m, s).log_prob(z), axis=-1)
                loss = -tf.reduce_mean(log_joint(z, x, W, b, sigma) - log_q)
            optimizer.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))

        for _ in range(n_steps):
            step()

    stage(0.05, steps)
    stage(0.005, steps)
    return m.numpy(), np.exp(log_s.numpy())
    ### END SOLUTION


# %% test fit_posterior points=2
# W has orthogonal columns, so the exact posterior is diagonal: precision diag(1 + 4/0.25, 1 + 1/0.25).
_W = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
_x, _b, _s = np.array([1.0, -2.0, 0.5]), np.array([0.5, 0.0, 0.0]), 0.5
_var = 1 / (1 + np.array([4.0, 1.0]) / _s**2)
_mean = _var * (_W.T @ (_x - _b)) / _s**2
_fit = fit_posterior(_x, _W, _b, _s, seed=0)
checks.assert_true(
    isinstance(_fit, (tuple, list)) and len(_fit) == 2,
    f"fit_posterior should return (q_mean, q_std); got {type(_fit).__name__}.",
)
checks.assert_close(
    _fit[0],
    _mean,
    "the fitted q_mean for a model with a diagonal posterior",
    rtol=0,
    atol=0.05,
    hints=[(np.zeros(2), "q_mean did not move from 0: do the gradients reach m through z = m + s * eps?")],
)
checks.assert_close(
    _fit[1],
    np.sqrt(_var),
    "the fitted q_std for a model with a diagonal posterior",
    rtol=0,
    atol=0.05,
    hints=[(_var, "q_std is the standard deviation: you returned the variance.")],
)

# %% test fit_posterior:correlated points=2
# A model whose exact posterior is correlated, so that no diagonal q can match it.
_rng = np.random.default_rng(35)
_W, _s = np.array([[1.0, 0.8], [0.6, 1.0], [0.3, 0.5], [0.0, 0.4]]), 0.7
_b, _x = _rng.normal(size=4), _rng.normal(size=4) * 2
_fit = fit_posterior(_x, _W, _b, _s, seed=1)
checks.assert_true(
    isinstance(_fit, (tuple, list)) and len(_fit) == 2,
    f"fit_posterior should return (q_mean, q_std); got {type(_fit).__name__}.",
)
### BEGIN HIDDEN TESTS
# The correlation is about -0.7: the best diagonal q has the posterior mean and standard deviations
# 1 / sqrt(precision_jj), well below the posterior's marginal ones (0.70, 0.61).
_prec = np.eye(2) + _W.T @ _W / _s**2
_cov = np.linalg.inv(_prec)
_mean = _cov @ _W.T @ (_x - _b) / _s**2
_std = 1 / np.sqrt(np.diag(_prec))
_fit_mean, _fit_std = (checks.as_array(v, "fit_posterior") for v in _fit)
checks.assert_close(
    _fit_mean,
    _mean,
    "the fitted q_mean for a model with a correlated 2-D posterior",
    rtol=0,
    atol=0.05,
    hints=[(np.zeros(2), "q_mean did not move from 0: do the gradients reach m through z = m + s * eps?")],
)
checks.assert_close(
    _fit_std,
    _std,
    "the fitted q_std for a correlated 2-D posterior (the best diagonal q has std 1 / sqrt(precision_jj))",
    rtol=0,
    atol=0.05,
    hints=[
        (
            np.sqrt(np.diag(_cov)),
            "these are the posterior's marginal stds: the KL-optimal diagonal q is narrower, "
            "1 / sqrt(diag(precision)). Did you compute the posterior instead of maximising the ELBO?",
        ),
        (_std**2, "q_std is the standard deviation: you returned the variance."),
    ],
)
### END HIDDEN TESTS


# %% [markdown]
# ## Exercise 6 — the variance of two gradient estimators (4 points)
#
# The gradient of the ELBO with respect to $q$'s mean $m$ has two classic Monte Carlo estimators, each
# averaged over `n_samples` draws of $z \sim q$:
#
# - **reparameterised** (pathwise): with $z = m + s \odot \varepsilon$, differentiate
#   $\log p(x, z) - \log q(z)$ through $z$. Here
#   $\log q(m + s\odot\varepsilon) = -\sum_j \log s_j - \|\varepsilon\|^2/2 - \frac d2\log 2\pi$
#   does not depend on $m$, so the per-sample gradient is $\nabla_z \log p(x, z)$;
# - **score function** (REINFORCE): $\big[\log p(x, z) - \log q(z)\big]\,\nabla_m \log q(z)$, with
#   $\nabla_m \log q(z) = (z - m) / s^2$ (elementwise). It needs no derivative of $p$, but it is noisy.
#
# Both are unbiased. Compute each estimator `n_replicates` times, each from its own `n_samples` draws,
# and return, for each, the **total variance**: the variance across replicates of each component of the
# gradient (`np.var`), summed over the $d$ components.


# %% solution gradient_variance
def gradient_variance(x, W, b, sigma, q_mean, q_std, n_samples, n_replicates, seed=0):
    """Total variance of the reparameterised and score-function estimators of d ELBO / d q_mean.

    x: (D,); W: (D, d); b: (D,); sigma > 0; q_mean, q_std: (d,); n_samples: draws per estimate;
    n_replicates: independent estimates; seed: an int.
    Returns: (var_reparam, var_score): two floats, each the sum over the d components of the variance
    across the n_replicates estimates.
    """
    ### BEGIN SOLUTION
    q_mean, q_std = (tf.convert_to_tensor(v, tf.float64) for v in (q_mean, q_std))
    eps = tf.random.stateless_normal([n_replicates, n_samples, q_mean.shape[0]], seed=[seed, 0], dtype=tf.float64)
    m = q_mean * tf.ones([n_replicates, 1, 1], tf.float64)  # one copy of m per replicate
    with tf.GradientTape() as tape:
        tape.watch(m)
        z = m + q_std * eps
        log_w = log_joint(z, x, W, b, sigma) - tf.reduce_sum(tfd.Normal(m, q_std).log_prob(z), axis=-1)
        objective = tf.reduce_sum(tf.reduce_mean(log_w, axis=1))
    reparam = tape.gradient(objective, m)[:, 0, :]  # (n_replicates, d)
    score = tf.reduce_mean(tf.stop_gradient(log_w)[..., None] * (z - m) / q_std**2, axis=1)
    var_reparam = tf.reduce_sum(tf.math.reduce_variance(reparam, axis=0))
    var_score = tf.reduce_sum(tf.math.reduce_variance(score, axis=0))
    return float(var_reparam), float(var_score)
    ### END SOLUTION


# %% test gradient_variance points=1
# 1-D: z ~ N(0, 1), x | z ~ N(z, 1), x = 3, q = N(0.5, 0.8^2). The reparameterised per-sample gradient
# is d/dz log p(x, z) = (x - z) - z = 3 - 2z, so its variance is 4 * 0.8^2 / n_samples exactly.
_args = (np.array([3.0]), np.array([[1.0]]), np.array([0.0]), 1.0, np.array([0.5]), np.array([0.8]))
_result = gradient_variance(*_args, 10, 4_000, seed=0)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"gradient_variance should return (var_reparam, var_score); got {type(_result).__name__}.",
)
_var_reparam, _var_score = (float(checks.as_array(v, "gradient_variance")) for v in _result)
_exact = 4 * 0.8**2 / 10
checks.assert_in_range(
    _var_reparam,
    0.9 * _exact,
    1.1 * _exact,
    "var_reparam for the 1-D model, n_samples = 10",
    hint=(
        "For a per-sample variance of 4 * 0.8^2 = 2.56, an average of 10 samples has variance 0.256. "
        + (
            "You got about 1/4 of that: is the prior's -z missing from d/dz log p(x, z)?"
            if abs(_var_reparam / _exact - 0.25) < 0.05
            else "Is it a variance (not a standard deviation), across replicates of averages?"
        )
    ),
)
checks.assert_true(
    _var_score > 5 * _var_reparam,
    f"var_score = {_var_score:.4g} should be far above var_reparam = {_var_reparam:.4g}: the score-function "
    "estimator is the noisy one. Is it (log p(x, z) - log q(z)) * (z - m) / s^2 for each sample?",
)

# %% test gradient_variance:score_1d points=1
# The same 1-D case: var_score against a NumPy reference from 2 million draws.
_args = (np.array([3.0]), np.array([[1.0]]), np.array([0.0]), 1.0, np.array([0.5]), np.array([0.8]))
_result = gradient_variance(*_args, 10, 4_000, seed=0)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"gradient_variance should return (var_reparam, var_score); got {type(_result).__name__}.",
)
_var_score = float(checks.as_array(_result[1], "gradient_variance"))


### BEGIN HIDDEN TESTS
def _score_variance(x, W, b, s, m, sq, n_samples, rng, n=2_000_000):
    """Per-component variance of the score-function estimator averaged over n_samples draws, summed."""
    z = m + sq * rng.normal(size=(n, len(m)))
    log_lik = -0.5 * np.sum((x - z @ W.T - b) ** 2, -1) / s**2 - len(x) * np.log(s) - 0.5 * len(x) * np.log(2 * np.pi)
    log_w = log_lik - 0.5 * np.sum(z**2, -1) + 0.5 * np.sum(((z - m) / sq) ** 2, -1) + np.sum(np.log(sq))
    log_q = -np.sum(np.log(sq)) - 0.5 * np.sum(((z - m) / sq) ** 2, -1) - 0.5 * len(m) * np.log(2 * np.pi)
    score = (z - m) / sq**2
    return (
        np.var(log_w[:, None] * score, axis=0).sum() / n_samples,
        np.var(score, axis=0).sum() / n_samples,
        np.var((log_w + log_q)[:, None] * score, axis=0).sum() / n_samples,  # log p(x, z) alone as the factor
    )


_rng = np.random.default_rng(36)
_ref, _only_score, _no_log_q = _score_variance(*_args, 10, _rng)
checks.assert_in_range(
    _var_score,
    0.85 * _ref,
    1.15 * _ref,
    "var_score for the 1-D model, n_samples = 10",
    hint=(
        "That matches Var[(z - m) / s^2]: multiply the score by log p(x, z) - log q(z)."
        if abs(_var_score / _only_score - 1) < 0.2
        else "That matches using log p(x, z) alone: the estimator multiplies the score by log p(x, z) - log q(z)."
        if abs(_var_score / _no_log_q - 1) < 0.1
        else "Use (log p(x, z) - log q(z)) * (z - m) / s^2 averaged over n_samples draws, "
        "and its variance over replicates."
    ),
)
### END HIDDEN TESTS

# %% test gradient_variance:random_reparam points=1
# A random 3-D model (D = 4), n_samples = 20: var_reparam against its exact value.
_rng = np.random.default_rng(46)
_W, _b, _x, _s = _rng.normal(size=(4, 3)), _rng.normal(size=4), _rng.normal(size=4), 0.9
_m, _sq = np.array([0.2, -0.4, 0.1]), np.array([0.7, 0.5, 0.9])
_result = gradient_variance(_x, _W, _b, _s, _m, _sq, 20, 3_000, seed=1)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"gradient_variance should return (var_reparam, var_score); got {type(_result).__name__}.",
)
_var_reparam = float(checks.as_array(_result[0], "gradient_variance"))
### BEGIN HIDDEN TESTS
_prec = np.eye(3) + _W.T @ _W / _s**2
_exact = np.trace(_prec @ np.diag(_sq**2) @ _prec) / 20  # grad_z log p(x, z) = W^T (x - b) / s^2 - precision z
_no_prior = np.trace((_prec - np.eye(3)) @ np.diag(_sq**2) @ (_prec - np.eye(3))) / 20
checks.assert_in_range(
    _var_reparam,
    0.9 * _exact,
    1.1 * _exact,
    "var_reparam for a random 3-D model, n_samples = 20",
    hint=(
        "That matches d/dz log p(x | z) alone: add the prior's -z."
        if abs(_var_reparam / _no_prior - 1) < 0.1
        else "The per-sample gradient is grad_z log p(x, z) at z = m + s * eps; "
        "take the variance of its average over n_samples."
    ),
)
### END HIDDEN TESTS

# %% test gradient_variance:random_score points=1
# A random 3-D model (D = 4), n_samples = 20: var_score against a NumPy reference from 2 million draws.
_rng = np.random.default_rng(46)
_W, _b, _x, _s = _rng.normal(size=(4, 3)), _rng.normal(size=4), _rng.normal(size=4), 0.9
_m, _sq = np.array([0.2, -0.4, 0.1]), np.array([0.7, 0.5, 0.9])
_result = gradient_variance(_x, _W, _b, _s, _m, _sq, 20, 3_000, seed=1)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"gradient_variance should return (var_reparam, var_score); got {type(_result).__name__}.",
)
_var_score = float(checks.as_array(_result[1], "gradient_variance"))


### BEGIN HIDDEN TESTS
def _score_variance(x, W, b, s, m, sq, n_samples, rng, n=2_000_000):
    """Per-component variance of the score-function estimator averaged over n_samples draws, summed."""
    z = m + sq * rng.normal(size=(n, len(m)))
    log_lik = -0.5 * np.sum((x - z @ W.T - b) ** 2, -1) / s**2 - len(x) * np.log(s) - 0.5 * len(x) * np.log(2 * np.pi)
    log_w = log_lik - 0.5 * np.sum(z**2, -1) + 0.5 * np.sum(((z - m) / sq) ** 2, -1) + np.sum(np.log(sq))
    log_q = -np.sum(np.log(sq)) - 0.5 * np.sum(((z - m) / sq) ** 2, -1) - 0.5 * len(m) * np.log(2 * np.pi)
    score = (z - m) / sq**2
    return (
        np.var(log_w[:, None] * score, axis=0).sum() / n_samples,
        np.var(score, axis=0).sum() / n_samples,
        np.var((log_w + log_q)[:, None] * score, axis=0).sum() / n_samples,  # log p(x, z) alone as the factor
    )


_ref, _only_score, _no_log_q = _score_variance(_x, _W, _b, _s, _m, _sq, 20, _rng)
checks.assert_in_range(
    _var_score,
    0.85 * _ref,
    1.15 * _ref,
    "var_score for a random 3-D model, n_samples = 20",
    hint=(
        "That matches Var[(z - m) / s^2]: multiply the score by log p(x, z) - log q(z)."
        if abs(_var_score / _only_score - 1) < 0.2
        else "That matches using log p(x, z) alone: the estimator multiplies the score by log p(x, z) - log q(z)."
        if abs(_var_score / _no_log_q - 1) < 0.1
        else ""
    ),
)
### END HIDDEN TESTS


# %% [markdown]
# ## Summary
#
# - In a conjugate linear-Gaussian model the evidence $p(x) = \mathcal N(b, WW^\top + \sigma^2 I)$ and the
#   posterior are exact, which makes it the place to test every estimator of this lab.
# - The ELBO is an expectation under $q$: estimate it with a standard error, or, for Gaussians, in
#   closed form as reconstruction minus $\mathrm{KL}(q\,\|\,p(z))$. Its gap to $\log p(x)$ is
#   $\mathrm{KL}(q\,\|\,p(z \mid x))$.
# - $\mathcal L_K$ averages the weights inside the log: it grows with $K$ towards $\log p(x)$; compute
#   it with a log-sum-exp.
# - Reparameterised gradients let black-box VI recover the posterior; the score-function estimator is
#   unbiased too, but its variance is far larger.
