"""Unit 02 (KL divergence): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one answer cell (by its nbgrader grade_id) with the code below; TESTS names the test
cell that must then score 0 for a wrong answer (every other test cell must keep full points). Small
mistakes are edits of the solution (``edit``); full code marks an answer built differently.

Other tests read this catalogue: tests/test_faults.py takes the FIRST wrong entry of each exercise and
the correct entry "a plain Python loop over the batch" of kl_bernoulli; tests/test_hardening.py the first
wrong entry of kl_laplace. Keep those first entries wrong answers that score 0 and run without error when
defined. The tests of kl_bernoulli, kl_laplace and kl_mvn make TFP's KL unavailable while they call the
answer, so an answer that calls it (tfd.kl_divergence, a saved reference, the .kl_divergence method) is a
wrong answer here. "Pasted the lecture's version" marks the lecture's own code adapted to the exercise.
"""

from catalogue import Edits

ASSIGNMENT = "lab02_kl"
TESTS = {  # answer cell -> the test cell that grades it
    "kl_bernoulli": "test_kl_bernoulli",
    "kl_laplace": "test_kl_laplace",
    "kl_mvn": "test_kl_mvn",
    "kl_monte_carlo": "test_kl_monte_carlo",
    "fit_gaussian": "test_fit_gaussian",
    # "predict, then run" questions: the answer is the variable the cell is named after
    "predicted_kl_growth": "test_predicted_kl_growth",
    "predicted_swap": "test_predicted_swap",
    "predicted_se_ratio": "test_predicted_se_ratio",
}
edit = Edits(ASSIGNMENT)

BERNOULLI_TERMS = """    one = tf.sigmoid(a) * (tf.math.softplus(-b) - tf.math.softplus(-a))  # the pixel is 1
    zero = tf.sigmoid(-a) * (tf.math.softplus(b) - tf.math.softplus(a))  # the pixel is 0
"""
LOG_DETS = """    log_dets = 2.0 * tf.reduce_sum(
        tf.math.log(tf.linalg.diag_part(chol0)) - tf.math.log(tf.linalg.diag_part(chol1)), axis=-1
    )
"""
MIXTURE_LOG_P = "log_ratio = log_q - tf.reduce_logsumexp(per_component, axis=-1)"

