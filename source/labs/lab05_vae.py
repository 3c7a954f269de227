# %% [markdown]
# # Lab 05 — The VAE, transferred: a correlated posterior, a Gaussian decoder and the IWAE objective
#
# The lecture's VAE has a diagonal Gaussian $q(z \mid x)$, a Bernoulli decoder on binarised MNIST, and is trained on
# the ELBO; it uses the importance-weighted bound $\mathcal L_k$ only to *evaluate* the model. This lab changes all
# three: you draw reparameterised samples from a posterior with correlations (a low-rank plus diagonal covariance),
# write the negative ELBO of a **Gaussian decoder with a learned variance** for grey-level Fashion-MNIST, and then
# **train** on $\mathcal L_k$ itself (the importance-weighted autoencoder, IWAE; Burda et al., 2016). Last, you
# measure how many of the $k$ samples carry the bound.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - reparameterise a Gaussian whose covariance is a sum of parts, for $k$ samples per example at once;
# - write the negative ELBO of a Gaussian decoder whose variance is learned, and say why it acts like $\beta$;
# - implement the IWAE bound $\mathcal L_k$ as a differentiable, stable training loss, and check it against the
#   ELBO ($k = 1$) and against $\log p(x)$;
# - write a Keras 3 `train_step` that minimises it with noise from the model's own seeded generator;
# - compute the effective sample size of importance weights without exponentiating them;
# - explain posterior collapse.

# %% setup

# %% locked imports
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config, data, plotting, training

tfd = tfp.distributions

# %% [markdown]
# ## Exercise 1 — a posterior with correlations (3 points)
#
# A diagonal $q(z \mid x)$ cannot represent correlated latent variables. A cheap richer family adds a low-rank
# part to the diagonal covariance: with a $d \times r$ factor $F$ ($r \ll d$),
#
# $$q(z \mid x) = \mathcal N\big(\mu,\ \Sigma\big), \qquad \Sigma = \operatorname{diag}(e^{v}) + F F^\top ,$$
#
# where $v$ is a log-*variance*, as in the lecture. Write $z$ as a differentiable function of $(\mu, v, F)$ and
# standard normal noise, so that gradients reach all three. You get two independent noises, `eps_diag` with $d$
# entries and `eps_factor` with $r$ entries per sample. *Hint:* a sum of independent Gaussian vectors is Gaussian,
# and its covariance is the sum of their covariances; $F\varepsilon$ has covariance $FF^\top$.
#
# Shapes: `mean`, `log_var` are `(B, d)`, `factor` is `(B, d, r)`, and the noises carry $k$ samples for each of the
# $B$ examples, `(k, B, d)` and `(k, B, r)`; return `(k, B, d)`. Any construction whose samples have the right
# distribution is accepted: the tests look at the mean and covariance of your $z$ over many samples, and at its
# gradients; only for `factor = 0` (a diagonal $q$) do they ask for the lecture's $z = \mu + e^{v/2} \odot \varepsilon$
# with $\varepsilon$ = `eps_diag`.


# %% solution reparameterize_lowrank
def reparameterize_lowrank(mean, log_var, factor, eps_diag, eps_factor):
    """k reparameterised samples per example of q = N(mean, diag(exp(log_var)) + factor factor^T).

    mean, log_var: float32 tensors (B, d); factor: (B, d, r); eps_diag: (k, B, d) and eps_factor: (k, B, r),
    independent standard normal noise.
    Returns: z, a float32 tensor of shape (k, B, d) whose k samples for example b have mean mean[b] and covariance
    diag(exp(log_var[b])) + factor[b] factor[b]^T; differentiable in mean, log_var and factor (TensorFlow only).
    """
    ### BEGIN SOLUTION
    spread = tf.exp(log_var / 2.0) * eps_diag  # covariance diag(exp(log_var))
    shared = tf.einsum("bdr,kbr->kbd", factor, eps_factor)  # covariance factor factor^T
    return mean + spread + shared
    ### END SOLUTION


# %% test reparameterize_lowrank points=3
import tensorflow as tf


def _call(mean, log_var, factor, eps_diag, eps_factor, what):
    _args = [tf.constant(np.asarray(a, "float32")) for a in (mean, log_var, factor, eps_diag, eps_factor)]
    _z = checks.as_array(reparameterize_lowrank(*_args), what)
    _shape = np.shape(eps_diag)
    checks.assert_true(_z.shape == _shape, f"{what} should have shape (k, B, d) = {_shape}, got {_z.shape}.")
    return _z


def _check_distribution(mean, log_var, factor, k, seed, what):
    """Sample mean and covariance of k samples per example, within 5 standard errors of the truth."""
    _r = np.random.default_rng(seed)
    _B, _d, _rank = np.shape(factor)
    _ed = _r.normal(size=(k, _B, _d)).astype("float32")
    _ef = _r.normal(size=(k, _B, _rank)).astype("float32")
    _z = _call(mean, log_var, factor, _ed, _ef, what)
    _f = np.asarray(factor, "float64")
    _v = np.asarray(log_var, "float64")
    _outer = np.einsum("bdr,ber->bde", _f, _f)
    _sigma = np.stack([np.diag(np.exp(_v[b])) for b in range(_B)]) + _outer
    _wrong = {
        "the variance exp(log_var) was used as the standard deviation: the diagonal part's covariance became "
        "diag(exp(2 log_var)). Scale eps_diag by exp(log_var / 2).": np.stack(
            [np.diag(np.exp(2 * _v[b])) for b in range(_B)]
        )
        + _outer,
        "the low-rank part is missing: that is the lecture's diagonal sample. Add factor @ eps_factor, whose "
        "covariance is factor factor^T.": np.stack([np.diag(np.exp(_v[b])) for b in range(_B)]),
        "the diagonal part is missing: the covariance is only factor factor^T. Add exp(log_var / 2) * eps_diag.": (
            _outer
        ),
    }
    for _b in range(_B):
        _m = np.mean(_z[:, _b], axis=0)
        _se_m = np.sqrt(np.diag(_sigma[_b]) / k)
        checks.assert_true(
            np.all(np.abs(_m - np.asarray(mean)[_b]) < 5 * _se_m),
            f"{what}: the mean of the {k} samples of example {_b} is {np.round(_m, 3)}, expected "
            f"{np.round(np.asarray(mean)[_b], 3)} (within 5 standard errors): z = mean + noise terms with mean 0.",
        )
        _c = np.cov(_z[:, _b], rowvar=False)
        _diag = np.diag(_sigma[_b])
        _se = np.sqrt((np.outer(_diag, _diag) + _sigma[_b] ** 2) / k)  # the standard error of a sample covariance
        if not np.all(np.abs(_c - _sigma[_b]) < 5 * _se):
            _hint = next((m for m, s in _wrong.items() if np.all(np.abs(_c - s[_b]) < 5 * _se)), "")
            raise checks.CheckFailure(
                f"{what}: the covariance of the {k} samples of example {_b} is\n{np.round(_c, 3)}\nexpected "
                f"diag(exp(log_var)) + factor factor^T =\n{np.round(_sigma[_b], 3)}\n(within 5 standard errors)."
                + (f" Hint: {_hint}" if _hint else "")
            )


