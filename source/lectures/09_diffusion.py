# %% [markdown]
# # Unit 09 — Diffusion models (DDPM)
#
# A diffusion model destroys data step by step with Gaussian noise, in a fixed chain whose every step is known,
# and learns to run the chain backwards. We derive the closed forms the method rests on, check each of them
# numerically, train a denoising diffusion probabilistic model (DDPM, Ho, Jain and Abbeel, 2020) on a 2-D toy set
# and on MNIST, evaluate its ELBO in bits per dimension, and sample it with the ancestral sampler and with the
# deterministic DDIM sampler in fewer steps.

# %% badge

# %% [markdown]
# **Learning outcomes.** After this lecture you can
#
# - write the forward chain $q(x_t \mid x_{t-1})$ and its closed-form marginal $q(x_t \mid x_0)$, and say why the
#   noise is scaled by $\sqrt{\beta_t}$ (the variance stays at one);
# - derive the posterior $q(x_{t-1} \mid x_t, x_0)$ by Gaussian conditioning;
# - write the ELBO as a sum of KL terms, and the simplified $\varepsilon$-prediction loss as a reweighting of it;
# - train a DDPM as a Keras 3 model class, on a toy set and on MNIST, and evaluate it in bits per dimension;
# - sample with ancestral sampling and with deterministic DDIM, and compare quality against the number of steps;
# - read diffusion as a hierarchical VAE whose encoder is fixed, term by term.

# %% setup

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config, data, judge, plotting, training, widgets

tfd = tfp.distributions
plotting.style()
rng = np.random.default_rng(config.seed())
print(f"mode: {config.mode().upper()}")

# %% [markdown]
# ## Settings
#
# Every number that differs between FAST mode (a quick check on a CPU) and FULL mode (the real run) is set here.

# %%
GPU = bool(tf.config.list_physical_devices("GPU"))
T_TOY = 200  # diffusion steps of the 2-D toy model (both modes)
TOY_EPOCHS = config.pick(fast=80, full=300)  # epochs over 8192 toy points, 32 batches of 256 each
T_MNIST = config.pick(fast=100, full=1000)  # diffusion steps of the MNIST model
DENOISER = config.pick(fast="mlp", full="unet")  # the MNIST noise predictor: a small MLP, or a small U-Net
MNIST_EPOCHS = config.pick(fast=15, full=30)  # epochs of the MNIST DDPM, batches of 128 images
CLASSIFIER_EPOCHS = config.pick(fast=15, full=5)  # epochs of the independent MNIST classifier
ELBO_N = config.pick(fast=200, full=1000 if GPU else 200)  # test images for bits per dimension
N_SAMPLES = 100  # MNIST samples per sampler
DDIM_STEPS = (10, 50)  # the DDIM step counts compared with ancestral sampling over all T_MNIST steps

# %% [markdown]
# ## 1. The forward chain and its closed form
#
# Choose variances $\beta_1, \dots, \beta_T \in (0, 1)$, and write $\alpha_t = 1 - \beta_t$ and
# $\bar\alpha_t = \prod_{s \le t} \alpha_s$ (with $\bar\alpha_0 = 1$). The **forward chain** adds a little noise at
# each step, shrinking the signal so that the variance does not grow:
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1 - \beta_t}\,x_{t-1},\ \beta_t I\big), \qquad
# x_t = \sqrt{\alpha_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t .$$
#
# A sum of independent Gaussians is Gaussian, so by induction every marginal has a **closed form**:
# if $x_{t-1} = \sqrt{\bar\alpha_{t-1}}x_0 + \sqrt{1 - \bar\alpha_{t-1}}\,\varepsilon$, then
# $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{\alpha_t(1 - \bar\alpha_{t-1}) + \beta_t}\;\varepsilon'$ and
# $\alpha_t(1 - \bar\alpha_{t-1}) + \beta_t = 1 - \bar\alpha_t$:
#
# $$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\,x_0,\ (1 - \bar\alpha_t) I\big).$$
#
# If the data have variance one, so has every $x_t$: $\bar\alpha_t \cdot 1 + (1 - \bar\alpha_t) = 1$. (The noise is
# scaled by $\sqrt{\beta_t}$, the standard deviation; scaling it by $\beta_t$ would make the variance shrink.)
# Ho et al. use $T = 1000$ and $\beta_t$ linear from $10^{-4}$ to $0.02$; with fewer steps we scale both ends by
# $1000 / T$ so that $\bar\alpha_T$ still reaches nearly zero. Every array below is indexed by $t = 0, \dots, T$, with
# $\beta_0 = 0$ and $\bar\alpha_0 = 1$ in position 0.


# %%
def linear_schedule(T):
    """(betas, alpha_bars), float64 arrays of length T + 1 indexed by t (betas[0] = 0, alpha_bars[0] = 1)."""
    assert T >= 50, f"the rescaled linear schedule needs T >= 50 (beta_T = 20 / T < 1), got T = {T}"
    scale = 1000.0 / T
    betas = np.concatenate([[0.0], np.linspace(scale * 1e-4, scale * 0.02, T)])
    return betas, np.cumprod(1.0 - betas)


betas_1000, alpha_bars_1000 = linear_schedule(1000)
print(f"T = 1000: alpha_bar_T = {alpha_bars_1000[-1]:.2e}; T = 100: alpha_bar_T = {linear_schedule(100)[1][-1]:.2e}")
assert alpha_bars_1000[-1] < 1e-4 and linear_schedule(100)[1][-1] < 1e-4, "expected alpha_bar_T close to 0"

# %% [markdown]
# **Check.** Run the chain step by step on 200 000 draws of a non-Gaussian $x_0$ (a two-component mixture scaled to
# mean 0.5 and variance 1), and compare with the closed form at several $t$: the mean $\sqrt{\bar\alpha_t}\,
# \mathbb E[x_0]$, the variance (one), and the whole distribution, by a two-sample Kolmogorov–Smirnov statistic
# against draws from the closed form (its 0.1 % critical value is $1.95\sqrt{2/n}$). The chain with noise
# scaled by $\beta_t$ instead is printed for comparison.

# %%
n_chain = 200_000
chain_rng = np.random.default_rng(config.seed() + 1)
x0_chain = np.where(chain_rng.random(n_chain) < 0.3, -1.5, 1.0) + 0.3 * chain_rng.normal(size=n_chain)
x0_chain = (x0_chain - x0_chain.mean()) / x0_chain.std() + 0.5


def ks_statistic(a, b):
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return np.abs(cdf_a - cdf_b).max()


