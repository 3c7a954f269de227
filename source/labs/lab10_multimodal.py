# %% [markdown]
# # Lab 10 — Multimodal VAEs, transferred: many modalities, some missing, and a coherence report
#
# The lecture fused *two* experts (an image and a label), always both present or dropped by hand, and estimated the
# mixture's ELBO with *one* sample per expert. Real multimodal data have more modalities, and each example is missing
# a different subset. This lab generalises every piece: a product of $M$ Gaussian experts with the prior and a
# **per-example mask** of observed modalities, the log-density of a mixture over the observed experts only, its
# stratified ELBO with $K$ samples per expert, and a coherence report with a standard error and one rate per class.
# Nothing is trained: the lab runs in seconds.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - fuse any subset of $M$ Gaussian experts with the prior by a product, one subset per example, stably in the
#   log-variance form networks output;
# - evaluate a mixture of the observed experts' Gaussians, with weights normalised over what was observed, without
#   underflow;
# - estimate a mixture-of-experts ELBO stratified over the observed experts, with $K$ samples each;
# - report a coherence rate with its standard error and per class.

# %% setup

# %% locked imports
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config

tfd = tfp.distributions

# %% [markdown]
# ## Shapes used throughout
#
# A batch of $B$ examples, $M$ modalities, a code of $d$ dimensions. The experts' Gaussians come stacked as
# `means` and `log_vars` of shape `(B, M, d)` (expert $m$ of example $b$ is
# $\mathcal N(\mu_{bm}, \operatorname{diag} e^{v_{bm}})$), and `mask` of shape `(B, M)` holds 1 where modality $m$ of
# example $b$ was observed and 0 where it is missing. A missing expert's entries can hold anything (an encoder was
# run on a blank input, say): they must not change the result.
#
# ## Exercise 1 — a product of the observed experts and the prior (3 points)
#
# Write `product_of_experts(means, log_vars, mask)`: for each example, the normalised product of the prior
# $\mathcal N(0, I)$ and the **observed** experts (lecture, section 2), returned as its mean and **log-variance**,
# each of shape `(B, d)`. An example with nothing observed gets the prior. It must stay finite for log-variances from
# $-100$ to $100$: $e^{100}$ overflows float32. *Hint:* $\log\sum_j e^{-v_j}$ is a log-sum-exp and the weights
# $T_j / \sum_i T_i$ are a softmax; a missing expert has precision 0, that is $-v = -\infty$.


# %% solution product_of_experts
def product_of_experts(means, log_vars, mask):
    """The product of N(0, I) and the observed Gaussian experts of each example.

    means, log_vars: float32 (B, M, d), expert m of example b; mask: (B, M), 1 = observed, 0 = missing.
    Returns: (mean, log_var), two float32 tensors of shape (B, d).
    """
    ### BEGIN SOLUTION
    means = tf.convert_to_tensor(means, tf.float32)
    log_vars = tf.convert_to_tensor(log_vars, tf.float32)
    observed = tf.cast(mask, tf.bool)[:, :, None]  # (B, M, 1)
    # Append the prior N(0, I) as expert M: always observed, mean 0, log-variance 0. A missing expert gets -v = -inf.
    neg_log_vars = tf.concat([tf.where(observed, -log_vars, -np.inf), tf.zeros_like(log_vars[:, :1])], axis=1)
    all_means = tf.concat([tf.where(observed, means, 0.0), tf.zeros_like(means[:, :1])], axis=1)
    weights = tf.nn.softmax(neg_log_vars, axis=1)  # precision shares
    return tf.reduce_sum(weights * all_means, axis=1), -tf.reduce_logsumexp(neg_log_vars, axis=1)
    ### END SOLUTION


# %% test product_of_experts points=3
import tensorflow as tf


def _poe(means, log_vars, mask, what):
    _result = product_of_experts(
        tf.constant(np.asarray(means, "float32")),
        tf.constant(np.asarray(log_vars, "float32")),
        tf.constant(np.asarray(mask, "float32")),
    )
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 2,
        f"product_of_experts should return (mean, log_var); got {type(_result).__name__}.",
    )
    return [checks.as_array(_t, f"product_of_experts {what}") for _t in _result]


def _reference_poe(means, log_vars, mask, prior=True, use_mask=True):
    """float64 reference; prior=False and use_mask=False give two known mistakes."""
    _prec = np.exp(-np.asarray(log_vars, np.float64)) * (np.asarray(mask, np.float64)[..., None] if use_mask else 1.0)
    _num = np.sum(_prec * np.asarray(means, np.float64), axis=1)
    _total = np.sum(_prec, axis=1) + (1.0 if prior else 0.0)
    return _num / _total, -np.log(_total)


