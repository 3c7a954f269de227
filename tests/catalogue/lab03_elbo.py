"""Unit 03 (the ELBO): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cells
named in TESTS for that cell must then lose points, and every other test cell must keep full points.
The code may use the names of the lab's imports cell (keras, np, tf, tfp, tfd) and the provided model
cell (log_joint).
"""

from catalogue import Edits

ASSIGNMENT = "lab03_elbo"
edit = Edits(ASSIGNMENT)
TESTS = {  # solution cell -> the test cells that grade it (one property each, the visible tests first)
    "exact_evidence_and_posterior": [
        "test_exact_evidence_and_posterior",
        "test_exact_evidence_and_posterior_random_evidence",
        "test_exact_evidence_and_posterior_random_moments",
        "test_exact_evidence_and_posterior_large_values",
    ],
    "elbo_monte_carlo": ["test_elbo_monte_carlo", "test_elbo_monte_carlo_random", "test_elbo_monte_carlo_edge_cases"],
    "elbo_analytic": ["test_elbo_analytic", "test_elbo_analytic_random", "test_elbo_analytic_diagonal_posterior"],
    "iwae_bound": ["test_iwae_bound", "test_iwae_bound_random", "test_iwae_bound_far_q"],
    "fit_posterior": ["test_fit_posterior", "test_fit_posterior_correlated"],
    "gradient_variance": [
        "test_gradient_variance",
        "test_gradient_variance_score_1d",
        "test_gradient_variance_random_reparam",
        "test_gradient_variance_random_score",
    ],
    "predicted_elbo_gap": "test_predicted_elbo_gap",
    "predicted_iwae_gain": "test_predicted_iwae_gain",
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
        "evidence covariance without sigma^2 I": edit(
            "exact_evidence_and_posterior", {" + sigma**2 * tf.eye(D, dtype=tf.float64)\n": "\n"}
        ),
        "posterior precision without the prior's identity term": edit(
            "exact_evidence_and_posterior", {"precision = tf.eye(d, dtype=tf.float64) + ": "precision = "}
        ),
        "sigma read as a variance": edit("exact_evidence_and_posterior", {"sigma**2": "sigma"}, every=True),
        "posterior mean forgets the offset b": edit(
            "exact_evidence_and_posterior", {"matvec(W, x - b, transpose_a=True)": "matvec(W, x, transpose_a=True)"}
        ),
    },
    "elbo_monte_carlo": {
        "entropy term missing (averages log p(x, z) only)": edit(
            "elbo_monte_carlo", {"log_w = log_joint(z, x, W, b, sigma) - log_q": "log_w = log_joint(z, x, W, b, sigma)"}
        ),
        "samples drawn from the prior instead of q": edit("elbo_monte_carlo", {"z = q_mean + q_std * eps": "z = eps"}),
        "standard error not divided by sqrt(n)": edit(
            "elbo_monte_carlo", {"float(tf.math.reduce_std(log_w)) / np.sqrt(n)": "float(tf.math.reduce_std(log_w))"}
        ),
    },
    "elbo_analytic": {
        "KL(q || p(z)) added instead of subtracted": edit(
            "elbo_analytic", {"float(reconstruction - kl)": "float(reconstruction + kl)"}
        ),
        "reconstruction ignores the spread of q (plug-in z = m)": edit(
            "elbo_analytic", {"(tf.reduce_sum(residual**2) + spread)": "tf.reduce_sum(residual**2)"}
        ),
        # kl becomes -E_q[log p(z)], so the answer is E_q[log p(x | z)] + E_q[log p(z)]: the entropy of q is lost.
        "entropy of q missing (E_q[log p(x, z)] alone)": edit(
            "elbo_analytic", {"s**2 + m**2 - 1.0 - tf.math.log(s**2)": "s**2 + m**2 + np.log(2 * np.pi)"}
        ),
    },
    "iwae_bound": {
        "averages the log-weights (that is the ELBO, for every k)": edit(
            "iwae_bound", {"tf.reduce_logsumexp(log_w, axis=1) - np.log(k)": "tf.reduce_mean(log_w, axis=1)"}
        ),
        "log of the sum of the weights (forgets -log k)": edit(
            "iwae_bound", {"tf.reduce_logsumexp(log_w, axis=1) - np.log(k)": "tf.reduce_logsumexp(log_w, axis=1)"}
        ),
        "exponentiates the log-weights directly (underflows far from the posterior)": edit(
            "iwae_bound",
            {"tf.reduce_logsumexp(log_w, axis=1) - np.log(k)": ("tf.math.log(tf.reduce_mean(tf.exp(log_w), axis=1))")},
        ),
    },
    "fit_posterior": {
        "gradients stopped at the samples (no reparameterisation)": edit(
            "fit_posterior", {"z = m + s * eps": "z = tf.stop_gradient(m + s * eps)"}
        ),
        "returns the variance instead of the standard deviation": edit(
            "fit_posterior", {"np.exp(log_s.numpy())": "np.exp(2 * log_s.numpy())"}
        ),
        # The loss in the reconstruction - KL form, with the KL's sign flipped.
        "KL(q || p(z)) added instead of subtracted in the loss": edit(
            "fit_posterior",
            {
                "                loss = -tf.reduce_mean(log_joint(z, x, W, b, sigma) - log_q)\n": (
                    "                prior = tfd.Normal(tf.constant(0.0, tf.float64), 1.0)\n"
                    "                log_lik = log_joint(z, x, W, b, sigma) - tf.reduce_sum(prior.log_prob(z), -1)\n"
                    "                kl = tf.reduce_sum(tfd.kl_divergence(tfd.Normal(m, s), prior))\n"
                    "                loss = -(tf.reduce_mean(log_lik) + kl)\n"
                )
            },
        ),
    },
    "gradient_variance": {
        "score function without the log p(x, z) - log q(z) factor": edit(
            "gradient_variance", {"tf.stop_gradient(log_w)[..., None] * (z - m)": "(z - m)"}
        ),
        # The reparameterised objective drops log p(z), so its gradient is grad_z log p(x | z) alone.
        "reparameterised gradient of log p(x | z) only (the prior's -z forgotten)": edit(
            "gradient_variance",
            {
                "        objective = tf.reduce_sum(tf.reduce_mean(log_w, axis=1))\n": (
                    "        prior = tfd.Normal(tf.constant(0.0, tf.float64), 1.0)\n"
                    "        log_prior = tf.reduce_sum(prior.log_prob(z), axis=-1)\n"
                    "        objective = tf.reduce_sum(tf.reduce_mean(log_w - log_prior, axis=1))\n"
                )
            },
        ),
        "standard deviations instead of variances": edit(
            "gradient_variance", {"tf.math.reduce_variance": "tf.math.reduce_std"}, every=True
        ),
        "score multiplied by log p(x, z) alone (log q(z) left out)": edit(
            "gradient_variance",
            {
                "tf.stop_gradient(log_w)[..., None] * (z - m)": (
                    "tf.stop_gradient(log_joint(z, x, W, b, sigma))[..., None] * (z - m)"
                )
            },
        ),
    },
    # "Predict, then run": each entry is the one-line prediction.
    "predicted_elbo_gap": {
        "0.5: the KL with variance 1 instead of q's 1/2": "predicted_elbo_gap = 0.5\n",
        "2: (difference of means)^2 / v, the 1/2 forgotten": "predicted_elbo_gap = 2.0\n",
        "0: moving the mean of a q of the right shape costs nothing": "predicted_elbo_gap = 0.0\n",
    },
    "predicted_iwae_gain": {
        "(b): the narrow q gains more": 'predicted_iwae_gain = "b"\n',
        "(c): both gain about the same": 'predicted_iwae_gain = "C"\n',
    },
}