x_chain, x_wrong = x0_chain.copy(), x0_chain.copy()
ks_limit = 1.95 * np.sqrt(2 / n_chain)
for t in range(1, 1001):
    x_chain = np.sqrt(1 - betas_1000[t]) * x_chain + np.sqrt(betas_1000[t]) * chain_rng.normal(size=n_chain)
    x_wrong = np.sqrt(1 - betas_1000[t]) * x_wrong + betas_1000[t] * chain_rng.normal(size=n_chain)
    if t in (1, 10, 100, 300, 1000):
        ab = alpha_bars_1000[t]
        closed = np.sqrt(ab) * x0_chain + np.sqrt(1 - ab) * chain_rng.normal(size=n_chain)
        ks = ks_statistic(x_chain, closed)
        se_mean = x_chain.std() / np.sqrt(n_chain)
        print(
            f"t = {t:4d}: mean {x_chain.mean():+.4f} (closed form {np.sqrt(ab) * 0.5:+.4f}), var {x_chain.var():.4f}, "
            f"KS {ks:.4f} (limit {ks_limit:.4f}); noise scaled by beta_t: var {x_wrong.var():.4f}"
        )
        assert abs(x_chain.mean() - np.sqrt(ab) * 0.5) < 5 * se_mean, f"t = {t}: mean {x_chain.mean()}"
        assert abs(x_chain.var() - 1.0) < 0.02, f"t = {t}: expected variance 1, got {x_chain.var():.4f}"
        assert ks < ks_limit, f"t = {t}: the chain and the closed form differ (KS {ks:.4f} > {ks_limit:.4f})"
assert x_wrong.var() < 0.5, f"expected the beta_t-scaled chain's variance to collapse, got {x_wrong.var():.3f}"

# %% [markdown]
# ## 2. The posterior $q(x_{t-1} \mid x_t, x_0)$
#
# Given $x_0$, the pair $(x_{t-1}, x_t)$ is jointly Gaussian (per coordinate):
# $x_{t-1} = \sqrt{\bar\alpha_{t-1}}x_0 + \sqrt{1 - \bar\alpha_{t-1}}\,\varepsilon$ and
# $x_t = \sqrt{\alpha_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t$, so
#
# $$\begin{pmatrix} x_{t-1} \\ x_t \end{pmatrix} \sim \mathcal N\left(
# \begin{pmatrix} \sqrt{\bar\alpha_{t-1}}\,x_0 \\ \sqrt{\bar\alpha_t}\,x_0 \end{pmatrix},
# \begin{pmatrix} 1 - \bar\alpha_{t-1} & \sqrt{\alpha_t}(1 - \bar\alpha_{t-1}) \\
# \sqrt{\alpha_t}(1 - \bar\alpha_{t-1}) & 1 - \bar\alpha_t \end{pmatrix}\right).$$
#
# Conditioning a Gaussian, $\mu_{1|2} = \mu_1 + \Sigma_{12}\Sigma_{22}^{-1}(x_2 - \mu_2)$ and
# $\Sigma_{1|2} = \Sigma_{11} - \Sigma_{12}^2 / \Sigma_{22}$, and simplifying with
# $\bar\alpha_t = \alpha_t \bar\alpha_{t-1}$, gives
#
# $$q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I), \quad
# \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t}\,x_0
# + \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\,x_t, \quad
# \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\,\beta_t .$$
#
# At $t = 1$, $\tilde\beta_1 = 0$ and $\tilde\mu_1 = x_0$: the last step is deterministic given $x_0$.
# **Check** against direct conditioning of the joint Gaussian (in matrix form, with `np.linalg.solve`) at
# several $t$, and by Monte Carlo: among chain pairs whose $x_t$ falls near a value, $x_{t-1}$ has that mean and
# variance.

# %%
for t in (1, 2, 10, 500, 1000):
    beta, alpha, ab, ab_prev = betas_1000[t], 1 - betas_1000[t], alpha_bars_1000[t], alpha_bars_1000[t - 1]
    x0_value, xt_value = 0.7, -0.4
    mean_joint = np.array([np.sqrt(ab_prev), np.sqrt(ab)]) * x0_value
    cov_joint = np.array([[1 - ab_prev, np.sqrt(alpha) * (1 - ab_prev)], [np.sqrt(alpha) * (1 - ab_prev), 1 - ab]])
    gain = np.linalg.solve(cov_joint[1:, 1:], cov_joint[1:, :1]).ravel()
    mean_direct = mean_joint[0] + gain[0] * (xt_value - mean_joint[1])
    var_direct = cov_joint[0, 0] - gain[0] * cov_joint[1, 0]
    mean_formula = np.sqrt(ab_prev) * beta / (1 - ab) * x0_value + np.sqrt(alpha) * (1 - ab_prev) / (1 - ab) * xt_value
    var_formula = (1 - ab_prev) / (1 - ab) * beta
    print(f"t = {t:4d}: mean {mean_formula:+.6f} (direct {mean_direct:+.6f}), var {var_formula:.3e} ({var_direct:.3e})")
    assert np.isclose(mean_formula, mean_direct, atol=1e-10), f"t = {t}: mean {mean_formula} vs {mean_direct}"
    assert np.isclose(var_formula, var_direct, atol=1e-12), f"t = {t}: variance {var_formula} vs {var_direct}"

# %%
t_mc, x0_value = 50, 0.7
xt_value = np.sqrt(alpha_bars_1000[t_mc]) * x0_value + 0.5 * np.sqrt(1 - alpha_bars_1000[t_mc])  # a typical x_t
pair_rng = np.random.default_rng(config.seed() + 2)
prev = np.sqrt(alpha_bars_1000[t_mc - 1]) * x0_value + np.sqrt(1 - alpha_bars_1000[t_mc - 1]) * pair_rng.normal(
    size=2_000_000
)
now = np.sqrt(1 - betas_1000[t_mc]) * prev + np.sqrt(betas_1000[t_mc]) * pair_rng.normal(size=prev.shape)
near = np.abs(now - xt_value) < 0.005
ab, ab_prev, beta = alpha_bars_1000[t_mc], alpha_bars_1000[t_mc - 1], betas_1000[t_mc]
mean_formula = np.sqrt(ab_prev) * beta / (1 - ab) * x0_value + np.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab) * xt_value
var_formula = (1 - ab_prev) / (1 - ab) * beta
se = prev[near].std() / np.sqrt(near.sum())
print(
    f"{near.sum()} pairs with x_t near {xt_value:.3f}: mean of x_(t-1) {prev[near].mean():+.4f} ± {se:.4f} "
    f"(formula {mean_formula:+.4f}), variance {prev[near].var():.5f} (formula {var_formula:.5f})"
)
assert abs(prev[near].mean() - mean_formula) < 5 * se, "expected the Monte Carlo mean within 5 SE of the formula"
assert abs(prev[near].var() / var_formula - 1) < 0.05, "expected the Monte Carlo variance within 5 % of beta-tilde"

