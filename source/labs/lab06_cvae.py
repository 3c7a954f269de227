# %% [markdown]
# # Lab 06 — The conditional VAE with few labels (the M2 model)
#
# The lecture trains a conditional VAE on images that all carry their label. Here only a few images are
# labelled, as in most real data. The semi-supervised **M2** model of Kingma, Rezende, Mohamed and Welling
# (2014) adds a classifier $q(y \mid x)$ to the CVAE and treats the label of an unlabelled image as one more
# latent variable: its bound sums the CVAE's bound over every possible label, weighted by the classifier.
# You build the pieces (the label enumeration, a learned conditional prior that starts as
# $\mathcal N(0, I)$, the labelled and unlabelled bounds, the combined loss), train M2 briefly on binarised
# MNIST with few labels (50 per digit in FAST mode, 10 in FULL mode), and compare its classifier with one
# trained on the labelled images alone.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - write the CVAE bound of a labelled image when the prior over labels is not uniform and the prior
#   $p(z \mid y)$ is learned (a KL between two diagonal Gaussians whose parameters both come from networks);
# - marginalise a discrete latent variable exactly, by enumerating its values in one batched call;
# - write the unlabelled bound $\sum_y q(y \mid x)\,\big(-\mathrm{ELBO}(x, y)\big) - \mathcal H(q(y \mid x))$ stably,
#   and say why it needs the entropy term;
# - combine labelled and unlabelled batches in one loss, and say why the classification term is needed;
# - initialise a learned conditional prior so that it starts as the standard one.

# %% setup

# %% locked imports
import types

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
# M2 is a CVAE whose label $y \in \{0, \dots, C-1\}$ may be missing. Its generative model and its
# approximate posterior are
#
# $$p(y) = \mathrm{Cat}(\pi), \quad p(z \mid y) = \mathcal N\big(\mu_p(y), \operatorname{diag} e^{v_p(y)}\big), \quad
# p(x \mid z, y) = \prod_{i=1}^{D} \mathrm{Bernoulli}\big(x_i;\ \operatorname{sigmoid}(\ell_i)\big),
# \ \ \ell = \mathrm{decoder}([z, \mathrm{onehot}(y)]),$$
#
# $$q(y \mid x) = \mathrm{Cat}\big(\operatorname{softmax}(\mathrm{classifier}(x))\big), \qquad
# q(z \mid x, y) = \mathcal N\big(\mu_q, \operatorname{diag} e^{v_q}\big),
# \ \ (\mu_q, v_q) = \mathrm{encoder}([x, \mathrm{onehot}(y)]).$$
#
# **A labelled image** $(x, y)$ has the lecture's bound plus the label's own log-probability, since M2 models
# $p(x, y)$, not $p(x \mid y)$:
#
# $$-\mathcal L(x, y) = \underbrace{-\mathbb E_{q(z \mid x, y)}[\log p(x \mid z, y)]}_{\text{recon}}
# + \mathrm{KL}\big(q(z \mid x, y)\,\|\,p(z \mid y)\big) - \log p(y) \;\ge\; -\log p(x, y).$$
#
# **An unlabelled image** $x$ treats $y$ as latent, with $q(y, z \mid x) = q(y \mid x)\, q(z \mid x, y)$:
#
# $$-\mathcal U(x) = \sum_{y=0}^{C-1} q(y \mid x)\,\big(-\mathcal L(x, y)\big) - \mathcal H\big(q(y \mid x)\big)
# \;\ge\; -\log p(x), \qquad \mathcal H(q) = -\sum_y q(y)\log q(y).$$
#
# The sum over $y$ is exact (only $C$ terms), so no sampling of $y$ is needed. Everything is batched and
# float32: images `x` have shape `(B, D)` (entries 0 or 1), labels `y` are integers of shape `(B,)`, means and
# `log_var`s (log-*variances* $v = \log\sigma^2$) have shape `(B, d)`, logits (any real numbers, *not*
# probabilities) have shape `(B, D)` or `(B, C)`. Return TensorFlow tensors or NumPy arrays.
#
# A model (see the given `M2Parts` below) has the attributes `classifier` (images `(B, D)` to class logits
# `(B, C)`), `encoder` (`(B, D + C)` to `(B, 2d)`: the means, then the log-variances), `decoder` (`(B, d + C)` to
# `(B, D)` logits), `prior` (one-hot labels `(B, C)` to the pair `(mean, log_var)`), `log_class_prior` (the
# vector $\log \pi$ of shape `(C,)`), `num_classes` ($C$) and `latent_dim` ($d$). The tests call your functions
# with small models of their own that have the same attributes.

# %% [markdown]
# ## Exercise 1 — every label for every image (2 points)
#
# The unlabelled bound needs $\mathcal L(x_b, c)$ for every image $b$ and every label $c$. A Python loop over the
# labels makes $C$ small network calls; one call on a batch of $C \cdot B$ rows is faster. Build that batch:
# row $c \cdot B + b$ holds image $b$ with label $c$ (the whole batch with label 0, then the whole batch with
# label 1, …), so that a result of shape `(C * B,)` reshapes to `(C, B)` with entry `[c, b]`.


# %% solution enumerate_labels
def enumerate_labels(x, num_classes):
    """The batch repeated once per label, with the labels.

    x: float array (B, n); num_classes: C.
    Returns: (x_all, y_all): x_all float32 (C * B, n) and y_all int32 (C * B,) (integer labels, not one-hot),
    with row c * B + b holding x[b] and the label c.
    """
    ### BEGIN SOLUTION
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    batch = tf.shape(x)[0]
    copies = tf.tile(x, [num_classes, 1])  # [x; x; ...; x]
    classes = tf.repeat(tf.range(num_classes, dtype=tf.int32), batch)  # [0 ... 0, 1 ... 1, ...]
    return copies, classes
    ### END SOLUTION


# %% test enumerate_labels points=2
import tensorflow as tf

