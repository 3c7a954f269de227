"""Unit 03 (the ELBO, on a Poisson log-normal model): wrong answers that must lose points, correct ones that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cells
named in TESTS for that cell must then lose points, and every other test cell must keep full points.
The code may use the names of the lab's imports cell (keras, np, tf, tfp, tfd).

The lab's model is z ~ N(0, tau^2), x_j | z ~ Poisson(e^z), which the lecture does not show. The lecture's
own versions, adapted to the lab's signatures, are wrong answers here ("pasted the lecture's version: ..."):
its fixed quadrature grid on [-8, 8] without a log-sum-exp shift, its prior N(0, 1), its KL to N(0, I) and
its linear-Gaussian gradient.
"""

from catalogue import Edits

ASSIGNMENT = "lab03_elbo"
edit = Edits(ASSIGNMENT)
TESTS = {  # solution cell -> the test cells that grade it (one property each, the visible tests first)
    "evidence_and_posterior": [
        "test_evidence_and_posterior",
        "test_evidence_and_posterior_random",
        "test_evidence_and_posterior_large_counts",
        "test_evidence_and_posterior_many_counts",
    ],
    "elbo_monte_carlo": [
        "test_elbo_monte_carlo",
        "test_elbo_monte_carlo_random",
        "test_elbo_monte_carlo_seed_and_large_counts",
    ],
    "elbo_analytic": ["test_elbo_analytic", "test_elbo_analytic_random", "test_elbo_analytic_identity"],
    "iwae_bound": ["test_iwae_bound", "test_iwae_bound_increasing", "test_iwae_bound_far_q"],
    "predicted_iwae_gain": "test_predicted_iwae_gain",
    "fit_posterior": ["test_fit_posterior", "test_fit_posterior_optimal"],
    "predicted_elbo_gap": "test_predicted_elbo_gap",
    "gradient_estimates": [
        "test_gradient_estimates",
        "test_gradient_estimates_unbiased",
        "test_gradient_estimates_reparam_variance",
        "test_gradient_estimates_score_variance",
    ],
}

# A correct NumPy log-weight, log p(x, z) - log q(z), for entries that need one (pasted into their code).
NUMPY_LOG_WEIGHTS = """
import math


def numpy_log_weights(z, x, tau, m, s):
    x = np.asarray(x, dtype=np.float64)
    log_lik = x.sum() * z - x.size * np.exp(z) - sum(math.lgamma(v + 1) for v in x)
    log_prior = -0.5 * (z / tau) ** 2 - np.log(tau) - 0.5 * np.log(2 * np.pi)
    log_q = -0.5 * ((z - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)
    return log_lik + log_prior - log_q
"""

# The lecture's section 1: a fixed grid on [-8, 8] and exp(log p(x, z)) summed without a shift.
LECTURE_GRID = """
def evidence_and_posterior(x, tau):
    x = np.asarray(x, dtype=np.float64)
    z_grid = np.linspace(-8, 8, 16_001)
    dz = z_grid[1] - z_grid[0]
    log_joint_grid = (
        tfd.Normal(np.float64(0.0), tau).log_prob(z_grid).numpy()
        + tfd.Poisson(log_rate=z_grid[:, None]).log_prob(x).numpy().sum(-1)
    )
    evidence_quadrature = np.sum(np.exp(log_joint_grid)) * dz
    posterior_grid = np.exp(log_joint_grid) / evidence_quadrature
    grid_mean = np.sum(z_grid * posterior_grid) * dz
    grid_var = np.sum((z_grid - grid_mean) ** 2 * posterior_grid) * dz
    return float(np.log(evidence_quadrature)), float(grid_mean), float(np.sqrt(grid_var))
"""

