# %% [markdown]
# # Lab 07 — Hierarchical VAEs, transferred: many experts, three layers, active units per layer
#
# The lecture merged *two* Gaussians given by their *variances*, and wrote the ELBO of a *two*-layer model. This lab
# generalises all three pieces: you merge any number of Gaussian experts given by their **log-variances**, stably;
# you write the negative ELBO of a **three-layer** top-down (ladder) VAE, returning one KL term per layer; and you
# measure the active units of each layer, where a layer's posterior mean is an average over the layers above it.
# Everything runs on a small model with fixed weights: no training, so the lab runs in seconds.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - merge $J$ Gaussian experts by precision weighting, in the log-variance parametrisation that networks output,
#   without overflow when one expert is very confident;
# - write the negative ELBO of a top-down VAE with any number of layers as a reconstruction term and one KL per
#   layer, each against the right prior;
# - compute per-layer active units when a layer's posterior depends on samples of the layers above it.

# %% setup

# %% locked imports
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config

tfd = tfp.distributions

# %% [markdown]
# ## Exercise 1 — the precision-weighted merge of $J$ experts (3 points)
#
# The normalised product of $J$ Gaussian densities $\mathcal N(\mu_j, \sigma_j^2)$ of one variable is a Gaussian: with
# precisions $T_j = 1/\sigma_j^2$,
#
# $$\sigma^2 = \Big(\sum_{j=1}^J T_j\Big)^{-1}, \qquad \mu = \sigma^2 \sum_{j=1}^J T_j\,\mu_j .$$
#
# (The lecture derived it for $J = 2$; the product of three is the product of the first two, times the third.)
# Networks output **log-variances** $v_j = \log\sigma_j^2$, so $T_j = e^{-v_j}$. Write `merge_experts(means, log_vars)`
# for experts stacked on the first axis, and return the merged mean and **log-variance**. It must stay finite when one
# expert is very confident: in float32, $e^{-v}$ overflows for $v < -88$. *Hint:* $\log \sum_j e^{-v_j}$ is a
# log-sum-exp, and the weights $T_j / \sum_i T_i$ are a softmax of $-v$.
#
# Shapes: `means` and `log_vars` are `(J, ...)` (for example `(J, B, d)`); return two tensors of shape `(...)`.


# %% solution merge_experts
def merge_experts(means, log_vars):
    """The normalised product of J diagonal Gaussian experts N(means[j], exp(log_vars[j])).

    means, log_vars: float32 tensors of shape (J, ...), the experts stacked on axis 0.
    Returns: (mean, log_var), two float32 tensors of shape (...): the merged mean and log-variance, finite for
    log-variances from -200 to 200.
    """
    ### BEGIN SOLUTION
    log_vars = tf.convert_to_tensor(log_vars, tf.float32)
    log_var = -tf.reduce_logsumexp(-log_vars, axis=0)  # 1 / sum of the precisions, in logs
    weights = tf.nn.softmax(-log_vars, axis=0)  # T_j / sum_i T_i
    return tf.reduce_sum(weights * tf.convert_to_tensor(means, tf.float32), axis=0), log_var
    ### END SOLUTION


# %% test merge_experts points=3
import tensorflow as tf


def _merge(means, log_vars, what):
    _result = merge_experts(tf.constant(np.asarray(means, "float32")), tf.constant(np.asarray(log_vars, "float32")))
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 2,
        f"merge_experts should return (mean, log_var); got {type(_result).__name__}.",
    )
    return [checks.as_array(_t, f"merge_experts {what}") for _t in _result]


