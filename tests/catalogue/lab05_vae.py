"""Unit 05 (the VAE, transferred): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (keras, plt, np, tf, tfp, tfd, config, data, plotting, training) and
the provided model cell (GaussianVAEBase). Most entries are edits of the solution (``edit``); full code is
kept for answers that are structurally different. The entries named "pasted the lecture's version" are
what a lecture cell gives when adapted to the exercise's signature.
"""

from catalogue import Edits

ASSIGNMENT = "lab05_vae"
TESTS = {  # solution cell -> the test cell that grades it
    "reparameterize_lowrank": "test_reparameterize_lowrank",
    "gaussian_negative_elbo": "test_gaussian_negative_elbo",
    "iwae_loss": "test_iwae_loss",
    "IWAE": "test_IWAE",
    "effective_sample_size": "test_effective_sample_size",
    "predicted_bound_trend": "test_predicted_bound_trend",
    "predicted_learned_variance": "test_predicted_learned_variance",
}


edit = Edits(ASSIGNMENT)

# Lines of the solutions quoted by the edits below.
SUM = "return mean + spread + shared"
SQUARED = "squared = tf.square(x - mean_x) * tf.exp(-log_var_x)"
RECON = "recon = 0.5 * tf.reduce_sum(squared + log_var_x + np.log(2.0 * np.pi), axis=-1)"
LOG_LIK = (
    "log_lik = -tf.reduce_sum(0.5 * tf.square(x - mean_x) * tf.exp(-log_var_x) + 0.5 * log_var_x + half_log_2pi, -1)"
)
LOG_W = "log_lik + log_prior - log_proposal"
BOUND = f"tf.reduce_logsumexp({LOG_W}, axis=0) - tf.math.log(tf.cast(k, tf.float32))"
EPS = "eps = self.sample_noise([self.k, tf.shape(x)[0], self.latent_dim])"
LOSS = "loss = tf.reduce_mean(per_example)"
LOG_ESS = "log_ess = 2.0 * tf.reduce_logsumexp(log_w, axis=0) - tf.reduce_logsumexp(2.0 * log_w, axis=0)"

