# %% [markdown]
# # Unit 02 — The KL divergence
#
# The Kullback–Leibler divergence measures how badly one distribution stands in for another; every
# model in this course (maximum likelihood, variational inference, VAEs, diffusion) is trained by
# making some KL small.

# %% badge

# %% [markdown]
# **Learning outcomes.** After this lecture you can
#
# - define $\mathrm{KL}(p\,\|\,q)$ for discrete and continuous distributions and compute it;
# - prove that it is non-negative and zero only when $p = q$ (Gibbs' inequality, via Jensen);
# - explain why it is not a distance: it is asymmetric and breaks the triangle inequality;
# - handle the conventions $0 \log 0 = 0$ and $\mathrm{KL} = \infty$ outside the support;
# - show that maximum likelihood is the same as minimising $\mathrm{KL}(p_\text{data}\,\|\,p_\theta)$;
# - derive and use the closed form for two Gaussians, and check it by Monte Carlo with a standard error;
# - predict what forward and reverse KL do when a unimodal $q$ is fitted to a bimodal $p$.

# %% setup

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config, plotting, widgets

tfd = tfp.distributions
plotting.style()
rng = np.random.default_rng(config.seed())
print(f"mode: {config.mode().upper()}")

# %% [markdown]
# ## Settings
#
# The sizes that depend on the mode: FAST (`DGM_MODE=fast`, as the tests run) or FULL (the default).

# %%
N_DATA = config.pick(fast=500, full=5_000)  # data points for maximum likelihood as KL minimisation (section 5)
N_MC = config.pick(fast=20_000, full=200_000)  # samples of each Monte Carlo KL estimate (section 6)
REPEATS = config.pick(fast=200, full=1_000)  # repeated Monte Carlo estimates per sample size (section 7)
GRID_POINTS = config.pick(fast=81, full=201)  # points on each axis of the (m, log s) grid of q (section 8)
STEPS = config.pick(fast=400, full=1_500)  # gradient steps of each fit by Adam (section 8)

# %% [markdown]
# ## 1. Definition
#
# For two distributions $p$ and $q$ on the same space, the KL divergence of $p$ with respect to $q$ is
# the expected log-ratio **under $p$** (the order matters, as section 3 shows):
#
# $$\mathrm{KL}(p\,\|\,q) = \mathbb E_{x \sim p}\left[\log \frac{p(x)}{q(x)}\right]
# = \begin{cases} \displaystyle\sum_x p(x) \log \frac{p(x)}{q(x)} & \text{(discrete, probabilities)} \\[2ex]
# \displaystyle\int p(x) \log \frac{p(x)}{q(x)}\, dx & \text{(continuous, densities).} \end{cases}$$
#
# With the natural logarithm the unit is the *nat*. (A common slip is to put $\log \frac{q}{p}$ inside
# the integral: that is $-\mathrm{KL}$, and it is never positive.)
#
# **Why this quantity?** $-\log q(x)$ is the "surprise" of seeing $x$ if you believed $q$; it is also the
# length in nats of the best code for $x$ built for $q$. $\mathrm{KL}(p\,\|\,q)$ is the *extra* surprise
# you suffer on average when the data really come from $p$ but you believe $q$:
#
# $$\mathrm{KL}(p\,\|\,q) = \underbrace{\mathbb E_p[-\log q]}_{\text{cross-entropy } H(p, q)}
# - \underbrace{\mathbb E_p[-\log p]}_{\text{entropy } H(p)}.$$
#
# Check: the sum above, written out for two distributions on three outcomes, against TFP's
# `tfd.kl_divergence`, and the cross-entropy-minus-entropy form.

# %%
p_probs = np.array([0.5, 0.3, 0.2])
q_probs = np.array([0.2, 0.5, 0.3])

by_hand = np.sum(p_probs * np.log(p_probs / q_probs))
by_tfp = float(tfd.kl_divergence(tfd.Categorical(probs=p_probs), tfd.Categorical(probs=q_probs)))
cross_entropy = -np.sum(p_probs * np.log(q_probs))
entropy = -np.sum(p_probs * np.log(p_probs))

print(f"sum p log(p/q)          = {by_hand:.12f} nats")
print(f"tfd.kl_divergence       = {by_tfp:.12f} nats")
print(f"H(p, q) - H(p)          = {cross_entropy - entropy:.12f} nats")
assert abs(by_hand - by_tfp) < 1e-12, f"expected the sum to equal TFP's KL {by_tfp}, got {by_hand}"
assert abs(by_hand - (cross_entropy - entropy)) < 1e-12, (
    f"expected cross-entropy minus entropy {cross_entropy - entropy} to equal the KL {by_hand}"
)

# %% [markdown]
# ## 2. Non-negativity (Gibbs' inequality)
#
# **Claim.** $\mathrm{KL}(p\,\|\,q) \ge 0$, with equality if and only if $p = q$.
#
# **Proof (Jensen).** The logarithm is concave, so for any random variable $Y > 0$,
# $\mathbb E[\log Y] \le \log \mathbb E[Y]$. Take $Y = q(X)/p(X)$ with $X \sim p$ (only points with
# $p(x) > 0$ are ever drawn):
#
# $$-\mathrm{KL}(p\,\|\,q) = \mathbb E_p\left[\log \frac{q(X)}{p(X)}\right]
# \;\le\; \log \mathbb E_p\left[\frac{q(X)}{p(X)}\right]
# = \log \sum_{x:\,p(x) > 0} p(x)\,\frac{q(x)}{p(x)}
# = \log \sum_{x:\,p(x) > 0} q(x) \;\le\; \log 1 = 0.$$
#
# (For densities, replace the sums by integrals.) **Equality** needs both inequalities to be tight:
# Jensen is tight for the strictly concave $\log$ only if $q(x)/p(x)$ is a constant $c$ on the support
# of $p$, and the last step is tight only if $q$ puts all its mass there, so $c = 1$ and $q = p$.
#
# (A common slip in this proof is to end the chain with "$\int \log 1\, dx$": Jensen moves the $\log$
# outside the integral, so the chain ends in $\log \int q(x)\, dx \le \log 1$, as above.)
#
# Check: 10,000 random pairs of distributions on 5 outcomes drawn from a Dirichlet, and
# $\mathrm{KL}(p\,\|\,p) = 0$ for each $p$.