WRONG = {
    "kl_bernoulli": {
        "arguments swapped (computes KL(q||p))": edit(
            "kl_bernoulli", {"def kl_bernoulli(logits_p, logits_q):": "def kl_bernoulli(logits_q, logits_p):"}
        ),
        # structurally different: the lecture's sum p log(p/q), with p = sigmoid(logits) (one outcome per pixel)
        "pasted the lecture's version: sum of p log(p/q) over the pixels (the outcome x = 0 left out)": """
def kl_bernoulli(logits_p, logits_q):
    p = 1 / (1 + np.exp(-np.asarray(logits_p, dtype=np.float64)))
    q = 1 / (1 + np.exp(-np.asarray(logits_q, dtype=np.float64)))
    return np.sum(p * np.log(p / q), axis=-1)
""",
        "probabilities by sigmoid, then their logs (log 0 = -inf at logits of +-40)": edit(
            "kl_bernoulli",
            {
                BERNOULLI_TERMS: "    p, q = tf.sigmoid(a), tf.sigmoid(b)\n"
                "    one = p * (tf.math.log(p) - tf.math.log(q))\n"
                "    zero = (1 - p) * (tf.math.log(1 - p) - tf.math.log(1 - q))\n"
            },
        ),
        "mean over the pixels instead of the sum": edit(
            "kl_bernoulli", {"tf.reduce_sum(one + zero, axis=-1)": "tf.reduce_mean(one + zero, axis=-1)"}
        ),
        "sums over the whole batch instead of the last axis": edit(
            "kl_bernoulli", {"tf.reduce_sum(one + zero, axis=-1)": "tf.reduce_sum(one + zero)"}
        ),
        # structurally different: the logits taken for probabilities (the categorical formula on them)
        "logits read as probabilities": """
def kl_bernoulli(logits_p, logits_q):
    p, q = np.asarray(logits_p, dtype=np.float64), np.asarray(logits_q, dtype=np.float64)
    return np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)), axis=-1)
""",
        # structurally different: TFP's closed form instead of the formula (the tests make it unavailable)
        "calls tfd.kl_divergence": """
def kl_bernoulli(logits_p, logits_q):
    pixels = lambda v: tfd.Independent(tfd.Bernoulli(logits=tf.constant(v, tf.float64)), 1)
    return tfd.kl_divergence(pixels(logits_p), pixels(logits_q))
""",
    },
    "kl_laplace": {
        "arguments swapped (computes KL(q||p))": edit(
            "kl_laplace", {"def kl_laplace(mu0, b0, mu1, b1):": "def kl_laplace(mu1, b1, mu0, b0):"}
        ),
        # structurally different: the lecture's Gaussian closed form with the scales as standard deviations
        "pasted the lecture's version: the Gaussian closed form with sigma = b": """
def kl_laplace(mu0, b0, mu1, b1):
    mu0, b0, mu1, b1 = (np.asarray(v, dtype=np.float64) for v in (mu0, b0, mu1, b1))
    return np.log(b1 / b0) + (b0**2 + (mu0 - mu1) ** 2) / (2 * b1**2) - 0.5
""",
        "E_p|x - mu1| taken as |mu0 - mu1| (the folded-back term missing)": edit(
            "kl_laplace", {"(gap + b0 * tf.exp(-gap / b0)) / b1": "gap / b1"}
        ),
        "no absolute value: mu0 - mu1 with its sign": edit("kl_laplace", {"tf.abs(mu0 - mu1)": "mu0 - mu1"}),
        "missing the -1": edit("kl_laplace", {"tf.math.log(b1 / b0) - 1.0 + ": "tf.math.log(b1 / b0) + "}),
        "q's scale in the exponent: exp(-gap / b1)": edit("kl_laplace", {"tf.exp(-gap / b0)": "tf.exp(-gap / b1)"}),
        # structurally different: Python's math module, scalars only
        "no broadcasting (Python math on scalars only)": """
import math
def kl_laplace(mu0, b0, mu1, b1):
    gap = abs(mu0 - mu1)
    return math.log(b1 / b0) - 1 + (gap + b0 * math.exp(-gap / b0)) / b1
""",
        # structurally different: TFP's closed form (TFP registers one for Laplace) instead of the formula
        "calls tfd.kl_divergence": """
def kl_laplace(mu0, b0, mu1, b1):
    cast = lambda v: tf.constant(v, tf.float64)
    return tfd.kl_divergence(tfd.Laplace(cast(mu0), cast(b0)), tfd.Laplace(cast(mu1), cast(b1)))
""",
    },
    "kl_mvn": {
        "missing the -k term": edit("kl_mvn", {"trace + quadratic - k + log_dets": "trace + quadratic + log_dets"}),
        # structurally different: the lecture's covariance formula, fed the precision matrices
        "pasted the lecture's version: the covariance formula with the precisions as covariances": """
def kl_mvn(mu0, prec0, mu1, prec1):
    mu0, prec0, mu1, prec1 = (np.asarray(v, dtype=np.float64) for v in (mu0, prec0, mu1, prec1))
    prec1_inv = np.linalg.inv(prec1)
    diff = mu1 - mu0
    trace_term = np.trace(prec1_inv @ prec0, axis1=-2, axis2=-1)
    mahalanobis = np.einsum("...i,...ij,...j->...", diff, prec1_inv, diff)
    log_det_ratio = np.linalg.slogdet(prec1)[1] - np.linalg.slogdet(prec0)[1]
    return 0.5 * (trace_term + mahalanobis - mu0.shape[-1] + log_det_ratio)
""",
        "log-determinant ratio as in the covariance form (upside down for precisions)": edit(
            "kl_mvn", {"- k + log_dets": "- k - log_dets"}
        ),
        "quadratic term with p's precision instead of q's": edit(
            "kl_mvn", {"tf.linalg.matmul(chol1, (mu1 - mu0)": "tf.linalg.matmul(chol0, (mu1 - mu0)"}
        ),
        "trace tr(prec0 prec1^-1) instead of tr(prec1 prec0^-1)": edit(
            "kl_mvn",
            {"triangular_solve(chol0, chol1, lower=True)": "triangular_solve(chol1, chol0, lower=True)"},
        ),
        "plain determinants (overflow in 200-D)": edit(
            "kl_mvn", {LOG_DETS: "    log_dets = tf.math.log(tf.linalg.det(prec0) / tf.linalg.det(prec1))\n"}
        ),
        # structurally different: the .kl_divergence method of a TFP distribution instead of the formula
        "calls the .kl_divergence method of a TFP distribution": """
def kl_mvn(mu0, prec0, mu1, prec1):
    gaussian = lambda mu, prec: tfd.MultivariateNormalTriL(
        tf.constant(mu, tf.float64), tf.linalg.cholesky(tf.linalg.inv(tf.constant(prec, tf.float64)))
    )
    return gaussian(mu0, prec0).kl_divergence(gaussian(mu1, prec1))
""",
    },
    "kl_monte_carlo": {
        # structurally different: the lecture's estimate, samples of the first distribution it names (p)
        "pasted the lecture's version: samples of p, log p - log q (the forward KL(p || q))": """
def kl_monte_carlo(m, s, weights, means, stds, n, seed=0):
    p = tfd.MixtureSameFamily(
        tfd.Categorical(probs=tf.constant(weights, tf.float64)),
        tfd.Normal(tf.constant(means, tf.float64), tf.constant(stds, tf.float64)),
    )
    q = tfd.Normal(tf.constant(m, tf.float64), tf.constant(s, tf.float64))
    x = p.sample(n, seed=(seed, 1))
    log_ratio = (p.log_prob(x) - q.log_prob(x)).numpy()
    return log_ratio.mean(), log_ratio.std(ddof=1) / np.sqrt(n)
""",
        "sign flipped (log p - log q, samples of q)": edit(
            "kl_monte_carlo", {"log_ratio = log_q - tf.reduce_logsumexp": "log_ratio = -log_q + tf.reduce_logsumexp"}
        ),
        "log of a sum of densities (no log-sum-exp: -inf far from the components)": edit(
            "kl_monte_carlo",
            {MIXTURE_LOG_P: "log_ratio = log_q - tf.math.log(tf.reduce_sum(tf.exp(per_component), axis=-1))"},
        ),
        "mixture weights left out of log p": edit(
            "kl_monte_carlo", {"tf.math.log(weights) + tfd.Normal": "-np.log(len(weights)) + tfd.Normal"}
        ),
        "stds read as variances": edit(
            "kl_monte_carlo", {"tfd.Normal(means, stds)": "tfd.Normal(means, tf.sqrt(stds))"}
        ),
        "seed ignored (an unseeded NumPy generator)": edit(
            "kl_monte_carlo",
            {
                "eps = tf.random.stateless_normal([n], seed=[seed, 0], dtype=tf.float64)": (
                    "eps = tf.constant(np.random.default_rng().standard_normal(n))"
                )
            },
        ),
        "a fixed seed (the argument never used)": edit(
            "kl_monte_carlo", {"seed=[seed, 0], dtype=tf.float64": "seed=[0, 0], dtype=tf.float64"}
        ),
        "TFP's stateful integer seed (the same seed draws other samples)": edit(
            "kl_monte_carlo",
            {
                "eps = tf.random.stateless_normal([n], seed=[seed, 0], dtype=tf.float64)": (
                    "eps = tfd.Normal(tf.constant(0.0, tf.float64), 1.0).sample(n, seed=seed)"
                )
            },
        ),
        "standard error without dividing by sqrt(n)": edit("kl_monte_carlo", {" / np.sqrt(n))": ")"}),
    },
    "fit_gaussian": {
        "reverse KL without reparameterisation (gradients stopped at the samples)": edit(
            "fit_gaussian", {"z = m + tf.exp(log_s) * eps": "z = tf.stop_gradient(m + tf.exp(log_s) * eps)"}
        ),
        "reverse KL without the E_q[log q] term (q collapses onto the mode)": edit(
            "fit_gaussian",
            {
                "-log_s - 0.5 * tf.square(eps) - tf.cast(log_density(z), tf.float32)": (
                    "-tf.cast(log_density(z), tf.float32)"
                )
            },
        ),
        "returns the variance instead of the standard deviation": edit(
            "fit_gaussian", {"float(np.exp(log_s))": "float(np.exp(2 * log_s))"}
        ),
        "forward: squared error only, s never fitted": edit(
            "fit_gaussian",
            {
                "tf.reduce_mean(log_s + 0.5 * tf.square((x - m) * tf.exp(-log_s)))": (
                    "tf.reduce_mean(0.5 * tf.square(x - m))"
                )
            },
        ),
        # structurally different: the lecture's quadrature fit on its grid; it needs p's density, which the
        # forward direction does not get (only data)
        "pasted the lecture's version: quadrature on a grid from log_density (forward has only data)": """
def fit_gaussian(direction, data=None, log_density=None, steps=500, seed=0):
    x = tf.constant(np.linspace(-40.0, 40.0, 8001), tf.float32)
    dx = float(x[1] - x[0])
    log_p = tf.cast(log_density(x), tf.float32)
    log_p = log_p - tf.reduce_logsumexp(log_p) - np.log(dx)  # normalised on the grid
    p_x = tf.exp(log_p)
    m, log_s = tf.Variable(0.5), tf.Variable(0.0)
    optimizer = keras.optimizers.Adam(learning_rate=0.05)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            log_q = tfd.Normal(m, tf.exp(log_s)).log_prob(x)
            forward = tf.reduce_sum(p_x * (log_p - log_q)) * dx
            reverse = tf.reduce_sum(tf.exp(log_q) * (log_q - log_p)) * dx
            loss = forward if direction == "forward" else reverse
        optimizer.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(log_s).numpy())
""",
    },
    "predicted_kl_growth": {
        "quadratic, as for two Gaussians (a factor of 4)": "predicted_kl_growth = 4",
        "unchanged: the shapes of p and q did not change": "predicted_kl_growth = 1",
        "the square root, as for a standard deviation": "predicted_kl_growth = 2**0.5",
    },
    "predicted_swap": {
        "KL(p||q) larger: the narrow p is the harder one to describe": 'predicted_swap = "a"',
        "equal: the same centre makes the KL symmetric": 'predicted_swap = "b"',
    },
    "predicted_se_ratio": {
        "a quarter: the standard error read as falling like 1/n": "predicted_se_ratio = 0.25",
        "unchanged: the standard error confused with the std of the log-ratios": "predicted_se_ratio = 1",
        "twice: more samples read as more spread": "predicted_se_ratio = 2",
    },
}

