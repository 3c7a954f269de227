# %% [markdown]
# # Unit 05 — The variational autoencoder (VAE)
#
# Unit 03 fitted one $q(z)$ per data point. A VAE trains a network that outputs $q(z \mid x)$ for *any*
# $x$, jointly with a neural decoder $p(x \mid z)$, by maximising the ELBO with reparameterised gradients.
# We build one on dynamically binarised MNIST, measure its log-likelihood, and look at what can go wrong.

# %% badge

# %% [markdown]
# **Learning outcomes.** After this lecture you can
#
# - explain amortised inference: an encoder network that outputs the parameters of $q_\phi(z \mid x)$;
# - write the VAE's negative ELBO for a Bernoulli decoder with logits and a Gaussian encoder, as a
#   reconstruction term plus an analytic KL, and check the KL against a Monte Carlo estimate;
# - say why the reparameterisation $z = \mu + \sigma \odot \varepsilon$ lets gradients reach the encoder;
# - train a VAE as a Keras 3 model class with TFP distributions inside `train_step`;
# - evaluate it by the test ELBO and the importance-sampled log-likelihood $\mathcal L_k$, and count
#   active units;
# - relate a squared-error loss to a Gaussian decoder, whose variance acts like $\beta$;
# - measure the amortisation gap: the encoder's ELBO against a $q$ fitted to each image;
# - recognise posterior collapse, and say what KL warm-up changes;
# - read a 2-D latent space: reconstructions, samples and the manifold of decoded digits.

# %% setup

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from dgm import config, data, plotting, training, widgets

tfd = tfp.distributions
plotting.style()
rng = np.random.default_rng(config.seed())
print(f"mode: {config.mode().upper()}")

# %% [markdown]
# ## Settings
#
# Every number that differs between FAST mode (a quick check, a few minutes on a CPU) and FULL mode (the
# real run) is set here; the rest of the notebook uses these names.

# %%
GPU = bool(tf.config.list_physical_devices("GPU"))
LEARNING_RATE = config.pick(fast=2e-3, full=1e-3)  # Adam's step size, for every VAE of this lecture
EPOCHS = config.pick(fast=20, full=100)  # epochs of the main 32-D VAE (section 6)
ELBO_FLOOR = config.pick(fast=-130.0, full=-110.0)  # the test ELBO (nats) that the main VAE must exceed
IWAE_K = config.pick(fast=100, full=5000)  # importance samples per image for L_k (section 7)
IWAE_N = config.pick(fast=200, full=None if GPU else 1000)  # test images for L_k (None: the whole test set)
SHORT_EPOCHS = config.pick(fast=6, full=20)  # epochs of each of the three collapse models (section 9)
WARMUP_EPOCHS = config.pick(fast=3, full=10)  # epochs over which KL warm-up raises beta from 0 to 1
EPOCHS_2D = config.pick(fast=8, full=50)  # epochs of the 2-D VAE (section 10)
GAP_N = 8  # test images whose q is fitted one by one (section 7, the amortisation gap)
GAP_STEPS = config.pick(fast=200, full=500)  # Adam steps of that fit

# %% [markdown]
# ## 1. Amortised inference
#
# A latent-variable model $p_\theta(x, z) = p(z)\, p_\theta(x \mid z)$ with a neural decoder has no closed-form
# posterior. Unit 03 fitted a separate $q$ for each observation; with 60 000 images that is 60 000
# optimisations, and a new image needs a new one. **Amortised inference** replaces them by a single
# network, the **encoder**, that maps $x$ to the parameters of its approximate posterior:
#
# $$q_\phi(z \mid x) = \mathcal N\big(z;\ \mu_\phi(x),\ \operatorname{diag} \sigma^2_\phi(x)\big), \qquad
# p(z) = \mathcal N(0, I), \qquad
# p_\theta(x \mid z) = \prod_{i=1}^{784} \mathrm{Bernoulli}\big(x_i;\ \operatorname{sigmoid}(f_\theta(z)_i)\big).$$
#
# The encoder outputs $\mu$ and $\log \sigma^2$ (a log-variance can be any real number, a variance could
# not); the decoder $f_\theta$ outputs **logits**, one per pixel. Both are trained together on the ELBO,
# averaged over the data (Kingma and Welling, 2014; Rezende et al., 2014):
#
# $$\mathrm{ELBO}(x)
# = \underbrace{\mathbb E_{q_\phi(z \mid x)}\big[\log p_\theta(x \mid z)\big]}_{-\text{reconstruction}}
# - \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)}_{\text{KL}} \;\le\; \log p_\theta(x).$$
#
# The training loss is the **negative** ELBO: reconstruction (in nats) plus KL. The encoder is not part
# of the model of the data, only a tool to train and evaluate it: the gap
# $\log p_\theta(x) - \mathrm{ELBO}(x) = \mathrm{KL}(q_\phi(z \mid x)\,\|\,p_\theta(z \mid x))$ (unit 03) now has
# an *amortisation* part, since one network has to serve every $x$.

# %% [markdown]
# ## 2. The two terms
#
# **Reconstruction.** For a binary image and logits $\ell = f_\theta(z)$,
# $\log \mathrm{Bernoulli}(x; \operatorname{sigmoid}(\ell)) = x\ell - \log(1 + e^{\ell})$ per pixel, summed over the
# 784 pixels. Working with logits avoids computing
# $\log \operatorname{sigmoid}(\ell)$, which is $-\infty$ in floating point once $\ell < -104$ in float32.
# `tfd.Bernoulli(logits=...)` does exactly this; check it against the formula, including extreme
# logits.

# %%
logits_check = tf.constant([[-200.0, -3.0, 0.0, 2.5, 200.0]])
x_check = tf.constant([[1.0, 0.0, 1.0, 1.0, 0.0]])
by_tfp = tfd.Bernoulli(logits=logits_check, dtype=tf.float32).log_prob(x_check).numpy()
by_formula = (x_check * logits_check - tf.math.softplus(logits_check)).numpy()
naive = (
    x_check * tf.math.log(tf.sigmoid(logits_check)) + (1 - x_check) * tf.math.log(1 - tf.sigmoid(logits_check))
).numpy()
print("tfd.Bernoulli(logits) :", np.round(by_tfp, 4))
print("x * l - softplus(l)   :", np.round(by_formula, 4))
print("log sigmoid, naively  :", np.round(naive, 4))
assert np.allclose(by_tfp, by_formula, atol=1e-5), f"expected the log-likelihoods {by_formula}, got {by_tfp}"
assert not np.all(np.isfinite(naive)), "expected the naive log(sigmoid) to overflow to -inf for |logit| = 200"