# %%
n_pairs, k = 10_000, 5
p_batch = rng.dirichlet(np.ones(k), size=n_pairs)
q_batch = rng.dirichlet(np.ones(k), size=n_pairs)
kl_pq = tfd.kl_divergence(tfd.Categorical(probs=p_batch), tfd.Categorical(probs=q_batch)).numpy()
kl_pp = tfd.kl_divergence(tfd.Categorical(probs=p_batch), tfd.Categorical(probs=p_batch)).numpy()

print(f"KL(p||q) over {n_pairs} random pairs: min = {kl_pq.min():.3e}, median = {np.median(kl_pq):.3f}")
print(f"KL(p||p) over {n_pairs} random p:     max |KL| = {np.abs(kl_pp).max():.3e}")
assert kl_pq.min() > 0, f"expected KL(p||q) > 0 for distinct p, q; got a minimum of {kl_pq.min()}"
assert np.abs(kl_pp).max() < 1e-12, f"expected KL(p||p) = 0; got values up to {np.abs(kl_pp).max()}"

# %% [markdown]
# The smallest divergences come from pairs that happen to be close. Near $q = p$ the KL grows
# *quadratically*: for $q = p + \varepsilon\delta$ (with $\sum_x \delta(x) = 0$) a Taylor expansion gives
# $\mathrm{KL}(p\,\|\,q) \approx \frac{\varepsilon^2}{2}\sum_x \delta(x)^2/p(x)$. So KL behaves like a
# *squared* distance, not a distance: keep that in mind for the next section.

# %%
p0 = np.array([0.5, 0.3, 0.2])
delta = np.array([1.0, -0.5, -0.5])
print(" eps      KL(p || p + eps*delta)   eps^2/2 * sum(delta^2/p)")
for eps in [1e-1, 1e-2, 1e-3]:
    exact = np.sum(p0 * np.log(p0 / (p0 + eps * delta)))
    quadratic = eps**2 / 2 * np.sum(delta**2 / p0)
    print(f"{eps:6.0e}   {exact:.6e}             {quadratic:.6e}")
    assert abs(exact / quadratic - 1) < 2 * eps, (
        f"expected relative gap O(eps) at eps={eps}; got {exact / quadratic - 1:.2e}"
    )

# %% [markdown]
# ## 3. Not a distance: asymmetry and no triangle inequality
#
# Swapping the arguments changes the question. $\mathrm{KL}(p\,\|\,q)$ averages over $p$ and punishes $q$
# for being small where $p$ is large; $\mathrm{KL}(q\,\|\,p)$ averages over $q$ and punishes the
# opposite. In general the two numbers differ.

# %%
pairs = {
    "Categorical [0.5, 0.5] vs [0.9, 0.1]": (
        tfd.Categorical(probs=np.array([0.5, 0.5])),
        tfd.Categorical(probs=np.array([0.9, 0.1])),
    ),
    "Normal(0, 1) vs Normal(0, 3)": (tfd.Normal(np.float64(0.0), 1.0), tfd.Normal(np.float64(0.0), 3.0)),
}
for name, (a, b) in pairs.items():
    forward, backward = float(tfd.kl_divergence(a, b)), float(tfd.kl_divergence(b, a))
    print(f"{name}:  KL(p||q) = {forward:.4f},  KL(q||p) = {backward:.4f}")
    assert abs(forward - backward) > 0.1, f"expected the two directions to differ; got {forward} and {backward}"

# %% [markdown]
# **No triangle inequality.** For two Gaussians with the same variance $\sigma^2$ (section 6 derives
# it) $\mathrm{KL}(\mathcal N(a, \sigma^2)\,\|\,\mathcal N(b, \sigma^2)) = (a - b)^2 / (2\sigma^2)$: half a
# *squared* distance. Squared distances break the triangle inequality: with $a, b, c = 0, 1, 2$ and
# $\sigma = 1$, going "directly" costs $2^2/2 = 2$ nats, going "via $b$" costs only $\tfrac12 + \tfrac12 = 1$.
# The same happens for Bernoulli distributions $0.1 \to 0.5 \to 0.9$.

# %%
triples = {
    "Normal(0,1), Normal(1,1), Normal(2,1)": [tfd.Normal(np.float64(mu), 1.0) for mu in (0.0, 1.0, 2.0)],
    "Bernoulli(0.1), Bernoulli(0.5), Bernoulli(0.9)": [
        tfd.Bernoulli(probs=np.float64(t), dtype=tf.float64) for t in (0.1, 0.5, 0.9)
    ],
}
for name, (a, b, c) in triples.items():
    direct = float(tfd.kl_divergence(a, c))
    via_b = float(tfd.kl_divergence(a, b)) + float(tfd.kl_divergence(b, c))
    print(f"{name}:\n   KL(p||r) = {direct:.4f}  >  KL(p||q) + KL(q||r) = {via_b:.4f}")
    assert direct > via_b, f"expected a triangle-inequality violation; got direct {direct} <= via q {via_b}"

# %% [markdown]
# ## 4. Conventions at the edge of the support
#
# Two limits fix what the formula means when a probability is zero:
#
# - **$0 \log 0 = 0$**, because $t \log t \to 0$ as $t \to 0$: an outcome that $p$ never produces
#   contributes nothing, whatever $q$ says about it.
# - **$\mathrm{KL}(p\,\|\,q) = +\infty$ if $q(x) = 0 < p(x)$ for some $x$**: $q$ calls impossible something
#   that happens. As $q(x) \to 0$ the term $p(x) \log \frac{p(x)}{q(x)}$ grows like $\log \frac{1}{q(x)}$,
#   without bound.
#
# So $\mathrm{KL}(p\,\|\,q) < \infty$ requires the support of $p$ to lie inside the support of $q$. First the
# two limits, numerically:

# %%
print(" t        t*log(t)        KL([0.5,0.5] || [1-t, t])")
previous = 0.0
for t in [1e-1, 1e-3, 1e-6, 1e-12, 1e-100]:
    kl_t = float(
        tfd.kl_divergence(tfd.Categorical(probs=np.array([0.5, 0.5])), tfd.Categorical(probs=np.array([1 - t, t])))
    )
    print(f"{t:7.0e}  {t * np.log(t): .3e}      {kl_t:9.3f}")
    assert kl_t > previous, f"expected the KL to keep growing as q(x) -> 0; got {kl_t} after {previous}"
    previous = kl_t