WRONG = {
    "reparameterize_lowrank": {
        "pasted the lecture's version: the diagonal sample, the factor ignored": edit(
            "reparameterize_lowrank", {SUM: "return mean + spread"}
        ),
        "variance exp(log_var) used as the standard deviation": edit(
            "reparameterize_lowrank", {"tf.exp(log_var / 2.0)": "tf.exp(log_var)"}
        ),
        "diagonal part missing (covariance factor factor^T only)": edit(
            "reparameterize_lowrank", {SUM: "return mean + shared"}
        ),
        "the low-rank term through tf.stop_gradient (no gradient reaches factor)": edit(
            "reparameterize_lowrank", {SUM: "return mean + spread + tf.stop_gradient(shared)"}
        ),
        # structurally different: NumPy throughout
        "computed in NumPy (the gradient is cut)": """
def reparameterize_lowrank(mean, log_var, factor, eps_diag, eps_factor):
    mean, log_var, factor = (np.asarray(a) for a in (mean, log_var, factor))
    eps_diag, eps_factor = np.asarray(eps_diag), np.asarray(eps_factor)
    return mean + np.exp(log_var / 2) * eps_diag + np.einsum("bdr,kbr->kbd", factor, eps_factor)
""",
    },
    "gaussian_negative_elbo": {
        "pasted the lecture's version: a fixed variance sigma^2 = 1 (log_var_x ignored)": edit(
            "gaussian_negative_elbo",
            {SQUARED: "squared = tf.square(x - mean_x)", RECON: RECON.replace("squared + log_var_x", "squared")},
        ),
        "variance exp(log_var_x) used as the standard deviation": edit(
            "gaussian_negative_elbo",
            {RECON: "recon = -tf.reduce_sum(tfd.Normal(mean_x, tf.exp(log_var_x)).log_prob(x), axis=-1)"},
        ),
        "log-variance term missing (squared error / sigma^2 only, plus the constant)": edit(
            "gaussian_negative_elbo", {RECON: RECON.replace("squared + log_var_x", "squared")}
        ),
        "constant log(2 pi) dropped": edit(
            "gaussian_negative_elbo", {RECON: RECON.replace(" + np.log(2.0 * np.pi)", "")}
        ),
        "mean over pixels instead of the sum": edit(
            "gaussian_negative_elbo", {RECON: RECON.replace("tf.reduce_sum", "tf.reduce_mean")}
        ),
        "factor 1/2 missing from the KL": edit("gaussian_negative_elbo", {"kl = -0.5 * ": "kl = -"}),
    },
    "iwae_loss": {
        "pasted the lecture's version: a Bernoulli likelihood with the decoder's means as logits": edit(
            "iwae_loss",
            {LOG_LIK: "log_lik = tf.reduce_sum(tfd.Bernoulli(logits=mean_x, dtype=tf.float32).log_prob(x), -1)"},
        ),
        "averages the log-weights (the weights averaged in the wrong space)": edit(
            "iwae_loss", {BOUND: f"tf.reduce_mean({LOG_W}, axis=0)"}
        ),
        "logsumexp without - log k": edit("iwae_loss", {" - tf.math.log(tf.cast(k, tf.float32))": ""}),
        "log of the mean of exp(log-weights) (not stabilised: underflows)": edit(
            "iwae_loss", {BOUND: f"tf.math.log(tf.reduce_mean(tf.exp({LOG_W}), axis=0))"}
        ),
        "the prior as the proposal (z = eps, log w = log p(x | z))": edit(
            "iwae_loss", {"z = mean + tf.exp(log_var / 2.0) * eps": "z = eps", LOG_W: "log_lik"}
        ),
        "returns L_k instead of the loss -L_k": edit("iwae_loss", {"return -bound": "return bound"}),
    },
    "IWAE": {
        # structurally different: the lecture's one-sample ELBO step, with the Gaussian decoder
        "pasted the lecture's version: one sample and the analytic KL, not L_k": """
class IWAE(GaussianVAEBase):
    def train_step(self, data):
        x = data
        with tf.GradientTape() as tape:
            mean, log_var = self.encode(x)
            z = mean + tf.exp(0.5 * log_var) * self.sample_noise(tf.shape(mean))
            mean_x, log_var_x = self.decode(z)
            recon = 0.5 * tf.reduce_sum(
                tf.square(x - mean_x) / tf.exp(log_var_x) + log_var_x + np.log(2 * np.pi), axis=-1
            )
            kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=-1)
            loss = tf.reduce_mean(recon + kl)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self.track(recon + kl)
""",
        "k ignored: one sample per example": edit(
            "IWAE", {EPS: "eps = self.sample_noise([1, tf.shape(x)[0], self.latent_dim])"}
        ),
        "seed ignored: tf.random.normal instead of the model's generator": edit(
            "IWAE", {EPS: "eps = tf.random.normal([self.k, tf.shape(x)[0], self.latent_dim])"}
        ),
        "the decoder's log-variance not trained (encoder and decoder variables only)": edit(
            "IWAE",
            {
                "variables = self.trainable_variables": "variables = self.encoder.trainable_variables"
                " + self.decoder.trainable_variables"
            },
        ),
        "loss summed over the batch": edit("IWAE", {LOSS: "loss = tf.reduce_sum(per_example)"}),
    },
    "effective_sample_size": {
        "weights exponentiated directly (not stabilised)": edit(
            "effective_sample_size",
            {
                LOG_ESS: "w = tf.exp(log_w)",
                "return tf.exp(log_ess)": "return tf.reduce_sum(w, axis=0) ** 2 / tf.reduce_sum(w**2, axis=0)",
            },
        ),
        "ESS / k (the fraction)": edit(
            "effective_sample_size",
            {"return tf.exp(log_ess)": "return tf.exp(log_ess) / tf.cast(tf.shape(log_w)[0], tf.float64)"},
        ),
        "sums over the wrong axis (the batch)": edit("effective_sample_size", {"axis=0": "axis=1"}, every=True),
        "log-weights used as the weights": edit(
            "effective_sample_size",
            {
                LOG_ESS: "w = log_w",
                "return tf.exp(log_ess)": "return tf.reduce_sum(w, axis=0) ** 2 / tf.reduce_sum(w**2, axis=0)",
            },
        ),
        "1 / (largest normalised weight), another diagnostic": edit(
            "effective_sample_size",
            {LOG_ESS: "log_ess = tf.reduce_logsumexp(log_w, axis=0) - tf.reduce_max(log_w, axis=0)"},
        ),
    },
    "predicted_bound_trend": {
        "goes down with k": 'predicted_bound_trend = "b"',
        "stays the same (every L_k estimates the ELBO)": 'predicted_bound_trend = "c"',
    },
    "predicted_learned_variance": {
        "about 1 (the prior's scale)": 'predicted_learned_variance = "a"',
        "shrinks to nearly 0": 'predicted_learned_variance = "C"',
    },
}