# %% [markdown]
# **KL.** Both distributions are diagonal Gaussians, so the KL is a sum of 1-D KLs in closed form
# (unit 02): with $\sigma_j^2 = \exp(\text{log-variance}_j)$,
#
# $$\mathrm{KL}\big(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I)\big)
# = \tfrac12 \sum_{j=1}^{d} \big(\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2\big).$$
#
# It could also be estimated by Monte Carlo, $\frac1n \sum_s [\log q(z_s) - \log p(z_s)]$ with $z_s \sim q$,
# but the closed form has no variance. Check: closed form, `tfd.kl_divergence`, and a Monte Carlo
# estimate within 5 standard errors, for a few random 32-dimensional $q$.

# %%
d_check = 32
means_check = rng.normal(size=(4, d_check)).astype("float32")
log_vars_check = rng.normal(-1.0, 1.0, size=(4, d_check)).astype("float32")
q_check = tfd.MultivariateNormalDiag(means_check, np.exp(0.5 * log_vars_check))
prior_check = tfd.MultivariateNormalDiag(tf.zeros(d_check), tf.ones(d_check))
kl_closed = 0.5 * np.sum(np.exp(log_vars_check) + means_check**2 - 1 - log_vars_check, axis=1)
kl_tfp = tfd.kl_divergence(q_check, prior_check).numpy()
z_mc = q_check.sample(20_000, seed=(config.seed(), 5))  # (n, 4, d)
log_ratio = (q_check.log_prob(z_mc) - prior_check.log_prob(z_mc)).numpy()  # (n, 4)
kl_mc, kl_mc_se = log_ratio.mean(axis=0), log_ratio.std(axis=0) / np.sqrt(len(log_ratio))
for row in range(4):
    print(
        f"q #{row}: closed form {kl_closed[row]:8.3f}   tfd.kl_divergence {kl_tfp[row]:8.3f}   "
        f"Monte Carlo {kl_mc[row]:8.3f} ± {kl_mc_se[row]:.3f}"
    )
assert np.allclose(kl_closed, kl_tfp, rtol=1e-5), f"expected tfd.kl_divergence = {kl_closed}, got {kl_tfp}"
assert np.all(np.abs(kl_mc - kl_closed) < 5 * kl_mc_se), (
    f"expected the Monte Carlo KL {kl_mc} within 5 SE of {kl_closed}"
)

# %% [markdown]
# **A Gaussian decoder, and the MSE.** For real-valued data the decoder can output the mean $f_\theta(z)$ of a
# Gaussian with a fixed variance $\sigma^2$ per pixel instead of logits. Its reconstruction term is the squared
# error, scaled, plus a constant:
#
# $$-\log \mathcal N\big(x;\ f_\theta(z), \sigma^2 I_D\big)
# = \frac{\lVert x - f_\theta(z) \rVert^2}{2\sigma^2} + \frac D2 \log(2\pi\sigma^2),
# \qquad\text{so}\qquad
# -\mathrm{ELBO} = \frac{1}{2\sigma^2}\Big(\underbrace{\mathbb E_q \lVert x - f_\theta(z) \rVert^2}_{\text{SSE}}
# + 2\sigma^2\, \mathrm{KL}\Big) + \text{const}.$$
#
# A VAE trained on "sum of squared errors $+ \beta\,$KL" is therefore a Gaussian-decoder VAE with
# $\sigma^2 = \beta / 2$: the fixed variance acts like $\beta$ (a small $\sigma$ makes the KL cheap, a large one
# makes it dear). With the *mean* squared error over the $D$ pixels, the same loss has $\sigma^2 = \beta D / 2$.
# Check both statements on random data.

# %%
x_real = rng.random((3, 784)).astype("float32")  # grey levels
f_real = rng.random((3, 784)).astype("float32")  # a decoder's means
kl_real = rng.gamma(2.0, 5.0, size=3)  # any KL values
sse = np.sum((x_real - f_real) ** 2, axis=1)
for sigma in (0.1, 0.5):
    nll = -tfd.Normal(f_real, sigma).log_prob(x_real).numpy().astype("float64").sum(axis=1)
    const = 0.5 * 784 * np.log(2 * np.pi * sigma**2)
    assert np.allclose(nll, sse / (2 * sigma**2) + const, rtol=1e-5), (
        f"expected -log N = SSE / (2 sigma^2) + D/2 log(2 pi sigma^2) = {sse / (2 * sigma**2) + const}, got {nll}"
    )
    beta_sse, beta_mse = 2 * sigma**2, 2 * sigma**2 / 784
    gaussian_loss = nll + kl_real  # the Gaussian-decoder VAE's negative ELBO
    for name, loss, beta, scale in [("SSE", sse, beta_sse, 1.0), ("MSE", sse / 784, beta_mse, 784.0)]:
        rescaled = (loss + beta * kl_real) * scale / (2 * sigma**2) + const
        assert np.allclose(rescaled, gaussian_loss, rtol=1e-5), (
            f"expected ({name} + {beta:.3g} KL), rescaled, to equal the Gaussian negative ELBO {gaussian_loss}, "
            f"got {rescaled}"
        )
    print(
        f"sigma = {sigma}: the Gaussian decoder's loss is SSE + {beta_sse:.3g} KL, or MSE + {beta_mse:.2g} KL, "
        "up to a scale and a constant"
    )

# %% [markdown]
# ## 3. Data: dynamically binarised MNIST
#
# The Bernoulli decoder needs binary pixels. **Dynamic binarisation** (as in Burda et al., 2016) draws
# each pixel as $x_i \sim \mathrm{Bernoulli}(\text{intensity}_i)$ afresh every epoch: a cheap data
# augmentation that keeps the model from memorising one binarisation. The test images are binarised
# **once**, with a fixed seed, so that every number below refers to the same test set.
# (FAST mode uses the embedded 5000/1000 subset; FULL mode the whole of MNIST.)

