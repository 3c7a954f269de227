"""Unit 05 (the VAE): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (keras, plt, np, tf, tfp, tfd, config, data, plotting, training) and
the provided model cell (VAEBase). Most entries are edits of the solution (``edit``); full code is kept
for answers that are structurally different.
"""

from catalogue import Edits

ASSIGNMENT = "lab05_vae"
TESTS = {  # solution cell -> the test cell that grades it
    "reparameterize": "test_reparameterize",
    "make_networks": "test_make_networks",
    "negative_elbo": "test_negative_elbo",
    "VAE": "test_VAE",
    "importance_sampled_log_likelihood": "test_importance_sampled_log_likelihood",
    "active_units": "test_active_units",
    "predicted_bound_trend": "test_predicted_bound_trend",
    "predicted_large_beta": "test_predicted_large_beta",
}


edit = Edits(ASSIGNMENT)

# The solution's two terms of the negative ELBO, quoted by the edits below.
RECON = "-tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)"
KL = "0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=-1)"
SAMPLE = "z = reparameterize(mean, log_var, self.sample_noise(tf.shape(mean)))"
LOSS = "tf.reduce_mean(recon + self.beta * kl)"
LOG_W = "log_px_z + log_pz - log_qz"
BOUND = f"tf.reduce_logsumexp({LOG_W}, axis=0) - tf.math.log(float(k))"
TRACK = (
    "        self.neg_elbo_tracker.update_state(neg_elbo)\n"
    "        self.recon_tracker.update_state(recon)\n"
    "        self.kl_tracker.update_state(kl)\n"
    "        return {m.name: m.result() for m in self.metrics}"
)
VARIANCE = "np.var(mean.numpy(), axis=0)"
Z = "mean + tf.exp(0.5 * log_var) * eps"

