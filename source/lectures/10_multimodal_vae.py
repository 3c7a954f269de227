# %% [markdown]
# # Unit 10 — Multimodal VAEs: a product or a mixture of experts
#
# One digit, two descriptions: its image and its label. A multimodal VAE learns one latent code for both, so
# that it can generate either from the other, or both from nothing. The question is how to build the posterior
# $q(z \mid \text{whatever we observed})$ from one encoder per modality. We compare the two standard answers, a
# **product of experts** (the MVAE, Wu & Goodman 2018) and a **mixture of experts** (the MMVAE, Shi et al. 2019),
# on MNIST images and their labels, and measure with an independent classifier what each gets right.

# %% badge

# %% [markdown]
# **Learning outcomes.** After this lecture you can
#
# - write the generative model $p(z)\,p(x \mid z)\,p(y \mid z)$ of two modalities and say why one encoder per
#   modality is enough to condition on any subset of them;
# - combine Gaussian experts by a product with the prior as an expert (precisions add) and check it against the
#   normalised product of the densities; combine them by a mixture, and write its ELBO with one sample per expert;
# - train an MVAE with its sub-sampled ELBO terms (both modalities, and each one alone) and an MMVAE;
# - measure cross-modal generation (label → image judged by a classifier, image → label accuracy) and joint
#   coherence, and explain where a product and where a mixture fails, and why.

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
print(f"mode: {config.mode().upper()}")

# %% [markdown]
# ## Settings
#
# Every number that differs between FAST mode (a quick check) and FULL mode (the real run) is set here; the rest
# of the notebook uses these names.

# %%
CLASSIFIER_EPOCHS = config.pick(fast=5, full=8)  # epochs of the digit classifier that judges the images
CLASSIFIER_FLOOR = config.pick(fast=0.85, full=0.96)  # the test accuracy the judge must exceed
EPOCHS = config.pick(fast=20, full=40)  # epochs of each multimodal VAE (section 7)
HIDDEN = config.pick(fast=256, full=512)  # width of the image encoder and decoder
LATENT = config.pick(fast=16, full=20)  # size of the shared code z
LABEL_WEIGHT = 50.0  # weight of log p(y | z) next to the image's log p(x | z) (section 6)
PER_DIGIT = config.pick(fast=50, full=200)  # generated images per requested digit (section 8)
RESULTS = {}  # what this run measured, filled in as the sections go

# %% [markdown]
# ## 1. Two modalities, one code
#
# An MNIST image $x$ (784 binary pixels) and its label $y$ (one of 10 digits) describe the same object. The model
# draws a code and then each modality from it, independently given the code:
#
# $$p_\theta(x, y, z) = p(z)\;p_\theta(x \mid z)\;p_\theta(y \mid z), \qquad p(z) = \mathcal N(0, I),$$
#
# with a Bernoulli decoder for the pixels and a categorical one (softmax of 10 logits) for the label. We want to
# condition on **any subset** of the modalities: both (reconstruct), the image alone (image → label), the label
# alone (label → image), or nothing (joint generation from $p(z)$). That needs a posterior for each subset: three
# here, $2^M - 1$ for $M$ modalities. Training one encoder per subset does not scale. Bayes' rule says how to build
# them all from one encoder per modality. Because $x$ and $y$ are independent given $z$,
#
# $$p(z \mid x, y) = \frac{p(x \mid z)\,p(y \mid z)\,p(z)}{p(x, y)}
# = \frac{p(x, y)^{-1}\;p(z \mid x)\,p(x)\;p(z \mid y)\,p(y)}{p(z)}
# \;\propto\; \frac{p(z \mid x)\,p(z \mid y)}{p(z)} .$$
#
# Writing each unimodal posterior as $p(z \mid m) \propto p(z)\,\tilde q(z \mid m)$, with a learned **expert**
# $\tilde q$ per modality, gives $p(z \mid x, y) \propto p(z)\,\tilde q(z \mid x)\,\tilde q(z \mid y)$: a
# **product of experts** in which the prior is one more expert, and a missing modality simply drops out of the
# product. The second answer, the **mixture of experts**, replaces the product by an average (section 3).
#
# ## 2. The product of Gaussian experts
#
# With Gaussian experts $\mathcal N(\mu_j, \sigma_j^2)$ (per dimension), the exponents of the densities add, and
# completing the square gives a Gaussian again (unit 07, section 2, did it for two): with precisions
# $T_j = 1/\sigma_j^2$ and the prior $\mathcal N(0, 1)$ as expert $j = 0$ ($T_0 = 1$, $\mu_0 = 0$),
#
# $$\prod_j \mathcal N(z; \mu_j, \sigma_j^2) \;\propto\; \mathcal N(z; \mu, \sigma^2), \qquad
# \sigma^2 = \frac{1}{\sum_j T_j}, \qquad \mu = \sigma^2 \sum_j T_j\,\mu_j .$$
#
# Precisions add; the mean is the precision-weighted average. Check: for an image expert, a label expert and the
# prior, the product of the three densities, normalised numerically on a grid, is this Gaussian; and dropping a
# modality is the same formula without its expert.