# %%
mnist = data.load("mnist")
train_images = data.to_float(mnist["train_images"])
test_images = data.to_float(mnist["test_images"])
test_labels = mnist["test_labels"]
test_binary = data.binarize(test_images, np.random.default_rng(config.seed() + 1))
batch_size = 128
train_batches = data.binarized_batches(train_images, batch_size, seed=config.seed())
test_batches = tf.data.Dataset.from_tensor_slices(test_binary).batch(500)
print(f"train {train_images.shape}, test {test_binary.shape}; mean pixel on {test_binary.mean():.3f}")
assert set(np.unique(test_binary)) == {0.0, 1.0}, "expected binary test images"
assert abs(test_binary.mean() - test_images.mean()) < 0.01, "expected E[binary pixel] = mean intensity"
fig = plotting.image_grid(
    np.concatenate([test_images[:8], test_binary[:8]]), 2, 8, "grey levels (top), one binarisation (bottom)"
)
plt.show()

# %% [markdown]
# ## 4. The model as a Keras 3 class
#
# The encoder and decoder are MLPs (built by `mlp`), 784–512–256–$d$ and its mirror image, with ReLU
# hidden layers and linear outputs: `encode(x)` splits the encoder's $2d$ outputs into $\mu$ and
# $\log\sigma^2$, and `decode(z)` returns the logits. The class `VAEBase` (its training step is added by
# `VAE` below) keeps the probability in TFP: `posterior(x)` returns $q_\phi(z \mid x)$ and
# `likelihood(z)` returns $p_\theta(x \mid z)$ as distributions, and `loss_terms(x)` computes the two
# terms of the loss with them. Keras layers return tensors only (TFP's Keras layers do not work with
# Keras 3). The weight $\beta$ on the KL is a non-trainable variable: 1 for the ELBO, other values (and a
# warm-up) for section 9.
#
# In `loss_terms` the sample is written out as $z = \mu + \sigma \odot \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, I)$: the randomness is in $\varepsilon$, and $z$ is a differentiable
# function of the encoder's outputs. One sample per image is enough: the batch average already
# averages over 128 independent samples.


# %%
def mlp(sizes, out, name):
    """A ReLU MLP from sizes[0] inputs through the hidden sizes to `out` linear outputs."""
    hidden = [keras.Input((sizes[0],))] + [keras.layers.Dense(h, activation="relu") for h in sizes[1:]]
    return keras.Sequential([*hidden, keras.layers.Dense(out)], name=name)


# %% [markdown]
# The model: its two networks, its three distributions and the two terms of the loss.


# %%
class VAEBase(keras.Model):
    """A VAE with q(z|x) = N(mean, diag exp(log_var)), p(z) = N(0, I) and a Bernoulli decoder with logits."""

    def __init__(self, latent_dim=32, hidden=(512, 256), data_dim=784, beta=1.0, warmup_steps=0, seed=0):
        super().__init__()
        self.latent_dim = latent_dim
        self.warmup_steps = warmup_steps  # KL warm-up (section 9): beta grows linearly from 0 over these steps
        self.encoder = mlp([data_dim, *hidden], 2 * latent_dim, "encoder")
        self.decoder = mlp([latent_dim, *reversed(hidden)], data_dim, "decoder")
        self.beta = tf.Variable(beta, trainable=False, dtype=tf.float32, name="beta")
        self.noise = tf.random.Generator.from_seed(seed)
        self.trackers = [keras.metrics.Mean(name) for name in ("neg_elbo", "recon", "kl")]

    @property
    def metrics(self):
        return self.trackers

    def encode(self, x):
        """(mean, log_var) of q(z | x), each of shape (B, d), for a batch x of shape (B, 784)."""
        mean, log_var = tf.split(self.encoder(x), 2, axis=-1)
        return mean, log_var

    def decode(self, z):
        """Bernoulli logits of p(x | z), shape (B, 784), for z of shape (B, d)."""
        return self.decoder(z)

    def posterior(self, x):
        """q(z | x) for a batch x of shape (B, 784): a distribution with batch shape (B,)."""
        mean, log_var = self.encode(x)
        return tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var))

    def likelihood(self, z):
        """p(x | z) for z of shape (B, d): 784 independent Bernoulli pixels per row."""
        return tfd.Independent(tfd.Bernoulli(logits=self.decode(z), dtype=tf.float32), 1)

    def prior(self):
        return tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim), tf.ones(self.latent_dim))

    def call(self, x):
        """Reconstruction logits, decoded from the posterior mean."""
        return self.decode(self.encode(x)[0])

    def loss_terms(self, x):
        """One-sample reconstruction term and analytic KL, each of shape (B,)."""
        q = self.posterior(x)
        z = q.mean() + q.stddev() * self.noise.normal(tf.shape(q.mean()))  # reparameterised
        return -self.likelihood(z).log_prob(x), tfd.kl_divergence(q, self.prior())


# %% [markdown]
# Its training: `track` updates the metrics, and `train_step` takes one gradient step on
# reconstruction + $\beta$ KL (with $\beta$ warmed up when `warmup_steps` is set).


# %%
class VAE(VAEBase):
    """VAEBase trained on reconstruction + beta * KL, with an optional linear KL warm-up."""

    def track(self, recon, kl):
        """Update the metrics with the per-example terms; returns their running means."""
        for tracker, value in zip(self.trackers, (recon + kl, recon, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def current_beta(self):
        if not self.warmup_steps:
            return self.beta
        return self.beta * tf.minimum(1.0, tf.cast(self.optimizer.iterations, tf.float32) / self.warmup_steps)

    def train_step(self, x):
        with tf.GradientTape() as tape:
            recon, kl = self.loss_terms(x)
            loss = tf.reduce_mean(recon + self.current_beta() * kl)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self.track(recon, kl)

    def test_step(self, x):
        return self.track(*self.loss_terms(x))


# %% [markdown]
# Every VAE of this lecture is compiled the same way; build the main one, with $d = 32$.


# %%
def compile_vae(model):
    """Adam at LEARNING_RATE, with XLA (which Keras turns on by itself only on a GPU)."""
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), jit_compile=training.jit_compile())


keras.utils.set_random_seed(config.seed())
latent_dim = 32
vae = VAE(latent_dim)
compile_vae(vae)
x_batch = tf.constant(test_binary[:256])
print("reconstruction logits:", vae(x_batch).shape)  # run once, so that the model is built
vae.summary(line_length=80)

# %% [markdown]
# Check the bookkeeping on an untrained model: the tracked negative ELBO is exactly reconstruction + KL
# for every image, the reconstruction is the Bernoulli formula of section 2 summed over pixels, and the
# KL is the closed form above.

