# %% [markdown]
# # Unit 08 — Priors for VAEs: the aggregated posterior, ELBO surgery, mixture priors and the VampPrior
#
# A VAE's prior $p(z) = \mathcal N(0, I)$ is fixed before training, but the encoder decides where the data go in
# latent space. Where the two disagree, the prior puts mass on "holes" that no image uses, and samples drawn there
# decode to poor digits. We look at the holes in a 2-D latent space, split the ELBO's regulariser into the parts
# that depend on the prior and those that do not, and train two learned priors, a mixture of Gaussians and the
# VampPrior, against $\mathcal N(0, I)$ at equal training.

# %% badge

# %% [markdown]
# **Learning outcomes.** After this lecture you can
#
# - define the aggregated posterior $q(z) = \frac1N \sum_n q(z \mid x_n)$ and find where it is low but the prior is
#   not (the holes);
# - evaluate a mixture's log-density stably with log-sum-exp;
# - split the average KL into an entropy and a cross-entropy, and into $I_q(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$
#   (ELBO surgery), and estimate each term;
# - say why the best prior for a trained encoder is its aggregated posterior, and how a mixture prior and the
#   VampPrior approximate it;
# - train VAEs whose KL has no closed form with a Monte Carlo KL, and compare priors by the test ELBO and the
#   importance-sampled log-likelihood.

# %% setup

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config, data, plotting, training

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
LEARNING_RATE = config.pick(fast=2e-3, full=1e-3)  # Adam's step size, for every VAE of this lecture
HIDDEN = config.pick(fast=(256,), full=(512, 256))  # hidden layers of the encoder (the decoder mirrors them)
EPOCHS_2D = config.pick(fast=8, full=40)  # epochs of the 2-D VAE (sections 3 and 4)
SURGERY_N = config.pick(fast=1000, full=5000)  # training images that define q(z) in sections 3 and 4
GRID = config.pick(fast=151, full=301)  # grid points per axis over [-5, 5] for q(z) in 2-D
LATENT_DIM = config.pick(fast=8, full=40)  # latent dimension of the three compared models (section 6)
COMPONENTS = config.pick(fast=20, full=500)  # components of the mixture prior and pseudo-inputs of the VampPrior
EPOCHS = config.pick(fast=12, full=100)  # epochs of each of the three compared models
IWAE_K = config.pick(fast=100, full=5000 if GPU else 1000)  # importance samples per test image for log p(x)
IWAE_N = config.pick(fast=500, full=None if GPU else 1000)  # test images evaluated (None: the whole test set)
JIT = config.pick(fast=False, full=training.jit_compile())  # XLA: its compile time costs more than it saves in FAST
VAMP_MARGIN = 1.0  # nats: FAST asserts the VampPrior's ELBO gain over N(0, I) is at least this (section 6)

# %% [markdown]
# ## 1. A mixture's log-density, stably
#
# Every prior in this lecture is a mixture of $K$ diagonal Gaussians with equal weights,
#
# $$p(z) = \frac1K \sum_{k=1}^K \mathcal N\big(z;\ m_k, \operatorname{diag} e^{v_k}\big), \qquad
# \log p(z) = \operatorname{logsumexp}_k\, \log \mathcal N\big(z;\ m_k, \operatorname{diag} e^{v_k}\big) - \log K,$$
#
# with $\operatorname{logsumexp}_k a_k = a^* + \log \sum_k e^{a_k - a^*}$, $a^* = \max_k a_k$. $\mathcal N(0, I)$ is the
# case $K = 1$, $m_1 = 0$, $v_1 = 0$. Far from every component, each $\log \mathcal N$ is a large negative number and
# $e^{a_k}$ underflows to 0 in float32 (below about $-104$): the naive $\log \sum_k e^{a_k}$ is then $-\infty$, while
# log-sum-exp subtracts the largest term first. Check it against `tfd.MixtureSameFamily`.


