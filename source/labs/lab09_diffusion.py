# %% [markdown]
# # Lab 09 — Diffusion, transferred: the cosine schedule, any data shape, another variance, v-prediction
#
# The lecture's DDPM uses a linear schedule, flat data of shape `(B, D)`, the reverse variance
# $\sigma_t^2 = \tilde\beta_t$ and a network that predicts the noise $\varepsilon$. Here each of these changes: you
# build the **cosine schedule** of Nichol and Dhariwal (2021), write the forward sample, the posterior and the
# training loss for data of **any shape** (images `(B, H, W)` or `(B, H, W, C)`) with a different $t$ for each
# example, take one reverse step with Ho et al.'s other variance, $\sigma_t^2 = \beta_t$, and convert a
# **v-prediction** into a noise prediction. No network is trained: for Gaussian data the best noise predictor is
# known in closed form, and it serves as the model.

# %% badge

# %% intro

# %% [markdown]
# **Learning outcomes.** After this lab you can
# - build a noise schedule from $\bar\alpha_t$ and derive its $\beta_t$, clipped;
# - write $q(x_t \mid x_0)$ and $q(x_{t-1} \mid x_t, x_0)$ for batches of any shape with one $t$ per example;
# - sample $t$ and $\varepsilon$ for the simplified loss, and say what goes wrong with $t = 0$;
# - take one ancestral step, with no noise at the last one;
# - convert a v-prediction to $\varepsilon$.

# %% setup

# %% locked imports
import types

import matplotlib.pyplot as plt
import numpy as np

from dgm import config

# %% [markdown]
# ## Conventions
#
# A **schedule** is an object with two float64 NumPy arrays of length $T + 1$, indexed by the step $t = 0, \dots, T$:
# `schedule.betas` ($\beta_0 = 0$, then $\beta_1, \dots, \beta_T$) and `schedule.alpha_bars`
# ($\bar\alpha_0 = 1$, then $\bar\alpha_t = \prod_{s \le t}(1 - \beta_s)$); $T$ is `len(schedule.betas) - 1`, and
# $\alpha_t = 1 - \beta_t$. Data `x0` have shape `(B, ...)`: `(B, D)`, `(B, H, W)` or `(B, H, W, C)`. Steps `t` are
# integer arrays of shape `(B,)`, one step per example, so that an example's $\bar\alpha_t$ must be broadcast over
# all of its other axes. A noise model `eps_model(xt, t)` returns an array of the shape of `xt`.
# Work in NumPy (float64) and return NumPy arrays.
#
# The formulas, from the lecture: $q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t}\,x_0, (1 - \bar\alpha_t)I)$;
# $q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ with
# $\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t}x_0 +
# \frac{\sqrt{\alpha_t}(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}x_t$ and
# $\tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\beta_t$;
# $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\varepsilon_\theta\big)$.

# %% [markdown]
# ## Exercise 1 — the cosine schedule (3 points)
#
# The linear schedule destroys the information in small images early: $\bar\alpha_t$ is already tiny half-way.
# Nichol and Dhariwal define $\bar\alpha_t$ directly, so that it falls slowly at both ends:
#
# $$\bar\alpha_t = \frac{f(t)}{f(0)}, \qquad f(t) = \cos^2\Big(\frac{t/T + s}{1 + s}\cdot\frac{\pi}{2}\Big),
# \qquad s = 0.008,$$
#
# and derive $\beta_t = 1 - \bar\alpha_t/\bar\alpha_{t-1}$ from it, **clipped** at 0.999 (at $t = T$, $f(T) = 0$ would
# give $\beta_T = 1$: a step that keeps nothing of $x_{t-1}$). Return the schedule's two arrays. So that they agree
# with each other, return as `alpha_bars` the cumulative product of $1 - \beta_t$ *after* clipping (equal to
# $f(t)/f(0)$ wherever no clip happened).


# %% solution cosine_schedule
def cosine_schedule(T, s=0.008):
    """The cosine schedule with T steps: (betas, alpha_bars), float64 arrays of length T + 1.

    betas[0] = 0 and alpha_bars[0] = 1; betas[t] = min(1 - abar(t) / abar(t - 1), 0.999) with
    abar(t) = f(t) / f(0), f(t) = cos^2((t / T + s) / (1 + s) * pi / 2); alpha_bars = cumprod(1 - betas).
    """
    ### BEGIN SOLUTION
    steps = np.arange(T + 1, dtype=np.float64)
    f = np.cos((steps / T + s) / (1 + s) * np.pi / 2) ** 2
    ratio = f[1:] / f[:-1]  # abar(t) / abar(t - 1); f(0) cancels
    betas = np.concatenate([[0.0], np.clip(1.0 - ratio, 0.0, 0.999)])
    return betas, np.cumprod(1.0 - betas)
    ### END SOLUTION


