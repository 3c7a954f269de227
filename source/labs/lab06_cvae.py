# %% [markdown]
# # Lab 06 — The conditional VAE
#
# Build the pieces of a conditional VAE: the KL between two diagonal Gaussians, the label-conditioned
# input, a learned conditional prior $p(z \mid y)$, the CVAE loss, the forward pass, and a generator of
# images of a chosen digit. Then train it briefly on binarised MNIST and ask it for each digit.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - compute $\mathrm{KL}(q\,\|\,p)$ between two diagonal Gaussians given by means and log-variances;
# - condition a network on a label by concatenating a one-hot vector to its input;
# - write a learned conditional prior $p(z \mid y)$ as a Keras model;
# - compute the CVAE's negative ELBO per example, with the KL to the conditional prior;
# - run a CVAE forward with the reparameterisation trick, and generate images of a requested class.

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
# A CVAE models images $x$ given their label $y \in \{0, \dots, C-1\}$:
#
# $$p(z \mid y) = \mathcal N\big(\mu_p(y), \operatorname{diag} e^{v_p(y)}\big), \qquad
# p(x \mid z, y) = \prod_{i=1}^{D} \mathrm{Bernoulli}\big(x_i;\ \operatorname{sigmoid}(\ell_i)\big),
# \ \ \ell = \mathrm{decoder}([z, \mathrm{onehot}(y)]),$$
#
# $$q(z \mid x, y) = \mathcal N\big(\mu_q, \operatorname{diag} e^{v_q}\big),
# \ \ (\mu_q, v_q) = \mathrm{encoder}([x, \mathrm{onehot}(y)]),$$
#
# trained on the per-example negative ELBO
# $-\mathrm{ELBO}(x, y) = -\mathbb E_q[\log p(x \mid z, y)] + \mathrm{KL}\big(q(z \mid x, y)\,\|\,p(z \mid y)\big)$.
#
# Everything is batched and float32: `x` has shape `(B, D)` (entries 0 or 1), labels `y` are integers of
# shape `(B,)`, means and `log_var`s (log-*variances* $v = \log\sigma^2$) have shape `(B, d)`, and `logits`
# (any real numbers, *not* probabilities) have shape `(B, D)`. Return TensorFlow tensors or NumPy arrays.

# %% [markdown]
# ## Exercise 1 — the KL between two diagonal Gaussians (4 points)
#
# For $q = \mathcal N(\mu_q, \operatorname{diag}\sigma_q^2)$ and
# $p = \mathcal N(\mu_p, \operatorname{diag}\sigma_p^2)$ in $d$ dimensions,
#
# $$\mathrm{KL}(q\,\|\,p)
# = \frac12 \sum_{j=1}^{d}\Big[\frac{\sigma_{q,j}^2 + (\mu_{q,j} - \mu_{p,j})^2}{\sigma_{p,j}^2} - 1
# + \log\sigma_{p,j}^2 - \log\sigma_{q,j}^2\Big].$$
#
# You get log-variances $v = \log\sigma^2$, not standard deviations. Return one KL per example (sum over the
# latent dimensions, not over the batch). With $p = \mathcal N(0, I)$ this is the VAE's KL.


# %% solution kl_diag_gaussians
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    """KL(q || p) between diagonal Gaussians, one value per example.

    mean_q, log_var_q, mean_p, log_var_p: arrays of shape (B, d); the log_vars are log-variances.
    Returns: shape (B,): sum over j of KL(N(mean_q_j, exp(log_var_q_j)) || N(mean_p_j, exp(log_var_p_j))).
    """
    ### BEGIN SOLUTION
    mean_q, log_var_q, mean_p, log_var_p = (
        tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p)
    )
    ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) / tf.exp(log_var_p)
    return 0.5 * tf.reduce_sum(ratio - 1.0 + log_var_p - log_var_q, axis=-1)
    ### END SOLUTION


# %% test kl_diag_gaussians points=4
# Equal distributions: KL = 0. One coordinate: q = N(1, 1), p = N(0, 1): KL = 1/2.
_z = np.zeros((2, 3), np.float32)
checks.assert_close(
    kl_diag_gaussians(_z, _z, _z, _z), [0.0, 0.0], "kl_diag_gaussians of two identical N(0, I) (a batch of 2)"
)
checks.assert_close(
    kl_diag_gaussians([[1.0]], [[0.0]], [[0.0]], [[0.0]]),
    [0.5],
    "KL(N(1, 1) || N(0, 1))",
    hints=[([1.0], "that is twice the KL: is the factor 1/2 missing?")],
)
# q = N(0, 1), p = N(0, e^2) (log-variance 2): KL = (e^-2 - 1 + 2) / 2; KL(p || q) is (e^2 - 1 - 2) / 2.
_kl = 0.5 * (np.exp(-2.0) - 1.0 + 2.0)
checks.assert_close(
    kl_diag_gaussians([[0.0]], [[0.0]], [[0.0]], [[2.0]]),
    [_kl],
    "KL(N(0, 1) || N(0, e^2)), log_var_p = 2",
    hints=[
        ([0.5 * (np.exp(2.0) - 1.0 - 2.0)], "that is KL(p || q): the arguments are swapped."),
        (
            [0.5 * (np.exp(-4.0) - 1.0 + 4.0)],
            "the log-variance was read as a log standard deviation: sigma^2 = exp(log_var).",
        ),
        ([0.5 * (np.exp(2.0) - 1.0 + 2.0)], "the variance ratio is inverted: it is sigma_q^2 / sigma_p^2."),
        ([0.0], "that is the KL to N(0, I): use mean_p and log_var_p."),
    ],
)
### BEGIN HIDDEN TESTS
import tensorflow_probability as tfp


def _tfp_kl(mq, vq, mp, vp):
    _d = tfp.distributions
    return _d.kl_divergence(
        _d.MultivariateNormalDiag(mq, np.exp(0.5 * vq)), _d.MultivariateNormalDiag(mp, np.exp(0.5 * vp))
    ).numpy()