# %% [markdown]
# ## 3. The ELBO as a sum of KL terms, and the simplified loss
#
# The model is a reverse chain $p_\theta(x_{0:T}) = p(x_T) \prod_{t=1}^T p_\theta(x_{t-1} \mid x_t)$ with
# $p(x_T) = \mathcal N(0, I)$ and Gaussian steps $p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t),
# \sigma_t^2 I)$. Its ELBO, $\mathbb E_q[\log p_\theta(x_{0:T}) - \log q(x_{1:T} \mid x_0)]$, regroups (Bayes' rule on
# each $q(x_t \mid x_{t-1}, x_0)$) into
#
# $$-\mathrm{ELBO}(x_0) = \underbrace{\mathrm{KL}\big(q(x_T \mid x_0)\,\|\,p(x_T)\big)}_{L_T}
# + \sum_{t=2}^{T} \underbrace{\mathbb E_q\,\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0)\,\|\,p_\theta(x_{t-1} \mid x_t)
# \big)}_{L_{t-1}}
# \ \underbrace{- \ \mathbb E_q \log p_\theta(x_0 \mid x_1)}_{L_0}.$$
#
# Each $L_{t-1}$ is a KL between two Gaussians, in closed form. Writing $x_t = \sqrt{\bar\alpha_t}x_0 +
# \sqrt{1 - \bar\alpha_t}\,\varepsilon$ and parametrising the mean through a **noise predictor**,
#
# $$\mu_\theta(x_t, t) = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,
# \varepsilon_\theta(x_t, t)\Big),
# \qquad \tilde\mu_t - \mu_\theta = \frac{\beta_t}{\sqrt{\alpha_t}\sqrt{1 - \bar\alpha_t}}\,
# \big(\varepsilon_\theta - \varepsilon\big),$$
#
# so with $\sigma_t^2 = \tilde\beta_t$ (then the variance part of the KL vanishes)
#
# $$L_{t-1} = w_t\,\mathbb E\,\lVert \varepsilon - \varepsilon_\theta(x_t, t) \rVert^2, \qquad
# w_t = \frac{\beta_t^2}{2\sigma_t^2\,\alpha_t\,(1 - \bar\alpha_t)}.$$
#
# Ho et al. drop the weights: the **simplified loss** $L_\text{simple} = \mathbb E_{t, x_0, \varepsilon}
# \lVert \varepsilon - \varepsilon_\theta(x_t, t) \rVert^2$ with $t$ uniform on $1..T$ is the ELBO with every
# $w_t$ replaced by one, a reweighting that gives the large, noisy $t$ (where $w_t$ is small) more weight.
# **Check** the identity $L_{t-1} = w_t\lVert\varepsilon - \varepsilon_\theta\rVert^2$ against `tfd.kl_divergence`
# for random $x_0$, $\varepsilon$ and predictions at several $t$.


# %%
def posterior_terms(x0, xt, t, betas, alpha_bars):
    """(mean, variance) of q(x_(t-1) | x_t, x_0) for one integer t >= 1 (NumPy, any shapes of x0 and xt)."""
    beta, ab, ab_prev = betas[t], alpha_bars[t], alpha_bars[t - 1]
    mean = (np.sqrt(ab_prev) * beta * x0 + np.sqrt(1 - beta) * (1 - ab_prev) * xt) / (1 - ab)
    return mean, (1 - ab_prev) / (1 - ab) * beta


def model_mean(xt, eps_pred, t, betas, alpha_bars):
    """mu_theta(x_t, t) from a noise prediction, for one integer t."""
    return (xt - betas[t] / np.sqrt(1 - alpha_bars[t]) * eps_pred) / np.sqrt(1 - betas[t])


kl_rng = np.random.default_rng(config.seed() + 3)
for t in (2, 10, 300, 1000):
    x0, eps, eps_pred = kl_rng.normal(size=(3, 784))
    xt = np.sqrt(alpha_bars_1000[t]) * x0 + np.sqrt(1 - alpha_bars_1000[t]) * eps
    mean, var = posterior_terms(x0, xt, t, betas_1000, alpha_bars_1000)
    mu = model_mean(xt, eps_pred, t, betas_1000, alpha_bars_1000)
    kl = tfd.kl_divergence(tfd.Normal(mean, np.sqrt(var)), tfd.Normal(mu, np.sqrt(var))).numpy().sum()
    weight = betas_1000[t] ** 2 / (2 * var * (1 - betas_1000[t]) * (1 - alpha_bars_1000[t]))
    print(f"t = {t:4d}: KL {kl:12.5f}   w_t |eps - eps_theta|^2 {weight * np.sum((eps - eps_pred) ** 2):12.5f}")
    assert np.isclose(kl, weight * np.sum((eps - eps_pred) ** 2), rtol=1e-6), f"t = {t}: the KL is not w_t * SE"

# %% [markdown]
# The weights $w_t$ of the linear schedule, $T = 1000$, scaled to average one: the ELBO weighs the first steps,
# where the noise is small, far more than the last ones. $L_\text{simple}$ weighs every step alike, so compared with
# the ELBO it moves weight towards the noisy steps, which matter for what samples look like.

# %%
t_axis = np.arange(2, 1001)
beta_tilde_1000 = (1 - alpha_bars_1000[t_axis - 1]) / (1 - alpha_bars_1000[t_axis]) * betas_1000[t_axis]
w_1000 = betas_1000[t_axis] ** 2 / (2 * beta_tilde_1000 * (1 - betas_1000[t_axis]) * (1 - alpha_bars_1000[t_axis]))
fig, ax = plt.subplots()
ax.semilogy(t_axis, w_1000 / w_1000.mean(), label="ELBO weight $w_t$ (scaled to mean 1)")
ax.semilogy(t_axis, np.ones_like(w_1000), "--", label="$L_{simple}$ (constant)")
ax.set_xlabel("t")
ax.set_ylabel("weight of $|\\varepsilon - \\varepsilon_\\theta|^2$")
ax.set_title("The ELBO's weights against the simplified loss (linear schedule, T = 1000)")
ax.legend(frameon=False)
plt.show()
print(f"w_2 / w_T = {w_1000[0] / w_1000[-1]:.1f}")
assert w_1000[0] > 10 * w_1000[-1], f"expected w_2 far above w_T, got {w_1000[0]:.3g} and {w_1000[-1]:.3g}"

# %% [markdown]
# **Check the regrouping itself** on a small 1-D model ($T = 50$, $x_0 = 0.7$, any fixed noise predictor, here
# $\varepsilon_\theta(x_t, t) = \sqrt{1 - \bar\alpha_t}\,x_t$, with $\sigma_t^2 = \tilde\beta_t$ and
# $\sigma_1^2 = \beta_1$ for the decoder $p_\theta(x_0 \mid x_1)$): the ELBO estimated by Monte Carlo from its
# definition, $\log p_\theta(x_{0:T}) - \log q(x_{1:T} \mid x_0)$ on chains drawn from $q$, agrees with the sum of
# closed-form KL terms.