# %%
q_batch = vae.posterior(x_batch)
mean_batch, std_batch = q_batch.mean().numpy(), q_batch.stddev().numpy()
z_batch = mean_batch + std_batch * rng.normal(size=mean_batch.shape).astype("float32")
logits_batch = vae.decode(z_batch).numpy()
recon_by_hand = -np.sum(test_binary[:256] * logits_batch - np.logaddexp(0, logits_batch), axis=1)
recon_by_tfp = -vae.likelihood(z_batch).log_prob(x_batch).numpy()
kl_by_hand = 0.5 * np.sum(std_batch**2 + mean_batch**2 - 1 - np.log(std_batch**2), axis=1)
recon_terms, kl_terms = (t.numpy() for t in vae.loss_terms(x_batch))
for tracker in vae.metrics:
    tracker.reset_state()
logs = vae.track(tf.constant(recon_terms), tf.constant(kl_terms))
print(
    f"untrained: recon {recon_terms.mean():.2f} + KL {kl_terms.mean():.3f} "
    f"= -ELBO {float(logs['neg_elbo']):.2f} nats per image"
)
assert np.allclose(recon_by_tfp, recon_by_hand, rtol=1e-4), (
    f"expected the reconstruction {recon_by_hand[:3]}, got {recon_by_tfp[:3]}"
)
assert np.allclose(kl_terms, kl_by_hand, rtol=1e-4, atol=1e-5), f"expected the KL {kl_by_hand[:3]}, got {kl_terms[:3]}"
assert abs(float(logs["neg_elbo"]) - float(logs["recon"]) - float(logs["kl"])) < 1e-3, (
    f"expected -ELBO = recon + KL, got {logs}"
)
assert abs(recon_terms.mean() - 784 * np.log(2)) < 40, (
    f"expected an untrained decoder near 784 log 2 = 543 nats, got {recon_terms.mean()}"
)

# %% [markdown]
# ## 5. The reparameterisation trick, checked with a tape
#
# The reconstruction term depends on the encoder only through the sample $z$. Written as
# $z = \mu + \sigma \odot \varepsilon$, its gradient with respect to the encoder's weights $\phi$ is
# $\frac{\partial z}{\partial \phi} = \frac{\partial \mu}{\partial \phi}
# + \varepsilon \odot \frac{\partial \sigma}{\partial \phi}$: the chain rule passes straight through. If $z$
# were drawn by an opaque sampler, which is what
# `tf.stop_gradient(z)` simulates, the reconstruction would carry no gradient to the encoder at all, and
# only the KL term would train it, pulling every $q(z \mid x)$ towards the prior.
#
# Check with `tf.GradientTape`: the norm of the reconstruction's gradient with respect to each encoder
# variable, with and without the stop.


# %%
def encoder_gradient_norms(stop):
    """Norms of d(mean reconstruction)/d(encoder variables), with z reparameterised or with its gradient stopped."""
    eps = tf.random.stateless_normal((256, latent_dim), seed=(config.seed(), 7))
    with tf.GradientTape() as tape:
        q = vae.posterior(x_batch)
        z = q.mean() + q.stddev() * eps
        if stop:
            z = tf.stop_gradient(z)
        recon = -tf.reduce_mean(vae.likelihood(z).log_prob(x_batch))
    grads = tape.gradient(recon, vae.encoder.trainable_variables)  # None where no gradient flows
    return np.array([0.0 if g is None else float(tf.norm(g)) for g in grads])


through_z, stopped = encoder_gradient_norms(stop=False), encoder_gradient_norms(stop=True)
for variable, a, b in zip(vae.encoder.trainable_variables, through_z, stopped):
    print(f"{variable.path:32s} reparameterised {a:10.4f}   stop_gradient {b:6.1f}")
assert np.all(through_z > 1e-3), f"expected non-zero encoder gradients through the reparameterised z, got {through_z}"
assert np.all(stopped == 0), (
    f"expected stop_gradient to cut every encoder gradient of the reconstruction, got {stopped}"
)

# %% [markdown]
# ## 6. Training
#
# Adam, batches of 128, one reparameterised sample per image. `dgm.training.fit` prints a line every few
# epochs; the validation metrics are the same terms on the fixed test binarisation, so `val_neg_elbo`
# is the test set's negative ELBO (one sample of $z$ per image: an unbiased estimate). The model was
# compiled with XLA (`training.jit_compile()` is `True` on a CPU-only machine), which fuses the step's many
# small operations into fewer, faster ones.
# FAST mode trains 20 epochs on 5000 images; FULL mode 100 epochs on 60 000.

# %%
start = time.perf_counter()
history = training.fit(vae, train_batches, EPOCHS, validation_data=test_batches)
train_seconds = time.perf_counter() - start
epochs_run = len(history.history["neg_elbo"])
test_metrics = vae.evaluate(test_batches, verbose=0, return_dict=True)
test_elbo = -test_metrics["neg_elbo"]
print(
    f"{epochs_run} epochs in {train_seconds:.1f} s; test ELBO {test_elbo:.2f} nats "
    f"(reconstruction {test_metrics['recon']:.2f}, KL {test_metrics['kl']:.2f})"
)
assert test_elbo > ELBO_FLOOR, f"expected the test ELBO above {ELBO_FLOOR} nats after training, got {test_elbo:.2f}"

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
epoch_axis = np.arange(1, epochs_run + 1)
for key, style in [("neg_elbo", "-"), ("val_neg_elbo", "--")]:
    axes[0].plot(epoch_axis, history.history[key], style, color=plotting.COLORS["p"], label=key)
axes[0].set_ylim(None, history.history["val_neg_elbo"][min(2, epochs_run - 1)])
axes[0].set_title("negative ELBO (nats per image)")
for key, color in [("recon", plotting.COLORS["q"]), ("kl", plotting.COLORS["forward"])]:
    axes[1].plot(epoch_axis, history.history[key], color=color, label=key)
    axes[1].plot(epoch_axis, history.history["val_" + key], "--", color=color, label="val_" + key)
axes[1].set_yscale("log")
axes[1].set_title("its two terms")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per image")
    ax.legend(frameon=False)
plt.show()