# With a zero factor, q is diagonal: z = mean + exp(log_var / 2) * eps_diag = (1 + 2 * 0.5, -1 + 1 * 2).
_z = _call([[1.0, -1.0]], [[np.log(4.0), 0.0]], np.zeros((1, 2, 1)), [[[0.5, 2.0]]], [[[3.0]]], "z for factor = 0")
checks.assert_close(
    _z,
    [[[2.0, 1.0]]],
    "reparameterize_lowrank(mean=(1, -1), log_var=(log 4, 0), factor=0, eps_diag=(0.5, 2))",
    hints=[
        ([[[3.0, 1.0]]], "exp(log_var) is the variance; the standard deviation is exp(log_var / 2)."),
        ([[[1.0 + 0.5 * np.log(4.0), 1.0]]], "log_var is a log-variance, not a standard deviation."),
        ([[[1.0, -1.0]]], "z = mean: the diagonal part exp(log_var / 2) * eps_diag is missing."),
    ],
)
# Covariance diag(0.25, 1) + (1, 2)(1, 2)^T = [[1.25, 2], [2, 5]], from 40 000 samples.
_check_distribution([[1.0, -1.0]], [[np.log(0.25), 0.0]], [[[1.0], [2.0]]], 40_000, 0, "z for one example, r = 1")
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(51)
_mean = _r.normal(size=(3, 4)).astype("float32")
_log_var = _r.normal(-0.5, 0.7, size=(3, 4)).astype("float32")
_factor = _r.normal(0, 0.8, size=(3, 4, 2)).astype("float32")
_check_distribution(_mean, _log_var, _factor, 30_000, 1, "z for a random batch (B = 3, d = 4, r = 2)")
# Gradients: for f = the mean over the k samples of sum_b |z_b|^2, E[f] = sum_b |mean_b|^2 + sum exp(log_var)
# + |factor|^2, so df/dmean -> 2 mean, df/dlog_var -> exp(log_var), df/dfactor -> 2 factor (Monte Carlo, k = 20 000).
_k = 20_000
_ed = _r.normal(size=(_k, 3, 4)).astype("float32")
_ef = _r.normal(size=(_k, 3, 2)).astype("float32")
_vars = [tf.Variable(a) for a in (_mean, _log_var, _factor)]
with tf.GradientTape() as _tape:
    _z = tf.convert_to_tensor(reparameterize_lowrank(*_vars, tf.constant(_ed), tf.constant(_ef)))
    _f = tf.reduce_sum(tf.reduce_mean(_z**2, axis=0))
_grads = _tape.gradient(_f, _vars)
checks.assert_true(
    all(g is not None for g in _grads),
    "no gradient reaches "
    + ", ".join(n for n, g in zip(("mean", "log_var", "factor"), _grads) if g is None)
    + " through z: use TensorFlow operations only (no NumPy, no tf.stop_gradient).",
)
# The standard errors of the three Monte Carlo gradients, from the per-sample gradients of the standard construction.
_zr = _mean + np.exp(_log_var / 2) * _ed + np.einsum("bdr,kbr->kbd", _factor, _ef)
_per_sample = [2 * _zr, _zr * np.exp(_log_var / 2) * _ed, 2 * _zr[..., None] * _ef[:, :, None, :]]
_expected = [2 * _mean, np.exp(_log_var), 2 * _factor]
for _name, _g, _e, _ps in zip(("mean", "log_var", "factor"), _grads, _expected, _per_sample):
    _se = np.std(_ps, axis=0) / np.sqrt(_k)
    _got = _g.numpy()
    checks.assert_true(
        np.all(np.abs(_got - _e) < 6 * _se + 1e-4),
        f"d/d{_name} of the mean of |z|^2 over {_k} samples: expected about {np.round(_e.ravel()[:4], 3)} "
        f"(within 6 standard errors), got {np.round(_got.ravel()[:4], 3)}."
        + (" exp(log_var) is the variance: the standard deviation is exp(log_var / 2)." if _name == "log_var" else ""),
    )
# A very negative log-variance and a zero factor: an almost deterministic q, z = mean, finite.
_z = _call([[0.3, 0.0]], [[-60.0, -60.0]], np.zeros((1, 2, 1)), [[[1.0, 1.0]]], [[[0.5]]], "z with log_var = -60")
checks.assert_close(_z, [[[0.3, 0.0]]], "reparameterize_lowrank with log_var = -60 and factor = 0", atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## The model: a Gaussian decoder with a learned variance
#
# Fashion-MNIST images are grey levels in $[0, 1]$, not binary, so the decoder is a Gaussian,
#
# $$p(z) = \mathcal N(0, I_d), \qquad q_\phi(z \mid x) = \mathcal N\big(\mu, \operatorname{diag}(e^{v})\big), \qquad
# p_\theta(x \mid z) = \prod_{i=1}^{D} \mathcal N\big(x_i;\ m_i,\ e^{u_i}\big), \quad m = \mathrm{decoder}(z),$$
#
# with a log-variance $u$ that is **learned**, one number shared by all pixels. The lecture showed that a Gaussian
# decoder with a *fixed* variance $\sigma^2$ turns the reconstruction into the squared error, and that "SSE
# $+\ \beta\,$KL" is that VAE with $\beta = 2\sigma^2$. Learning $\sigma^2$ lets the data choose that $\beta$.
#
# The cell below gives you `GaussianVAEBase`: `encode(x)` returns `(mean, log_var)`, each `(B, d)`; `decode(z)` takes
# `z` of shape `(N, d)` (rank 2 only: reshape $k$ samples first) and returns `(mean_x, log_var_x)`, each `(N, D)` (the
# shared log-variance, broadcast to every pixel); `sample_noise(shape)` draws standard normal noise from the model's
# own seeded generator; `k` is the number of importance samples used in training, and `latent_dim` is $d$. Its
# `test_step` (evaluation) uses your `iwae_loss` from Exercise 3, and `track(neg_bound)` updates its one tracker.


# %% locked model_base
class GaussianVAEBase(keras.Model):
    """The given parts of a VAE with a Gaussian decoder whose log-variance (one number for all pixels) is learned.

    encoder: a built Keras model, x (B, D) -> (B, 2 d): the posterior means, then the log-variances.
    decoder: a built Keras model, z (N, d) -> (N, D): the decoder's means.
    k: importance samples per example in training; seed: for sample_noise; log_var_x: the decoder's initial
    log-variance.
    """

    def __init__(self, encoder, decoder, k=1, seed=0, log_var_x=0.0):
        super().__init__()
        self.encoder, self.decoder, self.k = encoder, decoder, int(k)
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        # Stored divided by 10: Adam moves a variable by about its learning rate per step, and log sigma^2 has far to
        # go (from 0 to about -4 on Fashion-MNIST); the factor lets it get there in a few hundred steps.
        self.raw_log_var_x = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(log_var_x / 10.0), name="raw_log_var_x"
        )
        self.noise = tf.random.Generator.from_seed(seed)
        self.neg_bound_tracker = keras.metrics.Mean("neg_bound")

    @property
    def metrics(self):
        return [self.neg_bound_tracker]

    def encode(self, x):
        """(mean, log_var), each of shape (B, d), of q(z | x) for x of shape (B, D)."""
        mean, log_var = tf.split(self.encoder(x), 2, axis=-1)
        return mean, log_var

    def decode(self, z):
        """(mean_x, log_var_x), each of shape (N, D), of p(x | z) for z of shape (N, d)."""
        mean_x = self.decoder(z)
        return mean_x, tf.broadcast_to(10.0 * self.raw_log_var_x, tf.shape(mean_x))

    def sample_noise(self, shape):
        """Standard normal noise of the given shape, from the model's own seeded generator."""
        return self.noise.normal(shape)

    def call(self, x):
        """Reconstructions: the decoder's means at the posterior mean."""
        return self.decode(self.encode(x)[0])[0]

    def track(self, neg_bound):
        """Update the tracker with the per-example -L_k, shape (B,); returns {"neg_bound": its running mean}."""
        self.neg_bound_tracker.update_state(neg_bound)
        return {"neg_bound": self.neg_bound_tracker.result()}

    def test_step(self, data):
        """Evaluation (model.evaluate, validation): -L_k with k = self.k samples per example (your iwae_loss)."""
        eps = self.sample_noise([self.k, tf.shape(data)[0], self.latent_dim])
        return self.track(iwae_loss(self, data, eps))