assert abs(1e-100 * np.log(1e-100)) < 1e-97, "expected t log t -> 0"
assert previous > 0.5 * np.log(1e100) - 1, f"expected KL ~ 0.5 log(1/t) -> infinity; got {previous}"

# %% [markdown]
# At exactly zero, a literal translation of the formula into NumPy goes wrong: $0 \cdot \log 0$
# evaluates to `0 * -inf = nan`. TFP applies the conventions (the lab asks you to do the same):

# %%
p_zero = np.array([0.5, 0.5, 0.0])  # p never produces outcome 3
q_full = np.array([0.4, 0.3, 0.3])
q_zero = np.array([0.5, 0.0, 0.5])  # q says outcome 2 is impossible, but p produces it

with np.errstate(divide="ignore", invalid="ignore"):
    naive_1 = np.sum(p_zero * np.log(p_zero / q_full))
    naive_2 = np.sum(q_full * np.log(q_full / q_zero))
tfp_1 = float(tfd.kl_divergence(tfd.Categorical(probs=p_zero), tfd.Categorical(probs=q_full)))
tfp_2 = float(tfd.kl_divergence(tfd.Categorical(probs=q_full), tfd.Categorical(probs=q_zero)))
dropped = np.sum(p_zero[:2] * np.log(p_zero[:2] / q_full[:2]))  # the same sum without the p = 0 term

print(f"p = {p_zero}, q = {q_full}:  naive NumPy {naive_1},  TFP {tfp_1:.6f},  sum over p > 0 {dropped:.6f}")
print(f"p = {q_full}, q = {q_zero}:  naive NumPy {naive_2},  TFP {tfp_2}")
assert np.isnan(naive_1), f"expected the naive 0*log(0) to give nan; got {naive_1}"
assert abs(tfp_1 - dropped) < 1e-12, f"expected TFP to drop the p = 0 term ({dropped}); got {tfp_1}"
assert np.isposinf(tfp_2), f"expected +inf where q = 0 < p; got {tfp_2}"

# %% [markdown]
# ## 5. Maximum likelihood is minimising KL to the data
#
# Given data $x_1, \dots, x_n \sim p_\text{data}$, write $\hat p$ for the empirical distribution (mass
# $1/n$ on each data point). Split the log-ratio:
#
# $$\mathrm{KL}(p_\text{data}\,\|\,p_\theta)
# = \underbrace{\mathbb E_{p_\text{data}}[\log p_\text{data}]}_{-H(p_\text{data}),\ \text{independent of } \theta}
# \; - \; \mathbb E_{p_\text{data}}[\log p_\theta].$$
#
# The first term does not depend on $\theta$, so minimising the KL over $\theta$ is maximising the
# expected log-likelihood. Replacing $p_\text{data}$ by $\hat p$ turns the expectation into the average
# log-likelihood of the data:
#
# $$\arg\min_\theta \mathrm{KL}(\hat p\,\|\,p_\theta) = \arg\max_\theta \frac1n \sum_{i=1}^n \log p_\theta(x_i).$$
#
# It is an *average of logs* (a common slip is to write a product of logs; the log of a product of
# likelihoods is a sum of logs, and a product of logs is not a likelihood at all). This is
# why "just train a maximum-likelihood model" is a principled goal: it makes the model the closest
# member of its family to the data, in forward KL.
#
# **Check 1 (discrete, where $\mathrm{KL}(\hat p\,\|\,p_\theta)$ is a finite number).** Fit a categorical on
# 3 outcomes to samples: on a grid of parameters $\theta = (\theta_1, \theta_2, 1 - \theta_1 - \theta_2)$ the
# identity $\mathrm{KL}(\hat p\,\|\,\theta) = -H(\hat p) - \frac1n\sum_i \log \theta_{x_i}$ holds at every grid point,
# and the KL minimiser is the maximum-likelihood estimate, the sample frequencies $\hat p$.

# %%
true_probs = np.array([0.2, 0.5, 0.3])
samples = tfd.Categorical(probs=true_probs).sample(N_DATA, seed=(config.seed(), 1)).numpy()
p_hat = np.bincount(samples, minlength=3) / N_DATA

step = 0.005
t1, t2 = np.meshgrid(np.arange(step, 1, step), np.arange(step, 1, step), indexing="ij")
inside = 1 - t1 - t2 > step / 2
theta = np.stack([t1[inside], t2[inside], 1 - t1[inside] - t2[inside]], axis=-1)  # (grid points, 3)

