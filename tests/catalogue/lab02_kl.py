"""Unit 02 (KL divergence): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one answer cell (by its nbgrader grade_id) with the code below; TESTS names the test
cell that must then score 0 for a wrong answer (every other test cell must keep full points). Small
mistakes are edits of the solution (``edit``); full code marks an answer built differently.

Other tests read this catalogue: tests/test_faults.py takes the FIRST wrong entry of each exercise and
the correct entry "a plain Python loop over the batch"; tests/test_hardening.py the first wrong entry of
kl_gaussian. Keep those first entries wrong answers that score 0 and run without error when defined.
The tests of kl_categorical, kl_gaussian and kl_mvn make TFP's KL unavailable while they call the
answer, so an answer that calls it (tfd.kl_divergence, a saved reference, the .kl_divergence method)
is a wrong answer here.
"""

from catalogue import Edits

ASSIGNMENT = "lab02_kl"
TESTS = {  # answer cell -> the test cell that grades it
    "kl_categorical": "test_kl_categorical",
    "kl_gaussian": "test_kl_gaussian",
    "kl_mvn": "test_kl_mvn",
    "kl_monte_carlo": "test_kl_monte_carlo",
    "fit_gaussian": "test_fit_gaussian",
    # "predict, then run" questions: the answer is the variable the cell is named after
    "predicted_kl_growth": "test_predicted_kl_growth",
    "predicted_swap": "test_predicted_swap",
    "predicted_se_ratio": "test_predicted_se_ratio",
}
edit = Edits(ASSIGNMENT)

CATEGORICAL_TERMS = "terms = tf.where(p > 0, p * (tf.math.log(safe_p) - tf.math.log(q)), tf.zeros_like(p))"
LOG_DET_RATIO = """    log_det_ratio = 2.0 * tf.reduce_sum(
        tf.math.log(tf.linalg.diag_part(chol1)) - tf.math.log(tf.linalg.diag_part(chol0)), axis=-1
    )
"""