# %% [markdown]
# ## Exercise 2 — the negative ELBO of a Gaussian decoder (4 points)
#
# For each example, with one sample $z$ already decoded into `mean_x` ($m$) and `log_var_x` ($u$, one log-variance
# per pixel; the model above gives the same value to every pixel, but your function must accept any),
#
# $$\text{recon} = -\log p_\theta(x \mid z) = -\sum_{i=1}^{D} \log \mathcal N\big(x_i;\ m_i,\ e^{u_i}\big),
# \qquad \text{kl} = \mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal N(0, I)\big),$$
#
# and `neg_elbo = recon + kl`. Write out $-\log \mathcal N(x; m, \sigma^2)$ yourself (unit 02 has it) and keep
# **every** term: with a learned variance, the terms that do not involve $x$ are what stop $\sigma^2$ from growing
# without bound, so dropping them changes the optimum. Return the three as vectors of shape `(B,)`: sums over pixels
# and over latent dimensions, never over the batch.


# %% solution gaussian_negative_elbo
def gaussian_negative_elbo(x, mean_x, log_var_x, mean, log_var):
    """The one-sample negative ELBO per example of a Gaussian-decoder VAE, with its two terms.

    x: (B, D) float32 grey levels; mean_x, log_var_x: (B, D), the mean and log-variance of each pixel of p(x | z)
    at a sample z; mean, log_var: (B, d), the parameters of q(z | x) = N(mean, diag(exp(log_var))).
    Returns: (neg_elbo, recon, kl), three float32 tensors of shape (B,): recon = -log p(x | z) summed over pixels
    (the full Gaussian log-density, constant included), kl = KL(q(z | x) || N(0, I)) summed over latent dimensions,
    neg_elbo = recon + kl. Accurate to rtol 1e-4.
    """
    ### BEGIN SOLUTION
    squared = tf.square(x - mean_x) * tf.exp(-log_var_x)  # (x - m)^2 / sigma^2
    recon = 0.5 * tf.reduce_sum(squared + log_var_x + np.log(2.0 * np.pi), axis=-1)
    kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.exp(log_var) - tf.square(mean), axis=-1)
    return recon + kl, recon, kl
    ### END SOLUTION


# %% test gaussian_negative_elbo points=4
import tensorflow as tf
import tensorflow_probability as tfp


def _terms(x, mean_x, log_var_x, mean, log_var, what):
    _result = gaussian_negative_elbo(
        *(tf.constant(np.asarray(v, "float32")) for v in (x, mean_x, log_var_x, mean, log_var))
    )
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"gaussian_negative_elbo should return (neg_elbo, recon, kl); got {type(_result).__name__}.",
    )
    return [checks.as_array(t, f"gaussian_negative_elbo {what}") for t in _result]


# Two pixels, x = (0.5, 0), m = (0.5, 1), sigma^2 = (1, 4), and q = N(0, 1) (KL 0). Pixel by pixel, -log N(x; m, s^2)
# = (x - m)^2 / (2 s^2) + log(s^2) / 2 + log(2 pi) / 2, so recon = log(2 pi) / 2 + (1 / 8 + log 4 + log(2 pi)) / 2.
_log2pi = np.log(2 * np.pi)
_neg, _recon, _kl = _terms([[0.5, 0.0]], [[0.5, 1.0]], [[0.0, np.log(4.0)]], [[0.0]], [[0.0]], "for x = (0.5, 0)")
checks.assert_close(
    _recon,
    [_log2pi + np.log(4.0) / 2 + 1 / 8],
    "recon for x = (0.5, 0), m = (0.5, 1), sigma^2 = (1, 4)",
    rtol=1e-4,
    hints=[
        (
            [_log2pi + np.log(4.0) + 1 / 32],
            "exp(log_var_x) is the variance; the standard deviation is exp(log_var_x / 2).",
        ),
        (
            [_log2pi + 1 / 8],
            "the log-variance term log(sigma^2) / 2 is missing: without it a learned variance grows without limit.",
        ),
        ([_log2pi + 1 / 2], "log_var_x is ignored: that is the lecture's fixed variance sigma^2 = 1."),
        ([np.log(4.0) / 2 + 1 / 8], "the constant log(2 pi) / 2 per pixel is missing: return the full -log p(x | z)."),
        ([(_log2pi + np.log(4.0) / 2 + 1 / 8) / 2], "that is a mean over pixels: sum over the D pixels."),
        ([-(_log2pi + np.log(4.0) / 2 + 1 / 8)], "the reconstruction term is -log p(x | z): check its sign."),
    ],
)
checks.assert_close(_kl, [0.0], "kl for q = N(0, 1)", atol=1e-6)
checks.assert_close(_neg, _recon + _kl, "neg_elbo = recon + kl", rtol=1e-5)
# One shared log_var_x = -2 (squared errors 0.01, 0.16, 0.01, weighed by e^2), q = N((1, 2), diag(1, 4)):
# KL = (1 + 1 - 1 - 0) / 2 + (4 + 4 - 1 - log 4) / 2.
_neg, _recon, _kl = _terms(
    [[0.2, 0.9, 0.0]], [[0.3, 0.5, 0.1]], [[-2.0] * 3], [[1.0, 2.0]], [[0.0, np.log(4.0)]], "for log_var_x = -2"
)
_kl_expected = 0.5 + (7 - np.log(4.0)) / 2
checks.assert_close(
    _recon, [(0.18 * np.exp(2.0) - 6 + 3 * _log2pi) / 2], "recon for one shared log_var_x = -2", rtol=1e-4
)
checks.assert_close(
    _kl,
    [_kl_expected],
    "kl for q = N((1, 2), diag(1, 4))",
    rtol=1e-4,
    hints=[
        ([2 * _kl_expected], "twice the KL: is the factor 1/2 missing?"),
        ([-_kl_expected], "the KL is never negative."),
    ],
)
checks.assert_close(
    _neg,
    _recon + _kl,
    "neg_elbo for log_var_x = -2",
    rtol=1e-5,
    hints=[(_recon - _kl, "neg_elbo = recon + kl (the ELBO subtracts the KL, so its negative adds it).")],
)


### BEGIN HIDDEN TESTS
def _check(x, mean_x, log_var_x, mean, log_var, what):
    _inputs = [np.asarray(v, dtype="float32") for v in (x, mean_x, log_var_x, mean, log_var)]
    _result = gaussian_negative_elbo(*(tf.constant(v) for v in _inputs))
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"gaussian_negative_elbo should return (neg_elbo, recon, kl); got {type(_result).__name__}.",
    )
    _neg, _recon, _kl = _result
    x64, m64, u64, mu64, v64 = (v.astype("float64") for v in _inputs)
    _normal = tfp.distributions.Normal  # the reference: TFP's Gaussian log-density, in float64
    _ref_recon = -np.sum(_normal(m64, np.exp(0.5 * u64)).log_prob(x64).numpy(), axis=-1)
    _ref_kl = 0.5 * np.sum(np.exp(v64) + mu64**2 - 1 - v64, axis=-1)
    _sq = (x64 - m64) ** 2
    checks.assert_close(
        _recon,
        _ref_recon,
        f"recon {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (
                -np.sum(_normal(m64, np.exp(u64)).log_prob(x64).numpy(), axis=-1),
                "exp(log_var_x) is the variance; the standard deviation is exp(log_var_x / 2).",
            ),
            (
                0.5 * np.sum(_sq / np.exp(u64) + np.log(2 * np.pi), axis=-1),
                "the log-variance term 0.5 * log_var_x is missing: -log N(x; m, s^2) = (x - m)^2 / (2 s^2) "
                "+ 0.5 log s^2 + 0.5 log(2 pi). Without it a learned variance grows without limit.",
            ),
            (
                0.5 * np.sum(_sq + np.log(2 * np.pi), axis=-1),
                "log_var_x is ignored: that is the lecture's fixed variance sigma^2 = 1. Use each pixel's log_var_x.",
            ),
            (0.5 * np.sum(_sq, axis=-1), "that is half the squared error: log_var_x and the constant are missing."),
            (
                0.5 * np.sum(_sq / np.exp(u64) + u64, axis=-1),
                "the constant 0.5 log(2 pi) per pixel is missing: return the full -log p(x | z).",
            ),
            (_ref_recon / x64.shape[-1], "that is a mean over pixels: sum the log-density over the D pixels."),
            (-_ref_recon, "the reconstruction term is -log p(x | z): check its sign."),
        ],
    )
    checks.assert_close(
        _kl,
        _ref_kl,
        f"kl {what}",
        rtol=1e-4,
        atol=1e-4,
        hints=[
            (2 * _ref_kl, "twice the KL: is the factor 1/2 missing?"),
            (-_ref_kl, "the KL is never negative: check its sign."),
        ],
    )
    checks.assert_close(
        _neg,
        _ref_recon + _ref_kl,
        f"neg_elbo {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[(_ref_recon - _ref_kl, "neg_elbo = recon + kl (the ELBO subtracts the KL, so its negative adds it).")],
    )