# %% test cosine_schedule points=3
def _reference_cosine(T, s=0.008):
    _grid = np.linspace(0.0, 1.0, T + 1)
    _abar = np.cos((_grid + s) / (1 + s) * np.pi / 2) ** 2
    _abar = _abar / _abar[0]
    _b = np.zeros(T + 1)
    _b[1:] = np.minimum(1 - _abar[1:] / _abar[:-1], 0.999)
    return _b, _abar


_result = cosine_schedule(10)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"cosine_schedule should return the pair (betas, alpha_bars); got {type(_result).__name__}.",
)
_b, _ab = (checks.as_array(v, "cosine_schedule(10)") for v in _result)
checks.assert_true(
    _b.shape == (11,) and _ab.shape == (11,),
    f"cosine_schedule(10) should return two arrays of length T + 1 = 11 (index 0: t = 0); got {_b.shape}, {_ab.shape}.",
)
_rb, _rab = _reference_cosine(10)
checks.assert_close(_b[0], 0.0, "betas[0] (no step at t = 0)")
checks.assert_close(
    _ab[0], 1.0, "alpha_bars[0]", hints=[(_rab[1], "alpha_bars is shifted by one step: index t holds t.")]
)
checks.assert_close(
    _b[:-1],
    _rb[:-1],
    "betas[0..T-1] of cosine_schedule(10)",
    rtol=1e-6,
    hints=[(_reference_cosine(10, 0.0)[0][:-1], "s is missing: f(t) = cos^2((t / T + s) / (1 + s) * pi / 2).")],
)
checks.assert_close(
    _b[-1], 0.999, "betas[T] of cosine_schedule(10)", hints=[(1.0, "beta_T = 1: clip the betas at 0.999.")]
)
### BEGIN HIDDEN TESTS
for _T in (50, 1000):
    _b, _ab = (checks.as_array(v, f"cosine_schedule({_T})") for v in cosine_schedule(_T))
    _rb, _rab = _reference_cosine(_T)
    checks.assert_close(_b, _rb, f"betas of cosine_schedule({_T})", rtol=1e-6, atol=1e-12)
    _cum = np.cumprod(1 - _rb)
    checks.assert_close(
        _ab[:-1],
        _rab[:-1],
        f"alpha_bars[0..T-1] of cosine_schedule({_T})",
        rtol=1e-6,
        atol=1e-12,
        hints=[(_rab[:-1] * np.cos(0.008 / 1.008 * np.pi / 2) ** 2, "normalise f(t) by f(0).")],
    )
    checks.assert_close(
        _ab[-1],
        _cum[-1],
        f"alpha_bars[T] of cosine_schedule({_T}) (the product of 1 - beta after clipping)",
        rtol=1e-6,
        atol=1e-30,
        hints=[(_rab[-1], "alpha_bars[T] = f(T) / f(0) disagrees with the clipped beta_T: use cumprod(1 - betas).")],
    )
checks.assert_close(
    cosine_schedule(20, s=0.1)[0], _reference_cosine(20, 0.1)[0], "betas of cosine_schedule(20, s=0.1)", rtol=1e-6
)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: how many steps are clipped? (1 point)
#
# With $T = 1000$, how many of the $\beta_t$ of the cosine schedule are clipped at 0.999? **Answer before running the
# cell below it**: put a whole number in `predicted_clipped_steps`.

# %% solution predicted_clipped_steps
# Your prediction, before running the cell below: set predicted_clipped_steps to a whole number.
### BEGIN SOLUTION
predicted_clipped_steps = 1
### END SOLUTION

# %% test predicted_clipped_steps points=1
checks.assert_true(
    isinstance(predicted_clipped_steps, (int, float, np.integer, np.floating)),
    f"predicted_clipped_steps should be a number; got {type(predicted_clipped_steps).__name__}.",
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_clipped_steps == 1,
    "The answer is 1: only beta_T. f(T) = cos^2(pi / 2) = 0, so 1 - abar_T / abar_(T-1) = 1 is clipped; one step "
    "earlier f(T - 1) / f(T - 2) is about 1/4, so beta_(T-1) is about 0.75, well below the clip.",
)
### END HIDDEN TESTS

