# %% [markdown]
# # Lab 05 — The variational autoencoder
#
# Build a VAE piece by piece: the reparameterised sample, the encoder and decoder networks, the negative
# ELBO with its two terms, the training step, the importance-sampled log-likelihood and the count of
# active units. Then train it briefly on binarised MNIST.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - draw a reparameterised sample $z = \mu + \sigma \odot \varepsilon$ through which gradients flow;
# - build an MLP encoder (means and log-variances) and decoder (Bernoulli logits) with Keras 3;
# - compute the negative ELBO per example as a reconstruction term plus the closed-form KL;
# - write a Keras 3 `train_step` that updates encoder and decoder together;
# - estimate $\log p(x)$ with the importance-weighted bound $\mathcal L_k$, stably;
# - count active units, and explain posterior collapse.

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
# ## The model and the conventions
#
# $$p(z) = \mathcal N(0, I_d), \qquad
# p_\theta(x \mid z) = \prod_{i=1}^{D} \mathrm{Bernoulli}\big(x_i;\ \operatorname{sigmoid}(\ell_i)\big),
# \ \ \ell = \mathrm{decoder}(z),
# \qquad q_\phi(z \mid x) = \mathcal N\big(\mu, \operatorname{diag}(e^{v})\big),\ \ (\mu, v) = \mathrm{encoder}(x).$$
#
# Everything is batched, float32 and **per example**: `x` has shape `(B, D)` with entries 0 or 1, `z`,
# `mean` ($\mu$) and `log_var` ($v = \log \sigma^2$, a log-*variance*) have shape `(B, d)`, and `logits`
# ($\ell$, any real numbers, *not* probabilities) has shape `(B, D)`.
#
# The cell below gives you `VAEBase`, a Keras 3 model holding the two networks: `encode(x)` returns
# `(mean, log_var)` (the encoder's $2d$ outputs split in two halves), `decode(z)` returns logits,
# `sample_noise(shape)` draws $\varepsilon \sim \mathcal N(0, I)$ from the model's seeded generator, `beta` is
# the weight of the KL in the training loss, and three `keras.metrics.Mean` trackers record the negative
# ELBO and its two terms. `loss_terms(x)` returns the two terms with one sample of $z$ and `track(recon, kl)`
# updates the trackers; its `test_step` (evaluation) uses both, and so your `reparameterize` and
# `negative_elbo`.