# Two experts N(1, 1) and N(3, 1): precisions 1 + 1 = 2, so N(2, 1/2).
_mean, _log_var = _merge([[1.0], [3.0]], [[0.0], [0.0]], "for N(1, 1) and N(3, 1)")
checks.assert_close(_mean, [2.0], "the merged mean of N(1, 1) and N(3, 1)", rtol=1e-5)
checks.assert_close(
    _log_var,
    [np.log(0.5)],
    "the merged log-variance of N(1, 1) and N(3, 1)",
    rtol=1e-5,
    hints=[
        ([np.log(2.0)], "that is the log of the sum of the variances: add the precisions 1/sigma^2 instead."),
        ([0.0], "that is the average of the variances: the merged variance is 1 / (sum of the precisions)."),
        ([0.5], "that is the variance itself: return the log-variance."),
    ],
)
# Three experts with variances (1, 4, 4): precisions 1 + 1/4 + 1/4 = 1.5.
_mean, _log_var = _merge([[0.0], [3.0], [-1.0]], np.log([[1.0], [4.0], [4.0]]), "for three experts")
checks.assert_close(
    _log_var,
    [np.log(1 / 1.5)],
    "the merged log-variance of variances (1, 4, 4)",
    rtol=1e-5,
    hints=[([np.log(1 / 1.25)], "only the first two experts were merged: sum over all J on axis 0.")],
)
checks.assert_close(_mean, [(0.0 + 3.0 / 4 - 1.0 / 4) / 1.5], "the merged mean of the three experts", rtol=1e-5)
### BEGIN HIDDEN TESTS
# Random experts (J = 4, B = 3, d = 5) against the moments of the normalised product of the densities on a grid.
_r = np.random.default_rng(71)
_means = _r.normal(0, 1.5, size=(4, 3, 5))
_log_vars = _r.normal(0, 1.0, size=(4, 3, 5))
_mean, _log_var = _merge(_means, _log_vars, "for random experts (J = 4, B = 3, d = 5)")
_grid = np.linspace(-12, 12, 24_001)
_log_product = np.sum(
    -0.5 * (_grid - _means[..., None]) ** 2 / np.exp(_log_vars[..., None]) - 0.5 * _log_vars[..., None], axis=0
)
_density = np.exp(_log_product - _log_product.max(axis=-1, keepdims=True))
_density /= np.trapezoid(_density, _grid)[..., None]
_grid_mean = np.trapezoid(_density * _grid, _grid)
_grid_var = np.trapezoid(_density * (_grid - _grid_mean[..., None]) ** 2, _grid)
checks.assert_close(
    _log_var,
    np.log(_grid_var),
    "the merged log-variance of random experts (the normalised product of their densities, on a grid)",
    rtol=1e-3,
    atol=1e-4,
    hints=[
        (np.log(np.sum(np.exp(_log_vars), axis=0)), "the variances were added: add the precisions instead."),
        (-np.log(np.sum(np.exp(_log_vars), axis=0)), "the variances were used as precisions: T = 1 / sigma^2."),
    ],
)
_variance_weighted = np.sum(np.exp(_log_vars) * _means, axis=0) / np.sum(np.exp(_log_vars), axis=0)
checks.assert_close(
    _mean,
    _grid_mean,
    "the merged mean of random experts (the normalised product of their densities, on a grid)",
    rtol=1e-3,
    atol=1e-4,
    hints=[
        (
            _variance_weighted,
            "the means were weighted by the variances: the more confident expert has the larger "
            "precision 1 / sigma^2, and that is its weight.",
        ),
        (np.mean(_means, axis=0), "a plain average of the means: weight each by its precision."),
    ],
)
# A very confident expert (log-variance -120: its precision overflows float32) and a very vague one (+150).
_mean, _log_var = _merge([[0.7, 0.7], [-2.0, -2.0], [5.0, 5.0]], [[-120.0, 0.0], [0.0, 150.0], [3.0, 3.0]], "edge")
checks.assert_true(
    np.all(np.isfinite(_mean)) and np.all(np.isfinite(_log_var)),
    f"merge_experts with log-variances -120 and +150 returned mean {_mean} and log-variance {_log_var}: expected "
    "finite values. exp(120) overflows float32; use a log-sum-exp for the log-variance and a softmax for the weights.",
)
checks.assert_close(_mean[0], 0.7, "the merged mean when one expert has log-variance -120 (it dominates)", rtol=1e-5)
checks.assert_close(_log_var[0], -120.0, "the merged log-variance with one expert at log-variance -120", rtol=1e-5)
_vague = np.log(1 / (1 + np.exp(-3.0)))
checks.assert_close(_log_var[1], _vague, "the merged log-variance with an expert at +150 (it drops out)", rtol=1e-4)
_expected = (0.7 + 5.0 * np.exp(-3.0)) / (1 + np.exp(-3.0))
checks.assert_close(_mean[1], _expected, "the merged mean with an expert at +150 (it drops out)", rtol=1e-4)
# One expert: the merge is the identity.
_mean, _log_var = _merge([[[0.5, -1.0]]], [[[0.3, -2.0]]], "for J = 1")
checks.assert_close(_mean, [[0.5, -1.0]], "merge_experts of one expert (its mean)", rtol=1e-5)
checks.assert_close(_log_var, [[0.3, -2.0]], "merge_experts of one expert (its log-variance)", rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## The model: a three-layer top-down VAE
#
# The generative model has three stochastic layers, $p(z_3)\,p(z_2 \mid z_3)\,p(z_1 \mid z_2)\,p(x \mid z_1)$ with
# $p(z_3) = \mathcal N(0, I)$, Gaussian conditionals and a Bernoulli decoder. Its top-down inference model (the ladder
# VAE of the lecture, one layer deeper) is
#
# $$q(z_3 \mid x) = \mathcal N(\hat\mu_3, \hat\sigma_3^2), \qquad
# q(z_l \mid z_{l+1}, x) \propto \mathcal N(z_l; \hat\mu_l, \hat\sigma_l^2)\; p(z_l \mid z_{l+1}) \quad (l = 2, 1),$$
#
# sampled from the top: $z_3$, then $z_2$, then $z_1$. The data's Gaussians $\mathcal N(\hat\mu_l, \hat\sigma_l^2)$
# come from
# one deterministic bottom-up pass over $x$.
#
# The cell below gives you `LadderVAE3`, small and with fixed random weights (it is not trained in this lab). Its
# methods return float32 tensors:
# - `model.bottom_up(x)`: a list of three `(mean, log_var)` pairs, the data's Gaussians of layers 1, 2 and 3 (each of
#   shape `(B, d_l)`); the third *is* $q(z_3 \mid x)$;
# - `model.prior(layer, z_above)`: `(mean, log_var)` of $p(z_l \mid z_{l+1})$ for `layer` 1 or 2, given $z_{l+1}$ of
#   shape `(N, d_{l+1})`;
# - `model.decode(z1)`: the Bernoulli logits of $p(x \mid z_1)$, shape `(N, D)`;
# - `model.dims`: $(d_1, d_2, d_3)$, and `model.data_dim`: $D$.


# %% locked model
class LadderVAE3:
    """A three-layer top-down (ladder) VAE with small fixed random networks (tanh hidden layers)."""

    def __init__(self, data_dim=20, dims=(6, 4, 3), hidden=16, seed=0, uninformative=()):
        rng = np.random.default_rng(seed)
        self.data_dim, self.dims, self.uninformative = data_dim, tuple(dims), tuple(uninformative)

        def dense(n_in, n_out, gain=1.0):
            weights = rng.normal(0.0, gain / np.sqrt(n_in), size=(n_in, n_out))
            return tf.constant(weights, tf.float32), tf.constant(rng.normal(0.0, 0.3, size=n_out), tf.float32)

        self.up = [dense(data_dim, hidden, 2.0), dense(hidden, hidden, 2.0), dense(hidden, hidden, 2.0)]
        self.up_heads = [dense(hidden, 2 * d) for d in self.dims]
        self.down = {
            layer: (dense(self.dims[layer], hidden, 2.0), dense(hidden, 2 * self.dims[layer - 1])) for layer in (1, 2)
        }
        self.dec = (dense(self.dims[0], hidden, 2.0), dense(hidden, data_dim, 3.0))

    @staticmethod
    def _affine(h, layer):
        weights, bias = layer
        return tf.matmul(h, weights) + bias

    def bottom_up(self, x):
        """[(mean, log_var) of the data's Gaussian of layer l, for l = 1, 2, 3], each (B, d_l)."""
        h, pairs = tf.convert_to_tensor(x, tf.float32), []
        for layer, (up, head) in enumerate(zip(self.up, self.up_heads), start=1):
            h = tf.tanh(self._affine(h, up))
            mean, log_var = tf.split(self._affine(h, head), 2, axis=-1)
            if layer in self.uninformative:  # a very wide Gaussian: this layer's data term says (almost) nothing
                log_var = log_var + 30.0
            pairs.append((mean, log_var))
        return pairs

    def prior(self, layer, z_above):
        """(mean, log_var) of p(z_layer | z_{layer+1}), each (N, d_layer), for layer 1 or 2."""
        hidden, out = self.down[layer]
        h = tf.tanh(self._affine(tf.convert_to_tensor(z_above, tf.float32), hidden))
        mean, log_var = tf.split(self._affine(h, out), 2, axis=-1)
        return mean, log_var

    def decode(self, z1):
        """Bernoulli logits of p(x | z1), shape (N, D)."""
        hidden, out = self.dec
        return self._affine(tf.tanh(self._affine(tf.convert_to_tensor(z1, tf.float32), hidden)), out)


# %% [markdown]
# ## Exercise 2 — the negative ELBO of three layers, with its terms (5 points)
#
# Write `ladder_negative_elbo(model, x, eps)`. With one reparameterised sample per example, drawn **from the top
# down** with the given standard normal noise `eps = [eps1, eps2, eps3]` (shapes `(B, d_l)`;
# $z_l = \mu_l + \sigma_l \varepsilon_l$
# with $(\mu_l, \sigma_l^2)$ the parameters of $q$ of layer $l$), return
#
# - `recon` $= -\log p(x \mid z_1)$, summed over the $D$ pixels, shape `(B,)`;
# - `kl`, shape `(B, 3)`, one column per layer, **bottom first**: column $l$ is the closed-form KL of layer $l$'s
#   posterior to *its* prior: $\mathrm{KL}(q(z_l \mid z_{l+1}, x)\,\|\,p(z_l \mid z_{l+1}))$
#   at the sampled $z_{l+1}$ for
#   $l = 1, 2$, and $\mathrm{KL}(q(z_3 \mid x)\,\|\,\mathcal N(0, I))$ for the top;
# - `neg_elbo = recon + kl.sum(axis=1)`.
#
# The KL between two diagonal Gaussians is in unit 06 (and unit 02):
# $\mathrm{KL}(\mathcal N(\mu_q, \sigma_q^2)\,\|\,\mathcal N(\mu_p, \sigma_p^2))
# = \frac12 \sum_j \big[\log\frac{\sigma_{p,j}^2}{\sigma_{q,j}^2}
# + \frac{\sigma_{q,j}^2 + (\mu_{q,j} - \mu_{p,j})^2}{\sigma_{p,j}^2} - 1\big]$.
# You may call your `merge_experts`; this exercise's tests swap in a correct merge while they run, so that a mistake
# in Exercise 1 is not charged twice. TFP is allowed (`tfd.MultivariateNormalDiag` takes standard deviations).


# %% solution ladder_negative_elbo
def ladder_negative_elbo(model, x, eps):
    """One-sample negative ELBO per example of a three-layer top-down VAE, with its terms.

    model: a LadderVAE3; x: (B, D) float32 binary; eps: [eps1, eps2, eps3], standard normal noise of shapes (B, d_l).
    Returns: (neg_elbo, recon, kl): float32 tensors of shapes (B,), (B,) and (B, 3); kl[:, l - 1] is layer l's KL,
    bottom first; neg_elbo = recon + the sum of the three KLs.
    """

    ### BEGIN SOLUTION
    def kl_diag(mean_q, log_var_q, mean_p, log_var_p):
        ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) * tf.exp(-log_var_p)
        return 0.5 * tf.reduce_sum(log_var_p - log_var_q + ratio - 1.0, axis=-1)

    data_terms = model.bottom_up(x)
    mean, log_var = data_terms[2]  # q(z3 | x)
    z = mean + tf.exp(0.5 * log_var) * eps[2]
    kls = [kl_diag(mean, log_var, tf.zeros_like(mean), tf.zeros_like(log_var))]
    for layer in (2, 1):  # top-down: z2 given z3, then z1 given z2
        prior_mean, prior_log_var = model.prior(layer, z)
        up_mean, up_log_var = data_terms[layer - 1]
        mean, log_var = merge_experts(tf.stack([up_mean, prior_mean]), tf.stack([up_log_var, prior_log_var]))
        z = mean + tf.exp(0.5 * log_var) * eps[layer - 1]
        kls.insert(0, kl_diag(mean, log_var, prior_mean, prior_log_var))
    logits = model.decode(z)
    recon = tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)  # -log Bernoulli(x; sigmoid(logits))
    kl = tf.stack(kls, axis=1)
    return recon + tf.reduce_sum(kl, axis=1), recon, kl
    ### END SOLUTION