# %%
_f = np.cos((np.arange(1001) / 1000 + 0.008) / 1.008 * np.pi / 2) ** 2
_raw = 1 - _f[1:] / _f[:-1]
print(
    f"unclipped beta_t >= 0.999 at t = {np.flatnonzero(_raw >= 0.999) + 1}; the largest others: {np.sort(_raw)[-4:-1]}"
)
_lin = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
fig, ax = plt.subplots()
ax.plot(np.arange(1, 1001), _lin, label="linear")
ax.plot(np.arange(1001), _f / _f[0], label="cosine")
ax.set_xlabel("t")
ax.set_ylabel(r"$\bar\alpha_t$")
ax.set_title("How much signal is left at step t (T = 1000)")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# ## Exercise 2 — the forward sample for any shape (2 points)
#
# Return $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon$ for a batch `x0` of shape `(B, ...)`,
# steps `t` of shape `(B,)` and noise `eps` of the shape of `x0`: example $b$ uses $\bar\alpha_{t_b}$ on all of its
# entries, whatever the number of axes.


# %% solution q_sample
def q_sample(x0, t, eps, schedule):
    """x_t ~ q(x_t | x_0) for x0, eps of shape (B, ...) and integer steps t of shape (B,)."""
    ### BEGIN SOLUTION
    x0 = np.asarray(x0, np.float64)
    signal = np.asarray(schedule.alpha_bars)[np.asarray(t)].reshape((-1,) + (1,) * (x0.ndim - 1))
    return np.sqrt(signal) * x0 + np.sqrt(1.0 - signal) * np.asarray(eps, np.float64)
    ### END SOLUTION


# %% test q_sample points=2
import types


def _schedule(T):
    _b = np.r_[0.0, np.linspace(0.05, 0.4, T)]
    return types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))