_rng = np.random.default_rng(53)
_B, _D, _d = 6, 20, 3  # B != d, so summing over the wrong axis changes the shape
_check(
    _rng.random((_B, _D)),
    _rng.random((_B, _D)),
    _rng.normal(-1.0, 1.0, (_B, _D)),
    _rng.normal(size=(_B, _d)),
    _rng.normal(-0.5, 1, (_B, _d)),
    "for a random batch with a log-variance per pixel (B = 6, D = 20, d = 3)",
)
# A confident decoder (sigma^2 = e^-9): the squared errors weigh e^9 times more; the terms must still be exact.
_check(
    _rng.random((3, 10)),
    _rng.random((3, 10)),
    np.full((3, 10), -9.0),
    _rng.normal(size=(3, 3)),
    _rng.normal(-0.5, 1, (3, 3)),
    "with log_var_x = -9 (B = d = 3)",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the IWAE bound as a training loss (4 points)
#
# The lecture *evaluated* its VAE with $\mathcal L_k$; here it is the loss. With $k$ samples
# $z_s = \mu + e^{v/2} \odot \varepsilon_s \sim q_\phi(z \mid x)$ and the log-weights
# $\log w_s = \log p_\theta(x \mid z_s) + \log p(z_s) - \log q_\phi(z_s \mid x)$,
#
# $$\mathcal L_k(x) = \log \frac1k \sum_{s=1}^{k} w_s, \qquad
# \mathrm{ELBO}(x) = \mathbb E[\mathcal L_1] \le \mathbb E[\mathcal L_k] \le \log p_\theta(x).$$
#
# Return the **loss** $-\mathcal L_k(x)$ for each example, as a TensorFlow tensor through which gradients reach the
# encoder, the decoder and the decoder's log-variance. The noise `eps` of shape `(k, B, d)` is given (so $k$ is
# `eps.shape[0]`). Three things are new compared with the lecture: the decoder is the Gaussian of Exercise 2 (write
# its log-density here, do not call your `gaussian_negative_elbo`), the sample has $k$ rows per example, and $\log q$
# is needed at the samples. Log-weights of real images are hundreds of nats from 0, and a confident decoder
# ($\sigma^2 \ll 1$) puts them tens of thousands of nats away: never exponentiate them.


# %% solution iwae_loss
def iwae_loss(model, x, eps):
    """The IWAE loss -L_k per example, with q(z | x) as the proposal.

    model: a GaussianVAEBase (use model.encode and model.decode); x: (B, D) float32; eps: (k, B, d) standard normal
    noise, one row of k samples per example.
    Returns: a float32 tensor of shape (B,): -(logsumexp_s log w_s - log k), differentiable in all of model's
    trainable variables (encoder, decoder and its log-variance).
    """
    ### BEGIN SOLUTION
    x = tf.convert_to_tensor(x, tf.float32)
    mean, log_var = model.encode(x)
    k, d = tf.shape(eps)[0], tf.shape(eps)[2]
    z = mean + tf.exp(log_var / 2.0) * eps  # (k, B, d)
    mean_x, log_var_x = model.decode(tf.reshape(z, [-1, d]))
    shape = tf.concat([[k], tf.shape(x)], axis=0)
    mean_x, log_var_x = tf.reshape(mean_x, shape), tf.reshape(log_var_x, shape)  # (k, B, D)
    half_log_2pi = 0.5 * np.log(2.0 * np.pi)
    log_lik = -tf.reduce_sum(0.5 * tf.square(x - mean_x) * tf.exp(-log_var_x) + 0.5 * log_var_x + half_log_2pi, -1)
    log_prior = -tf.reduce_sum(0.5 * tf.square(z) + half_log_2pi, axis=-1)
    log_proposal = -tf.reduce_sum(0.5 * tf.square(eps) + 0.5 * log_var + half_log_2pi, axis=-1)  # z - mean = sigma eps
    bound = tf.reduce_logsumexp(log_lik + log_prior - log_proposal, axis=0) - tf.math.log(tf.cast(k, tf.float32))
    return -bound
    ### END SOLUTION


# %% test iwae_loss points=4
import keras
import tensorflow as tf


def _tiny(seed, D=5, d=1, H=8, log_var_x=-1.0, scale=1.0):
    """A GaussianVAEBase with a linear encoder and a tanh decoder, fixed random weights."""
    _r = np.random.default_rng(seed)
    enc = keras.Sequential([keras.Input((D,)), keras.layers.Dense(2 * d)])
    dec = keras.Sequential([keras.Input((d,)), keras.layers.Dense(H, activation="tanh"), keras.layers.Dense(D)])
    enc.set_weights([_r.normal(0, 0.3, (D, 2 * d)).astype("float32"), _r.normal(0, 0.3, 2 * d).astype("float32")])
    dec.set_weights(
        [
            _r.normal(0, scale, (d, H)).astype("float32"),
            _r.normal(0, 0.5, H).astype("float32"),
            _r.normal(0, scale / np.sqrt(H), (H, D)).astype("float32"),
            _r.normal(0.5, 0.2, D).astype("float32"),
        ]
    )
    return GaussianVAEBase(enc, dec, log_var_x=log_var_x)


def _lse(a):
    top = a.max(axis=0)
    return top + np.log(np.sum(np.exp(a - top), axis=0))


def _loss(model, x, eps, what):
    _got = checks.as_array(iwae_loss(model, tf.constant(x, tf.float32), tf.constant(eps, tf.float32)), what)
    checks.assert_true(
        _got.shape == (x.shape[0],), f"{what} should have shape (B,) = ({x.shape[0]},), got {_got.shape}."
    )
    return _got


def _quadrature(model, x):
    """log p(x), the ELBO, the standard deviation of log w under q and E_prior[log p(x | z)], on a grid of z."""
    z = np.linspace(-10, 10, 8001)
    dz = z[1] - z[0]
    w1, b1, w2, b2 = (w.astype("float64") for w in model.decoder.get_weights())
    u = 10.0 * float(model.raw_log_var_x.numpy())
    m = np.tanh(z[:, None] @ w1 + b1) @ w2 + b2  # the decoder's means, (G, D)
    log_lik = -np.sum(0.5 * (x[:, None, :] - m) ** 2 / np.exp(u) + 0.5 * u + 0.5 * np.log(2 * np.pi), axis=-1)
    log_joint = log_lik - 0.5 * z**2 - 0.5 * np.log(2 * np.pi)  # (B, G)
    we, be = (w.astype("float64") for w in model.encoder.get_weights())
    mean, log_var = (x @ we + be).T  # (B,) each
    log_q = (
        -0.5 * (z - mean[:, None]) ** 2 / np.exp(log_var[:, None]) - 0.5 * log_var[:, None] - 0.5 * np.log(2 * np.pi)
    )
    q = np.exp(log_q) * dz
    elbo = np.sum(q * (log_joint - log_q), axis=1)
    sd = np.sqrt(np.sum(q * (log_joint - log_q - elbo[:, None]) ** 2, axis=1))
    prior_mean = np.sum(np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) * log_lik * dz, axis=1)
    return _lse(log_joint.T) + np.log(dz), elbo, sd, prior_mean


