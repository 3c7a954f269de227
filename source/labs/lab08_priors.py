# %% [markdown]
# # Lab 08 — Priors for VAEs, transferred: weighted full-covariance mixtures, a VampPrior, a Monte Carlo KL
#
# The lecture's priors were mixtures of *diagonal* Gaussians with *equal* weights, its encoder returned
# log-variances, its KL was estimated one sample at a time, and ELBO surgery was computed on a 2-D grid. Here the
# mixture has full covariances and weights from logits, the VampPrior is built on an encoder that returns
# log-standard-deviations, the Monte Carlo KL comes with its standard error for each example, and the mutual
# information of ELBO surgery is estimated in any dimension, without a grid. No training: small fixed tensors and a
# tiny fixed encoder, so the lab runs in seconds.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - evaluate the log-density of a weighted mixture of full-covariance Gaussians stably, from logits and Cholesky
#   factors;
# - write a VampPrior's log-density for any encoder, and say why the *densities* of the components are averaged,
#   not their parameters;
# - estimate a KL with no closed form by Monte Carlo, with a standard error for each example;
# - estimate the mutual information $I_q(x; z)$ of ELBO surgery from samples of the aggregated posterior.

# %% setup

# %% locked imports
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config

tfd = tfp.distributions

# %% [markdown]
# ## Exercise 1 — a weighted mixture of full-covariance Gaussians (3 points)
#
# A mixture prior with $K$ components of unequal weights $\pi = \operatorname{softmax}(a)$ (from logits $a$) and full
# covariances $\Sigma_k = L_k L_k^\top$, each given by its lower-triangular Cholesky factor $L_k$ (positive
# diagonal):
#
# $$p(z) = \sum_{k=1}^K \pi_k\, \mathcal N(z;\ m_k, L_k L_k^\top), \qquad
# \log \mathcal N(z;\ m, LL^\top) = -\tfrac12 \lVert y \rVert^2 - \sum_{j=1}^d \log L_{jj} - \tfrac d2 \log 2\pi,
# \quad L y = z - m.$$
#
# Write `mixture_log_prob(z, logits, means, scale_trils)` for `z` of shape `(n, d)`, `logits` `(K,)`, `means`
# `(K, d)` and `scale_trils` `(K, d, d)`; return $\log p(z)$ of shape `(n,)`. It must stay finite far from every
# component (a point 50 standard deviations away has $\log \mathcal N \approx -1250$: $e^{-1250}$ is 0 in float32
# and in float64). *Hints:* `tf.linalg.triangular_solve` solves $Ly = b$; `tf.nn.log_softmax` and
# `tf.reduce_logsumexp` exist. TensorFlow or NumPy, float32 or float64: the tests compare numbers.


# %% solution mixture_log_prob
def mixture_log_prob(z, logits, means, scale_trils):
    """log p(z) of a mixture with weights softmax(logits) and components N(means[k], L_k L_k^T), L_k = scale_trils[k].

    z: (n, d); logits: (K,); means: (K, d); scale_trils: (K, d, d), lower triangular with a positive diagonal.
    Returns: (n,) log-densities.
    """
    ### BEGIN SOLUTION
    z = tf.convert_to_tensor(z, tf.float64)
    means = tf.convert_to_tensor(means, tf.float64)
    chol = tf.convert_to_tensor(scale_trils, tf.float64)
    dim = z.shape[-1]
    centred = z[None, :, :] - means[:, None, :]  # (K, n, d)
    solved = tf.linalg.triangular_solve(chol, tf.linalg.matrix_transpose(centred), lower=True)  # (K, d, n)
    half_log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(chol)), axis=-1)  # (K,)
    log_normal = -0.5 * tf.reduce_sum(solved**2, axis=1) - half_log_det[:, None] - 0.5 * dim * np.log(2 * np.pi)
    log_weights = tf.nn.log_softmax(tf.convert_to_tensor(logits, tf.float64))
    return tf.reduce_logsumexp(log_weights[:, None] + log_normal, axis=0)
    ### END SOLUTION


