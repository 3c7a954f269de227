"""Unit 02 (KL divergence): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; ``fails`` names
the test cell that must then score 0 (every other test cell must keep full points).
"""

ASSIGNMENT = "lab02_kl"
TESTS = {  # solution cell -> the test cell that grades it
    "kl_categorical": "test_kl_categorical",
    "kl_gaussian": "test_kl_gaussian",
    "kl_mvn": "test_kl_mvn",
    "kl_monte_carlo": "test_kl_monte_carlo",
    "fit_gaussian": "test_fit_gaussian",
}

WRONG = {
    "kl_categorical": {
        "arguments swapped (computes KL(q||p))": """
def kl_categorical(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    return np.sum(q * np.log(q / p), axis=-1)
""",
        "no 0 log 0 convention (NaN where p = 0)": """
def kl_categorical(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    return np.sum(p * np.log(p / q), axis=-1)
""",
        "log base 2 (bits instead of nats)": """
def kl_categorical(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    safe = np.where(p > 0, p, 1.0)
    return np.sum(np.where(p > 0, p * np.log2(safe / q), 0.0), axis=-1)
""",
        "sums over the whole batch instead of the last axis": """
def kl_categorical(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    safe = np.where(p > 0, p, 1.0)
    return np.sum(np.where(p > 0, p * np.log(safe / q), 0.0))
""",
    },
    "kl_gaussian": {
        "missing the -1/2 term": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    mu0, sigma0, mu1, sigma1 = (np.asarray(v, float) for v in (mu0, sigma0, mu1, sigma1))
    return np.log(sigma1 / sigma0) + (sigma0**2 + (mu0 - mu1) ** 2) / (2 * sigma1**2)
""",
        "standard deviations read as variances": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    mu0, var0, mu1, var1 = (np.asarray(v, float) for v in (mu0, sigma0, mu1, sigma1))
    return 0.5 * np.log(var1 / var0) + (var0 + (mu0 - mu1) ** 2) / (2 * var1) - 0.5
""",
        "arguments swapped (computes KL(q||p))": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    mu0, sigma0, mu1, sigma1 = (np.asarray(v, float) for v in (mu0, sigma0, mu1, sigma1))
    return np.log(sigma0 / sigma1) + (sigma1**2 + (mu0 - mu1) ** 2) / (2 * sigma0**2) - 0.5
""",
        "log of the variance ratio without the factor 1/2": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    mu0, sigma0, mu1, sigma1 = (np.asarray(v, float) for v in (mu0, sigma0, mu1, sigma1))
    return np.log(sigma1**2 / sigma0**2) + (sigma0**2 + (mu0 - mu1) ** 2) / (2 * sigma1**2) - 0.5
""",
        "no broadcasting (Python math on scalars only)": """
import math
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    return math.log(sigma1 / sigma0) + (sigma0**2 + (mu0 - mu1) ** 2) / (2 * sigma1**2) - 0.5
""",
    },
    "kl_mvn": {
        "missing the -k term": """
def kl_mvn(mu0, cov0, mu1, cov1):
    mu0, cov0, mu1, cov1 = (np.asarray(v, float) for v in (mu0, cov0, mu1, cov1))
    inv1 = np.linalg.inv(cov1)
    d = (mu1 - mu0)[..., None]
    trace = np.trace(inv1 @ cov0, axis1=-2, axis2=-1)
    quad = (np.swapaxes(d, -1, -2) @ inv1 @ d)[..., 0, 0]
    return 0.5 * (trace + quad + np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1])
""",
        "log-determinant ratio upside down": """
def kl_mvn(mu0, cov0, mu1, cov1):
    mu0, cov0, mu1, cov1 = (np.asarray(v, float) for v in (mu0, cov0, mu1, cov1))
    k = mu0.shape[-1]
    inv1 = np.linalg.inv(cov1)
    d = (mu1 - mu0)[..., None]
    trace = np.trace(inv1 @ cov0, axis1=-2, axis2=-1)
    quad = (np.swapaxes(d, -1, -2) @ inv1 @ d)[..., 0, 0]
    return 0.5 * (trace + quad - k + np.linalg.slogdet(cov0)[1] - np.linalg.slogdet(cov1)[1])
""",
        "inverse of the wrong covariance (Sigma0 instead of Sigma1)": """
def kl_mvn(mu0, cov0, mu1, cov1):
    mu0, cov0, mu1, cov1 = (np.asarray(v, float) for v in (mu0, cov0, mu1, cov1))
    k = mu0.shape[-1]
    inv0 = np.linalg.inv(cov0)
    d = (mu1 - mu0)[..., None]
    trace = np.trace(inv0 @ cov1, axis1=-2, axis2=-1)
    quad = (np.swapaxes(d, -1, -2) @ inv0 @ d)[..., 0, 0]
    return 0.5 * (trace + quad - k + np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1])
""",
        "plain determinants (underflow in high dimension)": """
def kl_mvn(mu0, cov0, mu1, cov1):
    mu0, cov0, mu1, cov1 = (np.asarray(v, float) for v in (mu0, cov0, mu1, cov1))
    k = mu0.shape[-1]
    inv1 = np.linalg.inv(cov1)
    d = (mu1 - mu0)[..., None]
    trace = np.trace(inv1 @ cov0, axis1=-2, axis2=-1)
    quad = (np.swapaxes(d, -1, -2) @ inv1 @ d)[..., 0, 0]
    return 0.5 * (trace + quad - k + np.log(np.linalg.det(cov1) / np.linalg.det(cov0)))
""",
    },
    "kl_monte_carlo": {
        "samples drawn from q instead of p": """
def kl_monte_carlo(p, q, n, seed=0):
    x = q.sample(n, seed=seed)
    r = (p.log_prob(x) - q.log_prob(x)).numpy()
    return float(r.mean()), float(r.std() / np.sqrt(n))
""",
        "sign flipped (log q - log p)": """
def kl_monte_carlo(p, q, n, seed=0):
    x = p.sample(n, seed=seed)
    r = (q.log_prob(x) - p.log_prob(x)).numpy()
    return float(r.mean()), float(r.std() / np.sqrt(n))
""",
        "standard error without dividing by sqrt(n)": """
def kl_monte_carlo(p, q, n, seed=0):
    x = p.sample(n, seed=seed)
    r = (p.log_prob(x) - q.log_prob(x)).numpy()
    return float(r.mean()), float(r.std())
""",
        "sum over samples instead of the mean": """
def kl_monte_carlo(p, q, n, seed=0):
    x = p.sample(n, seed=seed)
    r = (p.log_prob(x) - q.log_prob(x)).numpy()
    return float(r.sum()), float(r.std() / np.sqrt(n))
""",
    },
    "fit_gaussian": {
        "directions swapped": """
def fit_gaussian(p, direction, steps=500, seed=0):
    m, log_s = tf.Variable(0.0), tf.Variable(0.0)
    opt = tf.keras.optimizers.Adam(0.05)
    g = tf.random.Generator.from_seed(seed)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            q = tfd.Normal(m, tf.exp(log_s))
            if direction == "reverse":
                loss = -tf.reduce_mean(q.log_prob(tf.cast(p.sample(256, seed=g.uniform_full_int([2], tf.int32)), tf.float32)))
            else:
                z = m + tf.exp(log_s) * g.normal([256])
                loss = tf.reduce_mean(q.log_prob(z) - p.log_prob(z))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(log_s).numpy())
""",
        "reverse KL without reparameterisation (gradients stopped at the samples)": """
def fit_gaussian(p, direction, steps=500, seed=0):
    m, log_s = tf.Variable(0.0), tf.Variable(0.0)
    opt = tf.keras.optimizers.Adam(0.05)
    g = tf.random.Generator.from_seed(seed)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            q = tfd.Normal(m, tf.exp(log_s))
            if direction == "forward":
                loss = -tf.reduce_mean(q.log_prob(tf.cast(p.sample(256, seed=g.uniform_full_int([2], tf.int32)), tf.float32)))
            else:
                z = tf.stop_gradient(m + tf.exp(log_s) * g.normal([256]))
                loss = tf.reduce_mean(q.log_prob(z) - p.log_prob(z))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(log_s).numpy())
""",
        "returns the variance instead of the standard deviation": """
def fit_gaussian(p, direction, steps=500, seed=0):
    m, log_s = tf.Variable(0.0), tf.Variable(0.0)
    opt = tf.keras.optimizers.Adam(0.05)
    g = tf.random.Generator.from_seed(seed)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            q = tfd.Normal(m, tf.exp(log_s))
            if direction == "forward":
                loss = -tf.reduce_mean(q.log_prob(tf.cast(p.sample(256, seed=g.uniform_full_int([2], tf.int32)), tf.float32)))
            else:
                z = m + tf.exp(log_s) * g.normal([256])
                loss = tf.reduce_mean(q.log_prob(z) - p.log_prob(z))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(2 * log_s).numpy())
""",
    },
}