_rng = np.random.default_rng(61)
for _B, _d in [(5, 4), (3, 16), (1, 1)]:
    _mq, _mp = _rng.normal(size=(_B, _d)), _rng.normal(size=(_B, _d)) * 2
    _vq, _vp = _rng.normal(size=(_B, _d)), _rng.normal(size=(_B, _d))
    _expected = _tfp_kl(_mq, _vq, _mp, _vp)
    _f = [v.astype(np.float32) for v in (_mq, _vq, _mp, _vp)]
    _what = f"kl_diag_gaussians for a random batch (B = {_B}, d = {_d}) against tfd.kl_divergence"
    checks.assert_close(
        kl_diag_gaussians(*_f),
        _expected,
        _what,
        rtol=1e-4,
        atol=1e-4,
        hints=[
            (_tfp_kl(_mp, _vp, _mq, _vq), "that is KL(p || q): the arguments are swapped."),
            (
                _tfp_kl(_mq, 2 * _vq, _mp, 2 * _vp),
                "the log-variance was read as a log standard deviation: sigma^2 = exp(log_var).",
            ),
            (2 * _expected, "that is twice the KL: is the factor 1/2 missing?"),
            (
                0.5 * np.sum((np.exp(_vp) + (_mq - _mp) ** 2) / np.exp(_vp) - 1 + _vp - _vq, -1),
                "the variance ratio is wrong: the first term is (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2.",
            ),
            (
                0.5 * np.sum(np.exp(_vp) / np.exp(_vq) + (_mq - _mp) ** 2 / np.exp(_vp) - 1 + _vp - _vq, -1),
                "the variance ratio is inverted: it is sigma_q^2 / sigma_p^2.",
            ),
            (0.5 * np.sum(np.exp(_vq) + _mq**2 - 1 - _vq, -1), "that is the KL to N(0, I): use mean_p and log_var_p."),
        ],
    )