CORRECT = {
    "kl_bernoulli": {
        # structurally different: NumPy, the one-pixel KL simplified to p (a - b) + softplus(b) - softplus(a)
        "NumPy: p (a - b) + softplus(b) - softplus(a) with np.logaddexp": """
def kl_bernoulli(logits_p, logits_q):
    a, b = np.asarray(logits_p, dtype=np.float64), np.asarray(logits_q, dtype=np.float64)
    p = np.exp(-np.logaddexp(0.0, -a))
    return np.sum(p * (a - b) + np.logaddexp(0.0, b) - np.logaddexp(0.0, a), axis=-1)
""",
        # structurally different: a Python loop over images and pixels (tests/test_faults.py uses this entry by its key)
        "a plain Python loop over the batch": """
import math
def softplus(t):
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))
def kl_bernoulli(logits_p, logits_q):
    a, b = np.asarray(logits_p, dtype=np.float64), np.asarray(logits_q, dtype=np.float64)
    flat_a, flat_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    out = []
    for row_a, row_b in zip(flat_a, flat_b):
        total = 0.0
        for x, y in zip(row_a, row_b):
            p1 = math.exp(-softplus(-x))
            total += p1 * (softplus(-y) - softplus(-x)) + (1 - p1) * (softplus(y) - softplus(x))
        out.append(total)
    return np.array(out).reshape(a.shape[:-1])
""",
        "float32 arithmetic": edit(
            "kl_bernoulli",
            {
                "a = tf.convert_to_tensor(logits_p, tf.float64)": "a = tf.cast(logits_p, tf.float32)",
                "b = tf.convert_to_tensor(logits_q, tf.float64)": "b = tf.cast(logits_q, tf.float32)",
            },
        ),
    },
    "kl_laplace": {
        # structurally different: NumPy, the log-ratio of the scales as a difference of logs
        "NumPy with log-scales": """
def kl_laplace(mu0, b0, mu1, b1):
    mu0, b0, mu1, b1 = (np.asarray(v, dtype=np.float64) for v in (mu0, b0, mu1, b1))
    gap = np.abs(mu1 - mu0)
    return np.log(b1) - np.log(b0) + gap / b1 + (b0 / b1) * np.exp(-gap / b0) - 1
""",
        "float32 arithmetic": edit(
            "kl_laplace",
            {
                "(tf.convert_to_tensor(v, tf.float64) for v in (mu0, b0, mu1, b1))": (
                    "(tf.cast(v, tf.float32) for v in (mu0, b0, mu1, b1))"
                )
            },
        ),
    },
    "kl_mvn": {
        # structurally different: NumPy, one inverse of each precision and the lecture's covariance formula.
        # TensorFlow-style log lines on stderr (as TF prints them) must not zero a correct answer.
        "NumPy: invert the precisions, then the covariance formula (TensorFlow log noise on stderr)": """
import sys
def kl_mvn(mu0, prec0, mu1, prec1):
    sys.stderr.write("2026-11-21 12:00:00.000001: I tensorflow/core/platform/cpu_feature_guard.cc:210] "
                     "This TensorFlow binary is optimized to use available CPU instructions.\\n")
    sys.stderr.write("W0000 00:00:1700000000.000000    1234 gpu_device.cc:2344] "
                     "Cannot dlopen some GPU libraries.\\n")
    mu0, prec0, mu1, prec1 = (np.asarray(v, dtype=np.float64) for v in (mu0, prec0, mu1, prec1))
    cov0 = np.linalg.inv(prec0)
    d = (mu1 - mu0)[..., None]
    trace = np.trace(prec1 @ cov0, axis1=-2, axis2=-1)
    quad = np.sum(d * (prec1 @ d), axis=(-2, -1))
    return 0.5 * (trace + quad - mu0.shape[-1] + np.linalg.slogdet(prec0)[1] - np.linalg.slogdet(prec1)[1])
""",
    },
    "kl_monte_carlo": {
        # structurally different: NumPy generator, TFP's mixture for log p, the n - 1 standard deviation
        "NumPy generator and TFP's MixtureSameFamily": """
def kl_monte_carlo(m, s, weights, means, stds, n, seed=0):
    z = m + s * np.random.default_rng(seed).standard_normal(n)
    p = tfd.MixtureSameFamily(
        tfd.Categorical(probs=np.asarray(weights, np.float64)),
        tfd.Normal(np.asarray(means, np.float64), np.asarray(stds, np.float64)),
    )
    ratios = tfd.Normal(np.float64(m), np.float64(s)).log_prob(z).numpy() - p.log_prob(z).numpy()
    return ratios.mean(), ratios.std(ddof=1) / np.sqrt(n)
""",
        # structurally different: TFP's sample with a stateless seed pair, NumPy's logaddexp.reduce
        "TFP sample with a stateless seed pair, np.logaddexp.reduce": """
def kl_monte_carlo(m, s, weights, means, stds, n, seed=0):
    q = tfd.Normal(np.float64(m), np.float64(s))
    z = q.sample(n, seed=(seed, 0)).numpy()
    weights, means, stds = (np.asarray(v, np.float64) for v in (weights, means, stds))
    parts = np.log(weights) - 0.5 * ((z[:, None] - means) / stds) ** 2 - np.log(stds * np.sqrt(2 * np.pi))
    ratios = q.log_prob(z).numpy() - np.logaddexp.reduce(parts, axis=1)
    return float(ratios.mean()), float(ratios.std() / np.sqrt(n))
""",
    },
    "fit_gaussian": {
        # structurally different: forward in closed form (moment matching), reverse by SGD in eager mode
        "forward by moment matching, reverse by SGD in eager mode": """
def fit_gaussian(direction, data=None, log_density=None, steps=500, seed=0):
    if direction == "forward":
        x = np.asarray(data, dtype=np.float64)
        return float(x.mean()), float(x.std())
    m, log_s = tf.Variable(0.0), tf.Variable(0.0)
    opt = keras.optimizers.SGD(0.05)
    g = tf.random.Generator.from_seed(seed)
    for _ in range(600):
        with tf.GradientTape() as tape:
            z = m + tf.exp(log_s) * g.normal([256])
            loss = tf.reduce_mean(tfd.Normal(m, tf.exp(log_s)).log_prob(z) - log_density(z))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(log_s).numpy())
""",
        "forward on all the data every step": edit(
            "fit_gaussian",
            {"x = tf.gather(data, noise.uniform([256], maxval=data.shape[0], dtype=tf.int32))": "x = data"},
        ),
    },
    "predicted_kl_growth": {
        "linear: a factor of 2": "predicted_kl_growth = 2",
        "as a float": "predicted_kl_growth = 2.11",
    },
    "predicted_swap": {"the letter in upper case": 'predicted_swap = "C"', "in parentheses": 'predicted_swap = "(c)"'},
    "predicted_se_ratio": {"as a fraction": "predicted_se_ratio = 1 / 2"},
}