WRONG = {
    "evidence_and_posterior": {
        "pasted the lecture's version: a fixed grid on [-8, 8], exp(log p(x, z)) without a shift": LECTURE_GRID,
        "tau read as a variance": edit(
            "evidence_and_posterior",
            {
                "0.5 * (z / tau) ** 2": "0.5 * z**2 / tau",
                "np.log(tau * np.sqrt(2 * np.pi))": "np.log(np.sqrt(2 * np.pi * tau))",
            },
        ),
        "the log x_j! terms left out": edit("evidence_and_posterior", {" - log_factorials - ": " - "}),
        "returns the posterior variance instead of the standard deviation": edit(
            "evidence_and_posterior",
            {
                "post_std = np.sqrt(np.sum((grid - post_mean) ** 2 * posterior))": (
                    "post_std = np.sum((grid - post_mean) ** 2 * posterior)"
                )
            },
        ),
        "no log-sum-exp shift (exp underflows for 500 counts)": edit(
            "evidence_and_posterior",
            {
                "weights = np.exp(values - top)": "weights = np.exp(values)",
                "log_px = top + np.log(": "log_px = np.log(",
            },
        ),
        "a fixed coarse grid, np.linspace(-10, 10, 1001)": edit(
            "evidence_and_posterior",
            {
                "grid = np.linspace(inside.min() - 0.005, inside.max() + 0.005, 20_001)": (
                    "grid = np.linspace(-10.0, 10.0, 1001)"
                )
            },
        ),
    },
    "elbo_monte_carlo": {
        "pasted the lecture's version: the prior N(0, 1) (tau ignored)": edit(
            "elbo_monte_carlo",
            {"tfd.Normal(tf.constant(0.0, tf.float64), tau)": "tfd.Normal(tf.constant(0.0, tf.float64), 1.0)"},
        ),
        "entropy term missing (averages log p(x, z) only)": edit(
            "elbo_monte_carlo", {"log_w = log_lik + log_prior - log_q": "log_w = log_lik + log_prior"}
        ),
        "samples drawn from the prior instead of q": edit(
            "elbo_monte_carlo", {"z = q_mean + q_std * eps": "z = tau * eps"}
        ),
        "standard error not divided by sqrt(n)": edit(
            "elbo_monte_carlo", {"float(tf.math.reduce_std(log_w)) / np.sqrt(n)": "float(tf.math.reduce_std(log_w))"}
        ),
        "seed ignored (fresh random numbers on every call)": edit(
            "elbo_monte_carlo",
            {
                "tf.random.stateless_normal([n], seed=[seed, 0], dtype=tf.float64)": (
                    "tf.random.normal([n], dtype=tf.float64)"
                )
            },
        ),
        "z used as the rate instead of the log-rate": edit(
            "elbo_monte_carlo", {"tfd.Poisson(log_rate=z[:, None])": "tfd.Poisson(rate=z[:, None])"}
        ),
    },
    "elbo_analytic": {
        "E_q[e^z] taken as e^m (the s^2 / 2 forgotten)": edit(
            "elbo_analytic", {"expected_rate = tf.exp(m + 0.5 * s**2)": "expected_rate = tf.exp(m)"}
        ),
        "q_std used as the variance": edit(
            "elbo_analytic", {"tf.constant(q_std, tf.float64)": "tf.sqrt(tf.constant(q_std, tf.float64))"}
        ),
        "KL(q || p(z)) added instead of subtracted": edit(
            "elbo_analytic", {"float(expected_log_lik - kl)": "float(expected_log_lik + kl)"}
        ),
        "pasted the lecture's version: the KL to N(0, 1)": edit(
            "elbo_analytic",
            {
                "kl = tf.math.log(tau / s) + (s**2 + m**2) / (2 * tau**2) - 0.5": (
                    "kl = 0.5 * (s**2 + m**2 - 1.0 - tf.math.log(s**2))"
                )
            },
        ),
        "the log x_j! terms left out": edit(
            "elbo_analytic",
            {
                "expected_log_lik = counts.sum() * m - counts.size * expected_rate - log_factorials": (
                    "expected_log_lik = counts.sum() * m - counts.size * expected_rate"
                )
            },
        ),
        # structurally different: a Monte Carlo estimate, not the closed form
        "a Monte Carlo estimate (10,000 samples) instead of the closed form": NUMPY_LOG_WEIGHTS
        + """
def elbo_analytic(x, tau, q_mean, q_std):
    z = q_mean + q_std * np.random.default_rng(0).normal(size=10_000)
    return float(np.mean(numpy_log_weights(z, x, tau, q_mean, q_std)))
""",
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
            {"tf.reduce_logsumexp(log_w, axis=1) - np.log(k)": "tf.math.log(tf.reduce_mean(tf.exp(log_w), axis=1))"},
        ),
        "pasted the lecture's version: the prior N(0, 1) (tau ignored)": edit(
            "iwae_bound",
            {"tfd.Normal(tf.constant(0.0, tf.float64), tau)": "tfd.Normal(tf.constant(0.0, tf.float64), 1.0)"},
        ),
        "standard error of the single log-weights, not of the per-set values": edit(
            "iwae_bound",
            {
                "float(tf.math.reduce_std(per_set)) / np.sqrt(n_outer)": (
                    "float(tf.math.reduce_std(log_w)) / np.sqrt(n_outer)"
                )
            },
        ),
    },
    "fit_posterior": {
        "returns the variance instead of the standard deviation": edit(
            "fit_posterior", {"float(np.exp(log_s))": "float(np.exp(2 * log_s))"}
        ),
        "E_q[e^z] taken as e^m in the objective (s then only sees the KL)": edit(
            "fit_posterior", {"n * tf.exp(m + s * s / 2.0)": "n * tf.exp(m)"}
        ),
        "pasted the lecture's version: the KL to N(0, 1) in the objective": edit(
            "fit_posterior",
            {
                "kl_to_prior = tf.math.log(tau / s) + (s * s + m * m) / (2.0 * tau * tau) - 0.5": (
                    "kl_to_prior = 0.5 * (s * s + m * m - 1.0 - tf.math.log(s * s))"
                )
            },
        ),
        "only the mean optimised (s stays at its start)": edit(
            "fit_posterior",
            {"[tape.gradient(loss, params)]": "[tape.gradient(loss, params) * tf.constant([1.0, 0.0], tf.float64)]"},
        ),
    },
    "gradient_estimates": {
        "score function without the log p(x, z) - log q(z) factor": edit(
            "gradient_estimates", {"tf.stop_gradient(log_w) * (z - m)": "(z - m)"}
        ),
        "score multiplied by log p(x, z) alone (log q(z) left out)": edit(
            "gradient_estimates",
            {
                "tf.stop_gradient(log_w) * (z - m)": (
                    "tf.stop_gradient(log_w + tfd.Normal(m, q_std).log_prob(z)) * (z - m)"
                )
            },
        ),
        # The lecture's W^T (x - b) / sigma^2 - precision z with W = 1, b = 0, sigma = 1 for each count, prior N(0, 1).
        "pasted the lecture's version: the linear-Gaussian gradient sum_j (x_j - z) - z": edit(
            "gradient_estimates",
            {
                "reparam = tape.gradient(objective, m)[:, 0]": (
                    "n = tf.cast(tf.size(counts), tf.float64)\n"
                    "    reparam = tf.reduce_mean(tf.reduce_sum(counts) - (n + 1.0) * z, axis=1)"
                )
            },
        ),
        "reparameterised gradient of log p(x | z) only (the prior's -z / tau^2 forgotten)": edit(
            "gradient_estimates",
            {
                "objective = tf.reduce_sum(tf.reduce_mean(log_w, axis=1))": (
                    "log_prior = tfd.Normal(tf.constant(0.0, tf.float64), tau).log_prob(z)\n"
                    "        objective = tf.reduce_sum(tf.reduce_mean(log_w - log_prior, axis=1))"
                )
            },
        ),
        "the same draws for every replicate": edit(
            "gradient_estimates",
            {
                "tf.random.stateless_normal([n_replicates, n_samples], seed=[seed, 0], dtype=tf.float64)": (
                    "tf.random.stateless_normal([1, n_samples], seed=[seed, 0], dtype=tf.float64)"
                    " * tf.ones([n_replicates, 1], tf.float64)"
                )
            },
        ),
    },
    # "Predict, then run": each entry is the one-line prediction.
    "predicted_iwae_gain": {
        "(b): the narrow q gains more": 'predicted_iwae_gain = "b"\n',
        "(c): both gain about the same": 'predicted_iwae_gain = "C"\n',
    },
    "predicted_elbo_gap": {
        "(a): the best Gaussian is exact, as in the lecture": 'predicted_elbo_gap = "a"\n',
        "(c): more counts, a larger gap": 'predicted_elbo_gap = "c"\n',
    },
}