# %% test mixture_log_prob points=3
def _reference(z, logits, means, trils):
    _mix = tfd.MixtureSameFamily(
        tfd.Categorical(logits=np.asarray(logits, "float64")),
        tfd.MultivariateNormalTriL(np.asarray(means, "float64"), np.asarray(trils, "float64")),
    )
    return _mix.log_prob(np.asarray(z, "float64")).numpy()


def _hints(z, logits, means, trils):
    """What the usual mistakes give, computed in float64."""
    _z, _m, _l = (np.asarray(a, "float64") for a in (z, means, trils))
    _logits = np.asarray(logits, "float64")
    _log_w = _logits - np.logaddexp.reduce(_logits)
    _comp = tfd.MultivariateNormalTriL(_m, _l).log_prob(_z[:, None, :]).numpy()  # (n, K)
    _diag = tfd.MultivariateNormalDiag(_m, np.diagonal(_l, axis1=1, axis2=2)).log_prob(_z[:, None, :]).numpy()
    _log_det = np.sum(np.log(np.diagonal(_l, axis1=1, axis2=2)), axis=1)
    _k = len(_logits)
    return [
        (
            np.logaddexp.reduce(_comp + _logits, axis=1),
            "the logits were used as log-weights without normalising them: the weights are softmax(logits), so "
            "subtract logsumexp(logits) (tf.nn.log_softmax does it).",
        ),
        (
            np.logaddexp.reduce(_diag, axis=1) - np.log(_k),
            "that is the lecture's mixture: equal weights 1/K and only the diagonal of each Cholesky factor. Use "
            "softmax(logits) and the full L_k.",
        ),
        (np.logaddexp.reduce(_comp, axis=1) - np.log(_k), "equal weights 1/K: the logits were ignored."),
        (
            np.logaddexp.reduce(_diag + _log_w, axis=1),
            "only the diagonal of L_k was used: the off-diagonal entries (the correlations) matter too.",
        ),
        (
            np.logaddexp.reduce(_comp + _log_w - _log_det, axis=1),
            "the log-determinant was counted twice: log N has -sum_j log L_jj once (that is -1/2 log det LL^T).",
        ),
        (
            np.logaddexp.reduce(_comp + _log_w + _log_det, axis=1),
            "the log-determinant term is missing: log N needs -sum_j log L_jj.",
        ),
    ]


def _check(z, logits, means, trils, what):
    _got = checks.as_array(mixture_log_prob(z, logits, means, trils), what)
    checks.assert_true(_got.shape == (len(z),), f"{what} should have shape (n,) = ({len(z)},), got {_got.shape}.")
    checks.assert_true(
        np.all(np.isfinite(_got)),
        f"{what} should be finite, got {np.round(_got, 2)}: far from every component, exp(log N) underflows to 0, "
        "so the log of a sum of exps is log 0 = -inf. Use log-sum-exp (subtract the largest term first).",
    )
    checks.assert_close(
        _got, _reference(z, logits, means, trils), what, rtol=1e-4, atol=1e-3, hints=_hints(z, logits, means, trils)
    )


# One component, L = I: log N(z; m, I) with z - m = (1, 2) is -(1 + 4) / 2 - log(2 pi).
_check([[1.0, 2.0]], [0.3], [[0.0, 0.0]], [np.eye(2)], "mixture_log_prob for K = 1, L = I")
# Two components with weights 0.25 and 0.75, the second correlated: L = [[1, 0], [0.8, 0.6]].
_trils = np.array([np.eye(2), [[1.0, 0.0], [0.8, 0.6]]])
_z = [[0.0, 0.0], [1.0, 1.0], [-2.0, 0.5]]
_check(_z, np.log([0.25, 0.75]), [[0.0, 0.0], [1.0, 1.0]], _trils, "mixture_log_prob for K = 2, weights 0.25, 0.75")
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(81)
for _trial in range(3):
    _l = np.tril(_r.normal(0, 0.5, size=(4, 3, 3)), -1) + np.eye(3) * _r.uniform(0.3, 1.5, size=(4, 1, 3))
    _means = _r.normal(0, 2, size=(4, 3))
    _logits = _r.normal(0, 1.5, size=4) + 2.0  # not normalised, on purpose
    _check(_r.normal(0, 2, size=(6, 3)), _logits, _means, _l, f"mixture_log_prob for random K = 4, d = 3 (#{_trial})")