kl_grid = np.sum(p_hat * np.log(p_hat / theta), axis=-1)
log_theta = np.log(theta)
# (1/n) sum_i log theta_{x_i}, summed over the samples themselves (in chunks, to keep memory small)
avg_loglik = sum(log_theta[:, chunk].sum(axis=1) for chunk in np.array_split(samples, max(1, N_DATA // 500))) / N_DATA
entropy_hat = -np.sum(p_hat * np.log(p_hat))
gap = np.max(np.abs(kl_grid - (-entropy_hat - avg_loglik)))
best_kl, best_ll = theta[kl_grid.argmin()], theta[avg_loglik.argmax()]

print(f"max |KL - (-H(p_hat) - average log-likelihood)| over {len(theta)} grid points: {gap:.2e}")
print(f"sample frequencies (the MLE)  {p_hat}")
print(f"grid argmin of KL(p_hat||.)   {best_kl}")
print(f"grid argmax of log-likelihood {best_ll}")
assert gap < 1e-12, f"expected the identity to hold at every grid point; got a gap of {gap}"
assert np.array_equal(best_kl, best_ll), f"expected the same grid point; got {best_kl} and {best_ll}"
assert np.max(np.abs(best_kl - p_hat)) <= step + 1e-12, (
    f"expected the KL minimiser within one grid step ({step}) of the MLE {p_hat}; got {best_kl}"
)

# %% [markdown]
# **Check 2 (continuous).** For a continuous $p_\text{data}$, $\hat p$ has no density and
# $\mathrm{KL}(\hat p\,\|\,p_\theta)$ is not a finite number, but its $\theta$-dependent part, the cross-entropy
# $-\frac1n\sum_i \log p_\theta(x_i)$, still is, and it converges to $-\mathbb E_{p_\text{data}}[\log p_\theta]$.
# Fit a Gaussian $\mathcal N(\mu, \sigma^2)$ to samples of a skewed Gamma(2, 1): the grid minimiser of the
# cross-entropy is the maximum-likelihood estimate, the sample mean and the sample variance with $1/n$
# (not $1/(n-1)$). The model is wrong (the data are not Gaussian), and maximum likelihood still finds
# the Gaussian closest to the data in forward KL; section 8 explains why that means matching moments.

# %%
x_data = tfd.Gamma(np.float64(2.0), np.float64(1.0)).sample(N_DATA, seed=(config.seed(), 2)).numpy()
mu_mle, sigma_mle = x_data.mean(), x_data.std()  # np.std divides by n: the MLE

mu_grid = np.arange(1.0, 3.0, 0.01)
sigma_grid = np.arange(0.8, 2.2, 0.01)
cross_ent = np.empty((len(mu_grid), len(sigma_grid)))
for j, sigma in enumerate(sigma_grid):  # one column at a time keeps memory small
    log_density = tfd.Normal(mu_grid[:, None], sigma).log_prob(x_data[None, :]).numpy()
    cross_ent[:, j] = -log_density.mean(axis=1)
i, j = np.unravel_index(cross_ent.argmin(), cross_ent.shape)

print(f"MLE:                      mu = {mu_mle:.4f}, sigma = {sigma_mle:.4f}")
print(f"grid argmin (step 0.01):  mu = {mu_grid[i]:.4f}, sigma = {sigma_grid[j]:.4f}")
assert abs(mu_grid[i] - mu_mle) <= 0.01 + 1e-9, f"expected mu within one grid step of {mu_mle}; got {mu_grid[i]}"
assert abs(sigma_grid[j] - sigma_mle) <= 0.01 + 1e-9, (
    f"expected sigma within one grid step of {sigma_mle}; got {sigma_grid[j]}"
)

# %% [markdown]
# ## 6. Closed form for two Gaussians
#
# **Univariate.** For $p = \mathcal N(\mu_0, \sigma_0^2)$ and $q = \mathcal N(\mu_1, \sigma_1^2)$,
#
# $$\log \frac{p(x)}{q(x)} = \log\frac{\sigma_1}{\sigma_0} - \frac{(x - \mu_0)^2}{2\sigma_0^2}
# + \frac{(x - \mu_1)^2}{2\sigma_1^2}.$$
#
# Under $x \sim p$: $\mathbb E[(x - \mu_0)^2] = \sigma_0^2$ and
# $\mathbb E[(x - \mu_1)^2] = \sigma_0^2 + (\mu_0 - \mu_1)^2$ (variance plus squared bias). Hence
#
# $$\mathrm{KL}(p\,\|\,q)
# = \log\frac{\sigma_1}{\sigma_0} + \frac{\sigma_0^2 + (\mu_0 - \mu_1)^2}{2\sigma_1^2} - \frac12.$$
#
# **Multivariate** ($k$ dimensions). The same steps, with
# $\mathbb E_p[(x - \mu_0)^\top\Sigma_0^{-1}(x - \mu_0)] = k$ and
#
# $$\mathbb E_p[(x - \mu_1)^\top\Sigma_1^{-1}(x - \mu_1)]
# = \mathrm{tr}(\Sigma_1^{-1}\Sigma_0) + (\mu_1 - \mu_0)^\top\Sigma_1^{-1}(\mu_1 - \mu_0)$$
#
# give
#
# $$\mathrm{KL}\big(\mathcal N(\mu_0, \Sigma_0)\,\|\,\mathcal N(\mu_1, \Sigma_1)\big)
# = \frac12\left[\mathrm{tr}(\Sigma_1^{-1}\Sigma_0) + (\mu_1 - \mu_0)^\top\Sigma_1^{-1}(\mu_1 - \mu_0) - k
# + \ln\frac{\det\Sigma_1}{\det\Sigma_0}\right].$$
#
# For $k = 1$ this is the univariate formula. (Common slips are to lose the $\frac12$ in front of the
# log-determinant ratio and to drop the $-k$ or write $+k$; check any formula by setting $p = q$: it
# must give 0.) Each term has a meaning: a shape mismatch (trace), a location mismatch measured in $q$'s
# metric (quadratic form), and a volume mismatch (log-determinants).
#
# **Monte Carlo.** Since KL is an expectation under $p$, the average of $\log p(x_i) - \log q(x_i)$ over
# samples $x_i \sim p$ estimates it, with standard error $\hat s/\sqrt n$ ($\hat s$: the sample standard
# deviation of the log-ratios). Three independent routes must agree: formula, TFP, Monte Carlo
# (within 4 standard errors).

# %%
mu0, sigma0, mu1, sigma1 = 0.5, 0.8, -1.0, 1.5
p_1d, q_1d = tfd.Normal(np.float64(mu0), sigma0), tfd.Normal(np.float64(mu1), sigma1)

formula = np.log(sigma1 / sigma0) + (sigma0**2 + (mu0 - mu1) ** 2) / (2 * sigma1**2) - 0.5
library = float(tfd.kl_divergence(p_1d, q_1d))
x_mc = p_1d.sample(N_MC, seed=(config.seed(), 3))
log_ratio = (p_1d.log_prob(x_mc) - q_1d.log_prob(x_mc)).numpy()
estimate, std_error = log_ratio.mean(), log_ratio.std(ddof=1) / np.sqrt(N_MC)

print(f"closed form         {formula:.6f}")
print(f"tfd.kl_divergence   {library:.6f}")
print(f"Monte Carlo (n={N_MC})  {estimate:.6f} ± {std_error:.6f}  ({(estimate - formula) / std_error:+.2f} SE)")
assert abs(formula - library) < 1e-12, f"expected the formula {formula} to equal TFP's {library}"
assert abs(estimate - formula) < 4 * std_error, (
    f"expected Monte Carlo within 4 SE ({4 * std_error:.2e}) of {formula}; got {estimate}"
)

# %% [markdown]
# Now three dimensions with full covariances. `tfd.MultivariateNormalTriL` takes the Cholesky factor
# $L$ of $\Sigma = LL^\top$; we build random factors with a positive diagonal.

# %%
dim = 3
mean0, mean1 = rng.normal(size=dim), rng.normal(size=dim)
tril0 = np.tril(rng.normal(scale=0.5, size=(dim, dim)), -1) + np.diag(rng.uniform(0.5, 1.5, dim))
tril1 = np.tril(rng.normal(scale=0.5, size=(dim, dim)), -1) + np.diag(rng.uniform(0.5, 1.5, dim))
cov0, cov1 = tril0 @ tril0.T, tril1 @ tril1.T

cov1_inv = np.linalg.inv(cov1)
diff = mean1 - mean0
trace_term = np.trace(cov1_inv @ cov0)  # shape mismatch
mahalanobis = diff @ cov1_inv @ diff  # location mismatch, in q's metric
log_det_ratio = np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1]  # volume mismatch
formula = 0.5 * (trace_term + mahalanobis - dim + log_det_ratio)
p_3d = tfd.MultivariateNormalTriL(loc=mean0, scale_tril=tril0)
q_3d = tfd.MultivariateNormalTriL(loc=mean1, scale_tril=tril1)
library = float(tfd.kl_divergence(p_3d, q_3d))
x_mc = p_3d.sample(N_MC, seed=(config.seed(), 4))
log_ratio = (p_3d.log_prob(x_mc) - q_3d.log_prob(x_mc)).numpy()
estimate, std_error = log_ratio.mean(), log_ratio.std(ddof=1) / np.sqrt(N_MC)

print(f"closed form         {formula:.6f}")
print(f"tfd.kl_divergence   {library:.6f}")
print(f"Monte Carlo (n={N_MC})  {estimate:.6f} ± {std_error:.6f}  ({(estimate - formula) / std_error:+.2f} SE)")
assert abs(formula - library) < 1e-9 * max(1.0, abs(formula)), (
    f"expected the formula {formula} to equal TFP's {library}"
)
assert abs(estimate - formula) < 4 * std_error, (
    f"expected Monte Carlo within 4 SE ({4 * std_error:.2e}) of {formula}; got {estimate}"
)

# %% [markdown]
# **The special case every VAE uses.** With $\Sigma_0 = \mathrm{diag}(\sigma^2)$, $\mu_0 = \mu$ and
# $\mathcal N(0, I)$ as the second argument, the trace is $\sum_j \sigma_j^2$, the quadratic form is
# $\sum_j \mu_j^2$, and $\ln\det\Sigma_0 = \sum_j \ln\sigma_j^2$:
#
# $$\mathrm{KL}\big(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\|\,\mathcal N(0, I)\big)
# = \frac12\sum_{j}\left(\sigma_j^2 + \mu_j^2 - 1 - \ln\sigma_j^2\right).$$
#
# It is a sum over dimensions because both distributions factorise; each term is $\ge 0$ and vanishes
# at $\mu_j = 0, \sigma_j = 1$.

# %%
mu_vae = rng.normal(size=8)
sigma_vae = np.exp(rng.normal(scale=0.5, size=8))
formula = 0.5 * np.sum(sigma_vae**2 + mu_vae**2 - 1 - np.log(sigma_vae**2))
library = float(
    tfd.kl_divergence(
        tfd.MultivariateNormalDiag(mu_vae, sigma_vae), tfd.MultivariateNormalDiag(np.zeros(8), np.ones(8))
    )
)
print(f"1/2 sum(sigma^2 + mu^2 - 1 - ln sigma^2) = {formula:.10f}")
print(f"tfd.kl_divergence                        = {library:.10f}")
assert abs(formula - library) < 1e-10, f"expected {library}; got {formula}"

# %% [markdown]
# ## 7. Monte Carlo KL and its error
#
# When no closed form exists (mixtures, neural-network densities), we estimate
#
# $$\widehat{\mathrm{KL}}_n = \frac1n\sum_{i=1}^n \log\frac{p(x_i)}{q(x_i)}, \qquad x_i \sim p.$$
#
# Each term has expectation $\mathrm{KL}(p\,\|\,q)$, so the estimator is **unbiased** for every $n$ (even
# though single terms can be negative). The terms are independent, so its variance is
# $\mathrm{Var}_p[\log p/q]/n$ and its standard deviation shrinks like $1/\sqrt n$: a hundred times more
# samples for one more correct digit.
#
# Check: repeat the estimate many times for each $n$ on the univariate pair of section 6. The mean of the
# repeats must match the exact KL (unbiased), and $\text{std}\times\sqrt n$ must stay constant, equal to
# the standard deviation of a single log-ratio. The tolerances come from the repeats themselves: the
# standard error of their mean, and a bootstrap standard error of their standard deviation.

# %%
exact = float(tfd.kl_divergence(p_1d, q_1d))
x_ref = p_1d.sample(10**6, seed=(config.seed(), 5))
single_std = float(tf.math.reduce_std(p_1d.log_prob(x_ref) - q_1d.log_prob(x_ref)))

sizes = [10, 100, 1_000, 10_000]
spread = []
print(f"exact KL = {exact:.4f};  std of one log-ratio = {single_std:.4f}\n")
print("     n   mean of estimates   bias/SE   std of estimates   std*sqrt(n)  ± bootstrap SE")
for index, n in enumerate(sizes):
    x_rep = p_1d.sample((REPEATS, n), seed=(config.seed(), 10 + index))
    estimates = tf.reduce_mean(p_1d.log_prob(x_rep) - q_1d.log_prob(x_rep), axis=1).numpy()
    mean, std = estimates.mean(), estimates.std(ddof=1)
    boot = rng.choice(estimates, size=(500, REPEATS)).std(axis=1, ddof=1)
    bias_z = (mean - exact) / (std / np.sqrt(REPEATS))
    spread.append(std)
    print(
        f"{n:6d}   {mean:17.4f}   {bias_z:+7.2f}   {std:16.5f}   "
        f"{std * np.sqrt(n):11.4f}  ± {boot.std() * np.sqrt(n):.4f}"
    )
    assert abs(bias_z) < 4, f"expected an unbiased estimate (within 4 SE of {exact}); got {mean} at n={n}"
    assert abs(std - single_std / np.sqrt(n)) < 4 * boot.std(), (
        f"expected std*sqrt(n) = {single_std:.4f} within 4 bootstrap SE; got {std * np.sqrt(n):.4f} at n={n}"
    )

# %%
fig, ax = plt.subplots()
ax.loglog(sizes, spread, "o", color=plotting.COLORS["q"], label="std of the estimate (measured)")
ax.loglog(sizes, single_std / np.sqrt(sizes), color=plotting.COLORS["p"], label=r"$\mathrm{std}_p[\log p/q]/\sqrt{n}$")
ax.set_xlabel("number of samples n")
ax.set_ylabel("standard deviation (nats)")
ax.set_title("Monte Carlo KL: error shrinks like 1/sqrt(n)")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# ## 8. Forward vs reverse KL: mode covering and mode seeking
#
# Approximate a **bimodal** $p$ (two Gaussians at $\pm 3$ with standard deviation 0.7, equal weights) by a
# single Gaussian $q = \mathcal N(m, s^2)$. No $q$ fits well, so the answer depends on *which* KL we minimise.
#
# - **Forward**, $\mathrm{KL}(p\,\|\,q) = \mathbb E_p[\log p - \log q]$: the average is over $p$, and wherever $p$
#   has mass but $q(x) \approx 0$ the term $-\log q(x)$ explodes. $q$ must cover *all* of $p$
#   ("zero-avoiding", mode covering). This is the direction of maximum likelihood (section 5).
# - **Reverse**, $\mathrm{KL}(q\,\|\,p) = \mathbb E_q[\log q - \log p]$: the average is over $q$, and wherever
#   $q$ has mass but $p(x) \approx 0$ the term $-\log p(x)$ explodes. $q$ must stay *inside* $p$
#   ("zero-forcing"), and ignoring a whole mode costs nothing but a constant: mode seeking. This is the
#   direction variational inference minimises (unit 03), because it needs only samples of $q$ and an
#   unnormalised $p$.
#
# Both are one-dimensional integrals here, so we compute them by quadrature on a fine grid: a sum of
# integrand values times the spacing. The grid is wide so that the tails of a broad $q$ stay on it. All
# logarithms come from `log_prob`, never `log(prob)`: far in the tails $p(x)$ underflows to 0, but its
# log is finite, and $0 \times \text{finite} = 0$ is exactly the $0 \log 0$ convention.

# %%
p_mix = tfd.MixtureSameFamily(
    mixture_distribution=tfd.Categorical(probs=np.array([0.5, 0.5])),
    components_distribution=tfd.Normal(loc=np.array([-3.0, 3.0]), scale=np.array([0.7, 0.7])),
)
x = np.linspace(-40.0, 40.0, 8001)
dx = x[1] - x[0]
log_p = p_mix.log_prob(x).numpy()
p_x = np.exp(log_p)

p_mean = np.sum(x * p_x) * dx
p_var = np.sum((x - p_mean) ** 2 * p_x) * dx
print(f"mass of p on the grid: {np.sum(p_x) * dx:.12f}")
print(f"mean of p: {p_mean:.6f} (exact 0);  variance of p: {p_var:.6f} (exact 0.7^2 + 3^2 = {0.49 + 9})")
assert abs(np.sum(p_x) * dx - 1) < 1e-9, "expected the quadrature to integrate p to 1"
assert abs(p_var - 9.49) < 1e-9, f"expected the variance of p to be 9.49; got {p_var}"

# %% [markdown]
# **Forward KL is minimised by moment matching.** Only $-\mathbb E_p[\log q]$ depends on $q$:
#
# $$\mathrm{KL}(p\,\|\,q) = \text{const} + \log s + \frac{\mathbb E_p[(x - m)^2]}{2s^2} + \tfrac12\log 2\pi.$$
#
# Setting derivatives to zero: $\partial_m = 0 \Rightarrow m = \mathbb E_p[x]$, and
# $\partial_s = 0 \Rightarrow s^2 = \mathbb E_p[(x - m)^2] = \mathrm{Var}_p[x]$. Here $m = 0$ and
# $s = \sqrt{9.49} \approx 3.08$: a broad Gaussian straddling both modes, with its peak in the valley
# where $p$ has almost no mass.
#
# **Reverse KL** has no such formula. Near one mode, $p \approx \frac12\mathcal N(3, 0.7^2)$, so for $q$
# sitting there $\mathrm{KL}(q\,\|\,p) \approx \mathrm{KL}(q\,\|\,\mathcal N(3, 0.7^2)) + \log 2$: minimised by $q$
# equal to that mode, with value $\log 2$, the price of ignoring the other half of $p$.
#
# Compute both over a grid of $(m, \log s)$. Each pass of the loop takes one $s$ and all $m$ at once.

# %%
m_grid = np.linspace(-5.0, 5.0, GRID_POINTS)
log_s_grid = np.linspace(np.log(0.25), np.log(6.0), GRID_POINTS)
forward_kl = np.empty((len(m_grid), len(log_s_grid)))
reverse_kl = np.empty_like(forward_kl)
for j, log_s in enumerate(log_s_grid):
    log_q = tfd.Normal(m_grid[:, None], np.exp(log_s)).log_prob(x[None, :]).numpy()  # (m values, grid)
    forward_kl[:, j] = np.sum(p_x * (log_p - log_q), axis=1) * dx
    reverse_kl[:, j] = np.sum(np.exp(log_q) * (log_q - log_p), axis=1) * dx

m_step, log_s_step = m_grid[1] - m_grid[0], log_s_grid[1] - log_s_grid[0]
i, j = np.unravel_index(forward_kl.argmin(), forward_kl.shape)
print(
    f"forward KL: grid argmin m = {m_grid[i]:+.3f}, s = {np.exp(log_s_grid[j]):.3f};  "
    f"moment matching m = {p_mean:+.3f}, s = {np.sqrt(p_var):.3f}"
)
assert abs(m_grid[i] - p_mean) <= m_step + 1e-9, f"expected m = {p_mean} (to one grid step); got {m_grid[i]}"
assert abs(log_s_grid[j] - 0.5 * np.log(p_var)) <= log_s_step + 1e-9, (
    f"expected s = {np.sqrt(p_var):.3f} (to one grid step in log s); got {np.exp(log_s_grid[j]):.3f}"
)
i, j = np.unravel_index(reverse_kl.argmin(), reverse_kl.shape)
print(
    f"reverse KL: grid argmin m = {m_grid[i]:+.3f}, s = {np.exp(log_s_grid[j]):.3f};  "
    f"value {reverse_kl[i, j]:.4f} (log 2 = {np.log(2):.4f})"
)
assert abs(abs(m_grid[i]) - 3) <= m_step + 1e-9, f"expected the reverse KL minimum at m = ±3; got {m_grid[i]}"
assert abs(log_s_grid[j] - np.log(0.7)) <= log_s_step + 1e-9, (
    f"expected s = 0.7 (to one grid step in log s); got {np.exp(log_s_grid[j]):.3f}"
)

# %% [markdown]
# The landscapes, coloured by how far each $q$ is above the best one (log scale, so that shallow basins
# show). Forward KL (left) is a single smooth bowl around the moment-matched $q$ (star). Reverse KL
# (right) has **three** basins: one on each mode (stars, value $\log 2$), and a shallower one at
# $m = 0$ with a broad $s \approx 2.6$ (circle), a compromise that straddles both modes. It is a genuine
# local minimum: at that $s$, moving $m$ towards either mode first *increases* the reverse KL.


# %%
def landscape(ax, values, title):
    excess = values - values.min()
    levels = np.concatenate([[0.0], np.geomspace(1e-2, 1e2, 17)])
    filled = ax.contourf(m_grid, log_s_grid, excess.T, levels=levels, norm="symlog", cmap="viridis", extend="max")
    ax.contour(m_grid, log_s_grid, excess.T, levels=levels[1::2], colors="white", linewidths=0.4, alpha=0.6)
    ax.set_title(title)
    ax.set_xlabel("mean m")
    ax.set_ylabel("log s")
    return filled


fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
landscape(axes[0], forward_kl, "forward KL(p || q)")
axes[0].plot(p_mean, 0.5 * np.log(p_var), "w*", markersize=14)
filled = landscape(axes[1], reverse_kl, "reverse KL(q || p)")
axes[1].plot([-3, 3], [np.log(0.7)] * 2, "w*", markersize=14)
centre = np.argmin(np.abs(m_grid))  # the column m = 0, and its best s:
axes[1].plot(0, log_s_grid[reverse_kl[centre].argmin()], "wo", markersize=8, fillstyle="none", markeredgewidth=2)
fig.colorbar(filled, ax=axes, label="KL minus its minimum (nats)", ticks=[0, 0.01, 0.1, 1, 10, 100], format="%g")
plt.show()

# %% [markdown]
# The local minimum at $m = 0$, numerically. By symmetry the gradient in $m$ vanishes at $m = 0$, so a
# fine one-dimensional scan over $s$ finds the best $s$ there; then the reverse KL must rise when $m$
# moves a little to either side, and when $s$ moves.

# %%
s_fine = np.arange(2.0, 3.2, 0.001)
log_q = tfd.Normal(0.0, s_fine[:, None]).log_prob(x[None, :]).numpy()
reverse_at_zero = np.sum(np.exp(log_q) * (log_q - log_p), axis=1) * dx
broad_s = s_fine[reverse_at_zero.argmin()]
broad_kl = reverse_at_zero.min()

offsets = [-0.2, 0.0, 0.2]
log_q = tfd.Normal(np.array(offsets)[:, None, None], broad_s * np.exp(np.array(offsets))[None, :, None])
log_q = log_q.log_prob(x).numpy()  # (m offsets, log s offsets, grid)
neighbours = np.sum(np.exp(log_q) * (log_q - log_p), axis=-1) * dx
print(f"best s at m = 0: {broad_s:.3f}, reverse KL {broad_kl:.4f} (the modes: {reverse_kl.min():.4f})")
print("reverse KL at m = 0 ± 0.2 (rows) and log s ± 0.2 (columns):\n", np.round(neighbours, 4))
assert s_fine[0] < broad_s < s_fine[-1], f"expected the best s inside the scanned range; got {broad_s}"
assert neighbours[1, 1] == neighbours.min(), "expected (m = 0, best s) to be lower than all its neighbours"
assert broad_kl > reverse_kl.min() + 1, "expected the broad local minimum to be worse than the modes"

# %% [markdown]
# ### Fitting by gradient descent
#
# Now let an optimiser find $q$. The quadrature KL is a differentiable function of $(m, \log s)$, so
# `tf.GradientTape` gives exact gradients of it; we optimise $\log s$ so that $s$ stays positive.
# (This uses the grid; the lab fits the same kind of $q$ from *samples*, the way one must when $x$ has
# many dimensions.) We run three fits: forward and reverse from $q = \mathcal N(0.5, 1)$, and reverse
# again from a broad start $q = \mathcal N(0.5, 4^2)$.

# %%
x_tf, log_p_tf = tf.constant(x), tf.constant(log_p)
p_tf = tf.exp(log_p_tf)


def grid_kl_pair(m, log_s):
    """(forward KL(p||q), reverse KL(q||p)) by quadrature on the grid, for q = N(m, exp(log_s)^2)."""
    log_q = tfd.Normal(m, tf.exp(log_s)).log_prob(x_tf)
    forward = tf.reduce_sum(p_tf * (log_p_tf - log_q)) * dx
    reverse = tf.reduce_sum(tf.exp(log_q) * (log_q - log_p_tf)) * dx
    return forward, reverse


runs = {"forward": (0, 0.5, 1.0), "reverse": (1, 0.5, 1.0), "reverse, broad start": (1, 0.5, 4.0)}
fits, histories = {}, {}
for name, (which, m_start, s_start) in runs.items():
    m = tf.Variable(m_start, dtype=tf.float64)
    log_s = tf.Variable(np.log(s_start), dtype=tf.float64)
    optimizer = keras.optimizers.Adam(learning_rate=0.05)

    @tf.function  # the default arguments bind this run's variables, optimiser and direction
    def descend(m=m, log_s=log_s, which=which, optimizer=optimizer):
        with tf.GradientTape() as tape:
            loss = grid_kl_pair(m, log_s)[which]
        gradients = tape.gradient(loss, [m, log_s])
        optimizer.apply_gradients(zip(gradients, [m, log_s]))
        return loss, tf.linalg.global_norm(gradients), m.value(), log_s.value()

    histories[name] = np.array([[float(v) for v in descend()] for _ in range(STEPS)])  # loss, |grad|, m, log s
    fits[name] = (float(m.numpy()), float(np.exp(log_s.numpy())))
    loss, grad_norm = histories[name][-1, :2]
    print(f"{name:22s} m = {fits[name][0]:+.4f}, s = {fits[name][1]:.4f}, KL = {loss:.4f}, |grad| = {grad_norm:.1e}")

# %% [markdown]
# Check the fits against the analysis above: forward lands on moment matching, reverse from a narrow
# start on the mode it started nearest to, reverse from a broad start in the broad local minimum. The
# optimisation is deterministic, so there is no sampling noise: we require the final gradient to be tiny
# (the fit has stopped), and then the answer must agree with the references above to $2\times10^{-3}$,
# twice the resolution of the finest scan (the broad minimum's $s$ is known to a step of $10^{-3}$).

# %%
expected = {"forward": (p_mean, np.sqrt(p_var)), "reverse": (3.0, 0.7), "reverse, broad start": (0.0, broad_s)}
for name, (m_expected, s_expected) in expected.items():
    m_fit, s_fit = fits[name]
    grad_norm = histories[name][-1, 1]
    print(f"{name:22s} fitted ({m_fit:+.4f}, {s_fit:.4f})  expected ({m_expected:+.4f}, {s_expected:.4f})")
    assert grad_norm < 1e-3, f"{name}: expected the optimiser to converge (|grad| < 1e-3); got {grad_norm:.1e}"
    assert abs(m_fit - m_expected) < 2e-3, f"{name}: expected m = {m_expected:.4f}; got {m_fit:.4f}"
    assert abs(s_fit - s_expected) < 2e-3, f"{name}: expected s = {s_expected:.4f}; got {s_fit:.4f}"

# %% [markdown]
# Left: $p$ and the three fitted Gaussians. Right: the paths the optimiser took, drawn on the
# reverse-KL landscape (the forward fit's path is on a different landscape, so it is not shown there).

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.4, 1]}, layout="constrained")
view = np.abs(x) <= 8
labels = {
    "forward": "forward KL fit",
    "reverse": "reverse KL fit, start s = 1",
    "reverse, broad start": "reverse KL fit, start s = 4",
}
curves = {"p": p_x[view]}
for name, (m_fit, s_fit) in fits.items():
    curves[labels[name]] = tfd.Normal(np.float64(m_fit), s_fit).prob(x[view]).numpy()