# %%
T_CHECK = 50
betas_check, alpha_bars_check = linear_schedule(T_CHECK)
n_elbo_check, x0_value = 100_000, 0.7
elbo_rng = np.random.default_rng(config.seed() + 4)
path = [np.full(n_elbo_check, x0_value)]
for t in range(1, T_CHECK + 1):
    path.append(np.sqrt(1 - betas_check[t]) * path[-1] + np.sqrt(betas_check[t]) * elbo_rng.normal(size=n_elbo_check))


def reverse_scale(t):
    """sigma_t of the 1-D check model: beta-tilde_t for t >= 2, and beta_1 for the decoder at t = 1."""
    return np.sqrt(betas_check[1] if t == 1 else posterior_terms(0.0, 0.0, t, betas_check, alpha_bars_check)[1])


def check_mean(xt, t):
    return model_mean(xt, np.sqrt(1 - alpha_bars_check[t]) * xt, t, betas_check, alpha_bars_check)


standard64 = tfd.Normal(np.float64(0.0), np.float64(1.0))  # p(x_T), in float64 like the chain
log_ratio = standard64.log_prob(path[T_CHECK]).numpy()
for t in range(1, T_CHECK + 1):
    log_ratio += tfd.Normal(check_mean(path[t], t), reverse_scale(t)).log_prob(path[t - 1]).numpy()
    log_ratio -= (
        tfd.Normal(np.sqrt(1 - betas_check[t]) * path[t - 1], np.sqrt(betas_check[t])).log_prob(path[t]).numpy()
    )
kl_sum = tfd.kl_divergence(
    tfd.Normal(np.sqrt(alpha_bars_check[T_CHECK]) * x0_value, np.sqrt(1 - alpha_bars_check[T_CHECK])), standard64
).numpy()
kl_sum -= tfd.Normal(check_mean(path[1], 1), reverse_scale(1)).log_prob(x0_value).numpy()
for t in range(2, T_CHECK + 1):
    q_mean, q_var = posterior_terms(x0_value, path[t], t, betas_check, alpha_bars_check)
    kl_sum += tfd.kl_divergence(
        tfd.Normal(q_mean, np.sqrt(q_var)), tfd.Normal(check_mean(path[t], t), reverse_scale(t))
    )
elbo_direct, elbo_kls = log_ratio.mean(), -np.mean(kl_sum)
se = np.std(log_ratio + kl_sum) / np.sqrt(n_elbo_check)
print(f"ELBO from its definition {elbo_direct:.4f}, as L_T + sum of KLs + L_0: {elbo_kls:.4f} (difference SE {se:.4f})")
assert abs(elbo_direct - elbo_kls) < 5 * se, f"expected the two ELBOs within 5 SE, got {elbo_direct} and {elbo_kls}"

# %% [markdown]
# ## 4. Samplers, checked on data whose best noise predictor is known
#
# **Ancestral sampling** runs the reverse chain: $x_T \sim \mathcal N(0, I)$, then
# $x_{t-1} = \mu_\theta(x_t, t) + \sigma_t z$ with $z \sim \mathcal N(0, I)$ and no noise at the last step
# ($\sigma_1 = 0$ with $\sigma_t^2 = \tilde\beta_t$).
# **DDIM** (Song, Meng and Ermon, 2021) with $\eta = 0$ is deterministic: from the prediction
# $\hat x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,\varepsilon_\theta)/\sqrt{\bar\alpha_t}$ it jumps to any earlier
# $s < t$, $x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1 - \bar\alpha_s}\,\varepsilon_\theta$, so it can skip steps:
# 10 or 50 instead of $T$.
#
# For Gaussian data $x_0 \sim \mathcal N(m, s^2)$ the best noise predictor is known:
# $x_t \sim \mathcal N(\sqrt{\bar\alpha_t}m,\ \bar\alpha_t s^2 + 1 - \bar\alpha_t)$ and
# $\mathbb E[\varepsilon \mid x_t] = \sqrt{1 - \bar\alpha_t}\,(x_t - \sqrt{\bar\alpha_t}m)/(\bar\alpha_t s^2 + 1 -
# \bar\alpha_t)$. With it, both samplers must return draws of $\mathcal N(m, s^2)$ when they take many small steps:
# a check of the samplers before any network is trained. With few DDIM steps the discretisation shows: the
# samples come out too concentrated, less so with 50 steps than with 10.


# %%
def ancestral_sample(eps_fn, x_T, betas, alpha_bars, seed, keep=False):
    """Run the reverse chain from x_T (float32 (B, D)) with sigma_t^2 = beta-tilde_t; eps_fn(x, t) -> (B, D)."""
    T, x, path = len(betas) - 1, tf.convert_to_tensor(x_T, tf.float32), [x_T]
    noise = tf.random.Generator.from_seed(seed)
    for t in training.progress(range(T, 0, -1), f"ancestral sampling, {T} steps"):
        eps = eps_fn(x, tf.fill([tf.shape(x)[0]], t))
        mean = (x - betas[t] / np.sqrt(1 - alpha_bars[t]) * eps) / np.sqrt(1 - betas[t])
        sigma = np.sqrt((1 - alpha_bars[t - 1]) / (1 - alpha_bars[t]) * betas[t])
        x = mean + sigma * noise.normal(tf.shape(x)) if t > 1 else mean
        if keep:
            path.append(x.numpy())
    return (x, path) if keep else x


def ddim_sample(eps_fn, x_T, alpha_bars, steps):
    """Deterministic DDIM (eta = 0) from x_T over `steps` evenly spaced times from T down to 0."""
    times = np.linspace(len(alpha_bars) - 1, 0, steps + 1).round().astype(int)
    x = tf.convert_to_tensor(x_T, tf.float32)
    for t, s in zip(times[:-1], times[1:]):
        eps = eps_fn(x, tf.fill([tf.shape(x)[0]], int(t)))
        x0_hat = (x - np.sqrt(1 - alpha_bars[t]) * eps) / np.sqrt(alpha_bars[t])
        x = np.sqrt(alpha_bars[s]) * x0_hat + np.sqrt(1 - alpha_bars[s]) * eps
    return x


# %%
m_gauss, s_gauss = 1.5, 0.5
betas_gauss, alpha_bars_gauss = betas_1000, alpha_bars_1000
ab_table = tf.constant(alpha_bars_gauss, tf.float32)


@tf.function
def oracle_eps(x, t):
    ab = tf.gather(ab_table, t)[:, None]
    return tf.sqrt(1 - ab) * (x - tf.sqrt(ab) * m_gauss) / (ab * s_gauss**2 + 1 - ab)


