"""Unit 06 (the conditional VAE): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (keras, plt, np, tf, tfp, tfd, config, data, plotting, training) and of
its provided cells (FixedPrior, make_mlp, CVAEParts).
"""

ASSIGNMENT = "lab06_cvae"
TESTS = {  # solution cell -> the test cell that grades it
    "kl_diag_gaussians": "test_kl_diag_gaussians",
    "condition": "test_condition",
    "ConditionalPrior": "test_ConditionalPrior",
    "cvae_negative_elbo": "test_cvae_negative_elbo",
    "cvae_forward": "test_cvae_forward",
    "generate": "test_generate",
}

WRONG = {
    "kl_diag_gaussians": {
        "arguments swapped (KL(p || q))": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return 0.5 * tf.reduce_sum((tf.exp(vp) + (mp - mq) ** 2) / tf.exp(vq) - 1.0 + vq - vp, axis=-1)
""",
        "log-variance read as a log standard deviation": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, sq, mp, sp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    var_q, var_p = np.exp(sq) ** 2, np.exp(sp) ** 2
    return 0.5 * np.sum((var_q + (mq - mp) ** 2) / var_p - 1.0 + np.log(var_p) - np.log(var_q), axis=-1)
""",
        "summed over the batch as well (one number)": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return 0.5 * tf.reduce_sum((tf.exp(vq) + (mq - mp) ** 2) / tf.exp(vp) - 1.0 + vp - vq)
""",
        "missing the factor 1/2": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return tf.reduce_sum((tf.exp(vq) + (mq - mp) ** 2) / tf.exp(vp) - 1.0 + vp - vq, axis=-1)
""",
        "variance ratio inverted (sigma_p^2 / sigma_q^2)": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return 0.5 * tf.reduce_sum(tf.exp(vp) / tf.exp(vq) + (mq - mp) ** 2 / tf.exp(vp) - 1.0 + vp - vq, axis=-1)
""",
        "the KL to N(0, I), ignoring the prior's parameters": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq = (tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q))
    return 0.5 * tf.reduce_sum(tf.exp(vq) + mq**2 - 1.0 - vq, axis=-1)
""",
    },
    "condition": {
        "the label appended as a number, not one-hot": """
def condition(x, y, num_classes):
    x = tf.cast(x, tf.float32)
    return tf.concat([x, tf.cast(tf.reshape(y, [-1, 1]), tf.float32)], axis=-1)
""",
        "one-hot of a fixed depth 10": """
def condition(x, y, num_classes):
    return tf.concat([tf.cast(x, tf.float32), tf.one_hot(tf.cast(y, tf.int32), 10)], axis=-1)
""",
        "the label ignored (zeros appended)": """
def condition(x, y, num_classes):
    x = tf.cast(x, tf.float32)
    return tf.concat([x, tf.zeros([tf.shape(x)[0], num_classes])], axis=-1)
""",
    },
    "ConditionalPrior": {
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
        "a softplus on the log-variance (never negative)": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.hidden_layer = keras.layers.Dense(hidden, activation="relu")
        self.out = keras.layers.Dense(2 * latent_dim)

    def call(self, y_onehot):
        mean, raw = tf.split(self.out(self.hidden_layer(y_onehot)), 2, axis=-1)
        return mean, tf.nn.softplus(raw)
""",
        "a ReLU on the output layer": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.hidden_layer = keras.layers.Dense(hidden, activation="relu")
        self.out = keras.layers.Dense(2 * latent_dim, activation="relu")

    def call(self, y_onehot):
        mean, log_var = tf.split(self.out(self.hidden_layer(y_onehot)), 2, axis=-1)
        return mean, log_var
""",
    },
    "cvae_negative_elbo": {
        "KL to N(0, I) instead of the conditional prior": """
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    recon = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(x, tf.float32), logits=tf.cast(logits, tf.float32)), axis=-1)
    kl = 0.5 * tf.reduce_sum(tf.exp(q_log_var) + tf.square(q_mean) - 1.0 - q_log_var, axis=-1)
    return recon + kl, recon, kl
""",
        "KL summed over the batch": """
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    recon = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(x, tf.float32), logits=tf.cast(logits, tf.float32)), axis=-1)
    kl = 0.5 * tf.reduce_sum((tf.exp(q_log_var) + (q_mean - p_mean) ** 2) / tf.exp(p_log_var) - 1.0 + p_log_var - q_log_var)
    return recon + kl, recon, kl
""",
        "reconstruction averaged over pixels": """
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    recon = -tf.reduce_mean(tfd.Bernoulli(logits=tf.cast(logits, tf.float32)).log_prob(tf.cast(x, tf.float32)), axis=-1)
    kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(q_mean, tf.exp(0.5 * q_log_var)),
                           tfd.MultivariateNormalDiag(p_mean, tf.exp(0.5 * p_log_var)))
    return recon + kl, recon, kl
""",
        "probabilities passed as logits": """
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    probs = tf.sigmoid(tf.cast(logits, tf.float32))
    recon = -tf.reduce_sum(tfd.Bernoulli(logits=probs).log_prob(tf.cast(x, tf.float32)), axis=-1)
    kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(q_mean, tf.exp(0.5 * q_log_var)),
                           tfd.MultivariateNormalDiag(p_mean, tf.exp(0.5 * p_log_var)))
    return recon + kl, recon, kl
""",
    },
    "cvae_forward": {
        "decodes the posterior mean (eps unused)": """
def cvae_forward(model, x, y, eps):
    onehot = tf.one_hot(tf.cast(y, tf.int32), model.num_classes)
    q_mean, q_log_var = tf.split(model.encoder(tf.concat([tf.cast(x, tf.float32), onehot], -1)), 2, axis=-1)
    logits = model.decoder(tf.concat([q_mean, onehot], -1))
    p_mean, p_log_var = model.prior(onehot)
    return logits, q_mean, q_log_var, p_mean, p_log_var
""",
        "standard deviation exp(log_var) instead of exp(log_var / 2)": """
def cvae_forward(model, x, y, eps):
    onehot = tf.one_hot(tf.cast(y, tf.int32), model.num_classes)
    q_mean, q_log_var = tf.split(model.encoder(tf.concat([tf.cast(x, tf.float32), onehot], -1)), 2, axis=-1)
    z = q_mean + tf.exp(q_log_var) * eps
    logits = model.decoder(tf.concat([z, onehot], -1))
    p_mean, p_log_var = model.prior(onehot)
    return logits, q_mean, q_log_var, p_mean, p_log_var
""",
        "encoder halves swapped (log-variance first)": """
def cvae_forward(model, x, y, eps):
    onehot = tf.one_hot(tf.cast(y, tf.int32), model.num_classes)
    q_log_var, q_mean = tf.split(model.encoder(tf.concat([tf.cast(x, tf.float32), onehot], -1)), 2, axis=-1)
    z = q_mean + tf.exp(0.5 * q_log_var) * eps
    logits = model.decoder(tf.concat([z, onehot], -1))
    p_mean, p_log_var = model.prior(onehot)
    return logits, q_mean, q_log_var, p_mean, p_log_var
""",
        "the decoder does not get the label": """
def cvae_forward(model, x, y, eps):
    onehot = tf.one_hot(tf.cast(y, tf.int32), model.num_classes)
    q_mean, q_log_var = tf.split(model.encoder(tf.concat([tf.cast(x, tf.float32), onehot], -1)), 2, axis=-1)
    z = q_mean + tf.exp(0.5 * q_log_var) * eps
    logits = model.decoder(z)
    p_mean, p_log_var = model.prior(onehot)
    return logits, q_mean, q_log_var, p_mean, p_log_var
""",
    },
    "generate": {
        "z from N(0, I) although the model has a learned prior": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot(tf.fill([n], int(y)), model.num_classes)
    z = tf.random.stateless_normal([n, model.latent_dim], seed=[seed, 0])
    return tf.sigmoid(model.decoder(tf.concat([z, onehot], -1))).numpy()
""",
        "logits returned instead of probabilities": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot(tf.fill([n], int(y)), model.num_classes)
    mean, log_var = model.prior(onehot)
    z = mean + tf.exp(0.5 * log_var) * tf.random.stateless_normal([n, model.latent_dim], seed=[seed, 0])
    return model.decoder(tf.concat([z, onehot], -1)).numpy()
""",
        "one z shared by all n images": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot(tf.fill([n], int(y)), model.num_classes)
    mean, log_var = model.prior(onehot)
    z = mean + tf.exp(0.5 * log_var) * tf.random.stateless_normal([1, model.latent_dim], seed=[seed, 0])
    return tf.sigmoid(model.decoder(tf.concat([z, onehot], -1))).numpy()
""",
        "the prior evaluated without the label (zeros)": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot(tf.fill([n], int(y)), model.num_classes)
    mean, log_var = model.prior(tf.zeros_like(onehot))
    z = mean + tf.exp(0.5 * log_var) * tf.random.stateless_normal([n, model.latent_dim], seed=[seed, 0])
    return tf.sigmoid(model.decoder(tf.concat([z, onehot], -1))).numpy()
""",
        "standard deviation exp(log_var)": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot(tf.fill([n], int(y)), model.num_classes)
    mean, log_var = model.prior(onehot)
    z = mean + tf.exp(log_var) * tf.random.stateless_normal([n, model.latent_dim], seed=[seed, 0])
    return tf.sigmoid(model.decoder(tf.concat([z, onehot], -1))).numpy()
""",
    },
}

CORRECT = {
    "kl_diag_gaussians": {
        "NumPy, in standard deviations": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    sq, sp = np.exp(0.5 * vq), np.exp(0.5 * vp)
    return np.sum(np.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5, axis=-1)
""",
        "tfd.kl_divergence of MultivariateNormalDiag": """
def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, vq, mp, vp = (tf.convert_to_tensor(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return tfd.kl_divergence(tfd.MultivariateNormalDiag(mq, tf.exp(0.5 * vq)), tfd.MultivariateNormalDiag(mp, tf.exp(0.5 * vp)))
""",
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
        "NumPy with np.eye": """
def condition(x, y, num_classes):
    x = np.asarray(x, np.float32)
    return np.concatenate([x, np.eye(num_classes, dtype=np.float32)[np.asarray(y)]], axis=1)
""",
    },
    "ConditionalPrior": {
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
        "a Sequential network and slicing": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.d = latent_dim
        self.net = keras.Sequential([keras.Input((num_classes,)), keras.layers.Dense(hidden, activation="relu"),
                                     keras.layers.Dense(2 * latent_dim)])

    def call(self, y_onehot):
        out = self.net(y_onehot)
        return out[:, : self.d], out[:, self.d :]
""",
    },
    "cvae_negative_elbo": {
        "sigmoid cross-entropy and TFP's KL": """
def cvae_negative_elbo(x, logits, q_mean, q_log_var, p_mean, p_log_var):
    recon = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(x, tf.float32), logits=tf.cast(logits, tf.float32)), axis=-1)
    kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(q_mean, tf.exp(0.5 * q_log_var)),
                           tfd.MultivariateNormalDiag(p_mean, tf.exp(0.5 * p_log_var)))
    return recon + kl, recon, kl
""",
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
        "NumPy noise and a list of labels": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot([y] * n, model.num_classes)
    mean, log_var = model.prior(onehot)
    eps = np.random.default_rng(seed).standard_normal((n, model.latent_dim)).astype(np.float32)
    z = mean + tf.exp(log_var / 2) * eps
    logits = model.decoder(tf.concat([z, onehot], axis=-1))
    return np.asarray(tf.sigmoid(logits))
""",
        "a TFP distribution for the prior": """
def generate(model, y, n, seed=0):
    onehot = tf.one_hot(tf.fill([n], int(y)), model.num_classes)
    mean, log_var = model.prior(onehot)
    z = tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var)).sample(seed=(seed, 1))
    return tf.nn.sigmoid(model.decoder(tf.concat([z, onehot], axis=-1))).numpy()
""",
    },
}