# %% test ladder_negative_elbo points=5
import tensorflow as tf


def _reference_merge(means, log_vars):
    """The formula of Exercise 1 as given (float64, not protected against overflow): enough for these tests."""
    _precision = np.exp(-np.asarray(log_vars, np.float64))
    _mean = np.sum(_precision * np.asarray(means, np.float64), axis=0) / np.sum(_precision, axis=0)
    return tf.constant(_mean, tf.float32), tf.constant(-np.log(np.sum(_precision, axis=0)), tf.float32)


def _terms(model, x, eps, what):
    """The answer's three terms, with a correct merge_experts swapped in while it runs."""
    _saved = globals().get("merge_experts")
    globals()["merge_experts"] = _reference_merge
    try:
        _result = ladder_negative_elbo(model, tf.constant(x, tf.float32), [tf.constant(e, tf.float32) for e in eps])
    finally:
        globals()["merge_experts"] = _saved
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"ladder_negative_elbo should return (neg_elbo, recon, kl); got {type(_result).__name__}.",
    )
    return [checks.as_array(_t, f"ladder_negative_elbo {what}") for _t in _result]


def _kl(mq, vq, mp, vp):
    return 0.5 * np.sum(vp - vq + (np.exp(vq) + (mq - mp) ** 2) / np.exp(vp) - 1.0, axis=-1)