WRONG = {
    "kl_categorical": {
        "arguments swapped (computes KL(q||p))": edit(
            "kl_categorical", {"def kl_categorical(p, q):": "def kl_categorical(q, p):"}
        ),
        "no 0 log 0 convention (NaN where p = 0)": edit(
            "kl_categorical", {CATEGORICAL_TERMS: "terms = p * (tf.math.log(p) - tf.math.log(q))"}
        ),
        "log base 2 (bits instead of nats)": edit(
            "kl_categorical",
            {"(tf.math.log(safe_p) - tf.math.log(q))": "(tf.math.log(safe_p) - tf.math.log(q)) / np.log(2.0)"},
        ),
        "sums over the whole batch instead of the last axis": edit(
            "kl_categorical", {"tf.reduce_sum(terms, axis=-1)": "tf.reduce_sum(terms)"}
        ),
        # structurally different: TFP's closed form instead of the formula (the tests make it unavailable)
        "calls tfd.kl_divergence": """
def kl_categorical(p, q):
    cast = lambda v: tf.constant(v, tf.float64)
    return tfd.kl_divergence(tfd.Categorical(probs=cast(p)), tfd.Categorical(probs=cast(q)))
""",
        # structurally different: a reference to TFP's KL taken when the cell runs, before any test
        "calls tfp.distributions.kl_divergence, saved as a default argument": """
def kl_categorical(p, q, library_kl=tfp.distributions.kl_divergence):
    cast = lambda v: tf.constant(v, tf.float64)
    return library_kl(tfp.distributions.Categorical(probs=cast(p)), tfp.distributions.Categorical(probs=cast(q)))
""",
    },
    "kl_gaussian": {
        "missing the -1/2 term": edit("kl_gaussian", {" - 0.5\n": "\n"}),
        "standard deviations read as variances": edit(
            "kl_gaussian",
            {
                "for v in (mu0, sigma0, mu1, sigma1))\n": "for v in (mu0, sigma0, mu1, sigma1))\n"
                "    sigma0, sigma1 = tf.sqrt(sigma0), tf.sqrt(sigma1)\n"
            },
        ),
        "arguments swapped (computes KL(q||p))": edit(
            "kl_gaussian",
            {"def kl_gaussian(mu0, sigma0, mu1, sigma1):": "def kl_gaussian(mu1, sigma1, mu0, sigma0):"},
        ),
        "log of the variance ratio without the factor 1/2": edit(
            "kl_gaussian", {"tf.math.log(sigma1 / sigma0)": "tf.math.log(sigma1**2 / sigma0**2)"}
        ),
        # structurally different: Python's math module, scalars only
        "no broadcasting (Python math on scalars only)": """
import math
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    return math.log(sigma1 / sigma0) + (sigma0**2 + (mu0 - mu1) ** 2) / (2 * sigma1**2) - 0.5
""",
        # structurally different: TFP's closed form instead of the formula (the tests make it unavailable)
        "calls tfd.kl_divergence": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    cast = lambda v: tf.constant(v, tf.float64)
    return tfd.kl_divergence(tfd.Normal(cast(mu0), cast(sigma0)), tfd.Normal(cast(mu1), cast(sigma1)))
""",
    },
    "kl_mvn": {
        "missing the -k term": edit(
            "kl_mvn", {"trace + mahalanobis - k + log_det_ratio": "trace + mahalanobis + log_det_ratio"}
        ),
        "log-determinant ratio upside down": edit("kl_mvn", {"- k + log_det_ratio": "- k - log_det_ratio"}),
        "inverse of the wrong covariance (Sigma0 instead of Sigma1)": edit(
            "kl_mvn",
            {
                "triangular_solve(chol1, chol0, lower=True)": "triangular_solve(chol0, chol1, lower=True)",
                "triangular_solve(chol1, (mu1 - mu0)": "triangular_solve(chol0, (mu1 - mu0)",
            },
        ),
        "plain determinants (underflow in high dimension)": edit(
            "kl_mvn",
            {LOG_DET_RATIO: "    log_det_ratio = tf.math.log(tf.linalg.det(cov1) / tf.linalg.det(cov0))\n"},
        ),
        # structurally different: the .kl_divergence method of a TFP distribution instead of the formula
        "calls the .kl_divergence method of a TFP distribution": """
def kl_mvn(mu0, cov0, mu1, cov1):
    mu0, cov0, mu1, cov1 = (tf.convert_to_tensor(v, tf.float64) for v in (mu0, cov0, mu1, cov1))
    p = tfd.MultivariateNormalTriL(mu0, tf.linalg.cholesky(cov0))
    return p.kl_divergence(tfd.MultivariateNormalTriL(mu1, tf.linalg.cholesky(cov1)))
""",
    },
    "kl_monte_carlo": {
        "samples drawn from q instead of p": edit(
            "kl_monte_carlo", {"x = p.sample(n, seed=seed)": "x = q.sample(n, seed=seed)"}
        ),
        "sign flipped (log q - log p)": edit(
            "kl_monte_carlo", {"log_ratio = p.log_prob(x) - q.log_prob(x)": "log_ratio = q.log_prob(x) - p.log_prob(x)"}
        ),
        "standard error without dividing by sqrt(n)": edit("kl_monte_carlo", {" / np.sqrt(n)": ""}),
        "sum over samples instead of the mean": edit(
            "kl_monte_carlo", {"tf.reduce_mean(log_ratio)": "tf.reduce_sum(log_ratio)"}
        ),
    },
    "fit_gaussian": {
        "directions swapped": edit("fit_gaussian", {'if direction == "forward":': 'if direction == "reverse":'}),
        "reverse KL without reparameterisation (gradients stopped at the samples)": edit(
            "fit_gaussian",
            {
                "z = m + tf.exp(log_s) * generator.normal([256])": (
                    "z = tf.stop_gradient(m + tf.exp(log_s) * generator.normal([256]))"
                )
            },
        ),
        "returns the variance instead of the standard deviation": edit(
            "fit_gaussian", {"float(tf.exp(log_s).numpy())": "float(tf.exp(2 * log_s).numpy())"}
        ),
    },
    "predicted_kl_growth": {
        "linear in the distance (a factor of 2)": "predicted_kl_growth = 2",
        "unchanged: the shapes of p and q did not change": "predicted_kl_growth = 1",
        "the square root, as for a standard deviation": "predicted_kl_growth = 2**0.5",
    },
    "predicted_swap": {
        "KL(p||q) larger: never symmetric, whatever the pair": 'predicted_swap = "a"',
        "KL(q||p) larger: never symmetric, whatever the pair": 'predicted_swap = "c"',
    },
    "predicted_se_ratio": {
        "a quarter: the standard error read as falling like 1/n": "predicted_se_ratio = 0.25",
        "unchanged: the standard error confused with the std of the log-ratios": "predicted_se_ratio = 1",
        "twice: more samples read as more spread": "predicted_se_ratio = 2",
    },
}

CORRECT = {
    "kl_categorical": {
        # structurally different: NumPy instead of TensorFlow.
        # np.log(q) warns "divide by zero" on stderr where q = 0: a correct answer must not lose points for it.
        "NumPy with np.where (RuntimeWarning on stderr)": """
def kl_categorical(p, q):
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return terms.sum(axis=-1)
""",
        # structurally different: a Python loop over the rows (tests/test_faults.py uses this entry by its key)
        "a plain Python loop over the batch": """
import math
def kl_categorical(p, q):
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    flat_p, flat_q = p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1])
    out = []
    for row_p, row_q in zip(flat_p, flat_q):
        total = 0.0
        for a, b in zip(row_p, row_q):
            if a > 0:
                total += math.inf if b == 0 else a * math.log(a / b)
        out.append(total)
    return np.array(out).reshape(p.shape[:-1])
