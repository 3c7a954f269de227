"""Unit 06 (the conditional VAE): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (keras, plt, np, tf, tfp, tfd, config, data, plotting, training) and of
its provided cells (FixedPrior, mlp, CVAEParts). Most entries are edits of the solution (``edit``); full
code is kept for answers that are structurally different.
"""

from catalogue import Edits

ASSIGNMENT = "lab06_cvae"
TESTS = {  # solution cell -> the test cell that grades it
    "kl_diag_gaussians": "test_kl_diag_gaussians",
    "condition": "test_condition",
    "ConditionalPrior": "test_ConditionalPrior",
    "cvae_negative_elbo": "test_cvae_negative_elbo",
    "cvae_forward": "test_cvae_forward",
    "generate": "test_generate",
    "predicted_label_swap": "test_predicted_label_swap",
    "predicted_distinct_images": "test_predicted_distinct_images",
}

edit = Edits(ASSIGNMENT)

# Lines of the solutions, quoted by the edits below.
RATIO = "ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) / tf.exp(log_var_p)"
KL_SUM = "return 0.5 * tf.reduce_sum(ratio - 1.0 + log_var_p - log_var_q, axis=-1)"
ONEHOT = "tf.one_hot(tf.cast(y, tf.int32), num_classes, dtype=tf.float32)"
KL = "kl = kl_diag_gaussians(q_mean, q_log_var, p_mean, p_log_var)"
LOGITS = "tf.convert_to_tensor(logits, tf.float32)"
DECODE = "model.decoder(condition(z, labels, model.num_classes))"
EPS = "eps = tf.random.stateless_normal([n, model.latent_dim], seed=[seed, 0])"
SAMPLE = "z = mean + tf.exp(0.5 * log_var) * eps"