_model = LadderVAE3(seed=0)
_r = np.random.default_rng(7)
_x = (_r.random((5, _model.data_dim)) < 0.4).astype("float32")
_eps = [_r.normal(size=(5, d)).astype("float32") for d in _model.dims]
_neg, _recon, _kl_got = _terms(_model, _x, _eps, "on 5 examples")
checks.assert_true(
    _neg.shape == (5,) and _recon.shape == (5,) and _kl_got.shape == (5, 3),
    f"expected shapes (5,), (5,) and (5, 3) for neg_elbo, recon and kl; got {_neg.shape}, {_recon.shape}, "
    f"{_kl_got.shape}. kl has one column per layer, bottom first; nothing is summed over the batch.",
)
checks.assert_close(_neg, _recon + _kl_got.sum(1), "neg_elbo against recon + the sum of the three KLs", rtol=1e-5)
# The top layer's KL needs only q(z3 | x) = N(mean, exp(log_var)) and N(0, I).
_m3, _v3 = (np.asarray(t, np.float64) for t in _model.bottom_up(_x)[2])
checks.assert_close(
    _kl_got[:, 2],
    _kl(_m3, _v3, 0.0, 0.0),
    "kl[:, 2], the top layer's KL(q(z3 | x) || N(0, I))",
    rtol=1e-4,
    hints=[(_kl_got[:, 0], "that is column 0, layer 1's KL: the columns go bottom first, so the top layer is last.")],
)
checks.assert_true(np.all(_kl_got >= -1e-5), f"every KL is >= 0; got {np.round(_kl_got, 4)}.")