# %%
def product_of_gaussians(experts):
    """Normalised product of Gaussian densities [(mean, var), ...] (the prior included by the caller): (mean, var)."""
    precision = sum(1.0 / var for _, var in experts)
    return sum(mean / var for mean, var in experts) / precision, 1.0 / precision


grid = np.linspace(-10.0, 10.0, 40_001)
prior_expert, image_expert, label_expert = (0.0, 1.0), (1.5, 0.3), (-0.8, 2.0)
for experts, what in [
    ([prior_expert, image_expert, label_expert], "prior x image x label"),
    ([prior_expert, image_expert], "prior x image (label missing)"),
    ([prior_expert, label_expert], "prior x label (image missing)"),
]:
    product = np.prod([tfd.Normal(np.float64(m), np.sqrt(v)).prob(grid).numpy() for m, v in experts], axis=0)
    product /= np.trapezoid(product, grid)
    mean, var = product_of_gaussians(experts)
    closed_form = tfd.Normal(np.float64(mean), np.sqrt(var)).prob(grid).numpy()
    gap = np.max(np.abs(product - closed_form))
    print(f"{what:32s} -> N({mean:.4f}, {var:.4f}); largest density gap {gap:.1e}")
    assert gap < 1e-6 * closed_form.max(), f"expected the normalised product to be N({mean}, {var}), off by {gap}"
    assert var < min(v for _, v in experts), "expected the product to be more certain than every expert"

# %% [markdown]
# The product is always narrower than its narrowest expert: every expert adds precision, **whether or not it
# agrees** with the others. That is the product's strength (two modalities pin the code down more than one) and its
# weakness: an over-confident expert dominates, and two experts that disagree give a confident answer halfway
# between them, where neither puts its mass. Check with two experts that disagree, $\mathcal N(-2, 0.25)$ and
# $\mathcal N(2, 0.25)$: the product is $\mathcal N(0, 0.125)$, its variance the same as if they agreed, and at its
# mean each expert's density is below 1 % of its peak.

# %%
disagree = [(-2.0, 0.25), (2.0, 0.25)]
conflict_mean, conflict_var = product_of_gaussians(disagree)
agree_mean, agree_var = product_of_gaussians([(2.0, 0.25), (2.0, 0.25)])
density_at_mean = [tfd.Normal(m, np.sqrt(v)).prob(conflict_mean).numpy() for m, v in disagree]
peak = tfd.Normal(0.0, np.sqrt(0.25)).prob(0.0).numpy()
print(f"disagreeing: N({conflict_mean}, {conflict_var}); agreeing: N({agree_mean}, {agree_var})")
print(f"each expert's density at the product's mean: {np.round(np.array(density_at_mean) / peak, 5)} of its peak")
assert conflict_var == agree_var == 0.125, f"expected variance 0.125 either way, got {conflict_var}, {agree_var}"
assert max(density_at_mean) < 0.01 * peak, f"expected both experts below 1 % of their peak there, got {density_at_mean}"

# %% [markdown]
# ## 3. The mixture of experts and its ELBO
#
# The MMVAE (Shi et al., 2019) averages the unimodal posteriors instead:
#
# $$q_\text{MoE}(z \mid x, y) = \tfrac12\, q(z \mid x) + \tfrac12\, q(z \mid y),$$
#
# with each $q(z \mid m)$ a Gaussian from its own encoder (no prior expert: each is a full posterior). A mixture's
# variance is the average of its experts' variances plus the spread of their means, so it never drops below that
# average, and more agreeing modalities do not sharpen it; two that disagree give two bumps, and the mixture puts its
# mass where each expert does. Its density is a log-sum-exp,
# $\log q_\text{MoE}(z) = \operatorname{logsumexp}_m \log q(z \mid m) - \log 2$, and has no closed-form KL
# to the prior, so its ELBO is estimated by sampling. The MMVAE samples **stratified** over the experts: one sample
# from each expert, weighted by its mixture weight,
#
# $$\mathrm{ELBO} = \mathbb E_{q_\text{MoE}}\big[\log p(x, y, z) - \log q_\text{MoE}(z)\big]
# = \tfrac12 \sum_{m \in \{x, y\}} \mathbb E_{q(z \mid m)}\big[\log p(x, y, z) - \log q_\text{MoE}(z)\big],$$
#
# an exact rewriting (the expectation under a mixture is the weighted sum of the expectations under its parts).
# Every expert's sample must explain **both** modalities: the label's code has to reconstruct the image too. Check on
# a model small enough to know everything: $z \sim \mathcal N(0, 1)$ and two "modalities"
# $a \mid z \sim \mathcal N(z, 0.5)$, $b \mid z \sim \mathcal N(z, 2)$, observed at $a = 1$, $b = -0.5$. The stratified
# estimate equals the plain one (pick an expert at random, then sample it) within a few standard errors, has the
# smaller spread, and both sit below the exact $\log p(a, b)$.

# %%
noise_rng = np.random.default_rng(config.seed() + 3)
obs_a, obs_b, var_a, var_b = 1.0, -0.5, 0.5, 2.0
experts_ab = [product_of_gaussians([(0.0, 1.0), (obs_a, var_a)]), product_of_gaussians([(0.0, 1.0), (obs_b, var_b)])]


