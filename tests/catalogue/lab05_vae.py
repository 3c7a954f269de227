"""Unit 05 (the VAE): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (keras, plt, np, tf, tfp, tfd, config, data, plotting, training) and
the provided model cell (VAEBase).
"""

ASSIGNMENT = "lab05_vae"
TESTS = {  # solution cell -> the test cell that grades it
    "reparameterize": "test_reparameterize",
    "make_networks": "test_make_networks",
    "negative_elbo": "test_negative_elbo",
    "VAE": "test_VAE",
    "iwae_log_likelihood": "test_iwae_log_likelihood",
    "active_units": "test_active_units",
}


def _networks(
    hidden_activation='"relu"',
    encoder_out="2 * latent_dim",
    encoder_act="None",
    decoder_act="None",
    decoder_hidden="reversed(hidden)",
):
    """A make_networks entry with one thing changed."""
    return f"""
def make_networks(data_dim, hidden, latent_dim):
    encoder = keras.Sequential([keras.Input((data_dim,)), *[keras.layers.Dense(h, activation={hidden_activation}) for h in hidden],
                                keras.layers.Dense({encoder_out}, activation={encoder_act})])
    decoder = keras.Sequential([keras.Input((latent_dim,)),
                                *[keras.layers.Dense(h, activation={hidden_activation}) for h in {decoder_hidden}],
                                keras.layers.Dense(data_dim, activation={decoder_act})])
    return encoder, decoder
"""


def _negative_elbo(
    recon="-tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)",
    kl="0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=-1)",
    neg="recon + kl",
):
    return f"""
def negative_elbo(x, logits, mean, log_var):
    recon = {recon}
    kl = {kl}
    return {neg}, recon, kl
"""


def _train_step(
    z="reparameterize(mean, log_var, self.sample_noise(tf.shape(mean)))",
    loss="tf.reduce_mean(recon + self.beta * kl)",
    variables="self.trainable_variables",
    track="""self.neg_elbo_tracker.update_state(neg_elbo)
        self.recon_tracker.update_state(recon)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}""",
):
    return f"""
class VAE(VAEBase):
    def train_step(self, data):
        x = data
        with tf.GradientTape() as tape:
            mean, log_var = self.encode(x)
            z = {z}
            neg_elbo, recon, kl = negative_elbo(x, self.decode(z), mean, log_var)
            loss = {loss}
        variables = {variables}
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        {track}
"""


def _iwae(log_w="log_px_z + log_pz - log_qz", reduce="tf.reduce_logsumexp(log_w, axis=0) - tf.math.log(float(k))"):
    return f"""
def iwae_log_likelihood(model, x, k, seed=0):
    x = tf.convert_to_tensor(x, tf.float32)
    mean, log_var = model.encode(x)
    batch, latent_dim = tf.shape(mean)[0], mean.shape[-1]
    z = mean + tf.exp(0.5 * log_var) * tf.random.stateless_normal([k, batch, latent_dim], seed=[seed, 0])
    logits = tf.reshape(model.decode(tf.reshape(z, [-1, latent_dim])), [k, batch, -1])
    log_px_z = tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)
    log_pz = tf.reduce_sum(tfd.Normal(0.0, 1.0).log_prob(z), axis=-1)
    log_qz = tf.reduce_sum(tfd.Normal(mean, tf.exp(0.5 * log_var)).log_prob(z), axis=-1)
    log_w = {log_w}
    return {reduce}
"""


def _active(body):
    return f"""
def active_units(model, x, threshold=1e-2):
    mean, log_var = model.encode(tf.convert_to_tensor(x, tf.float32))
    mean, log_var = mean.numpy(), log_var.numpy()
    {body}
"""