# One example, two observed experts N(1, 1) and N(3, 1), and the prior N(0, 1): precisions 1 + 1 + 1 = 3.
_mean, _log_var = _poe([[[1.0], [3.0]]], [[[0.0], [0.0]]], [[1, 1]], "for N(1, 1), N(3, 1) and the prior")
checks.assert_close(
    _log_var,
    [[np.log(1 / 3)]],
    "the log-variance of the product of N(0, 1), N(1, 1) and N(3, 1)",
    rtol=1e-5,
    hints=[
        ([[np.log(1 / 2)]], "that is the product of the two experts alone: the prior N(0, I) is one more expert."),
        ([[0.0]], "the variances were multiplied (1 x 1): add the precisions 1 / sigma^2 and invert the sum."),
        ([[1 / 3]], "that is the variance itself: return the log-variance."),
    ],
)
checks.assert_close(
    _mean,
    [[4 / 3]],
    "the mean of the product of N(0, 1), N(1, 1) and N(3, 1)",
    rtol=1e-5,
    hints=[([[2.0]], "the prior's mean 0 (with its precision 1) is missing from the weighted average.")],
)
# The same experts with the second modality missing: the product of N(0, 1) and N(1, 1).
_mean, _log_var = _poe([[[1.0], [3.0]]], [[[0.0], [0.0]]], [[1, 0]], "with the second modality missing")
checks.assert_close(
    _mean,
    [[0.5]],
    "the mean when only the first modality is observed (mask [1, 0])",
    rtol=1e-5,
    hints=[([[4 / 3]], "the mask was ignored: a missing expert must drop out of both sums.")],
)
checks.assert_close(_log_var, [[np.log(0.5)]], "the log-variance with mask [1, 0]", rtol=1e-5)
### BEGIN HIDDEN TESTS
# Random experts and masks (B = 6, M = 3, d = 4) against the normalised product of the densities on a grid.
_r = np.random.default_rng(101)
_means = _r.normal(0, 2.0, size=(6, 3, 4))
_log_vars = _r.normal(0, 1.0, size=(6, 3, 4))
_mask = np.array([[1, 1, 1], [1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1]])
_mean, _log_var = _poe(_means, _log_vars, _mask, "for random experts and masks (B = 6, M = 3, d = 4)")
_grid = np.linspace(-15, 15, 30_001)
_log_product = -0.5 * _grid**2 + np.sum(
    _mask[:, :, None, None] * (-0.5 * (_grid - _means[..., None]) ** 2 / np.exp(_log_vars[..., None])), axis=1
)
_density = np.exp(_log_product - _log_product.max(axis=-1, keepdims=True))
_density /= np.trapezoid(_density, _grid)[..., None]
_grid_mean = np.trapezoid(_density * _grid, _grid)
_grid_var = np.trapezoid(_density * (_grid - _grid_mean[..., None]) ** 2, _grid)
_no_mask = _reference_poe(_means, _log_vars, _mask, use_mask=False)
with np.errstate(divide="ignore"):  # an example with nothing observed has no precision left without the prior
    _no_prior = -np.log(np.sum(_mask[..., None] * np.exp(-_log_vars), axis=1))