### BEGIN HIDDEN TESTS
def _reference(model, x, eps, prior="conditional", merge="precision", sample="posterior"):
    """float64 terms; the keywords give the values of known mistakes (for the hints)."""
    _up = [[np.asarray(t, np.float64) for t in pair] for pair in model.bottom_up(tf.constant(x, tf.float32))]
    _m, _v = _up[2]
    _z = _m + np.exp(_v / 2) * eps[2]
    _kls = {3: _kl(_m, _v, 0.0, 0.0)}
    for _layer in (2, 1):
        _pm, _pv = (np.asarray(t, np.float64) for t in model.prior(_layer, tf.constant(_z, tf.float32)))
        _um, _uv = _up[_layer - 1]
        if merge == "precision":
            _v = -np.logaddexp(-_uv, -_pv)
            _m = np.exp(_v) * (_um * np.exp(-_uv) + _pm * np.exp(-_pv))
        elif merge == "variance":  # the variances used as weights
            _v = np.log(np.exp(_uv) + np.exp(_pv))
            _m = (_um * np.exp(_uv) + _pm * np.exp(_pv)) / (np.exp(_uv) + np.exp(_pv))
        else:  # no merge: the data's Gaussian alone
            _m, _v = _um, _uv
        _z = (_pm + np.exp(_pv / 2) * eps[_layer - 1]) if sample == "prior" else (_m + np.exp(_v / 2) * eps[_layer - 1])
        _kls[_layer] = _kl(_m, _v, 0.0, 0.0) if prior == "standard" else _kl(_m, _v, _pm, _pv)
    _logits = np.asarray(model.decode(tf.constant(_z, tf.float32)), np.float64)
    _recon = np.sum(np.logaddexp(0, _logits) - x * _logits, axis=-1)
    _kl_all = np.stack([_kls[1], _kls[2], _kls[3]], axis=1)
    return _recon + _kl_all.sum(1), _recon, _kl_all


for _seed, _what in [(0, "on 5 examples"), (3, "for another model (seed 3)")]:
    _model = LadderVAE3(seed=_seed)
    _neg, _recon, _kl_got = _terms(_model, _x, _eps, _what)
    _e_neg, _e_recon, _e_kl = _reference(_model, _x, _eps)
    _std = _reference(_model, _x, _eps, prior="standard")
    _var = _reference(_model, _x, _eps, merge="variance")
    _none = _reference(_model, _x, _eps, merge="none")
    _from_prior = _reference(_model, _x, _eps, sample="prior")
    checks.assert_close(
        _kl_got,
        _e_kl,
        f"the three KLs (columns: layers 1, 2, 3) {_what}",
        rtol=1e-4,
        atol=1e-4,
        hints=[
            (
                _std[2],
                "layers 1 and 2 were compared with N(0, I), the top layer's prior: their prior is p(z_l | z_{l+1}).",
            ),
            (_e_kl[:, ::-1], "the columns are top first: put layer 1 (the bottom) in column 0."),
            (_var[2], "the merge weighted the experts by their variances: the weights are the precisions 1 / sigma^2."),
            (_none[2], "no merge: q of layers 1 and 2 is the product of the data's Gaussian and p(z_l | z_{l+1})."),
            (
                _from_prior[2],
                "z1 and z2 were sampled from the priors p(z_l | z_{l+1}), not from the merged posteriors.",
            ),
        ],
    )
    checks.assert_close(
        _recon,
        _e_recon,
        f"recon = -log p(x | z1) {_what}",
        rtol=1e-4,
        hints=[
            (-_e_recon, "recon is minus the log-likelihood: check the sign."),
            (_e_recon / _model.data_dim, "that is a mean over pixels: sum over the D pixels."),
            (_from_prior[1], "z1 was sampled from p(z1 | z2), not from the merged posterior q(z1 | z2, x)."),
        ],
    )
    checks.assert_close(_neg, _e_neg, f"neg_elbo {_what}", rtol=1e-4)