# Far away: about 50 standard deviations from every component, finite and right.
_check(np.full((2, 3), 60.0), _logits, _means, _l, "mixture_log_prob at z = (60, 60, 60)")
# Adding a constant to every logit leaves the weights, so the density, unchanged.
_z = _r.normal(size=(5, 3))
_a = checks.as_array(mixture_log_prob(_z, _logits, _means, _l), "mixture_log_prob")
_b = checks.as_array(mixture_log_prob(_z, _logits + 7.0, _means, _l), "mixture_log_prob with logits + 7")
checks.assert_close(_b, _a, "mixture_log_prob with every logit shifted by 7 (the softmax is unchanged)", rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — a VampPrior on a given encoder (3 points)
#
# The VampPrior is the encoder's posterior averaged over $K$ pseudo-inputs $u_1, \dots, u_K$:
#
# $$p(z) = \frac1K \sum_{k=1}^K q(z \mid u_k), \qquad q(z \mid u) = \mathcal N\big(z;\ \mu(u), \operatorname{diag}
# \sigma(u)^2\big).$$
#
# The encoder here is not the lecture's: `encode(x)` returns `(mean, log_std)`, the **log standard deviation**
# $\log \sigma$, not the log-variance. `make_encoder` below builds small fixed encoders of this kind (no training).
# Write `vamp_log_prob(z, pseudo_inputs, encode)` for `z` of shape `(..., d)` (any number of leading axes: a batch,
# or samples of a batch), `pseudo_inputs` of shape `(K, D)`; return $\log p(z)$ of shape `z.shape[:-1]`, stably.


# %% locked encoder
def make_encoder(data_dim, latent_dim, seed):
    """A small fixed encoder x (B, data_dim) -> (mean, log_std), each (B, latent_dim): a tanh layer, then linear."""
    weights = np.random.default_rng(seed)
    w1 = tf.constant(weights.normal(0, 1 / np.sqrt(data_dim), (data_dim, 16)), tf.float32)
    w2 = tf.constant(weights.normal(0, 1.0, (16, 2 * latent_dim)), tf.float32)
    b2 = tf.constant(np.r_[np.zeros(latent_dim), np.full(latent_dim, -1.0)], tf.float32)

    def encode(x):
        hidden = tf.tanh(tf.matmul(tf.convert_to_tensor(x, tf.float32), w1))
        mean, log_std = tf.split(tf.matmul(hidden, w2) + b2, 2, axis=-1)
        return mean, log_std

    return encode


# %% solution vamp_log_prob
def vamp_log_prob(z, pseudo_inputs, encode):
    """log (1/K) sum_k N(z; mean(u_k), diag exp(log_std(u_k))^2) with (mean, log_std) = encode(pseudo_inputs).

    z: (..., d); pseudo_inputs: (K, D); encode: x (B, D) -> (mean, log_std), each (B, d).
    Returns: log p(z), shape z.shape[:-1].
    """
    ### BEGIN SOLUTION
    centres, log_scales = encode(pseudo_inputs)  # (K, d) each
    z = tf.convert_to_tensor(z, tf.float32)
    standardised = (tf.expand_dims(z, -2) - centres) * tf.exp(-log_scales)  # (..., K, d)
    log_component = tf.reduce_sum(-0.5 * standardised**2 - log_scales - 0.5 * np.log(2 * np.pi), axis=-1)
    count = tf.cast(tf.shape(centres)[0], tf.float32)
    return tf.reduce_logsumexp(log_component, axis=-1) - tf.math.log(count)
    ### END SOLUTION


# %% test vamp_log_prob points=3
def _vamp_reference(z, pseudo_inputs, encode):
    _m, _ls = (t.numpy().astype("float64") for t in encode(pseudo_inputs))
    _mix = tfd.MixtureSameFamily(tfd.Categorical(logits=np.zeros(len(_m))), tfd.MultivariateNormalDiag(_m, np.exp(_ls)))
    return _mix.log_prob(np.asarray(z, "float64")).numpy()


def _vamp_hints(z, pseudo_inputs, encode):
    _m, _ls = (t.numpy().astype("float64") for t in encode(pseudo_inputs))
    _z = np.asarray(z, "float64")[..., None, :]
    _comp_lv = tfd.MultivariateNormalDiag(_m, np.exp(0.5 * _ls)).log_prob(_z).numpy()
    _comp = tfd.MultivariateNormalDiag(_m, np.exp(_ls)).log_prob(_z).numpy()
    _k = len(_m)
    _averaged = tfd.MultivariateNormalDiag(_m.mean(0), np.sqrt(np.mean(np.exp(2 * _ls), 0)))
    return [
        (
            np.logaddexp.reduce(_comp_lv, axis=-1) - np.log(_k),
            "log_std was used as a log-variance (the lecture's encoder returns log-variances; this one returns "
            "log standard deviations): sigma = exp(log_std).",
        ),
        (np.logaddexp.reduce(_comp, axis=-1), "the 1/K is missing: subtract log K after the log-sum-exp."),
        (
            np.mean(_comp, axis=-1),
            "that is the mean of the components' log-densities (a geometric mean of densities); the prior is the "
            "mean of the densities: log-sum-exp minus log K.",
        ),
        (
            _averaged.log_prob(np.asarray(z, "float64")).numpy(),
            "the components' parameters were averaged into one Gaussian: the VampPrior averages their densities, "
            "a mixture with K modes.",
        ),
    ]


def _check_vamp(z, pseudo_inputs, encode, what):
    _got = checks.as_array(vamp_log_prob(z, pseudo_inputs, encode), what)
    _shape = np.shape(z)[:-1]
    checks.assert_true(_got.shape == _shape, f"{what} should have shape z.shape[:-1] = {_shape}, got {_got.shape}.")
    checks.assert_true(
        np.all(np.isfinite(_got)),
        f"{what} should be finite, got {np.round(_got, 1)}: use log-sum-exp, not the log of a sum of exps.",
    )
    checks.assert_close(
        _got,
        _vamp_reference(z, pseudo_inputs, encode),
        what,
        rtol=1e-4,
        atol=1e-3,
        hints=_vamp_hints(z, pseudo_inputs, encode),
    )


_encode = make_encoder(5, 2, seed=0)
_u = np.random.default_rng(0).uniform(size=(3, 5)).astype("float32")
_check_vamp([[0.0, 0.0], [1.0, -1.0]], _u, _encode, "vamp_log_prob for K = 3 pseudo-inputs, d = 2")
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(82)
_encode = make_encoder(12, 4, seed=5)
_u = _r.uniform(size=(7, 12)).astype("float32")
_check_vamp(_r.normal(size=(10, 4)).astype("float32"), _u, _encode, "vamp_log_prob for K = 7, d = 4")
_check_vamp(_r.normal(size=(3, 5, 4)).astype("float32"), _u, _encode, "vamp_log_prob for z of shape (3, 5, 4)")
_check_vamp(np.full((2, 4), 40.0, "float32"), _u, _encode, "vamp_log_prob far away, at z = (40, 40, 40, 40)")
# One pseudo-input: the VampPrior is q(z | u) itself.
_one = _u[:1]
_m, _ls = (t.numpy() for t in _encode(_one))
_zz = _r.normal(size=(6, 4)).astype("float32")
checks.assert_close(
    checks.as_array(vamp_log_prob(_zz, _one, _encode), "vamp_log_prob with K = 1"),
    tfd.MultivariateNormalDiag(_m[0], np.exp(_ls[0])).log_prob(_zz).numpy(),
    "vamp_log_prob with K = 1 (then the prior is q(z | u_1))",
    rtol=1e-4,
    atol=1e-3,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — a Monte Carlo KL with its standard error (3 points)
#
# With a mixture prior, $\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)$ has no closed form. With $n$ samples
# $z_s = \mu + e^{v/2} \odot \varepsilon_s$ of $q = \mathcal N(\mu, \operatorname{diag} e^{v})$ ($v$ is a
# log-**variance** here, as in the lecture), the estimate and its standard error are
#
# $$\widehat{\mathrm{KL}} = \frac1n \sum_{s=1}^n r_s, \qquad r_s = \log q(z_s \mid x) - \log p(z_s), \qquad
# \widehat{\mathrm{SE}} = \frac{\operatorname{sd}(r_1, \dots, r_n)}{\sqrt n}.$$
#
# Write `monte_carlo_kl(mean, log_var, log_prior, eps)` for a batch: `mean`, `log_var` of shape `(B, d)`, `eps` of
# shape `(n, B, d)` (standard normal noise: use it, so that results are reproducible), and `log_prior`, a function
# from `z` of shape `(..., d)` to $\log p(z)$ of shape `(...)`. Return `(kl, se)`, each of shape `(B,)`: one
# estimate and one standard error **per example**. (The sample standard deviation with $n$ or $n - 1$ in its
# denominator: either is accepted.)


# %% solution monte_carlo_kl
def monte_carlo_kl(mean, log_var, log_prior, eps):
    """Monte Carlo KL(N(mean, diag exp(log_var)) || p) per example, and its standard error.

    mean, log_var: (B, d); eps: (n, B, d) standard normal noise; log_prior: z (..., d) -> log p(z) (...).
    Returns: (kl, se), each of shape (B,).
    """
    ### BEGIN SOLUTION
    mean = tf.convert_to_tensor(mean, tf.float32)
    log_var = tf.convert_to_tensor(log_var, tf.float32)
    eps = tf.convert_to_tensor(eps, tf.float32)
    z = mean + tf.exp(0.5 * log_var) * eps  # (n, B, d)
    log_q = -0.5 * tf.reduce_sum(eps**2 + log_var + np.log(2 * np.pi), axis=-1)  # (n, B)
    ratio = log_q - tf.cast(log_prior(z), tf.float32)
    n = tf.cast(tf.shape(eps)[0], tf.float32)
    return tf.reduce_mean(ratio, axis=0), tf.math.reduce_std(ratio, axis=0) / tf.sqrt(n)
    ### END SOLUTION


# %% test monte_carlo_kl points=3
def _standard_log_prior(z):
    return -0.5 * np.sum(np.asarray(z, "float64") ** 2 + np.log(2 * np.pi), axis=-1)


def _mc_reference(mean, log_var, log_prior, eps):
    _m, _v, _e = (np.asarray(a, "float64") for a in (mean, log_var, eps))
    _z = _m + np.exp(0.5 * _v) * _e
    _r = -0.5 * np.sum(_e**2 + _v + np.log(2 * np.pi), axis=-1) - np.asarray(log_prior(_z.astype("float32")), "float64")
    return _r, _r.mean(axis=0), _r.std(axis=0) / np.sqrt(len(_e))


def _check_mc(mean, log_var, log_prior, eps, what):
    _out = monte_carlo_kl(mean, log_var, log_prior, eps)
    checks.assert_true(
        isinstance(_out, (tuple, list)) and len(_out) == 2, f"{what} should return a pair (kl, se), got {type(_out)}."
    )
    _kl, _se = checks.as_array(_out[0], f"{what}: kl"), checks.as_array(_out[1], f"{what}: se")
    _b = np.shape(mean)[0]
    checks.assert_true(
        _kl.shape == (_b,) and _se.shape == (_b,),
        f"{what}: kl and se should each have shape (B,) = ({_b},), one per example; got {_kl.shape} and {_se.shape}.",
    )
    _r, _kl_ref, _se_ref = _mc_reference(mean, log_var, log_prior, eps)
    _m, _v = np.asarray(mean, "float64"), np.asarray(log_var, "float64")
    checks.assert_close(
        _kl,
        _kl_ref,
        f"{what}: kl",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (-_kl_ref, "the sign is reversed: the KL averages log q(z) - log p(z), at samples of q."),
            (
                0.5 * np.sum(np.exp(_v) + _m**2 - 1 - _v, axis=1),
                "that is the closed-form KL to N(0, I) (the lecture's check): it ignores log_prior.",
            ),
        ],
    )
    _n = len(eps)
    checks.assert_close(
        _se,
        _se_ref,
        f"{what}: se",
        rtol=2e-3 + 1.0 / _n,
        atol=1e-4,
        hints=[
            (_se_ref / np.sqrt(_n), "divided by n: the standard error of a mean is sd / sqrt(n)."),
            (_se_ref * np.sqrt(_n), "the standard deviation of the samples, not the standard error of their mean."),
            (
                np.full(_b, np.std(_r) / np.sqrt(_r.size)),
                "one standard error pooled over the whole batch (as in the lecture's check): each example needs its "
                "own.",
            ),
        ],
    )


# q = N((1, 0), diag(e^0, e^-1)) against N(0, I), n = 400: close to the closed form 0.5 * (1 + e^-1 + 1 - 2 + 1).
_eps = np.random.default_rng(0).normal(size=(400, 1, 2)).astype("float32")
_check_mc([[1.0, 0.0]], [[0.0, -1.0]], _standard_log_prior, _eps, "monte_carlo_kl against N(0, I)")
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(83)
_means_p = _r.normal(0, 2, size=(3, 2)).astype("float32")


def _mixture_log_prior(z):
    _z = np.asarray(z, "float64")[..., None, :]
    return np.logaddexp.reduce(-0.5 * np.sum((_z - _means_p) ** 2 + np.log(2 * np.pi), axis=-1), axis=-1) - np.log(3)


_mean = _r.normal(size=(4, 2)).astype("float32")
_log_var = _r.normal(-1, 0.5, size=(4, 2)).astype("float32")
_eps = _r.normal(size=(500, 4, 2)).astype("float32")
_check_mc(_mean, _log_var, _mixture_log_prior, _eps, "monte_carlo_kl against a 3-component mixture")
# Against N(0, I) the estimate must be within 5 of its standard errors of the closed form (q = its own samples).
_eps = _r.normal(size=(4000, 4, 2)).astype("float32")
_kl, _se = (checks.as_array(t, "monte_carlo_kl") for t in monte_carlo_kl(_mean, _log_var, _standard_log_prior, _eps))
_closed = 0.5 * np.sum(np.exp(_log_var) + _mean**2 - 1 - _log_var, axis=1)
checks.assert_true(
    np.all(np.abs(_kl - _closed) < 5 * _se + 1e-3),
    f"monte_carlo_kl against N(0, I) with 4000 samples: expected within 5 SE of the closed form "
    f"{np.round(_closed, 3)}, "
    f"got {np.round(_kl, 3)} ± {np.round(_se, 3)}. Are the samples z = mean + exp(log_var / 2) * eps?",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — the mutual information of ELBO surgery, without a grid (2 points)
#
# For $N$ examples with posteriors $q(z \mid x_n) = \mathcal N(\mu_n, \operatorname{diag} e^{v_n})$ and the aggregated
# posterior $q(z) = \frac1N \sum_m q(z \mid x_m)$, the lecture computed $I_q(x; z)$ on a 2-D grid. In $d$ dimensions a
# grid is out of reach; Monte Carlo is not: draw $z_{s,n} \sim q(z \mid x_n)$ for every $n$ and $s = 1..S$, and
#
# $$\widehat I = \frac{1}{SN} \sum_{s,n} \Big[\log q(z_{s,n} \mid x_n) - \log q(z_{s,n})\Big], \qquad
# \log q(z) = \operatorname{logsumexp}_m \log q(z \mid x_m) - \log N.$$
#
# Write `mutual_information(means, log_vars, eps)` with `means`, `log_vars` of shape `(N, d)` and noise `eps` of
# shape `(S, N, d)` (so $z_{s,n}$ = `means[n] + exp(log_vars[n] / 2) * eps[s, n]`); return $\widehat I$, a scalar.


# %% solution mutual_information
def mutual_information(means, log_vars, eps):
    """Monte Carlo estimate of I_q(x; z) for the uniform mixture of N diagonal Gaussians (a scalar).

    means, log_vars: (N, d); eps: (S, N, d) standard normal noise.
    """
    ### BEGIN SOLUTION
    mu = np.asarray(means, "float64")
    lv = np.asarray(log_vars, "float64")
    noise = np.asarray(eps, "float64")
    samples = mu + np.exp(lv / 2) * noise  # (S, N, d): z[s, n] ~ q(z | x_n)
    diff = samples[:, :, None, :] - mu[None, None, :, :]  # (S, N, M, d)
    log_all = -0.5 * np.sum(diff**2 / np.exp(lv) + lv + np.log(2 * np.pi), axis=-1)  # log q(z[s, n] | x_m)
    log_own = np.diagonal(log_all, axis1=1, axis2=2)  # (S, N): m = n
    top = log_all.max(axis=-1)
    log_marginal = top + np.log(np.exp(log_all - top[..., None]).sum(axis=-1)) - np.log(len(mu))
    return float(np.mean(log_own - log_marginal))
    ### END SOLUTION


# %% test mutual_information points=2
def _mi_reference(means, log_vars, eps):
    _m, _v, _e = (np.asarray(a, "float64") for a in (means, log_vars, eps))
    _q = tfd.MultivariateNormalDiag(_m, np.exp(0.5 * _v))
    _z = _m + np.exp(0.5 * _v) * _e  # (S, N, d)
    _log_all = _q.log_prob(_z[:, :, None, :]).numpy()  # (S, N, M)
    _own = np.diagonal(_log_all, axis1=1, axis2=2)
    _lse = np.logaddexp.reduce(_log_all, axis=-1)
    return np.mean(_own - _lse + np.log(len(_m))), [
        (np.mean(_own - _lse), "log N is missing from log q(z): q(z) is the mean of the N posteriors, not their sum."),
        (
            np.mean(_own - np.mean(_log_all, axis=-1)),
            "log q(z) was taken as the mean of the log q(z | x_m) (a geometric mean): q(z) is the mean of the "
            "densities, so use log-sum-exp minus log N.",
        ),
    ]


def _check_mi(means, log_vars, eps, what):
    _got = checks.as_array(mutual_information(means, log_vars, eps), what)
    checks.assert_true(_got.size == 1, f"{what} should be one number, got shape {_got.shape}.")
    _expected, _hints_mi = _mi_reference(means, log_vars, eps)
    checks.assert_close(float(_got.reshape(())), _expected, what, rtol=1e-4, atol=1e-4, hints=_hints_mi)


# Three identical posteriors: z says nothing about which example it came from, so I = 0.
_e = np.random.default_rng(1).normal(size=(20, 3, 2))
_check_mi(np.zeros((3, 2)), np.zeros((3, 2)), _e, "mutual_information for 3 identical posteriors")
# Two posteriors far apart (means -10 and 10, sd 1): z tells the example for certain, so I = log 2.
_check_mi([[-10.0], [10.0]], [[0.0], [0.0]], _e[:, :2, :1], "mutual_information for two far-apart posteriors (log 2)")
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(84)
_means = _r.normal(0, 1.5, size=(30, 3))
_log_vars = _r.normal(-1, 0.5, size=(30, 3))
_check_mi(_means, _log_vars, _r.normal(size=(8, 30, 3)), "mutual_information for N = 30, d = 3")
# Small variances: the posteriors hardly overlap, I is close to log N, and must stay finite.
_check_mi(_means, _log_vars - 8.0, _r.normal(size=(4, 30, 3)), "mutual_information with tiny variances")
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: the best prior (1 point)
#
# ELBO surgery says that the average KL is $I_q(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$. Suppose the prior were the
# aggregated posterior itself, $p(z) = q(z)$. **Before you run the cell after the next one**, predict the average
# KL over the $N$ examples:
#
# - (a) 0: a prior that equals the aggregated posterior makes every $q(z \mid x_n)$ match it;
# - (b) $I_q(x; z)$: the second term vanishes, the first does not depend on the prior;
# - (c) $\log N$, always.
#
# Put the letter in `predicted_best_prior`.

# %% solution predicted_best_prior
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_best_prior = "b"
### END SOLUTION

# %% test predicted_best_prior points=1
checks.assert_true(
    isinstance(predicted_best_prior, str) and predicted_best_prior.strip().lower() in ("a", "b", "c"),
    f'predicted_best_prior should be one of the letters "a", "b" or "c"; got {predicted_best_prior!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_best_prior.strip().lower() == "b",
    "The right answer is (b). With p = q(z), KL(q(z) || p(z)) = 0, and the average KL is I_q(x; z), which depends "
    "on the encoder only. It is 0 only if every q(z | x_n) is the same (z carries no information about x: (a) "
    "would be posterior collapse), and log N only if the posteriors do not overlap at all (c is the upper bound).",
)
### END HIDDEN TESTS

# %%
_noise = np.random.default_rng(config.seed())
post_means = _noise.normal(0, 1.5, size=(40, 2)).astype("float32")
post_log_vars = _noise.normal(-1, 0.3, size=(40, 2)).astype("float32")
post = tfd.MultivariateNormalDiag(post_means, np.exp(0.5 * post_log_vars))


def aggregated_log_prob(z):
    """log q(z) of the 40 posteriors above, for z (..., 2)."""
    return tf.reduce_logsumexp(post.log_prob(np.asarray(z)[..., None, :]), axis=-1) - np.log(40)


kl_to_aggregate, kl_se = monte_carlo_kl(
    post_means, post_log_vars, aggregated_log_prob, _noise.normal(size=(500, 40, 2))
)
information = mutual_information(post_means, post_log_vars, _noise.normal(size=(500, 40, 2)))
print(f"average KL to p = q(z): {np.mean(kl_to_aggregate):.3f} ± {np.sqrt(np.mean(np.square(kl_se)) / 40):.3f} nats")
print(f"I_q(x; z) estimated by your mutual_information: {information:.3f} nats (log N = {np.log(40):.3f})")

# %% [markdown]
# ## Predict, then run: four times the samples (1 point)
#
# Your `monte_carlo_kl` estimates a KL from $n$ samples. **Before you run the cell after the next one**, predict
# what happens to the standard error when $n$ goes from 250 to 1000:
#
# - (a) it halves;
# - (b) it is divided by four;
# - (c) it stays about the same: the samples' spread does not depend on $n$.
#
# Put the letter in `predicted_standard_error`.

# %% solution predicted_standard_error
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_standard_error = "a"
### END SOLUTION

# %% test predicted_standard_error points=1
checks.assert_true(
    isinstance(predicted_standard_error, str) and predicted_standard_error.strip().lower() in ("a", "b", "c"),
    f'predicted_standard_error should be one of the letters "a", "b" or "c"; got {predicted_standard_error!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_standard_error.strip().lower() == "a",
    "The right answer is (a). The standard error of a mean of n independent terms is sd / sqrt(n): four times the "
    "samples divide it by sqrt(4) = 2. The spread of the terms (c) stays the same, but the error of their mean "
    "shrinks; dividing by four (b) would be the variance of the mean, not its standard error.",
)
### END HIDDEN TESTS

# %%
for n in (250, 1000):
    _, se = monte_carlo_kl(
        post_means[:5], post_log_vars[:5], aggregated_log_prob, _noise.normal(size=(n, 5, 2)).astype("float32")
    )
    print(f"n = {n:4d}: standard errors {np.round(np.asarray(se), 4)}")

# %% [markdown]
# ## Summary
#
# - A weighted full-covariance mixture: $\log p(z) = \operatorname{logsumexp}_k\big[\log\operatorname{softmax}(a)_k
#   - \frac12\lVert L_k^{-1}(z - m_k)\rVert^2 - \sum_j \log L_{k,jj}\big] - \frac d2 \log 2\pi$.
# - The VampPrior averages the encoder's **densities** at the pseudo-inputs, not their parameters; read the encoder's
#   outputs for what they are (here log standard deviations).
# - A Monte Carlo KL needs its standard error per example, $\operatorname{sd}/\sqrt n$: four times the samples, half
#   the error.
# - $I_q(x; z)$ is estimated from samples of each posterior and the log-mean-exp over all of them; it is what the
#   average KL falls to with the best prior, $p = q(z)$.