def log_joint_ab(z):
    """log p(a, b, z) of the toy model at the observed a and b."""
    return sum(tfd.Normal(z, np.sqrt(v)).log_prob(o).numpy() for o, v in [(obs_a, var_a), (obs_b, var_b)]) + (
        tfd.Normal(0.0, 1.0).log_prob(z).numpy()
    )


def log_q_moe(z):
    """log of the equal-weight mixture of the two experts."""
    logs = [tfd.Normal(m, np.sqrt(v)).log_prob(z).numpy() for m, v in experts_ab]
    return np.logaddexp(*logs) - np.log(2.0)


n_draws = 200_000
stratified = 0.5 * sum(
    log_joint_ab(z) - log_q_moe(z) for z in (m + np.sqrt(v) * noise_rng.normal(size=n_draws) for m, v in experts_ab)
)
which = noise_rng.integers(0, 2, size=n_draws)  # the plain estimator: an expert at random, then its sample
z_plain = np.choose(which, [m + np.sqrt(v) * noise_rng.normal(size=n_draws) for m, v in experts_ab])
plain = log_joint_ab(z_plain) - log_q_moe(z_plain)
evidence = tfd.MultivariateNormalFullCovariance([0.0, 0.0], [[1 + var_a, 1.0], [1.0, 1 + var_b]]).log_prob(
    [obs_a, obs_b]
)
se = np.hypot(stratified.std(), plain.std()) / np.sqrt(n_draws)
print(
    f"ELBO stratified {stratified.mean():.4f} (sd {stratified.std():.3f}), plain {plain.mean():.4f} "
    f"(sd {plain.std():.3f}); log p(a, b) = {float(evidence):.4f}"
)
assert abs(stratified.mean() - plain.mean()) < 5 * se, "expected both estimators of the MoE ELBO to agree"
assert stratified.std() < plain.std(), "expected the stratified estimator to have the smaller spread"
assert plain.mean() < float(evidence), "expected the ELBO below the log evidence"

# %% [markdown]
# The two fusions side by side, on the disagreeing experts of section 2 (a product needs the prior expert; here both
# experts are strong enough that it changes little, so it is left out for the picture).

# %%
line = np.linspace(-4, 4, 801)
product_density = tfd.Normal(conflict_mean, np.sqrt(conflict_var)).prob(line).numpy()
mixture_density = 0.5 * sum(tfd.Normal(m, np.sqrt(v)).prob(line).numpy() for m, v in disagree)
fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
for (m, v), label in zip(disagree, ["expert 1", "expert 2"]):
    ax.plot(line, tfd.Normal(m, np.sqrt(v)).prob(line).numpy(), ":", color="gray", label=label)
ax.plot(line, product_density, color=plotting.COLORS["q"], label="product (PoE)")
ax.plot(line, mixture_density, color=plotting.COLORS["p"], label="mixture (MoE)")
ax.set_xlabel("z")
ax.set_ylabel("density")
ax.set_title("two experts that disagree")
ax.legend(frameon=False)
plt.show()
assert abs(np.trapezoid(mixture_density, line) - 1) < 1e-3, "expected the mixture to integrate to 1"
wide = np.linspace(-10, 10, 8001)  # the tails matter for a variance
mixture_var = np.trapezoid(0.5 * sum(tfd.Normal(m, np.sqrt(v)).prob(wide).numpy() for m, v in disagree) * wide**2, wide)
assert abs(mixture_var - (0.25 + 4.0)) < 1e-3, f"expected the variance 0.25 + 2^2 = 4.25, got {mixture_var:.4f}"

# %% [markdown]
# ## 4. Data: binarised MNIST images and their labels
#
# FAST mode uses the embedded subset (5 000 training and 1 000 test images), FULL mode all of MNIST. As in unit 05,
# the training images are binarised afresh each epoch and the test images once, with a fixed seed. The label travels
# with its image as a one-hot vector: the second modality.

# %%
mnist = data.load("mnist")
num_classes = 10
x_train, x_test = data.to_float(mnist["train_images"]), data.to_float(mnist["test_images"])
y_train, y_test = mnist["train_labels"].astype("int64"), mnist["test_labels"].astype("int64")
onehot_train = np.eye(num_classes, dtype="float32")[y_train]
onehot_test = np.eye(num_classes, dtype="float32")[y_test]
x_test_binary = data.binarize(x_test, np.random.default_rng(config.seed() + 1))
train_batches = data.binarized_batches(x_train, 128, seed=config.seed(), labels=onehot_train)
print(f"train {x_train.shape}, test {x_test.shape}")
assert x_train.shape[1] == 784 and set(np.unique(x_test_binary)) <= {0.0, 1.0}, "expected binary 784-pixel images"

# %% [markdown]
# ## 5. An independent judge
#
# To ask "is the image generated from the label 7 a 7?" we need a judge that has nothing to do with either model:
# unit 06's small MLP classifier (784 → 256 → 10, `dgm.judge`), trained on the grey-level training images. The
# models' images below are Bernoulli means, grey-level digits, the judge's input distribution. Its test accuracy
# bounds how far we can trust its verdicts.

# %%
classifier = judge.train(x_train, y_train, epochs=CLASSIFIER_EPOCHS, seed=config.seed() + 2)