CORRECT = {
    "evidence_and_posterior": {
        # structurally different: Newton's method for the mode, then a grid of +-20 Laplace standard deviations
        "the mode by Newton's method, a Laplace-scaled grid, np.logaddexp.reduce": """
import math


def evidence_and_posterior(x, tau):
    x = np.asarray(x, dtype=np.float64)
    total, n = x.sum(), x.size
    z = np.log((total + 1.0) / (n + 1.0))
    for _ in range(100):  # Newton on d/dz log p(x, z) = total - n e^z - z / tau^2 (concave)
        z -= (total - n * np.exp(z) - z / tau**2) / (-n * np.exp(z) - 1 / tau**2)
    sd = 1 / np.sqrt(n * np.exp(z) + 1 / tau**2)
    grid = np.linspace(z - 25 * sd, z + 25 * sd, 50_001)
    const = sum(math.lgamma(v + 1) for v in x) + 0.5 * np.log(2 * np.pi * tau**2)
    log_joint = total * grid - n * np.exp(grid) - 0.5 * grid**2 / tau**2 - const
    log_px = np.logaddexp.reduce(log_joint) + np.log(grid[1] - grid[0])
    posterior = np.exp(log_joint - np.logaddexp.reduce(log_joint))
    mean = np.sum(posterior * grid)
    return log_px, mean, np.sqrt(np.sum(posterior * (grid - mean) ** 2))
""",
    },
    "elbo_monte_carlo": {
        # structurally different: NumPy samples and log-densities written out
        "NumPy samples, the log-joint written out, ddof=1": NUMPY_LOG_WEIGHTS
        + """
def elbo_monte_carlo(x, tau, q_mean, q_std, n, seed=0):
    z = q_mean + q_std * np.random.default_rng(seed).normal(size=n)
    values = numpy_log_weights(z, x, tau, q_mean, q_std)
    return values.mean(), values.std(ddof=1) / np.sqrt(n)
""",
    },
    "elbo_analytic": {
        "TFP: the log-normal's mean and tfd.kl_divergence": """
def elbo_analytic(x, tau, q_mean, q_std):
    x = tf.constant(np.asarray(x, dtype=np.float64))
    q = tfd.Normal(tf.constant(q_mean, tf.float64), q_std)
    mean_rate = tfd.LogNormal(q.loc, q.scale).mean()
    n = tf.cast(tf.size(x), tf.float64)
    log_lik = tf.reduce_sum(x) * q.loc - n * mean_rate - tf.reduce_sum(tf.math.lgamma(x + 1))
    return float(log_lik - tfd.kl_divergence(q, tfd.Normal(tf.constant(0.0, tf.float64), tau)))
""",
    },
    "iwae_bound": {
        # structurally different: NumPy, a manual max shift instead of reduce_logsumexp
        "NumPy with a manual max shift": NUMPY_LOG_WEIGHTS
        + """
def iwae_bound(x, tau, q_mean, q_std, k, n_outer, seed=0):
    z = q_mean + q_std * np.random.default_rng(seed).normal(size=(n_outer, k))
    log_w = numpy_log_weights(z, x, tau, q_mean, q_std)
    top = log_w.max(axis=1, keepdims=True)
    per_set = np.log(np.mean(np.exp(log_w - top), axis=1)) + top[:, 0]
    return per_set.mean(), per_set.std(ddof=1) / np.sqrt(n_outer)
""",
    },
    "fit_posterior": {
        # structurally different: a reparameterised Monte Carlo ELBO, a decaying learning rate, averaged iterates
        "reparameterised Monte Carlo ELBO, a decaying learning rate, averaged iterates": """
def fit_posterior(x, tau, steps=1000, seed=0):
    counts = tf.constant(np.asarray(x, dtype=np.float64))
    start = np.log((float(tf.reduce_sum(counts)) + 1.0) / (int(tf.size(counts)) + 1.0))
    m, log_s = tf.Variable(start, dtype=tf.float64), tf.Variable(-1.0, dtype=tf.float64)
    noise = tf.random.Generator.from_seed(seed)
    schedule = keras.optimizers.schedules.PolynomialDecay(0.05, 2 * steps, end_learning_rate=0.0005)
    optimizer = keras.optimizers.Adam(schedule)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            s = tf.exp(log_s)
            z = m + s * noise.normal([256], dtype=tf.float64)
            log_lik = tf.reduce_sum(tfd.Poisson(log_rate=z[:, None]).log_prob(counts), axis=-1)
            log_w = log_lik + tfd.Normal(tf.constant(0.0, tf.float64), tau).log_prob(z) - tfd.Normal(m, s).log_prob(z)
            loss = -tf.reduce_mean(log_w)
        optimizer.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
        return m.value(), log_s.value()

    path = np.array([[float(v) for v in step()] for _ in range(2 * steps)])
    tail = path[3 * len(path) // 4 :]
    return float(tail[:, 0].mean()), float(np.exp(tail[:, 1]).mean())
""",
    },
    "gradient_estimates": {
        # structurally different: the per-sample gradients derived by hand, in NumPy
        "closed-form per-sample gradients in NumPy": NUMPY_LOG_WEIGHTS
        + """
def gradient_estimates(x, tau, q_mean, q_std, n_samples, n_replicates, seed=0):
    x = np.asarray(x, dtype=np.float64)
    z = q_mean + q_std * np.random.default_rng(seed).normal(size=(n_replicates, n_samples))
    reparam = (x.sum() - x.size * np.exp(z) - z / tau**2).mean(axis=1)
    score = (numpy_log_weights(z, x, tau, q_mean, q_std) * (z - q_mean) / q_std**2).mean(axis=1)
    return reparam, score
""",
    },
    "predicted_iwae_gain": {
        "the capital letter": 'predicted_iwae_gain = "A"\n',
        "with spaces around it": 'predicted_iwae_gain = " a "\n',
    },
    "predicted_elbo_gap": {
        "the capital letter": 'predicted_elbo_gap = "B"\n',
        "with spaces around it": 'predicted_elbo_gap = " b "\n',
    },
}
