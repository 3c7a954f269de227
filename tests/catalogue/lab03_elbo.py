"""Unit 03 (the ELBO): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (np, tf, tfp, tfd) and the provided model cell (log_joint).
"""

ASSIGNMENT = "lab03_elbo"
TESTS = {  # solution cell -> the test cell that grades it
    "exact_evidence_and_posterior": "test_exact_evidence_and_posterior",
    "elbo_monte_carlo": "test_elbo_monte_carlo",
    "elbo_analytic": "test_elbo_analytic",
    "iwae_bound": "test_iwae_bound",
    "fit_posterior": "test_fit_posterior",
    "gradient_variance": "test_gradient_variance",
}

# A correct NumPy log-weight, log p(x, z) - log q(z), for entries that need one (pasted into their code).
NUMPY_LOG_WEIGHTS = """
def numpy_log_weights(z, x, W, b, sigma, m, s):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, m, s))
    r = x - z @ W.T - b
    log_lik = -0.5 * np.sum(r**2, -1) / sigma**2 - len(x) * np.log(sigma) - 0.5 * len(x) * np.log(2 * np.pi)
    log_prior = -0.5 * np.sum(z**2, -1) - 0.5 * z.shape[-1] * np.log(2 * np.pi)
    log_q = -0.5 * np.sum(((z - m) / s) ** 2, -1) - np.sum(np.log(s)) - 0.5 * z.shape[-1] * np.log(2 * np.pi)
    return log_lik + log_prior - log_q
"""