# %% locked model_base
class VAEBase(keras.Model):
    """The given parts of a VAE.

    encoder: a Keras model, x (B, D) -> (B, 2 d): the posterior means, then the log-variances.
    decoder: a Keras model, z (B, d) -> (B, D): Bernoulli logits.
    beta: the weight of the KL term in the training loss (1 gives the negative ELBO); seed: for sample_noise.
    """

    def __init__(self, encoder, decoder, beta=1.0, seed=0):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.beta = tf.Variable(float(beta), trainable=False, dtype=tf.float32, name="beta")
        self.noise = tf.random.Generator.from_seed(seed)
        self.neg_elbo_tracker = keras.metrics.Mean("neg_elbo")
        self.recon_tracker = keras.metrics.Mean("recon")
        self.kl_tracker = keras.metrics.Mean("kl")

    @property
    def metrics(self):
        return [self.neg_elbo_tracker, self.recon_tracker, self.kl_tracker]

    def encode(self, x):
        """(mean, log_var), each of shape (B, d), of q(z | x) for x of shape (B, D)."""
        mean, log_var = tf.split(self.encoder(x), 2, axis=-1)
        return mean, log_var

    def decode(self, z):
        """Bernoulli logits of shape (B, D) for z of shape (B, d) (rank 2 only: reshape K samples first)."""
        return self.decoder(z)

    def sample_noise(self, shape):
        """Standard normal noise of the given shape, from the model's own seeded generator."""
        return self.noise.normal(shape)

    def call(self, x):
        """Reconstruction logits, decoded from the posterior mean."""
        mean, _ = self.encode(x)
        return self.decode(mean)

    def loss_terms(self, x):
        """(recon, kl), each of shape (B,), with one sample of z per example (your reparameterize, negative_elbo)."""
        mean, log_var = self.encode(x)
        z = reparameterize(mean, log_var, self.sample_noise(tf.shape(mean)))
        _, recon, kl = negative_elbo(x, self.decode(z), mean, log_var)
        return recon, kl

    def track(self, recon, kl):
        """Update the three trackers with the per-example terms (neg_elbo = recon + kl); returns their results."""
        for tracker, value in zip(self.metrics, (recon + kl, recon, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def test_step(self, data):
        """Evaluation (model.evaluate, validation): the negative ELBO with one sample of z per example."""
        return self.track(*self.loss_terms(data))


# %% [markdown]
# ## Exercise 1 — the reparameterised sample (2 points)
#
# A sample $z \sim \mathcal N(\mu, \operatorname{diag}\sigma^2)$ written as $z = \mu + \sigma \odot \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, I)$ is a differentiable function of $\mu$ and $\sigma$. The encoder gives the
# log-variance $v = \log\sigma^2$, so $\sigma = \exp(v / 2)$. Return $z$ for the given noise `eps`, using
# TensorFlow operations only, so that `tf.GradientTape` can differentiate it with respect to `mean` and
# `log_var`.


# %% solution reparameterize
def reparameterize(mean, log_var, eps):
    """A reparameterised sample of q = N(mean, diag(exp(log_var))).

    mean, log_var, eps: float32 tensors of the same shape (B, d); eps is standard normal noise.
    Returns: z = mean + exp(log_var / 2) * eps, a tensor of shape (B, d), differentiable in mean and log_var.
    """
    ### BEGIN SOLUTION
    return mean + tf.exp(0.5 * log_var) * eps
    ### END SOLUTION


# %% test reparameterize points=2
import tensorflow as tf

# log_var = log 4 means sigma = 2: z = 1 + 2 * 0.5 = 2.
_mean, _log_var, _eps = (tf.constant([[v]], tf.float32) for v in (1.0, np.log(4.0), 0.5))
checks.assert_close(
    reparameterize(_mean, _log_var, _eps),
    [[2.0]],
    "reparameterize(mean=1, log_var=log 4, eps=0.5)",
    hints=[
        ([[1.0 + np.log(4.0) * 0.5]], "log_var is a log-variance, not a standard deviation: sigma = exp(log_var / 2)."),
        ([[3.0]], "exp(log_var) is the variance; the standard deviation is exp(log_var / 2)."),
    ],
)
# Gradients flow to both parameters: dz/dmean = 1, dz/dlog_var = exp(log_var / 2) * eps / 2 = 0.5.
_mean_v, _log_var_v = tf.Variable([[1.0]]), tf.Variable([[np.log(4.0)]], dtype=tf.float32)
with tf.GradientTape() as _tape:
    _z = reparameterize(_mean_v, _log_var_v, _eps)
    _total = tf.reduce_sum(_z) if isinstance(_z, (tf.Tensor, tf.Variable)) else None
checks.assert_true(
    _total is not None,
    f"reparameterize should return a TensorFlow tensor, got {type(_z).__name__}: "
    "converting to NumPy (.numpy(), np.exp, np.asarray) cuts the gradient.",
)
_grads = _tape.gradient(_total, [_mean_v, _log_var_v])
checks.assert_true(
    all(g is not None for g in _grads),
    "no gradient reaches mean or log_var through z: did you use tf.stop_gradient or NumPy inside reparameterize?",
)
checks.assert_close(_grads[0], [[1.0]], "dz/dmean")
checks.assert_close(
    _grads[1],
    [[0.5]],
    "dz/dlog_var at log_var = log 4, eps = 0.5",
    hints=[([[2.0]], "d/dv exp(v) * eps = 2: that is exp(log_var) * eps, the variance used as a standard deviation.")],
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(51)
_m, _v, _e = (_rng.normal(size=(7, 3)).astype("float32") for _ in range(3))
_expected = _m + np.exp(0.5 * _v) * _e
checks.assert_close(
    reparameterize(tf.constant(_m), tf.constant(_v), tf.constant(_e)),
    _expected,
    "reparameterize for a random batch (B = 7, d = 3)",
    rtol=1e-5,
    hints=[
        (_m + _v * _e, "log_var is a log-variance, not a standard deviation: sigma = exp(log_var / 2)."),
        (_m + np.exp(_v) * _e, "exp(log_var) is the variance; the standard deviation is exp(log_var / 2)."),
    ],
)
_mean_v, _log_var_v = tf.Variable(_m), tf.Variable(_v)
with tf.GradientTape() as _tape:
    _total = tf.reduce_sum(tf.convert_to_tensor(reparameterize(_mean_v, _log_var_v, tf.constant(_e))) ** 2)
_grads = _tape.gradient(_total, [_mean_v, _log_var_v])
checks.assert_true(
    all(g is not None for g in _grads), "no gradient reaches mean or log_var through z for a random batch."
)
checks.assert_close(_grads[0], 2 * _expected, "d sum(z^2) / dmean for a random batch", rtol=1e-4)
checks.assert_close(
    _grads[1],
    2 * _expected * 0.5 * np.exp(0.5 * _v) * _e,
    "d sum(z^2) / dlog_var for a random batch",
    rtol=1e-4,
    atol=1e-5,
)
# Very negative log-variances (an almost deterministic encoder) stay finite.
_z = checks.as_array(
    reparameterize(tf.constant([[0.3]]), tf.constant([[-60.0]]), tf.constant([[1.0]])), "reparameterize"
)
checks.assert_close(_z, [[0.3]], "reparameterize with log_var = -60 (sigma about 1e-13)")
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — encoder and decoder (3 points)
#
# Build the two networks as Keras models made of `keras.layers.Dense` layers:
#
# - the **encoder** maps $x \in \mathbb R^{D}$ through hidden layers of sizes `hidden` (ReLU) to $2d$ linear
#   outputs, the means followed by the log-variances (both can be any real number: no activation);
# - the **decoder** mirrors it: $z \in \mathbb R^{d}$ through hidden layers of the sizes `hidden` in
#   *reverse* order (ReLU) to $D$ linear outputs, the logits (no sigmoid: the likelihood takes logits).
#
# For `hidden = (512, 256)` and `d = 32`: 784–512–256–64 and 32–256–512–784. `keras.Sequential` with a
# `keras.Input` first is the simplest way.


# %% solution make_networks
def make_networks(data_dim, hidden, latent_dim):
    """The encoder and decoder MLPs of a VAE.

    data_dim: D, an int; hidden: a tuple of hidden-layer sizes for the encoder, e.g. (512, 256);
    latent_dim: d, an int.
    Returns: (encoder, decoder), two Keras models: the encoder maps (B, D) to (B, 2 d) (means, then
    log-variances; linear output), the decoder maps (B, d) to (B, D) logits (linear output); hidden
    layers use ReLU, and the decoder's hidden sizes are the encoder's in reverse order.
    """
    ### BEGIN SOLUTION
    encoder = keras.Sequential(
        [
            keras.Input((data_dim,)),
            *[keras.layers.Dense(h, activation="relu") for h in hidden],
            keras.layers.Dense(2 * latent_dim),
        ]
    )
    decoder = keras.Sequential(
        [
            keras.Input((latent_dim,)),
            *[keras.layers.Dense(h, activation="relu") for h in reversed(hidden)],
            keras.layers.Dense(data_dim),
        ]
    )
    return encoder, decoder
    ### END SOLUTION


# %% test make_networks points=3
import tensorflow as tf


def _mlp_parameters(sizes):
    """Trainable parameters of Dense layers sizes[0] -> sizes[1] -> ... (a kernel and a bias each)."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _check_networks(data_dim, hidden, latent_dim, seed):
    """Behaviour, not layout: shapes, linear outputs, a nonlinear map of the input, trainable parameters."""
    _result = make_networks(data_dim, hidden, latent_dim)
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 2,
        f"make_networks should return (encoder, decoder); got {type(_result).__name__}.",
    )
    _r = np.random.default_rng(seed)
    _what = f"(D = {data_dim}, hidden = {hidden}, d = {latent_dim})"
    _inputs = {
        "encoder": (_r.random((9, data_dim)) < 0.5).astype("float32"),
        "decoder": _r.normal(0, 2, (9, latent_dim)).astype("float32"),
    }
    _widths = {"encoder": 2 * latent_dim, "decoder": data_dim}
    _sizes = {"encoder": [data_dim, *hidden, 2 * latent_dim], "decoder": [latent_dim, *reversed(hidden), data_dim]}
    for _name, _net in zip(("encoder", "decoder"), _result):
        _inp = _inputs[_name]
        _out = checks.as_array(_net(tf.constant(_inp)), f"the {_name}'s output")
        checks.assert_true(
            _out.shape == (9, _widths[_name]),
            f"the {_name} {_what} should map {_inp.shape} to (9, {_widths[_name]})"
            + (" (means, then log-variances)" if _name == "encoder" else " (logits)")
            + f", got {_out.shape}.",
        )
        # Any layout of the layers will do; the number of trainable parameters is that of the MLP.
        _count = int(sum(np.prod(v.shape) for v in _net.trainable_variables))
        _expected = _mlp_parameters(_sizes[_name])
        _hint = ""
        if _name == "decoder" and _count == _mlp_parameters([latent_dim, *hidden, data_dim]):
            _hint = " The decoder's hidden sizes are the encoder's in reverse order."
        checks.assert_true(
            _count == _expected,
            f"the {_name} {_what} should be Dense layers {' -> '.join(map(str, _sizes[_name]))}, with {_expected} "
            f"trainable parameters; yours has {_count}.{_hint}",
        )
        # Fresh random weights, whatever the layout: every trainable variable drawn again.
        for _v in _net.trainable_variables:
            _scale = 1 / np.sqrt(_v.shape[0]) if len(_v.shape) == 2 else 0.5
            _v.assign(_r.normal(0, _scale, _v.shape).astype("float32"))
        _x = tf.constant(_inp)
        with tf.GradientTape() as _tape:
            _y = tf.convert_to_tensor(_net(_x))
            _total = tf.reduce_sum(_y * _r.normal(size=_out.shape).astype("float32"))
        _grads = _tape.gradient(_total, _net.trainable_variables)
        checks.assert_true(
            all(g is not None for g in _grads),
            f"the {_name}'s output does not depend on all its trainable variables: is a layer left unused?",
        )
        _y = _y.numpy()
        _parts = np.split(_y, 2, axis=1) if _name == "encoder" else [_y]
        for _part, _label in zip(_parts, ["means", "log-variances"] if _name == "encoder" else ["logits"]):
            checks.assert_true(
                not np.all((_part > 0) & (_part < 1)),
                f"the {_name}'s {_label} all lie in (0, 1): the output went through a sigmoid. The decoder returns "
                "logits, and the encoder's outputs are means and log-variances: the last layer has no activation.",
            )
            checks.assert_true(
                np.min(_part) < 0,
                f"the {_name}'s {_label} are never negative: is there a ReLU on the last layer? Means, log-variances "
                "and logits can be any real number, so the last layer has no activation.",
            )
            checks.assert_true(
                np.all(np.std(_part, axis=0) > 1e-6),
                f"some of the {_name}'s {_label} are the same for 9 different inputs: each output should be "
                "computed from the input.",
            )
        # A map without hidden activations is affine: the output of a midpoint is the midpoint of the outputs.
        _mid = checks.as_array(_net(tf.constant(0.5 * (_inp[:4] + _inp[4:8]))), f"the {_name}'s output")
        _gap = np.max(np.abs(_mid - 0.5 * (_y[:4] + _y[4:8]))) / (np.std(_y) + 1e-12)
        checks.assert_true(
            _gap > 1e-3,
            f"the {_name} {_what} is an affine map of its input: no activation in the hidden layers? Use ReLU there.",
        )


_check_networks(6, (5,), 2, seed=0)
### BEGIN HIDDEN TESTS
_check_networks(10, (8, 6), 3, seed=1)
_check_networks(784, (64, 16), 4, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the negative ELBO and its two terms (4 points)
#
# For each example, with one sample $z$ already decoded into `logits`,
#
# $$\underbrace{-\log p_\theta(x \mid z)}_{\text{recon}}
# = -\sum_{i=1}^{D} \log \mathrm{Bernoulli}\big(x_i;\ \operatorname{sigmoid}(\ell_i)\big)
# = \sum_{i=1}^{D} \big(\log(1 + e^{\ell_i}) - x_i \ell_i\big),
# \qquad \mathrm{kl} = \tfrac12 \sum_{j=1}^{d} \big(e^{v_j} + \mu_j^2 - 1 - v_j\big),$$
#
# and `neg_elbo = recon + kl`. Return the three as vectors of shape `(B,)`: one number per example, a
# sum over pixels and over latent dimensions, never over the batch. Use `tfd.Bernoulli(logits=...)`
# or `tf.math.softplus` for the reconstruction: $\log \operatorname{sigmoid}$ overflows for large logits.


# %% solution negative_elbo
def negative_elbo(x, logits, mean, log_var):
    """The one-sample negative ELBO per example, with its reconstruction and KL terms.

    x: (B, D) binary float32; logits: (B, D) Bernoulli logits of p(x | z) at a sample z;
    mean, log_var: (B, d), the parameters of q(z | x) = N(mean, diag(exp(log_var))).
    Returns: (neg_elbo, recon, kl), three float32 tensors of shape (B,): recon = -log p(x | z) summed over
    pixels, kl = KL(q(z | x) || N(0, I)) summed over latent dimensions, and neg_elbo = recon + kl.
    """
    ### BEGIN SOLUTION
    recon = -tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)
    kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=-1)
    return recon + kl, recon, kl
    ### END SOLUTION


# %% test negative_elbo points=4
import tensorflow as tf


def _reference(x, logits, mean, log_var):
    recon = np.sum(np.logaddexp(0, logits) - x * logits, axis=-1)
    kl = 0.5 * np.sum(np.exp(log_var) + mean**2 - 1 - log_var, axis=-1)
    return recon + kl, recon, kl


def _check(x, logits, mean, log_var, what):
    x, logits, mean, log_var = (np.asarray(v, dtype="float32") for v in (x, logits, mean, log_var))
    _result = negative_elbo(*(tf.constant(v) for v in (x, logits, mean, log_var)))
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"negative_elbo should return (neg_elbo, recon, kl); got {type(_result).__name__}.",
    )
    _neg, _recon, _kl = _result
    x64, l64, m64, v64 = (v.astype("float64") for v in (x, logits, mean, log_var))
    _ref = _reference(x64, l64, m64, v64)
    _probs = 1 / (1 + np.exp(-l64))
    with np.errstate(divide="ignore"):
        _kl_std = 0.5 * np.sum(v64**2 + m64**2 - 1 - np.log(v64**2), axis=-1)
    checks.assert_close(
        _recon,
        _ref[1],
        f"recon {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (_ref[1] / x.shape[-1], "that is a mean over pixels: sum the log-likelihood over the D pixels."),
            (
                _reference(x64, _probs, m64, v64)[1],
                "sigmoid applied to the logits before tfd.Bernoulli(logits=...): "
                "pass the logits themselves (or use probs=sigmoid(logits), not both).",
            ),
            (-_ref[1], "the reconstruction term is -log p(x | z), a positive number of nats: check its sign."),
        ],
    )
    checks.assert_close(
        _kl,
        _ref[2],
        f"kl {what}",
        rtol=1e-4,
        atol=1e-4,
        hints=[
            (2 * _ref[2], "twice the KL: is the factor 1/2 missing?"),
            (-_ref[2], "the KL is never negative: check its sign."),
            (_kl_std, "log_var read as a standard deviation: the variance is exp(log_var)."),
        ],
    )
    checks.assert_close(
        _neg,
        _ref[0],
        f"neg_elbo {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (_ref[1] - _ref[2], "neg_elbo = recon + kl (the ELBO subtracts the KL, so its negative adds it)."),
            (-_ref[0], "that is the ELBO itself: return its negative."),
        ],
    )


# One example: logits 0 give probability 1/2 for each of 2 pixels (recon = 2 log 2); q = N(0, 1) has KL 0.
_check([[1.0, 0.0]], [[0.0, 0.0]], [[0.0]], [[0.0]], "for x = (1, 0), logits 0, q = N(0, 1)")
# q = N((1, 2), diag(1, 4)): KL = 0.5 (1 + 1 - 1 - 0) + 0.5 (4 + 4 - 1 - log 4).
_check([[1.0, 1.0, 0.0]], [[2.0, -1.0, -3.0]], [[1.0, 2.0]], [[0.0, np.log(4.0)]], "for q = N((1, 2), diag(1, 4))")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(53)
_B, _D, _d = 6, 20, 3  # B != d, so summing over the wrong axis changes the shape
_x = (_rng.random((_B, _D)) < 0.4).astype("float32")
_check(
    _x,
    _rng.normal(0, 3, (_B, _D)),
    _rng.normal(size=(_B, _d)),
    _rng.normal(-0.5, 1, (_B, _d)),
    "for a random batch (B = 6, D = 20, d = 3)",
)
# Extreme logits: log(sigmoid(-200)) is -inf in float32, the softplus form is not.
_check([[1.0, 0.0, 1.0]], [[-200.0, 150.0, 3.0]], [[0.5, -0.5]], [[-3.0, 2.0]], "with extreme logits (-200, 150)")
# d = B: a KL summed over the batch would still have shape (B,) here, so compare values too.
_check(
    _x[:3],
    _rng.normal(0, 3, (3, _D)),
    _rng.normal(size=(3, 3)),
    _rng.normal(-0.5, 1, (3, 3)),
    "for a random batch with B = d = 3",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — the training step (5 points)
#
# Keras calls `train_step(self, data)` once per batch (here `data` is a batch `x` of shape `(B, D)`).
# Complete it so that one call
#
# 1. encodes `x` (`self.encode`), draws `eps = self.sample_noise(tf.shape(mean))`, and forms
#    `z = reparameterize(mean, log_var, eps)`; decodes `z` (`self.decode`);
# 2. computes the per-example `(neg_elbo, recon, kl) = negative_elbo(...)`, and the **loss**: the batch
#    *mean* of `recon + self.beta * kl` (for `beta = 1` this is the negative ELBO);
# 3. inside a `tf.GradientTape`, so that you can take the gradient of the loss with respect to
#    **all** `self.trainable_variables` (encoder and decoder) and apply it with `self.optimizer.apply_gradients`;
# 4. updates the three trackers with the per-example values (`self.neg_elbo_tracker.update_state(neg_elbo)`,
#    and the same for `recon_tracker` and `kl_tracker`) and returns `{m.name: m.result() for m in self.metrics}`
#    (`self.track(recon, kl)` does both).
#
# The tracker `neg_elbo` always records `recon + kl` (the ELBO, whatever `beta` is).


# %% solution VAE
class VAE(VAEBase):
    def train_step(self, data):
        """One gradient step on a batch.

        data: x of shape (B, D), binary float32.
        Effect: one optimizer step on all trainable variables for the loss mean(recon + beta * kl), with a
        reparameterised sample of z; updates the trackers with the per-example neg_elbo, recon, kl.
        Returns: {m.name: m.result() for m in self.metrics}.
        """
        ### BEGIN SOLUTION
        x = data
        with tf.GradientTape() as tape:
            mean, log_var = self.encode(x)
            z = reparameterize(mean, log_var, self.sample_noise(tf.shape(mean)))
            neg_elbo, recon, kl = negative_elbo(x, self.decode(z), mean, log_var)
            loss = tf.reduce_mean(recon + self.beta * kl)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.neg_elbo_tracker.update_state(neg_elbo)
        self.recon_tracker.update_state(recon)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}
        ### END SOLUTION


# %% test VAE points=5
import keras
import tensorflow as tf


# This test grades train_step alone: while it runs, reparameterize and negative_elbo are replaced by
# reference versions (yours are restored afterwards).
def _ref_reparameterize(mean, log_var, eps):
    return mean + tf.exp(0.5 * log_var) * eps


def _ref_negative_elbo(x, logits, mean, log_var):
    recon = tf.reduce_sum(tf.math.softplus(logits) - x * logits, axis=-1)
    kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)
    return recon + kl, recon, kl


class _Recorder(keras.Model):
    """A decoder that records the z it is given (when run eagerly)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.seen = []

    def call(self, z):
        if tf.executing_eagerly():
            self.seen.append(np.array(z))
        return self.inner(z)


def _tiny_networks(seed, log_var_bias, D=6, H=5, d=2):
    """Small tanh networks with fixed random weights; the encoder's log-variance bias is set."""
    _r = np.random.default_rng(seed)
    enc = keras.Sequential([keras.Input((D,)), keras.layers.Dense(H, activation="tanh"), keras.layers.Dense(2 * d)])
    dec = keras.Sequential([keras.Input((d,)), keras.layers.Dense(H, activation="tanh"), keras.layers.Dense(D)])
    for net in (enc, dec):
        net.set_weights([_r.normal(0, 0.7, w.shape).astype("float32") for w in net.get_weights()])
    weights = enc.get_weights()
    weights[-1][d:] = log_var_bias
    weights[-2][:, d:] *= 0.1
    enc.set_weights(weights)
    return enc, dec


def _reference_update(seed, log_var_bias, x, beta, lr, variant):
    """The change of every weight after one SGD step of the reference (z = mean when sigma is tiny)."""
    enc, dec = _tiny_networks(seed, log_var_bias)
    variables = enc.trainable_variables + dec.trainable_variables
    before = [v.numpy().copy() for v in variables]
    with tf.GradientTape() as tape:
        mean, log_var = tf.split(enc(x), 2, axis=-1)
        z = mean + tf.exp(0.5 * log_var) * 0.0
        if variant == "stop":
            z = tf.stop_gradient(z)
        _, recon, kl = _ref_negative_elbo(x, dec(z), mean, log_var)
        per_example = recon + (0.0 if variant == "no_kl" else (1.0 if variant == "no_beta" else beta)) * kl
        loss = tf.reduce_sum(per_example) if variant == "sum" else tf.reduce_mean(per_example)
    grads = tape.gradient(loss, variables)
    if variant == "decoder_only":
        grads = [g * 0 if i < len(enc.trainable_variables) else g for i, g in enumerate(grads)]
    deltas = [-lr * (g.numpy() if g is not None else 0 * b) for g, b in zip(grads, before)]
    return np.concatenate([dl.ravel() for dl in deltas]), _ref_negative_elbo(x, dec(mean), mean, log_var)


def _student_update(seed, log_var_bias, x, beta, lr):
    enc, dec = _tiny_networks(seed, log_var_bias)
    model = VAE(enc, dec, beta=beta, seed=seed)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr))
    model(x)
    variables = enc.trainable_variables + dec.trainable_variables
    before = [v.numpy().copy() for v in variables]
    logs = model.train_step(x)
    checks.assert_true(
        isinstance(logs, dict) and {"neg_elbo", "recon", "kl"} <= set(logs),
        "train_step should return the trackers' results, {'neg_elbo': ..., 'recon': ..., 'kl': ...}; "
        f"got {logs!r:.200}.",
    )
    delta = np.concatenate([(v.numpy() - b).ravel() for v, b in zip(variables, before)])
    return delta, {k: float(checks.as_array(v, f"train_step's {k}")) for k, v in logs.items()}


def _check_step(seed, beta, what):
    """Deterministic case: log-variances near -40 make sigma ~ 1e-9, so z = mean to float32 precision."""
    x = tf.constant((np.random.default_rng(seed + 100).random((8, 6)) < 0.5).astype("float32"))
    delta, logs = _student_update(seed, -40.0, x, beta, 0.05)
    ref, (neg, recon, kl) = _reference_update(seed, -40.0, x, beta, 0.05, "correct")
    hints = [
        (_reference_update(seed, -40.0, x, beta, 0.05, v)[0], message)
        for v, message in [
            (
                "decoder_only",
                "only the decoder moved: take the gradient with respect to all self.trainable_variables (encoder too).",
            ),
            ("sum", "the step is B times too large: the loss is the batch mean, not the sum."),
            ("no_kl", "the KL term is missing from the loss."),
            (
                "stop",
                "the encoder gets no gradient through z: is z computed outside the tape, or with tf.stop_gradient?",
            ),
            ("no_beta", "the KL should be weighted by self.beta in the loss."),
        ]
    ]
    checks.assert_close(
        delta, ref, f"the change of the weights after one SGD step {what}", rtol=1e-3, atol=1e-6, hints=hints
    )
    for key, value in [("neg_elbo", neg), ("recon", recon), ("kl", kl)]:
        checks.assert_close(
            logs[key],
            float(tf.reduce_mean(value)),
            f"the returned {key} {what}",
            rtol=1e-4,
            atol=1e-3,
            hints=[(0.0, "the trackers were not updated: call self.neg_elbo_tracker.update_state(neg_elbo), etc.")],
        )


_saved = {name: globals().get(name) for name in ("reparameterize", "negative_elbo")}
reparameterize, negative_elbo = _ref_reparameterize, _ref_negative_elbo
try:
    _check_step(0, 1.0, "(beta = 1)")
    ### BEGIN HIDDEN TESTS
    _check_step(1, 0.5, "(beta = 0.5)")
    # The spread of the sampled z: with sigma = exp(log_var / 2) near 2, (z - mean) / sigma is standard normal.
    # The decoder records the z it is given (2560 values over 40 calls: the standard deviation is known to 0.02).
    _enc, _dec = _tiny_networks(3, np.log(4.0))
    _recorder = _Recorder(_dec)
    _model = VAE(_enc, _recorder, seed=3)
    _model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0))
    _x = tf.constant((np.random.default_rng(8).random((32, 6)) < 0.5).astype("float32"))
    _model(_x)
    _recorder.seen.clear()
    for _ in range(40):
        _model.train_step(_x)
    _mean, _log_var = (t.numpy() for t in tf.split(_enc(_x), 2, axis=-1))
    _seen = [z for z in _recorder.seen if z.shape == _mean.shape]
    if _seen:  # (nothing is recorded when train_step runs as a tf.function)
        _ratio = np.std((np.stack(_seen) - _mean) / np.exp(0.5 * _log_var))
        _hint = ""
        if _ratio > 1.7:
            _hint = " That is sigma = 2 times too wide: exp(log_var) is the variance; the standard deviation is "
            _hint += "exp(log_var / 2)."
        elif 0.55 < _ratio < 0.8:
            _hint = " That is log(4) / 2: log_var is a log-variance, not a standard deviation."
        elif _ratio < 0.05:
            _hint = " z does not vary at all: is z the posterior mean instead of a sample?"
        checks.assert_true(
            0.85 < _ratio < 1.15,
            f"the z given to the decoder by train_step should be mean + exp(log_var / 2) * eps, so that "
            f"(z - mean) / exp(log_var / 2) has standard deviation 1; it has {_ratio:.3f}.{_hint}",
        )
    # The sample must really be random: with log-variances near log 4 (sigma = 2) and a learning rate of 0,
    # the returned reconstruction term varies from call to call as a one-sample estimate does.
    _enc, _dec = _tiny_networks(2, np.log(4.0))
    _model = VAE(_enc, _dec, seed=2)
    _model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0))
    _x = tf.constant((np.random.default_rng(7).random((32, 6)) < 0.5).astype("float32"))
    _model(_x)
    _values = []
    for _ in range(40):
        for _tracker in _model.metrics:
            _tracker.reset_state()
        _values.append(float(checks.as_array(_model.train_step(_x)["recon"], "train_step's recon")))
    _mean, _log_var = tf.split(_enc(_x), 2, axis=-1)
    _eps = tf.random.stateless_normal((4000, 32, 2), seed=(5, 5))
    _z = _mean + tf.exp(0.5 * _log_var) * _eps
    _recon = tf.reduce_sum(
        tf.math.softplus(_dec(tf.reshape(_z, (-1, 2)))) - tf.tile(_x, (4000, 1)) * _dec(tf.reshape(_z, (-1, 2))), -1
    )
    _batch_means = tf.reduce_mean(tf.reshape(_recon, (4000, 32)), axis=1).numpy()
    _ref_mean, _ref_sd = _batch_means.mean(), _batch_means.std()
    checks.assert_true(
        np.std(_values) > 0.4 * _ref_sd,
        f"the reconstruction term returned by 40 calls of train_step hardly varies (std {np.std(_values):.4f}, "
        f"expected about {_ref_sd:.3f}): is z the posterior mean instead of a sample mean + sigma * eps?",
    )
    checks.assert_true(
        np.std(_values) < 2.5 * _ref_sd,
        f"the reconstruction term varies too much between calls (std {np.std(_values):.4f}, expected about "
        f"{_ref_sd:.3f}): is z = mean + exp(log_var / 2) * eps with standard normal eps?",
    )
    checks.assert_within_se(
        np.mean(_values), _ref_mean, _ref_sd / np.sqrt(40), "the mean reconstruction term over 40 calls (sigma = 2)"
    )
    ### END HIDDEN TESTS