# Uninformative data terms in layers 1 and 2: q of those layers is their prior, so their KLs vanish.
_model = LadderVAE3(seed=0, uninformative=(1, 2))
_neg, _recon, _kl_got = _terms(_model, _x, _eps, "with uninformative data terms in layers 1 and 2")
checks.assert_close(_kl_got[:, :2], np.zeros((5, 2)), "the KLs of layers 1 and 2 when q equals the prior", atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — active units, layer by layer (3 points)
#
# A unit $j$ of layer $l$ is *active* when its posterior mean moves with the data,
# $A_{l,j} = \operatorname{Cov}_x\big(\mathbb E_q[z_{l,j} \mid x]\big) > 0.01$ (Burda et al., 2016).
# In the top-down model
# only the top layer's mean is a network output; lower layers' posteriors depend on the samples above them, so
#
# $$\mathbb E_q[z_2 \mid x] = \mathbb E_{q(z_3 \mid x)}\big[\mu_2(z_3, x)\big], \qquad
# \mathbb E_q[z_1 \mid x] = \mathbb E_{q(z_3 \mid x)\,q(z_2 \mid z_3, x)}\big[\mu_1(z_2, x)\big],$$
#
# where $\mu_l$ is the mean of the merged $q(z_l \mid z_{l+1}, x)$. Estimate each expectation by averaging over $S$
# samples drawn from the top down with the given noise `eps = [eps2, eps3]`, of shapes `(S, B, d_2)` and `(S, B, d_3)`
# (sample $s$ uses `eps3[s]` for $z_3$, then `eps2[s]` for $z_2$), then return, for each layer, the variance across the
# $B$ images of its estimated posterior means (NumPy's `var`, dividing by $B$). The networks take rank-2 input: fold
# the $S$ samples into the batch axis. As in Exercise 2, the tests swap in a correct `merge_experts`.


# %% solution layer_activity
def layer_activity(model, x, eps):
    """Per-layer activity Cov_x(E_q[z_l | x]) of a LadderVAE3, by Monte Carlo over S top-down samples.

    model: a LadderVAE3; x: (B, D) float32; eps: [eps2, eps3], standard normal noise of shapes (S, B, d_2), (S, B, d_3).
    Returns: a list of three NumPy arrays [activity of layer 1 (d_1,), layer 2 (d_2,), layer 3 (d_3,)], each the
    variance across the B images of the Monte Carlo estimate of that layer's posterior mean.
    """
    ### BEGIN SOLUTION
    samples, batch = eps[1].shape[0], x.shape[0]
    data_terms = model.bottom_up(tf.tile(x, [samples, 1]))  # row s * B + b is sample s of image b
    mean, log_var = data_terms[2]
    z = mean + tf.exp(0.5 * log_var) * tf.reshape(eps[1], (samples * batch, -1))
    means = {3: mean}
    for layer in (2, 1):
        prior_mean, prior_log_var = model.prior(layer, z)
        up_mean, up_log_var = data_terms[layer - 1]
        means[layer], log_var = merge_experts(tf.stack([up_mean, prior_mean]), tf.stack([up_log_var, prior_log_var]))
        if layer == 2:
            z = means[2] + tf.exp(0.5 * log_var) * tf.reshape(eps[0], (samples * batch, -1))
    averaged = [tf.reduce_mean(tf.reshape(means[layer], (samples, batch, -1)), axis=0).numpy() for layer in (1, 2, 3)]
    return [np.var(m, axis=0) for m in averaged]
    ### END SOLUTION


# %% test layer_activity points=3
import tensorflow as tf


def _reference_merge(means, log_vars):
    """The formula of Exercise 1 as given (float64, not protected against overflow): enough for these tests."""
    _precision = np.exp(-np.asarray(log_vars, np.float64))
    _mean = np.sum(_precision * np.asarray(means, np.float64), axis=0) / np.sum(_precision, axis=0)
    return tf.constant(_mean, tf.float32), tf.constant(-np.log(np.sum(_precision, axis=0)), tf.float32)


def _activity(model, x, eps, what):
    _saved = globals().get("merge_experts")
    globals()["merge_experts"] = _reference_merge
    try:
        _result = layer_activity(model, tf.constant(x, tf.float32), [tf.constant(e, tf.float32) for e in eps])
    finally:
        globals()["merge_experts"] = _saved
    checks.assert_true(
        isinstance(_result, (tuple, list)) and len(_result) == 3,
        f"layer_activity should return a list of three arrays (layers 1, 2, 3); got {type(_result).__name__}.",
    )
    return [checks.as_array(_a, f"layer_activity {what}, layer {_l}") for _l, _a in enumerate(_result, start=1)]


_model = LadderVAE3(seed=0)
_r = np.random.default_rng(17)
_x = (_r.random((40, _model.data_dim)) < 0.4).astype("float32")
_eps = [_r.normal(size=(30, 40, d)).astype("float32") for d in _model.dims[1:]]
_act = _activity(_model, _x, _eps, "for 40 images, 30 samples")
for _l, (_a, _d) in enumerate(zip(_act, _model.dims), start=1):
    checks.assert_true(
        _a.shape == (_d,),
        f"layer {_l}'s activity should have one value per unit, shape ({_d},); got {_a.shape}: a variance across the "
        "images (axis 0 of the averaged means), not across the units.",
    )
# The top layer needs no sampling: its posterior mean is the bottom-up network's output.
_m3 = np.asarray(_model.bottom_up(_x)[2][0], np.float64)
checks.assert_close(_act[2], np.var(_m3, axis=0), "the top layer's activity, Var_x of the mean of q(z3 | x)", rtol=1e-4)
### BEGIN HIDDEN TESTS


def _reference_activity(model, x, eps, kind="average"):
    """float64 reference; kind gives known mistakes: 'plug-in' (no sampling), 'data' (unmerged), 'pooled'."""
    _S, _B = eps[1].shape[:2]
    _up = [[np.asarray(t, np.float64) for t in pair] for pair in model.bottom_up(np.tile(x, (_S, 1)))]
    _m3, _v3 = _up[2]
    _e3, _e2 = (np.reshape(e, (_S * _B, -1)) for e in (eps[1], eps[0]))
    _z = _m3 if kind == "plug-in" else _m3 + np.exp(_v3 / 2) * _e3
    _means = {3: _m3}
    for _layer in (2, 1):
        _pm, _pv = (np.asarray(t, np.float64) for t in model.prior(_layer, tf.constant(_z, tf.float32)))
        _um, _uv = _up[_layer - 1]
        _v = -np.logaddexp(-_uv, -_pv)
        _means[_layer] = _um if kind == "data" else np.exp(_v) * (_um * np.exp(-_uv) + _pm * np.exp(-_pv))
        if _layer == 2:
            _z = _means[2] if kind == "plug-in" else _means[2] + np.exp(_v / 2) * _e2
    if kind == "pooled":  # the variance over samples and images together
        return [np.var(_means[_l], axis=0) for _l in (1, 2, 3)]
    return [np.var(np.mean(np.reshape(_means[_l], (_S, _B, -1)), axis=0), axis=0) for _l in (1, 2, 3)]


for _seed, _what in [(0, "for 40 images, 30 samples"), (5, "for another model (seed 5)")]:
    _model = LadderVAE3(seed=_seed)
    _act = _activity(_model, _x, _eps, _what)
    _expected = _reference_activity(_model, _x, _eps)
    _plug = _reference_activity(_model, _x, _eps, "plug-in")
    _data = _reference_activity(_model, _x, _eps, "data")
    _pooled = _reference_activity(_model, _x, _eps, "pooled")
    for _l in (1, 2):
        checks.assert_close(
            _act[_l - 1],
            _expected[_l - 1],
            f"layer {_l}'s activity {_what}",
            rtol=1e-3,
            atol=1e-6,
            hints=[
                (
                    _data[_l - 1],
                    "that is the variance of the data's bottom-up means (the lecture 05 recipe, model.bottom_up): the "
                    "posterior mean of a lower layer is the merged mean, averaged over the samples above it.",
                ),
                (
                    _plug[_l - 1],
                    "the layers above were plugged in at their means instead of sampled: E[mu(z)] is not mu(E[z]) for "
                    "a nonlinear network. Average the merged means over the S samples.",
                ),
                (
                    _pooled[_l - 1],
                    "that is the variance over samples and images together: it adds the spread caused by the samples "
                    "above. Average over the S samples first, then take the variance across the images.",
                ),
            ],
        )
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: three opinions (1 point)
#
# Three experts give Gaussian opinions about one latent unit, with variances 2, 2 and 1 (and some means). **Before you
# run the cell after the next one**, predict the variance of their normalised product, as a number, and put it in
# `predicted_merged_variance`.

# %% solution predicted_merged_variance
# Your prediction, before running the cell below: a number.
### BEGIN SOLUTION
predicted_merged_variance = 0.5
### END SOLUTION

# %% test predicted_merged_variance points=1
checks.assert_true(
    isinstance(predicted_merged_variance, (int, float, np.floating))
    and not isinstance(predicted_merged_variance, bool),
    f"predicted_merged_variance should be a number; got {predicted_merged_variance!r}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    abs(float(predicted_merged_variance) - 0.5) < 1e-3,
    f"The merged variance is 0.5, not {predicted_merged_variance}. Precisions add: 1/2 + 1/2 + 1/1 = 2, and the "
    "variance is 1 / 2. It is smaller than every expert's variance, because each opinion adds information; the "
    "average (5/3) or the sum (5) of the variances would make three agreeing experts less certain than one.",
)
### END HIDDEN TESTS

# %%
_mean, _log_var = merge_experts(
    tf.constant([[0.0], [1.0], [2.0]]), tf.constant(np.log([[2.0], [2.0], [1.0]]), tf.float32)
)
print(f"merged: mean {float(_mean[0]):.3f}, variance {float(tf.exp(_log_var[0])):.3f}")

# %% [markdown]
# ## Predict, then run: a layer whose data term says nothing (1 point)
#
# Make the data's Gaussians of layers 1 and 2 uninformative: `LadderVAE3(uninformative=(1, 2))` adds 30 to their
# log-variances, so their precisions are about $e^{-30}$. The top layer's $q(z_3 \mid x)$ is unchanged. **Before you run
# the cell after the next one**, predict the three KL terms of `ladder_negative_elbo`:
#
# - (a) the KLs of layers 1 and 2 become (almost) 0; the top layer's KL is unchanged;
# - (b) all three KLs become (almost) 0, because the model no longer looks at $x$;
# - (c) the KLs of layers 1 and 2 become very large, because $q$ and $p$ now have very different variances.
#
# Put the letter of your prediction in `predicted_uninformative_kl`.

# %% solution predicted_uninformative_kl
# Your prediction, before running the cell below: "a", "b" or "c".
### BEGIN SOLUTION
predicted_uninformative_kl = "a"
### END SOLUTION

# %% test predicted_uninformative_kl points=1
checks.assert_true(
    isinstance(predicted_uninformative_kl, str) and predicted_uninformative_kl.strip().lower() in ("a", "b", "c"),
    f'predicted_uninformative_kl should be one of the letters "a", "b" or "c"; got {predicted_uninformative_kl!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_uninformative_kl.strip().lower() == "a",
    "The right answer is (a). The merge weights each opinion by its precision; an expert with precision e^-30 drops "
    "out, so q(z_l | z_{l+1}, x) is the prior p(z_l | z_{l+1}) itself and its KL is 0: the layer carries no "
    "information "
    "beyond what the layer above gives. The wide Gaussian is only an input of the merge, never the posterior, so (c) "
    "does not happen. The top layer still sees x through q(z3 | x), so its KL is unchanged (not b).",
)
### END HIDDEN TESTS

# %%
_x_demo = tf.constant((np.random.default_rng(config.seed()).random((4, 20)) < 0.4).astype("float32"))
_eps_demo = [tf.random.stateless_normal((4, d), seed=[config.seed(), d]) for d in (6, 4, 3)]
for _name, _demo_model in [("informative", LadderVAE3()), ("uninformative 1, 2", LadderVAE3(uninformative=(1, 2)))]:
    _kls = np.asarray(ladder_negative_elbo(_demo_model, _x_demo, _eps_demo)[2]).mean(axis=0)
    print(f"{_name:20s} mean KL of layers 1, 2, 3: {np.round(_kls, 4) + 0.0} nats")

# %% [markdown]
# ## Summary
#
# - $J$ Gaussian experts merge by adding precisions: $\log\sigma^2 = -\operatorname{logsumexp}_j(-v_j)$ and
#   $\mu = \sum_j \operatorname{softmax}(-v)_j\,\mu_j$, stable for any log-variances.
# - A top-down VAE with $L$ layers has one KL per layer: the top one against $\mathcal N(0, I)$, each lower one between
#   the merged posterior and *its* conditional prior $p(z_l \mid z_{l+1})$ at the sampled $z_{l+1}$; samples go from the
#   top down, through the merged posteriors.
# - A lower layer's posterior mean is an average over the samples of the layers above; its active units need that
#   average before the variance across images.