# The truth by quadrature: with k = 3000 samples, -iwae_loss is close to log p(x). Tolerance 0.15 nats: a correct
# estimator's largest error over 20 seeds of eps was 0.04 nats.
_model = _tiny(0)
_x = np.random.default_rng(1).random((4, 5)).astype("float32")
_log_px, _elbo, _sd, _prior_mean = _quadrature(_model, _x.astype("float64"))
_big = np.random.default_rng(3).normal(size=(3000, 4, 1)).astype("float32")
checks.assert_close(
    -_loss(_model, _x, _big, "iwae_loss"),
    _log_px,
    "-iwae_loss with k = 3000 (d = 1) against log p(x) by quadrature",
    rtol=0,
    atol=0.15,
    hints=[
        (
            _elbo,
            "that is the ELBO: average the weights inside the log, logsumexp_s(log w_s) - log k, not the log-weights.",
        ),
        (_log_px + np.log(3000), "off by log k = log 3000: subtract log k after the logsumexp."),
        (-_log_px, "that is -log p(x): return the loss -L_k, not L_k."),
    ],
)
# k = 1: -iwae_loss is one log-weight, whose mean under q is the ELBO (2000 copies of one image).
_ones = _loss(_model, np.repeat(_x[:1], 2000, axis=0), np.random.default_rng(4).normal(size=(1, 2000, 1)), "iwae_loss")
checks.assert_within_se(
    -np.mean(_ones),
    _elbo[0],
    _sd[0] / np.sqrt(2000),
    "the mean of -iwae_loss with k = 1 (the ELBO) over 2000 samples",
    hints=[
        (
            _prior_mean[0],
            "that is E_prior[log p(x | z)]: the prior is the proposal there. Sample z from q(z | x), z = mean + "
            "exp(log_var / 2) * eps, and include log p(z) - log q(z | x) in the log-weights.",
        )
    ],
)


### BEGIN HIDDEN TESTS
def _log_weights(model, x, eps, proposal="q", sample_std="sigma", likelihood="gaussian"):
    """Reference log-weights (k, B) in float64 from the model's weights (NumPy)."""
    we, be = (w.astype("float64") for w in model.encoder.get_weights())
    w1, b1, w2, b2 = (w.astype("float64") for w in model.decoder.get_weights())
    u = 10.0 * float(model.raw_log_var_x.numpy())
    d = eps.shape[-1]
    mean, log_var = np.split(x @ we + be, [d], axis=-1)
    std = np.exp(log_var / 2) if sample_std == "sigma" else np.exp(log_var)
    z = mean + std * eps if proposal == "q" else eps
    m = np.tanh(z @ w1 + b1) @ w2 + b2  # (k, B, D)
    log_lik = -np.sum(0.5 * (x - m) ** 2 / np.exp(u) + 0.5 * u + 0.5 * np.log(2 * np.pi), axis=-1)
    if likelihood == "bernoulli":
        log_lik = np.sum(x * m - np.logaddexp(0, m), axis=-1)
    log_prior = -np.sum(0.5 * z**2 + 0.5 * np.log(2 * np.pi), axis=-1)
    if proposal == "prior":
        return log_lik
    log_q = -np.sum(0.5 * ((z - mean) / np.exp(log_var / 2)) ** 2 + 0.5 * log_var + 0.5 * np.log(2 * np.pi), axis=-1)
    return log_lik + log_prior - log_q


def _hints(model, x, eps):
    k = eps.shape[0]
    lw = _log_weights(model, x, eps)
    return [
        (
            -np.mean(lw, axis=0),
            "that is minus the mean of the log-weights (a k-sample ELBO, the same for every k): "
            "average the weights inside the log, logsumexp_s(log w_s) - log k.",
        ),
        (-_lse(lw), "the - log k is missing: L_k = logsumexp_s(log w_s) - log k."),
        (_lse(lw) - np.log(k), "that is L_k itself; return the loss -L_k."),
        (
            -(_lse(_log_weights(model, x, eps, "prior")) - np.log(k)),
            "the prior is the proposal there (z = eps, log w = log p(x | z)): sample z from q(z | x), z = mean + "
            "exp(log_var / 2) * eps, and include log p(z) - log q(z | x) in the log-weights.",
        ),
        (
            -(_lse(_log_weights(model, x, eps, sample_std="var")) - np.log(k)),
            "the samples use exp(log_var), the variance, as the standard deviation: z = mean + exp(log_var / 2) * eps.",
        ),
        (
            -(_lse(_log_weights(model, x, eps, likelihood="bernoulli")) - np.log(k)),
            "that is the lecture's Bernoulli likelihood, with the decoder's means as logits: the decoder here is a "
            "Gaussian, log p(x | z) = -sum_i [(x_i - m_i)^2 / (2 sigma^2) + log(sigma^2) / 2 + log(2 pi) / 2].",
        ),
    ]


# The same model, against the reference with the same noise.
_r = np.random.default_rng(11)
_eps = _r.normal(size=(6, 4, 1)).astype("float32")  # k = 6 samples for each of B = 4 examples
_ref = -(_lse(_log_weights(_model, _x.astype("float64"), _eps.astype("float64"))) - np.log(6))
checks.assert_close(
    _loss(_model, _x, _eps, "iwae_loss"),
    _ref,
    "iwae_loss with k = 6 (d = 1)",
    rtol=1e-4,
    atol=1e-3,
    hints=_hints(_model, _x.astype("float64"), _eps.astype("float64")),
)
# k = 1: -L_1 is the one-sample negative ELBO with the Monte Carlo KL, -log w.
_ref1 = -_log_weights(_model, _x.astype("float64"), _eps[:1].astype("float64"))[0]
checks.assert_close(
    _loss(_model, _x, _eps[:1], "iwae_loss"),
    _ref1,
    "iwae_loss with k = 1 (minus the log-weight)",
    rtol=1e-4,
    atol=1e-3,
    hints=_hints(_model, _x.astype("float64"), _eps[:1].astype("float64")),
)
# d = 3, B = 7, k = 5 (three different sizes), against the reference.
_model3 = _tiny(2, D=6, d=3, log_var_x=-2.0)
_x3 = _r.random((7, 6)).astype("float32")
_eps3 = _r.normal(size=(5, 7, 3)).astype("float32")
checks.assert_close(
    _loss(_model3, _x3, _eps3, "iwae_loss"),
    -(_lse(_log_weights(_model3, _x3.astype("float64"), _eps3.astype("float64"))) - np.log(5)),
    "iwae_loss with k = 5, B = 7, d = 3",
    rtol=1e-4,
    atol=1e-3,
    hints=_hints(_model3, _x3.astype("float64"), _eps3.astype("float64")),
)
# A confident decoder (sigma^2 = e^-12): log-weights near -10^4 to -10^5, whose exponentials are 0 even in float64.
_sharp = _tiny(4, log_var_x=-12.0)
_xs = _r.random((3, 5)).astype("float32")
_es = _r.normal(size=(8, 3, 1)).astype("float32")
_got = _loss(_sharp, _xs, _es, "iwae_loss")
checks.assert_true(
    np.all(np.isfinite(_got)),
    f"iwae_loss returned {_got} when the log-weights are about -1e4: exponentiated, the weights are 0 and their log "
    "is -inf. Use tf.reduce_logsumexp on the log-weights.",
)
checks.assert_close(
    _got,
    -(_lse(_log_weights(_sharp, _xs.astype("float64"), _es.astype("float64"))) - np.log(8)),
    "iwae_loss with log-weights near -1e4",
    rtol=1e-4,
    atol=1e-2,
)
# Gradients reach the encoder, the decoder and the decoder's log-variance, and equal the reference's.
_variables = _model3.trainable_variables
with tf.GradientTape() as _tape:
    _mean_loss = tf.reduce_mean(tf.convert_to_tensor(iwae_loss(_model3, tf.constant(_x3), tf.constant(_eps3))))