finally:
    reparameterize, negative_elbo = _saved["reparameterize"], _saved["negative_elbo"]

# %% [markdown]
# ## Exercise 5 — the importance-sampled log-likelihood (4 points)
#
# The ELBO is a lower bound on $\log p_\theta(x)$. The importance-weighted bound (Burda et al., 2016) uses
# $k$ samples $z_1, \dots, z_k \sim q_\phi(z \mid x)$ and the log-weights
# $\log w_s = \log p_\theta(x \mid z_s) + \log p(z_s) - \log q_\phi(z_s \mid x)$:
#
# $$\mathcal L_k(x) = \log \frac1k \sum_{s=1}^{k} w_s = \operatorname{logsumexp}_s(\log w_s) - \log k,
# \qquad \mathrm{ELBO} = \mathbb E[\mathcal L_1] \le \mathbb E[\mathcal L_k]
# \xrightarrow{k \to \infty} \log p_\theta(x).$$
#
# Return one estimate per example. Log-weights of real images are hundreds of nats below zero, so
# never exponentiate them: use `tf.reduce_logsumexp`. The model's `decode` accepts rank-2 input only:
# reshape `(k, B, d)` samples to `(k * B, d)` and the logits back to `(k, B, D)`. Draw the noise with
# the given seed, e.g. `tf.random.stateless_normal([k, B, d], seed=[seed, 0])`.