WRONG = {
    "reparameterize": {
        "log-variance read as the standard deviation": edit("reparameterize", {"tf.exp(0.5 * log_var)": "log_var"}),
        "variance exp(log_var) used as the standard deviation": edit(
            "reparameterize", {"tf.exp(0.5 * log_var)": "tf.exp(log_var)"}
        ),
        "computed in NumPy (the gradient is cut)": edit(
            "reparameterize",
            {Z: "np.asarray(mean) + np.exp(0.5 * np.asarray(log_var)) * np.asarray(eps)"},
        ),
        "tf.stop_gradient on the sample": edit(
            "reparameterize",
            {Z: f"tf.stop_gradient({Z})"},
        ),
    },
    "make_networks": {
        "sigmoid on the decoder's output (probabilities, not logits)": edit(
            "make_networks", {"keras.layers.Dense(data_dim)": 'keras.layers.Dense(data_dim, activation="sigmoid")'}
        ),
        "encoder outputs only d numbers (no log-variances)": edit(
            "make_networks", {"keras.layers.Dense(2 * latent_dim)": "keras.layers.Dense(latent_dim)"}
        ),
        "decoder's hidden sizes not reversed": edit(
            "make_networks", {"for h in reversed(hidden)]": "for h in hidden]"}
        ),
        "ReLU on the encoder's output layer": edit(
            "make_networks",
            {"keras.layers.Dense(2 * latent_dim)": 'keras.layers.Dense(2 * latent_dim, activation="relu")'},
        ),
        "no activation in the hidden layers": edit(
            "make_networks", {'activation="relu"': "activation=None"}, every=True
        ),
    },
    "negative_elbo": {
        "KL summed over the batch instead of the latent dimensions": edit(
            "negative_elbo", {"- log_var, axis=-1)": "- log_var, axis=0)"}
        ),
        "log-variance read as the standard deviation": edit(
            "negative_elbo",
            {
                "tf.exp(log_var) + tf.square(mean) - 1.0 - log_var": "log_var**2 + tf.square(mean) - 1.0"
                " - tf.math.log(log_var**2)"
            },
        ),
        "factor 1/2 missing from the KL": edit("negative_elbo", {"kl = 0.5 * ": "kl = "}),
        "mean over pixels instead of the sum": edit("negative_elbo", {"-tf.reduce_sum(tfd": "-tf.reduce_mean(tfd"}),
        "sigmoid applied to the logits before tfd.Bernoulli(logits=...)": edit(
            "negative_elbo", {"logits=logits": "logits=tf.sigmoid(logits)"}
        ),
        "KL subtracted in the negative ELBO": edit("negative_elbo", {"return recon + kl,": "return recon - kl,"}),
        "reconstruction term with the wrong sign": edit(
            "negative_elbo", {"recon = -tf.reduce_sum": "recon = tf.reduce_sum"}
        ),
        "naive log(sigmoid) (infinite for extreme logits)": edit(
            "negative_elbo",
            {
                "tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x)": "x * tf.math.log(tf.sigmoid(logits))"
                " + (1 - x) * tf.math.log(1 - tf.sigmoid(logits))"
            },
        ),
    },
    "VAE": {
        "only the decoder's variables updated": edit(
            "VAE", {"self.trainable_variables": "self.decoder.trainable_variables"}, every=True
        ),
        "tf.stop_gradient on z": edit(
            "VAE", {SAMPLE: "z = tf.stop_gradient(reparameterize(mean, log_var, self.sample_noise(tf.shape(mean))))"}
        ),
        "loss summed over the batch": edit("VAE", {LOSS: "tf.reduce_sum(recon + self.beta * kl)"}),
        "KL term dropped from the loss": edit("VAE", {LOSS: "tf.reduce_mean(recon)"}),
        "beta ignored": edit("VAE", {LOSS: "tf.reduce_mean(neg_elbo)"}),
        "z = mean (no sampling)": edit("VAE", {SAMPLE: "z = mean"}),
        "variance exp(log_var) used as the standard deviation in the sample": edit(
            "VAE", {SAMPLE: "z = mean + tf.exp(log_var) * self.sample_noise(tf.shape(mean))"}
        ),
        "trackers not updated, returns the loss": edit("VAE", {TRACK: '        return {"loss": loss}'}),
    },
    "importance_sampled_log_likelihood": {
        "averages the log-weights (the ELBO for every k)": edit(
            "importance_sampled_log_likelihood", {BOUND: f"tf.reduce_mean({LOG_W}, axis=0)"}
        ),
        "logsumexp without -log k": edit("importance_sampled_log_likelihood", {" - tf.math.log(float(k))": ""}),
        "log of the mean of exp(log-weights) (underflows)": edit(
            "importance_sampled_log_likelihood", {BOUND: f"tf.math.log(tf.reduce_mean(tf.exp({LOG_W}), axis=0))"}
        ),
        "prior term forgotten": edit("importance_sampled_log_likelihood", {LOG_W: "log_px_z - log_qz"}),
        "q term forgotten": edit("importance_sampled_log_likelihood", {LOG_W: "log_px_z + log_pz"}),
        "the prior as the proposal instead of q(z | x)": edit(
            "importance_sampled_log_likelihood",
            {Z: "eps", "tfd.Normal(mean, tf.exp(0.5 * log_var)).log_prob(z)": "tfd.Normal(0.0, 1.0).log_prob(z)"},
        ),
        "seed ignored (the global generator)": edit(
            "importance_sampled_log_likelihood",
            {
                "tf.random.stateless_normal([k, batch, latent_dim], seed=[seed, 0])": "tf.random.normal("
                "[k, batch, latent_dim])"
            },
        ),
        "seed ignored (a fixed seed)": edit("importance_sampled_log_likelihood", {"seed=[seed, 0]": "seed=[0, 0]"}),
    },
    "active_units": {
        "posterior variance exp(log_var) instead of the variance of the means": edit(
            "active_units",
            {
                "mean, _ = model.encode": "mean, log_var = model.encode",
                VARIANCE: "np.mean(np.exp(log_var.numpy()), axis=0)",
            },
        ),
        "variance over the wrong axis": edit("active_units", {"axis=0": "axis=1"}),
        "sampled z instead of the posterior means": edit(
            "active_units",
            {
                "mean, _ = model.encode": "mean, log_var = model.encode",
                VARIANCE: "np.var(mean.numpy() + np.exp(0.5 * log_var.numpy())"
                " * np.random.default_rng(0).normal(size=mean.shape), axis=0)",
            },
        ),
        "standard deviation instead of the variance": edit("active_units", {"np.var(": "np.std("}),
        "counts the inactive units": edit("active_units", {"> threshold": "<= threshold"}),
        "threshold argument ignored": edit("active_units", {"> threshold": "> 1e-2"}),
    },
    "predicted_bound_trend": {
        "goes down with k": 'predicted_bound_trend = "b"',
        "stays the same (every L_k estimates the ELBO)": 'predicted_bound_trend = "c"',
    },
    "predicted_large_beta": {
        "a larger KL": 'predicted_large_beta = "a"',
        "about the same KL": 'predicted_large_beta = "C"',
    },
}