x_T_gauss = np.random.default_rng(config.seed() + 5).normal(size=(50_000, 1)).astype("float32")
oracle_samples = {"ancestral, 1000 steps": ancestral_sample(oracle_eps, x_T_gauss, betas_gauss, alpha_bars_gauss, 5)}
for steps in (*DDIM_STEPS, 1000):
    oracle_samples[f"DDIM, {steps} steps"] = ddim_sample(oracle_eps, x_T_gauss, alpha_bars_gauss, steps)
std_error = {}
for name, samples in oracle_samples.items():
    mean, std = float(np.mean(samples)), float(np.std(samples))
    std_error[name] = abs(std - s_gauss)
    print(f"{name:22s}: mean {mean:.4f} (data {m_gauss}), std {std:.4f} (data {s_gauss})")
    assert abs(mean - m_gauss) < 0.01, f"{name}: expected the mean {m_gauss}, got {mean:.4f}"
# measured (seeds 0-2, 50 000 draws): std 0.495 ancestral, 0.499 DDIM 1000, 0.472 DDIM 50, 0.370 DDIM 10
for name in ("ancestral, 1000 steps", "DDIM, 1000 steps"):
    assert std_error[name] < 0.012, f"{name}: expected the std {s_gauss}, got an error of {std_error[name]:.4f}"
assert std_error["DDIM, 10 steps"] > std_error["DDIM, 50 steps"] > std_error["DDIM, 1000 steps"], (
    f"expected DDIM's error to shrink with the number of steps, got {std_error}"
)

# %% [markdown]
# ## 5. A DDPM on a 2-D toy set
#
# Two moons, standardised, 8192 points for training. The noise predictor $\varepsilon_\theta(x_t, t)$ is a small
# MLP that sees $x_t$ and a sinusoidal embedding of $t$ (the sines and cosines of $t$ at several frequencies, as
# positions in a transformer). The model class keeps the schedule; its `train_step` draws
# $t \sim \mathcal U\{1, \dots, T\}$ and $\varepsilon \sim \mathcal N(0, I)$ for each example, forms $x_t$ by the
# closed form and takes a gradient step on $L_\text{simple}$.