# %%
def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, diag exp(log_var)), summed over the last axis (broadcasting)."""
    return -0.5 * tf.reduce_sum(np.log(2 * np.pi) + log_var + tf.square(z - mean) * tf.exp(-log_var), axis=-1)


def mixture_log_density(z, means, log_vars):
    """log of the equal-weight mixture of diagonal Gaussians (K, d) at z of shape (..., d): shape (...)."""
    per_component = gaussian_log_density(z[..., None, :], means, log_vars)  # (..., K)
    return tf.reduce_logsumexp(per_component, axis=-1) - np.log(means.shape[0])


mix_means = rng.normal(0.0, 2.0, size=(5, 8)).astype("float32")
mix_log_vars = rng.normal(-1.0, 0.3, size=(5, 8)).astype("float32")
z_near = rng.normal(0.0, 2.0, size=(4, 8)).astype("float32")
z_far = z_near + 30.0  # far from every component
by_tfp_mixture = tfd.MixtureSameFamily(
    tfd.Categorical(logits=tf.zeros(5)), tfd.MultivariateNormalDiag(mix_means, np.exp(0.5 * mix_log_vars))
)
for name, z_points in [("near", z_near), ("far", z_far)]:
    ours = mixture_log_density(tf.constant(z_points), mix_means, mix_log_vars).numpy()
    theirs = by_tfp_mixture.log_prob(z_points).numpy()
    with np.errstate(divide="ignore"):  # log(0) = -inf is the point
        naive = np.log(np.mean(np.exp(gaussian_log_density(z_points[:, None], mix_means, mix_log_vars).numpy()), 1))
    print(f"z {name}: log-sum-exp {np.round(ours, 1)}  TFP {np.round(theirs, 1)}  naive {np.round(naive, 1)}")
    assert np.allclose(ours, theirs, rtol=1e-4), f"expected TFP's mixture log-density {theirs}, got {ours}"
assert np.all(np.isneginf(naive)), f"expected the naive log of a sum to underflow to -inf far away, got {naive}"

# %% [markdown]
# ## 2. Data and one model class for every prior
#
# Dynamically binarised MNIST as in unit 05 (FAST mode: the embedded 5000/1000 subset). The model is unit 05's VAE
# with the prior made a part of the model: `prior_components()` returns the $K$ components' means and
# log-variances, and `log_prior(z)` is the mixture's log-density of section 1. Three priors:
#
# - `"standard"`: $\mathcal N(0, I)$, one fixed component;
# - `"mixture"`: $K$ components whose means and log-variances are trained with everything else;
# - `"vamp"`: the **VampPrior** (Tomczak and Welling, 2018), $p(z) = \frac1K \sum_k q_\phi(z \mid u_k)$, the
#   encoder itself at $K$ learned **pseudo-inputs** $u_k$ (images of $784$ grey levels, $\operatorname{sigmoid}$ of
#   trained parameters, started at $K$ training images).
#
# With a learned prior the KL has no closed form, so the loss uses the one-sample Monte Carlo KL
# $\log q(z \mid x) - \log p(z)$ at the same reparameterised $z$ as the reconstruction, for all three models alike.

# %%
mnist = data.load("mnist")
train_images = data.to_float(mnist["train_images"])
test_images = data.to_float(mnist["test_images"])
test_labels = mnist["test_labels"]
test_binary = data.binarize(test_images, np.random.default_rng(config.seed() + 1))
batch_size = 128
train_batches = data.binarized_batches(train_images, batch_size, seed=config.seed())
test_batches = tf.data.Dataset.from_tensor_slices(test_binary).batch(500)
print(f"train {train_images.shape}, test {test_binary.shape}")


def mlp(sizes, out, name):
    """A ReLU MLP from sizes[0] inputs through the hidden sizes to `out` linear outputs."""
    hidden = [keras.Input((sizes[0],))] + [keras.layers.Dense(h, activation="relu") for h in sizes[1:]]
    return keras.Sequential([*hidden, keras.layers.Dense(out)], name=name)


# %% [markdown]
# The model: networks, prior, and the two terms of the loss.


# %%
class PriorVAE(keras.Model):
    """A Bernoulli-decoder VAE with a standard, mixture-of-Gaussians or VampPrior prior and a Monte Carlo KL."""

    def __init__(self, prior="standard", latent_dim=2, hidden=(256,), components=20, init_images=None, seed=0):
        super().__init__()
        self.prior_kind, self.latent_dim = prior, latent_dim
        self.encoder = mlp([784, *hidden], 2 * latent_dim, "encoder")
        self.decoder = mlp([latent_dim, *reversed(hidden)], 784, "decoder")
        if prior == "mixture":
            init = keras.initializers.RandomNormal(stddev=1.0, seed=seed)
            self.mix_means = self.add_weight(shape=(components, latent_dim), initializer=init, name="mix_means")
            self.mix_log_vars = self.add_weight(shape=(components, latent_dim), initializer="zeros", name="mix_lv")
        if prior == "vamp":  # pseudo-inputs u_k = sigmoid(parameters), started at training images
            start = np.clip(init_images[:components], 0.02, 0.98)
            logits = keras.initializers.Constant(np.log(start / (1 - start)))
            self.pseudo_params = self.add_weight(shape=(components, 784), initializer=logits, name="pseudo_inputs")
        self.noise = tf.random.Generator.from_seed(seed)
        self.trackers = [keras.metrics.Mean(name) for name in ("neg_elbo", "recon", "kl")]

    @property
    def metrics(self):
        return self.trackers

    def encode(self, x):
        mean, log_var = tf.split(self.encoder(x), 2, axis=-1)
        return mean, log_var

    def decode(self, z):
        return self.decoder(z)

    def call(self, x):
        return self.decode(self.encode(x)[0])

    def prior_components(self):
        """(means, log_vars) of the prior's K equal-weight components, each (K, d)."""
        if self.prior_kind == "mixture":
            return tf.convert_to_tensor(self.mix_means), tf.convert_to_tensor(self.mix_log_vars)
        if self.prior_kind == "vamp":
            return self.encode(tf.sigmoid(self.pseudo_params))
        return tf.zeros((1, self.latent_dim)), tf.zeros((1, self.latent_dim))

    def log_prior(self, z):
        return mixture_log_density(z, *self.prior_components())

    def loss_terms(self, x):
        """One-sample reconstruction and Monte Carlo KL, each of shape (B,)."""
        mean, log_var = self.encode(x)
        z = mean + tf.exp(0.5 * log_var) * self.noise.normal(tf.shape(mean))  # reparameterised
        recon = -tf.reduce_sum(tfd.Bernoulli(logits=self.decode(z), dtype=tf.float32).log_prob(x), axis=-1)
        return recon, gaussian_log_density(z, mean, log_var) - self.log_prior(z)