CORRECT = {
    "kl_categorical": {
        # np.log(q) warns "divide by zero" on stderr where q = 0: a correct answer must not lose points for it.
        "NumPy with np.where (RuntimeWarning on stderr)": """
def kl_categorical(p, q):
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return terms.sum(axis=-1)
""",
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
        "via log-variances": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    mu0, sigma0, mu1, sigma1 = (np.asarray(v, dtype=np.float64) for v in (mu0, sigma0, mu1, sigma1))
    logvar0, logvar1 = 2 * np.log(sigma0), 2 * np.log(sigma1)
    return 0.5 * (logvar1 - logvar0 + np.exp(logvar0 - logvar1) + (mu0 - mu1) ** 2 / np.exp(logvar1) - 1)
""",
        "via TFP distributions": """
def kl_gaussian(mu0, sigma0, mu1, sigma1):
    cast = lambda v: tf.constant(v, tf.float64)
    return tfd.kl_divergence(tfd.Normal(cast(mu0), cast(sigma0)), tfd.Normal(cast(mu1), cast(sigma1)))
""",
    },
    "kl_mvn": {
        # TensorFlow-style log lines on stderr (as TF prints them) must not zero a correct answer.
        "NumPy slogdet and solve (TensorFlow log noise on stderr)": """
import sys
def kl_mvn(mu0, cov0, mu1, cov1):
    sys.stderr.write("2026-11-21 12:00:00.000001: I tensorflow/core/platform/cpu_feature_guard.cc:210] "
                     "This TensorFlow binary is optimized to use available CPU instructions.\\n")
    sys.stderr.write("W0000 00:00:1700000000.000000    1234 gpu_device.cc:2344] Cannot dlopen some GPU libraries.\\n")
    mu0, cov0, mu1, cov1 = (np.asarray(v, dtype=np.float64) for v in (mu0, cov0, mu1, cov1))
    k = mu0.shape[-1]
    trace = np.trace(np.linalg.solve(cov1, cov0), axis1=-2, axis2=-1)
    d = (mu1 - mu0)[..., None]
    quad = np.sum(d * np.linalg.solve(cov1, d), axis=(-2, -1))
    return 0.5 * (trace + quad - k + np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1])
""",
    },
    "kl_monte_carlo": {
        "NumPy after one sample call": """
def kl_monte_carlo(p, q, n, seed=0):
    x = p.sample(n, seed=seed)
    ratios = np.asarray(p.log_prob(x)) - np.asarray(q.log_prob(x))
    return ratios.mean(), ratios.std(ddof=1) / np.sqrt(n)
""",
    },
    "fit_gaussian": {
        "forward by moment matching, reverse by SGD in eager mode": """
def fit_gaussian(p, direction, steps=500, seed=0):
    if direction == "forward":
        x = p.sample(20_000, seed=seed).numpy()
        return float(x.mean()), float(x.std())
    m, log_s = tf.Variable(0.0), tf.Variable(0.0)
    opt = tf.keras.optimizers.SGD(0.05)
    g = tf.random.Generator.from_seed(seed)
    for _ in range(600):
        with tf.GradientTape() as tape:
            z = m + tf.exp(log_s) * g.normal([256])
            loss = tf.reduce_mean(tfd.Normal(m, tf.exp(log_s)).log_prob(z) - p.log_prob(z))
        opt.apply_gradients(zip(tape.gradient(loss, [m, log_s]), [m, log_s]))
    return float(m.numpy()), float(tf.exp(log_s).numpy())
""",
    },
}