# %%
def two_moons(n, rng, noise=0.08):
    """n points of the two-moons set, standardised (float32, shape (n, 2))."""
    angle = np.pi * rng.random(n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + noise * rng.normal(size=(n, 2))
    return ((points - [0.5, 0.25]) / [0.87, 0.5]).astype("float32")


toy_rng = np.random.default_rng(config.seed() + 6)
toy_train, toy_test, toy_test2 = two_moons(8192, toy_rng), two_moons(1000, toy_rng), two_moons(1000, toy_rng)
print(f"toy data: mean {toy_train.mean(0).round(2)}, std {toy_train.std(0).round(2)}")


# %%
def timestep_embedding(t, T, dim=32):
    """Sines and cosines of t (int (B,)) at dim / 2 frequencies, with t measured on a 0..1000 scale."""
    freqs = tf.exp(-np.log(1000.0) * tf.range(dim // 2, dtype=tf.float32) / (dim // 2))
    angles = tf.cast(t, tf.float32)[:, None] * (1000.0 / T) * freqs[None, :]
    return tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)


class MLPDenoiser(keras.Model):
    """eps_theta(x_t, t) for flat data (B, D): an MLP on [x_t, embedding of t], plus a linear skip from x_t.

    The skip starts as the identity: at large t the noise is nearly x_t itself, which an MLP learns slowly.
    """

    def __init__(self, data_dim, T, hidden=128, depth=3, **kwargs):
        super().__init__(**kwargs)
        self.T = T
        self.time = keras.layers.Dense(hidden, activation="silu")
        self.hidden = [keras.layers.Dense(hidden, activation="silu") for _ in range(depth)]
        self.out = keras.layers.Dense(data_dim)
        self.skip = keras.layers.Dense(data_dim, use_bias=False, kernel_initializer="identity")  # starts as x_t

    def call(self, x, t):
        h = tf.concat([x, self.time(timestep_embedding(t, self.T))], axis=-1)
        for layer in self.hidden:
            h = layer(h)
        return self.out(h) + self.skip(x)


# %% [markdown]
# The model: the noise predictor, the schedule as constants, and the training step on $L_\text{simple}$.


# %%
class DDPM(keras.Model):
    """A DDPM on flat data (B, D) with a noise predictor `net(x_t, t)` and schedule arrays indexed by t."""

    def __init__(self, net, betas, alpha_bars, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.net, self.T = net, len(betas) - 1
        self.betas = tf.constant(betas, tf.float32)
        self.alpha_bars = tf.constant(alpha_bars, tf.float32)
        self.noise = tf.random.Generator.from_seed(seed)
        self.loss_tracker = keras.metrics.Mean("loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, x, t):
        return self.net(x, t)

    def train_step(self, x0):
        t = self.noise.uniform([tf.shape(x0)[0]], 1, self.T + 1, dtype=tf.int32)  # uniform on 1..T
        eps = self.noise.normal(tf.shape(x0))
        ab = tf.gather(self.alpha_bars, t)[:, None]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(eps - self.net(tf.sqrt(ab) * x0 + tf.sqrt(1 - ab) * eps, t)))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def build_ddpm(net, betas, alpha_bars, data_dim, learning_rate):
    model = DDPM(net, betas, alpha_bars, seed=config.seed())
    model(tf.zeros([1, data_dim]), tf.ones([1], tf.int32))  # build the weights
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=training.jit_compile())
    return model


# %%
keras.utils.set_random_seed(config.seed())
betas_toy, alpha_bars_toy = linear_schedule(T_TOY)
toy_model = build_ddpm(MLPDenoiser(2, T_TOY), betas_toy, alpha_bars_toy, 2, 5e-3)
toy_batches = tf.data.Dataset.from_tensor_slices(toy_train).shuffle(8192, seed=config.seed()).batch(256)
start = time.perf_counter()
toy_history = training.fit(toy_model, toy_batches, TOY_EPOCHS)
toy_seconds = time.perf_counter() - start
toy_epochs_run = len(toy_history.history["loss"])
print(f"{toy_epochs_run} epochs in {toy_seconds:.1f} s; final L_simple {toy_history.history['loss'][-1]:.3f}")

# %% [markdown]
# **How good are the samples?** The maximum mean discrepancy (MMD) compares two samples through a kernel:
# $\mathrm{MMD}^2 = \overline{k(a, a')} + \overline{k(b, b')} - 2\,\overline{k(a, b)}$, zero when both come from
# one distribution (up to sampling noise). We use a sum of Gaussian kernels of widths 0.05 to 1 and compare
# 1000 ancestral samples with 1000 held-out points, against two references: a Gaussian fitted to the training
# data (what a model that knows only the mean and covariance would give), and a second held-out sample of the data
# (the **floor**: two samples of the same distribution differ by this much).


# %%
def mmd2(a, b, widths=(0.05, 0.1, 0.2, 0.5, 1.0)):
    """The (biased) squared MMD between samples a and b with a sum of Gaussian kernels."""

    def kernel(u, v):
        d2 = np.sum(u**2, 1)[:, None] + np.sum(v**2, 1)[None, :] - 2 * u @ v.T
        return sum(np.exp(-d2 / (2 * w**2)) for w in widths)

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return kernel(a, a).mean() + kernel(b, b).mean() - 2 * kernel(a, b).mean()


toy_x_T = np.random.default_rng(config.seed() + 7).normal(size=(1000, 2)).astype("float32")
toy_eps = tf.function(lambda x, t: toy_model(x, t))
toy_samples, toy_path = ancestral_sample(toy_eps, toy_x_T, betas_toy, alpha_bars_toy, 7, keep=True)
toy_samples = toy_samples.numpy()
gauss_rng = np.random.default_rng(config.seed() + 8)
gauss_samples = gauss_rng.multivariate_normal(toy_train.mean(0), np.cov(toy_train.T), size=1000)
mmd_ddpm, mmd_gauss, mmd_floor = mmd2(toy_samples, toy_test), mmd2(gauss_samples, toy_test), mmd2(toy_test2, toy_test)
toy_mmd_over_gaussian, toy_mmd_over_floor = mmd_ddpm / mmd_gauss, mmd_ddpm / mmd_floor
print(f"MMD^2: DDPM {mmd_ddpm:.5f}, Gaussian fit {mmd_gauss:.5f}, data vs data {mmd_floor:.5f}")
print(f"DDPM / Gaussian {toy_mmd_over_gaussian:.3f}; DDPM / floor {toy_mmd_over_floor:.2f}")
# FAST (80 epochs), measured: 0.26 and 0.34 with seed 0 (TF threads make runs differ slightly), 0.25 with seed 1,
# 0.34 with seed 2; with seed 0, 50 epochs gave 0.34 and 100 epochs 0.16
assert toy_mmd_over_gaussian < 0.5, f"expected the DDPM's MMD^2 well below the Gaussian's, got {toy_mmd_over_gaussian}"

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
for ax, points, title in zip(
    axes, (toy_test, toy_samples, gauss_samples), ("held-out data", "DDPM samples", "Gaussian fit")
):
    ax.scatter(points[:, 0], points[:, 1], s=3)
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
axes[0].set_ylabel("$x_2$")
plt.show()

# %% [markdown]
# ## 6. Widget: forward noising and reverse denoising over $t$
#
# Left: the held-out points noised to step $t$ by the closed form $q(x_t \mid x_0)$. Right: the reverse chain of
# the trained model at the same $t$ (it runs from $t = T$ down to $0$). The two columns should look alike at every
# $t$: the model's reverse marginals match the forward ones when it has learned the noise well.

# %%
forward_rng = np.random.default_rng(config.seed() + 9)
forward_noise = forward_rng.normal(size=toy_test.shape)


def draw(t):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
    forward = np.sqrt(alpha_bars_toy[t]) * toy_test + np.sqrt(1 - alpha_bars_toy[t]) * forward_noise
    reverse = toy_path[T_TOY - t]
    for ax, points, title in zip(axes, (forward, reverse), ("forward: $q(x_t \\mid x_0)$", "reverse: the model")):
        ax.scatter(points[:, 0], points[:, 1], s=3)
        ax.set_title(f"{title}, t = {t}")
        ax.set_xlabel("$x_1$")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-3.5, 3.5)
    axes[0].set_ylabel("$x_2$")


widgets.explore(draw, t=widgets.integer(T_TOY // 10, 0, T_TOY, "t"))

# %% [markdown]
# ## 7. MNIST: data and an independent classifier
#
# Grey levels $k \in \{0, \dots, 255\}$ are scaled to $x = k/127.5 - 1 \in [-1, 1]$ (not binarised: the DDPM
# models real values). To judge samples without looking, an **independent classifier** reads them: unit 06's
# MLP (`dgm.judge`), trained here on real images in $[-1, 1]$, never on samples. A sample it classifies with
# probability at least 0.9 looks like a digit; on pure noise it should rarely be that sure.

# %%
mnist = data.load("mnist")
train_x = data.to_float(mnist["train_images"]) * 2 - 1
test_x = data.to_float(mnist["test_images"]) * 2 - 1
classifier = judge.train(train_x, mnist["train_labels"], epochs=CLASSIFIER_EPOCHS, seed=config.seed() + 2)
classifier_accuracy = float(np.mean(judge.digits(classifier, test_x) == mnist["test_labels"]))


def confident_rate(images):
    """The fraction of images (B, 784) in [-1, 1] that the classifier gives a class probability >= 0.9."""
    probs = judge.probabilities(classifier, np.clip(images, -1, 1))
    return float(np.mean(probs.max(1) >= 0.9)), probs.argmax(1)


noise_rate = confident_rate(np.random.default_rng(config.seed() + 10).uniform(-1, 1, (N_SAMPLES, 784)))[0]
print(
    f"classifier test accuracy {classifier_accuracy:.3f}; confident on {confident_rate(test_x[:1000])[0]:.2f} "
    f"of test images and on {noise_rate:.2f} of uniform noise"
)
assert classifier_accuracy > 0.85, f"expected the classifier above 85 % accuracy, got {classifier_accuracy:.3f}"

# %% [markdown]
# ## 8. The MNIST DDPM
#
# In FAST mode the noise predictor is the MLP above (two hidden layers of 512 on the flat image, with
# $T = 100$); in FULL mode a small **U-Net**: convolutions at 28, 14 and 7 pixels, the time embedding added in
# every block, and skip connections from the way down to the way up, with $T = 1000$. Either takes and
# returns flat images $(B, 784)$, so the same `DDPM` class trains both.


# %%
class Block(keras.layers.Layer):
    """Two 3x3 convolutions with group norm and SiLU, the time embedding added between them, and a skip."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.norm1, self.norm2 = keras.layers.GroupNormalization(8), keras.layers.GroupNormalization(8)
        self.conv1 = keras.layers.Conv2D(channels, 3, padding="same")
        self.conv2 = keras.layers.Conv2D(channels, 3, padding="same")
        self.time = keras.layers.Dense(channels)
        self.skip = keras.layers.Conv2D(channels, 1)

    def call(self, x, emb):
        h = self.conv1(tf.nn.silu(self.norm1(x)))
        h = h + self.time(emb)[:, None, None, :]
        return self.skip(x) + self.conv2(tf.nn.silu(self.norm2(h)))


class UNet(keras.Model):
    """eps_theta for flat 28x28 images: a two-level U-Net with channels c, 2c, 2c."""

    def __init__(self, T, channels=32, **kwargs):
        super().__init__(**kwargs)
        c, self.T = channels, T
        self.time = keras.Sequential([keras.layers.Dense(4 * c, activation="silu"), keras.layers.Dense(4 * c)])
        self.stem = keras.layers.Conv2D(c, 3, padding="same")
        self.down = [Block(c), Block(2 * c), Block(2 * c)]
        self.pool = [keras.layers.Conv2D(c, 3, 2, padding="same"), keras.layers.Conv2D(2 * c, 3, 2, padding="same")]
        self.up = [Block(2 * c), Block(c)]
        self.unpool = [keras.layers.UpSampling2D(2), keras.layers.UpSampling2D(2)]
        self.head = keras.layers.Conv2D(1, 3, padding="same")

    def call(self, x, t):
        emb = self.time(timestep_embedding(t, self.T, 64))
        h28 = self.down[0](self.stem(tf.reshape(x, [-1, 28, 28, 1])), emb)
        h14 = self.down[1](self.pool[0](h28), emb)
        h7 = self.down[2](self.pool[1](h14), emb)
        u14 = self.up[0](tf.concat([self.unpool[0](h7), h14], -1), emb)
        u28 = self.up[1](tf.concat([self.unpool[1](u14), h28], -1), emb)
        return tf.reshape(self.head(tf.nn.silu(u28)), [-1, 784])


# %%
keras.utils.set_random_seed(config.seed())
betas_mnist, alpha_bars_mnist = linear_schedule(T_MNIST)
net = MLPDenoiser(784, T_MNIST, hidden=512, depth=2) if DENOISER == "mlp" else UNet(T_MNIST)
mnist_model = build_ddpm(net, betas_mnist, alpha_bars_mnist, 784, config.pick(fast=2e-3, full=5e-4))
mnist_batches = tf.data.Dataset.from_tensor_slices(train_x).shuffle(len(train_x), seed=config.seed()).batch(128)
start = time.perf_counter()
mnist_history = training.fit(mnist_model, mnist_batches, MNIST_EPOCHS)
mnist_seconds = time.perf_counter() - start
mnist_epochs_run = len(mnist_history.history["loss"])
print(
    f"{DENOISER}, T = {T_MNIST}: {mnist_epochs_run} epochs in {mnist_seconds:.1f} s, "
    f"final L_simple {mnist_history.history['loss'][-1]:.3f}"
)

# %% [markdown]
# ## 9. Bits per dimension
#
# The ELBO of section 3 on test images, with $\sigma_t^2 = \tilde\beta_t$ for $t \ge 2$. The data are discrete
# (256 grey levels), so the decoder $p_\theta(x_0 \mid x_1)$ is **discretised** as in Ho et al.: the probability of
# a grey level is the mass of $\mathcal N(\mu_\theta(x_1, 1), \beta_1)$ on its bin of width $2/255$ (the end bins
# extend to $\pm\infty$). The ELBO is then a bound on a discrete log-likelihood, and
# $-\mathrm{ELBO}/(784 \ln 2)$ is in **bits per dimension**. For scale: a uniform guess over the 256 levels costs
# 8 bits; a weakly trained model can do worse than that, since its first steps, where $w_t$ is largest, are the
# hardest to learn.
# One draw of $x_t$ per image and step estimates each $L_{t-1}$; the check confirms on the trained model that
# `tfd.kl_divergence` equals $w_t \lVert\varepsilon - \varepsilon_\theta\rVert^2$.

# %%
mnist_eps = tf.function(lambda x, t: mnist_model(x, t))
elbo_x0 = test_x[:ELBO_N].astype("float64")  # the ELBO in float64: at small t, mu-tilde - mu_theta is tiny
elbo_rng = np.random.default_rng(config.seed() + 11)
terms = np.zeros((T_MNIST + 1, ELBO_N))  # terms[t]: L_(t-1) per image for t >= 2, L_0 at t = 1, in nats
for t in training.progress(range(1, T_MNIST + 1), f"ELBO terms of {ELBO_N} test images, steps"):
    eps = elbo_rng.standard_normal(elbo_x0.shape)
    ab = alpha_bars_mnist[t]
    xt = np.sqrt(ab) * elbo_x0 + np.sqrt(1 - ab) * eps
    eps_pred = mnist_eps(tf.constant(xt, tf.float32), tf.fill([ELBO_N], t)).numpy().astype("float64")
    mu = model_mean(xt, eps_pred, t, betas_mnist, alpha_bars_mnist)
    if t == 1:
        decoder = tfd.Normal(mu, np.sqrt(betas_mnist[1]))
        upper = np.where(elbo_x0 > 0.999, 1.0, decoder.cdf(elbo_x0 + 1 / 255).numpy())
        lower = np.where(elbo_x0 < -0.999, 0.0, decoder.cdf(elbo_x0 - 1 / 255).numpy())
        terms[1] = -np.log(np.maximum(upper - lower, 1e-12)).sum(1)
        continue
    q_mean, q_var = posterior_terms(elbo_x0, xt, t, betas_mnist, alpha_bars_mnist)
    terms[t] = tfd.kl_divergence(tfd.Normal(q_mean, np.sqrt(q_var)), tfd.Normal(mu, np.sqrt(q_var))).numpy().sum(1)
    if t in (2, T_MNIST // 2, T_MNIST):
        w = betas_mnist[t] ** 2 / (2 * q_var * (1 - betas_mnist[t]) * (1 - ab))
        reweighted = w * np.sum((eps - eps_pred) ** 2, 1)
        assert np.allclose(terms[t], reweighted, rtol=1e-6), f"t = {t}: KL is not w_t * |eps - eps_theta|^2"
abT = alpha_bars_mnist[-1]
L_T = tfd.kl_divergence(tfd.Normal(np.sqrt(abT) * elbo_x0, np.sqrt(1 - abT)), standard64).numpy().sum(1)
to_bits = 1 / (784 * np.log(2))
bits_per_dim = float((terms.sum(0) + L_T).mean() * to_bits)
print(
    f"bits/dim on {ELBO_N} test images: {bits_per_dim:.3f} = L_T {L_T.mean() * to_bits:.2e} "
    f"+ sum of L_(t-1) {terms[2:].sum(0).mean() * to_bits:.3f} + L_0 {terms[1].mean() * to_bits:.3f}"
)
assert bits_per_dim > 0 and np.isfinite(bits_per_dim), f"expected a positive, finite bits/dim, got {bits_per_dim}"

# %%
fig, ax = plt.subplots()
ax.semilogy(np.arange(2, T_MNIST + 1), terms[2:].mean(1) * to_bits)
ax.set_xlabel("t")
ax.set_ylabel("$L_{t-1}$ (bits/dim)")
ax.set_title("Where the ELBO's bits are: the KL term of each step, test images")
plt.show()

# %% [markdown]
# ## 10. Ancestral sampling against DDIM
#
# 100 samples from the same $x_T$ with each sampler: ancestral over all $T$ steps, and DDIM in 10 and 50 steps.
# The table gives the share of samples the classifier is confident on, and the number of distinct digits it
# reads among them. In FAST mode (a small MLP trained for a few hundred steps) expect blurry digits and a few
# samples that fail outright (saturated images); FULL mode trains a U-Net for much longer.

# %%
mnist_x_T = np.random.default_rng(config.seed() + 12).normal(size=(N_SAMPLES, 784)).astype("float32")
start = time.perf_counter()
mnist_samples = {
    f"ancestral, {T_MNIST} steps": ancestral_sample(mnist_eps, mnist_x_T, betas_mnist, alpha_bars_mnist, 12)
}
for steps in DDIM_STEPS:
    mnist_samples[f"DDIM, {steps} steps"] = ddim_sample(mnist_eps, mnist_x_T, alpha_bars_mnist, steps)
print(f"sampling took {time.perf_counter() - start:.1f} s")
sample_table = {}
for name, samples in mnist_samples.items():
    rate, digits = confident_rate(samples.numpy())
    sample_table[name] = (rate, len(np.unique(digits)))
    print(f"{name:22s}: confident on {rate:.2f}, {len(np.unique(digits))} distinct digits")
ancestral_name = f"ancestral, {T_MNIST} steps"
confident, distinct_digits = sample_table[ancestral_name]
# FAST (15 epochs), measured with seeds 0, 1, 2: confident on 0.46, 0.43, 0.42 of ancestral samples (DDIM 0.63-0.83),
# on 0.00 of uniform noise; 10 epochs gave 0.36 (seed 0). The bound 0.2 leaves room for the spread between runs.
assert confident > 0.2 and confident > noise_rate + 0.15, f"expected samples that are not noise, got {confident:.2f}"


# %%
def to_unit(images):
    """Images in [-1, 1] (samples may overshoot a little) to grey levels in [0, 1] for display."""
    return np.clip((np.asarray(images) + 1) / 2, 0.0, 1.0)


fig = plotting.image_grid(to_unit(mnist_samples[ancestral_name][:32]), 4, 8, f"DDPM: {ancestral_name}")
plt.show()
fig = plotting.image_grid(to_unit(mnist_samples["DDIM, 10 steps"][:32]), 4, 8, "DDIM, 10 steps")
plt.show()

# %% [markdown]
# ## 11. Diffusion as a hierarchical VAE with a fixed encoder
#
# Unit 07 ("07_hierarchical_vae") trains a VAE with a chain of latent layers. A diffusion model is such a VAE, with
# one layer per step, $z_t = x_t$, and these differences, term by term:
#
# | term | hierarchical VAE (unit 07) | diffusion |
# |---|---|---|
# | latents | $z_1, \dots, z_L$, smaller than $x$ | $x_1, \dots, x_T$, the size of $x_0$ |
# | encoder | $q_\phi(z \mid x)$, learned | $\prod_t q(x_t \mid x_{t-1})$, **fixed**, no parameters |
# | top prior | $p(z_L)$; its KL is learned | $\mathcal N(0, I)$; $L_T$ has no parameter, $\approx 0$ |
# | top-down step | $p_\theta(z_{l-1} \mid z_l)$ | $p_\theta(x_{t-1} \mid x_t)$, mean from $\varepsilon_\theta$ |
# | KL of a layer | $\mathrm{KL}(q(z_{l-1} \mid \cdot)\,\|\,p_\theta(z_{l-1} \mid z_l))$ | $L_{t-1}$, in closed form |
# | reconstruction | $\mathbb E_q \log p_\theta(x \mid z_1)$ | $-L_0$, discretised |
# | training | all layers sampled, all KLs | one random $t$ per example |
#
# Because the encoder is fixed there is no posterior collapse and no encoder to balance against the decoder; the
# price is many layers, and many network calls to sample. Checked on the MNIST model: the top term $L_T$, which
# no parameter can change, is negligible, and the bound is exactly the sum of the per-layer terms.

# %%
L_T_bits = float(L_T.mean() * to_bits)
print(f"L_T = {L_T_bits:.2e} bits/dim, of a total of {bits_per_dim:.3f}")
assert L_T_bits < 1e-3, f"expected L_T (the fixed encoder's top KL) below 1e-3 bits/dim, got {L_T_bits}"
assert np.isclose(bits_per_dim, (terms[1:].sum(0).mean() + L_T.mean()) * to_bits), "ELBO terms do not add up"

# %% [markdown]
# ## What this run measured
#
# The toy model's sample quality as MMD² relative to two references (a Gaussian fitted to the data: below 1 is
# better than it; a second sample of the data: 1 is as good as the data); the MNIST model's ELBO in bits per
# dimension (lower is better); and how often the digit classifier is confident on its samples, per sampler.

# %%
RESULTS = {
    "toy_mmd_over_gaussian": round(float(toy_mmd_over_gaussian), 4),
    "toy_mmd_over_floor": round(float(toy_mmd_over_floor), 3),
    "toy_epochs_run": int(toy_epochs_run),
    "classifier_accuracy": round(classifier_accuracy, 4),
    "confident_rate": round(confident, 3),
    "distinct_digits": int(distinct_digits),
    "bits_per_dim": round(bits_per_dim, 4),
    "mnist_T": int(T_MNIST),
    "mnist_epochs_run": int(mnist_epochs_run),
    "ddim_10_confident_rate": round(sample_table["DDIM, 10 steps"][0], 3),
    "ddim_50_confident_rate": round(sample_table["DDIM, 50 steps"][0], 3),
    "ddpm_1000_confident_rate": round(confident, 3),  # ancestral over all T_MNIST steps (100 in FAST)
}
print(f"{'measure':40s} value")
for key, value in RESULTS.items():
    print(f"{key:40s} {value}")

# %% [markdown]
# ## Summary
#
# - The forward chain $x_t = \sqrt{1 - \beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon$ keeps unit variance and has
#   the closed form $q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t}x_0, (1 - \bar\alpha_t)I)$.
# - The posterior $q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ follows by Gaussian
#   conditioning; the ELBO is $L_T + \sum_t L_{t-1} + L_0$, each $L_{t-1}$ a closed-form KL equal to
#   $w_t \lVert\varepsilon - \varepsilon_\theta\rVert^2$, and $L_\text{simple}$ sets every $w_t$ to one.
# - Ancestral sampling runs all $T$ steps; DDIM ($\eta = 0$) is deterministic and can skip steps.
# - A diffusion model is a hierarchical VAE with a fixed, parameter-free encoder and as many latent layers as steps.
#
# **References.** J. Ho, A. Jain and P. Abbeel (2020). Denoising diffusion probabilistic models. *NeurIPS* 33.
# J. Song, C. Meng and S. Ermon (2021). Denoising diffusion implicit models. *ICLR*.
# A. Nichol and P. Dhariwal (2021). Improved denoising diffusion probabilistic models. *ICML*.