# %% [markdown]
# The reconstruction term falls throughout, while the KL *rises*: the encoder learns to put
# information about each image into $z$, paying for it in nats of KL. The ELBO is their balance.
#
# ## 7. The log-likelihood by importance sampling
#
# The ELBO is only a lower bound on $\log p_\theta(x)$. To compare with published numbers we estimate
# $\log p_\theta(x)$ itself with the importance-weighted bound of unit 03, using the encoder as proposal:
#
# $$\mathcal L_k(x) = \log \frac1k \sum_{s=1}^k \frac{p_\theta(x \mid z_s)\, p(z_s)}{q_\phi(z_s \mid x)},
# \quad z_s \sim q_\phi(z \mid x), \qquad
# \mathrm{ELBO} = \mathbb E[\mathcal L_1] \le \mathbb E[\mathcal L_k] \le \mathbb E[\mathcal L_{k+1}]
# \le \log p_\theta(x).$$
#
# Each image needs $k$ decoder passes, so we process the images in chunks of at most
# `max_samples / k`, keeping memory bounded whatever $k$ is (Burda et al. use $k = 5000$). The log-weights
# are around $-100$ nats: their exponentials underflow in float32, so the average is a `logsumexp`
# minus $\log k$.


# %%
def importance_sampled_log_likelihood(model, images, k, max_samples=40_000, seed=0):
    """Per-image L_k estimates (nats) for float32 binary images (N, 784), in chunks of at most max_samples z's."""
    chunk = max(1, max_samples // k)
    generator = tf.random.Generator.from_seed(seed)

    @tf.function
    def bound(x):
        q = model.posterior(x)
        eps = generator.normal(tf.concat([[k], tf.shape(q.mean())], axis=0))
        z = q.mean() + q.stddev() * eps  # (k, B, d)
        logits = model.decode(tf.reshape(z, (-1, model.latent_dim)))  # the decoder takes rank-2 input
        log_px_z = tfd.Independent(
            tfd.Bernoulli(logits=tf.reshape(logits, (k, -1, 784)), dtype=tf.float32), 1
        ).log_prob(x)
        log_w = log_px_z + model.prior().log_prob(z) - q.log_prob(z)  # (k, B)
        return tf.reduce_logsumexp(log_w, axis=0) - tf.math.log(float(k))

    starts = training.progress(range(0, len(images), chunk), f"L_{k} on {len(images)} images, chunks")
    return np.concatenate([bound(tf.constant(images[i : i + chunk])).numpy() for i in starts])


# %% [markdown]
# Compare the ELBO (one sample per image) with $\mathcal L_k$ for growing $k$, on the same test images.

# %%
eval_images = test_binary[:IWAE_N]
iwae_n = len(eval_images)
if not config.is_fast():
    print(f"k = {IWAE_K} on {iwae_n} test images ({'GPU: the whole test set' if GPU else 'no GPU: the first 1000'})")
q_eval = vae.posterior(eval_images)
z_eval = q_eval.sample(seed=(config.seed(), 9))
single_elbo = vae.likelihood(z_eval).log_prob(eval_images).numpy() - tfd.kl_divergence(q_eval, vae.prior()).numpy()
ks = sorted({1, 10, 100, IWAE_K})
start = time.perf_counter()
bounds = {k: importance_sampled_log_likelihood(vae, eval_images, k, seed=k) for k in ks}
print(f"{'k':>5s} {'L_k (nats)':>12s}   ({iwae_n} test images, {time.perf_counter() - start:.1f} s)")
print(f"{'ELBO':>5s} {single_elbo.mean():12.3f} ± {single_elbo.std() / np.sqrt(iwae_n):.3f}")
for k in ks:
    print(f"{k:5d} {bounds[k].mean():12.3f} ± {bounds[k].std() / np.sqrt(iwae_n):.3f}")

# %% [markdown]
# Check: $\mathcal L_1$ agrees with the ELBO (both are one-sample estimates of it), and each larger $k$ is
# higher. Differences are taken image by image (the same images), so their standard errors are small.

# %%
difference = bounds[1] - single_elbo
assert abs(difference.mean()) < 5 * difference.std() / np.sqrt(iwae_n), (
    f"expected L_1 = ELBO, got a difference of {difference.mean():.3f}"
)
for k_small, k_large in zip(ks[:-1], ks[1:]):
    gain = bounds[k_large] - bounds[k_small]
    gain_se = gain.std() / np.sqrt(iwae_n)
    print(f"L_{k_large} - L_{k_small} = {gain.mean():.3f} ± {gain_se:.3f} nats")
    assert gain.mean() > 5 * gain_se, (
        f"expected L_{k_large} clearly above L_{k_small}, got a gain of {gain.mean():.3f} ± {gain_se:.3f}"
    )
test_log_likelihood = float(bounds[IWAE_K].mean())
assert test_log_likelihood > single_elbo.mean(), "expected the importance-sampled log-likelihood above the ELBO"

# %% [markdown]
# The gap between the ELBO and $\mathcal L_{k}$ is a lower estimate of the average
# $\mathrm{KL}(q_\phi(z \mid x)\,\|\,p_\theta(z \mid x))$: what the diagonal Gaussian encoder fails to capture of
# the true posterior. (A model trained on $\mathcal L_k$ instead of the ELBO is the IWAE.)
#
# **The amortisation gap.** Part of that gap is the encoder's doing: one network serves every image, so its
# $q_\phi(z \mid x)$ need not be the best diagonal Gaussian for a given $x$. Fit a separate $(\mu, \log\sigma^2)$ to
# each of a few test images, as unit 03 did, starting from the encoder's and keeping the decoder fixed: the ELBO
# rises. The rise is the **amortisation gap**; what is left below $\log p_\theta(x)$ is the **approximation
# gap** of the diagonal Gaussian family (Cremer et al., 2018).


# %%
def elbo_samples(mean, log_var, x, eps):
    """ELBO terms log p(x | z_s) - KL(q || p) of q = N(mean, diag exp(log_var)) for noise eps (n, B, d): (n, B)."""
    z = mean + tf.exp(0.5 * log_var) * eps
    logits = tf.reshape(vae.decode(tf.reshape(z, (-1, latent_dim))), (eps.shape[0], -1, 784))
    log_lik = tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), 1).log_prob(x)
    return log_lik - 0.5 * tf.reduce_sum(tf.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)