WRONG = {
    "exact_evidence_and_posterior": {
        "evidence covariance without sigma^2 I": """
def exact_evidence_and_posterior(x, W, b, sigma):
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    log_px = float(tfd.MultivariateNormalTriL(b, np.linalg.cholesky(W @ W.T)).log_prob(x))
    cov = np.linalg.inv(np.eye(W.shape[1]) + W.T @ W / sigma**2)
    return log_px, cov @ W.T @ (x - b) / sigma**2, cov
""",
        "posterior precision without the prior's identity term": """
def exact_evidence_and_posterior(x, W, b, sigma):
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    log_px = float(tfd.MultivariateNormalTriL(b, np.linalg.cholesky(W @ W.T + sigma**2 * np.eye(len(x)))).log_prob(x))
    cov = np.linalg.pinv(W.T @ W / sigma**2)
    return log_px, cov @ W.T @ (x - b) / sigma**2, cov
""",
        "sigma read as a variance": """
def exact_evidence_and_posterior(x, W, b, sigma):
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    log_px = float(tfd.MultivariateNormalTriL(b, np.linalg.cholesky(W @ W.T + sigma * np.eye(len(x)))).log_prob(x))
    cov = np.linalg.inv(np.eye(W.shape[1]) + W.T @ W / sigma)
    return log_px, cov @ W.T @ (x - b) / sigma, cov
""",
        "posterior mean forgets the offset b": """
def exact_evidence_and_posterior(x, W, b, sigma):
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    log_px = float(tfd.MultivariateNormalTriL(b, np.linalg.cholesky(W @ W.T + sigma**2 * np.eye(len(x)))).log_prob(x))
    cov = np.linalg.inv(np.eye(W.shape[1]) + W.T @ W / sigma**2)
    return log_px, cov @ W.T @ x / sigma**2, cov
""",
    },
    "elbo_monte_carlo": {
        "entropy term missing (averages log p(x, z) only)": """
def elbo_monte_carlo(x, W, b, sigma, q_mean, q_std, n, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n, len(m)))
    values = log_joint(z, x, W, b, sigma).numpy()
    return float(values.mean()), float(values.std() / np.sqrt(n))
""",
        "samples drawn from the prior instead of q": NUMPY_LOG_WEIGHTS
        + """
def elbo_monte_carlo(x, W, b, sigma, q_mean, q_std, n, seed=0):
    z = np.random.default_rng(seed).normal(size=(n, len(q_mean)))
    values = numpy_log_weights(z, x, W, b, sigma, q_mean, q_std)
    return float(values.mean()), float(values.std() / np.sqrt(n))
""",
        "standard error not divided by sqrt(n)": NUMPY_LOG_WEIGHTS
        + """
def elbo_monte_carlo(x, W, b, sigma, q_mean, q_std, n, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n, len(m)))
    values = numpy_log_weights(z, x, W, b, sigma, m, s)
    return float(values.mean()), float(values.std())
""",
    },
    "elbo_analytic": {
        "KL(q || p(z)) added instead of subtracted": """
def elbo_analytic(x, W, b, sigma, q_mean, q_std):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    r = x - W @ m - b
    recon = -0.5 * len(x) * np.log(2 * np.pi * sigma**2) - (r @ r + np.sum(W**2 * s**2)) / (2 * sigma**2)
    return recon + 0.5 * np.sum(s**2 + m**2 - 1 - np.log(s**2))
""",
        "reconstruction ignores the spread of q (plug-in z = m)": """
def elbo_analytic(x, W, b, sigma, q_mean, q_std):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    r = x - W @ m - b
    recon = -0.5 * len(x) * np.log(2 * np.pi * sigma**2) - (r @ r) / (2 * sigma**2)
    return recon - 0.5 * np.sum(s**2 + m**2 - 1 - np.log(s**2))
""",
        "entropy of q missing (E_q[log p(x, z)] alone)": """
def elbo_analytic(x, W, b, sigma, q_mean, q_std):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    r = x - W @ m - b
    recon = -0.5 * len(x) * np.log(2 * np.pi * sigma**2) - (r @ r + np.sum(W**2 * s**2)) / (2 * sigma**2)
    return recon - 0.5 * np.sum(s**2 + m**2) - 0.5 * len(m) * np.log(2 * np.pi)
""",
    },
    "iwae_bound": {
        "averages the log-weights (that is the ELBO, for every k)": NUMPY_LOG_WEIGHTS
        + """
def iwae_bound(x, W, b, sigma, q_mean, q_std, k, n_outer, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n_outer, k, len(m)))
    per_set = numpy_log_weights(z, x, W, b, sigma, m, s).mean(axis=1)
    return float(per_set.mean()), float(per_set.std() / np.sqrt(n_outer))
""",
        "log of the sum of the weights (forgets -log k)": NUMPY_LOG_WEIGHTS
        + """
def iwae_bound(x, W, b, sigma, q_mean, q_std, k, n_outer, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n_outer, k, len(m)))
    log_w = numpy_log_weights(z, x, W, b, sigma, m, s)
    top = log_w.max(axis=1)
    per_set = top + np.log(np.sum(np.exp(log_w - top[:, None]), axis=1))
    return float(per_set.mean()), float(per_set.std() / np.sqrt(n_outer))
""",
        "exponentiates the log-weights directly (underflows far from the posterior)": NUMPY_LOG_WEIGHTS
        + """
def iwae_bound(x, W, b, sigma, q_mean, q_std, k, n_outer, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n_outer, k, len(m)))
    with np.errstate(divide="ignore"):
        per_set = np.log(np.mean(np.exp(numpy_log_weights(z, x, W, b, sigma, m, s)), axis=1))
    return float(per_set.mean()), float(per_set.std() / np.sqrt(n_outer))
""",
    },
    "fit_posterior": {
        "gradients stopped at the samples (no reparameterisation)": """
def fit_posterior(x, W, b, sigma, steps=500, seed=0):
    d = np.shape(W)[1]
    m, log_s = tf.Variable(tf.zeros(d, tf.float64)), tf.Variable(tf.zeros(d, tf.float64))
    g = tf.random.Generator.from_seed(seed)
    opt = tf.keras.optimizers.Adam(0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            s = tf.exp(log_s)
            z = tf.stop_gradient(m + s * g.normal([256, d], dtype=tf.float64))
            loss = -tf.reduce_mean(log_joint(z, x, W, b, sigma) - tf.reduce_sum(tfd.Normal(m, s).log_prob(z), -1))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))

    for _ in range(2 * steps):
        step()
    return m.numpy(), np.exp(log_s.numpy())
""",
        "returns the variance instead of the standard deviation": """
def fit_posterior(x, W, b, sigma, steps=500, seed=0):
    d = np.shape(W)[1]
    m, log_s = tf.Variable(tf.zeros(d, tf.float64)), tf.Variable(tf.zeros(d, tf.float64))
    g = tf.random.Generator.from_seed(seed)
    opt = tf.keras.optimizers.Adam(0.02)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            s = tf.exp(log_s)
            z = m + s * g.normal([256, d], dtype=tf.float64)
            loss = -tf.reduce_mean(log_joint(z, x, W, b, sigma) - tf.reduce_sum(tfd.Normal(m, s).log_prob(z), -1))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))

    for _ in range(2 * steps):
        step()
    return m.numpy(), np.exp(2 * log_s.numpy())
""",
        "KL(q || p(z)) added instead of subtracted in the loss": """
def fit_posterior(x, W, b, sigma, steps=500, seed=0):
    d = np.shape(W)[1]
    m, log_s = tf.Variable(tf.zeros(d, tf.float64)), tf.Variable(tf.zeros(d, tf.float64))
    g = tf.random.Generator.from_seed(seed)
    opt = tf.keras.optimizers.Adam(0.02)
    prior = tfd.Normal(tf.constant(0.0, tf.float64), 1.0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            s = tf.exp(log_s)
            z = m + s * g.normal([256, d], dtype=tf.float64)
            log_lik = log_joint(z, x, W, b, sigma) - tf.reduce_sum(prior.log_prob(z), -1)
            kl = tf.reduce_sum(tfd.kl_divergence(tfd.Normal(m, s), prior))
            loss = -(tf.reduce_mean(log_lik) + kl)
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))

    for _ in range(2 * steps):
        step()
    return m.numpy(), np.exp(log_s.numpy())
""",
    },
    "gradient_variance": {
        "score function without the log p(x, z) - log q(z) factor": """
def gradient_variance(x, W, b, sigma, q_mean, q_std, n_samples, n_replicates, seed=0):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    z = m + s * np.random.default_rng(seed).normal(size=(n_replicates, n_samples, len(m)))
    precision = np.eye(len(m)) + W.T @ W / sigma**2
    reparam = (W.T @ (x - b) / sigma**2 - z @ precision).mean(axis=1)
    score = ((z - m) / s**2).mean(axis=1)
    return float(reparam.var(axis=0).sum()), float(score.var(axis=0).sum())
""",
        "reparameterised gradient of log p(x | z) only (the prior's -z forgotten)": NUMPY_LOG_WEIGHTS
        + """
def gradient_variance(x, W, b, sigma, q_mean, q_std, n_samples, n_replicates, seed=0):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    z = m + s * np.random.default_rng(seed).normal(size=(n_replicates, n_samples, len(m)))
    reparam = ((x - b - z @ W.T) @ W / sigma**2).mean(axis=1)
    score = (numpy_log_weights(z, x, W, b, sigma, m, s)[..., None] * (z - m) / s**2).mean(axis=1)
    return float(reparam.var(axis=0).sum()), float(score.var(axis=0).sum())
""",
        "standard deviations instead of variances": NUMPY_LOG_WEIGHTS
        + """
def gradient_variance(x, W, b, sigma, q_mean, q_std, n_samples, n_replicates, seed=0):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    z = m + s * np.random.default_rng(seed).normal(size=(n_replicates, n_samples, len(m)))
    precision = np.eye(len(m)) + W.T @ W / sigma**2
    reparam = (W.T @ (x - b) / sigma**2 - z @ precision).mean(axis=1)
    score = (numpy_log_weights(z, x, W, b, sigma, m, s)[..., None] * (z - m) / s**2).mean(axis=1)
    return float(reparam.std(axis=0).sum()), float(score.std(axis=0).sum())
""",
    },
}