WRONG = {
    "kl_diag_gaussians": {
        "arguments swapped (KL(p || q))": edit(
            "kl_diag_gaussians",
            {
                RATIO: "ratio = (tf.exp(log_var_p) + tf.square(mean_p - mean_q)) / tf.exp(log_var_q)",
                "+ log_var_p - log_var_q": "+ log_var_q - log_var_p",
            },
        ),
        "log-variance read as a log standard deviation": edit(
            "kl_diag_gaussians",
            {
                "tf.exp(log_var_q)": "tf.exp(2.0 * log_var_q)",
                "tf.exp(log_var_p)": "tf.exp(2.0 * log_var_p)",
                "+ log_var_p - log_var_q": "+ 2.0 * log_var_p - 2.0 * log_var_q",
            },
        ),
        "summed over the batch as well (one number)": edit("kl_diag_gaussians", {", axis=-1)": ")"}),
        "missing the factor 1/2": edit("kl_diag_gaussians", {"return 0.5 * ": "return "}),
        "variance ratio inverted (sigma_p^2 / sigma_q^2)": edit(
            "kl_diag_gaussians",
            {RATIO: "ratio = tf.exp(log_var_p) / tf.exp(log_var_q) + tf.square(mean_q - mean_p) / tf.exp(log_var_p)"},
        ),
        "the KL to N(0, I), ignoring the prior's parameters": edit(
            "kl_diag_gaussians",
            {RATIO: "ratio = tf.exp(log_var_q) + tf.square(mean_q)", "+ log_var_p - log_var_q": "- log_var_q"},
        ),
    },
    "condition": {
        "the label appended as a number, not one-hot": edit(
            "condition", {ONEHOT: "tf.cast(tf.reshape(y, [-1, 1]), tf.float32)"}
        ),
        "one-hot of a fixed depth 10": edit("condition", {"num_classes, dtype=tf.float32": "10, dtype=tf.float32"}),
        "the label ignored (zeros appended)": edit("condition", {ONEHOT: "tf.zeros([tf.shape(x)[0], num_classes])"}),
    },
    "ConditionalPrior": {
        # structurally different: free weights instead of a network of the label
        "a learned prior that ignores the label": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.mean = self.add_weight(shape=(latent_dim,), initializer="random_normal", name="mean")
        self.log_var = self.add_weight(shape=(latent_dim,), initializer="zeros", name="log_var")

    def call(self, y_onehot):
        batch = tf.shape(y_onehot)[0]
        return tf.tile(self.mean[None], [batch, 1]), tf.tile(self.log_var[None], [batch, 1])
""",
        "a softplus on the log-variance (never negative)": edit(
            "ConditionalPrior", {"return mean, log_var": "return mean, tf.nn.softplus(log_var)"}
        ),
        "a ReLU on the output layer": edit(
            "ConditionalPrior",
            {"keras.layers.Dense(2 * latent_dim)": 'keras.layers.Dense(2 * latent_dim, activation="relu")'},
        ),
        "no ReLU on the hidden layer (a linear map of the label)": edit(
            "ConditionalPrior", {'keras.layers.Dense(hidden, activation="relu")': "keras.layers.Dense(hidden)"}
        ),
    },
    "cvae_negative_elbo": {
        "KL to N(0, I) instead of the conditional prior": edit(
            "cvae_negative_elbo",
            {KL: "kl = 0.5 * tf.reduce_sum(tf.exp(q_log_var) + tf.square(q_mean) - 1.0 - q_log_var, axis=-1)"},
        ),
        "KL summed over the batch": edit(
            "cvae_negative_elbo", {KL: "kl = tf.reduce_sum(kl_diag_gaussians(q_mean, q_log_var, p_mean, p_log_var))"}
        ),
        "reconstruction averaged over pixels": edit(
            "cvae_negative_elbo", {"-tf.reduce_sum(tfd.Bernoulli": "-tf.reduce_mean(tfd.Bernoulli"}
        ),
        "probabilities passed as logits": edit("cvae_negative_elbo", {LOGITS: f"tf.sigmoid({LOGITS})"}),
    },
    "cvae_forward": {
        "decodes the posterior mean (eps unused)": edit(
            "cvae_forward", {"model.decoder(condition(z, y": "model.decoder(condition(q_mean, y"}
        ),
        "standard deviation exp(log_var) instead of exp(log_var / 2)": edit(
            "cvae_forward", {"tf.exp(0.5 * q_log_var)": "tf.exp(q_log_var)"}
        ),
        "encoder halves swapped (log-variance first)": edit(
            "cvae_forward", {"q_mean, q_log_var = tf.split": "q_log_var, q_mean = tf.split"}
        ),
        "the decoder does not get the label": edit(
            "cvae_forward", {"model.decoder(condition(z, y, model.num_classes))": "model.decoder(z)"}
        ),
    },
    "generate": {
        "z from N(0, I) although the model has a learned prior": edit("generate", {SAMPLE: "z = eps"}),
        "logits returned instead of probabilities": edit("generate", {f"tf.sigmoid({DECODE})": DECODE}),
        "one z shared by all n images": edit(
            "generate", {"stateless_normal([n, model.latent_dim]": "stateless_normal([1, model.latent_dim]"}
        ),
        "the prior evaluated without the label (zeros)": edit(
            "generate",
            {"model.prior(tf.one_hot(labels, model.num_classes))": "model.prior(tf.zeros([n, model.num_classes]))"},
        ),
        "standard deviation exp(log_var)": edit("generate", {"tf.exp(0.5 * log_var)": "tf.exp(log_var)"}),
    },
    "predicted_label_swap": {
        "(b): the digit stays, only the style changes": 'predicted_label_swap = "b"',
        "(c): nothing changes, the noise is the same": 'predicted_label_swap = "c"',
    },
    "predicted_distinct_images": {
        "8: one image per noise vector": "predicted_distinct_images = 8",
        "0: no image without noise": "predicted_distinct_images = 0",
    },
}

CORRECT = {
    "kl_diag_gaussians": {
        # structurally different: NumPy in float64, written in standard deviations
        "NumPy, in standard deviations": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    sq, sp = np.exp(0.5 * vq), np.exp(0.5 * vp)
    return np.sum(np.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5, axis=-1)
""",
        "tfd.kl_divergence of MultivariateNormalDiag": edit(
            "kl_diag_gaussians",
            {
                f"{RATIO}\n    {KL_SUM}": "return tfd.kl_divergence("
                "tfd.MultivariateNormalDiag(mean_q, tf.exp(0.5 * log_var_q)), "
                "tfd.MultivariateNormalDiag(mean_p, tf.exp(0.5 * log_var_p)))"
            },
        ),
        # structurally different: a Python loop over the latent dimensions
        "a loop over the latent dimensions with tfd.Normal": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    total = np.zeros(mq.shape[0])
    for j in range(mq.shape[1]):
        q = tfd.Normal(mq[:, j], np.exp(0.5 * vq[:, j]))
        p = tfd.Normal(mp[:, j], np.exp(0.5 * vp[:, j]))
        total += tfd.kl_divergence(q, p).numpy()
    return total
""",
    },
    "condition": {
        # structurally different: NumPy, an identity matrix indexed by the labels
        "NumPy with np.eye": """
def condition(x, y, num_classes):
    x = np.asarray(x, np.float32)
    return np.concatenate([x, np.eye(num_classes, dtype=np.float32)[np.asarray(y)]], axis=1)
""",
    },
    "ConditionalPrior": {
        # structurally different: two output layers instead of one split in two
        "two output heads": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.body = keras.layers.Dense(hidden, activation="relu")
        self.mean_head = keras.layers.Dense(latent_dim)
        self.log_var_head = keras.layers.Dense(latent_dim)

    def call(self, y_onehot):
        h = self.body(y_onehot)
        return self.mean_head(h), self.log_var_head(h)
""",
        # structurally different: one Sequential network, and slicing instead of tf.split
        "a Sequential network and slicing": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.d = latent_dim
        self.net = keras.Sequential(
            [
                keras.Input((num_classes,)),
                keras.layers.Dense(hidden, activation="relu"),
                keras.layers.Dense(2 * latent_dim),
            ]
        )

    def call(self, y_onehot):
        out = self.net(y_onehot)
        return out[:, : self.d], out[:, self.d :]
""",
    },
    "cvae_negative_elbo": {
        "sigmoid cross-entropy and TFP's KL": edit(
            "cvae_negative_elbo",
            {
                f"-tf.reduce_sum(tfd.Bernoulli(logits={LOGITS}).log_prob(x), axis=-1)": "tf.reduce_sum("
                f"tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits={LOGITS}), axis=-1)",
                KL: "kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(q_mean, tf.exp(0.5 * q_log_var)), "
                "tfd.MultivariateNormalDiag(p_mean, tf.exp(0.5 * p_log_var)))",
            },
        ),
        # structurally different: NumPy in float64, the KL written inline
        "NumPy with logaddexp": """
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    x, lg = np.asarray(x, np.float64), np.asarray(logits, np.float64)
    mq, vq, mp, vp = (np.asarray(v, np.float64) for v in (q_mean, q_log_var, p_mean, p_log_var))
    recon = np.sum(np.logaddexp(0.0, lg) - x * lg, axis=-1)
    kl = 0.5 * np.sum(np.exp(vq - vp) + (mq - mp) ** 2 * np.exp(-vp) - 1.0 + vp - vq, axis=-1)
    return recon + kl, recon, kl
""",
    },
    "cvae_forward": {
        # structurally different: the one-hot built inline (no condition), slicing instead of tf.split
        "inline one-hot and slicing": """
def cvae_forward(model, x, y, eps):
    d, onehot = model.latent_dim, tf.one_hot(tf.cast(y, tf.int32), model.num_classes)
    h = model.encoder(tf.concat([tf.cast(x, tf.float32), onehot], axis=1))
    q_mean, q_log_var = h[:, :d], h[:, d:]
    z = q_mean + tf.sqrt(tf.exp(q_log_var)) * tf.cast(eps, tf.float32)
    p_mean, p_log_var = model.prior(onehot)
    return model.decoder(tf.concat([z, onehot], axis=1)), q_mean, q_log_var, p_mean, p_log_var
""",
    },
    "generate": {
        "NumPy noise and a list of labels": edit(
            "generate",
            {
                "labels = tf.fill([n], int(y))": "labels = [y] * n",
                EPS: "eps = np.random.default_rng(seed).standard_normal((n, model.latent_dim)).astype(np.float32)",
                "tf.exp(0.5 * log_var)": "tf.exp(log_var / 2)",
            },
        ),
        "a TFP distribution for the prior": edit(
            "generate",
            {
                f"{EPS}\n    {SAMPLE}": "z = tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var))"
                ".sample(seed=(seed, 1))"
            },
        ),
    },
    "predicted_label_swap": {"the capital letter, with spaces": 'predicted_label_swap = " A "'},
    "predicted_distinct_images": {"a float": "predicted_distinct_images = 1.0"},
}