CORRECT = {
    "exact_evidence_and_posterior": {
        # structurally different: NumPy throughout, log p(x) from slogdet and solve
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
        # structurally different: NumPy samples and log-densities written out
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
        "KL from tfd.kl_divergence, reconstruction from a trace": edit(
            "elbo_analytic",
            {
                "spread = tf.reduce_sum(W**2 * s**2)  # tr(W diag(s^2) W^T)": (
                    "spread = tf.linalg.trace(W @ tf.linalg.diag(s**2) @ tf.transpose(W))"
                ),
                "kl = 0.5 * tf.reduce_sum(s**2 + m**2 - 1.0 - tf.math.log(s**2))": (
                    "kl = tfd.kl_divergence(\n"
                    "        tfd.MultivariateNormalDiag(m, s),\n"
                    "        tfd.MultivariateNormalDiag(tf.zeros_like(m), tf.ones_like(s)),\n"
                    "    )"
                ),
            },
        ),
    },
    "iwae_bound": {
        # structurally different: NumPy, a manual max shift instead of reduce_logsumexp
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
        # structurally different: one learning-rate stage, the analytic KL, averaged iterates
        "MC reconstruction minus the analytic KL, one learning rate, averaged iterates": """
def fit_posterior(x, W, b, sigma, steps=500, seed=0):
    d = np.shape(W)[1]
    m, log_s = tf.Variable(tf.zeros(d, tf.float64)), tf.Variable(tf.zeros(d, tf.float64))
    g = tf.random.Generator.from_seed(seed)
    opt = keras.optimizers.Adam(0.03)
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
        # structurally different: closed-form gradients in NumPy instead of a GradientTape
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
    "predicted_elbo_gap": {
        "the integer 1": "predicted_elbo_gap = 1\n",
        "as the formula (difference of means)^2 / (2 v)": "predicted_elbo_gap = (2 - 1) ** 2 / (2 * 0.5)\n",
    },
    "predicted_iwae_gain": {
        "the capital letter": 'predicted_iwae_gain = "A"\n',
        "with spaces around it": 'predicted_iwae_gain = " a "\n',
    },
}