_s = _schedule(5)
_x0 = np.array([[1.0, -2.0], [0.5, 3.0]])
_eps = np.array([[0.3, 0.1], [-1.0, 2.0]])
_t = np.array([1, 4])
_ab = _s.alpha_bars[_t][:, None]
_expected = np.sqrt(_ab) * _x0 + np.sqrt(1 - _ab) * _eps
_abm1 = _s.alpha_bars[_t - 1][:, None]
checks.assert_close(
    q_sample(_x0, _t, _eps, _s),
    _expected,
    "q_sample for x0 of shape (2, 2), t = [1, 4]",
    hints=[
        (np.sqrt(_abm1) * _x0 + np.sqrt(1 - _abm1) * _eps, "alpha_bar is one step off: use alpha_bars[t]."),
        (np.sqrt(_ab) * _x0 + (1 - _ab) * _eps, "the noise is scaled by the variance 1 - abar_t; use its square root."),
        (np.sqrt(_ab) * _x0 + _s.betas[_t][:, None] * _eps, "the noise is scaled by beta_t; use sqrt(1 - abar_t)."),
        (_ab * _x0 + (1 - _ab) * _eps, "use the square roots: sqrt(abar_t) x0 + sqrt(1 - abar_t) eps."),
    ],
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(90)
_s = _schedule(7)
for _shape in [(3, 4, 5), (4, 6, 6, 2), (3,)]:
    _x0, _eps = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _t = _rng.integers(1, 8, size=_shape[0])
    _ab = _s.alpha_bars[_t].reshape((-1,) + (1,) * (len(_shape) - 1))
    try:
        _got = q_sample(_x0, _t, _eps, _s)
    except Exception as _err:
        raise checks.CheckFailure(
            f"q_sample failed for x0 of shape {_shape} ({type(_err).__name__}: {_err}): reshape alpha_bars[t] to "
            "(B, 1, ..., 1), one trailing axis of size 1 per axis of x0 after the first."
        ) from None
    checks.assert_close(_got, np.sqrt(_ab) * _x0 + np.sqrt(1 - _ab) * _eps, f"q_sample for x0 of shape {_shape}")
_x0 = _rng.normal(size=(3, 3, 4))  # B = H: a wrong broadcast does not fail, it mixes up examples
_t = np.array([1, 3, 7])
_ab = _s.alpha_bars[_t][:, None, None]
checks.assert_close(
    q_sample(_x0, _t, _x0 * 0, _s),
    np.sqrt(_ab) * _x0,
    "q_sample for x0 of shape (3, 3, 4) with eps = 0",
    hints=[(np.sqrt(_s.alpha_bars[_t][:, None]) * _x0, "alpha_bars[t][:, None] broadcasts over the wrong axis.")],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the posterior for a batch (3 points)
#
# Return the mean $\tilde\mu_t$ (shape of `x0`) and the variance $\tilde\beta_t$ (shape `(B,)`, one per example) of
# $q(x_{t-1} \mid x_t, x_0)$, for steps $t \ge 1$ that differ between examples. At $t = 1$ the variance is 0 and the
# mean is $x_0$.


# %% solution posterior_mean_variance
def posterior_mean_variance(x0, xt, t, schedule):
    """(mean, variance) of q(x_(t-1) | x_t, x_0): mean of the shape of x0, variance of shape (B,)."""
    ### BEGIN SOLUTION
    x0, xt, t = np.array(x0, dtype=float), np.array(xt, dtype=float), np.asarray(t)
    beta, abar, abar_prev = schedule.betas[t], schedule.alpha_bars[t], schedule.alpha_bars[t - 1]
    denominator = 1.0 - abar
    coef_x0 = abar_prev**0.5 * beta / denominator
    coef_xt = (1.0 - beta) ** 0.5 * (1.0 - abar_prev) / denominator
    extra = tuple(range(1, x0.ndim))  # one value per example, broadcast over its other axes
    mean = np.expand_dims(coef_x0, extra) * x0 + np.expand_dims(coef_xt, extra) * xt
    return mean, beta * (1.0 - abar_prev) / denominator
    ### END SOLUTION


# %% test posterior_mean_variance points=3
import types

_b = np.r_[0.0, np.linspace(0.05, 0.4, 6)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
_x0 = np.array([[1.0, -2.0, 0.0], [0.5, 3.0, 1.0], [2.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
_xt = np.array([[0.2, -1.0, 0.5], [0.1, 2.0, -1.0], [1.0, 1.0, 0.0], [-0.5, 0.5, 2.0]])
_t = np.array([1, 2, 4, 6])
_result = posterior_mean_variance(_x0, _xt, _t, _s)
checks.assert_true(
    isinstance(_result, (tuple, list)) and len(_result) == 2,
    f"posterior_mean_variance should return the pair (mean, variance); got {type(_result).__name__}.",
)
_beta, _ab, _abp = _b[_t], _s.alpha_bars[_t], _s.alpha_bars[_t - 1]
_var = (1 - _abp) / (1 - _ab) * _beta
checks.assert_close(
    _result[1],
    _var,
    "the variance of posterior_mean_variance for t = [1, 2, 4, 6]",
    hints=[
        (_beta, "the variance is beta_t; the posterior's is beta-tilde_t = (1 - abar_(t-1)) / (1 - abar_t) beta_t."),
    ],
)
_mean = (np.sqrt(_abp) * _beta / (1 - _ab))[:, None] * _x0 + (np.sqrt(1 - _beta) * (1 - _abp) / (1 - _ab))[
    :, None
] * _xt
_swap = (np.sqrt(_abp) * _beta / (1 - _ab))[:, None] * _x0 + (np.sqrt(_ab) * (1 - _abp) / (1 - _ab))[:, None] * _xt
checks.assert_close(
    _result[0],
    _mean,
    "the mean of posterior_mean_variance for t = [1, 2, 4, 6]",
    hints=[(_swap, "alpha and alpha-bar are swapped: the x_t coefficient has sqrt(alpha_t), one step's alpha.")],
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(91)
_b = np.r_[0.0, np.linspace(1e-3, 0.2, 40)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
for _shape in [(5, 3, 4), (2, 7), (3, 2, 2, 3)]:
    _x0, _xt = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _t = _rng.integers(1, 41, size=_shape[0])
    _t[0] = 1
    # the reference: direct conditioning of the joint Gaussian of (x_(t-1), x_t) given x_0, per example
    _ab, _abp, _al = _s.alpha_bars[_t], _s.alpha_bars[_t - 1], 1 - _b[_t]
    _c12, _c22 = np.sqrt(_al) * (1 - _abp), 1 - _ab
    _ax = (-1,) + (1,) * (len(_shape) - 1)
    _mean = np.sqrt(_abp).reshape(_ax) * _x0 + (_c12 / _c22).reshape(_ax) * (_xt - np.sqrt(_ab).reshape(_ax) * _x0)
    _var = (1 - _abp) - _c12**2 / _c22
    try:
        _m, _v = posterior_mean_variance(_x0, _xt, _t, _s)
    except Exception as _err:
        raise checks.CheckFailure(
            f"posterior_mean_variance failed for x0 of shape {_shape} ({type(_err).__name__}: {_err}): each example "
            "has its own t; reshape its coefficients to (B, 1, ..., 1)."
        ) from None
    checks.assert_close(_v, _var, f"the variance for x0 of shape {_shape}", atol=1e-10)
    checks.assert_close(_m, _mean, f"the mean for x0 of shape {_shape}", atol=1e-10)
    checks.assert_close(np.asarray(_m)[0], _x0[0], "the mean at t = 1 (it is x_0)", atol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — the training loss, with $t$ drawn correctly (3 points)
#
# Return the simplified loss on a batch: draw for **each example** its own step $t$ uniformly on $1, \dots, T$ and
# its noise $\varepsilon \sim \mathcal N(0, I)$ (the shape of `x0`) from the NumPy generator `rng` (first `t`, with
# `rng.integers`, then `eps`, with `rng.standard_normal`), form $x_t$, and return the mean of
# $(\varepsilon - \varepsilon_\theta(x_t, t))^2$ over all entries of the batch (one number).


# %% solution ddpm_loss
def ddpm_loss(eps_model, x0, schedule, rng):
    """L_simple on one batch: a float, the mean over all entries of (eps - eps_model(x_t, t))^2."""
    ### BEGIN SOLUTION
    x0 = np.asarray(x0, np.float64)
    T = len(schedule.betas) - 1
    t = rng.integers(1, T + 1, size=len(x0))  # 1..T inclusive: the upper end of integers is exclusive
    eps = rng.standard_normal(x0.shape)
    keep = schedule.alpha_bars[t].reshape((-1,) + (1,) * (x0.ndim - 1))
    xt = np.sqrt(keep) * x0 + np.sqrt(1.0 - keep) * eps
    return float(np.mean((eps - np.asarray(eps_model(xt, t))) ** 2))
    ### END SOLUTION


# %% test ddpm_loss points=3
import types
import warnings

_b = np.r_[0.0, np.linspace(0.05, 0.4, 4)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
_x0 = np.random.default_rng(92).normal(size=(4000, 3))
_seen = []


def _knows_the_noise(xt, t):
    """Recovers eps exactly from x_t, x_0 and t (the test knows x_0); records the steps it was asked."""
    t = np.asarray(t)
    _seen.append(t.copy())
    _ab = _s.alpha_bars[t][:, None]
    return (np.asarray(xt) - np.sqrt(_ab) * _x0) / np.sqrt(1 - _ab)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # 1 / sqrt(1 - abar_0) = 1 / 0 if t = 0 is drawn; the check below says so
    _loss = ddpm_loss(_knows_the_noise, _x0, _s, np.random.default_rng(0))
checks.assert_true(
    len(_seen) == 1, f"ddpm_loss should call eps_model once on the batch; it called it {len(_seen)} times."
)
_ts = _seen[0].ravel()
checks.assert_true(
    _ts.shape == (4000,),
    f"ddpm_loss should draw one step per example (4000 of them), got t of shape {_seen[0].shape}.",
)
checks.assert_true(
    _ts.min() >= 1,
    f"ddpm_loss drew t = {_ts.min()}: t runs over 1..T; t = 0 is the data itself (abar_0 = 1, nothing to denoise).",
)
checks.assert_true(
    _ts.max() == 4,
    f"with T = 4 the largest t drawn in 4000 examples should be 4, got {_ts.max()}: rng.integers(low, high) "
    "excludes high.",
)
_counts = np.bincount(_ts, minlength=5)[1:]
checks.assert_true(
    np.all(np.abs(_counts - 1000) < 5 * np.sqrt(1000 * 0.75)),
    f"expected t uniform on 1..4 (about 1000 each), got the counts {_counts}.",
)
checks.assert_close(
    _loss,
    0.0,
    "ddpm_loss with a model that returns the true noise",
    atol=1e-8,
    hints=[],
)
### BEGIN HIDDEN TESTS
_zero = lambda xt, t: np.zeros_like(np.asarray(xt, np.float64))  # noqa: E731
_x0 = np.random.default_rng(93).normal(size=(3000, 2, 2))
_b = np.r_[0.0, np.linspace(0.01, 0.3, 20)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
_rng_ref = np.random.default_rng(5)
_t_ref = _rng_ref.integers(1, 21, size=3000)
_eps_ref = _rng_ref.standard_normal(_x0.shape)
_got = checks.as_array(ddpm_loss(_zero, _x0, _s, np.random.default_rng(5)), "ddpm_loss")
checks.assert_true(_got.ndim == 0, f"ddpm_loss should return one number, got shape {_got.shape}.")
checks.assert_close(
    _got,
    np.mean(_eps_ref**2),
    "ddpm_loss with eps_model = 0 on x0 of shape (3000, 2, 2) (the mean of eps^2 with the generator's draws, t first)",
    rtol=1e-8,
    hints=[(np.sum(_eps_ref**2) / 3000, "a sum over the entries of each example: take the mean over all entries.")],
)
_seen.clear()
_x0 = np.random.default_rng(94).normal(size=(500, 3, 2))
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))


def _knows_the_noise(xt, t):
    _ab = _s.alpha_bars[np.asarray(t)][:, None, None]
    return (np.asarray(xt) - np.sqrt(_ab) * _x0) / np.sqrt(1 - _ab)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _loss = ddpm_loss(_knows_the_noise, _x0, _s, np.random.default_rng(1))
checks.assert_close(
    _loss,
    0.0,
    "ddpm_loss with a model that returns the true noise, x0 of shape (500, 3, 2)",
    atol=1e-8,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Predict, then run: the best possible loss (1 point)
#
# Let the data be $x_0 \sim \mathcal N(0, I)$ and let $\varepsilon_\theta$ be the **best possible** noise predictor,
# $\mathbb E[\varepsilon \mid x_t]$. What is its $L_\text{simple}$? (a) zero: it is the best predictor; (b) positive:
# the average over $t$ of $\bar\alpha_t$; (c) one, the variance of $\varepsilon$. Put the letter in
# `predicted_best_loss`.

# %% solution predicted_best_loss
# Your prediction, before running the cell below: set predicted_best_loss to "a", "b" or "c".
### BEGIN SOLUTION
predicted_best_loss = "b"
### END SOLUTION

# %% test predicted_best_loss points=1
checks.assert_true(
    isinstance(predicted_best_loss, str) and predicted_best_loss.strip().lower() in ("a", "b", "c"),
    f'predicted_best_loss should be one of the letters "a", "b" or "c"; got {predicted_best_loss!r}.',
)
### BEGIN HIDDEN TESTS
checks.assert_true(
    predicted_best_loss.strip().lower() == "b",
    "The answer is (b). From x_t alone the noise cannot be known exactly: for N(0, I) data, "
    "E[eps | x_t] = sqrt(1 - abar_t) x_t and what is left, Var(eps | x_t) = 1 - (1 - abar_t) = abar_t, is the loss "
    "at step t. A trained model's L_simple never reaches 0; it is compared with this floor, not with 0.",
)
### END HIDDEN TESTS

# %%
_b, _ab = cosine_schedule(100)
_demo = types.SimpleNamespace(betas=_b, alpha_bars=_ab)
_x0 = np.random.default_rng(config.seed()).normal(size=(20_000, 2))
_best = lambda xt, t: np.sqrt(1 - _ab[np.asarray(t)])[:, None] * xt  # noqa: E731
_measured = ddpm_loss(_best, _x0, _demo, np.random.default_rng(config.seed()))
print(f"L_simple of the best predictor: {_measured:.4f}; the mean of abar_t over t = 1..T: {_ab[1:].mean():.4f}")

# %% [markdown]
# ## Exercise 5 — one reverse step, with $\sigma_t^2 = \beta_t$ (3 points)
#
# The lecture samples with $\sigma_t^2 = \tilde\beta_t$. Ho et al. report that $\sigma_t^2 = \beta_t$ works as well;
# use it here. Return $x_{t-1} = \mu_\theta(x_t, t) + \sigma_t z$ with $\mu_\theta$ from `eps_model(xt, t)`, for a
# batch whose examples may be at different steps, and **no noise** for the examples at $t = 1$ (their $x_0$ is the
# final sample). `z` is standard normal noise of the shape of `xt`.


# %% solution reverse_step
def reverse_step(eps_model, xt, t, z, schedule):
    """x_(t-1) = mu_theta(x_t, t) + sqrt(beta_t) z, with no noise where t == 1; the shape of xt."""
    ### BEGIN SOLUTION
    xt, t = np.asarray(xt, np.float64), np.asarray(t)
    axes = (-1,) + (1,) * (xt.ndim - 1)
    beta = schedule.betas[t].reshape(axes)
    abar = schedule.alpha_bars[t].reshape(axes)
    mean = (xt - beta / np.sqrt(1.0 - abar) * np.asarray(eps_model(xt, t))) / np.sqrt(1.0 - beta)
    sigma = np.where(t > 1, np.sqrt(schedule.betas[t]), 0.0).reshape(axes)
    return mean + sigma * np.asarray(z, np.float64)
    ### END SOLUTION


# %% test reverse_step points=3
import types

_b = np.r_[0.0, np.linspace(0.05, 0.4, 5)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
_xt = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])
_z = np.array([[0.3, -0.2], [1.0, 0.5], [-1.0, 2.0]])
_t = np.array([3, 1, 5])
_model = lambda xt, t: 0.5 * np.asarray(xt) + 0.1 * np.asarray(t)[:, None]  # noqa: E731
_beta, _ab = _b[_t][:, None], _s.alpha_bars[_t][:, None]
_abp = _s.alpha_bars[_t - 1][:, None]
_e = _model(_xt, _t)
_mean = (_xt - _beta / np.sqrt(1 - _ab) * _e) / np.sqrt(1 - _beta)
_sig = np.where(_t > 1, np.sqrt(_b[_t]), 0.0)[:, None]
_tilde = np.sqrt((1 - _abp) / (1 - _ab) * _beta)
_swapped = (_xt - _beta / np.sqrt(_beta) * _e) / np.sqrt(_ab)
checks.assert_close(
    reverse_step(_model, _xt, _t, _z, _s),
    _mean + _sig * _z,
    "reverse_step for t = [3, 1, 5]",
    hints=[
        (_mean + np.sqrt(_beta) * _z, "noise was added at t = 1: the last step returns the mean, with no noise."),
        (_mean + _tilde * _z, "sigma_t^2 = beta-tilde_t (the lecture's choice); this lab uses sigma_t^2 = beta_t."),
        (_mean + np.where(_t > 1, _b[_t], 0.0)[:, None] * _z, "the noise is scaled by beta_t; use sqrt(beta_t)."),
        (_swapped + _sig * _z, "alpha and alpha-bar are swapped in the mean."),
        (
            (_xt + _beta / np.sqrt(1 - _ab) * _e) / np.sqrt(1 - _beta) + _sig * _z,
            "the noise is subtracted: minus sign.",
        ),
    ],
)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(95)
_b = np.r_[0.0, np.linspace(1e-3, 0.2, 30)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
for _shape in [(4, 3, 3), (6, 2, 2, 1)]:
    _xt, _z = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _t = _rng.integers(1, 31, size=_shape[0])
    _t[:2] = [1, 30]
    _ax = (-1,) + (1,) * (len(_shape) - 1)
    _model = lambda xt, t, _ax=_ax: np.tanh(np.asarray(xt)) * np.sqrt(np.asarray(t)).reshape(_ax)  # noqa: E731
    _beta, _ab = _b[_t].reshape(_ax), _s.alpha_bars[_t].reshape(_ax)
    _expected = (_xt - _beta / np.sqrt(1 - _ab) * _model(_xt, _t)) / np.sqrt(1 - _beta)
    _expected = _expected + np.where(_t > 1, np.sqrt(_b[_t]), 0.0).reshape(_ax) * _z
    try:
        _got = reverse_step(_model, _xt, _t, _z, _s)
    except Exception as _err:
        raise checks.CheckFailure(
            f"reverse_step failed for x of shape {_shape} ({type(_err).__name__}: {_err}): reshape the per-example "
            "coefficients to (B, 1, ..., 1)."
        ) from None
    checks.assert_close(_got, _expected, f"reverse_step for x of shape {_shape}, steps {_t}")
### END HIDDEN TESTS

# %% [markdown]
# With the best predictor for data $\mathcal N(m, s^2)$ in 2-D as the model, your step run from $t = T$ to 1 on the
# cosine schedule should return samples of about that mean and standard deviation.

# %%
_b, _ab = cosine_schedule(200)
_demo = types.SimpleNamespace(betas=_b, alpha_bars=_ab)
_m, _sd = np.array([2.0, -1.0]), 0.5
_oracle = lambda xt, t: (  # noqa: E731
    np.sqrt(1 - _ab[t])[:, None]
    * (xt - np.sqrt(_ab[t])[:, None] * _m)
    / (_ab[t][:, None] * _sd**2 + 1 - _ab[t][:, None])
)
_rng = np.random.default_rng(config.seed())
_x = _rng.normal(size=(5000, 2))
for _step in range(200, 0, -1):
    _x = reverse_step(_oracle, _x, np.full(5000, _step), _rng.normal(size=_x.shape), _demo)
print(f"samples: mean {_x.mean(0).round(3)} (data {_m}), std {_x.std(0).round(3)} (data {_sd})")
fig, ax = plt.subplots()
ax.scatter(_x[:, 0], _x[:, 1], s=2)
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_title("Ancestral samples with the best noise predictor (cosine schedule, T = 200)")
plt.show()

# %% [markdown]
# ## Exercise 6 — from a v-prediction to $\varepsilon$ (2 points)
#
# Some models (Salimans and Ho, 2022) predict the **velocity** $v = \sqrt{\bar\alpha_t}\,\varepsilon -
# \sqrt{1 - \bar\alpha_t}\,x_0$ instead of $\varepsilon$. A sampler written for $\varepsilon$ needs the conversion:
# express $\varepsilon$ through $x_t$ and $v$ (eliminate $x_0$ with $x_t = \sqrt{\bar\alpha_t}x_0 +
# \sqrt{1 - \bar\alpha_t}\varepsilon$). Return it for `xt`, `v` of shape `(B, ...)` and steps `t` of shape `(B,)`.


# %% solution eps_from_v
def eps_from_v(xt, v, t, schedule):
    """The noise eps implied by x_t and the velocity v at steps t; the shape of xt."""
    ### BEGIN SOLUTION
    xt, v = np.array(xt, dtype=float), np.array(v, dtype=float)
    abar = np.expand_dims(schedule.alpha_bars[np.asarray(t)], tuple(range(1, xt.ndim)))
    return abar**0.5 * v + (1.0 - abar) ** 0.5 * xt
    ### END SOLUTION


# %% test eps_from_v points=2
import types

_b = np.r_[0.0, np.linspace(0.05, 0.4, 5)]
_s = types.SimpleNamespace(betas=_b, alpha_bars=np.cumprod(1 - _b))
_rng = np.random.default_rng(96)
_x0, _eps = _rng.normal(size=(3, 4)), _rng.normal(size=(3, 4))
_t = np.array([1, 3, 5])
_ab = _s.alpha_bars[_t][:, None]
_xt = np.sqrt(_ab) * _x0 + np.sqrt(1 - _ab) * _eps
_v = np.sqrt(_ab) * _eps - np.sqrt(1 - _ab) * _x0
checks.assert_close(
    eps_from_v(_xt, _v, _t, _s),
    _eps,
    "eps_from_v on (x_t, v) made from known x_0 and eps",
    hints=[
        (np.sqrt(1 - _ab) * _v + np.sqrt(_ab) * _xt, "the two coefficients are swapped."),
        (np.sqrt(_ab) * _v - np.sqrt(1 - _ab) * _xt, "a sign: eps = sqrt(abar) v + sqrt(1 - abar) x_t."),
        (np.sqrt(1 - _ab) * _x0 + 0 * _v, "that is not eps."),
    ],
)
### BEGIN HIDDEN TESTS
_x0, _eps = _rng.normal(size=(4, 3, 2, 2)), _rng.normal(size=(4, 3, 2, 2))
_t = np.array([2, 5, 1, 4])
_ab = _s.alpha_bars[_t][:, None, None, None]
_xt = np.sqrt(_ab) * _x0 + np.sqrt(1 - _ab) * _eps
_v = np.sqrt(_ab) * _eps - np.sqrt(1 - _ab) * _x0
checks.assert_close(eps_from_v(_xt, _v, _t, _s), _eps, "eps_from_v for x of shape (4, 3, 2, 2)")
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# - The cosine schedule defines $\bar\alpha_t$ and derives $\beta_t$, clipped at 0.999 (only at $t = T$ for
#   $T = 1000$); the arrays are indexed by $t$, with $\bar\alpha_0 = 1$.
# - With one $t$ per example, every per-step coefficient is reshaped to $(B, 1, \dots, 1)$ before it meets the data.
# - The loss draws $t$ on $1..T$ (never 0), and even the best predictor has a positive loss.
# - A reverse step adds no noise at $t = 1$; with $\sigma_t^2 = \beta_t$ it differs from the lecture's
#   $\tilde\beta_t$ at every other step.
# - A v-prediction gives $\varepsilon = \sqrt{\bar\alpha_t}\,v + \sqrt{1 - \bar\alpha_t}\,x_t$.
#
# **References.** J. Ho, A. Jain and P. Abbeel (2020). Denoising diffusion probabilistic models. *NeurIPS* 33.
# A. Nichol and P. Dhariwal (2021). Improved denoising diffusion probabilistic models. *ICML*.
# T. Salimans and J. Ho (2022). Progressive distillation for fast sampling of diffusion models. *ICLR*.