plotting.densities(axes[0], x[view], curves, title="one Gaussian fitted to a bimodal p")
axes[0].lines[-1].set_linestyle("--")
axes[0].legend(frameon=False)

landscape(axes[1], reverse_kl, "Adam on the reverse KL")
for name, style in [("reverse", "-"), ("reverse, broad start", "--")]:
    path = histories[name]
    axes[1].plot(path[:, 2], path[:, 3], style, color="white", linewidth=1.5)
    axes[1].plot(path[0, 2], path[0, 3], "o", color="white")
    axes[1].plot(
        path[-1, 2], path[-1, 3], "*", color=plotting.COLORS["reverse"], markeredgecolor="white", markersize=16
    )
plt.show()

# %% [markdown]
# **Reading the picture.** The forward fit (green) covers both modes and puts its peak where $p$ is
# almost zero: good if $q$ must never miss what $p$ can do (e.g. as a proposal for importance sampling),
# bad as a picture of a typical sample. The reverse fit (purple) describes one mode perfectly and
# ignores the other: good samples, but overconfident, a behaviour you will meet again as mean-field VI
# under-estimating posterior variance (unit 04). Which mode it finds, or whether it stops at the broad
# compromise, depends on where the optimiser starts.

# %% [markdown]
# ### Explore
#
# Move $q$ yourself and watch the two divergences. Try: $q$ on one mode ($m = 3$, $s = 0.7$); the
# moment-matched $q$ ($m = 0$, $s = 3.08$); and a very narrow $q$ in the valley ($m = 0$, $s = 0.2$).