_x = np.array([[0.5, 0.25], [1.0, 0.0]], np.float32)
_result = enumerate_labels(_x, 3)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"enumerate_labels should return the pair (x_all, y_all); got {type(_result).__name__}.",
)
_xa, _ya = checks.as_array(_result[0], "x_all"), checks.as_array(_result[1], "y_all")
checks.assert_true(
    _xa.shape == (6, 2),
    f"enumerate_labels(x of shape (2, 2), 3): x_all should have shape (6, 2) (3 copies of the batch); got {_xa.shape}.",
)
checks.assert_true(
    _ya.shape == (6,),
    f"enumerate_labels(x of shape (2, 2), 3): y_all should have shape (6,), one integer label per row; got {_ya.shape}"
    + (": return integer labels, not one-hot vectors." if _ya.shape == (6, 3) else "."),
)
checks.assert_close(
    _ya,
    [0, 0, 1, 1, 2, 2],
    "y_all of enumerate_labels(x with B = 2, 3)",
    hints=[([0, 1, 2, 0, 1, 2], "the labels cycle: row c * B + b has label c (repeat each label B times).")],
)
checks.assert_close(
    _xa,
    np.tile(_x, (3, 1)),
    "x_all of enumerate_labels(x with B = 2, 3)",
    hints=[(np.repeat(_x, 3, axis=0), "each image is repeated in place: row c * B + b holds x[b] (tile the batch).")],
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(60)
for _B, _n, _C in [(5, 7, 10), (1, 3, 4), (9, 1, 2)]:
    _x = _rng.random((_B, _n)).astype(np.float32)
    _result = enumerate_labels(tf.constant(_x), _C)
    _xa, _ya = (checks.as_array(v, "enumerate_labels") for v in _result)
    checks.assert_true(
        _xa.shape == (_C * _B, _n) and _ya.shape == (_C * _B,),
        f"enumerate_labels for B = {_B}, n = {_n}, C = {_C} should give shapes {(_C * _B, _n)} and {(_C * _B,)}; "
        f"got {_xa.shape} and {_ya.shape}" + (": use num_classes, not a fixed 10." if len(_ya) == 10 * _B else "."),
    )
    _rows = np.arange(_C * _B)
    checks.assert_close(_ya, _rows // _B, f"y_all for B = {_B}, C = {_C}")
    checks.assert_close(_xa, _x[_rows % _B], f"x_all for random x (B = {_B}, n = {_n}), C = {_C}")
checks.assert_true(
    np.issubdtype(np.asarray(_result[1]).dtype, np.integer),
    f"y_all should hold integer labels (int32), got dtype {np.asarray(_result[1]).dtype}.",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — a learned prior that starts as $\mathcal N(0, I)$ (3 points)
#
# As in the lecture, each class gets its own Gaussian $p(z \mid y) = \mathcal N(\mu_p(y), \operatorname{diag}
# e^{v_p(y)})$ from a small network of the one-hot label: one hidden `Dense` layer of `hidden` ReLU units, then a
# linear output of size $2d$ split into the mean and the log-variance (no activation: a log-variance is any real
# number). One change: **the model starts as the standard prior.** Initialise the output layer's weights and bias to
# zero, so that before any training every label gets mean $0$ and log-variance $0$, i.e. $\mathcal N(0, I)$. The first
# steps of M2 then see the familiar VAE prior, and each class moves away from it only as far as its images ask. (Leave
# the hidden layer's default random initialisation: a hidden layer that starts at zero outputs ReLU(0) = 0 with zero
# gradient, and never learns.)
#
# Why the ReLU? On one-hot labels a linear map can represent any per-class Gaussian too. It differs on *soft*
# labels, such as $\frac12$ on each of two classes: a linear map must return exactly the average of the two
# classes' parameters, a network with a hidden ReLU need not. The tests feed soft labels too. Write it as a
# Keras model: create the layers in `__init__` (after `super().__init__(**kwargs)`), use them in `call`.


# %% solution ConditionalPrior
class ConditionalPrior(keras.Model):
    """p(z | y) as a network: labels (B, num_classes) -> (mean, log_var), each of shape (B, latent_dim).

    __init__(num_classes, latent_dim, hidden=64): a hidden Dense layer of `hidden` ReLU units (default random
    initialisation), then a linear Dense layer with 2 * latent_dim outputs (the means, then the log-variances)
    whose kernel and bias start at zero, so that an untrained prior is N(0, I) for every label.
    call(y_onehot): float32 (B, num_classes), one-hot or soft labels (rows of class weights summing to 1);
    returns the tuple (mean, log_var).
    """

    ### BEGIN SOLUTION
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.features = keras.layers.Dense(hidden, activation="relu")
        self.head = keras.layers.Dense(2 * latent_dim, kernel_initializer="zeros", bias_initializer="zeros")

    def call(self, y_onehot):
        both = self.head(self.features(y_onehot))
        return both[:, : self.latent_dim], both[:, self.latent_dim :]

    ### END SOLUTION


# %% test ConditionalPrior points=3
import keras
import tensorflow as tf


def _outputs(prior, y, what="ConditionalPrior"):
    out = prior(tf.constant(y, tf.float32))
    checks.assert_true(
        isinstance(out, (tuple, list)) and len(out) == 2,
        f"{what}(y_onehot) should return the pair (mean, log_var); got {type(out).__name__}.",
    )
    return [checks.as_array(v, what) for v in out]


# It must be able to learn any per-class Gaussian: fit the means and log-variances of the classes.
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
    return _outputs(prior, np.eye(len(target_mean), dtype=np.float32))


keras.utils.set_random_seed(0)
_prior = ConditionalPrior(4, 3, hidden=16)
_mean, _log_var = _outputs(_prior, np.eye(4, dtype=np.float32))
checks.assert_true(
    _mean.shape == (4, 3) and _log_var.shape == (4, 3),
    "for 4 one-hot labels and latent_dim = 3, mean and log_var should have shape (4, 3); "
    f"got {_mean.shape} and {_log_var.shape}.",
)
checks.assert_true(
    np.abs(_mean).max() < 1e-6 and np.abs(_log_var).max() < 1e-6,
    "an untrained ConditionalPrior should be N(0, I) for every label (mean 0, log_var 0); got means up to "
    f"{np.abs(_mean).max():.3g} and log-variances up to {np.abs(_log_var).max():.3g} in size"
    + (
        ": the log-variance is log 2 = softplus(0): no activation on the log-variance."
        if np.allclose(_log_var, np.log(2.0), atol=1e-4) and np.abs(_mean).max() < 1e-6
        else ": start the output layer at zero (kernel_initializer and bias_initializer)."
    ),
)
checks.assert_true(
    len(_prior.trainable_variables) > 0, "ConditionalPrior has no trainable variables: create Dense layers in __init__."
)
_tm = np.array([[2.0, -1.0, 0.5], [-2.0, 1.0, 0.0], [0.0, 3.0, -1.5], [1.0, 1.0, 1.0]], np.float32)
_tv = np.array([[-2.0, 0.0, 1.0], [0.5, -1.0, -0.5], [0.0, 0.0, 0.0], [-1.5, 1.5, -0.5]], np.float32)
_m, _v = _fit(_prior, _tm, _tv)
checks.assert_true(
    np.abs(_m - _tm).max() < 0.1 and np.abs(_v - _tv).max() < 0.1,
    f"after fitting 4 class-specific Gaussians, ConditionalPrior's means are off by up to {np.abs(_m - _tm).max():.3f} "
    f"and its log-variances by up to {np.abs(_v - _tv).max():.3f}. "
    + (
        "The log-variances are never negative: no activation on the output (no exp, softplus or relu)."
        if _v.min() >= 0
        else "The means are never negative: no activation on the output layer."
        if _m.min() >= 0
        else "Does the output depend on the label, through a hidden layer that can learn (random initial weights)?"
    ),
)
### BEGIN HIDDEN TESTS
# Another size; the hidden layer has the requested width: 10 -> 32 -> 2 * 5 parameters.
keras.utils.set_random_seed(1)
_prior = ConditionalPrior(10, 5, hidden=32)
_soft = np.full((3, 10), 0.1, np.float32)
_m0, _v0 = _outputs(_prior, _soft)
checks.assert_true(
    np.abs(_m0).max() < 1e-6 and np.abs(_v0).max() < 1e-6,
    "an untrained ConditionalPrior(10, 5) should give mean 0 and log_var 0 for any input (here soft labels); "
    f"got values up to {max(np.abs(_m0).max(), np.abs(_v0).max()):.3g}: start the output layer at zero.",
)
_count = sum(int(np.prod(w.shape)) for w in _prior.trainable_variables)
checks.assert_true(
    _count == 10 * 32 + 32 + 32 * 10 + 10,
    f"ConditionalPrior(10, 5, hidden=32) should have {10 * 32 + 32 + 32 * 10 + 10} parameters "
    f"(10 -> 32 ReLU -> 2 * 5); got {_count}"
    + (": use the argument hidden." if _count == 10 * 64 + 64 + 64 * 10 + 10 else "."),
)
_tm = np.random.default_rng(63).normal(size=(10, 5)).astype(np.float32) * 2
_tv = np.random.default_rng(64).normal(size=(10, 5)).astype(np.float32)
_m, _v = _fit(_prior, _tm, _tv, steps=500)
checks.assert_true(
    np.abs(_m - _tm).max() < 0.15 and np.abs(_v - _tv).max() < 0.15,
    f"ConditionalPrior(10, 5, hidden=32) could not learn 10 random class Gaussians: errors up to "
    f"{np.abs(_m - _tm).max():.3f} (means) and {np.abs(_v - _tv).max():.3f} (log-variances). "
    "Two linear outputs, mean and log_var, both depending on the label through a hidden layer that learns?",
)
# Each row depends only on its own label.
_labels = np.array([3, 3, 7, 0, 7])
_m1, _v1 = _outputs(_prior, np.eye(10, dtype=np.float32)[_labels])
checks.assert_close(_m1, _m[_labels], "the means for labels [3, 3, 7, 0, 7] against those of the 10 classes", atol=1e-5)
checks.assert_close(
    _v1, _v[_labels], "the log_vars for labels [3, 3, 7, 0, 7] against those of the 10 classes", atol=1e-5
)
# Soft labels, after training: halfway between two classes, a linear map gives exactly the average of their
# outputs; a hidden ReLU does not (with random hidden weights, some unit changes sign between the two classes).
_a, _b = np.eye(10, dtype=np.float32)[[2, 5, 0, 8]], np.eye(10, dtype=np.float32)[[7, 1, 9, 3]]
_mixed = _outputs(_prior, 0.5 * (_a + _b))
_ends = [_outputs(_prior, _t) for _t in (_a, _b)]
_gap = max(np.abs(_mixed[_k] - 0.5 * (_ends[0][_k] + _ends[1][_k])).max() for _k in range(2))
checks.assert_true(
    _gap > 1e-3,
    "ConditionalPrior of a soft label (1/2 on each of two classes) is exactly the average of the two classes' "
    f"outputs (largest difference {_gap:.2g}): the network is linear in its input. A Dense layer without an "
    "activation is linear, and so is a stack of them: give the hidden layer a ReLU.",
)
### END HIDDEN TESTS

# %% [markdown]
# ## The given model parts
#
# `M2Parts` holds the four networks described above, each built by `mlp`, and the class prior $\log\pi$
# (uniform unless `class_prior` is given). The training step comes after the exercises.


# %% locked model_parts
def mlp(sizes, out, name=None):
    """A ReLU MLP from sizes[0] inputs through the hidden sizes to `out` linear outputs."""
    hidden = [keras.Input((sizes[0],))] + [keras.layers.Dense(h, activation="relu") for h in sizes[1:]]
    return keras.Sequential([*hidden, keras.layers.Dense(out)], name=name)


class M2Parts(keras.Model):
    """The networks of M2: classifier q(y | x), encoder q(z | x, y), decoder p(x | z, y), prior p(z | y)."""

    def __init__(self, data_dim, num_classes, latent_dim, hidden, prior, class_prior=None):
        super().__init__()
        self.num_classes, self.latent_dim = num_classes, latent_dim
        self.classifier = mlp([data_dim, *hidden], num_classes, "classifier")
        self.encoder = mlp([data_dim + num_classes, *hidden], 2 * latent_dim, "encoder")
        self.decoder = mlp([latent_dim + num_classes, *hidden[::-1]], data_dim, "decoder")
        self.prior = prior
        pi = np.full(num_classes, 1.0 / num_classes) if class_prior is None else np.asarray(class_prior)
        self.log_class_prior = tf.constant(np.log(pi), tf.float32)


# %% [markdown]
# ## Exercise 3 — the bound of a labelled image (4 points)
#
# Return $-\mathcal L(x, y)$ per example, with one reparameterised sample of $z$ from the given noise:
# encode $[x, \mathrm{onehot}(y)]$ and split the output into $\mu_q$ (first $d$) and $v_q$ (last $d$); set
# $z = \mu_q + e^{v_q / 2} \odot \varepsilon$; decode $[z, \mathrm{onehot}(y)]$ to logits; then
#
# $$-\mathcal L(x, y) = -\sum_{i=1}^{D} \log \mathrm{Bernoulli}(x_i;\ \operatorname{sigmoid}(\ell_i))
# + \mathrm{KL}\big(\mathcal N(\mu_q, e^{v_q})\,\|\,\mathcal N(\mu_p(y), e^{v_p(y)})\big) - \log \pi_y .$$
#
# The prior is the model's: `model.prior(onehot)` gives $(\mu_p(y), v_p(y))$, which are not $0$, and the KL
# between two diagonal Gaussians is a sum over the $d$ coordinates (lecture 06, section 2). Mind its direction:
# the ELBO has $\mathrm{KL}(q\,\|\,p)$, the average over $q$. The label term uses `model.log_class_prior`; the
# tests use a prior over the classes that is not uniform.


# %% solution labelled_bound
def labelled_bound(model, x, y, eps):
    """-L(x, y) for a batch of labelled images: recon + KL(q(z | x, y) || p(z | y)) - log p(y).

    model: has classifier, encoder, decoder, prior, log_class_prior, num_classes, latent_dim (see M2Parts);
    x: binary float32 (B, D); y: integer labels (B,); eps: standard normal noise (B, d) for z.
    Returns: float32 (B,), one value per image (nats).
    """
    ### BEGIN SOLUTION
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    label = tf.cast(y, tf.int32)
    hot = tf.one_hot(label, model.num_classes)
    stats = model.encoder(tf.concat([x, hot], axis=1))
    mu, lv = stats[:, : model.latent_dim], stats[:, model.latent_dim :]
    z = mu + tf.exp(lv / 2) * tf.cast(eps, tf.float32)
    pixels = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=model.decoder(tf.concat([z, hot], axis=1)))
    mu_p, lv_p = model.prior(hot)
    # KL(q || p) coordinate by coordinate, both Gaussians given by their means and log-variances
    gap = tf.exp(lv - lv_p) + tf.square(mu - mu_p) / tf.exp(lv_p) - 1.0 - (lv - lv_p)
    return tf.reduce_sum(pixels, axis=1) + tf.reduce_sum(gap, axis=1) / 2 - tf.gather(model.log_class_prior, label)
    ### END SOLUTION


# %% test labelled_bound points=4
import types

import tensorflow as tf
import tensorflow_probability as tfp


def _toy(seed, D, C, d, pi=None):
    """An M2 whose networks are fixed linear maps, so that its bounds can be computed independently."""
    r = np.random.default_rng(seed)
    W = {
        "classifier": r.normal(size=(D, C)),
        "encoder": r.normal(size=(D + C, 2 * d)) * 0.4,
        "decoder": r.normal(size=(d + C, D)),
        "mean": r.normal(size=(C, d)) * 1.5,
        "log_var": r.normal(size=(C, d)) * 0.7,
    }
    pi = r.dirichlet(np.full(C, 2.0)) if pi is None else np.asarray(pi, float)
    inputs = {"classifier": (D, "x"), "encoder": (D + C, "[x, one_hot(y)]"), "decoder": (d + C, "[z, one_hot(y)]")}

    def net(name):
        cols, what = inputs[name]

        def apply(h):
            h = tf.cast(h, tf.float32)
            checks.assert_true(
                h.shape[-1] == cols,
                f"the {name} takes {what} with {cols} columns; got {h.shape[-1]}"
                + (": the label must enter as one_hot(y), not as a number." if h.shape[-1] == cols - C + 1 else "."),
            )
            return tf.matmul(h, W[name].astype(np.float32))

        return apply

    def prior(y_onehot):
        y_onehot = tf.cast(y_onehot, tf.float32)
        return tf.matmul(y_onehot, W["mean"].astype(np.float32)), tf.matmul(y_onehot, W["log_var"].astype(np.float32))

    model = types.SimpleNamespace(
        classifier=net("classifier"),
        encoder=net("encoder"),
        decoder=net("decoder"),
        prior=prior,
        log_class_prior=tf.constant(np.log(pi), tf.float32),
        num_classes=C,
        latent_dim=d,
    )
    return model, W, pi


def _terms(W, pi, x, y, eps, std_power=0.5):
    """The parts of -L(x, y) in float64, from TFP distributions (and the parts of some mistakes)."""
    _tfd = tfp.distributions
    x, eps, y = np.asarray(x, float), np.asarray(eps, float), np.asarray(y)
    C, d = len(pi), eps.shape[1]
    onehot = np.eye(C)[y]
    h = np.concatenate([x, onehot], 1) @ W["encoder"]
    mq, vq = h[:, :d], h[:, d:]
    z = mq + np.exp(std_power * vq) * eps
    logits = np.concatenate([z, onehot], 1) @ W["decoder"]
    q = _tfd.MultivariateNormalDiag(mq, np.exp(0.5 * vq))
    p = _tfd.MultivariateNormalDiag(W["mean"][y], np.exp(0.5 * W["log_var"][y]))
    return {
        "recon": -_tfd.Independent(_tfd.Bernoulli(logits=logits), 1).log_prob(x).numpy(),
        "kl": _tfd.kl_divergence(q, p).numpy(),
        "kl_swapped": _tfd.kl_divergence(p, q).numpy(),
        "kl_standard": _tfd.kl_divergence(q, _tfd.MultivariateNormalDiag(0 * mq, 1 + 0 * mq)).numpy(),
        "log_py": np.log(pi)[y],
    }


def _check(seed, B, D, C, d, what, pi=None):
    model, W, pi = _toy(seed, D, C, d, pi)
    r = np.random.default_rng(seed + 1)
    x = (r.random((B, D)) < 0.5).astype(np.float32)
    y = r.integers(0, C, B)
    eps = r.normal(size=(B, d)).astype(np.float32)
    got = checks.as_array(labelled_bound(model, x, y, eps), "labelled_bound")
    checks.assert_true(got.shape == (B,), f"labelled_bound {what} should have shape ({B},); got {got.shape}.")
    t = _terms(W, pi, x, y, eps)
    checks.assert_close(
        got,
        t["recon"] + t["kl"] - t["log_py"],
        f"labelled_bound {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (t["recon"] + t["kl"], "that is the lecture's CVAE loss, without the label term: subtract log p(y)."),
            (t["recon"] + t["kl"] + t["log_py"], "log p(y) has the wrong sign: -L(x, y) = recon + KL - log p(y)."),
            (t["recon"] + t["kl_swapped"] - t["log_py"], "that uses KL(p || q): the ELBO's KL is KL(q || p)."),
            (
                t["recon"] + t["kl_standard"] - t["log_py"],
                "that is the KL to N(0, I): use the model's prior p(z | y), model.prior(one_hot(y)).",
            ),
            (
                _terms(W, pi, x, y, eps, 1.0)["recon"] + t["kl"] - t["log_py"],
                "z used exp(log_var) as the standard deviation: it is exp(log_var / 2).",
            ),
            (
                _terms(W, pi, x, y, 0 * eps)["recon"] + t["kl"] - t["log_py"],
                "z is the posterior mean: add exp(log_var / 2) * eps.",
            ),
            (
                t["recon"] / D + t["kl"] - t["log_py"],
                "the reconstruction is averaged over pixels: sum over the D pixels.",
            ),
        ],
    )


# Tolerances: a float32 answer against a float64 reference. The noise is given, so nothing is random: the
# solution's largest error over these cases was 1.4e-5 absolute, 1.5e-6 relative (rtol 1e-4, atol 1e-3 here).
_check(0, 3, 6, 3, 2, "for a small linear model (B = 3, D = 6, C = 3, d = 2)")
### BEGIN HIDDEN TESTS
_check(1, 16, 30, 10, 4, "for a linear model with B = 16, D = 30, C = 10, d = 4")
_check(2, 1, 8, 4, 6, "for a linear model with B = 1, D = 8, C = 4, d = 6")
_check(3, 5, 12, 10, 3, "for a linear model with a uniform class prior (B = 5, D = 12, C = 10)", pi=np.full(10, 0.1))
# Labels as an int32 tensor, and large logits stay finite.
_model, _W, _pi = _toy(4, 5, 3, 2)
_W["decoder"] *= 60.0
_x = np.array([[1, 0, 1, 0, 1], [0, 0, 0, 1, 1]], np.float32)
_eps = np.array([[0.3, -1.0], [1.2, 0.4]], np.float32)
_got = checks.as_array(labelled_bound(_model, tf.constant(_x), tf.constant([2, 0], tf.int32), _eps), "labelled_bound")
_t = _terms(_W, _pi, _x, [2, 0], _eps)
checks.assert_true(np.all(np.isfinite(_got)), f"labelled_bound with logits of size ~100 is not finite: {_got}.")
checks.assert_close(
    _got,
    _t["recon"] + _t["kl"] - _t["log_py"],
    "labelled_bound with large logits and int32 labels",
    rtol=1e-4,
    atol=1e-2,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — the bound of an unlabelled image (5 points)
#
# Return $-\mathcal U(x) = \sum_y q(y \mid x)\,\big(-\mathcal L(x, y)\big) - \mathcal H(q(y \mid x))$ per image. Compute
# $-\mathcal L(x_b, c)$ for all $B \cdot C$ pairs in **one** call of your `labelled_bound`, on the batch of your
# `enumerate_labels`, with the **same** noise $\varepsilon_b$ for every label of image $b$ (tile `eps` the way
# the images are tiled); reshape the result to `(C, B)`. The classifier gives the logits of $q(y \mid x)$.
#
# Two things to get right. The entropy term is part of the bound: without it, the loss would push
# $q(y \mid x)$ onto the single label with the smallest $-\mathcal L$, a hard and over-confident guess, and the
# bound would no longer be the ELBO of $q(y, z \mid x)$. And a confident classifier has probabilities that
# are exactly $0$ in float32, whose logarithm is $-\infty$ (and $0 \cdot (-\infty)$ is NaN): take
# $\log q(y \mid x)$ from the logits with `tf.nn.log_softmax`, not as the log of a softmax. While the tests call
# your function, `labelled_bound` and `enumerate_labels` are replaced by reference versions.


# %% solution unlabelled_bound
def unlabelled_bound(model, x, eps):
    """-U(x) for a batch of unlabelled images: sum_y q(y | x) * (-L(x, y)) - H(q(y | x)).

    model: as in labelled_bound; x: binary float32 (B, D); eps: standard normal noise (B, d), the same for
    every label of an image.
    Returns: float32 (B,), one value per image (nats).
    """
    ### BEGIN SOLUTION
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    C = model.num_classes
    x_all, y_all = enumerate_labels(x, C)
    per_label = labelled_bound(model, x_all, y_all, tf.tile(tf.cast(eps, tf.float32), [C, 1]))
    table = tf.transpose(tf.reshape(per_label, [C, -1]))  # (B, C): entry [b, c] is -L(x_b, c)
    log_q = tf.nn.log_softmax(model.classifier(x), axis=-1)
    return tf.reduce_sum(tf.exp(log_q) * (table + log_q), axis=-1)  # E_q[-L] - H(q) = E_q[-L + log q]
    ### END SOLUTION


# %% test unlabelled_bound:loop points=3
import types

import tensorflow as tf
import tensorflow_probability as tfp


def _toy(seed, D, C, d, sharp=1.0):
    """An M2 whose networks are fixed linear maps; _neg_L and _neg_U below compute its bounds with TFP."""
    r = np.random.default_rng(seed)
    W = {"classifier": r.normal(size=(D, C)) * sharp, "encoder": r.normal(size=(D + C, 2 * d)) * 0.4}
    W.update(decoder=r.normal(size=(d + C, D)), mean=r.normal(size=(C, d)) * 1.5, log_var=r.normal(size=(C, d)) * 0.7)

    def net(name, cols):
        def apply(h):
            checks.assert_true(h.shape[-1] == cols, f"the {name} takes {cols} columns; got {h.shape[-1]}.")
            return tf.matmul(tf.cast(h, tf.float32), W[name].astype(np.float32))

        return apply

    def prior(y_onehot):
        return net("mean", C)(y_onehot), net("log_var", C)(y_onehot)

    pi = r.dirichlet(np.full(C, 2.0))
    return types.SimpleNamespace(
        classifier=net("classifier", D),
        encoder=net("encoder", D + C),
        decoder=net("decoder", d + C),
        prior=prior,
        log_class_prior=tf.constant(np.log(pi), tf.float32),
        num_classes=C,
        latent_dim=d,
        reference=(W, pi),
    )


def _neg_L(model, x, y, eps):
    """-L(x, y) of a toy model in float64, from TFP distributions."""
    _tfd, (W, pi) = tfp.distributions, model.reference
    x, y, eps = np.asarray(x, float), np.asarray(y), np.asarray(eps, float)
    onehot, d = np.eye(len(pi))[y], eps.shape[1]
    h = np.concatenate([x, onehot], 1) @ W["encoder"]
    q = _tfd.MultivariateNormalDiag(h[:, :d], np.exp(0.5 * h[:, d:]))
    p = _tfd.MultivariateNormalDiag(W["mean"][y], np.exp(0.5 * W["log_var"][y]))
    logits = np.concatenate([h[:, :d] + np.exp(0.5 * h[:, d:]) * eps, onehot], 1) @ W["decoder"]
    recon = -_tfd.Independent(_tfd.Bernoulli(logits=logits), 1).log_prob(x).numpy()
    return recon + _tfd.kl_divergence(q, p).numpy() - np.log(pi)[y]


def _neg_U(model, x, eps):
    """-U(x) by an explicit loop over the labels, and the values of some mistakes."""
    W, _ = model.reference
    L = np.stack([_neg_L(model, x, np.full(len(x), c), eps) for c in range(model.num_classes)], axis=1)  # (B, C)
    q = tfp.distributions.Categorical(logits=np.asarray(x, float) @ W["classifier"])
    probs, entropy = q.probs_parameter().numpy(), q.entropy().numpy()
    mistakes = {
        "no_entropy": np.sum(probs * L, 1),
        "plus_entropy": np.sum(probs * L, 1) + entropy,
        "uniform": L.mean(1) - entropy,
        "hard": L[np.arange(len(x)), probs.argmax(1)],
    }
    return np.sum(probs * L, 1) - entropy, mistakes


# The references replace labelled_bound and enumerate_labels while unlabelled_bound runs.
def _ref_labelled_bound(model, x, y, eps):
    return tf.constant(_neg_L(model, x, y, eps), tf.float32)


def _ref_enumerate_labels(x, num_classes):
    rows = np.arange(num_classes * len(x))
    return tf.constant(np.asarray(x, np.float32)[rows % len(x)]), tf.constant(rows // len(x), tf.int32)


def _check(seed, B, D, C, d, what):
    model = _toy(seed, D, C, d)
    r = np.random.default_rng(seed + 1)
    x = (r.random((B, D)) < 0.5).astype(np.float32)
    eps = r.normal(size=(B, d)).astype(np.float32)
    expected, mistakes = _neg_U(model, x, eps)
    got = checks.as_array(unlabelled_bound(model, x, eps), "unlabelled_bound")
    checks.assert_true(got.shape == (B,), f"unlabelled_bound {what} should have shape ({B},); got {got.shape}.")
    checks.assert_close(
        got,
        expected,
        f"unlabelled_bound {what}, against an explicit loop over the labels",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (mistakes["no_entropy"], "the entropy term is missing: subtract H(q(y | x))."),
            (mistakes["plus_entropy"], "the entropy has the wrong sign: -U(x) = E_q[-L(x, y)] - H(q(y | x))."),
            (mistakes["uniform"], "the labels are weighted equally: weight -L(x, y) by q(y | x)."),
            (mistakes["hard"], "that is -L for the classifier's most likely label only: sum over all labels."),
        ],
    )


# Tolerances: a float32 answer against a float64 reference. The noise is given, so nothing is random: the
# solution's largest error over these cases was 1.4e-5 absolute, 1.5e-6 relative (rtol 1e-4, atol 1e-3 here).
_saved = labelled_bound, enumerate_labels
labelled_bound, enumerate_labels = _ref_labelled_bound, _ref_enumerate_labels
try:
    _check(0, 3, 6, 3, 2, "for a small linear model (B = 3, D = 6, C = 3, d = 2)")
    ### BEGIN HIDDEN TESTS
    _check(1, 8, 20, 10, 4, "for a linear model with B = 8, D = 20, C = 10, d = 4")
    _check(2, 1, 10, 4, 3, "for a linear model with B = 1, D = 10, C = 4, d = 3")
    ### END HIDDEN TESTS
finally:
    labelled_bound, enumerate_labels = _saved

# %% test unlabelled_bound:confident points=2
import types

import tensorflow as tf
import tensorflow_probability as tfp


def _toy(seed, D, C, d, sharp=1.0):
    """An M2 whose networks are fixed linear maps; _neg_L and _neg_U below compute its bounds with TFP."""
    r = np.random.default_rng(seed)
    W = {"classifier": r.normal(size=(D, C)) * sharp, "encoder": r.normal(size=(D + C, 2 * d)) * 0.4}
    W.update(decoder=r.normal(size=(d + C, D)), mean=r.normal(size=(C, d)) * 1.5, log_var=r.normal(size=(C, d)) * 0.7)

    def net(name, cols):
        def apply(h):
            checks.assert_true(h.shape[-1] == cols, f"the {name} takes {cols} columns; got {h.shape[-1]}.")
            return tf.matmul(tf.cast(h, tf.float32), W[name].astype(np.float32))

        return apply

    def prior(y_onehot):
        return net("mean", C)(y_onehot), net("log_var", C)(y_onehot)

    pi = r.dirichlet(np.full(C, 2.0))
    return types.SimpleNamespace(
        classifier=net("classifier", D),
        encoder=net("encoder", D + C),
        decoder=net("decoder", d + C),
        prior=prior,
        log_class_prior=tf.constant(np.log(pi), tf.float32),
        num_classes=C,
        latent_dim=d,
        reference=(W, pi),
    )


def _neg_L(model, x, y, eps):
    """-L(x, y) of a toy model in float64, from TFP distributions."""
    _tfd, (W, pi) = tfp.distributions, model.reference
    x, y, eps = np.asarray(x, float), np.asarray(y), np.asarray(eps, float)
    onehot, d = np.eye(len(pi))[y], eps.shape[1]
    h = np.concatenate([x, onehot], 1) @ W["encoder"]
    q = _tfd.MultivariateNormalDiag(h[:, :d], np.exp(0.5 * h[:, d:]))
    p = _tfd.MultivariateNormalDiag(W["mean"][y], np.exp(0.5 * W["log_var"][y]))
    logits = np.concatenate([h[:, :d] + np.exp(0.5 * h[:, d:]) * eps, onehot], 1) @ W["decoder"]
    recon = -_tfd.Independent(_tfd.Bernoulli(logits=logits), 1).log_prob(x).numpy()
    return recon + _tfd.kl_divergence(q, p).numpy() - np.log(pi)[y]


def _neg_U(model, x, eps):
    """-U(x) by an explicit loop over the labels, and the values of some mistakes."""
    W, _ = model.reference
    L = np.stack([_neg_L(model, x, np.full(len(x), c), eps) for c in range(model.num_classes)], axis=1)  # (B, C)
    q = tfp.distributions.Categorical(logits=np.asarray(x, float) @ W["classifier"])
    probs, entropy = q.probs_parameter().numpy(), q.entropy().numpy()
    mistakes = {
        "no_entropy": np.sum(probs * L, 1),
        "plus_entropy": np.sum(probs * L, 1) + entropy,
        "uniform": L.mean(1) - entropy,
        "hard": L[np.arange(len(x)), probs.argmax(1)],
    }
    return np.sum(probs * L, 1) - entropy, mistakes


# The references replace labelled_bound and enumerate_labels while unlabelled_bound runs.
def _ref_labelled_bound(model, x, y, eps):
    return tf.constant(_neg_L(model, x, y, eps), tf.float32)


def _ref_enumerate_labels(x, num_classes):
    rows = np.arange(num_classes * len(x))
    return tf.constant(np.asarray(x, np.float32)[rows % len(x)]), tf.constant(rows // len(x), tf.int32)


def _check(seed, B, D, C, d, what):
    # A classifier whose logits differ by hundreds: q(y | x) is one-hot in float32 and H(q) = 0, so -U(x) is
    # -L(x, y) of the predicted label.
    model = _toy(seed, D, C, d, sharp=300.0)
    r = np.random.default_rng(seed + 1)
    x = (r.random((B, D)) < 0.5).astype(np.float32)
    eps = r.normal(size=(B, d)).astype(np.float32)
    expected, _ = _neg_U(model, x, eps)
    got = checks.as_array(unlabelled_bound(model, x, eps), "unlabelled_bound")
    checks.assert_true(
        np.all(np.isfinite(got)),
        f"unlabelled_bound {what} is not finite ({got}): a probability of exactly 0 has log 0 = -inf, and "
        "0 * (-inf) is NaN. Take log q(y | x) from the logits with tf.nn.log_softmax.",
    )
    checks.assert_close(got, expected, f"unlabelled_bound {what}", rtol=1e-4, atol=1e-3)


# Tolerances: a float32 answer against a float64 reference. The noise is given, so nothing is random: the
# solution's largest error over these cases was 1.4e-5 absolute, 1.5e-6 relative (rtol 1e-4, atol 1e-3 here).
_saved = labelled_bound, enumerate_labels
labelled_bound, enumerate_labels = _ref_labelled_bound, _ref_enumerate_labels
try:
    _check(5, 4, 8, 3, 2, "for a very confident classifier (B = 4, D = 8, C = 3)")
    ### BEGIN HIDDEN TESTS
    _check(6, 6, 16, 10, 3, "for a very confident classifier (B = 6, D = 16, C = 10)")
    ### END HIDDEN TESTS
finally:
    labelled_bound, enumerate_labels = _saved

# %% [markdown]
# ## Exercise 5 — one loss for labelled and unlabelled images (3 points)
#
# Look at $-\mathcal L(x, y)$: the classifier $q(y \mid x)$ does not appear in it. Trained on the bounds alone,
# the classifier would learn only from the unlabelled images, and never from the labels we have. M2 therefore
# adds a classification term on the labelled images, weighted by $\alpha$:
#
# $$J = \frac1{B_\ell}\sum_{(x, y)\ \text{labelled}} \Big(-\mathcal L(x, y) - \alpha \log q(y \mid x)\Big)
# + \frac1{B_u}\sum_{x\ \text{unlabelled}} -\mathcal U(x).$$
#
# Return $J$, a scalar: the mean over each batch (the two batches may differ in size). While the tests call
# your function, `labelled_bound` and `unlabelled_bound` are replaced by reference versions.


# %% solution m2_loss
def m2_loss(model, x_labelled, y_labelled, x_unlabelled, eps_labelled, eps_unlabelled, alpha):
    """M2's loss on one labelled and one unlabelled batch.

    x_labelled (B_l, D) with integer labels y_labelled (B_l,) and noise eps_labelled (B_l, d); x_unlabelled
    (B_u, D) with noise eps_unlabelled (B_u, d); alpha: the weight of the classification term.
    Returns: a float32 scalar: mean(-L) + alpha * mean(-log q(y | x)) over the labelled batch, plus mean(-U)
    over the unlabelled batch.
    """
    ### BEGIN SOLUTION
    x_labelled = tf.cast(tf.convert_to_tensor(x_labelled), tf.float32)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(y_labelled, tf.int32), logits=model.classifier(x_labelled)
    )
    supervised = tf.reduce_mean(labelled_bound(model, x_labelled, y_labelled, eps_labelled) + alpha * cross_entropy)
    return supervised + tf.reduce_mean(unlabelled_bound(model, x_unlabelled, eps_unlabelled))
    ### END SOLUTION


# %% test m2_loss points=3
import types

import tensorflow as tf
import tensorflow_probability as tfp


def _toy(seed, D, C, d, sharp=1.0):
    """An M2 whose networks are fixed linear maps; _neg_L and _neg_U below compute its bounds with TFP."""
    r = np.random.default_rng(seed)
    W = {"classifier": r.normal(size=(D, C)) * sharp, "encoder": r.normal(size=(D + C, 2 * d)) * 0.4}
    W.update(decoder=r.normal(size=(d + C, D)), mean=r.normal(size=(C, d)) * 1.5, log_var=r.normal(size=(C, d)) * 0.7)

    def net(name, cols):
        def apply(h):
            checks.assert_true(h.shape[-1] == cols, f"the {name} takes {cols} columns; got {h.shape[-1]}.")
            return tf.matmul(tf.cast(h, tf.float32), W[name].astype(np.float32))

        return apply

    def prior(y_onehot):
        return net("mean", C)(y_onehot), net("log_var", C)(y_onehot)

    pi = r.dirichlet(np.full(C, 2.0))
    return types.SimpleNamespace(
        classifier=net("classifier", D),
        encoder=net("encoder", D + C),
        decoder=net("decoder", d + C),
        prior=prior,
        log_class_prior=tf.constant(np.log(pi), tf.float32),
        num_classes=C,
        latent_dim=d,
        reference=(W, pi),
    )


def _neg_L(model, x, y, eps):
    """-L(x, y) of a toy model in float64, from TFP distributions."""
    _tfd, (W, pi) = tfp.distributions, model.reference
    x, y, eps = np.asarray(x, float), np.asarray(y), np.asarray(eps, float)
    onehot, d = np.eye(len(pi))[y], eps.shape[1]
    h = np.concatenate([x, onehot], 1) @ W["encoder"]
    q = _tfd.MultivariateNormalDiag(h[:, :d], np.exp(0.5 * h[:, d:]))
    p = _tfd.MultivariateNormalDiag(W["mean"][y], np.exp(0.5 * W["log_var"][y]))
    logits = np.concatenate([h[:, :d] + np.exp(0.5 * h[:, d:]) * eps, onehot], 1) @ W["decoder"]
    recon = -_tfd.Independent(_tfd.Bernoulli(logits=logits), 1).log_prob(x).numpy()
    return recon + _tfd.kl_divergence(q, p).numpy() - np.log(pi)[y]


def _neg_U(model, x, eps):
    """-U(x) by an explicit loop over the labels, and the values of some mistakes."""
    W, _ = model.reference
    L = np.stack([_neg_L(model, x, np.full(len(x), c), eps) for c in range(model.num_classes)], axis=1)  # (B, C)
    q = tfp.distributions.Categorical(logits=np.asarray(x, float) @ W["classifier"])
    probs, entropy = q.probs_parameter().numpy(), q.entropy().numpy()
    mistakes = {
        "no_entropy": np.sum(probs * L, 1),
        "plus_entropy": np.sum(probs * L, 1) + entropy,
        "uniform": L.mean(1) - entropy,
        "hard": L[np.arange(len(x)), probs.argmax(1)],
    }
    return np.sum(probs * L, 1) - entropy, mistakes


# The references replace labelled_bound and enumerate_labels while unlabelled_bound runs.
def _ref_labelled_bound(model, x, y, eps):
    return tf.constant(_neg_L(model, x, y, eps), tf.float32)


def _ref_enumerate_labels(x, num_classes):
    rows = np.arange(num_classes * len(x))
    return tf.constant(np.asarray(x, np.float32)[rows % len(x)]), tf.constant(rows // len(x), tf.int32)


def _ref_unlabelled_bound(model, x, eps):
    return tf.constant(_neg_U(model, x, eps)[0], tf.float32)


def _check(seed, B_l, B_u, D, C, d, alpha, what):
    model = _toy(seed, D, C, d)
    r = np.random.default_rng(seed + 1)
    x_l, x_u = ((r.random((n, D)) < 0.5).astype(np.float32) for n in (B_l, B_u))
    y_l = r.integers(0, C, B_l)
    e_l, e_u = (r.normal(size=(n, d)).astype(np.float32) for n in (B_l, B_u))
    W, _ = model.reference
    log_q = tfp.distributions.Categorical(logits=x_l.astype(float) @ W["classifier"]).log_prob(y_l).numpy()
    L, U = _neg_L(model, x_l, y_l, e_l), _neg_U(model, x_u, e_u)[0]
    got = checks.as_array(m2_loss(model, x_l, y_l, x_u, e_l, e_u, alpha), "m2_loss")
    checks.assert_true(got.size == 1, f"m2_loss {what} should be a scalar; got shape {got.shape}.")
    checks.assert_close(
        got.reshape(()),
        L.mean() - alpha * log_q.mean() + U.mean(),
        f"m2_loss {what}",
        rtol=1e-4,
        atol=1e-3,
        hints=[
            (L.mean() + U.mean(), "the classification term is missing: add alpha * mean(-log q(y | x))."),
            (L.mean() + alpha * log_q.mean() + U.mean(), "the classification term has the wrong sign."),
            (L.mean() - log_q.mean() + U.mean(), "alpha is ignored: weight the classification term by alpha."),
            (
                alpha * (L.mean() - log_q.mean()) + U.mean(),
                "alpha multiplies the whole labelled part, not only -log q.",
            ),
            (L.sum() - alpha * log_q.sum() + U.sum(), "that is a sum over the batches: use the means."),
            (
                (L.sum() - alpha * log_q.sum() + U.sum()) / (B_l + B_u),
                "that is one mean over both batches: average each batch on its own.",
            ),
        ],
    )


# Tolerances: a float32 answer against a float64 reference. The noise is given, so nothing is random: the
# solution's largest error over these cases was 1.4e-5 absolute, 1.5e-6 relative (rtol 1e-4, atol 1e-3 here).
_saved = labelled_bound, unlabelled_bound
labelled_bound, unlabelled_bound = _ref_labelled_bound, _ref_unlabelled_bound
try:
    _check(0, 3, 5, 6, 3, 2, 0.5, "for a small linear model (3 labelled and 5 unlabelled images, alpha = 0.5)")
    ### BEGIN HIDDEN TESTS
    _check(1, 8, 2, 12, 10, 3, 20.0, "for a linear model (8 labelled and 2 unlabelled images, alpha = 20)")
    _check(2, 1, 1, 5, 4, 2, 0.0, "for a linear model with alpha = 0 (1 labelled and 1 unlabelled image)")
    ### END HIDDEN TESTS
finally:
    labelled_bound, unlabelled_bound = _saved

# %% [markdown]
# ## Train it
#
# Everything together: `M2` (the given parts, your `ConditionalPrior` and your `m2_loss`) on binarised MNIST,
# where only a few images of each digit keep their label (`per_class`: 50 in FAST mode, 10 in FULL mode). Each
# step takes one labelled and one unlabelled batch. For comparison, the same classifier network is trained on
# the labelled images alone, for the same number of steps. This is a short run (a few seconds in FAST mode):
# M2 needs far longer training to show its advantage (our FAST run measured 0.85 and 0.86), so read the
# two accuracies as a first look, not a verdict.


# %% locked train
class M2(M2Parts):
    """M2Parts with a training step: Adam on m2_loss, one labelled and one unlabelled batch per step."""

    def __init__(self, *args, alpha=1.0, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha = alpha
        self.noise = tf.random.Generator.from_seed(seed)
        self.trackers = [keras.metrics.Mean(name) for name in ("loss", "labelled_accuracy")]

    @property
    def metrics(self):
        return self.trackers

    def train_step(self, batch):
        x_u, (x_l, y_l) = batch
        e_l = self.noise.normal([tf.shape(x_l)[0], self.latent_dim])
        e_u = self.noise.normal([tf.shape(x_u)[0], self.latent_dim])
        with tf.GradientTape() as tape:
            loss = m2_loss(self, x_l, y_l, x_u, e_l, e_u, self.alpha)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        hits = tf.argmax(self.classifier(x_l), axis=-1, output_type=tf.int32) == tf.cast(y_l, tf.int32)
        for tracker, value in zip(self.trackers, (loss, tf.reduce_mean(tf.cast(hits, tf.float32)))):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}


mnist = data.load("mnist")
n_train = config.pick(fast=5000, full=60_000)  # FAST: the whole embedded subset
per_class = config.pick(fast=50, full=10)  # labelled images per digit (FULL: 100 labels, as in Kingma et al.)
epochs = config.pick(fast=8, full=30)  # passes over the unlabelled images
alpha = 20.0  # weight of the classification term
images = data.to_float(mnist["train_images"][:n_train])
labels = mnist["train_labels"][:n_train].astype("int32")
pick = np.random.default_rng(config.seed())
labelled = np.zeros(len(images), bool)
labelled[np.concatenate([pick.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)])] = True
labelled_batches = data.binarized_batches(images[labelled], 50, seed=config.seed(), labels=labels[labelled]).repeat()
unlabelled_batches = data.binarized_batches(images[~labelled], 100, seed=config.seed() + 1)
keras.utils.set_random_seed(config.seed())
m2 = M2(784, 10, 16, [128], prior=ConditionalPrior(10, 16, hidden=64), alpha=alpha, seed=config.seed())
m2.compile(optimizer=keras.optimizers.Adam(1e-3))
history = training.fit(m2, tf.data.Dataset.zip((unlabelled_batches, labelled_batches)), epochs=epochs)

# %% [markdown]
# The classifiers on the (binarised) test images: M2's $q(y \mid x)$, and the same network trained with the
# labels alone.

# %%
keras.utils.set_random_seed(config.seed())
alone = mlp([784, 128], 10, "labels_only")
alone.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
alone.fit(labelled_batches, steps_per_epoch=int(np.ceil((~labelled).sum() / 100)), epochs=epochs, verbose=0)
x_test = data.binarize(data.to_float(mnist["test_images"]), np.random.default_rng(config.seed() + 2))
y_test = mnist["test_labels"]
for name, net in [("M2's classifier q(y | x)", m2.classifier), ("the labelled images alone", alone)]:
    accuracy = np.mean(np.argmax(net.predict(x_test, verbose=0), axis=1) == y_test)
    print(f"{name}: test accuracy {accuracy:.3f} ({labelled.sum()} labels)")


def sample_images(model, labels, seed, temperature=1.0):
    """Bernoulli means (N, 784) for integer labels (N,): z from the model's p(z | y), scaled by a temperature."""
    onehot = tf.one_hot(labels, model.num_classes)
    mean, log_var = model.prior(onehot)
    eps = tf.random.stateless_normal([len(labels), model.latent_dim], seed=[seed, 0])
    z = mean + temperature * tf.exp(0.5 * log_var) * eps
    return tf.sigmoid(model.decoder(tf.concat([z, onehot], axis=-1))).numpy()


fig = plotting.image_grid(
    sample_images(m2, np.tile(np.arange(10), 4), seed=1), 4, 10, size=0.7, title="M2: one column per requested digit"
)
plt.show()

# %% [markdown]
# ## Predict, then run: where does the classifier learn? (1 point)
#
# Take a labelled batch and the mean of your `labelled_bound`, $\frac1B\sum -\mathcal L(x, y)$, alone (no
# classification term, no unlabelled images). What is its gradient with respect to the classifier's weights?
# (a) exactly zero; (b) it moves $q(y \mid x)$ towards the true labels; (c) it moves $q(y \mid x)$ away from them.
# **Answer before running the cell below it**: put the letter in `predicted_classifier_gradient`.

# %% solution predicted_classifier_gradient
# Your prediction, before running the cell below: set predicted_classifier_gradient to "a", "b" or "c".
### BEGIN SOLUTION
predicted_classifier_gradient = "a"
### END SOLUTION

# %% test predicted_classifier_gradient points=1
checks.assert_true(
    isinstance(predicted_classifier_gradient, str) and predicted_classifier_gradient.strip().lower() in ("a", "b", "c"),
    'predicted_classifier_gradient should be one of the letters "a", "b" or "c"; '
    f"got {predicted_classifier_gradient!r}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_classifier_gradient.strip().lower() == "a",
    "The answer is (a): exactly zero. -L(x, y) uses the encoder, the decoder, the prior and log p(y), but not "
    "q(y | x): when the label is observed there is nothing to infer about it, so the bound of a labelled image "
    "does not involve the classifier at all. Without the term alpha * (-log q(y | x)), the labels would teach "
    "the classifier nothing; it would learn only through the unlabelled bound. That is why M2 adds it.",
)
### END HIDDEN TESTS

# %%
_x, _y = next(iter(labelled_batches))
with tf.GradientTape() as _tape:
    _value = tf.reduce_mean(labelled_bound(m2, _x, _y, tf.zeros([len(_x), m2.latent_dim])))
_grads = _tape.gradient(_value, m2.classifier.trainable_variables)  # None: the value does not depend on it
print("gradient norm for each classifier weight:", [0.0 if g is None else round(float(tf.norm(g)), 6) for g in _grads])

# %% [markdown]
# ## Predict, then run: a classifier that knows nothing (1 point)
#
# Replace the trained classifier by one that returns the same logits for every image, so that
# $q(y \mid x) = 1/C$ for all labels. How does $-\mathcal U(x)$ then compare with the plain average of the $C$
# labelled bounds, $\frac1C\sum_y -\mathcal L(x, y)$ (same noise)? (a) they are equal; (b) $-\mathcal U(x)$ is
# smaller by $\log C$; (c) $-\mathcal U(x)$ is larger by $\log C$. **Answer before running the cell below it**: put
# the letter in `predicted_uniform_bound`.

# %% solution predicted_uniform_bound
# Your prediction, before running the cell below: set predicted_uniform_bound to "a", "b" or "c".
### BEGIN SOLUTION
predicted_uniform_bound = "b"
### END SOLUTION

# %% test predicted_uniform_bound points=1
checks.assert_true(
    isinstance(predicted_uniform_bound, str) and predicted_uniform_bound.strip().lower() in ("a", "b", "c"),
    f'predicted_uniform_bound should be one of the letters "a", "b" or "c"; got {predicted_uniform_bound!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_uniform_bound.strip().lower() == "b",
    "The answer is (b): smaller by log C. With q(y | x) = 1/C the first term of -U(x) is the plain average of "
    "-L(x, y), and the entropy of a uniform distribution over C labels is log C (its largest possible value), "
    "which is subtracted. Not knowing the label is not free in the bound: it costs at most log C nats, and the "
    "entropy term credits exactly what the classifier leaves open. Answer (a) forgets the entropy term.",
)
### END HIDDEN TESTS

# %%
_x = next(iter(unlabelled_batches))[:5]
_eps = tf.random.stateless_normal([5, m2.latent_dim], seed=[config.seed(), 7])
_know_nothing = types.SimpleNamespace(**{k: getattr(m2, k) for k in ("encoder", "decoder", "prior", "log_class_prior")})
_know_nothing.num_classes, _know_nothing.latent_dim = m2.num_classes, m2.latent_dim
_know_nothing.classifier = lambda x: tf.zeros([tf.shape(x)[0], 10])  # equal logits: q(y | x) = 1/10
_U = unlabelled_bound(_know_nothing, _x, _eps).numpy()
_average = np.mean([labelled_bound(m2, _x, tf.fill([5], _c), _eps).numpy() for _c in range(10)], axis=0)
print("-U(x)          ", np.round(_U, 3))
print("average of -L  ", np.round(_average, 3))
print(f"difference      {np.round(_U - _average, 4)}; log 10 = {np.log(10):.4f}")

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
_grid = []
for _tau in [0.0, 0.5, 1.0, 1.5]:
    _images = sample_images(m2, np.full(8, 3), seed=config.seed(), temperature=_tau)
    print(f"temperature {_tau}: {len(np.unique(np.round(_images, 4), axis=0))} different images among 8")
    _grid.append(_images)
fig = plotting.image_grid(
    np.concatenate(_grid), 4, 8, size=0.7, title="digit 3 at temperatures 0, 0.5, 1, 1.5 (one row each)"
)
plt.show()

# %% [markdown]
# ## Written question (3 points)
#
# Answer in a few sentences: (a) $\mathrm{KL}(q\,\|\,p)$ and $\mathrm{KL}(p\,\|\,q)$ differ. Using the KL of
# exercise 3 for one dimension with equal means, say which of the two is larger when $q$ is much *narrower* than
# $p$, and why the bound uses $\mathrm{KL}(q\,\|\,p)$ and not the other one. (b) When does a learned
# conditional prior $p(z \mid y)$ help compared with a fixed $\mathcal N(0, I)$, and when does it make little
# difference?

# %% written prior points=3
# ### BEGIN SOLUTION
# **Model answer.** (a) With equal means and $r = \sigma_q^2/\sigma_p^2$,
# $\mathrm{KL}(q\,\|\,p) = \tfrac12(r - 1 - \ln r)$ and $\mathrm{KL}(p\,\|\,q) = \tfrac12(1/r - 1 + \ln r)$.
# For a narrow $q$ ($r \to 0$) the first grows only like
# $\tfrac12\ln(1/r)$, the second like $1/(2r)$: the forward KL, $\mathrm{KL}(p\,\|\,q)$ (an average over $p$), punishes
# a $q$ that misses mass of $p$ far more than the reverse KL, $\mathrm{KL}(q\,\|\,p)$, does (unit 02's names, with
# $q$ the approximation). The bound uses $\mathrm{KL}(q\,\|\,p)$ because it comes from the ELBO,
# $\mathbb E_q[\log p(x \mid z, y)] - \mathrm{KL}(q\,\|\,p)$, an expectation under $q$ that we can estimate with
# samples of $q$ (and $\log p(x \mid y) = \mathrm{ELBO} + \mathrm{KL}(q\,\|\,p(z \mid x, y))$ holds only in this
# direction).
# (b) A learned prior helps when the classes use different regions of $z$: when the decoder relies on $z$
# for the class (early in training, a weak use of $y$), sampling $\mathcal N(0, I)$ gives codes of the wrong class,
# while $p(z \mid y)$ samples the class's own region; it also lowers the KL (better ELBO), since $\mathcal N(0, I)$
# is one of the priors it can learn (here, the one it starts from), and it is the only source of class
# information if the decoder does not see $y$. It makes little difference when the decoder uses $y$ fully and
# the encoder removes the class from $z$: then each class's aggregated posterior is already close to
# $\mathcal N(0, I)$.
#
# **Grading.** 1 point: which direction is larger for a narrow $q$ (with the formula or a correct argument).
# 1 point: why $\mathrm{KL}(q\,\|\,p)$ (it is the ELBO's term; an expectation under $q$). 1 point: when the learned
# prior helps (class-dependent latent regions / decoder not using $y$ / better KL) and when it does not.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - M2 models $p(x, y)$: a labelled image's bound is the CVAE's plus $\log p(y)$, with the KL between two
#   learned diagonal Gaussians, $q(z \mid x, y)$ and $p(z \mid y)$, in the direction $\mathrm{KL}(q\,\|\,p)$.
# - An unlabelled image's label is a discrete latent variable, marginalised exactly:
#   $-\mathcal U(x) = \sum_y q(y \mid x)(-\mathcal L(x, y)) - \mathcal H(q(y \mid x))$, computed for all labels at
#   once on a tiled batch, with $\log q$ from `log_softmax`.
# - The bound of a labelled image does not involve $q(y \mid x)$, so M2 adds $\alpha \cdot (-\log q(y \mid x))$
#   on the labelled images; labelled and unlabelled batches enter one loss as two means.
# - A learned prior whose output layer starts at zero begins as $\mathcal N(0, I)$ and moves each class only
#   as far as its images ask; its hidden ReLU makes it non-linear in soft labels.
#
# **Reference.** D. P. Kingma, D. J. Rezende, S. Mohamed and M. Welling (2014). Semi-supervised learning with
# deep generative models. *NeurIPS* 27.