_grads = _tape.gradient(_mean_loss, _variables)
_missing = [v.path for v, g in zip(_variables, _grads) if g is None]
checks.assert_true(
    not _missing,
    f"no gradient of iwae_loss reaches {_missing}: compute it with TensorFlow operations from model.encode and "
    "model.decode (no NumPy, no tf.stop_gradient), so that the encoder, the decoder and log_var_x are all trained.",
)
# Finite differences of the float64 reference, for the decoder's log-variance (a scalar).
_h = 1e-4
_raw = float(_model3.raw_log_var_x.numpy())
_fd = []
for _sign in (1, -1):
    _model3.raw_log_var_x.assign(_raw + _sign * _h)
    _fd.append(np.mean(-(_lse(_log_weights(_model3, _x3.astype("float64"), _eps3.astype("float64"))) - np.log(5))))
_model3.raw_log_var_x.assign(_raw)
_index = [i for i, v in enumerate(_variables) if "raw_log_var_x" in v.path][0]
checks.assert_close(
    _grads[_index],
    (_fd[0] - _fd[1]) / (2 * _h),
    "d mean(iwae_loss) / d raw_log_var_x (finite differences)",
    rtol=2e-3,
    atol=1e-3,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — a training step on $\mathcal L_k$ (4 points)
#
# Keras calls `train_step(self, data)` once per batch (`data` is a batch `x` of shape `(B, D)`). Complete it so that
# one call
#
# 1. draws the noise for `self.k` samples per example from the model's generator,
#    `self.sample_noise([self.k, B, self.latent_dim])` with `B = tf.shape(x)[0]` (once per call: that keeps
#    training reproducible from the seed);
# 2. computes the loss, the batch **mean** of `iwae_loss(self, x, eps)`, inside a `tf.GradientTape`;
# 3. takes its gradient with respect to **all** `self.trainable_variables` (the encoder, the decoder and the
#    decoder's log-variance) and applies it with `self.optimizer.apply_gradients`;
# 4. returns `self.track(per_example_loss)`.
#
# With `k = 1` this is a VAE trained on the ELBO with a Monte Carlo KL; with `k > 1`, it is the IWAE.


# %% solution IWAE
class IWAE(GaussianVAEBase):
    def train_step(self, data):
        """One gradient step on a batch.

        data: x of shape (B, D), float32.
        Effect: one optimizer step on all trainable variables for the loss mean(iwae_loss(self, x, eps)), with eps
        of shape (self.k, B, d) from self.sample_noise; updates the tracker with the per-example loss.
        Returns: self.track(per-example loss).
        """
        ### BEGIN SOLUTION
        x = data
        eps = self.sample_noise([self.k, tf.shape(x)[0], self.latent_dim])
        with tf.GradientTape() as tape:
            per_example = iwae_loss(self, x, eps)
            loss = tf.reduce_mean(per_example)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return self.track(per_example)
        ### END SOLUTION


# %% test IWAE points=4
import keras
import tensorflow as tf

# This test grades train_step alone: while it runs, iwae_loss is replaced by a probe (yours is restored afterwards).
# The probe is not a bound, only some differentiable function of every trainable variable and of all k samples;
# it records the shape of the noise it is given.
_noise_shapes = []


def _probe_loss(model, x, eps):
    _noise_shapes.append(tuple(int(n) for n in eps.shape))
    mean, log_var = model.encode(x)
    z = mean + tf.exp(0.5 * log_var) * eps
    k, d = eps.shape[0], eps.shape[2]
    m, u = (tf.reshape(t, (k, -1, x.shape[-1])) for t in model.decode(tf.reshape(z, (-1, d))))
    score = tf.reduce_sum(tf.sin(3.0 * m) * x + 0.1 * u * tf.cos(m), axis=-1)  # (k, B)
    return tf.reduce_sum(score * tf.linspace(1.0, 2.0, k)[:, None], axis=0) / k  # each sample weighs differently


def _networks(seed, D=6, H=5, d=2):
    _r = np.random.default_rng(seed)
    enc = keras.Sequential([keras.Input((D,)), keras.layers.Dense(H, activation="tanh"), keras.layers.Dense(2 * d)])
    dec = keras.Sequential([keras.Input((d,)), keras.layers.Dense(H, activation="tanh"), keras.layers.Dense(D)])
    for net in (enc, dec):
        net.set_weights([_r.normal(0, 0.7, w.shape).astype("float32") for w in net.get_weights()])
    return enc, dec


def _student_step(seed, k, x, lr):
    model = IWAE(*_networks(seed), k=k, seed=seed, log_var_x=-1.0)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr))
    model(x)
    before = [v.numpy().copy() for v in model.trainable_variables]
    _noise_shapes.clear()
    logs = model.train_step(x)
    checks.assert_true(
        isinstance(logs, dict) and "neg_bound" in logs,
        f"train_step should return self.track(per-example loss), a dict with 'neg_bound'; got {logs!r:.200}.",
    )
    checks.assert_true(
        len(_noise_shapes) > 0,
        "train_step did not call iwae_loss(self, x, eps): the loss of this model is the IWAE bound. (One sample and "
        "the analytic KL is the lecture's train_step, the ELBO.)",
    )
    expected = (k, int(x.shape[0]), 2)
    checks.assert_true(
        _noise_shapes[0] == expected,
        f"iwae_loss was given noise of shape {_noise_shapes[0]}, expected (self.k, B, latent_dim) = {expected}"
        + (": draw self.k samples per example, not one." if _noise_shapes[0][0] == 1 else "."),
    )
    delta = np.concatenate([(v.numpy() - b).ravel() for v, b in zip(model.trainable_variables, before)])
    return delta, float(checks.as_array(logs["neg_bound"], "train_step's neg_bound"))


def _reference_step(seed, k, x, lr, variant="correct"):
    """The change of every trainable variable after one SGD step on the probe, and its mean before the step."""
    model = GaussianVAEBase(*_networks(seed), k=k, seed=seed, log_var_x=-1.0)
    model(x)
    eps = tf.random.Generator.from_seed(seed).normal([k, x.shape[0], 2])  # what the model's sample_noise draws first
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        per_example = _probe_loss(model, x, eps)
        loss = tf.reduce_sum(per_example) if variant == "sum" else tf.reduce_mean(per_example)
    deltas = []
    for v, g in zip(variables, tape.gradient(loss, variables)):
        frozen = variant == "no_log_var_x" and "raw_log_var_x" in v.path
        deltas.append(np.zeros(v.shape) if frozen else -lr * g.numpy())
    return np.concatenate([dl.ravel() for dl in deltas]), float(tf.reduce_mean(per_example))


def _check_step(seed, k, what, twice=False):
    x = tf.constant(np.random.default_rng(seed + 100).random((8, 6)).astype("float32"))
    delta, logged = _student_step(seed, k, x, 0.05)
    if twice:
        again, _ = _student_step(seed, k, x, 0.05)
        checks.assert_true(
            np.allclose(delta, again, rtol=1e-5, atol=1e-7),
            f"two models built with seed = {seed} took different first steps {what}: draw the noise with "
            "self.sample_noise (the model's seeded generator), not tf.random.normal or NumPy, so that training can "
            "be reproduced from the seed.",
        )
    ref, ref_loss = _reference_step(seed, k, x, 0.05)
    what_step = f"the change of the variables after one SGD step {what}"
    if not np.allclose(delta, ref, rtol=1e-3, atol=1e-6):  # the hints cost a model each: only when needed
        hints = [
            (_reference_step(seed, k, x, 0.05, "sum")[0], "the step is B times too large: the loss is the batch mean."),
            (
                _reference_step(seed, k, x, 0.05, "no_log_var_x")[0],
                "the decoder's log-variance did not move: take the gradient with respect to all "
                "self.trainable_variables, not only the encoder's and the decoder's.",
            ),
            (0 * ref, "nothing moved: apply the gradients with self.optimizer.apply_gradients."),
            (-ref, "the step goes uphill: minimise the loss (the gradient of +loss, applied by the optimizer)."),
        ]
        checks.assert_close(delta, ref, what_step, rtol=1e-3, atol=1e-6, hints=hints)
    checks.assert_close(
        logged,
        ref_loss,
        f"the returned neg_bound {what}",
        rtol=1e-4,
        atol=1e-4,
        hints=[(0.0, "the tracker was not updated: return self.track(per_example_loss).")],
    )