CORRECT = {
    "exact_evidence_and_posterior": {
        "NumPy with slogdet and solve": """
def exact_evidence_and_posterior(x, W, b, sigma):
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    D, d = W.shape
    cov_x = W @ W.T + sigma**2 * np.eye(D)
    r = x - b
    log_px = -0.5 * (D * np.log(2 * np.pi) + np.linalg.slogdet(cov_x)[1] + r @ np.linalg.solve(cov_x, r))
    post_cov = np.linalg.inv(np.eye(d) + W.T @ W / sigma**2)
    return log_px, np.linalg.solve(np.eye(d) + W.T @ W / sigma**2, W.T @ r / sigma**2), post_cov
""",
    },
    "elbo_monte_carlo": {
        "NumPy samples, reconstruction + log prior - log q written out": NUMPY_LOG_WEIGHTS
        + """
def elbo_monte_carlo(x, W, b, sigma, q_mean, q_std, n, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n, len(m)))
    values = numpy_log_weights(z, x, W, b, sigma, m, s)
    return values.mean(), values.std(ddof=1) / np.sqrt(n)
""",
    },
    "elbo_analytic": {
        "KL from tfd.kl_divergence, reconstruction from a trace": """
def elbo_analytic(x, W, b, sigma, q_mean, q_std):
    x, W, b, m, s = (tf.constant(np.asarray(v, dtype=np.float64)) for v in (x, W, b, q_mean, q_std))
    D = int(x.shape[0])
    r = x - tf.linalg.matvec(W, m) - b
    trace = tf.linalg.trace(W @ tf.linalg.diag(s**2) @ tf.transpose(W))
    recon = -0.5 * D * np.log(2 * np.pi * sigma**2) - (tf.reduce_sum(r**2) + trace) / (2 * sigma**2)
    kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(m, s), tfd.MultivariateNormalDiag(tf.zeros_like(m), tf.ones_like(s)))
    return recon - kl
""",
    },
    "iwae_bound": {
        "NumPy with a manual max shift": NUMPY_LOG_WEIGHTS
        + """
def iwae_bound(x, W, b, sigma, q_mean, q_std, k, n_outer, seed=0):
    m, s = np.asarray(q_mean, dtype=np.float64), np.asarray(q_std, dtype=np.float64)
    z = m + s * np.random.default_rng(seed).normal(size=(n_outer, k, len(m)))
    log_w = numpy_log_weights(z, x, W, b, sigma, m, s)
    top = log_w.max(axis=1, keepdims=True)
    per_set = np.log(np.mean(np.exp(log_w - top), axis=1)) + top[:, 0]
    return per_set.mean(), per_set.std(ddof=1) / np.sqrt(n_outer)
""",
    },
    "fit_posterior": {
        "MC reconstruction minus the analytic KL, one learning rate, averaged iterates": """
def fit_posterior(x, W, b, sigma, steps=500, seed=0):
    d = np.shape(W)[1]
    m, log_s = tf.Variable(tf.zeros(d, tf.float64)), tf.Variable(tf.zeros(d, tf.float64))
    g = tf.random.Generator.from_seed(seed)
    opt = tf.keras.optimizers.Adam(0.03)
    prior = tfd.Normal(tf.constant(0.0, tf.float64), 1.0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            s = tf.exp(log_s)
            z = m + s * g.normal([128, d], dtype=tf.float64)
            log_lik = log_joint(z, x, W, b, sigma) - tf.reduce_sum(prior.log_prob(z), -1)
            loss = tf.reduce_sum(tfd.kl_divergence(tfd.Normal(m, s), prior)) - tf.reduce_mean(log_lik)
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
        return m.value(), tf.exp(log_s)

    history = [step() for _ in range(2 * steps)]
    tail = history[steps:]
    return np.mean([h[0].numpy() for h in tail], axis=0), np.mean([h[1].numpy() for h in tail], axis=0)
""",
    },
    "gradient_variance": {
        "closed-form per-sample gradients in NumPy": NUMPY_LOG_WEIGHTS
        + """
def gradient_variance(x, W, b, sigma, q_mean, q_std, n_samples, n_replicates, seed=0):
    x, W, b, m, s = (np.asarray(v, dtype=np.float64) for v in (x, W, b, q_mean, q_std))
    z = m + s * np.random.default_rng(seed).normal(size=(n_replicates, n_samples, len(m)))
    precision = np.eye(len(m)) + W.T @ W / sigma**2
    reparam = (W.T @ (x - b) / sigma**2 - z @ precision).mean(axis=1)
    score = (numpy_log_weights(z, x, W, b, sigma, m, s)[..., None] * (z - m) / s**2).mean(axis=1)
    return float(np.var(reparam, axis=0, ddof=1).sum()), float(np.var(score, axis=0, ddof=1).sum())
""",
    },
}