# A KL is never negative, and zero only for equal distributions.
_m, _v = _rng.normal(size=(4, 3)).astype(np.float32), _rng.normal(size=(4, 3)).astype(np.float32)
checks.assert_close(
    kl_diag_gaussians(_m, _v, _m, _v),
    np.zeros(4),
    "kl_diag_gaussians(q, q) for a random batch of q (must be 0)",
    atol=1e-5,
)
_values = checks.as_array(kl_diag_gaussians(_m, _v, _m[::-1], _v[::-1]), "kl_diag_gaussians")
checks.assert_true(np.all(_values > 0), f"a KL between different Gaussians must be positive; got {_values}.")
# Summed over the latent dimensions, one value per example: not one number for the whole batch.
_one = checks.as_array(kl_diag_gaussians(_m, _v, np.zeros_like(_m), np.zeros_like(_v)), "kl_diag_gaussians")
checks.assert_true(
    _one.shape == (4,),
    f"kl_diag_gaussians for a batch of 4 should have shape (4,), got {_one.shape}: "
    "sum over the latent dimension (axis -1) only, not over the batch.",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — conditioning on the label (2 points)
#
# The encoder reads $[x, \mathrm{onehot}(y)]$ and the decoder $[z, \mathrm{onehot}(y)]$: the label enters as a
# one-hot vector of length $C$ (the number of classes) appended after the features. A label passed as a
# single number would be read as a *quantity* ("9 is three times 3"); a one-hot vector gives each class its
# own input weights. Return the concatenation as float32.


# %% solution condition
def condition(x, y, num_classes):
    """The features with the one-hot label appended.

    x: float array of shape (B, n) (images or latent codes); y: integer labels of shape (B,) in [0, num_classes).
    Returns: float32, shape (B, n + num_classes): [x, one_hot(y, num_classes)] along the last axis.
    """
    ### BEGIN SOLUTION
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    return tf.concat([x, tf.one_hot(tf.cast(y, tf.int32), num_classes, dtype=tf.float32)], axis=-1)
    ### END SOLUTION


# %% test condition points=2
_got = condition(np.array([[0.5, 0.25]], np.float32), np.array([2]), 3)
_shape = checks.as_array(_got, "condition").shape
checks.assert_true(
    _shape == (1, 5),
    f"condition([[0.5, 0.25]], y = [2], num_classes = 3) should have shape (1, 5), got {_shape}"
    + (
        ": append a one-hot vector of length num_classes, not the label itself."
        if _shape == (1, 3)
        else ": use num_classes for the depth of the one-hot vector, not a fixed 10."
        if _shape == (1, 12)
        else "."
    ),
)
checks.assert_close(
    _got,
    [[0.5, 0.25, 0.0, 0.0, 1.0]],
    "condition([[0.5, 0.25]], y = [2], num_classes = 3)",
    hints=[
        ([[0.5, 0.25, 2.0]], "the label was appended as a number: append one_hot(y) instead."),
        ([[0.0, 0.0, 1.0, 0.5, 0.25]], "the one-hot vector comes after the features, not before."),
    ],
)
checks.assert_close(
    condition(np.zeros((2, 1), np.float32), np.array([0, 1]), 2),
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    "condition(zeros (2, 1), y = [0, 1], num_classes = 2)",
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(62)
for _C, _n, _B in [(10, 784, 6), (4, 3, 9), (7, 1, 1)]:
    _x = _rng.random((_B, _n)).astype(np.float32)
    _y = _rng.integers(0, _C, _B)
    _expected = np.concatenate([_x, np.eye(_C)[_y]], axis=1)
    _got = checks.as_array(condition(_x, _y, _C), "condition")
    checks.assert_true(
        _got.shape == _expected.shape,
        f"condition for B = {_B}, n = {_n}, num_classes = {_C} should have shape {_expected.shape}, got {_got.shape}"
        + (
            ": use num_classes for the depth of the one-hot vector, not a fixed 10."
            if _got.shape[-1] == _n + 10
            else ": append a one-hot vector of length num_classes, not the label itself."
            if _got.shape[-1] == _n + 1
            else "."
        ),
    )
    checks.assert_close(
        _got,
        _expected,
        f"condition for random x (B = {_B}, n = {_n}) and labels with num_classes = {_C}",
        hints=[
            (np.concatenate([_x, np.zeros((_B, _C))], axis=1), "the label part is all zeros: the label is ignored.")
        ],
    )
# Labels as a TensorFlow int32 tensor work as well as NumPy int64 ones, and the output is float32.
_got = condition(tf.constant(_rng.random((3, 2)), tf.float32), tf.constant([3, 0, 1], tf.int32), 4)
checks.assert_true(
    tf.convert_to_tensor(_got).dtype == tf.float32,
    f"condition should return float32, got {tf.convert_to_tensor(_got).dtype}.",
)
checks.assert_close(
    np.asarray(_got)[:, 2:],
    np.eye(4)[[3, 0, 1]],
    "the one-hot part of condition for int32 labels [3, 0, 1], num_classes = 4",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — a learned conditional prior (3 points)
#
# Instead of the same $\mathcal N(0, I)$ for every class, let each class have its own Gaussian prior
# $p(z \mid y) = \mathcal N(\mu_p(y), \operatorname{diag} e^{v_p(y)})$, computed by a small network from the one-hot
# label: one hidden `Dense` layer with a ReLU, then a linear output of size $2d$ split into the mean and the
# log-variance (a log-variance can be any real number, so no activation on the output). Write it as a Keras
# model: create the layers in `__init__` (after `super().__init__(**kwargs)`), use them in `call`.
#
# Why the ReLU? On one-hot labels it adds nothing: a linear map already gives each class its own row of
# weights, so it can represent any per-class Gaussian, and no test on one-hot labels alone can tell the two apart.
# It matters for inputs that are not one-hot, such as a *soft label* that puts weight $\frac12$ on each of two
# classes (an ambiguous image): a linear map must give it exactly the average of the two classes' parameters,
# while a network with a hidden ReLU need not. The tests feed soft labels too.


# %% solution ConditionalPrior
class ConditionalPrior(keras.Model):
    """p(z | y) as a network: one-hot labels (B, num_classes) -> (mean, log_var), each of shape (B, latent_dim).

    __init__(num_classes, latent_dim, hidden=64): a hidden Dense layer of `hidden` ReLU units, then a linear
    Dense layer with 2 * latent_dim outputs (the means, then the log-variances).
    call(y_onehot): y_onehot float32 (B, num_classes), one-hot or soft labels (rows of class weights summing to 1);
    returns the tuple (mean, log_var). On one-hot labels a linear map (no ReLU) behaves the same; on soft labels
    it does not, and the tests check that the network is not linear in its input.
    """

    ### BEGIN SOLUTION
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.latent_dim = num_classes, latent_dim
        self.hidden_layer = keras.layers.Dense(hidden, activation="relu")
        self.out = keras.layers.Dense(2 * latent_dim)

    def call(self, y_onehot):
        mean, log_var = tf.split(self.out(self.hidden_layer(y_onehot)), 2, axis=-1)
        return mean, log_var

    ### END SOLUTION


# %% test ConditionalPrior points=3
import keras
import tensorflow as tf

keras.utils.set_random_seed(0)
_prior = ConditionalPrior(4, 3, hidden=16)
_out = _prior(tf.eye(4))
checks.assert_true(
    isinstance(_out, (tuple, list)) and len(_out) == 2,
    f"ConditionalPrior(...)(y_onehot) should return (mean, log_var); got {type(_out).__name__}.",
)
_mean, _log_var = (checks.as_array(v, "ConditionalPrior") for v in _out)
checks.assert_true(
    _mean.shape == (4, 3) and _log_var.shape == (4, 3),
    "for 4 one-hot labels and latent_dim = 3, mean and log_var should have shape (4, 3); "
    f"got {_mean.shape} and {_log_var.shape}.",
)
checks.assert_true(
    len(_prior.trainable_variables) > 0, "ConditionalPrior has no trainable variables: create Dense layers in __init__."
)
checks.assert_true(
    np.ptp(_mean, axis=0).max() > 1e-4,
    "ConditionalPrior gives the same mean for every class: the output must depend on y_onehot.",
)


# It must be able to learn any per-class Gaussian: fit the means and log-variances of 4 classes.
def _fit(prior, target_mean, target_log_var, steps=300):
    opt = keras.optimizers.Adam(0.03)
    y = tf.eye(len(target_mean))
    prior(y)
    opt.build(prior.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            m, v = prior(y)
            loss = tf.reduce_mean((m - target_mean) ** 2 + (v - target_log_var) ** 2)
        opt.apply_gradients(zip(tape.gradient(loss, prior.trainable_variables), prior.trainable_variables))

    for _ in range(steps):
        step()
    m, v = prior(y)
    return checks.as_array(m, "mean"), checks.as_array(v, "log_var")


_tm = np.array([[2.0, -1.0, 0.5], [-2.0, 1.0, 0.0], [0.0, 3.0, -1.5], [1.0, 1.0, 1.0]], np.float32)
_tv = np.array([[-2.0, 0.0, 1.0], [0.5, -1.0, -0.5], [0.0, 0.0, 0.0], [-1.5, 1.5, -0.5]], np.float32)
_m, _v = _fit(_prior, _tm, _tv)
checks.assert_true(
    np.abs(_m - _tm).max() < 0.1,
    f"after fitting 4 class-specific means, ConditionalPrior's means are off by up to {np.abs(_m - _tm).max():.3f}. "
    + (
        "They are never negative: no activation on the output layer."
        if _m.min() >= 0
        else "Do the means depend on the label, through trainable layers?"
    ),
)
checks.assert_true(
    np.abs(_v - _tv).max() < 0.1,
    "after fitting 4 class-specific log-variances (some negative), the log_vars are off by up to "
    f"{np.abs(_v - _tv).max():.3f}. "
    + (
        "They are never negative: a log-variance needs no positive activation (no exp, softplus or relu)."
        if _v.min() >= 0
        else "Is log_var the second half of a linear output of size 2 * latent_dim?"
    ),
)
### BEGIN HIDDEN TESTS
# Another size, and each row of the output depends only on its own label.
keras.utils.set_random_seed(1)
_prior = ConditionalPrior(10, 5, hidden=32)
_labels = np.array([3, 3, 7, 0, 7])
_m1, _v1 = (checks.as_array(v, "ConditionalPrior") for v in _prior(tf.one_hot(_labels, 10)))
_m2, _v2 = (checks.as_array(v, "ConditionalPrior") for v in _prior(tf.eye(10)))
checks.assert_true(
    _m1.shape == (5, 5) and _v1.shape == (5, 5),
    f"ConditionalPrior(10, 5) on 5 labels should give (5, 5) outputs; got {_m1.shape} and {_v1.shape}.",
)
checks.assert_close(
    _m1, _m2[_labels], "the means for labels [3, 3, 7, 0, 7] against the means of the 10 classes", rtol=1e-4, atol=1e-5
)
checks.assert_close(
    _v1, _v2[_labels], "the log_vars for labels [3, 3, 7, 0, 7] against those of the 10 classes", rtol=1e-4, atol=1e-5
)
checks.assert_true(
    np.ptp(_m2, axis=0).max() > 1e-4, "ConditionalPrior gives the same mean for every class: it ignores y_onehot."
)
# The hidden layer has the requested width: 10 -> 32 -> 10 parameters.
_count = sum(int(np.prod(w.shape)) for w in _prior.trainable_variables)
checks.assert_true(
    _count == 10 * 32 + 32 + 32 * 10 + 10,
    f"ConditionalPrior(10, 5, hidden=32) should have {10 * 32 + 32 + 32 * 10 + 10} parameters "
    f"(10 -> 32 ReLU -> 2 * 5); got {_count}.",
)
# Soft labels: halfway between two classes, a linear map gives exactly the average of their outputs; a hidden
# ReLU does not (with random initial weights, some hidden unit changes sign between the two classes).
_a, _b = tf.one_hot([2, 5, 0, 8], 10), tf.one_hot([7, 1, 9, 3], 10)
_mixed = [checks.as_array(v, "ConditionalPrior") for v in _prior(0.5 * (_a + _b))]
_ends = [[checks.as_array(v, "ConditionalPrior") for v in _prior(_t)] for _t in (_a, _b)]
_gap = max(np.abs(_mixed[_k] - 0.5 * (_ends[0][_k] + _ends[1][_k])).max() for _k in range(2))
checks.assert_true(
    _gap > 1e-3,
    "ConditionalPrior of a soft label (1/2 on each of two classes) is exactly the average of the two classes' "
    f"outputs (largest difference {_gap:.2g}): the network is linear in its input. A Dense layer without an "
    "activation is linear, and so is a stack of them: give the hidden layer a ReLU.",
)
_tm = np.random.default_rng(63).normal(size=(10, 5)).astype(np.float32) * 2
_tv = np.random.default_rng(64).normal(size=(10, 5)).astype(np.float32)
_m, _v = _fit(_prior, _tm, _tv, steps=500)
checks.assert_true(
    np.abs(_m - _tm).max() < 0.15 and np.abs(_v - _tv).max() < 0.15,
    f"ConditionalPrior(10, 5, hidden=32) could not learn 10 random class Gaussians: errors up to "
    f"{np.abs(_m - _tm).max():.3f} (means) and {np.abs(_v - _tv).max():.3f} (log-variances). "
    "Two separate outputs, mean and log_var, both linear and both depending on the label?",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — the CVAE loss (3 points)
#
# Per example, the negative ELBO is a reconstruction term plus the KL to the **conditional** prior:
#
# $$\text{recon} = -\sum_{i=1}^{D} \log \mathrm{Bernoulli}\big(x_i;\ \operatorname{sigmoid}(\ell_i)\big), \qquad
# \text{kl} = \mathrm{KL}\big(\mathcal N(\mu_q, e^{v_q})\,\|\,\mathcal N(\mu_p, e^{v_p})\big), \qquad
# \text{neg\_elbo} = \text{recon} + \text{kl}.$$
#
# `tfd.Bernoulli(logits=...)` gives the log-probabilities stably (or
# `tf.nn.sigmoid_cross_entropy_with_logits`). Sum over pixels: the likelihood of an image is a product over
# its pixels. You may use your `kl_diag_gaussians` (this test uses a reference version of it).


# %% solution cvae_negative_elbo
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    """The CVAE's negative ELBO and its two terms, one value per example.

    x: binary float32 (B, D); logits: decoder logits (B, D); q_mean, q_log_var: q(z | x, y), shape (B, d);
    p_mean, p_log_var: the prior p(z | y), shape (B, d).
    Returns: (neg_elbo, recon, kl), each of shape (B,), with neg_elbo = recon + kl.
    """
    ### BEGIN SOLUTION
    x = tf.convert_to_tensor(x, tf.float32)
    recon = -tf.reduce_sum(tfd.Bernoulli(logits=tf.convert_to_tensor(logits, tf.float32)).log_prob(x), axis=-1)
    kl = kl_diag_gaussians(q_mean, q_log_var, p_mean, p_log_var)
    return recon + kl, recon, kl
    ### END SOLUTION


# %% test cvae_negative_elbo points=3
import tensorflow as tf


# This test grades cvae_negative_elbo alone: kl_diag_gaussians is replaced by a reference while it runs.
def _ref_kl(mq, vq, mp, vp):
    mq, vq, mp, vp = (np.asarray(a, np.float64) for a in (mq, vq, mp, vp))
    return (0.5 * np.sum((np.exp(vq) + (mq - mp) ** 2) / np.exp(vp) - 1 + vp - vq, axis=-1)).astype(np.float32)


def _ref_recon(x, logits):
    return np.sum(np.logaddexp(0, logits) - x * logits, axis=-1)


def _check(x, logits, mq, vq, mp, vp, what):
    _result = cvae_negative_elbo(x, logits, mq, vq, mp, vp)
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"cvae_negative_elbo should return (neg_elbo, recon, kl); got {type(_result).__name__}.",
    )
    _neg, _rec, _kl = (checks.as_array(v, "cvae_negative_elbo") for v in _result)
    _recon, _kl_ref = _ref_recon(x, logits), _ref_kl(mq, vq, mp, vp)
    _D = x.shape[1]
    checks.assert_close(
        _rec,
        _recon,
        f"recon {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (_recon / _D, "that is averaged over pixels: sum over the D pixels of each image."),
            (-_recon, "the sign is flipped: recon is the NEGATIVE log-likelihood (positive)."),
            (
                _ref_recon(x, 0.5 + 0.5 * np.tanh(0.5 * logits)),
                "the probabilities were used as logits: pass the logits.",
            ),
        ],
    )
    checks.assert_close(
        _kl,
        _kl_ref,
        f"kl {what}",
        rtol=1e-4,
        atol=1e-4,
        hints=[
            (
                _ref_kl(mq, vq, 0 * mp, 0 * vp),
                "that is the KL to N(0, I): use the conditional prior p_mean, p_log_var.",
            ),
            (_ref_kl(mp, vp, mq, vq), "that is KL(p || q): the arguments are swapped."),
        ],
    )
    checks.assert_close(
        _neg,
        _recon + _kl_ref,
        f"neg_elbo {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[(_recon - _kl_ref, "the KL is subtracted: neg_elbo = recon + kl.")],
    )


_saved_kl = kl_diag_gaussians
kl_diag_gaussians = _ref_kl
try:
    # 2 pixels with logits 0 (probability 1/2 each): recon = 2 log 2; q = p gives kl = 0.
    _check(
        np.array([[1.0, 0.0]], np.float32),
        np.zeros((1, 2), np.float32),
        np.zeros((1, 1), np.float32),
        np.zeros((1, 1), np.float32),
        np.zeros((1, 1), np.float32),
        np.zeros((1, 1), np.float32),
        "for x = [1, 0], logits 0, q = p = N(0, 1)",
    )
    # q = N(0, 1) and the prior N(2, 1): kl = 2, which the KL to N(0, I) would miss.
    _check(
        np.array([[1.0, 1.0, 0.0]], np.float32),
        np.array([[2.0, -1.0, 0.5]], np.float32),
        np.zeros((1, 1), np.float32),
        np.zeros((1, 1), np.float32),
        np.full((1, 1), 2.0, np.float32),
        np.zeros((1, 1), np.float32),
        "for x = [1, 1, 0], logits [2, -1, 0.5], q = N(0, 1), p(z | y) = N(2, 1)",
    )
    ### BEGIN HIDDEN TESTS
    _rng = np.random.default_rng(65)
    for _B, _D, _d in [(6, 20, 3), (4, 784, 8)]:
        _x = (_rng.random((_B, _D)) < 0.4).astype(np.float32)
        _lg = (_rng.normal(size=(_B, _D)) * 3).astype(np.float32)
        _mq, _vq, _mp, _vp = (_rng.normal(size=(_B, _d)).astype(np.float32) for _ in range(4))
        _check(_x, _lg, _mq, _vq, _mp + 1.0, _vp, f"for a random batch (B = {_B}, D = {_D}, d = {_d})")
    # Large logits: the loss stays finite (use the logits, not log(sigmoid)).
    _x = np.array([[1.0, 0.0]], np.float32)
    _check(
        _x,
        np.array([[-120.0, 120.0]], np.float32),
        *(np.zeros((1, 2), np.float32) for _ in range(4)),
        "for logits of +-120 against x = [1, 0]",
    )
    ### END HIDDEN TESTS
finally:
    kl_diag_gaussians = _saved_kl

# %% [markdown]
# ## The given model parts
#
# The cell below gives `CVAEParts`, a Keras 3 model holding the networks: `encoder` maps
# $[x, \mathrm{onehot}(y)]$ (shape `(B, D + C)`) to `(B, 2d)` outputs, the means then the log-variances;
# `decoder` maps $[z, \mathrm{onehot}(y)]$ (shape `(B, d + C)`) to `(B, D)` logits; `prior` maps one-hot labels
# to `(mean, log_var)`: a `ConditionalPrior`, or `FixedPrior`, which returns $\mathcal N(0, I)$ for every label.
# The attributes `num_classes` and `latent_dim` give $C$ and $d$.


# %% locked model_parts
class FixedPrior:
    """p(z | y) = N(0, I) for every label: y_onehot (B, C) -> (zeros (B, d), zeros (B, d))."""

    def __init__(self, latent_dim):
        self.latent_dim = latent_dim

    def __call__(self, y_onehot):
        zeros = tf.zeros([tf.shape(y_onehot)[0], self.latent_dim])
        return zeros, zeros


def mlp(sizes, out, name=None):
    """A ReLU MLP from sizes[0] inputs through the hidden sizes to `out` linear outputs."""
    hidden = [keras.Input((sizes[0],))] + [keras.layers.Dense(h, activation="relu") for h in sizes[1:]]
    return keras.Sequential([*hidden, keras.layers.Dense(out)], name=name)


class CVAEParts(keras.Model):
    """The networks of a CVAE; prior is a ConditionalPrior (learned) or a FixedPrior (N(0, I))."""

    def __init__(self, data_dim, num_classes, latent_dim, hidden, prior):
        super().__init__()
        self.num_classes, self.latent_dim = num_classes, latent_dim
        self.encoder = mlp([data_dim + num_classes, *hidden], 2 * latent_dim, "encoder")
        self.decoder = mlp([latent_dim + num_classes, *hidden[::-1]], data_dim, "decoder")
        self.prior = prior


# %% [markdown]
# ## Exercise 5 — the forward pass (4 points)
#
# For a batch of images `x` with integer labels `y` and standard normal noise `eps` of shape `(B, d)`:
# encode $[x, \mathrm{onehot}(y)]$ and split the output into $\mu_q$ (first $d$) and $v_q$ (last $d$); draw the
# reparameterised sample $z = \mu_q + e^{v_q / 2} \odot \varepsilon$; decode $[z, \mathrm{onehot}(y)]$ to logits; and
# evaluate the prior at the labels. Use your `condition` for the concatenations (this test uses a reference
# version of it).


# %% solution cvae_forward
def cvae_forward(model, x, y, eps):
    """One forward pass of a CVAE with the given noise.

    model: has encoder, decoder, prior, num_classes, latent_dim (see CVAEParts); x: (B, D) float32;
    y: integer labels (B,); eps: standard normal noise (B, d).
    Returns: (logits, q_mean, q_log_var, p_mean, p_log_var): shapes (B, D), then four of shape (B, d).
    """
    ### BEGIN SOLUTION
    q_mean, q_log_var = tf.split(model.encoder(condition(x, y, model.num_classes)), 2, axis=-1)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.convert_to_tensor(eps, tf.float32)
    logits = model.decoder(condition(z, y, model.num_classes))
    p_mean, p_log_var = model.prior(tf.one_hot(tf.cast(y, tf.int32), model.num_classes))
    return logits, q_mean, q_log_var, p_mean, p_log_var
    ### END SOLUTION


# %% test cvae_forward points=4
import types

import tensorflow as tf


# This test grades cvae_forward alone: condition is replaced by a reference while it runs.
def _ref_condition(x, y, num_classes):
    return tf.concat([tf.cast(x, tf.float32), tf.one_hot(tf.cast(y, tf.int32), num_classes)], axis=-1)


def _linear_model(seed, D, C, d):
    """A CVAE whose networks are fixed linear maps (so the expected outputs are known), and a per-class prior."""
    r = np.random.default_rng(seed)
    We, Wd = r.normal(size=(D + C, 2 * d)).astype(np.float32), r.normal(size=(d + C, D)).astype(np.float32)
    Pm, Pv = r.normal(size=(C, d)).astype(np.float32) * 2, r.normal(size=(C, d)).astype(np.float32)

    def encoder(h):
        h = tf.cast(h, tf.float32)
        checks.assert_true(
            h.shape[-1] == D + C, f"the encoder takes [x, one_hot(y)] with {D + C} columns; got {h.shape[-1]}."
        )
        return tf.matmul(h, We)

    def decoder(h):
        h = tf.cast(h, tf.float32)
        checks.assert_true(
            h.shape[-1] == d + C, f"the decoder takes [z, one_hot(y)] with {d + C} columns; got {h.shape[-1]}."
        )
        return tf.matmul(h, Wd)

    def prior(y_onehot):
        y_onehot = tf.cast(y_onehot, tf.float32)
        return tf.matmul(y_onehot, Pm), tf.matmul(y_onehot, Pv)

    model = types.SimpleNamespace(encoder=encoder, decoder=decoder, prior=prior, num_classes=C, latent_dim=d)
    return model, (We, Wd, Pm, Pv)


def _reference(weights, x, y, eps, C, variant="right"):
    """The expected outputs; variant "mean" (z = the mean) and "std" (std = exp(log_var)) give two mistakes."""
    We, Wd, Pm, Pv = weights
    h = np.concatenate([x, np.eye(C)[y]], 1) @ We
    d = eps.shape[1]
    mean, log_var = h[:, :d], h[:, d:]
    z = {"right": mean + np.exp(0.5 * log_var) * eps, "std": mean + np.exp(log_var) * eps, "mean": mean}[variant]
    logits = np.concatenate([z, np.eye(C)[y]], 1) @ Wd
    return logits, mean, log_var, Pm[y], Pv[y]


def _check(seed, B, D, C, d, what):
    model, weights = _linear_model(seed, D, C, d)
    r = np.random.default_rng(seed + 1)
    x = (r.random((B, D)) < 0.5).astype(np.float32)
    y = r.integers(0, C, B)
    eps = r.normal(size=(B, d)).astype(np.float32)
    result = cvae_forward(model, x, y, eps)
    checks.assert_true(
        isinstance(result, (tuple, list)) and len(result) == 5,
        f"cvae_forward should return (logits, q_mean, q_log_var, p_mean, p_log_var); got {type(result).__name__}.",
    )
    got = [checks.as_array(v, "cvae_forward") for v in result]
    ref = _reference(weights, x, y, eps, C)
    names = ["q_mean", "q_log_var", "p_mean", "p_log_var"]
    checks.assert_close(
        got[1],
        ref[1],
        f"q_mean {what}",
        rtol=1e-4,
        atol=1e-4,
        hints=[(ref[2], "q_mean is the FIRST half of the encoder's output, q_log_var the second.")],
    )
    for name, g, e in zip(names[1:], got[2:], ref[2:]):
        checks.assert_close(
            g,
            e,
            f"{name} {what}",
            rtol=1e-4,
            atol=1e-4,
            hints=[
                (
                    weights[2][np.zeros_like(y)] if name == "p_mean" else weights[3][np.zeros_like(y)],
                    "the prior was evaluated at label 0 for every example: pass one_hot(y).",
                )
            ],
        )
    checks.assert_close(
        got[0],
        ref[0],
        f"logits {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (_reference(weights, x, y, eps, C, "mean")[0], "z is the posterior mean: add exp(q_log_var / 2) * eps."),
            (
                _reference(weights, x, y, eps, C, "std")[0],
                "the standard deviation is exp(log_var / 2), not exp(log_var).",
            ),
        ],
    )


_saved_condition = condition
condition = _ref_condition
try:
    _check(0, 3, 5, 2, 2, "for a small linear model (B = 3, D = 5, C = 2, d = 2)")
    ### BEGIN HIDDEN TESTS
    _check(1, 16, 30, 10, 4, "for a linear model with B = 16, D = 30, C = 10, d = 4")
    _check(2, 1, 8, 3, 6, "for a linear model with B = 1, D = 8, C = 3, d = 6")
    # The noise matters: another eps gives other logits.
    _model, _ = _linear_model(3, 6, 3, 2)
    _x, _y = np.ones((2, 6), np.float32), np.array([0, 2])
    _a = checks.as_array(cvae_forward(_model, _x, _y, np.zeros((2, 2), np.float32))[0], "cvae_forward")
    _b = checks.as_array(cvae_forward(_model, _x, _y, np.ones((2, 2), np.float32))[0], "cvae_forward")
    checks.assert_true(
        np.abs(_a - _b).max() > 1e-3, "cvae_forward gave the same logits for eps = 0 and eps = 1: z must use eps."
    )
    ### END HIDDEN TESTS
finally:
    condition = _saved_condition

# %% [markdown]
# ## Exercise 6 — generating a chosen digit (4 points)
#
# To draw `n` images of class `y`: evaluate the prior at $\mathrm{onehot}(y)$ (for all `n` rows), sample
# $z = \mu_p + e^{v_p / 2} \odot \varepsilon$ with a **different** $\varepsilon$ for each image, decode
# $[z, \mathrm{onehot}(y)]$ and return the Bernoulli means $\operatorname{sigmoid}(\text{logits})$: pixel
# probabilities in $[0, 1]$, which look better than binary samples. Draw the noise from `seed`, e.g.
# `tf.random.stateless_normal([n, d], seed=[seed, 0])`: the same seed gives the same images. Sample from the
# model's own prior, whatever it is (learned or fixed).


# %% solution generate
def generate(model, y, n, seed=0):
    """n images of class y from the CVAE.

    model: has decoder, prior, num_classes, latent_dim (see CVAEParts); y: an int label; n: number of images;
    seed: an int for the latent noise.
    Returns: float array (n, D) of Bernoulli means (probabilities), z ~ p(z | y) drawn independently per image.
    """
    ### BEGIN SOLUTION
    labels = tf.fill([n], int(y))
    mean, log_var = model.prior(tf.one_hot(labels, model.num_classes))
    eps = tf.random.stateless_normal([n, model.latent_dim], seed=[seed, 0])
    z = mean + tf.exp(0.5 * log_var) * eps
    return tf.sigmoid(model.decoder(condition(z, labels, model.num_classes))).numpy()
    ### END SOLUTION


# %% test generate points=4
import types

import tensorflow as tf


# This test grades generate alone: condition is replaced by a reference while it runs.
def _ref_condition(x, y, num_classes):
    return tf.concat([tf.cast(x, tf.float32), tf.one_hot(tf.cast(y, tf.int32), num_classes)], axis=-1)


def _visible_model(means, log_vars, offsets):
    """A CVAE with D = d whose decoder's logits are z + offsets[y]: the images show z directly.

    The prior of class c is N(means[c], diag exp(log_vars[c])), so each class has its own region of z.
    """
    means, log_vars, offsets = (np.asarray(a, np.float32) for a in (means, log_vars, offsets))
    C, d = means.shape

    def decoder(h):
        h = tf.cast(h, tf.float32)
        checks.assert_true(
            h.shape[-1] == d + C, f"the decoder takes [z, one_hot(y)] with {d + C} columns; got {h.shape[-1]}."
        )
        return h[:, :d] + tf.matmul(h[:, d:], offsets)

    def prior(y_onehot):
        y_onehot = tf.cast(y_onehot, tf.float32)
        return tf.matmul(y_onehot, means), tf.matmul(y_onehot, log_vars)

    return types.SimpleNamespace(decoder=decoder, prior=prior, num_classes=C, latent_dim=d)


def _latents(images, offsets, y, what):
    """The z behind each generated image, from its probabilities (checks they are probabilities)."""
    p = checks.as_array(images, what)
    checks.assert_true(p.ndim == 2, f"{what} should return an array of shape (n, D); got shape {p.shape}.")
    checks.assert_true(
        p.min() >= 0 and p.max() <= 1,
        f"{what} returned values outside [0, 1] (from {p.min():.3g} to {p.max():.3g}): "
        "return sigmoid(logits), not the logits.",
    )
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p) - offsets[y]


def _check(means, log_vars, offsets, y, n, seed, what):
    model = _visible_model(means, log_vars, offsets)
    images = generate(model, y, n, seed=seed)
    z = _latents(images, np.asarray(offsets, np.float32), y, what)
    checks.assert_true(
        z.shape == (n, means.shape[1]), f"{what} should return shape {(n, means.shape[1])}; got {z.shape}."
    )
    std = np.exp(0.5 * np.asarray(log_vars[y]))
    checks.assert_true(
        z.std(axis=0).min() > 0.05 * std.min(),
        f"{what}: all {n} images are (almost) the same: draw a different z for each image (noise of shape (n, d)).",
    )
    mean_got, se = z.mean(axis=0), std / np.sqrt(n)
    if not np.all(np.abs(mean_got - means[y]) < 5 * se):
        near = [c for c in range(len(means)) if np.all(np.abs(mean_got - means[c]) < 5 * se)]
        hint = (
            "z comes from N(0, I): sample from the model's prior p(z | y) instead."
            if np.all(np.abs(mean_got) < 5 * se)
            else f"z comes from the prior of class {near[0]}: evaluate the prior at one_hot(y)."
            if near
            else ""
        )
        checks.assert_true(
            False,
            f"{what}: the mean of z should be the prior mean of class {y}, {np.round(means[y], 3)}; "
            f"got {np.round(mean_got, 3)}. {hint}",
        )
    ratio = z.std(axis=0) / std
    checks.assert_true(
        np.all(np.abs(ratio - 1) < 0.15),
        f"{what}: the standard deviation of z should be exp(log_var / 2) = {np.round(std, 3)}; "
        f"got {np.round(z.std(axis=0), 3)}."
        + (
            " That is exp(log_var): the standard deviation is exp(log_var / 2)."
            if np.allclose(z.std(axis=0), std**2, rtol=0.15)
            else ""
        ),
    )


_saved_condition = condition
condition = _ref_condition
try:
    # Two classes whose priors are far apart: N((2, 2), 0.5^2) and N((-2, 0), 0.8^2).
    _means = np.array([[2.0, 2.0], [-2.0, 0.0]], np.float32)
    _log_vars = np.log(np.array([[0.25, 0.25], [0.64, 0.64]], np.float32))
    _offsets = np.array([[0.5, -0.5], [-0.5, 0.5]], np.float32)
    _check(_means, _log_vars, _offsets, 0, 2000, 0, "generate(model, y = 0, n = 2000)")
    _check(_means, _log_vars, _offsets, 1, 2000, 1, "generate(model, y = 1, n = 2000)")
    ### BEGIN HIDDEN TESTS
    _rng = np.random.default_rng(66)
    _means = (_rng.normal(size=(10, 3)) * 2).astype(np.float32)
    _means[0] = [2.5, -2.5, 2.5]
    _log_vars = np.log(_rng.uniform(0.15, 0.6, size=(10, 3))).astype(np.float32)
    _offsets = (_rng.normal(size=(10, 3)) * 0.5).astype(np.float32)
    for _y in (7, 3):
        _check(_means, _log_vars, _offsets, _y, 3000, 5, f"generate with 10 classes, y = {_y}, n = 3000")
    # The same seed gives the same images, another seed other images; n = 1 works.
    _model = _visible_model(_means, _log_vars, _offsets)
    _a, _b, _c = (checks.as_array(generate(_model, 4, 5, seed=s), "generate") for s in (11, 11, 12))
    checks.assert_true(
        np.array_equal(_a, _b), "generate with the same seed twice gave different images: draw the noise from seed."
    )
    checks.assert_true(
        not np.allclose(_a, _c), "generate with seeds 11 and 12 gave the same images: draw the noise from seed."
    )
    checks.assert_true(
        checks.as_array(generate(_model, 9, 1, seed=0), "generate").shape == (1, 3),
        "generate(model, 9, n = 1) should return shape (1, 3).",
    )
    ### END HIDDEN TESTS
finally:
    condition = _saved_condition

# %% [markdown]
# ## Train it
#
# Everything together: a `CVAE` with your learned prior, trained on the binarised MNIST subset with your
# `cvae_forward` and `cvae_negative_elbo`. The training step is given. This is a short run (a few seconds in
# FAST mode; longer in FULL mode): expect rough digits. Each column of the grid below should show the
# requested digit.


# %% locked train
class CVAE(CVAEParts):
    """CVAEParts with a training step: Adam on the mean negative ELBO, with trackers."""

    def __init__(self, *args, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.noise = tf.random.Generator.from_seed(seed)
        self.trackers = [keras.metrics.Mean(name) for name in ("neg_elbo", "recon", "kl")]

    @property
    def metrics(self):
        return self.trackers

    def call(self, inputs):
        x, y = inputs
        return cvae_forward(self, x, y, tf.zeros([tf.shape(x)[0], self.latent_dim]))[0]

    def loss_terms(self, x, y):
        """Per-example (reconstruction, KL), with one reparameterised sample of z."""
        outputs = cvae_forward(self, x, y, self.noise.normal([tf.shape(x)[0], self.latent_dim]))
        _, recon, kl = cvae_negative_elbo(x, *outputs)
        return recon, kl

    def track(self, recon, kl):
        """Update the trackers with the per-example terms (neg_elbo = recon + kl); returns their means."""
        for tracker, value in zip(self.trackers, (recon + kl, recon, kl)):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}

    def train_step(self, batch):
        x, y = batch
        with tf.GradientTape() as tape:
            recon, kl = self.loss_terms(x, y)
            loss = tf.reduce_mean(recon + kl)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self.track(recon, kl)


mnist = data.load("mnist")
n_train = config.pick(fast=5000, full=60_000)  # FAST: the whole embedded subset
images = data.to_float(mnist["train_images"][:n_train])
labels = mnist["train_labels"][:n_train].astype("int32")
keras.utils.set_random_seed(config.seed())
cvae = CVAE(784, 10, 16, [256], prior=ConditionalPrior(10, 16, hidden=64))
cvae((tf.constant(images[:2]), tf.constant(labels[:2])))  # build
cvae.compile(optimizer=keras.optimizers.Adam(1e-3))
history = training.fit(
    cvae, data.binarized_batches(images, 128, seed=config.seed(), labels=labels), epochs=config.pick(fast=15, full=30)
)
fig = plotting.image_grid(
    np.stack([generate(cvae, digit, 4, seed=1) for digit in range(10)], axis=1).reshape(-1, 784),
    4,
    10,
    size=0.7,
    title="generate(cvae, digit, 4): one column per digit",
)
plt.show()

# %% [markdown]
# ## Predict, then run: change the label, keep the noise (1 point)
#
# Take one noise vector $\varepsilon$ and decode $z = \mu_p(y) + \sigma_p(y) \odot \varepsilon$ once for each label
# $y = 0, \dots, 9$ with the model you just trained: one row per $\varepsilon$, one column per label. What changes
# along a row? (a) the digit changes, following the label; (b) the digit stays the same, only its style changes;
# (c) nothing changes, since the noise is the same. **Answer before running the cell below it**: put the letter
# in `predicted_label_swap`.

# %% solution predicted_label_swap
# Your prediction, before running the cell below: set predicted_label_swap to "a", "b" or "c".
### BEGIN SOLUTION
predicted_label_swap = "a"
### END SOLUTION

# %% test predicted_label_swap points=1
checks.assert_true(
    isinstance(predicted_label_swap, str) and predicted_label_swap.strip().lower() in ("a", "b", "c"),
    f'predicted_label_swap should be one of the letters "a", "b" or "c"; got {predicted_label_swap!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_label_swap.strip().lower() == "a",
    "The answer is (a): the digit follows the label. The decoder reads [z, one_hot(y)] and was trained to "
    "reconstruct each image from its own label, so the label tells it which digit to draw, and your learned "
    "prior also moves z into the region of class y. The noise carries what the label does not: the same "
    "epsilon tends to keep slant and stroke width from column to column (lecture 06, section 8, measures it).",
)
### END HIDDEN TESTS

# %%
_eps = tf.random.stateless_normal([4, cvae.latent_dim], seed=[config.seed(), 7])
_rows = []
for _c in range(10):
    _onehot = tf.one_hot(np.full(4, _c), 10)
    _mean, _log_var = cvae.prior(_onehot)
    _z = _mean + tf.exp(0.5 * _log_var) * _eps
    _rows.append(tf.sigmoid(cvae.decoder(tf.concat([_z, _onehot], axis=-1))).numpy())
_swap = np.stack(_rows, axis=1)  # (4 noise vectors, 10 labels, 784)
fig = plotting.image_grid(_swap.reshape(-1, 784), 4, 10, size=0.7, title="one noise vector per row, labels 0..9")
plt.show()

# %% [markdown]
# ## Predict, then run: temperature zero (1 point)
#
# A **temperature** $\tau$ scales the prior's standard deviation: $z = \mu_p(y) + \tau\,\sigma_p(y) \odot \varepsilon$.
# $\tau < 1$ gives more typical digits, $\tau > 1$ more unusual ones. Draw 8 images of the digit 3 with 8
# different noise vectors $\varepsilon$ at $\tau = 0$: how many *different* images do you get? **Answer before
# running the cell below it**: put the number in `predicted_distinct_images`.

# %% solution predicted_distinct_images
# Your prediction, before running the cell below: set predicted_distinct_images to a whole number.
### BEGIN SOLUTION
predicted_distinct_images = 1
### END SOLUTION

# %% test predicted_distinct_images points=1
checks.assert_true(
    isinstance(predicted_distinct_images, (int, float, np.integer, np.floating)),
    f"predicted_distinct_images should be a number; got {type(predicted_distinct_images).__name__}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_distinct_images == 1,
    f"The answer is 1, not {predicted_distinct_images}: at temperature 0 the noise is multiplied by 0, so every "
    "draw has z = mu_p(3), the prior mean of the class, and the decoder turns that one code into the same image "
    "8 times: the model's single most typical 3. Diversity comes only from the noise, and the temperature "
    "scales it.",
)
### END HIDDEN TESTS

# %%
_temperatures = [0.0, 0.5, 1.0, 1.5]
_onehot = tf.one_hot(np.full(8, 3), 10)
_mean, _log_var = cvae.prior(_onehot)
_eps = tf.random.stateless_normal([8, cvae.latent_dim], seed=[config.seed(), 8])
_grid = []
for _tau in _temperatures:
    _z = _mean + _tau * tf.exp(0.5 * _log_var) * _eps
    _images = tf.sigmoid(cvae.decoder(tf.concat([_z, _onehot], axis=-1))).numpy()
    _distinct = len(np.unique(np.round(_images, 4), axis=0))
    print(f"temperature {_tau}: {_distinct} different images among 8")
    _grid.append(_images)
fig = plotting.image_grid(
    np.concatenate(_grid), 4, 8, size=0.7, title="digit 3 at temperatures 0, 0.5, 1, 1.5 (one row each)"
)
plt.show()

# %% [markdown]
# ## Written question (3 points)
#
# Answer in a few sentences: (a) $\mathrm{KL}(q\,\|\,p)$ and $\mathrm{KL}(p\,\|\,q)$ differ. Using the formula of
# exercise 1 for one dimension with equal means, say which of the two is larger when $q$ is much *narrower* than
# $p$, and why the CVAE's loss uses $\mathrm{KL}(q\,\|\,p)$ and not the other one. (b) When does a learned
# conditional prior $p(z \mid y)$ help compared with a fixed $\mathcal N(0, I)$, and when does it make little
# difference?

# %% written prior points=3
# ### BEGIN SOLUTION
# **Model answer.** (a) With equal means and $r = \sigma_q^2/\sigma_p^2$,
# $\mathrm{KL}(q\,\|\,p) = \tfrac12(r - 1 - \ln r)$ and $\mathrm{KL}(p\,\|\,q) = \tfrac12(1/r - 1 + \ln r)$.
# For a narrow $q$ ($r \to 0$) the first grows only like
# $\tfrac12\ln(1/r)$, the second like $1/(2r)$: the forward KL, $\mathrm{KL}(p\,\|\,q)$ (an average over $p$), punishes
# a $q$ that misses mass of $p$ far more than the reverse KL, $\mathrm{KL}(q\,\|\,p)$, does (unit 02's names, with
# $q$ the approximation). The loss uses $\mathrm{KL}(q\,\|\,p)$ because it comes from the ELBO,
# $\mathbb E_q[\log p(x \mid z, y)] - \mathrm{KL}(q\,\|\,p)$, an expectation under $q$ that we can estimate with
# samples of $q$ (and $\log p(x \mid y) = \mathrm{ELBO} + \mathrm{KL}(q\,\|\,p(z \mid x, y))$ holds only in this
# direction).
# (b) A learned prior helps when the classes use different regions of $z$: when the decoder relies on $z$
# for the class (early in training, a weak use of $y$), sampling $\mathcal N(0, I)$ gives codes of the wrong class,
# while $p(z \mid y)$ samples the class's own region; it also lowers the KL (better ELBO), since $\mathcal N(0, I)$
# is one of the priors it can learn, and it is the only source of class information if the decoder does
# not see $y$. It makes little difference when the decoder uses $y$ fully and the encoder removes the class from
# $z$: then each class's aggregated posterior is already close to $\mathcal N(0, I)$.
#
# **Grading.** 1 point: which direction is larger for a narrow $q$ (with the formula or a correct argument).
# 1 point: why $\mathrm{KL}(q\,\|\,p)$ (it is the ELBO's term; an expectation under $q$). 1 point: when the learned
# prior helps (class-dependent latent regions / decoder not using $y$ / better KL) and when it does not.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - The KL between diagonal Gaussians is a sum over coordinates of
#   $\tfrac12[(\sigma_q^2 + (\mu_q - \mu_p)^2)/\sigma_p^2 - 1 + \log\sigma_p^2 - \log\sigma_q^2]$; it is not symmetric.
# - A network is conditioned on a class by appending $\mathrm{onehot}(y)$ to its input: the encoder sees
#   $[x, \mathrm{onehot}(y)]$, the decoder $[z, \mathrm{onehot}(y)]$, a learned prior $\mathrm{onehot}(y)$ alone.
# - The CVAE loss is the reconstruction term plus the KL to the conditional prior, per example.
# - To generate a digit, sample $z$ from the prior of that digit and decode it with the same label.