# %% [markdown]
# Training and evaluation steps, as in unit 05, and one way to compile every model.


# %%
class TrainedPriorVAE(PriorVAE):
    """PriorVAE with a train_step on reconstruction + Monte Carlo KL."""

    def track(self, recon, kl):
        for tracker, value in zip(self.trackers, (recon + kl, recon, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def train_step(self, x):
        with tf.GradientTape() as tape:
            recon, kl = self.loss_terms(x)
            loss = tf.reduce_mean(recon + kl)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self.track(recon, kl)

    def test_step(self, x):
        return self.track(*self.loss_terms(x))


def build(prior, latent_dim, seed=None):
    """A compiled, built TrainedPriorVAE with the lecture's settings."""
    seed = config.seed() if seed is None else seed
    keras.utils.set_random_seed(seed)
    model = TrainedPriorVAE(prior, latent_dim, HIDDEN, COMPONENTS, init_images=train_images, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), jit_compile=JIT)
    model(tf.constant(test_binary[:2]))
    return model


# %% [markdown]
# Check on an untrained standard model: with $p = \mathcal N(0, I)$, the Monte Carlo KL averaged over many samples
# agrees with unit 05's closed form $\frac12 \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)$ within 5
# standard errors, and `log_prior` is `tfd.MultivariateNormalDiag`'s log-density.

# %%
check_model = build("standard", LATENT_DIM)
x_check = tf.constant(test_binary[:64])
kl_samples = np.stack([check_model.loss_terms(x_check)[1].numpy() for _ in range(200)])  # (200, 64)
mean_check, log_var_check = (t.numpy() for t in check_model.encode(x_check))
kl_closed = 0.5 * np.sum(np.exp(log_var_check) + mean_check**2 - 1 - log_var_check, axis=1)
kl_mc = kl_samples.mean()
kl_se = np.sqrt(np.mean(kl_samples.var(axis=0)) / kl_samples.size)  # 200 samples for each of 64 images
print(f"Monte Carlo KL {kl_mc:.4f} ± {kl_se:.4f}, closed form {kl_closed.mean():.4f} nats per image")
assert abs(kl_mc - kl_closed.mean()) < 5 * kl_se, (
    f"expected the MC KL {kl_mc:.4f} within 5 SE of {kl_closed.mean():.4f}"
)
z_check = rng.normal(size=(10, LATENT_DIM)).astype("float32")
reference = tfd.MultivariateNormalDiag(tf.zeros(LATENT_DIM), tf.ones(LATENT_DIM)).log_prob(z_check).numpy()
got_prior = check_model.log_prior(z_check).numpy()
assert np.allclose(got_prior, reference, rtol=1e-5), f"expected log N(z; 0, I) = {reference[:3]}, got {got_prior[:3]}"

# %% [markdown]
# ## 3. The aggregated posterior and its holes
#
# The encoder maps each training image to its own Gaussian $q(z \mid x_n)$. Their average over the data,
#
# $$q(z) = \frac1N \sum_{n=1}^N q(z \mid x_n),$$
#
# the **aggregated posterior**, is where the encoder actually puts the data. Decoding $z \sim p(z)$ is only good
# where $q(z)$ has mass too: a region where $p(z)$ is high but $q(z)$ is low is a **hole**, a place the decoder was
# never trained on. With a 2-D latent space we can see both densities. We train a VAE with $d = 2$ and
# $\mathcal N(0, I)$, and compute $\log q(z)$ on a grid with $N$ = `SURGERY_N` training images (a mixture of $N$
# Gaussians: section 1's log-sum-exp).

# %%
vae2 = build("standard", 2)
history2 = training.fit(vae2, train_batches, EPOCHS_2D, validation_data=test_batches)
surgery_x = data.binarize(train_images[:SURGERY_N], np.random.default_rng(config.seed() + 2))
post_means, post_log_vars = (t.numpy() for t in vae2.encode(surgery_x))
print(f"2-D VAE: test ELBO {-history2.history['val_neg_elbo'][-1]:.2f} nats; q(z) from {SURGERY_N} images")


def log_aggregated(z):
    """log q(z) at z (M, 2): the mixture of the N posteriors, shape (M,)."""
    return mixture_log_density(tf.constant(z, tf.float32), post_means, post_log_vars).numpy()


# %% [markdown]
# On a `GRID` $\times$ `GRID` grid over $[-5, 5]^2$: the grid sum of $q(z)$ times the cell area must be close to 1
# (the grid holds almost all of $q$'s mass), as for $p(z)$.

# %%
edge = np.linspace(-5, 5, GRID)
cell = (edge[1] - edge[0]) ** 2
grid = np.stack(np.meshgrid(edge, edge), axis=-1).reshape(-1, 2).astype("float32")
log_q_grid = np.concatenate([log_aggregated(chunk) for chunk in np.array_split(grid, 10)])
log_p_grid = vae2.log_prior(grid).numpy()
mass_q, mass_p = np.exp(log_q_grid).sum() * cell, np.exp(log_p_grid).sum() * cell
print(f"grid mass: q(z) {mass_q:.4f}, p(z) {mass_p:.4f}")
assert abs(mass_q - 1) < 0.01 and abs(mass_p - 1) < 0.01, f"expected both masses near 1, got {mass_q}, {mass_p}"

# %% [markdown]
# The holes: inside the circle $\lVert z \rVert \le 2$, where $p(z)$ is at least $e^{-2}$ of its peak, we pick the
# points where $q(z) / p(z)$ is lowest (at least 0.6 apart), and compare their decodings with decodings of samples
# of $q(z)$ (draw an image $n$, then $z \sim q(z \mid x_n)$).

# %%
log_ratio_grid = log_q_grid - log_p_grid
inside = np.linalg.norm(grid, axis=1) <= 2.0
holes = []
for index in np.argsort(np.where(inside, log_ratio_grid, np.inf)):
    if len(holes) == 8:
        break
    if all(np.linalg.norm(grid[index] - grid[h]) >= 0.6 for h in holes):
        holes.append(index)
hole_z, hole_ratio = grid[holes], np.exp(log_ratio_grid[holes])
pick = rng.integers(0, SURGERY_N, size=8)
q_samples = post_means[pick] + np.exp(0.5 * post_log_vars[pick]) * rng.normal(size=(8, 2)).astype("float32")
prior_draws = rng.normal(size=(20_000, 2)).astype("float32")
in_holes = np.mean(log_aggregated(prior_draws) - vae2.log_prior(prior_draws).numpy() < np.log(0.1))
print("q(z)/p(z) at the holes:", np.round(hole_ratio, 4))
print(f"share of prior samples that land where q(z) < p(z)/10: {in_holes:.3f}")
# Measured: the deepest hole's ratio below 0.0001 in FAST mode (seeds 0, 1, 2), 0.05 in FULL mode after 20 s of
# training; all eight below 0.04 in FAST, below 0.26 in FULL.
assert np.all(hole_ratio < 0.5) and hole_ratio.min() < 0.25, (
    f"expected q(z) below half of p(z) at every hole, and below a quarter at the deepest, got ratios {hole_ratio}"
)

# %% [markdown]
# Left, $\log q(z)$ with the prior's contours; right, $\log q(z) - \log p(z)$ with the holes (stars). Below, the
# decoded holes and the decoded samples of $q(z)$.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
shape = (len(edge), len(edge))
panels = [np.maximum(log_q_grid, -12), np.clip(log_ratio_grid, -8, 4)]
for ax, values in zip(axes, panels):
    image = ax.imshow(values.reshape(shape), origin="lower", extent=(-5, 5, -5, 5), cmap="viridis")
    ax.contour(
        edge,
        edge,
        log_p_grid.reshape(shape),
        levels=[-2 - np.log(2 * np.pi), -np.log(2 * np.pi) - 0.5],
        colors="white",
        linewidths=0.8,
    )
    fig.colorbar(image, ax=ax)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
axes[0].set_title("log q(z) (floored at -12); white: p(z) at |z| = 1, 2")
axes[1].plot(hole_z[:, 0], hole_z[:, 1], "r*", markersize=12, label="holes")
axes[1].set_title("log q(z) - log p(z) (clipped to [-8, 4])")
axes[1].legend(frameon=False)
plt.show()
decoded = tf.sigmoid(vae2.decode(np.concatenate([hole_z, q_samples]))).numpy()
plotting.image_grid(decoded, 2, 8, "decoded holes (top) and decoded samples of q(z) (bottom)")
plt.show()

# %% [markdown]
# ## 4. ELBO surgery: which part of the regulariser depends on the prior
#
# Take the data distribution to be the $N$ images, each with weight $\frac1N$. The KL of each image is a
# cross-entropy minus an entropy,
#
# $$\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big) = \underbrace{\mathbb E_{q(z \mid x)}[-\log p(z)]}_{\text{cross-entropy}}
# - \underbrace{\mathbb E_{q(z \mid x)}[-\log q(z \mid x)]}_{\text{entropy } \mathrm H[q(z \mid x)]},$$
#
# and since the cross-entropy is linear in $q$, its average over the images is the cross-entropy of the
# *aggregated* posterior, $\frac1N \sum_n \mathbb E_{q(z \mid x_n)}[-\log p(z)] = \mathbb E_{q(z)}[-\log p(z)]$. So the
# prior enters the average regulariser only through $\mathbb E_{q(z)}[-\log p(z)] = \mathrm H[q(z)] +
# \mathrm{KL}(q(z)\,\|\,p(z))$, which is smallest for $p(z) = q(z)$ (Tomczak and Welling, 2018). Adding and subtracting
# $\mathrm H[q(z)]$ gives **ELBO surgery** (Hoffman and Johnson, 2016):
#
# $$\frac1N \sum_n \mathrm{KL}\big(q(z \mid x_n)\,\|\,p(z)\big)
# = \underbrace{\mathrm H[q(z)] - \frac1N \sum_n \mathrm H[q(z \mid x_n)]}_{I_q(x;\, z)}
# + \mathrm{KL}\big(q(z)\,\|\,p(z)\big),$$
#
# the mutual information between the image index and $z$ under $q$ ($0 \le I_q \le \log N$), plus the KL from the
# aggregated posterior to the prior: the nats per image that a better prior could save. For the 2-D model we compute
# each term in closed form where there is one, by Monte Carlo with samples of $q(z)$, and on the grid.

# %%
post_var = np.exp(post_log_vars)
entropy = 0.5 * np.sum(1 + np.log(2 * np.pi) + post_log_vars, axis=1)  # H[q(z|x_n)], (N,)
cross_entropy = 0.5 * np.sum(np.log(2 * np.pi) + post_means**2 + post_var, axis=1)  # E_q(z|x_n)[-log p(z)]
kl_tfp_2d = tfd.kl_divergence(
    tfd.MultivariateNormalDiag(post_means, np.exp(0.5 * post_log_vars)),
    tfd.MultivariateNormalDiag(tf.zeros(2), tf.ones(2)),
).numpy()
assert np.allclose(cross_entropy - entropy, kl_tfp_2d, rtol=1e-4, atol=1e-4), (
    f"expected KL = cross-entropy - entropy, got {kl_tfp_2d[:3]} and {(cross_entropy - entropy)[:3]}"
)
samples_per_image = 10
eps_surgery = rng.normal(size=(samples_per_image, SURGERY_N, 2)).astype("float32")
z_agg = (post_means + np.sqrt(post_var) * eps_surgery).reshape(-1, 2)  # samples of q(z): image n, then q(z|x_n)
log_cond = gaussian_log_density(
    z_agg, np.tile(post_means, (samples_per_image, 1)), np.tile(post_log_vars, (samples_per_image, 1))
).numpy()
log_agg = np.concatenate([log_aggregated(chunk) for chunk in np.array_split(z_agg, 10)])
log_prior_agg = vae2.log_prior(z_agg).numpy()
mi_terms, kl_agg_terms = log_cond - log_agg, log_agg - log_prior_agg
ce_mc, ce_se = np.mean(-log_prior_agg), np.std(log_prior_agg) / np.sqrt(log_prior_agg.size)
print(f"average cross-entropy: closed form {cross_entropy.mean():.4f}, Monte Carlo {ce_mc:.4f} ± {ce_se:.4f}")
assert abs(ce_mc - cross_entropy.mean()) < 5 * ce_se, (
    f"expected the MC cross-entropy within 5 SE of the closed form {cross_entropy.mean():.4f}, got {ce_mc:.4f}"
)

# %% [markdown]
# The two terms of the surgery: by Monte Carlo (means of $\log q(z \mid x_n) - \log q(z)$ and
# $\log q(z) - \log p(z)$ over the samples), and on the grid ($\mathrm H[q(z)]$ and $\mathrm{KL}(q(z)\,\|\,p(z))$ as
# sums over the cells). Both must add up to the closed-form average KL, and agree with each other.

# %%
q_grid = np.exp(log_q_grid) * cell
entropy_agg_grid = -np.sum(q_grid * log_q_grid)
kl_agg_grid = np.sum(q_grid * (log_q_grid - log_p_grid))
mi_grid = entropy_agg_grid - entropy.mean()
mi_mc, kl_agg_mc = mi_terms.mean(), kl_agg_terms.mean()
total_se = np.std(mi_terms + kl_agg_terms) / np.sqrt(mi_terms.size)
kl_agg_se = np.std(kl_agg_terms) / np.sqrt(kl_agg_terms.size)
average_kl = float(kl_tfp_2d.mean())
print(f"average KL (closed form)      {average_kl:.3f} nats")
print(f"I_q(x; z):       MC {mi_mc:.3f}   grid {mi_grid:.3f}   (log N = {np.log(SURGERY_N):.3f})")
print(f"KL(q(z) || p(z)): MC {kl_agg_mc:.3f} ± {kl_agg_se:.3f}   grid {kl_agg_grid:.3f}")
assert abs(mi_mc + kl_agg_mc - average_kl) < 5 * total_se, (
    f"expected I_q + KL(q(z)||p(z)) = the average KL {average_kl:.3f} within 5 SE, got {mi_mc + kl_agg_mc:.3f}"
)
grid_error = 0.05  # nats: a grid sum is not an integral (its error was 0.023 nats in FAST mode)
assert abs(mi_grid + kl_agg_grid - average_kl) < grid_error, (
    f"expected the grid's terms to add up to the average KL {average_kl:.3f}, got {mi_grid + kl_agg_grid:.3f}"
)
assert abs(kl_agg_mc - kl_agg_grid) < 5 * kl_agg_se + grid_error, (
    f"expected the MC and grid KL(q(z)||p(z)) to agree, got {kl_agg_mc:.3f} and {kl_agg_grid:.3f}"
)
assert 0 < mi_mc <= np.log(SURGERY_N), f"expected 0 < I_q <= log N, got {mi_mc}"
print(f"the standard prior costs {kl_agg_mc:.2f} nats per image more than the best prior, q(z) itself, would")

# %% [markdown]
# ## 5. Priors that can learn: a mixture, and the VampPrior
#
# The best prior, $q(z)$ itself, is a mixture of one Gaussian per training image: $N$ components to evaluate at
# every step, and a prior tied to the training images only (Tomczak and Welling found that it overfits). Two cheaper
# priors sit between
# $\mathcal N(0, I)$ and $q(z)$:
#
# - a **mixture of $K$ Gaussians** with learned means and variances, trained jointly with the VAE (as in
#   Dilokthanakul et al., 2016, there with a prior on the weights too);
# - the **VampPrior** (variational mixture of posteriors), $p(z) = \frac1K \sum_k q_\phi(z \mid u_k)$ with $K \ll N$
#   learned pseudo-inputs $u_k$: $q(z)$ with $N$ images replaced by $K$ learned ones, so the prior is tied to the
#   encoder and follows it as it trains.
#
# Neither has a closed-form KL to $q(z \mid x)$: the loss uses the Monte Carlo KL, checked in section 2. We train the
# three models with the same networks, latent dimension (`LATENT_DIM`), epochs, seed and optimizer.

# %%
models, histories, seconds = {}, {}, {}
for prior in ("standard", "mixture", "vamp"):
    print(f"--- prior: {prior}")
    models[prior] = build(prior, LATENT_DIM)
    start = time.perf_counter()
    histories[prior] = training.fit(models[prior], train_batches, EPOCHS, validation_data=test_batches)
    seconds[prior] = time.perf_counter() - start
epochs_run = len(histories["standard"].history["neg_elbo"])  # the same for all three, unless DGM_TRAIN_SECONDS

# %% [markdown]
# ## 6. Comparing the priors: test ELBO and log-likelihood
#
# For each test image, $k$ = `IWAE_K` samples $z_s \sim q(z \mid x)$ give the log-weights
# $\log w_s = \log p(x \mid z_s) + \log p(z_s) - \log q(z_s \mid x)$. Their mean estimates the ELBO; their
# log-mean-exp is the importance-sampled $\mathcal L_k \le \log p(x)$ (unit 05). The prior is part of the model,
# $p(x) = \int p(z)\, p(x \mid z)\, dz$, so $\mathcal L_k$ measures what it changes. Every model sees the same noise.


# %%
@tf.function(reduce_retracing=True)
def log_weights(model, x, eps):
    """log w for noise eps (s, b, d) and images x (b, 784): shape (s, b)."""
    mean, log_var = model.encode(x)
    z = mean + tf.exp(0.5 * log_var) * eps
    flat = tf.reshape(z, (-1, model.latent_dim))
    logits = tf.reshape(model.decode(flat), (tf.shape(eps)[0], tf.shape(x)[0], 784))
    log_lik = tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)
    return log_lik + model.log_prior(z) - gaussian_log_density(z, mean, log_var)