_saved = globals().get("iwae_loss")
iwae_loss = _probe_loss
try:
    _check_step(0, 4, "(k = 4)", twice=True)
    ### BEGIN HIDDEN TESTS
    _check_step(1, 1, "(k = 1)")
    _check_step(2, 7, "(k = 7)")
    ### END HIDDEN TESTS
finally:
    iwae_loss = _saved

# %% [markdown]
# ## Exercise 5 — how many samples carry the bound? (3 points)
#
# $\mathcal L_k$ is only as good as its weights: if one $w_s$ dwarfs the others, the $k$ samples are worth one. The
# **effective sample size** of the weights of one example (unit 03 mentioned it) is
#
# $$\mathrm{ESS} = \frac{\big(\sum_{s=1}^{k} w_s\big)^2}{\sum_{s=1}^{k} w_s^2} \in [1, k]:$$
#
# $k$ when all weights are equal, 1 when one weight holds everything. It does not change when every weight is
# multiplied by the same number. You get the **log**-weights, shape `(k, B)`; they can be $-10^4$ (or $+10^3$), so
# work in log space and exponentiate only a number that cannot overflow or underflow. Return one ESS per example.


# %% solution effective_sample_size
def effective_sample_size(log_w):
    """The effective sample size of importance weights, from their logarithms.

    log_w: (k, B) array-like of log-weights (float32 or float64), the k samples of each of B examples in a column.
    Returns: an array or tensor of shape (B,): (sum_s w_s)^2 / sum_s w_s^2 per example, finite for any finite
    log-weights (accurate to rtol 1e-5).
    """
    ### BEGIN SOLUTION
    log_w = tf.convert_to_tensor(log_w, tf.float64)
    log_ess = 2.0 * tf.reduce_logsumexp(log_w, axis=0) - tf.reduce_logsumexp(2.0 * log_w, axis=0)
    return tf.exp(log_ess)
    ### END SOLUTION


# %% test effective_sample_size points=3
def _ess(log_w):
    lw = np.asarray(log_w, "float64")
    w = np.exp(lw - lw.max(axis=0))  # scale-free: the largest weight becomes 1
    return w.sum(axis=0) ** 2 / np.sum(w**2, axis=0)


def _hints(log_w):
    lw = np.asarray(log_w, "float64")
    k = lw.shape[0]
    w = np.exp(lw - lw.max(axis=0))
    with np.errstate(all="ignore"):  # a hint may divide by 0; a warning on stderr would cost the points
        return [
            (_ess(lw) / k, "that is ESS / k, the fraction; return the ESS itself."),
            (
                lw.sum(axis=0) ** 2 / np.sum(lw**2, axis=0),
                "the log-weights were used as weights: exponentiate them first.",
            ),
            (1 / np.max(w / w.sum(axis=0), axis=0), "that is 1 / (largest normalised weight), another diagnostic."),
        ]


def _ess_of(log_w, what):
    _got = checks.as_array(effective_sample_size(np.asarray(log_w, "float32")), what)
    _shape = (np.shape(log_w)[1],)
    checks.assert_true(_got.shape == _shape, f"{what} should have shape (B,) = {_shape}, got {_got.shape}.")
    return _got