def judged(images):
    """The judge's digit for each image of shape (N, 784)."""
    return judge.digits(classifier, images)


classifier_accuracy = float(np.mean(judged(x_test) == y_test))
RESULTS["classifier_accuracy"] = round(classifier_accuracy, 4)
print(f"judge's test accuracy: {classifier_accuracy:.3f}")
assert classifier_accuracy > CLASSIFIER_FLOOR, f"expected a usable judge, got accuracy {classifier_accuracy:.3f}"

# %% [markdown]
# ## 6. The model: one class, two fusions
#
# `MultimodalVAE` has one encoder and one decoder per modality, built by `mlp`: the image encoder
# $784 \to$ `HIDDEN` $\to 2 \times$ `LATENT`, the label encoder $10 \to 64 \to 2 \times$ `LATENT`, and the mirror
# decoders. `posterior(x, y)` fuses the experts of the observed modalities (pass `None` for a missing one):
#
# - `fusion="poe"` (MVAE): the product of the prior and the observed experts, in closed form (section 2);
# - `fusion="moe"` (MMVAE): the equal-weight mixture of the observed experts' Gaussians (section 3).
#
# One image carries about a hundred nats, one label at most $\log 10 \approx 2.3$, so a code trained on the plain
# ELBO neglects the label. Both papers weight the likelihoods; here $\log p(y \mid z)$ counts `LABEL_WEIGHT` times
# (the objective is then a weighted ELBO; the test bounds below are reported without the weight).


# %%
def mlp(sizes, out, name):
    """A ReLU MLP from sizes[0] inputs through the hidden sizes to `out` linear outputs."""
    layers = [keras.Input((sizes[0],))] + [keras.layers.Dense(h, activation="relu") for h in sizes[1:]]
    return keras.Sequential([*layers, keras.layers.Dense(out)], name=name)


class MultimodalVAEBase(keras.Model):
    """An image and a label, one shared code z, and a posterior fused from one expert per observed modality."""

    def __init__(self, fusion, latent_dim=LATENT, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.fusion, self.latent_dim = fusion, latent_dim
        self.image_encoder = mlp([784, HIDDEN], 2 * latent_dim, "image_encoder")
        self.label_encoder = mlp([num_classes, 64], 2 * latent_dim, "label_encoder")
        self.image_decoder = mlp([latent_dim, HIDDEN], 784, "image_decoder")
        self.label_decoder = mlp([latent_dim, 64], num_classes, "label_decoder")
        self.prior = tfd.MultivariateNormalDiag(tf.zeros(latent_dim), tf.ones(latent_dim))
        self.noise = tf.random.Generator.from_seed(seed)

    def experts(self, x=None, y=None):
        """[(mean, log_var), ...] of the observed modalities' Gaussians, image first."""
        pairs = [
            tf.split(enc(v), 2, axis=-1)
            for enc, v in [(self.image_encoder, x), (self.label_encoder, y)]
            if v is not None
        ]
        return [(mean, log_var) for mean, log_var in pairs]

    def posterior(self, x=None, y=None):
        """q(z | observed modalities): a diagonal Gaussian (poe) or an equal-weight mixture of them (moe)."""
        experts = self.experts(x, y)
        if self.fusion == "poe":
            ones = tf.ones_like(experts[0][0])
            mean, var = product_of_gaussians([(0.0 * ones, ones)] + [(m, tf.exp(v)) for m, v in experts])
            return tfd.MultivariateNormalDiag(mean, tf.sqrt(var))
        means, log_vars = tf.stack([m for m, _ in experts], -2), tf.stack([v for _, v in experts], -2)
        return tfd.MixtureSameFamily(
            tfd.Categorical(logits=tf.zeros(tf.shape(means)[:-1])),
            tfd.MultivariateNormalDiag(means, tf.exp(log_vars / 2)),
        )

    def likelihoods(self, z):
        """p(x | z) (Bernoulli pixels) and p(y | z) (one-hot categorical)."""
        image = tfd.Independent(tfd.Bernoulli(logits=self.image_decoder(z), dtype=tf.float32), 1)
        return image, tfd.OneHotCategorical(logits=self.label_decoder(z), dtype=tf.float32)


# %% [markdown]
# The two objectives. **MVAE** (Wu & Goodman, 2018): with only the full pairs, the unimodal posteriors would never
# be trained on their own, and the product of untrained experts means little. The MVAE's *sub-sampled* ELBO adds, at
# every step, the ELBO of each modality alone to the joint one, each reconstructing what it observed:
#
# $$\mathcal L_\text{MVAE} = \mathrm{ELBO}(x, y) + \mathrm{ELBO}(x) + \mathrm{ELBO}(y), \qquad
# \mathrm{ELBO}(S) = \mathbb E_{q(z \mid S)}\Big[\sum_{m \in S} \lambda_m \log p(m \mid z)\Big]
# - \mathrm{KL}\big(q(z \mid S)\,\|\,p(z)\big),$$
#
# with $q(z \mid S)$ the product of the prior and the experts in $S$, and a closed-form KL. **MMVAE**: the stratified
# ELBO of section 3, each expert's sample reconstructing both modalities,
# $\tfrac12\sum_m \big[\lambda_x \log p(x \mid z_m) + \lambda_y \log p(y \mid z_m) + \log p(z_m)
# - \log q_\text{MoE}(z_m \mid x, y)\big]$, $z_m \sim q(z \mid m)$.


# %%
class MultimodalVAE(MultimodalVAEBase):
    """MultimodalVAEBase trained on the MVAE's sub-sampled ELBO (poe) or the MMVAE's stratified ELBO (moe)."""

    def __init__(self, fusion, **kwargs):
        super().__init__(fusion, **kwargs)
        self.trackers = {name: keras.metrics.Mean(name) for name in ("loss", "image_nll", "label_nll")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def reparameterize(self, mean, log_var):
        return mean + tf.exp(0.5 * log_var) * self.noise.normal(tf.shape(mean))

    def weighted_log_likelihood(self, z, x=None, y=None):
        """sum over the observed modalities of lambda_m log p(m | z), and the two unweighted terms, each (B,)."""
        image, label = self.likelihoods(z)
        log_px = image.log_prob(x) if x is not None else 0.0
        log_py = label.log_prob(y) if y is not None else 0.0
        return log_px + LABEL_WEIGHT * log_py, log_px, log_py

    def loss_terms(self, x, y):
        """Per-example loss (B,) and the joint posterior's image and label negative log-likelihoods."""
        if self.fusion == "poe":
            losses = []
            for subset in [(x, y), (x, None), (None, y)]:  # the joint ELBO, then each modality alone
                q = self.posterior(*subset)
                z = self.reparameterize(q.mean(), tf.math.log(q.variance()))
                weighted, log_px, log_py = self.weighted_log_likelihood(z, *subset)
                losses.append(tfd.kl_divergence(q, self.prior) - weighted)
                if len(losses) == 1:
                    joint_nll = (-log_px, -log_py)
            return tf.add_n(losses), *joint_nll
        q_moe, terms, nll = self.posterior(x, y), [], []
        for mean, log_var in self.experts(x, y):  # stratified: one sample from each expert
            z = self.reparameterize(mean, log_var)
            weighted, log_px, log_py = self.weighted_log_likelihood(z, x, y)
            terms.append(q_moe.log_prob(z) - self.prior.log_prob(z) - weighted)
            nll.append((-log_px, -log_py))
        return 0.5 * tf.add_n(terms), 0.5 * (nll[0][0] + nll[1][0]), 0.5 * (nll[0][1] + nll[1][1])

    def track(self, *terms):
        for tracker, value in zip(self.trackers.values(), terms):
            tracker.update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, batch):
        x, y = batch
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, y)
            loss = tf.reduce_mean(terms[0])
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self.track(*terms)

    def call(self, inputs):
        x, y = inputs
        return self.image_decoder(self.posterior(x, y).mean())