# %% solution importance_sampled_log_likelihood
def importance_sampled_log_likelihood(model, x, k, seed=0):
    """Importance-sampled estimate L_k of log p(x) for each example, with q(z | x) as the proposal.

    model: a VAEBase (use model.encode and model.decode); x: (B, D) binary float32; k: samples per
    example; seed: an int for the noise.
    Returns: a tensor or array of shape (B,): logsumexp over the k log-weights, minus log k.
    """
    ### BEGIN SOLUTION
    x = tf.convert_to_tensor(x, tf.float32)
    mean, log_var = model.encode(x)
    batch, latent_dim = tf.shape(mean)[0], mean.shape[-1]
    eps = tf.random.stateless_normal([k, batch, latent_dim], seed=[seed, 0])
    z = mean + tf.exp(0.5 * log_var) * eps  # (k, B, d)
    logits = tf.reshape(model.decode(tf.reshape(z, [-1, latent_dim])), [k, batch, -1])
    log_px_z = tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)
    log_pz = tf.reduce_sum(tfd.Normal(0.0, 1.0).log_prob(z), axis=-1)
    log_qz = tf.reduce_sum(tfd.Normal(mean, tf.exp(0.5 * log_var)).log_prob(z), axis=-1)
    return tf.reduce_logsumexp(log_px_z + log_pz - log_qz, axis=0) - tf.math.log(float(k))
    ### END SOLUTION