def evaluate(model, images, k, name, rows=5000):
    """(ELBO, L_k) per image, from k importance samples each, in chunks of about `rows` decoder calls."""
    per_chunk, elbo, bound = max(1, rows // k), [], []
    starts = range(0, len(images), per_chunk)
    for start in training.progress(starts, f"{name}: L_{k} on {len(images)} images, chunks"):
        x = tf.constant(images[start : start + per_chunk])
        pieces = [
            log_weights(
                model,
                x,
                tf.random.stateless_normal(
                    (min(rows, k - s), x.shape[0], model.latent_dim), seed=(config.seed(), start * k + s)
                ),
            )
            for s in range(0, k, rows)
        ]
        log_w = tf.concat(pieces, axis=0).numpy().astype("float64")
        elbo.append(log_w.mean(axis=0))
        bound.append(np.logaddexp.reduce(log_w, axis=0) - np.log(k))
    return np.concatenate(elbo), np.concatenate(bound)


iwae_n = len(test_binary) if IWAE_N is None else IWAE_N
scores = {prior: evaluate(model, test_binary[:iwae_n], IWAE_K, prior) for prior, model in models.items()}
for prior, (elbo_n, bound_n) in scores.items():
    print(f"{prior:9s} test ELBO {elbo_n.mean():8.2f}   L_{IWAE_K} {bound_n.mean():8.2f} nats ({iwae_n} test images)")

# %% [markdown]
# Checks: $\mathcal L_k \ge$ the ELBO for every image and model (the log of a mean is at least the mean of the
# logs), and the gains of the learned priors over $\mathcal N(0, I)$, with standard errors from the paired
# differences over the test images.

# %%
gains = {}
for prior in ("mixture", "vamp"):
    for index, measure in enumerate(("elbo", "log_likelihood")):
        difference = scores[prior][index] - scores["standard"][index]
        gains[f"{prior}_gain_{measure}"] = (difference.mean(), difference.std() / np.sqrt(len(difference)))
for name, (gain, se) in gains.items():
    print(f"{name:28s} {gain:+7.2f} ± {se:.2f} nats")
for prior, (elbo_n, bound_n) in scores.items():
    assert np.all(bound_n >= elbo_n - 1e-6), f"expected L_k >= ELBO for every image ({prior})"
vamp_gain_elbo, vamp_gain_log_likelihood = gains["vamp_gain_elbo"][0], gains["vamp_gain_log_likelihood"][0]
if config.is_fast():  # measured in FAST mode, seeds 0, 1, 2: ELBO gains 4.8 to 6.3 (VampPrior), 3.0 to 3.8 (mixture)
    assert vamp_gain_elbo >= VAMP_MARGIN, (
        f"expected the VampPrior's test ELBO at least {VAMP_MARGIN} nats above N(0, I)'s, got {vamp_gain_elbo:.2f}"
    )
    assert gains["mixture_gain_elbo"][0] > 0 and vamp_gain_log_likelihood > gains["mixture_gain_log_likelihood"][0], (
        f"expected mixture > N(0, I) and VampPrior > mixture, got the gains {gains}"
    )

# %% [markdown]
# Samples from each prior, decoded (choose a component $k$ uniformly, then $z \sim$ its Gaussian), and the first
# VampPrior pseudo-inputs, next to the training images they started from. Nothing asks them to stay images of
# digits: only their encodings matter. The cell prints how far they moved (the mean change of a pixel).

# %%
sample_rng = np.random.default_rng(config.seed() + 3)
eps_prior = sample_rng.normal(size=(10, LATENT_DIM)).astype("float32")
rows = []
for model in models.values():
    means_k, log_vars_k = (t.numpy() for t in model.prior_components())
    chosen = sample_rng.integers(0, len(means_k), size=10)
    rows.append(tf.sigmoid(model.decode(means_k[chosen] + np.exp(0.5 * log_vars_k[chosen]) * eps_prior)).numpy())
plotting.image_grid(np.concatenate(rows), 3, 10, "decoded prior samples: N(0, I), mixture, VampPrior (rows)")
plt.show()
pseudo = tf.sigmoid(models["vamp"].pseudo_params).numpy()
start_images = np.clip(train_images[:COMPONENTS], 0.02, 0.98)
print(f"pseudo-inputs moved by {np.mean(np.abs(pseudo - start_images)):.4f} per pixel on average (pixels in [0, 1])")
plotting.image_grid(
    np.concatenate([start_images[:10], pseudo[:10]]),
    2,
    10,
    "VampPrior pseudo-inputs: at the start (top) and trained (bottom)",
)
plt.show()

# %% [markdown]
# The gains over $\mathcal N(0, I)$, with 2 standard errors of the paired differences over the test images.

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for offset, (measure, label, color) in zip(
    (-0.18, 0.18),
    [("elbo", "test ELBO", plotting.COLORS["q"]), ("log_likelihood", f"L_{IWAE_K}", plotting.COLORS["p"])],
):
    values = [gains[f"{prior}_gain_{measure}"][0] for prior in ("mixture", "vamp")]
    errors = [2 * gains[f"{prior}_gain_{measure}"][1] for prior in ("mixture", "vamp")]
    ax.bar(np.arange(2) + offset, values, 0.36, yerr=errors, color=color, label=label, capsize=4)
ax.axhline(0, color="black", linewidth=0.8)
ax.set_xticks(np.arange(2), [f"mixture, K = {COMPONENTS}", f"VampPrior, K = {COMPONENTS}"])
ax.set_xlabel("prior")
ax.set_ylabel("gain over N(0, I) (nats per test image)")
ax.set_title(f"Learned priors at equal training ({epochs_run} epochs, d = {LATENT_DIM})")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# Both learned priors beat $\mathcal N(0, I)$ on both measures, the VampPrior by the most (in FAST mode over seeds
# 0, 1, 2: the VampPrior's ELBO by 4.8 to 6.3 nats, the mixture's by 3.0 to 3.8; asserted in FAST mode
# above). The VampPrior is built from the encoder, so it follows the aggregated posterior while the encoder moves.
# Where does the gain come from? Section 4 says that the prior enters only through the cross-entropy term, so one
# expects a smaller KL; but the last validation lines of the training show more: the reconstruction improves by
# more than the KL. A prior that can take the shape of $q(z)$ no longer pulls every posterior towards one round
# Gaussian, so the encoder can keep different images apart and the decoder reconstructs them better.

# %%
final = {prior: {key: h.history[key][-1] for key in ("val_recon", "val_kl")} for prior, h in histories.items()}
recon_gain = final["standard"]["val_recon"] - final["vamp"]["val_recon"]
kl_gain = final["standard"]["val_kl"] - final["vamp"]["val_kl"]
print(f"VampPrior against N(0, I), test set: reconstruction better by {recon_gain:.2f}, KL smaller by {kl_gain:.2f}")
if config.is_fast():  # measured in FAST mode, seeds 0, 1, 2: reconstruction 4.3 to 5.8 nats, KL 0.8 to 1.1 nats
    assert recon_gain > kl_gain > 0, f"expected both gains positive, the reconstruction's larger: {final}"

# %% [markdown]
# ## What this run measured
#
# The main numbers of this run, in nats per test image (higher is better): the test ELBO and log-likelihood
# ($\mathcal L_k$ with $k$ = `IWAE_K`) with each prior, the VampPrior's gains over $\mathcal N(0, I)$, and the
# three terms of ELBO surgery on the 2-D model (the average KL = mutual information + KL of the aggregated
# posterior to the prior).

# %%
RESULTS = {
    "epochs_run": int(epochs_run),
    "epochs_run_vamp": len(histories["vamp"].history["neg_elbo"]),
    "latent_dim": int(LATENT_DIM),
    "components": int(COMPONENTS),
    "iwae_k": int(IWAE_K),
    "iwae_n": int(iwae_n),
    "train_seconds_standard": round(float(seconds["standard"]), 1),
    "train_seconds_vamp": round(float(seconds["vamp"]), 1),
    "standard_test_elbo": round(float(scores["standard"][0].mean()), 3),
    "mog_test_elbo": round(float(scores["mixture"][0].mean()), 3),
    "vamp_test_elbo": round(float(scores["vamp"][0].mean()), 3),
    "standard_test_log_likelihood": round(float(scores["standard"][1].mean()), 3),
    "mog_test_log_likelihood": round(float(scores["mixture"][1].mean()), 3),
    "vamp_test_log_likelihood": round(float(scores["vamp"][1].mean()), 3),
    "vamp_gain_elbo": round(float(vamp_gain_elbo), 3),
    "vamp_gain_log_likelihood": round(float(vamp_gain_log_likelihood), 3),
    "surgery_average_kl": round(average_kl, 3),
    "surgery_mutual_information": round(float(mi_mc), 3),
    "surgery_kl_aggregated": round(float(kl_agg_mc), 3),
}
for key, value in RESULTS.items():
    print(f"{key:30s} {value}")

# %% [markdown]
# ## Summary
#
# - The aggregated posterior $q(z) = \frac1N \sum_n q(z \mid x_n)$ is where the encoder puts the data; where the
#   prior has mass and $q(z)$ has little (holes), prior samples decode to images the decoder was never trained on.
# - A mixture's log-density is a log-sum-exp of its components' log-densities minus $\log K$; the naive log of a
#   sum underflows to $-\infty$ far from the components.
# - Each KL is a cross-entropy minus an entropy; averaged over the data, only the cross-entropy
#   $\mathbb E_{q(z)}[-\log p(z)]$ depends on the prior, and it is smallest for $p = q(z)$.
# - ELBO surgery: the average KL $= I_q(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$, with $0 \le I_q \le \log N$; the second
#   term is what a better prior can save.
# - A learned mixture of Gaussians and the VampPrior $\frac1K \sum_k q(z \mid u_k)$ have no closed-form KL: train
#   with the Monte Carlo KL $\log q(z \mid x) - \log p(z)$, and compare with the test ELBO and $\mathcal L_k$.
#
# ## References
#
# - M. D. Hoffman and M. J. Johnson (2016). ELBO surgery: yet another way to carve up the variational evidence
#   lower bound. *NIPS Workshop on Advances in Approximate Bayesian Inference*.
# - J. M. Tomczak and M. Welling (2018). VAE with a VampPrior. *AISTATS*.
# - N. Dilokthanakul, P. A. M. Mediano, M. Garnelo, M. C. H. Lee, H. Salimbeni, K. Arulkumaran and M. Shanahan
#   (2016). Deep unsupervised clustering with Gaussian mixture variational autoencoders. *arXiv:1611.02648*.
# - M. Rosca, B. Lakshminarayanan and S. Mohamed (2018). Distribution matching in variational inference.
#   *arXiv:1802.06847* (holes in the aggregated posterior).
# - Y. Burda, R. Grosse and R. Salakhutdinov (2016). Importance weighted autoencoders. *ICLR*.