x_gap = tf.constant(eval_images[:GAP_N])
mean_enc, log_var_enc = vae.encode(x_gap)
mean_fit, log_var_fit = tf.Variable(mean_enc), tf.Variable(log_var_enc)
refine_optimizer = keras.optimizers.Adam(1e-2)
gap_noise = tf.random.Generator.from_seed(config.seed() + 12)


@tf.function
def refine_step():
    """One Adam step on the per-image q's, on a 16-sample ELBO estimate (the decoder is not changed)."""
    with tf.GradientTape() as tape:
        eps = gap_noise.normal((16, GAP_N, latent_dim))
        loss = -tf.reduce_sum(tf.reduce_mean(elbo_samples(mean_fit, log_var_fit, x_gap, eps), axis=0))
    gradients = tape.gradient(loss, [mean_fit, log_var_fit])
    refine_optimizer.apply_gradients(zip(gradients, [mean_fit, log_var_fit]))


for _ in range(GAP_STEPS):
    refine_step()

# %% [markdown]
# Compare the two ELBOs with the same 500 samples of $\varepsilon$ per image (a paired comparison, so its
# standard error is small), and with $\mathcal L_k$ on the same images. All three are lower bounds on
# $\log p_\theta(x)$, so a well-fitted $q$ may even beat $\mathcal L_k$ computed with the encoder's $q$.

# %%
eps_gap = tf.random.stateless_normal((500, GAP_N, latent_dim), seed=(config.seed(), 13))
elbo_encoder = elbo_samples(mean_enc, log_var_enc, x_gap, eps_gap).numpy()
elbo_fitted = elbo_samples(mean_fit, log_var_fit, x_gap, eps_gap).numpy()
amortisation_gap = (elbo_fitted - elbo_encoder).mean(axis=0)  # per image
gap_se = (elbo_fitted - elbo_encoder).std() / np.sqrt(elbo_encoder.size)
print(
    f"{GAP_N} test images: encoder's ELBO {elbo_encoder.mean():.2f}, per-image fitted ELBO {elbo_fitted.mean():.2f}, "
    f"L_{IWAE_K} {bounds[IWAE_K][:GAP_N].mean():.2f} nats"
)
print(
    f"amortisation gap {amortisation_gap.mean():.2f} ± {gap_se:.2f} nats per image; "
    f"per image {np.round(amortisation_gap, 2)}"
)
assert amortisation_gap.mean() > 5 * gap_se, (
    f"expected the per-image fitted q's ELBO clearly above the encoder's, got a gain of "
    f"{amortisation_gap.mean():.3f} ± {gap_se:.3f} nats"
)

# %% [markdown]
# ## 8. Reconstructions, samples and active units
#
# Reconstructions decode the posterior mean of a test image; samples decode $z \sim p(z)$, which is
# what the model believes digits look like. We show the decoder's pixel probabilities
# $\operatorname{sigmoid}(f_\theta(z))$, not binary samples, as is customary.

# %%
originals = test_binary[:10]
reconstructions = tf.sigmoid(vae(originals)).numpy()
plotting.image_grid(
    np.concatenate([originals, reconstructions]), 2, 10, "test images (top) and reconstructions (bottom)"
)
plt.show()
prior_samples = tf.sigmoid(vae.decode(tf.random.stateless_normal((30, latent_dim), seed=(config.seed(), 11)))).numpy()
plotting.image_grid(prior_samples, 3, 10, "samples: decoded z ~ N(0, I)")
plt.show()

# %% [markdown]
# **Active units.** Not every latent dimension is used. Burda et al. (2016) call unit $j$ *active* if the
# encoder's mean for it varies across the data,
# $A_j = \operatorname{Cov}_x\big(\mathbb E_{q(z \mid x)}[z_j]\big) > 10^{-2}$.
# An inactive unit has the same posterior for every $x$, so it carries no information about $x$; the
# KL pushes such a unit's posterior to the prior, where it costs nothing. Measured on the test images:


# %%
def unit_activity(model, images):
    """Variance across images of each unit's posterior mean, shape (d,)."""
    return np.var(model.encode(images)[0].numpy(), axis=0)


activity = unit_activity(vae, test_binary)
active_units = int(np.sum(activity > 1e-2))
print(f"active units: {active_units} of {latent_dim}")
fig, ax = plt.subplots()
ax.bar(np.arange(latent_dim), np.sort(activity)[::-1], color=plotting.COLORS["p"])
ax.axhline(1e-2, color="black", linestyle="--", label="threshold 0.01")
ax.set_yscale("log")
ax.set_xlabel("latent unit (sorted)")
ax.set_ylabel("Cov_x(E_q[z_j | x])")
ax.set_title(f"active units: {active_units} of {latent_dim} above the threshold")
ax.legend(frameon=False)
plt.show()
assert 1 <= active_units <= latent_dim, f"expected some active units, got {active_units}"

# %% [markdown]
# ## 9. Posterior collapse, $\beta$ and KL warm-up
#
# Weight the KL by $\beta$: the loss $\mathbb E_q[-\log p(x \mid z)] + \beta\,\mathrm{KL}$. Every nat of
# information that $z$ carries about $x$ now costs $\beta$ nats, and there is always a solution that pays nothing:
# $q(z \mid x) = p(z)$ for every $x$ and a decoder that ignores $z$ (it then models the average image).
# When the KL term wins, training lands there: **posterior collapse**, KL $\approx 0$, no active units. It
# happens in practice early in training, when the decoder is still poor (the KL is easy to reduce, the
# reconstruction is not), and with decoders strong enough to model $x$ without $z$ (autoregressive
# ones; Bowman et al., 2016).
#
# **KL warm-up** (Bowman et al., 2016; Sønderby et al., 2016) starts at $\beta = 0$ and raises it
# linearly to 1 over the first epochs (step by step, over `WARMUP_EPOCHS` epochs: 3 in FAST mode): the
# encoder first learns to carry information, then pays for it. We train three
# short models from the same start: a large $\beta = 50$, plain $\beta = 1$, and warm-up.