CORRECT = {
    "reparameterize_lowrank": {
        "tf.linalg.matvec for the low-rank part, the square root of the variance": edit(
            "reparameterize_lowrank",
            {
                "tf.exp(log_var / 2.0)": "tf.sqrt(tf.exp(log_var))",
                'tf.einsum("bdr,kbr->kbd", factor, eps_factor)': "tf.linalg.matvec(factor, eps_factor)",
            },
        ),
        # structurally different: the Cholesky factor of the whole covariance (eps_factor unused)
        "Cholesky factor of the full covariance": """
def reparameterize_lowrank(mean, log_var, factor, eps_diag, eps_factor):
    covariance = tf.linalg.diag(tf.exp(log_var)) + tf.matmul(factor, factor, transpose_b=True)
    return mean + tf.linalg.matvec(tf.linalg.cholesky(covariance), eps_diag)
""",
    },
    "gaussian_negative_elbo": {
        "tfd.Normal and a sum of 1-D KLs": edit(
            "gaussian_negative_elbo",
            {
                RECON: "recon = -tf.reduce_sum(tfd.Normal(mean_x, tf.exp(0.5 * log_var_x)).log_prob(x), axis=-1)",
                "kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.exp(log_var) - tf.square(mean), axis=-1)": "kl = "
                "tf.reduce_sum(tfd.kl_divergence(tfd.Normal(mean, tf.exp(0.5 * log_var)), tfd.Normal(0.0, 1.0)), -1)",
            },
        ),
        # structurally different: NumPy in float64
        "NumPy in float64": """
def gaussian_negative_elbo(x, mean_x, log_var_x, mean, log_var):
    x, mean_x, log_var_x, mean, log_var = (np.asarray(a, np.float64) for a in (x, mean_x, log_var_x, mean, log_var))
    recon = np.sum((x - mean_x) ** 2 / (2 * np.exp(log_var_x)) + log_var_x / 2 + np.log(2 * np.pi) / 2, axis=1)
    kl = np.sum(np.exp(log_var) + mean**2 - 1 - log_var, axis=1) / 2
    return recon + kl, recon, kl
""",
    },
    "iwae_loss": {
        # structurally different: TFP distributions for the three densities, a max-shifted log-mean-exp
        "TFP distributions, a max-shifted log-mean-exp": """
def iwae_loss(model, x, eps):
    mean, log_var = model.encode(x)
    q = tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var))
    z = q.loc + q.scale.diag * eps
    k, batch, d = tf.unstack(tf.shape(eps))
    mean_x, log_var_x = model.decode(tf.reshape(z, tf.stack([k * batch, d])))
    likelihood = tfd.Independent(tfd.Normal(mean_x, tf.exp(0.5 * log_var_x)), 1)
    log_lik = tf.reshape(likelihood.log_prob(tf.tile(x, tf.stack([k, 1]))), tf.stack([k, batch]))
    prior = tfd.MultivariateNormalDiag(tf.zeros(tf.stack([d])), tf.ones(tf.stack([d])))
    log_w = log_lik + prior.log_prob(z) - q.log_prob(z)
    top = tf.reduce_max(log_w, axis=0)
    return -(top + tf.math.log(tf.reduce_mean(tf.exp(log_w - top), axis=0)))
""",
        "log q from the sample z, float(k)": edit(
            "iwae_loss",
            {
                "0.5 * tf.square(eps) + 0.5 * log_var": "0.5 * tf.square(z - mean) / tf.exp(log_var) + 0.5 * log_var",
                "tf.math.log(tf.cast(k, tf.float32))": "tf.math.log(float(eps.shape[0]))",
            },
        ),
    },
    "IWAE": {
        # structurally different: the noise drawn inside the tape, optimizer.apply and trainable_weights
        "optimizer.apply and self.trainable_weights": """
class IWAE(GaussianVAEBase):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            eps = self.sample_noise(tf.stack([self.k, tf.shape(data)[0], self.latent_dim]))
            losses = iwae_loss(self, data, eps)
            mean_loss = tf.reduce_sum(losses) / tf.cast(tf.shape(data)[0], tf.float32)
        self.optimizer.apply(tape.gradient(mean_loss, self.trainable_weights), self.trainable_weights)
        return self.track(losses)
""",
    },
    "effective_sample_size": {
        "1 / sum of squared normalised weights (softmax), float32": edit(
            "effective_sample_size",
            {
                "tf.float64": "tf.float32",
                LOG_ESS: "log_ess = -tf.math.log(tf.reduce_sum(tf.nn.softmax(log_w, axis=0) ** 2, axis=0))",
            },
        ),
        # structurally different: NumPy, the largest log-weight subtracted
        "NumPy, the largest log-weight subtracted": """
def effective_sample_size(log_w):
    log_w = np.asarray(log_w, dtype=np.float64)
    w = np.exp(log_w - np.max(log_w, axis=0, keepdims=True))
    return np.sum(w, axis=0) ** 2 / np.sum(w * w, axis=0)
""",
    },
    "predicted_bound_trend": {"the capital letter": 'predicted_bound_trend = "A"'},
    "predicted_learned_variance": {"the capital letter, with spaces": 'predicted_learned_variance = " B "'},
}