# %%
x_view = x[np.abs(x) <= 10]
p_view = p_x[np.abs(x) <= 10]


def draw(m, s):
    log_q = tfd.Normal(np.float64(m), s).log_prob(x).numpy()
    forward = np.sum(p_x * (log_p - log_q)) * dx
    reverse = np.sum(np.exp(log_q) * (log_q - log_p)) * dx
    fig, ax = plt.subplots()
    plotting.densities(ax, x_view, {"p": p_view, "q": np.exp(log_q[np.abs(x) <= 10])})
    ax.set_title(f"KL(p||q) = {forward:.3f}   KL(q||p) = {reverse:.3f}")
    ax.set_ylim(0, max(0.65, 1.05 / (s * np.sqrt(2 * np.pi))))


widgets.explore(draw, m=widgets.slider(0.0, -6, 6, 0.1, "mean m"), s=widgets.slider(1.0, 0.2, 5, 0.05, "std s"))

# %% [markdown]
# ## Summary
#
# - $\mathrm{KL}(p\,\|\,q) = \mathbb E_p[\log p/q]$: the extra nats paid for believing $q$ when the data come
#   from $p$; cross-entropy minus entropy.
# - It is $\ge 0$, and $0$ only for $p = q$ (Jensen on the concave log); near $p$ it grows quadratically.
# - It is not a distance: asymmetric, and no triangle inequality (it behaves like a *squared* distance).
# - $0 \log 0 = 0$; $\mathrm{KL} = \infty$ as soon as $q = 0$ somewhere $p > 0$. Compute logs with `log_prob`.
# - Maximum likelihood $=$ minimising $\mathrm{KL}(p_\text{data}\,\|\,p_\theta)$, because the entropy of the data
#   does not depend on $\theta$.
# - Two Gaussians have a closed form: trace + Mahalanobis term $- k$ + log-determinant ratio, all halved;
#   against $\mathcal N(0, I)$: $\frac12\sum_j(\sigma_j^2 + \mu_j^2 - 1 - \ln\sigma_j^2)$.
# - Monte Carlo KL is unbiased; report its standard error, which shrinks like $1/\sqrt n$.
# - Forward KL covers modes (moment matching for a Gaussian $q$); reverse KL, the one variational
#   inference uses, seeks a mode, and its landscape can have several local minima.
#
# ## References
#
# - S. Kullback and R. A. Leibler (1951). On information and sufficiency. *Annals of Mathematical
#   Statistics* 22(1), 79–86.
# - T. M. Cover and J. A. Thomas (2006). *Elements of Information Theory*, 2nd ed., Wiley, chapter 2
#   (entropy, relative entropy, Jensen's inequality and the information inequality KL >= 0).
# - C. M. Bishop (2006). *Pattern Recognition and Machine Learning*, Springer, §1.6 (information theory,
#   KL divergence) and §10.1.2 (forward vs reverse KL on a bimodal target).
# - K. P. Murphy (2022). *Probabilistic Machine Learning: An Introduction*, MIT Press, §6.2 (KL
#   divergence) and §4.2 (maximum likelihood as KL minimisation).
# - D. M. Blei, A. Kucukelbir and J. D. McAuliffe (2017). Variational inference: a review for
#   statisticians. *Journal of the American Statistical Association* 112(518), 859–877.