_var_multiplied = np.sum(_mask[..., None] * _log_vars, axis=1)
checks.assert_close(
    _log_var,
    np.log(_grid_var),
    "the log-variance for random experts and masks (against the normalised product of the densities, on a grid)",
    rtol=1e-3,
    atol=1e-4,
    hints=[
        (_no_mask[1], "the mask was ignored: only the observed experts (mask 1) multiply into the posterior."),
        (_var_multiplied, "the variances were multiplied: the product of Gaussians adds precisions 1 / sigma^2."),
        (_no_prior, "the prior expert N(0, I) was left out: add its precision 1 (and its mean 0) to the sums."),
    ],
)
checks.assert_close(
    _mean,
    _grid_mean,
    "the mean for random experts and masks (against the normalised product of the densities, on a grid)",
    rtol=1e-3,
    atol=1e-4,
    hints=[
        (_no_mask[0], "the mask was ignored in the mean: a missing expert must not pull the mean."),
        (
            np.sum(_mask[..., None] * np.exp(_log_vars) * _means, axis=1)
            / (np.sum(_mask[..., None] * np.exp(_log_vars), axis=1) + 1.0),
            "the means were weighted by the variances: the weight of an expert is its precision 1 / sigma^2.",
        ),
    ],
)
checks.assert_close(_mean[3], np.zeros(4), "the mean of an example with nothing observed (the prior's)", atol=1e-6)
checks.assert_close(_log_var[3], np.zeros(4), "the log-variance with nothing observed (the prior's)", atol=1e-6)
# A missing expert holding garbage (a huge mean, a tiny variance) must change nothing.
_garbage_means, _garbage_log_vars = _means.copy(), _log_vars.copy()
_garbage_means[:, 2], _garbage_log_vars[:, 2] = 1e6, -40.0
_masked = np.array([[1, 1, 0]] * 6)
_mean, _log_var = _poe(_garbage_means, _garbage_log_vars, _masked, "with garbage in a missing expert")
_expected_mean, _expected_log_var = _reference_poe(_means, _log_vars, _masked)
checks.assert_close(
    _mean,
    _expected_mean,
    "the mean when the missing expert holds a mean of 1e6 and a log-variance of -40",
    rtol=1e-4,
    atol=1e-4,
)
checks.assert_close(_log_var, _expected_log_var, "the log-variance with garbage in a missing expert", rtol=1e-4)
# Very confident (-100) and very vague (+100) experts: e^100 overflows float32.
_mean, _log_var = _poe(
    [[[0.7], [-2.0]], [[0.7], [-2.0]]], [[[-100.0], [0.0]], [[100.0], [0.0]]], [[1, 1], [1, 1]], "edge"
)
checks.assert_true(
    np.all(np.isfinite(_mean)) and np.all(np.isfinite(_log_var)),
    f"product_of_experts with log-variances -100 and +100 returned mean {_mean.ravel()} and log-variance "
    f"{_log_var.ravel()}: expected finite values. exp(100) overflows float32; use a log-sum-exp and a softmax.",
)
checks.assert_close(_mean[0], [0.7], "the mean when one expert has log-variance -100 (it dominates)", rtol=1e-5)
checks.assert_close(_log_var[0], [-100.0], "the log-variance with one expert at -100", rtol=1e-5)
checks.assert_close(_mean[1], [-1.0], "the mean when one expert has log-variance +100 (it drops out)", rtol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — the log-density of a mixture of the observed experts (3 points)
#
# The mixture-of-experts posterior of example $b$ averages its **observed** experts with equal weights:
#
# $$q_\text{MoE}(z \mid \text{observed}_b)
# = \frac{1}{|O_b|} \sum_{m \in O_b} \mathcal N(z; \mu_{bm}, \operatorname{diag} e^{v_{bm}}),
# \qquad O_b = \{m : \text{mask}_{bm} = 1\}.$$
#
# Write `moe_log_prob(z, means, log_vars, mask)` for codes `z` of shape `(S, B, d)` ($S$ codes per example) and
# return $\log q_\text{MoE}(z_{sb})$, shape `(S, B)`. Every example has at least one observed expert. It must stay
# finite for a code 50 standard deviations away from every expert, where each density underflows to 0.


# %% solution moe_log_prob
def moe_log_prob(z, means, log_vars, mask):
    """log of the equal-weight mixture of each example's observed diagonal Gaussian experts, at codes z.

    z: float32 (S, B, d); means, log_vars: float32 (B, M, d); mask: (B, M), 1 = observed, at least one per example.
    Returns: a float32 tensor of shape (S, B).
    """
    ### BEGIN SOLUTION
    z = tf.convert_to_tensor(z, tf.float32)[:, :, None, :]  # (S, B, 1, d) against the experts (B, M, d)
    log_vars = tf.convert_to_tensor(log_vars, tf.float32)
    squared = tf.square(z - tf.convert_to_tensor(means, tf.float32)) * tf.exp(-log_vars)
    log_normal = -0.5 * tf.reduce_sum(squared + log_vars + np.log(2 * np.pi), axis=-1)  # (S, B, M)
    mask = tf.cast(mask, tf.float32)
    log_weights = tf.math.log(mask / tf.reduce_sum(mask, axis=1, keepdims=True))  # log 0 = -inf drops an expert
    return tf.reduce_logsumexp(log_normal + log_weights, axis=-1)
    ### END SOLUTION


# %% test moe_log_prob points=3
import tensorflow as tf
import tensorflow_probability as tfp


def _moe(z, means, log_vars, mask, what):
    _result = moe_log_prob(
        tf.constant(np.asarray(z, "float32")),
        tf.constant(np.asarray(means, "float32")),
        tf.constant(np.asarray(log_vars, "float32")),
        tf.constant(np.asarray(mask, "float32")),
    )
    return checks.as_array(_result, f"moe_log_prob {what}")


def _reference_moe(z, means, log_vars, mask, weights="observed"):
    """float64 reference by TFP; weights='all' (1/M over every expert) and 'unnormalised' give known mistakes."""
    _mask = np.asarray(mask, np.float64)
    _w = {"observed": _mask / _mask.sum(1, keepdims=True), "all": np.ones_like(_mask) / _mask.shape[1]}.get(
        weights, _mask
    )
    with np.errstate(divide="ignore"):
        _logits = np.log(_w)
    _components = tfd.MultivariateNormalDiag(np.asarray(means, np.float64), np.exp(np.asarray(log_vars) / 2.0))
    _log_parts = _components.log_prob(np.asarray(z, np.float64)[:, :, None, :]).numpy()  # (S, B, M)
    return tf.reduce_logsumexp(_log_parts + _logits, axis=-1).numpy()


# One expert N(0, 1) in one dimension, observed: log q(0) = -log(2 pi) / 2.
_got = _moe([[[0.0]]], [[[0.0]]], [[[0.0]]], [[1]], "for one expert N(0, 1) at z = 0")
checks.assert_close(_got, [[-0.5 * np.log(2 * np.pi)]], "log N(0; 0, 1)", rtol=1e-5)
# Two experts N(-1, 1) and N(1, 1), both observed, at z = 0: both densities equal N(1; 0, 1), so the mixture's too.
_got = _moe([[[0.0]]], [[[-1.0], [1.0]]], [[[0.0], [0.0]]], [[1, 1]], "for N(-1, 1) and N(1, 1) at z = 0")
checks.assert_close(
    _got,
    [[-0.5 * np.log(2 * np.pi) - 0.5]],
    "the mixture of N(-1, 1) and N(1, 1) at z = 0",
    rtol=1e-5,
    hints=[([[-0.5 * np.log(2 * np.pi) - 0.5 + np.log(2)]], "the weights were not normalised: each is 1 / 2.")],
)
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(202)
_means = _r.normal(0, 2.0, size=(5, 3, 4))
_log_vars = _r.normal(-0.5, 0.8, size=(5, 3, 4))
_mask = np.array([[1, 1, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
_z = _r.normal(0, 2.0, size=(7, 5, 4))
_got = _moe(_z, _means, _log_vars, _mask, "for random experts and masks (S = 7, B = 5, M = 3, d = 4)")
checks.assert_close(
    _got,
    _reference_moe(_z, _means, _log_vars, _mask),
    "log q_MoE for random experts and masks (against TFP)",
    rtol=1e-4,
    atol=1e-4,
    hints=[
        (_reference_moe(_z, _means, _log_vars, np.ones_like(_mask)), "the mask was ignored: mix the observed only."),
        (
            _reference_moe(_z, _means, _log_vars, _mask, "all"),
            "the weights are 1 / M over all M experts: normalise over the observed ones, 1 / (number observed).",
        ),
        (
            _reference_moe(_z, _means, _log_vars, _mask, "unnormalised"),
            "the weights were not normalised: each observed expert has weight 1 / (number observed), not 1.",
        ),
        (
            _reference_moe(_z, _means, 2 * _log_vars, _mask),
            "exp(log_var / 2) is the standard deviation; the log-variance was used as a log standard deviation.",
        ),
    ],
)
# Far from every expert: each density underflows, the log-sum-exp does not.
_far = np.full((2, 5, 4), 60.0)
_got = _moe(_far, np.zeros((5, 3, 4)), np.zeros((5, 3, 4)), _mask, "for a code 60 standard deviations away")
checks.assert_true(
    np.all(np.isfinite(_got)),
    f"moe_log_prob 60 standard deviations from every expert returned {_got.ravel()[:4]}: expected finite values. "
    "exp(-1800 * 4) is 0 in float32; add the log-densities inside a log-sum-exp instead of taking the log of a sum.",
)
checks.assert_close(
    _got, _reference_moe(_far, np.zeros((5, 3, 4)), np.zeros((5, 3, 4)), _mask), "log q_MoE 60 SD away", rtol=1e-5
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the stratified MoE ELBO with $K$ samples per expert (4 points)
#
# The lecture's ELBO took one sample from each of two experts. With the observed set $O_b$ and $K$ samples per
# expert, the stratified estimate of example $b$ is
#
# $$\widehat{\mathrm{ELBO}}_b = \sum_{m \in O_b} \frac{1}{|O_b|}\; \frac1K \sum_{k=1}^K
# \Big[\log p(\text{observed}_b, z_{kbm}) - \log q_\text{MoE}(z_{kbm} \mid \text{observed}_b)\Big],
# \qquad z_{kbm} = \mu_{bm} + e^{v_{bm}/2} \odot \varepsilon_{kbm}.$$
#
# Write `moe_elbo(log_joint, means, log_vars, mask, eps)`. `log_joint` is a function: given codes of shape
# `(K, B, d)` it returns $\log p(\text{observed}_b, z)$ of shape `(K, B)`. `eps` is standard normal noise of shape
# `(K, B, M, d)`. Return the estimate, shape `(B,)`. Use your `moe_log_prob` for $\log q_\text{MoE}$ (the tests
# swap in a correct one while they run, so that a mistake in Exercise 2 is not charged twice). A missing expert
# contributes nothing, not even samples.


# %% solution moe_elbo
def moe_elbo(log_joint, means, log_vars, mask, eps):
    """The stratified K-sample ELBO of a mixture of each example's observed experts.

    log_joint: a function from codes (K, B, d) to log p(observed, z), (K, B); means, log_vars: float32 (B, M, d);
    mask: (B, M), 1 = observed, at least one per example; eps: float32 standard normal noise (K, B, M, d).
    Returns: a float32 tensor of shape (B,).
    """
    ### BEGIN SOLUTION
    means = tf.convert_to_tensor(means, tf.float32)
    log_vars = tf.convert_to_tensor(log_vars, tf.float32)
    mask = tf.cast(mask, tf.float32)
    codes = means + tf.exp(0.5 * log_vars) * tf.convert_to_tensor(eps, tf.float32)  # (K, B, M, d)
    per_expert = []
    for m in range(means.shape[1]):
        z = codes[:, :, m, :]  # K samples of expert m for every example
        per_expert.append(tf.reduce_mean(log_joint(z) - moe_log_prob(z, means, log_vars, mask), axis=0))
    per_expert = tf.where(mask > 0, tf.stack(per_expert, axis=1), 0.0)  # (B, M); a missing expert counts 0
    return tf.reduce_sum(per_expert, axis=1) / tf.reduce_sum(mask, axis=1)
    ### END SOLUTION


# %% test moe_elbo points=4
import tensorflow as tf
import tensorflow_probability as tfp


def _reference_log_q(z, means, log_vars, mask):
    """A correct moe_log_prob (float64 inside), swapped in while the answer runs."""
    _mask = np.asarray(mask, np.float64)
    with np.errstate(divide="ignore"):
        _logits = np.log(_mask / _mask.sum(1, keepdims=True))
    _components = tfd.MultivariateNormalDiag(
        np.asarray(means, np.float64), np.exp(np.asarray(log_vars, np.float64) / 2)
    )
    _parts = _components.log_prob(np.asarray(z, np.float64)[:, :, None, :]).numpy()
    return tf.constant(tf.reduce_logsumexp(_parts + _logits, axis=-1).numpy(), tf.float32)


def _elbo(log_joint, means, log_vars, mask, eps, what):
    _saved = globals().get("moe_log_prob")
    globals()["moe_log_prob"] = _reference_log_q
    try:
        _result = moe_elbo(
            log_joint,
            tf.constant(np.asarray(means, "float32")),
            tf.constant(np.asarray(log_vars, "float32")),
            tf.constant(np.asarray(mask, "float32")),
            tf.constant(np.asarray(eps, "float32")),
        )
    finally:
        globals()["moe_log_prob"] = _saved
    return checks.as_array(_result, f"moe_elbo {what}")


def _gaussian_log_joint(observation, noise_var):
    """log p(a, z) for z ~ N(0, I), a | z ~ N(z, noise_var I), at the observed a (B, d)."""

    def _log_joint(z):
        _z = tf.cast(z, tf.float64)
        _prior = tfd.MultivariateNormalDiag(tf.zeros_like(_z), tf.ones_like(_z)).log_prob(_z)
        _lik = tfd.MultivariateNormalDiag(_z, tf.fill(tf.shape(_z), np.sqrt(noise_var))).log_prob(observation)
        return tf.cast(_prior + _lik, tf.float32)

    return _log_joint


# Every expert is the exact posterior of a conjugate model: then log p(a, z) - log q(z) = log p(a) for every z, and
# the estimate is exactly the log evidence, whatever the noise.
_r = np.random.default_rng(3)
_a, _noise_var = _r.normal(0, 1.5, size=(4, 2)), 0.5
_post_mean, _post_var = _a / (1 + _noise_var), _noise_var / (1 + _noise_var)
_means = np.repeat(_post_mean[:, None], 2, axis=1)
_log_vars = np.full_like(_means, np.log(_post_var))
_eps = _r.normal(size=(3, 4, 2, 2))
_got = _elbo(_gaussian_log_joint(_a, _noise_var), _means, _log_vars, np.ones((4, 2)), _eps, "at the exact posterior")
_evidence = tfd.MultivariateNormalDiag(np.zeros(2), np.full(2, np.sqrt(1 + _noise_var))).log_prob(_a).numpy()
checks.assert_true(_got.shape == (4,), f"moe_elbo should return one value per example, shape (4,); got {_got.shape}.")
checks.assert_close(
    _got,
    _evidence,
    "the MoE ELBO when every expert is the exact posterior (it equals log p(a))",
    rtol=1e-4,
    atol=1e-4,
    hints=[(_evidence * 3, "the K samples were summed: average them.")],
)
### BEGIN HIDDEN TESTS


def _reference_elbo(log_joint, means, log_vars, mask, eps, kind="stratified"):
    """float64 reference; kind names known mistakes."""
    _mask = np.asarray(mask, np.float64)
    _sd = np.exp(np.asarray(log_vars) / (1.0 if kind == "variance as sd" else 2.0))
    _codes = np.asarray(means) + _sd * np.asarray(eps)
    _values = []
    for _m in range(means.shape[1]):
        _zm = _codes[:, :, _m, :]
        _lj = np.asarray(log_joint(tf.constant(_zm, tf.float32)), np.float64)
        if kind == "own expert":
            _lq = tfd.MultivariateNormalDiag(means[:, _m], np.exp(log_vars[:, _m] / 2)).log_prob(_zm).numpy()
        else:
            _lq = _reference_log_q(_zm, means, log_vars, np.ones_like(_mask) if kind == "no mask" else _mask).numpy()
        _values.append(np.mean(_lj - (0.0 if kind == "no entropy" else _lq), axis=0))
    _values = np.stack(_values, axis=1)
    if kind == "no mask":
        return _values.mean(axis=1)
    return np.sum(np.where(_mask > 0, _values, 0.0), axis=1) / _mask.sum(axis=1)


_r = np.random.default_rng(303)
_a = _r.normal(0, 1.5, size=(5, 3))
_means = _r.normal(0, 1.0, size=(5, 3, 3))
_log_vars = _r.normal(-1.0, 0.5, size=(5, 3, 3))
_mask = np.array([[1, 1, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
_eps = _r.normal(size=(6, 5, 3, 3))
_log_joint = _gaussian_log_joint(_a, 0.7)
_got = _elbo(_log_joint, _means, _log_vars, _mask, _eps, "for random experts and masks (K = 6, B = 5, M = 3)")
checks.assert_close(
    _got,
    _reference_elbo(_log_joint, _means, _log_vars, _mask, _eps),
    "the stratified MoE ELBO for random experts and masks (against a float64 reference)",
    rtol=1e-4,
    atol=1e-3,
    hints=[
        (
            _reference_elbo(_log_joint, _means, _log_vars, _mask, _eps, "own expert"),
            "log q was the sampling expert's own density: the ELBO of a mixture subtracts log q_MoE, the mixture's.",
        ),
        (
            _reference_elbo(_log_joint, _means, _log_vars, _mask, _eps, "no mask"),
            "the mask was ignored: a missing expert gives no samples and is not part of the mixture.",
        ),
        (
            _reference_elbo(_log_joint, _means, _log_vars, _mask, _eps, "variance as sd"),
            "the samples used exp(log_var) as the standard deviation: it is exp(log_var / 2).",
        ),
        (
            _reference_elbo(_log_joint, _means, _log_vars, _mask, _eps, "no entropy"),
            "only log p(observed, z) was averaged: the ELBO also subtracts log q_MoE(z).",
        ),
    ],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — a coherence report (2 points)
#
# A judge (a classifier) looked at $N$ generated images, each generated from a requested label; its logits are
# `judge_logits`, shape `(N, C)`, and the requested labels `labels`, integers of shape `(N,)`. Write
# `coherence(judge_logits, labels, num_classes)` returning a tuple `(rate, standard_error, per_class)`:
#
# - `rate`: the share of images whose judged class (the largest logit) is the requested label;
# - `standard_error`: of that share, as a binomial proportion, $\sqrt{\text{rate}(1 - \text{rate})/N}$;
# - `per_class`: shape `(num_classes,)`, for each class $c$ the rate among the images **requested** as $c$, and
#   `np.nan` for a class that was never requested.


# %% solution coherence
def coherence(judge_logits, labels, num_classes):
    """Coherence of generated images with their requested labels.

    judge_logits: (N, C) logits of a classifier; labels: (N,) integers; num_classes: C.
    Returns: (rate, standard_error, per_class): two floats and a NumPy array of shape (num_classes,).
    """
    ### BEGIN SOLUTION
    labels = np.asarray(labels)
    hits = np.argmax(np.asarray(judge_logits), axis=1) == labels
    rate = float(np.mean(hits))
    per_class = np.array([hits[labels == c].mean() if np.any(labels == c) else np.nan for c in range(num_classes)])
    return rate, float(np.sqrt(rate * (1.0 - rate) / len(hits))), per_class
    ### END SOLUTION


# %% test coherence points=2
def _coherence(logits, labels, num_classes, what):
    _result = coherence(np.asarray(logits, "float32"), np.asarray(labels), num_classes)
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"coherence should return (rate, standard_error, per_class); got {type(_result).__name__}.",
    )
    return (
        float(checks.as_array(_result[0], f"coherence's rate {what}")),
        float(checks.as_array(_result[1], f"coherence's standard error {what}")),
        checks.as_array(_result[2], f"coherence's per_class {what}"),
    )


# Four images requested as 0, 0, 1, 1 with three classes; the judge reads 0, 1, 1, 1: three of four right.
_logits = np.array([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 5.0, 1.0], [1.0, 2.0, 0.0]])
_rate, _se, _per_class = _coherence(_logits, [0, 0, 1, 1], 3, "for four images")
checks.assert_close(_rate, 0.75, "the coherence rate of four images, three read as requested")
checks.assert_close(
    _se,
    np.sqrt(0.75 * 0.25 / 4),
    "the standard error of a rate of 0.75 over 4 images",
    hints=[(np.sqrt(0.75 * 0.25), "that is the standard deviation of one image's hit: divide by N under the root.")],
)
checks.assert_close(
    _per_class,
    [0.5, 1.0, np.nan],
    "the per-class rates (class 2 was never requested: NaN)",
    hints=[([0.5, 1.0, 0.0], "a class never requested has no rate: use np.nan, not 0.")],
)
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(404)
_labels = np.concatenate([np.full(60, 0), np.full(25, 1), np.full(15, 3)])  # unbalanced, class 2 and 4 absent
_logits = _r.normal(size=(100, 5)) + 2.5 * np.eye(5)[_labels]
_judged = np.argmax(_logits, axis=1)
_hits = _judged == _labels
_rate, _se, _per_class = _coherence(_logits, _labels, 5, "for 100 images of unbalanced classes")
_expected_per_class = np.array([_hits[_labels == c].mean() if np.any(_labels == c) else np.nan for c in range(5)])
_by_judged = np.array([_hits[_judged == c].mean() if np.any(_judged == c) else np.nan for c in range(5)])
checks.assert_close(
    _rate,
    _hits.mean(),
    "the coherence rate for 100 images of unbalanced classes",
    hints=[(np.nanmean(_expected_per_class), "that is the average of the per-class rates: use the share of all.")],
)
checks.assert_close(_se, np.sqrt(_hits.mean() * (1 - _hits.mean()) / 100), "the standard error over 100 images")
checks.assert_close(
    _per_class,
    _expected_per_class,
    "the per-class rates for 100 images of unbalanced classes",
    hints=[
        (_by_judged, "those are grouped by the judged class: group by the requested label."),
        (
            np.array([(_hits & (_labels == c)).sum() / 100 for c in range(5)]),
            "each class's hits were divided by all N images: divide by the images requested as that class.",
        ),
    ],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: two experts that disagree (1 point)
#
# Two modalities' experts disagree about one unit of the code: $\mathcal N(-2, 1/4)$ and $\mathcal N(2, 1/4)$; the prior
# is $\mathcal N(0, 1)$. **Before you run the cell after the next one**, predict their product of experts:
#
# - (a) one narrow bump at 0, narrower than either expert;
# - (b) two bumps, near $-2$ and $+2$;
# - (c) one wide bump at 0 that covers both experts.
#
# Put the letter in `predicted_poe_conflict`.

# %% solution predicted_poe_conflict
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_poe_conflict = "a"
### END SOLUTION

# %% test predicted_poe_conflict points=1
checks.assert_true(
    isinstance(predicted_poe_conflict, str) and predicted_poe_conflict.strip().lower() in ("a", "b", "c"),
    f'predicted_poe_conflict should be one of the letters "a", "b" or "c"; got {predicted_poe_conflict!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_poe_conflict.strip().lower() == "a",
    "The right answer is (a). A product of Gaussians is one Gaussian, and its precision is the sum 4 + 4 + 1 = 9 "
    "whatever the means say: N(0, 1/9), narrower than either expert, in the place where neither puts its mass. "
    "Two bumps (b) is what a mixture gives; a wide bump (c) would need the variances to add, and precisions add.",
)
### END HIDDEN TESTS

# %%
_mean, _log_var = product_of_experts(
    tf.constant([[[-2.0], [2.0]]]), tf.constant(np.log([[[0.25], [0.25]]]), tf.float32), tf.constant([[1.0, 1.0]])
)
print(f"product: mean {float(_mean[0, 0]):.3f}, variance {float(tf.exp(_log_var[0, 0])):.4f}")

# %% [markdown]
# ## Predict, then run: what a mixture adds to the entropy (1 point)
#
# Two experts far apart, $\mathcal N(-10, 1)$ and $\mathcal N(10, 1)$, mixed with equal weights. **Before you run the
# cell after the next one**, predict the mixture's entropy minus one expert's,
# $\mathbb E_{q_\text{MoE}}[-\log q_\text{MoE}(z)] - \mathbb E_{q_1}[-\log q_1(z)]$, in nats, as a number, and put it
# in `predicted_entropy_gain`. (This is what the mixture's ELBO gains over an expert's for the same codes.)

# %% solution predicted_entropy_gain
# Your prediction, before running the cell below: a number (nats).
### BEGIN SOLUTION
predicted_entropy_gain = float(np.log(2))
### END SOLUTION

# %% test predicted_entropy_gain points=1
checks.assert_true(
    isinstance(predicted_entropy_gain, (int, float, np.floating)) and not isinstance(predicted_entropy_gain, bool),
    f"predicted_entropy_gain should be a number; got {predicted_entropy_gain!r}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    abs(float(predicted_entropy_gain) - np.log(2)) < 0.01,
    f"The gain is log 2 = 0.693 nats, not {predicted_entropy_gain}. Far apart, each code has (almost) only one "
    "expert's density, halved by its weight: log q_MoE(z) = log q_m(z) - log 2. So the mixture's entropy is one "
    "expert's plus log 2 (log M for M far-apart experts): choosing which expert is one fair coin flip of information.",
)
### END HIDDEN TESTS

# %%
_z = tf.constant(np.random.default_rng(config.seed()).normal(size=(20_000, 1, 1)) + 10.0, tf.float32)
_experts_means, _experts_log_vars = tf.constant([[[-10.0], [10.0]]]), tf.zeros((1, 2, 1))
_log_q_mix = moe_log_prob(_z, _experts_means, _experts_log_vars, tf.constant([[1.0, 1.0]]))
_log_q_one = moe_log_prob(_z, _experts_means[:, 1:], _experts_log_vars[:, 1:], tf.constant([[1.0]]))
print(f"entropy gain, by Monte Carlo from expert 2's codes: {float(tf.reduce_mean(_log_q_one - _log_q_mix)):.4f} nats")

# %% [markdown]
# ## Summary
#
# - A product of the prior and the observed experts adds precisions, one subset per example: a missing expert has
#   precision 0 ($-v = -\infty$ in a log-sum-exp), an example with nothing observed keeps the prior.
# - A mixture of the observed experts weighs each by $1/|O_b|$; its log-density is a log-sum-exp of the experts'
#   log-densities plus the log-weights, finite far from every expert.
# - The stratified MoE ELBO averages, over the observed experts, $K$ samples of each of
#   $\log p(\text{observed}, z) - \log q_\text{MoE}(z)$; at the exact posterior every term equals the log evidence.
# - Coherence is a binomial share, reported with its standard error and per requested class.