WRONG = {
    "reparameterize": {
        "log-variance read as the standard deviation": """
def reparameterize(mean, log_var, eps):
    return mean + log_var * eps
""",
        "variance exp(log_var) used as the standard deviation": """
def reparameterize(mean, log_var, eps):
    return mean + tf.exp(log_var) * eps
""",
        "computed in NumPy (the gradient is cut)": """
def reparameterize(mean, log_var, eps):
    return np.asarray(mean) + np.exp(0.5 * np.asarray(log_var)) * np.asarray(eps)
""",
        "tf.stop_gradient on the sample": """
def reparameterize(mean, log_var, eps):
    return tf.stop_gradient(mean + tf.exp(0.5 * log_var) * eps)
""",
    },
    "make_networks": {
        "sigmoid on the decoder's output (probabilities, not logits)": _networks(decoder_act='"sigmoid"'),
        "encoder outputs only d numbers (no log-variances)": _networks(encoder_out="latent_dim"),
        "decoder's hidden sizes not reversed": _networks(decoder_hidden="hidden"),
        "ReLU on the encoder's output layer": _networks(encoder_act='"relu"'),
        "no activation in the hidden layers": _networks(hidden_activation="None"),
    },
    "negative_elbo": {
        "KL summed over the batch instead of the latent dimensions": _negative_elbo(
            kl="0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=0)"
        ),
        "log-variance read as the standard deviation": _negative_elbo(
            kl="0.5 * tf.reduce_sum(log_var**2 + tf.square(mean) - 1.0 - tf.math.log(log_var**2), axis=-1)"
        ),
        "factor 1/2 missing from the KL": _negative_elbo(
            kl="tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=-1)"
        ),
        "mean over pixels instead of the sum": _negative_elbo(
            recon="-tf.reduce_mean(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)"
        ),
        "sigmoid applied to the logits before tfd.Bernoulli(logits=...)": _negative_elbo(
            recon="-tf.reduce_sum(tfd.Bernoulli(logits=tf.sigmoid(logits), dtype=tf.float32).log_prob(x), axis=-1)"
        ),
        "KL subtracted in the negative ELBO": _negative_elbo(neg="recon - kl"),
        "reconstruction term with the wrong sign": _negative_elbo(
            recon="tf.reduce_sum(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x), axis=-1)"
        ),
        "naive log(sigmoid) (infinite for extreme logits)": _negative_elbo(
            recon="-tf.reduce_sum(x * tf.math.log(tf.sigmoid(logits)) + (1 - x) * tf.math.log(1 - tf.sigmoid(logits)), axis=-1)"
        ),
    },
    "VAE": {
        "only the decoder's variables updated": _train_step(variables="self.decoder.trainable_variables"),
        "tf.stop_gradient on z": _train_step(
            z="tf.stop_gradient(reparameterize(mean, log_var, self.sample_noise(tf.shape(mean))))"
        ),
        "loss summed over the batch": _train_step(loss="tf.reduce_sum(recon + self.beta * kl)"),
        "KL term dropped from the loss": _train_step(loss="tf.reduce_mean(recon)"),
        "beta ignored": _train_step(loss="tf.reduce_mean(neg_elbo)"),
        "z = mean (no sampling)": _train_step(z="mean"),
        "trackers not updated, returns the loss": _train_step(track='return {"loss": loss}'),
    },
    "iwae_log_likelihood": {
        "averages the log-weights (the ELBO for every k)": _iwae(reduce="tf.reduce_mean(log_w, axis=0)"),
        "logsumexp without -log k": _iwae(reduce="tf.reduce_logsumexp(log_w, axis=0)"),
        "log of the mean of exp(log-weights) (underflows)": _iwae(
            reduce="tf.math.log(tf.reduce_mean(tf.exp(log_w), axis=0))"
        ),
        "prior term forgotten": _iwae(log_w="log_px_z - log_qz"),
        "q term forgotten": _iwae(log_w="log_px_z + log_pz"),
    },
    "active_units": {
        "posterior variance exp(log_var) instead of the variance of the means": _active(
            "return int(np.sum(np.mean(np.exp(log_var), axis=0) > threshold))"
        ),
        "variance over the wrong axis": _active("return int(np.sum(np.var(mean, axis=1) > threshold))"),
        "sampled z instead of the posterior means": _active(
            "z = mean + np.exp(0.5 * log_var) * np.random.default_rng(0).normal(size=mean.shape)\n"
            "    return int(np.sum(np.var(z, axis=0) > threshold))"
        ),
        "standard deviation instead of the variance": _active("return int(np.sum(np.std(mean, axis=0) > threshold))"),
        "counts the inactive units": _active("return int(np.sum(np.var(mean, axis=0) <= threshold))"),
        "threshold argument ignored": _active("return int(np.sum(np.var(mean, axis=0) > 1e-2))"),
    },
}