CORRECT = {
    "reparameterize": {
        "square root of the variance": edit("reparameterize", {"tf.exp(0.5 * log_var)": "tf.sqrt(tf.exp(log_var))"}),
        "tf.math operations, log_var / 2": edit(
            "reparameterize",
            {Z: "tf.math.add(mean, tf.math.multiply(tf.math.exp(log_var / 2.0), eps))"},
        ),
        "a TFP bijector chain": edit(
            "reparameterize",
            {Z: "tfp.bijectors.Shift(mean)(tfp.bijectors.Scale(tf.exp(0.5 * log_var))(eps))"},
        ),
    },
    "make_networks": {
        # structurally different: the functional API
        "functional API": """
def make_networks(data_dim, hidden, latent_dim):
    x = inputs = keras.Input((data_dim,))
    for h in hidden:
        x = keras.layers.Dense(h, activation="relu")(x)
    encoder = keras.Model(inputs, keras.layers.Dense(2 * latent_dim)(x))
    z = latent = keras.Input((latent_dim,))
    for h in hidden[::-1]:
        z = keras.layers.Dense(h, activation="relu")(z)
    decoder = keras.Model(latent, keras.layers.Dense(data_dim)(z))
    return encoder, decoder
""",
        # structurally different: layer lists built in loops
        "separate ReLU layers": """
def make_networks(data_dim, hidden, latent_dim):
    enc_layers, dec_layers = [keras.Input((data_dim,))], [keras.Input((latent_dim,))]
    for h in hidden:
        enc_layers += [keras.layers.Dense(h), keras.layers.ReLU()]
    for h in reversed(hidden):
        dec_layers += [keras.layers.Dense(h), keras.layers.ReLU()]
    encoder = keras.Sequential(enc_layers + [keras.layers.Dense(2 * latent_dim)])
    return encoder, keras.Sequential(dec_layers + [keras.layers.Dense(data_dim)])
""",
        # structurally different: the functional API with two heads, means and log-variances, concatenated
        "encoder with two Dense heads (means, log-variances)": """
def make_networks(data_dim, hidden, latent_dim):
    inputs = keras.Input((data_dim,))
    h = inputs
    for size in hidden:
        h = keras.layers.Dense(size, activation="relu")(h)
    means = keras.layers.Dense(latent_dim, name="means")(h)
    log_vars = keras.layers.Dense(latent_dim, name="log_vars")(h)
    encoder = keras.Model(inputs, keras.layers.Concatenate()([means, log_vars]))
    decoder = keras.Sequential(
        [keras.Input((latent_dim,))]
        + [keras.layers.Dense(size, activation="relu") for size in reversed(hidden)]
        + [keras.layers.Dense(data_dim)]
    )
    return encoder, decoder
""",
        "Sequential without an Input (built on first call), tf.nn.relu": edit(
            "make_networks",
            {
                "            keras.Input((data_dim,)),\n": "",
                "            keras.Input((latent_dim,)),\n": "",
                '"relu"': "tf.nn.relu",
                "reversed(hidden)": "list(hidden)[::-1]",
            },
            every=True,
        ),
    },
    "negative_elbo": {
        "softplus formula by hand": edit(
            "negative_elbo", {RECON: "tf.reduce_sum(tf.math.softplus(logits) - x * logits, axis=-1)"}
        ),
        "cross-entropy with logits and tfd.kl_divergence": edit(
            "negative_elbo",
            {
                RECON: "tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)",
                KL: "tfd.kl_divergence(tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var)), "
                "tfd.MultivariateNormalDiag(tf.zeros_like(mean), tf.ones_like(mean)))",
            },
        ),
        "tfd.Independent Bernoulli and a sum of 1-D KLs": edit(
            "negative_elbo",
            {
                RECON: "-tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), 1).log_prob(x)",
                KL: "tf.reduce_sum(tfd.kl_divergence(tfd.Normal(mean, tf.exp(0.5 * log_var)), tfd.Normal(0.0, 1.0)), "
                "axis=-1)",
            },
        ),
    },
    "VAE": {
        "encoder + decoder variables, mean of each term, tf.random.normal": edit(
            "VAE",
            {
                SAMPLE: "z = mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))",
                LOSS: "tf.reduce_mean(recon) + self.beta * tf.reduce_mean(kl)",
                "self.trainable_variables": "(self.encoder.trainable_variables + self.decoder.trainable_variables)",
            },
            every=True,
        ),
        "the trackers updated by self.track": edit("VAE", {TRACK: "        return self.track(recon, kl)"}),
        # structurally different: optimizer.apply, a sum divided by the batch size, a loop over the trackers
        "optimizer.apply and self.trainable_weights": """
class VAE(VAEBase):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            mean, log_var = self.encode(data)
            eps = self.sample_noise(tf.shape(mean))
            neg_elbo, recon, kl = negative_elbo(data, self.decode(reparameterize(mean, log_var, eps)), mean, log_var)
            loss = tf.reduce_sum(recon + self.beta * kl) / tf.cast(tf.shape(data)[0], tf.float32)
        self.optimizer.apply(tape.gradient(loss, self.trainable_weights), self.trainable_weights)
        for tracker, value in zip(self.metrics, (neg_elbo, recon, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}
""",
    },
    "importance_sampled_log_likelihood": {
        # structurally different: NumPy, float64, a max-shifted log-mean-exp
        "NumPy log-weights, max-shifted log-mean-exp": """
def importance_sampled_log_likelihood(model, x, k, seed=0):
    x = np.asarray(x, dtype=np.float32)
    mean, log_var = (t.numpy().astype(np.float64) for t in model.encode(tf.constant(x)))
    std = np.exp(0.5 * log_var)
    eps = np.random.default_rng(seed).normal(size=(k,) + mean.shape)
    z = mean + std * eps
    logits = model.decode(tf.constant(z.reshape(-1, mean.shape[1]), tf.float32)).numpy()
    logits = logits.astype(np.float64).reshape(k, len(x), -1)
    log_px_z = np.sum(x * logits - np.logaddexp(0, logits), axis=-1)
    log_pz = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi), axis=-1)
    log_qz = np.sum(-0.5 * eps**2 - np.log(std) - 0.5 * np.log(2 * np.pi), axis=-1)
    log_w = log_px_z + log_pz - log_qz
    top = log_w.max(axis=0)
    return top + np.log(np.mean(np.exp(log_w - top), axis=0))
""",
        # structurally different: a Python loop over the examples
        "one example at a time, multivariate TFP distributions": """
def importance_sampled_log_likelihood(model, x, k, seed=0):
    x = tf.convert_to_tensor(x, tf.float32)
    mean, log_var = model.encode(x)
    out = []
    for i in range(x.shape[0]):
        q = tfd.MultivariateNormalDiag(mean[i], tf.exp(0.5 * log_var[i]))
        z = q.sample(k, seed=(seed, i))
        p_z = tfd.MultivariateNormalDiag(tf.zeros_like(mean[i]), tf.ones_like(mean[i]))
        log_px_z = tfd.Independent(tfd.Bernoulli(logits=model.decode(z), dtype=tf.float32), 1).log_prob(x[i])
        out.append(tf.reduce_logsumexp(log_px_z + p_z.log_prob(z) - q.log_prob(z)) - tf.math.log(float(k)))
    return tf.stack(out)
""",
    },
    "active_units": {
        "tf.math.reduce_variance": edit(
            "active_units",
            {
                "model.encode(tf.convert_to_tensor(x, tf.float32))": "model.encode(x)",
                f"np.sum({VARIANCE} > threshold)": "tf.reduce_sum("
                "tf.cast(tf.math.reduce_variance(mean, axis=0) > threshold, tf.int32))",
            },
        ),
        # structurally different: np.cov and a loop over the units
        "diagonal of np.cov, unit by unit": """
def active_units(model, x, threshold=1e-2):
    mean = model.encode(tf.constant(np.asarray(x, dtype=np.float32)))[0].numpy()
    cov = np.atleast_2d(np.cov(mean, rowvar=False))
    count = 0
    for j in range(mean.shape[1]):
        if cov[j, j] > threshold:
            count += 1
    return count
""",
    },
    "predicted_bound_trend": {"the capital letter": 'predicted_bound_trend = "A"'},
    "predicted_large_beta": {"the capital letter, with spaces": 'predicted_large_beta = " B "'},
}