# %% [markdown]
# Before training, two checks on an untrained model of each kind: the product posterior it builds equals
# `product_of_gaussians` of the prior and its experts (with the label missing, too), and the mixture's log-density
# equals $\operatorname{logsumexp}_m \log q(z \mid m) - \log 2$ by hand.

# %%
keras.utils.set_random_seed(config.seed())  # the untrained models' weights
models = {"PoE (MVAE)": MultimodalVAE("poe"), "MoE (MMVAE)": MultimodalVAE("moe")}
x_probe, y_probe = tf.constant(x_test_binary[:8]), tf.constant(onehot_test[:8])
(image_mean, image_log_var), (label_mean, label_log_var) = models["PoE (MVAE)"].experts(x_probe, y_probe)
for observed, experts in [
    ((x_probe, y_probe), [(image_mean, tf.exp(image_log_var)), (label_mean, tf.exp(label_log_var))]),
    ((x_probe, None), [(image_mean, tf.exp(image_log_var))]),
]:
    q = models["PoE (MVAE)"].posterior(*observed)
    mean, var = product_of_gaussians([(0.0, 1.0)] + [(m.numpy(), v.numpy()) for m, v in experts])
    assert np.allclose(q.mean(), mean, atol=1e-5) and np.allclose(q.variance(), var, rtol=1e-4), "PoE posterior"
moe = models["MoE (MMVAE)"]
(image_mean, image_log_var), (label_mean, label_log_var) = moe.experts(x_probe, y_probe)
z_probe = moe.posterior(x_probe, y_probe).sample(seed=(config.seed(), 4))
by_hand = np.logaddexp(
    *[
        tfd.MultivariateNormalDiag(m, tf.exp(v / 2)).log_prob(z_probe)
        for m, v in [(image_mean, image_log_var), (label_mean, label_log_var)]
    ]
) - np.log(2)
assert np.allclose(moe.posterior(x_probe, y_probe).log_prob(z_probe), by_hand, rtol=1e-5), "MoE log-density"
for name, model in models.items():
    loss = model.loss_terms(x_probe, y_probe)[0].numpy()
    print(f"{name}: untrained loss per pair {loss.mean():.1f} (weighted nats)")

# %% [markdown]
# ## 7. Training
#
# Adam, batches of 128 pairs, the same epochs for both models (or the same `DGM_TRAIN_SECONDS` budget each).