# Weights (1, 1, 2): ESS = 4^2 / 6 = 8/3. Equal weights: ESS = k = 3.
_lw = np.log([[1.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
checks.assert_close(
    _ess_of(_lw, "effective_sample_size"),
    [8 / 3, 3.0],
    "effective_sample_size for weights (1, 1, 2) and (1, 1, 1)",
    rtol=1e-5,
    hints=_hints(_lw),
)
# Log-weights near -1000 (a real image's): the same ESS, since it does not depend on a common factor.
checks.assert_close(
    _ess_of(_lw - 1000.0, "effective_sample_size"),
    [8 / 3, 3.0],
    "effective_sample_size for weights (1, 1, 2) e^-1000 and (1, 1, 1) e^-1000",
    rtol=1e-5,
    hints=[
        (
            np.full(2, np.nan),
            "exp(-1000) is 0 in floating point: 0 / 0. Subtract the largest log-weight first, "
            "or write log ESS with two logsumexps.",
        )
    ],
)
### BEGIN HIDDEN TESTS
# Random log-weights, k = 40, B = 6, of widely different spreads, and very large ones.
_r = np.random.default_rng(55)
_lw = _r.normal(0, 1, (40, 6)) * np.array([0.01, 0.3, 1.0, 3.0, 10.0, 30.0]) + _r.normal(-300, 300, 6)
_lw = _lw.astype("float32").astype("float64")  # the values the answer receives (float32)
checks.assert_close(
    _ess_of(_lw, "effective_sample_size"),
    _ess(_lw),
    "effective_sample_size for random log-weights (k = 40, B = 6)",
    rtol=1e-4,
    hints=_hints(_lw),
)
_lw = (_lw + 2000.0).astype("float32").astype("float64")
checks.assert_close(
    _ess_of(_lw, "effective_sample_size"),
    _ess(_lw),
    "effective_sample_size for log-weights near +2000 (exp overflows)",
    rtol=1e-4,
    hints=[(np.full(6, np.nan), "exp(2000) is inf: inf / inf.")],
)
# One weight holds everything: ESS = 1.
_lw = np.full((20, 3), -60.0)
_lw[7] = 0.0
checks.assert_close(
    _ess_of(_lw, "effective_sample_size"),
    np.ones(3),
    "effective_sample_size when one weight dominates (log-weights 0 and -60)",
    rtol=1e-5,
    hints=_hints(_lw),
)
### END HIDDEN TESTS

# %% [markdown]
# ## Train it
#
# Your pieces make an IWAE with a Gaussian decoder. Train one with $k = 5$ on Fashion-MNIST grey levels (FAST mode:
# 8 epochs on 5000 images, a few seconds; FULL mode: 30 epochs on 60 000), and look at its reconstructions. Only the
# predictions below are graded; if a cell fails, the error points at the exercise to revisit.

# %%
keras.utils.set_random_seed(config.seed())
fashion = data.load("fashion_mnist")
train_images = data.to_float(fashion["train_images"])
test_images = data.to_float(fashion["test_images"])
train_batches = tf.data.Dataset.from_tensor_slices(train_images).shuffle(len(train_images), seed=config.seed())
train_batches = train_batches.batch(128)


def mlp(sizes):
    """ReLU hidden layers, a linear output layer."""
    return keras.Sequential(
        [keras.Input((sizes[0],))]
        + [keras.layers.Dense(h, activation="relu") for h in sizes[1:-1]]
        + [keras.layers.Dense(sizes[-1])]
    )


latent_dim = 16
iwae = IWAE(mlp([784, 256, 128, 2 * latent_dim]), mlp([latent_dim, 128, 256, 784]), k=5, seed=config.seed())
iwae.compile(optimizer=keras.optimizers.Adam(2e-3))
history = training.fit(
    iwae,
    train_batches,
    config.pick(fast=8, full=30),
    validation_data=tf.data.Dataset.from_tensor_slices(test_images).batch(500),
)

# %%
reconstructions = iwae(test_images[:10]).numpy()
plotting.image_grid(np.concatenate([test_images[:10], reconstructions]), 2, 10, "test images and reconstructions")
plt.show()
print(f"test -L_5 {history.history['val_neg_bound'][-1]:.1f} nats (a density over [0, 1]^784: it can be negative)")

# %% [markdown]
# ## Predict, then run: more samples in the bound (1 point)
#
# The cell after the next one computes $\mathcal L_k$ (minus your `iwae_loss`) on the same 100 test images for
# $k = 1$, 10 and 100. **Before you run it**, predict how the average over the images changes as $k$ grows:
#
# - (a) it goes up, towards $\log p_\theta(x)$, by less and less;
# - (b) it goes down: more samples find more poor values of $z$, so the estimate becomes more pessimistic;
# - (c) it stays the same on average: each $\mathcal L_k$ estimates the ELBO, only with less noise.
#
# Put the letter of your prediction in `predicted_bound_trend`.

# %% solution predicted_bound_trend
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_bound_trend = "a"
### END SOLUTION

# %% test predicted_bound_trend points=1
checks.assert_true(
    isinstance(predicted_bound_trend, str) and predicted_bound_trend.strip().lower() in ("a", "b", "c"),
    f'predicted_bound_trend should be one of the letters "a", "b" or "c"; got {predicted_bound_trend!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_bound_trend.strip().lower() == "a",
    "The right answer is (a). L_k is the log of an average of k weights, and the average of the weights is an "
    "unbiased estimate of p(x); the log of a noisy average is on average below the log of its expectation, by less "
    "the less the average varies. More samples make it vary less, so E[L_k] rises with k from the ELBO (k = 1) towards "
    "log p(x), with shrinking gains (Burda et al., 2016). It never falls: E[L_k] <= E[L_{k+1}].",
)
### END HIDDEN TESTS

# %%
test_x = tf.constant(test_images[:100])
for k in (1, 10, 100):
    eps = tf.random.stateless_normal([k, 100, latent_dim], seed=[config.seed(), k])
    print(f"L_{k:<3d} = {-float(tf.reduce_mean(iwae_loss(iwae, test_x, eps))):8.2f} nats (mean over 100 test images)")
# The k = 100 log-weights one by one: -L_1 of each sample is minus its log-weight.
eps = tf.random.stateless_normal([1, 100 * 100, latent_dim], seed=[config.seed(), 100])
log_w = -np.reshape(iwae_loss(iwae, tf.tile(test_x, [100, 1]), eps), (100, 100))
print(f"effective sample size of those 100 weights: median {np.median(effective_sample_size(log_w)):.1f} of 100")

# %% [markdown]
# ## Predict, then run: the learned variance (1 point)
#
# The decoder's $\sigma^2$ started at 1 and was trained with everything else. **Before you run the cell after the
# next one**, predict where it ended, compared with the mean squared error per pixel of the reconstructions (decoded
# from samples of $q$, as in the loss):
#
# - (a) about 1: the prior $\mathcal N(0, I)$ sets the scale, and the data have no say in it;
# - (b) about the mean squared error per pixel: for a given decoder mean, the loss is smallest there;
# - (c) nearly 0: the smaller $\sigma^2$, the higher the density at the reconstruction, so it shrinks without limit.
#
# Put the letter of your prediction in `predicted_learned_variance`.

# %% solution predicted_learned_variance
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_learned_variance = "b"
### END SOLUTION

# %% test predicted_learned_variance points=1
checks.assert_true(
    isinstance(predicted_learned_variance, str) and predicted_learned_variance.strip().lower() in ("a", "b", "c"),
    f'predicted_learned_variance should be one of the letters "a", "b" or "c"; got {predicted_learned_variance!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_learned_variance.strip().lower() == "b",
    "The right answer is (b). With the decoder's means fixed, the reconstruction term is SSE / (2 sigma^2) + "
    "(D / 2) log sigma^2 + const; its derivative in sigma^2 is zero at sigma^2 = SSE / D, the mean squared error "
    "per pixel. A smaller sigma^2 makes the squared errors dearer faster than the log term gains (c fails unless the "
    "errors are 0), and the prior on z has nothing to do with the pixels' noise (a). So beta = 2 sigma^2 is set by "
    "how well the decoder reconstructs.",
)
### END HIDDEN TESTS

# %%
mean, log_var = iwae.encode(train_images[:2000])
z = mean + tf.exp(0.5 * log_var) * tf.random.stateless_normal(tf.shape(mean), seed=[config.seed(), 7])
squared_error = float(np.mean((train_images[:2000] - iwae.decode(z)[0].numpy()) ** 2))
print(
    f"learned sigma^2 = {float(tf.exp(10.0 * iwae.raw_log_var_x)):.4f}; mean squared error per pixel = "
    f"{squared_error:.4f}; so beta = 2 sigma^2 = {2 * float(tf.exp(10.0 * iwae.raw_log_var_x)):.3f} in SSE units"
)

# %% [markdown]
# ## A written question (3 points)
#
# In the lecture, a VAE trained with $\beta = 50$ ended with a KL of almost exactly 0 nats and no active
# units, while KL warm-up kept many units active. (a) Why is the KL term of a collapsed unit exactly
# zero, and what does the decoder do with that unit? (b) Why does training not leave that state once it
# is reached, and what does warm-up change? Answer in a few sentences.

# %% written collapse points=3
# ### BEGIN SOLUTION
# (a) A collapsed unit has $q(z_j \mid x) = \mathcal N(0, 1) = p(z_j)$ for every $x$ ($\mu_j = 0$,
# $\log\sigma_j^2 = 0$), and the KL between identical distributions is 0: each term
# $\frac12(\sigma^2 + \mu^2 - 1 - \log\sigma^2)$ vanishes. The unit then carries no information about $x$
# (its posterior is the same for every image), so the decoder learns to ignore it: its weights from $z_j$ go to
# zero, and it models the data without that unit.
# (b) Once the decoder ignores $z_j$, the reconstruction gradient with respect to the encoder's $\mu_j$,
# $\sigma_j$ is (nearly) zero or pure noise, while any move away from the prior costs KL immediately: the
# collapsed state is a stable (local) optimum, reached early when the KL term is easy to reduce and the
# decoder is still poor (or always when $\beta$ is large). Warm-up sets $\beta \approx 0$ at first, so the encoder
# and decoder first learn to use $z$ (reconstruction dominates); by the time the KL is fully weighted, the
# information in $z$ is worth more than it costs, and the units stay active.
#
# *For graders:* 1 point for (a) with $q = p$ per unit (or the formula being zero at $\mu = 0$, $\sigma = 1$) and the
# decoder ignoring it; 1 point for (b)'s missing gradient signal / the KL cost of leaving; 1 point for what warm-up
# changes (information learned before it is charged for). Accept "a strong decoder does not need $z$" as part of (b).
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A Gaussian with covariance $\operatorname{diag}(e^{v}) + FF^\top$ is sampled as
#   $z = \mu + e^{v/2} \odot \varepsilon_1 + F \varepsilon_2$: independent parts, summed covariances.
# - A Gaussian decoder's $-\log p(x \mid z) = \sum_i \big[\frac{(x_i - m_i)^2}{2\sigma_i^2} + \frac12 \log \sigma_i^2
#   + \frac12 \log 2\pi\big]$; with a learned shared $\sigma^2$ its optimum is the mean squared error, and
#   $\beta = 2\sigma^2$ follows the reconstruction quality.
# - The IWAE loss is $-\mathcal L_k = -\operatorname{logsumexp}_s(\log w_s) + \log k$, differentiable through
#   reparameterised samples of $q$; $k = 1$ is the ELBO with a Monte Carlo KL.
# - $\log q(z_s \mid x)$ at $z_s = \mu + \sigma \odot \varepsilon_s$ needs only $\varepsilon_s$ and $\log \sigma^2$.
# - $\mathrm{ESS} = \exp\big(2 \operatorname{logsumexp}(\log w) - \operatorname{logsumexp}(2 \log w)\big)$ says how
#   many of the $k$ samples carry the bound.