# %% test importance_sampled_log_likelihood points=4
import keras
import tensorflow as tf


def _tiny_model(seed, decoder_bias=0.0, scale=1.0, D=5):
    """A VAE with a 1-D latent: a linear encoder with a broad q, and a small tanh decoder with fixed random weights."""
    _r = np.random.default_rng(seed)
    enc = keras.Sequential([keras.Input((D,)), keras.layers.Dense(2)])
    dec = keras.Sequential([keras.Input((1,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(D)])
    enc.set_weights([_r.normal(0, 0.2, (D, 2)).astype("float32"), np.array([0.3, 0.7], "float32")])
    dec.set_weights(
        [
            _r.normal(0, scale, (1, 8)).astype("float32"),
            _r.normal(0, 0.5, 8).astype("float32"),
            _r.normal(0, scale, (8, D)).astype("float32"),
            (_r.normal(0, 0.5, D) + decoder_bias).astype("float32"),
        ]
    )
    return VAEBase(enc, dec)


def _exact(model, x):
    """log p(x) and the ELBO per example by quadrature over the 1-D latent (float64)."""
    z = np.linspace(-12, 12, 4801)[:, None]
    w1, b1, w2, b2 = (w.astype("float64") for w in model.decoder.get_weights())
    logits = np.tanh(z @ w1 + b1) @ w2 + b2  # (G, D)
    log_lik = x @ logits.T - np.sum(np.logaddexp(0, logits), axis=1)  # (B, G)
    log_prior = -0.5 * z[:, 0] ** 2 - 0.5 * np.log(2 * np.pi)
    dz = z[1, 0] - z[0, 0]
    log_joint = log_lik + log_prior
    top = log_joint.max(axis=1, keepdims=True)
    log_px = top[:, 0] + np.log(np.sum(np.exp(log_joint - top), axis=1) * dz)
    we, be = (w.astype("float64") for w in model.encoder.get_weights())
    m, v = (x @ we + be).T
    log_q = -0.5 * (z[:, 0] - m[:, None]) ** 2 / np.exp(v[:, None]) - 0.5 * v[:, None] - 0.5 * np.log(2 * np.pi)
    q = np.exp(log_q) * dz
    log_w = log_joint - log_q
    elbo = np.sum(q * log_w, axis=1)
    return log_px, elbo, np.sqrt(np.sum(q * (log_w - elbo[:, None]) ** 2, axis=1))


def _sharp_model(seed, D=30, scale=1.5):
    """A 1-D latent model with a narrow posterior for one image x0 drawn from it, and q(z | x) matched to it."""
    _r = np.random.default_rng(seed)
    enc = keras.Sequential([keras.Input((D,)), keras.layers.Dense(2)])
    dec = keras.Sequential([keras.Input((1,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(D)])
    dec.set_weights(
        [
            _r.normal(0, scale, (1, 8)).astype("float32"),
            _r.normal(0, 0.5, 8).astype("float32"),
            _r.normal(0, scale, (8, D)).astype("float32"),
            _r.normal(0, 0.5, D).astype("float32"),
        ]
    )
    w1, b1, w2, b2 = (w.astype("float64") for w in dec.get_weights())
    probs = 1 / (1 + np.exp(-(np.tanh(_r.normal() * w1[0] + b1) @ w2 + b2)))
    x0 = (_r.random(D) < probs).astype("float32")
    z = np.linspace(-12, 12, 4801)
    logits = np.tanh(z[:, None] * w1[0] + b1) @ w2 + b2
    log_post = logits @ x0 - np.sum(np.logaddexp(0, logits), axis=1) - 0.5 * z**2
    post = np.exp(log_post - log_post.max())
    post /= post.sum()
    m = np.sum(post * z)
    enc.set_weights([np.zeros((D, 2), "float32"), np.array([m, np.log(np.sum(post * (z - m) ** 2))], "float32")])
    return VAEBase(enc, dec), x0


def _wrong_limits(model, x):
    """What L_k tends to without the q term: log E_q[p(x, z)], by quadrature."""
    z = np.linspace(-12, 12, 4801)[:, None]
    w1, b1, w2, b2 = (w.astype("float64") for w in model.decoder.get_weights())
    logits = np.tanh(z @ w1 + b1) @ w2 + b2
    log_lik = x @ logits.T - np.sum(np.logaddexp(0, logits), axis=1)
    we, be = (w.astype("float64") for w in model.encoder.get_weights())
    m, v = (x @ we + be).T
    log_q = -0.5 * (z[:, 0] - m[:, None]) ** 2 / np.exp(v[:, None]) - 0.5 * v[:, None] - 0.5 * np.log(2 * np.pi)
    no_q = np.log(
        np.sum(np.exp(log_lik - 0.5 * z[:, 0] ** 2 - 0.5 * np.log(2 * np.pi) + log_q), axis=1) * (z[1, 0] - z[0, 0])
    )
    return [(no_q, "the proposal term -log q(z | x) is missing from the log-weights.")]


_model = _tiny_model(0)
_x = (np.random.default_rng(1).random((6, 5)) < 0.5).astype("float32")
_log_px, _elbo, _sd = _exact(_model, _x.astype("float64"))
_est = checks.as_array(
    importance_sampled_log_likelihood(_model, tf.constant(_x), 2000, seed=0), "importance_sampled_log_likelihood"
)
# Tolerance: 2.5 times the largest error of a correct estimator over 30 seeds (0.10 nats).
checks.assert_close(
    _est,
    _log_px,
    "L_2000 for a 1-D latent model (exact log p(x) by quadrature)",
    rtol=0,
    atol=0.25,
    hints=[
        (_elbo, "that is the ELBO: average the weights inside the log (logsumexp - log k), not the log-weights."),
        (_log_px + np.log(2000), "off by log k = log 2000: subtract log k after the logsumexp."),
        *_wrong_limits(_model, _x.astype("float64")),
    ],
)
# The seed fixes the noise: the same seed gives the same estimates, another seed other ones.
_runs = [
    checks.as_array(
        importance_sampled_log_likelihood(_model, tf.constant(_x), 10, seed=_s), "importance_sampled_log_likelihood"
    )
    for _s in (5, 5, 6)
]
checks.assert_true(
    np.allclose(_runs[0], _runs[1], rtol=0, atol=1e-5),
    f"two calls with seed = 5 gave different estimates ({_runs[0][:3]} and {_runs[1][:3]}): the noise should come "
    "from the seed argument, e.g. tf.random.stateless_normal(..., seed=[seed, 0]), not from the global generator "
    "(tf.random.normal), so that an estimate can be reproduced.",
)
checks.assert_true(
    np.max(np.abs(_runs[2] - _runs[0])) > 1e-4,
    "seeds 5 and 6 gave the same estimates: the seed argument is ignored (a fixed seed?). Draw the noise from it.",
)
### BEGIN HIDDEN TESTS
# q(z | x) is the proposal: with a narrow posterior that q matches, L_5 is already close to log p(x), while the
# prior as proposal (z ~ N(0, 1), log-weights log p(x | z)) is several nats below. Over 10 models like these the
# q-proposal's mean L_5 was within 0.06 nats of log p(x) (standard error at most 0.016); the prior's 0.5 to 6 below.
for _seed in (4, 9):
    _sharp, _x0 = _sharp_model(_seed)
    _px0 = _exact(_sharp, _x0[None].astype("float64"))[0][0]
    _sd0 = np.exp(0.5 * _sharp.encoder.get_weights()[1][1])
    _l5 = checks.as_array(
        importance_sampled_log_likelihood(_sharp, tf.constant(np.repeat(_x0[None], 300, axis=0)), 5, seed=_seed),
        "importance_sampled_log_likelihood with k = 5",
    )
    checks.assert_true(
        abs(np.mean(_l5) - _px0) < 0.25,
        f"the mean of L_5 over 300 copies of one image is {np.mean(_l5):.3f}, but log p(x) = {_px0:.3f}, and an "
        f"encoder whose q(z | x) is close to the posterior (sd {_sd0:.2f}) gives nearly that with 5 samples. Are "
        "the z drawn from the prior N(0, I) instead of q(z | x)? The proposal is q(z | x): z = mean + "
        "exp(log_var / 2) * eps, and -log q(z | x) enters the log-weights.",
    )
# k = 1 is the ELBO: the average over 400 copies of one image matches the quadrature ELBO.
_x1 = np.repeat(_x[:1], 400, axis=0)
_l1 = checks.as_array(
    importance_sampled_log_likelihood(_model, tf.constant(_x1), 1, seed=3),
    "importance_sampled_log_likelihood with k = 1",
)
checks.assert_within_se(
    _l1.mean(), _elbo[0], _sd[0] / np.sqrt(400), "the mean of L_1 over 400 copies of one image (the ELBO)"
)
# Another model and more images; the bound tightens with k.
_model = _tiny_model(6)
_x = (np.random.default_rng(7).random((10, 5)) < 0.5).astype("float32")
_log_px, _elbo, _sd = _exact(_model, _x.astype("float64"))
_l10 = checks.as_array(
    importance_sampled_log_likelihood(_model, tf.constant(_x), 10, seed=1),
    "importance_sampled_log_likelihood with k = 10",
)
_l3000 = checks.as_array(
    importance_sampled_log_likelihood(_model, tf.constant(_x), 3000, seed=2),
    "importance_sampled_log_likelihood with k = 3000",
)
checks.assert_true(
    _l10.shape == (10,),
    f"importance_sampled_log_likelihood should return one value per example, shape (10,); got {_l10.shape}.",
)
checks.assert_close(
    _l3000,
    _log_px,
    "L_3000 for a second 1-D latent model",
    rtol=0,
    atol=0.25,
    hints=[
        (_elbo, "that is the ELBO: average the weights inside the log (logsumexp - log k), not the log-weights."),
        (_log_px + np.log(3000), "off by log k: subtract log k after the logsumexp."),
        *_wrong_limits(_model, _x.astype("float64")),
    ],
)
checks.assert_true(
    np.mean(_l10) > np.mean(_elbo) + 0.1 * (np.mean(_log_px) - np.mean(_elbo)),
    f"L_10 (mean {np.mean(_l10):.3f}) should be above the ELBO (mean {np.mean(_elbo):.3f}), towards log p(x) "
    f"(mean {np.mean(_log_px):.3f}).",
)
# Log-weights near -1000: exp() underflows to 0 even in float64, logsumexp does not.
_model = _tiny_model(4, decoder_bias=-200.0, scale=1.5)
_x = np.ones((3, 5), "float32")
_log_px, _elbo, _sd = _exact(_model, _x.astype("float64"))
_est = checks.as_array(
    importance_sampled_log_likelihood(_model, tf.constant(_x), 2000, seed=3), "importance_sampled_log_likelihood"
)
checks.assert_true(
    np.all(np.isfinite(_est)),
    f"importance_sampled_log_likelihood returned {_est} for log-weights near {_log_px.mean():.0f}: "
    "the weights underflow to 0 when exponentiated. Use tf.reduce_logsumexp on the log-weights.",
)
checks.assert_close(
    _est,
    _log_px,
    "L_2000 when the log-weights are near -1000",
    rtol=0,
    atol=0.3,
    hints=[(_elbo, "that is the ELBO: average the weights inside the log (logsumexp - log k), not the log-weights.")],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 6 — active units (3 points)
#
# A latent unit $j$ is **active** (Burda et al., 2016) if its posterior mean varies across the data:
#
# $$A_j = \operatorname{Cov}_x\big(\mathbb E_{q(z \mid x)}[z_j]\big) > \text{threshold}
# \quad (\text{usually } 10^{-2}).$$
#
# Compute the posterior means of all the examples in `x` with `model.encode`, their variance across
# the examples for each unit, and return how many units exceed the threshold. An inactive unit has the
# same posterior for every image: it carries no information about $x$.


# %% solution active_units
def active_units(model, x, threshold=1e-2):
    """The number of active latent units.

    model: a VAEBase (use model.encode); x: (N, D) float32 data; threshold: a positive float.
    Returns: an int, the number of units j whose posterior mean E_q[z_j | x] has a variance across the
    N examples above threshold.
    """
    ### BEGIN SOLUTION
    mean, _ = model.encode(tf.convert_to_tensor(x, tf.float32))
    return int(np.sum(np.var(mean.numpy(), axis=0) > threshold))
    ### END SOLUTION


# %% test active_units points=3
import keras
import tensorflow as tf


def _linear_model(scales, log_vars, D):
    """Encoder: mean_j = scales_j * x_j, log_var_j = log_vars_j (constant); decoder: any."""
    d = len(scales)
    enc = keras.Sequential([keras.Input((D,)), keras.layers.Dense(2 * d)])
    dec = keras.Sequential([keras.Input((d,)), keras.layers.Dense(D)])
    kernel = np.zeros((D, 2 * d), "float32")
    kernel[np.arange(d), np.arange(d)] = scales
    enc.set_weights([kernel, np.concatenate([np.zeros(d), log_vars]).astype("float32")])
    return VAEBase(enc, dec)


def _count(result, what):
    got = checks.as_array(result, what)
    checks.assert_true(got.ndim == 0, f"{what} should return one number (an int), got an array of shape {got.shape}.")
    return int(round(float(got)))


# Means with standard deviations (0, 0.05, 0.2, 1, 3) across the data, i.e. variances (0, 0.0025, 0.04, 1, 9):
# 3 units above 0.01. The posterior variances exp(log_var) are (1, 1, 1, 1, 0.0025).
_x = np.random.default_rng(0).normal(size=(4000, 6)).astype("float32")
_x = (_x - _x.mean(0)) / _x.std(0)
_model = _linear_model([0.0, 0.05, 0.2, 1.0, 3.0], [0.0, 0.0, 0.0, 0.0, np.log(0.0025)], 6)
_got = _count(active_units(_model, tf.constant(_x)), "active_units")
_hints = {
    4: "4 would be right if you compared standard deviations with the threshold, or counted units with large "
    "posterior variance exp(log_var): use the variance of the posterior means across the examples.",
    2: "2 is the number of inactive units: count those above the threshold.",
    5: "5 counts every unit: did you use sampled z instead of the posterior means (their variance includes "
    "the posterior variance)?",
    1: "1 counts units with small posterior variance exp(log_var): use the variance of the means across the data.",
}
checks.assert_true(
    _got == 3,
    f"active_units for a model whose unit means have variances (0, 0.0025, 0.04, 1, 9): expected 3, "
    f"got {_got}. " + _hints.get(_got, "Is the variance taken across the examples (axis 0), one value per unit?"),
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    _count(active_units(_model, tf.constant(_x), threshold=0.5), "active_units") == 2,
    "active_units with threshold = 0.5 should count 2 units (variances 1 and 9): is the threshold argument used?",
)
# A random encoder, against an inline reference (N = 600 examples, 7 units: the variance is over axis 0).
_r = np.random.default_rng(56)
_enc = keras.Sequential([keras.Input((8,)), keras.layers.Dense(12, activation="tanh"), keras.layers.Dense(2 * 7)])
_enc.set_weights(
    [
        _r.normal(0, 1, (8, 12)).astype("float32"),
        _r.normal(0, 1, 12).astype("float32"),
        _r.normal(0, 0.1, (12, 14)).astype("float32"),
        _r.normal(0, 1, 14).astype("float32"),
    ]
)
_model = VAEBase(_enc, keras.Sequential([keras.Input((7,)), keras.layers.Dense(8)]))
_xr = (_r.random((600, 8)) < 0.5).astype("float32")
_variances = np.var(np.split(_enc(_xr).numpy().astype("float64"), 2, axis=1)[0], axis=0)
_sorted = np.sort(_variances)
_threshold = float(np.sqrt(_sorted[2] * _sorted[3]))  # between two units, far from both
_expected = int(np.sum(_variances > _threshold))
_got = _count(active_units(_model, tf.constant(_xr), threshold=_threshold), "active_units")
checks.assert_true(
    _got == _expected,
    f"active_units for a random encoder (variances of the means {np.round(_sorted, 5)}, "
    f"threshold {_threshold:.5f}): expected {_expected}, got {_got}.",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Train it
#
# Your pieces make a complete VAE. Train a small one for a few epochs on dynamically binarised MNIST
# (FAST mode: five epochs on 5000 images, a few seconds; FULL mode: 30 epochs on 60 000) and look at
# its reconstructions, its importance-sampled log-likelihood and its active units. Only the two
# predictions below are graded; if a cell fails, the error points at the exercise to revisit.

# %%
keras.utils.set_random_seed(config.seed())
mnist = data.load("mnist")
train_images = data.to_float(mnist["train_images"])
test_binary = data.binarize(data.to_float(mnist["test_images"]), np.random.default_rng(config.seed() + 1))
test_batches = tf.data.Dataset.from_tensor_slices(test_binary).batch(500)
vae = VAE(*make_networks(784, (256, 128), 16))
vae.compile(optimizer=keras.optimizers.Adam(2e-3))
vae(test_binary[:8])  # run once, so that the model is built
history = training.fit(
    vae,
    data.binarized_batches(train_images, 128, seed=config.seed()),
    config.pick(fast=5, full=30),
    validation_data=test_batches,
)

# %%
reconstructions = tf.sigmoid(vae(test_binary[:10])).numpy()
plotting.image_grid(np.concatenate([test_binary[:10], reconstructions]), 2, 10, "test images and reconstructions")
plt.show()
log_likelihood = float(np.mean(importance_sampled_log_likelihood(vae, test_binary[:100], 100)))
print(
    f"test ELBO {-history.history['val_neg_elbo'][-1]:.2f} nats; "
    f"L_100 on 100 test images {log_likelihood:.2f} nats; "
    f"active units {active_units(vae, test_binary)} of 16"
)

# %% [markdown]
# ## Predict, then run: more samples in the bound (1 point)
#
# The cell after the next one computes your $\mathcal L_k$ on the same 100 test images for $k = 1$, 10 and 100.
# **Before you run it**, predict how the average over the images changes as $k$ grows:
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
bounds = {k: float(np.mean(importance_sampled_log_likelihood(vae, test_binary[:100], k, seed=k))) for k in (1, 10, 100)}
for k, value in bounds.items():
    print(f"L_{k:<3d} = {value:8.2f} nats (mean over 100 test images)")

# %% [markdown]
# ## Predict, then run: a large $\beta$ (1 point)
#
# The cell after the next one trains the same VAE again, but with $\beta = 50$: each nat of KL costs 50 nats in the
# loss. **Before you run it**, predict its test KL at the end of training, compared with the $\beta = 1$ model above:
#
# - (a) larger: the encoder has to work harder, so it puts more information into $z$;
# - (b) close to 0 nats, with (almost) no active unit: $q(z \mid x)$ becomes the prior for every image;
# - (c) about the same: $\beta$ only rescales one term of the loss, and Adam adapts its step sizes to the scale.
#
# Put the letter of your prediction in `predicted_large_beta`.

# %% solution predicted_large_beta
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_large_beta = "b"
### END SOLUTION

# %% test predicted_large_beta points=1
checks.assert_true(
    isinstance(predicted_large_beta, str) and predicted_large_beta.strip().lower() in ("a", "b", "c"),
    f'predicted_large_beta should be one of the letters "a", "b" or "c"; got {predicted_large_beta!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_large_beta.strip().lower() == "b",
    "The right answer is (b). With beta = 50, every nat of information that z carries about x costs 50 nats, more than "
    "it saves in reconstruction, and q(z | x) = p(z) with a decoder that ignores z costs no KL at all: the posterior "
    "collapses, the KL falls to about 0 and no unit stays active. Rescaling a term is not neutral: it changes where "
    "the minimum of the loss is, whatever the optimizer.",
)
### END HIDDEN TESTS

# %%
keras.utils.set_random_seed(config.seed())
vae_beta50 = VAE(*make_networks(784, (256, 128), 16), beta=50.0)
vae_beta50.compile(optimizer=keras.optimizers.Adam(2e-3))
vae_beta50(test_binary[:8])
training.fit(vae_beta50, data.binarized_batches(train_images, 128, seed=config.seed()), config.pick(fast=3, full=10))
for name, model in [("beta = 1", vae), ("beta = 50", vae_beta50)]:
    kl = model.evaluate(test_batches, verbose=0, return_dict=True)["kl"]
    print(f"{name:9s}: test KL {kl:6.2f} nats, active units {active_units(model, test_binary)} of 16")

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
# - $z = \mu + e^{v/2} \odot \varepsilon$ makes the sample differentiable; $v$ is a log-variance.
# - The encoder outputs means and log-variances, the decoder logits: no output activations.
# - The negative ELBO per example is
#   $\sum_i [\operatorname{softplus}(\ell_i) - x_i\ell_i] + \frac12\sum_j (e^{v_j} + \mu_j^2 - 1 - v_j)$;
#   sum over pixels and latent dimensions, average only over the batch, in the loss.
# - A Keras 3 `train_step`: tape, gradient of the batch-mean loss for all trainable variables, apply, update trackers.
# - $\mathcal L_k = \operatorname{logsumexp}(\log w) - \log k$ rises from the ELBO ($k = 1$) towards $\log p(x)$.
# - Active units are those whose posterior mean varies across the data; collapse leaves none.