# %%
steps_per_epoch = int(np.ceil(len(train_images) / batch_size))
variants = {
    "beta = 50": (50.0, 0),
    "beta = 1": (1.0, 0),
    "warm-up to beta = 1": (1.0, WARMUP_EPOCHS * steps_per_epoch),
}
collapse = {}
for name, (beta, warmup_steps) in variants.items():
    keras.utils.set_random_seed(config.seed())
    model = VAE(latent_dim, beta=beta, warmup_steps=warmup_steps)
    compile_vae(model)
    print(f"--- {name}")
    fitted = training.fit(model, train_batches, SHORT_EPOCHS)
    metrics = model.evaluate(test_batches, verbose=0, return_dict=True)
    q_test = model.posterior(test_binary)
    variance, mean = q_test.variance().numpy(), q_test.mean().numpy()
    unit_kl = np.mean(0.5 * (variance + mean**2 - 1 - np.log(variance)), axis=0)  # KL per unit, over the test set
    collapse[name] = {
        "kl_history": fitted.history["kl"],
        "test_kl": metrics["kl"],
        "test_elbo": -metrics["neg_elbo"],
        "active": int(np.sum(unit_activity(model, test_binary) > 1e-2)),
        "unit_kl": unit_kl,
        "informative": int(np.sum(unit_kl > 0.1)),
    }
    print(
        f"test KL {metrics['kl']:.3f} nats, test ELBO {-metrics['neg_elbo']:.2f}, "
        f"active units {collapse[name]['active']}, units with KL > 0.1 nats {collapse[name]['informative']}"
    )

# %% [markdown]
# Check: with $\beta = 50$ the KL is practically zero and no unit is active: the posterior has collapsed. At
# $\beta = 1$ this MLP decoder does *not* collapse, with or without warm-up: most units carry more than 0.1 nats
# each. What warm-up changes is the start. Plain $\beta = 1$ keeps the KL low in its first epochs, when the
# decoder is still poor and information in $z$ is not yet worth its price (about 3 nats in epoch 2, against
# about 7 with warm-up); warm-up lets the encoder put information into $z$ first and ends with the better ELBO.
# (Measured in FAST mode over seeds 0, 1, 2: warm-up's test ELBO higher by 2.2 to 5.1 nats, its KL by 0.8 to
# 1.8 nats; 22 to 28 units above 0.1 nats either way.)

# %%
plain, warm = collapse["beta = 1"], collapse["warm-up to beta = 1"]
kl_collapsed, kl_warmup = collapse["beta = 50"]["test_kl"], warm["test_kl"]
assert kl_collapsed < 0.5 and collapse["beta = 50"]["active"] <= 1, (
    "expected a collapsed posterior (KL < 0.5 nats, at most 1 active unit), "
    f"got KL {kl_collapsed:.3f} and {collapse['beta = 50']['active']} units"
)
for name in ("beta = 1", "warm-up to beta = 1"):
    assert collapse[name]["informative"] >= 10, (
        f"expected no collapse at beta = 1 ({name}): at least 10 units with KL > 0.1 nats, "
        f"got {collapse[name]['informative']}"
    )
assert plain["kl_history"][1] < warm["kl_history"][1], (
    f"expected plain beta = 1 to keep the KL lower than warm-up in epoch 2, got {plain['kl_history'][1]:.2f} "
    f"and {warm['kl_history'][1]:.2f} nats"
)
if config.is_fast():  # measured in FAST mode (the short run); FULL's longer run is not measured
    assert warm["test_elbo"] > plain["test_elbo"], (
        f"expected warm-up to end with a higher test ELBO than plain beta = 1, got {warm['test_elbo']:.2f} "
        f"and {plain['test_elbo']:.2f} nats"
    )

# %% [markdown]
# Left, the training KL epoch by epoch; right, each unit's KL on the test set, largest first.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for (name, result), color in zip(
    collapse.items(), [plotting.COLORS["q"], plotting.COLORS["p"], plotting.COLORS["forward"]]
):
    axes[0].plot(
        np.arange(1, len(result["kl_history"]) + 1),
        np.maximum(result["kl_history"], 1e-3),
        marker="o",
        color=color,
        label=f"{name}: {result['active']} active units",
    )
    axes[1].plot(np.maximum(np.sort(result["unit_kl"])[::-1], 1e-4), marker=".", color=color, label=name)
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("training KL (nats per image)")
axes[0].set_title("KL during training (floored at 0.001)", fontsize=10)
axes[1].axhline(0.1, color="black", linestyle="--", label="0.1 nats")
axes[1].set_xlabel("latent unit (sorted)")
axes[1].set_ylabel("test KL of the unit (nats per image)")
axes[1].set_title("KL per unit (floored at 0.0001)", fontsize=10)
for ax in axes:
    ax.set_yscale("log")
    ax.legend(frameon=False, fontsize=8)
plt.show()

# %% [markdown]
# With $\beta = 50$ the KL drops to almost nothing within an epoch and never recovers: the decoder has
# learned to ignore $z$, so the reconstruction gradient through $z$ is pure noise and nothing pulls the
# encoder back. Plain $\beta = 1$ recovers from its slow start here, because an MLP decoder needs $z$ to draw
# a digit; a decoder strong enough to model $x$ without $z$ (an autoregressive one, as in Bowman et al.) stays
# collapsed, and that is where warm-up matters most. Even a well-trained VAE leaves some units nearly unused
# (see the right panel): the same trade-off between information and its KL price, unit by unit.
#
# ## 10. A 2-D latent space
#
# With $d = 2$ we can look at the whole latent space. Left: the test images' posterior means, coloured by
# digit; the prior $\mathcal N(0, I)$ is where the model expects them. Right: the **manifold**, the decoded
# images on a grid of $z$ values. The widget decodes any point $(z_1, z_2)$ and marks it on the manifold.

# %%
keras.utils.set_random_seed(config.seed())
vae2 = VAE(latent_dim=2)
compile_vae(vae2)
vae2(x_batch)
history2 = training.fit(vae2, train_batches, EPOCHS_2D, validation_data=test_batches)
means2 = vae2.encode(test_binary)[0].numpy()
print(f"2-D VAE: test ELBO {-history2.history['val_neg_elbo'][-1]:.2f} nats")
assert -history2.history["val_neg_elbo"][-1] < test_elbo, "expected the 2-D VAE's ELBO below the 32-D one's"

# %% [markdown]
# The manifold: decode a $15 \times 15$ grid of $z$ values once; the widget marks a point on it.

# %%
n_grid, z_max = 15, 3.0
grid_values = np.linspace(-z_max, z_max, n_grid)
grid_z = np.array([[z1, z2] for z2 in grid_values[::-1] for z1 in grid_values], dtype="float32")
tiles = tf.sigmoid(vae2.decode(grid_z)).numpy().reshape(n_grid, n_grid, 28, 28)
manifold = tiles.transpose(0, 2, 1, 3).reshape(n_grid * 28, n_grid * 28)