CORRECT = {
    "reparameterize": {
        "square root of the variance": """
def reparameterize(mean, log_var, eps):
    return mean + tf.sqrt(tf.exp(log_var)) * eps
""",
        "tf.math operations, log_var / 2": """
def reparameterize(mean, log_var, eps):
    return tf.math.add(mean, tf.math.multiply(tf.math.exp(log_var / 2.0), eps))
""",
        "a TFP bijector chain": """
def reparameterize(mean, log_var, eps):
    return tfp.bijectors.Shift(mean)(tfp.bijectors.Scale(tf.exp(0.5 * log_var))(eps))
""",
    },
    "make_networks": {
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
        "separate ReLU layers": """
def make_networks(data_dim, hidden, latent_dim):
    enc_layers, dec_layers = [keras.Input((data_dim,))], [keras.Input((latent_dim,))]
    for h in hidden:
        enc_layers += [keras.layers.Dense(h), keras.layers.ReLU()]
    for h in reversed(hidden):
        dec_layers += [keras.layers.Dense(h), keras.layers.ReLU()]
    return keras.Sequential(enc_layers + [keras.layers.Dense(2 * latent_dim)]), keras.Sequential(dec_layers + [keras.layers.Dense(data_dim)])
""",
        "Sequential without an Input (built on first call), tf.nn.relu": """
def make_networks(data_dim, hidden, latent_dim):
    encoder = keras.Sequential([keras.layers.Dense(h, activation=tf.nn.relu) for h in hidden] + [keras.layers.Dense(2 * latent_dim)])
    decoder = keras.Sequential([keras.layers.Dense(h, activation=tf.nn.relu) for h in list(hidden)[::-1]] + [keras.layers.Dense(data_dim)])
    return encoder, decoder
""",
    },
    "negative_elbo": {
        "softplus formula by hand": _negative_elbo(
            recon="tf.reduce_sum(tf.math.softplus(logits) - x * logits, axis=-1)"
        ),
        "cross-entropy with logits and tfd.kl_divergence": _negative_elbo(
            recon="tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)",
            kl="tfd.kl_divergence(tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var)), "
            "tfd.MultivariateNormalDiag(tf.zeros_like(mean), tf.ones_like(mean)))",
        ),
        "tfd.Independent Bernoulli and a sum of 1-D KLs": _negative_elbo(
            recon="-tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), 1).log_prob(x)",
            kl="tf.reduce_sum(tfd.kl_divergence(tfd.Normal(mean, tf.exp(0.5 * log_var)), tfd.Normal(0.0, 1.0)), axis=-1)",
        ),
    },
    "VAE": {
        "encoder + decoder variables, mean of each term, tf.random.normal": _train_step(
            z="mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))",
            loss="tf.reduce_mean(recon) + self.beta * tf.reduce_mean(kl)",
            variables="self.encoder.trainable_variables + self.decoder.trainable_variables",
        ),
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
    "iwae_log_likelihood": {
        "NumPy log-weights, max-shifted log-mean-exp": """
def iwae_log_likelihood(model, x, k, seed=0):
    x = np.asarray(x, dtype=np.float32)
    mean, log_var = (t.numpy().astype(np.float64) for t in model.encode(tf.constant(x)))
    std = np.exp(0.5 * log_var)
    eps = np.random.default_rng(seed).normal(size=(k,) + mean.shape)
    z = mean + std * eps
    logits = model.decode(tf.constant(z.reshape(-1, mean.shape[1]), tf.float32)).numpy().astype(np.float64).reshape(k, len(x), -1)
    log_px_z = np.sum(x * logits - np.logaddexp(0, logits), axis=-1)
    log_pz = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi), axis=-1)
    log_qz = np.sum(-0.5 * eps**2 - np.log(std) - 0.5 * np.log(2 * np.pi), axis=-1)
    log_w = log_px_z + log_pz - log_qz
    top = log_w.max(axis=0)
    return top + np.log(np.mean(np.exp(log_w - top), axis=0))
""",
        "one example at a time, multivariate TFP distributions": """
def iwae_log_likelihood(model, x, k, seed=0):
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
        "tf.math.reduce_variance": """
def active_units(model, x, threshold=1e-2):
    mean, _ = model.encode(x)
    return int(tf.reduce_sum(tf.cast(tf.math.reduce_variance(mean, axis=0) > threshold, tf.int32)))
""",
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
}