""",
    },
    "kl_gaussian": {
        # structurally different: NumPy, through log-variances
        "via log-variances": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    mu0, sigma0, mu1, sigma1 = (np.asarray(v, dtype=np.float64) for v in (mu0, sigma0, mu1, sigma1))
    logvar0, logvar1 = 2 * np.log(sigma0), 2 * np.log(sigma1)
    return 0.5 * (logvar1 - logvar0 + np.exp(logvar0 - logvar1) + (mu0 - mu1) ** 2 / np.exp(logvar1) - 1)
""",
    },
    "kl_mvn": {
        # structurally different: NumPy, linear solves instead of Cholesky factors.
        # TensorFlow-style log lines on stderr (as TF prints them) must not zero a correct answer.
        "NumPy slogdet and solve (TensorFlow log noise on stderr)": """
import sys
def kl_mvn(mu0, cov0, mu1, cov1):
    sys.stderr.write("2026-11-21 12:00:00.000001: I tensorflow/core/platform/cpu_feature_guard.cc:210] "
                     "This TensorFlow binary is optimized to use available CPU instructions.\\n")
    sys.stderr.write("W0000 00:00:1700000000.000000    1234 gpu_device.cc:2344] "
                     "Cannot dlopen some GPU libraries.\\n")
    mu0, cov0, mu1, cov1 = (np.asarray(v, dtype=np.float64) for v in (mu0, cov0, mu1, cov1))
    k = mu0.shape[-1]
    trace = np.trace(np.linalg.solve(cov1, cov0), axis1=-2, axis2=-1)
    d = (mu1 - mu0)[..., None]
    quad = np.sum(d * np.linalg.solve(cov1, d), axis=(-2, -1))
    return 0.5 * (trace + quad - k + np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1])
""",
    },
    "kl_monte_carlo": {
        # structurally different: NumPy arrays, the n - 1 standard deviation, NumPy scalars returned
        "NumPy after one sample call": """
def kl_monte_carlo(p, q, n, seed=0):
    x = p.sample(n, seed=seed)
    ratios = np.asarray(p.log_prob(x)) - np.asarray(q.log_prob(x))
    return ratios.mean(), ratios.std(ddof=1) / np.sqrt(n)
""",
    },
    "fit_gaussian": {
        # structurally different: forward in closed form, reverse by SGD in eager mode
        "forward by moment matching, reverse by SGD in eager mode": """
def fit_gaussian(p, direction, steps=500, seed=0):
    if direction == "forward":
        x = p.sample(20_000, seed=seed).numpy()
        return float(x.mean()), float(x.std())
    m, log_s = tf.Variable(0.0), tf.Variable(0.0)
    opt = keras.optimizers.SGD(0.05)
    g = tf.random.Generator.from_seed(seed)
    for _ in range(600):
        with tf.GradientTape() as tape:
            z = m + tf.exp(log_s) * g.normal([256])
            loss = tf.reduce_mean(tfd.Normal(m, tf.exp(log_s)).log_prob(z) - p.log_prob(z))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(log_s).numpy())
""",
    },
    "predicted_kl_growth": {"the same number as a float": "predicted_kl_growth = 4.0"},
    "predicted_swap": {"the letter in upper case": 'predicted_swap = "B"', "in parentheses": 'predicted_swap = "(b)"'},
    "predicted_se_ratio": {"as a fraction": "predicted_se_ratio = 1 / 2"},
}