# %%
histories, seconds = {}, {}
for name, fusion in [("PoE (MVAE)", "poe"), ("MoE (MMVAE)", "moe")]:
    keras.utils.set_random_seed(config.seed())
    model = MultimodalVAE(fusion, seed=config.seed())
    model((x_probe, y_probe))  # build
    # XLA's compilation of this step takes longer than FAST's short run saves with it; FULL's long runs gain.
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), jit_compile=False if config.is_fast() else training.jit_compile()
    )
    print(f"--- {name}")
    start = time.perf_counter()
    histories[name] = training.fit(model, train_batches, EPOCHS, every=max(1, EPOCHS // 2))
    seconds[name] = time.perf_counter() - start
    models[name] = model
RESULTS["epochs_run"] = {name: len(h.history["loss"]) for name, h in histories.items()}
RESULTS["train_seconds"] = {name: round(s, 1) for name, s in seconds.items()}
for name, history in histories.items():
    first, last = history.history["image_nll"][0], history.history["image_nll"][-1]
    print(f"{name}: training image NLL {first:.1f} -> {last:.1f} nats")
    # a time budget can stop a FULL-data run after its first epoch: then there is no later epoch to compare
    assert last < first or len(history.history["image_nll"]) == 1, (
        f"expected {name} to learn: {first:.1f} -> {last:.1f}"
    )

# %% [markdown]
# ## 8. Cross-modal generation, side by side
#
# Three measures, each for both models:
#
# - **label → image**: for each digit, `PER_DIGIT` codes $z \sim q(z \mid y)$, decoded to images; the share the
#   judge reads as the requested digit (its *coherence*);
# - **image → label**: for each test image, the label decoder at the mean of $q(z \mid x)$; its accuracy;
# - **joint coherence**: codes from the prior $p(z)$, decoded to an image *and* a label; the share where the judge
#   reads the image as the generated label.
#
# Chance is 10 % for all three.


# %%
def images_from_labels(model, labels, seed):
    """Bernoulli means (N, 784) decoded from z ~ q(z | y), one code per integer label."""
    z = model.posterior(None, tf.one_hot(labels, num_classes)).sample(seed=(seed, 8))
    return tf.sigmoid(model.image_decoder(z)).numpy()


def labels_from_images(model, images):
    """The label decoder's digit at the mean of q(z | x), for binary images (N, 784)."""
    return np.argmax(model.label_decoder(model.posterior(tf.constant(images), None).mean()).numpy(), axis=1)


def joint_samples(model, n, seed):
    """n codes from the prior, decoded to images (Bernoulli means) and labels (the most probable digit)."""
    z = model.prior.sample(n, seed=(seed, 9))
    return tf.sigmoid(model.image_decoder(z)).numpy(), np.argmax(model.label_decoder(z).numpy(), axis=1)


requested = np.repeat(np.arange(num_classes), PER_DIGIT)
scores = {}
for name, model in models.items():
    joint_images, joint_labels = joint_samples(model, 1000, seed=config.seed())
    scores[name] = {
        "label → image": float(np.mean(judged(images_from_labels(model, requested, config.seed())) == requested)),
        "image → label": float(np.mean(labels_from_images(model, x_test_binary) == y_test)),
        "joint coherence": float(np.mean(judged(joint_images) == joint_labels)),
    }
print(f"{'':14s}" + "".join(f"{what:>18s}" for what in scores["PoE (MVAE)"]))
for name, row in scores.items():
    print(f"{name:14s}" + "".join(f"{value:18.3f}" for value in row.values()))
for name, key in [("PoE (MVAE)", "poe"), ("MoE (MMVAE)", "moe")]:
    RESULTS[f"{key}_label_to_image"] = round(scores[name]["label → image"], 4)
    RESULTS[f"{key}_image_to_label"] = round(scores[name]["image → label"], 4)
    RESULTS[f"{key}_joint_coherence"] = round(scores[name]["joint coherence"], 4)
RESULTS["best_label_to_image"] = max(RESULTS["poe_label_to_image"], RESULTS["moe_label_to_image"])
RESULTS["best_image_to_label"] = max(RESULTS["poe_image_to_label"], RESULTS["moe_image_to_label"])

# %% [markdown]
# What a short run must show: both models learned to go across modalities, well above chance. (Which model is ahead
# on which measure is what the table says for this run; section 9 explains the typical pattern.)

# %%
# FAST, seeds 0-2: the product 0.83-0.88 (label -> image), 0.74-0.79 (image -> label), 0.40-0.46 (joint); the
# mixture 0.998-1.0, 0.93 and 0.63-0.65. FULL has not been measured over seeds, so it is held to the same floors.
for name, row in scores.items():
    for what, value in row.items():
        floor = 0.25 if what == "joint coherence" else 0.5
        assert value > floor, f"{name}: expected {what} well above chance (0.1), above {floor}; got {value:.3f}"

# %% [markdown]
# Label → image for both models: one column per requested digit.

# %%
for name, model in models.items():
    fig = plotting.image_grid(
        images_from_labels(model, np.tile(np.arange(10), 6), seed=config.seed() + 1),
        6,
        10,
        size=0.6,
        title=f"{name}: images generated from the labels 0-9 (one column per digit)",
    )
    plt.show()

# %% [markdown]
# ## 9. Where each fusion fails, and why
#
# **The mixture averages.** Every sample of the MMVAE's posterior comes from *one* expert, and half of them from the
# label's, which knows the digit but nothing of this image's slant or stroke. Given both modalities, the mixture
# cannot be more precise than its experts, and its ELBO asks the label's code to reconstruct the image: the best it
# can do is an average image of the class. The product, given both, is at least as sharp as the image expert alone.
# Check on the test set: reconstructing the image from the joint posterior $q(z \mid x, y)$ (one code per image),
# the product's image NLL is far below the mixture's.


# %%
def joint_image_nll(model, seed):
    """Mean -log p(x | z) over the test set, z ~ q(z | x, y): one code per image."""
    q = model.posterior(tf.constant(x_test_binary), tf.constant(onehot_test))
    return float(-tf.reduce_mean(model.likelihoods(q.sample(seed=(seed, 10)))[0].log_prob(x_test_binary)))


joint_nll = {name: joint_image_nll(model, config.seed()) for name, model in models.items()}
print("image NLL from q(z | x, y): " + ", ".join(f"{name} {value:.1f} nats" for name, value in joint_nll.items()))
RESULTS["poe_joint_image_nll"], RESULTS["moe_joint_image_nll"] = (round(v, 2) for v in joint_nll.values())
assert joint_nll["PoE (MVAE)"] < joint_nll["MoE (MMVAE)"], (
    f"expected the product to reconstruct the image better than the mixture, got {joint_nll}"
)

# %% [markdown]
# **The product is over-confident when the experts disagree.** Section 2 showed it on numbers: a product's variance
# does not depend on whether its experts agree. Here, on the trained models, pair each test image with the label of
# another digit. The product's posterior is exactly as narrow as for the true pairs (its precisions do not look at
# the means), while the mixture's spread grows, since it keeps both opinions. The check compares the average total
# variance $\operatorname{tr}\operatorname{Cov}_q[z]$ of matched and mismatched pairs.

# %%
shift_rng = np.random.default_rng(config.seed() + 5)
wrong_labels = (y_test + shift_rng.integers(1, num_classes, size=len(y_test))) % num_classes  # never the true digit
onehot_wrong = np.eye(num_classes, dtype="float32")[wrong_labels]
spread = {}
for name, model in models.items():
    matched = model.posterior(tf.constant(x_test_binary), tf.constant(onehot_test))
    mismatched = model.posterior(tf.constant(x_test_binary), tf.constant(onehot_wrong))
    spread[name] = [float(tf.reduce_mean(tf.reduce_sum(q.variance(), -1))) for q in (matched, mismatched)]
    print(f"{name}: tr Cov[z], matched pairs {spread[name][0]:.3f}, mismatched pairs {spread[name][1]:.3f}")
poe_ratio = spread["PoE (MVAE)"][1] / spread["PoE (MVAE)"][0]
moe_ratio = spread["MoE (MMVAE)"][1] / spread["MoE (MMVAE)"][0]
assert abs(poe_ratio - 1) < 0.05, (
    f"expected the product's spread unchanged by disagreement, got a ratio {poe_ratio:.3f}"
)
assert moe_ratio > 1.2, f"expected the mixture's spread to grow with disagreement, got a ratio {moe_ratio:.3f}"

# %% [markdown]
# What do the models then generate from a conflicting pair? The judge reads images decoded from
# $z \sim q(z \mid x, y_\text{wrong})$: the share it reads as the image's digit and as the (wrong) label's digit. A
# mixture answers with one opinion or the other, about half each; the product blends them into one confident code,
# decided by whichever expert is more precise.

# %%
conflict = {}
for name, model in models.items():
    z = model.posterior(tf.constant(x_test_binary), tf.constant(onehot_wrong)).sample(seed=(config.seed(), 11))
    verdict = judged(tf.sigmoid(model.image_decoder(z)).numpy())
    conflict[name] = (float(np.mean(verdict == y_test)), float(np.mean(verdict == wrong_labels)))
    print(f"{name}: read as the image's digit {conflict[name][0]:.2f}, as the wrong label's {conflict[name][1]:.2f}")
RESULTS["poe_conflict_follows_image"], RESULTS["moe_conflict_follows_image"] = (
    round(conflict[name][0], 3) for name in models
)
(_, image_log_var), (_, label_log_var) = models["PoE (MVAE)"].experts(x_test_binary, onehot_wrong)
image_precision, label_precision = (float(tf.reduce_mean(tf.exp(-v))) for v in (image_log_var, label_log_var))
print(f"PoE experts' mean precision per unit: image {image_precision:.2f}, label {label_precision:.2f}")
# FAST, seeds 0-2: the product followed the image in 0.76-0.78 of the pairs, the label in 0.07-0.09; the mixture
# 0.41-0.44 and 0.50-0.55.
follows_precise = conflict["PoE (MVAE)"][0 if image_precision > label_precision else 1]
assert follows_precise > 0.5, f"expected the product to follow its more precise expert, got a share {follows_precise}"
assert min(conflict["MoE (MMVAE)"]) > 0.25, f"expected the mixture to follow each opinion often, got {conflict}"

# %% [markdown]
# **The product's single experts are trained less.** In the MVAE's objective, the image-only term asks $q(z \mid x)$
# to reconstruct the image only; the label decoder learns from codes of posteriors that saw the label. So image →
# label, which decodes the label from $q(z \mid x)$ alone, has less to go on than in the mixture, whose every
# expert's code must explain both modalities. Compare the two models' image → label column in section 8.
#
# In short: the **product** is the better *reconstructor* and sharpens with every modality, but it trusts its experts
# blindly, so an over-confident or conflicting expert pulls the code where neither modality puts it, and its
# unimodal posteriors need the extra sub-sampled terms to be trained at all. The **mixture** keeps every expert's
# opinion and makes each expert's code explain all modalities (good for cross-modal generation), but it cannot
# combine evidence: given more modalities, it is no sharper than one. MoPoE (Sutter et al., 2021) mixes products of
# every subset to get both.
#
# ## 10. Explore: condition on a subset
#
# Choose the model, which modalities to observe, a test image and a label. The figure shows the image it observes,
# eight images decoded from $z \sim q(z \mid \text{observed})$ (from the prior when nothing is observed), and the
# label decoder's probabilities averaged over 200 such codes. Try a conflicting pair.

# %%
SUBSETS = ["image and label", "image only", "label only", "nothing (the prior)"]


def draw(model_name, observed, image_index, digit):
    model = models[model_name]
    x = tf.constant(x_test_binary[image_index : image_index + 1]) if "image" in observed else None
    y = tf.one_hot([digit], num_classes) if "label" in observed else None
    q = model.prior if x is None and y is None else model.posterior(x, y)
    z = tf.reshape(q.sample(200, seed=(config.seed(), 12)), (200, -1))
    images = tf.sigmoid(model.image_decoder(z[:8])).numpy().reshape(2, 4, 28, 28)
    fig, axes = plt.subplot_mosaic("ABBC", figsize=(11, 2.8), layout="constrained")
    axes["A"].imshow(x_test[image_index].reshape(28, 28) if x is not None else np.zeros((28, 28)), cmap="gray_r")
    axes["A"].set_title("observed image" if x is not None else "no image observed")
    axes["B"].imshow(np.block([[images[r, c] for c in range(4)] for r in range(2)]), cmap="gray_r", vmin=0, vmax=1)
    axes["B"].set_title(f"{model_name}: images from q(z | {observed})")
    for key in "AB":
        axes[key].axis("off")
    probabilities = tf.reduce_mean(tf.nn.softmax(model.label_decoder(z)), axis=0).numpy()
    axes["C"].bar(range(num_classes), probabilities, color=plotting.COLORS["q"])
    axes["C"].set_xticks(range(num_classes))
    axes["C"].set_xlabel("generated label")
    axes["C"].set_ylabel("probability")
    axes["C"].set_title(f"labels (observed: {digit if y is not None else '-'})")


widgets.explore(
    draw,
    model_name=widgets.choice(list(models), "PoE (MVAE)", "model"),
    observed=widgets.choice(SUBSETS, "label only", "observe"),
    image_index=widgets.integer(0, 0, 99, "test image"),
    digit=widgets.choice(list(range(10)), 7, "label"),
)

# %% [markdown]
# ## Summary
#
# - Two modalities independent given a shared code, $p(z)\,p(x \mid z)\,p(y \mid z)$, have a posterior for every
#   subset built from one expert per modality: $p(z \mid x, y) \propto p(z)\,\tilde q(z \mid x)\,\tilde q(z \mid y)$.
# - **Product of experts** (MVAE): Gaussian experts and the prior multiply into a Gaussian, precisions adding,
#   $\sigma^2 = 1/\sum_j T_j$, $\mu = \sigma^2\sum_j T_j\mu_j$; a missing modality drops out. The KL to the prior is
#   closed form; the sub-sampled ELBO trains each expert alone too. Precise when the experts agree, over-confident
#   when they do not.
# - **Mixture of experts** (MMVAE): $q = \frac1M\sum_m q(z \mid m)$, its log-density a log-sum-exp, its ELBO
#   estimated with one sample per expert (stratified, lower variance than sampling the mixture). Each expert must
#   explain every modality; the mixture never sharpens with more modalities, and reconstructs worse.
# - Cross-modal generation is judged by an independent classifier: label → image coherence, image → label accuracy,
#   and joint coherence from the prior.
#
# ## References
#
# - M. Wu and N. Goodman (2018). Multimodal generative models for scalable weakly-supervised learning. *NeurIPS*
#   (the MVAE, product of experts, sub-sampled ELBO).
# - Y. Shi, N. Siddharth, B. Paige and P. H. S. Torr (2019). Variational mixture-of-experts autoencoders for
#   multi-modal deep generative models. *NeurIPS* (the MMVAE, stratified ELBO, coherence).
# - T. M. Sutter, I. Daunhawer and J. E. Vogt (2021). Generalized multimodal ELBO. *ICLR* (MoPoE).
# - G. E. Hinton (2002). Training products of experts by minimizing contrastive divergence. *Neural Computation*.