def draw(z1, z2):
    fig, axes = plt.subplots(
        1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.2, 1.2, 0.6]}, layout="constrained"
    )
    scatter = axes[0].scatter(means2[:, 0], means2[:, 1], c=test_labels, cmap="tab10", s=4)
    axes[0].plot(z1, z2, "k*", markersize=14)
    axes[0].set_xlim(-4, 4)
    axes[0].set_ylim(-4, 4)
    axes[0].set_title("posterior means of test images")
    fig.colorbar(scatter, ax=axes[0], ticks=range(10), label="digit")
    half = z_max + (grid_values[1] - grid_values[0]) / 2
    axes[1].imshow(manifold, cmap="gray_r", extent=(-half, half, -half, half))
    axes[1].plot(z1, z2, "r*", markersize=14)
    axes[1].set_title("decoded grid of z")
    axes[1].grid(False)
    image = tf.sigmoid(vae2.decode(np.array([[z1, z2]], dtype="float32"))).numpy().reshape(28, 28)
    axes[2].imshow(image, cmap="gray_r", vmin=0, vmax=1)
    axes[2].set_title(f"z = ({z1:.2f}, {z2:.2f})")
    axes[2].axis("off")
    for ax in axes[:2]:
        ax.set_xlabel("z1")
        ax.set_ylabel("z2")


widgets.explore(
    draw,
    z1=widgets.slider(0.0, -z_max, z_max, 0.1, "z1"),
    z2=widgets.slider(0.0, -z_max, z_max, 0.1, "z2"),
)

# %% [markdown]
# Nearby points decode to similar images and digits morph continuously into each other: the KL term
# keeps the posteriors overlapping and close to the prior, so the decoder must be smooth between them.
# Two dimensions are not enough for ten digit shapes and their styles, which is why this model's ELBO
# is much lower than the 32-dimensional one's.
#
# ## What this run measured
#
# The main numbers of this run, in nats per test image (higher is better): the 32-dimensional VAE's test
# ELBO and its importance-sampled log-likelihood $\mathcal L_k$ (the closer of the two to $\log p_\theta(x)$),
# its active units, and the test KL of the collapsed ($\beta = 50$) and warmed-up models of section 9.
# FULL mode trains longer on the whole of MNIST, so its numbers are higher than FAST mode's.

# %%
RESULTS = {
    "epochs_run": int(epochs_run),
    "train_seconds": round(float(train_seconds), 1),
    "test_elbo": round(float(test_elbo), 3),
    "iwae_k": int(IWAE_K),
    "iwae_n": int(iwae_n),
    "test_log_likelihood": round(test_log_likelihood, 3),
    "active_units": int(active_units),
    "latent_dim": int(latent_dim),
    "kl_collapsed": round(float(kl_collapsed), 4),
    "kl_warmup": round(float(kl_warmup), 3),
    "active_units_collapsed": int(collapse["beta = 50"]["active"]),
    "active_units_warmup": int(collapse["warm-up to beta = 1"]["active"]),
}
for key, value in RESULTS.items():
    print(f"{key:24s} {value}")

# %% [markdown]
# ## Summary
#
# - A VAE amortises inference: an encoder outputs $\mu_\phi(x)$ and $\log\sigma^2_\phi(x)$ of
#   $q_\phi(z \mid x)$, a decoder outputs the logits of $p_\theta(x \mid z)$, and both maximise the ELBO
#   $\mathbb E_q[\log p_\theta(x \mid z)] - \mathrm{KL}(q_\phi(z \mid x)\,\|\,p(z))$.
# - The negative ELBO is reconstruction (Bernoulli log-likelihood from logits, summed over pixels) plus the
#   closed-form KL $\tfrac12\sum_j(\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2)$; a Monte Carlo KL agrees, with
#   variance.
# - $z = \mu + \sigma \odot \varepsilon$ makes the sample differentiable: without it the encoder gets no
#   reconstruction gradient.
# - Evaluate with the importance-weighted $\mathcal L_k$ (log-sum-exp of log-weights minus $\log k$, in
#   chunks): it is above the ELBO and rises with $k$ towards $\log p_\theta(x)$.
# - Active units ($\operatorname{Cov}_x \mathbb E_q[z_j] > 0.01$) measure how much of $z$ is used. Too strong a
#   KL (large $\beta$, a strong decoder, an early poor decoder) collapses the posterior to the prior; KL
#   warm-up lets the encoder use $z$ before the KL is charged in full.
# - A Gaussian decoder with a fixed variance $\sigma^2$ turns the reconstruction into the squared error:
#   "SSE $+ \beta\,$KL" is that VAE with $\sigma^2 = \beta / 2$.
# - The encoder's ELBO is below the best per-image Gaussian's: the amortisation gap, on top of the
#   approximation gap of the Gaussian family.
#
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-encoding variational Bayes. *ICLR*.
# - D. J. Rezende, S. Mohamed and D. Wierstra (2014). Stochastic backpropagation and approximate inference
#   in deep generative models. *ICML*.
# - C. Cremer, X. Li and D. Duvenaud (2018). Inference suboptimality in variational autoencoders. *ICML*
#   (the amortisation and approximation gaps).
# - Y. Burda, R. Grosse and R. Salakhutdinov (2016). Importance weighted autoencoders. *ICLR*
#   (dynamic binarisation, $k = 5000$ evaluation, active units).
# - S. R. Bowman, L. Vilnis, O. Vinyals, A. M. Dai, R. Jozefowicz and S. Bengio (2016). Generating sentences
#   from a continuous space. *CoNLL* (posterior collapse, KL annealing).
# - C. K. Sønderby, T. Raiko, L. Maaløe, S. K. Sønderby and O. Winther (2016). Ladder variational
#   autoencoders. *NeurIPS* (warm-up).
# - I. Higgins, L. Matthey, A. Pal, C. Burgess, X. Glorot, M. Botvinick, S. Mohamed and A. Lerchner (2017).
#   β-VAE: learning basic visual concepts with a constrained variational framework. *ICLR*.
# - D. P. Kingma and M. Welling (2019). An introduction to variational autoencoders. *Foundations and
#   Trends in Machine Learning* 12(4), 307–392.
