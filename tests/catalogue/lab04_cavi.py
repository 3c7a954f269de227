"""Unit 04 (CAVI for a Bayesian GMM): wrong answers that must lose points, correct alternatives that
must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; it must score 0
on the test cell named in TESTS, and every other test cell must keep full points.
"""

from catalogue import Edits

ASSIGNMENT = "lab04_cavi"
edit = Edits(ASSIGNMENT)
TESTS = {  # solution cell -> the test cell that grades it
    "update_assignments": "test_update_assignments",
    "update_means": "test_update_means",
    "elbo": "test_elbo",
    "cavi": "test_cavi",
    "exact_log_evidence": "test_exact_log_evidence",
    "predicted_elbo_decrease": "test_predicted_elbo_decrease",
    "predicted_gap_k4": "test_predicted_gap_k4",
}

WRONG = {
    "update_assignments": {
        "plain softmax without log-sum-exp (inf/inf = NaN for far points)": edit(
            "update_assignments", {"    logits -= logits.max(axis=1, keepdims=True)\n": ""}
        ),
        "forgets s_k^2 (uses E[mu_k^2] = m_k^2)": edit("update_assignments", {"0.5 * (s2 + m**2)": "0.5 * m**2"}),
        "normalises over the data points (columns) instead of the clusters": edit(
            "update_assignments", {"axis=1": "axis=0"}, every=True
        ),
        "drops the factor 1/2 in front of (s_k^2 + m_k^2)": edit(
            "update_assignments", {"0.5 * (s2 + m**2)": "(s2 + m**2)"}
        ),
    },
    "update_means": {
        "no prior term (m_k = weighted average, s_k^2 = 1 / sum phi)": edit(
            "update_means", {"precision = 1.0 / sigma2 + phi.sum(axis=0)": "precision = phi.sum(axis=0)"}
        ),
        "s_k^2 = 1 / sum_i phi_ik (prior precision only in m_k)": edit(
            "update_means", {", 1.0 / precision": ", 1.0 / phi.sum(axis=0)"}
        ),
        "prior precision sigma2 instead of 1/sigma2": edit("update_means", {"1.0 / sigma2 + ": "sigma2 + "}),
        "returns the standard deviation s_k instead of the variance": edit(
            "update_means", {", 1.0 / precision": ", np.sqrt(1.0 / precision)"}
        ),
    },
    "elbo": {
        "missing the entropy of q(c)": edit("elbo", {" + entropy_c + ": " + "}),
        "missing the entropy of q(mu)": edit("elbo", {" + entropy_mu)": ")"}),
        "E[mu_k^2] = m_k^2 in the likelihood term (s_k^2 forgotten)": edit("elbo", {" * m + s2 + m**2": " * m + m**2"}),
        "phi * log(phi) without 0 log 0 = 0 (NaN for hard assignments)": edit(
            "elbo", {"np.log(safe_phi)": "np.log(phi)"}
        ),
        "missing E[log p(c_i)] = -log K": edit("elbo", {" + expected_log_prior_c": ""}),
        "the entropy of q(c) with the wrong sign (+sum phi log phi)": edit(
            "elbo", {"entropy_c = -np.sum(phi * np.log(safe_phi))": "entropy_c = np.sum(phi * np.log(safe_phi))"}
        ),
        "the slides' typo E_q[q] for E_q[log q]: the entropy of q(c) as -sum phi^2": edit(
            "elbo", {"entropy_c = -np.sum(phi * np.log(safe_phi))": "entropy_c = -np.sum(phi * phi)"}
        ),
    },
    "cavi": {
        "never stops early: always runs max_iter iterations (tol ignored)": edit(
            "cavi", {"        if history[-1] - history[-2] < tol:\n            break\n": ""}
        ),
        "history without the ELBO of the starting point": edit(
            "cavi",
            {
                "history = [elbo(x, phi, m, s2, sigma2)]": "history = []",
                "if history[-1] - history[-2] < tol:": "if len(history) > 1 and history[-1] - history[-2] < tol:",
            },
        ),
        "updates the centres first, from the uniform phi (stuck at a symmetric fixed point)": edit(
            "cavi",
            {
                "        phi = update_assignments(x, m, s2)\n        m, s2 = update_means(x, phi, sigma2)\n": (
                    "        m, s2 = update_means(x, phi, sigma2)\n        phi = update_assignments(x, m, s2)\n"
                )
            },
        ),
        "ignores the seed (global, unseeded NumPy random state)": edit(
            "cavi", {"    rng = np.random.default_rng(seed)\n": "", "m, s2 = rng.choice(": "m, s2 = np.random.choice("}
        ),
        "initial means drawn with replacement (two centres can start equal and never separate)": edit(
            "cavi", {"rng.choice(x, K, replace=False), np.ones(K)": "rng.choice(x, K, replace=True), np.ones(K)"}
        ),
        "the lecture's relative stopping rule, improvement < tol * |ELBO|, instead of the absolute tol": edit(
            "cavi", {"if history[-1] - history[-2] < tol:": "if history[-1] - history[-2] < tol * abs(history[-2]):"}
        ),
    },
    "exact_log_evidence": {
        "the lecture's uniform-prior version pasted: ignores the weights and subtracts n log K": edit(
            "exact_log_evidence",
            {
                "log_terms = log_prior + log_lik": "log_terms = log_lik",
                "np.exp(log_terms - top))))": "np.exp(log_terms - top))) - n * np.log(K))",
            },
        ),
        "forgets the prior prod_i pi_{c_i} of the assignments": edit(
            "exact_log_evidence", {"log_terms = log_prior + log_lik": "log_terms = log_lik"}
        ),
        "points independent given c: covariance (1 + sigma2) I instead of I + sigma2 A A^T": edit(
            "exact_log_evidence",
            {
                "cov = np.eye(n) + sigma2 * A @ np.swapaxes(A, 1, 2)": (
                    "cov = (1 + sigma2) * np.broadcast_to(np.eye(n), (len(A), n, n))"
                )
            },
        ),
        "sums the probabilities directly (underflows to log 0 = -inf far from 0)": edit(
            "exact_log_evidence",
            {"top + np.log(np.sum(np.exp(log_terms - top)))": "np.log(np.sum(np.exp(log_terms)))"},
        ),
        "averages log p(x | c) under the prior (the log of an average is not the average of logs)": edit(
            "exact_log_evidence",
            {
                "    top = log_terms.max()\n    return float(top + np.log(np.sum(np.exp(log_terms - top))))": (
                    "    return float(np.sum(np.exp(log_prior) * log_lik))"
                )
            },
        ),
    },
    "predicted_elbo_decrease": {
        "(a): an update can overshoot": 'predicted_elbo_decrease = "a"\n',
        "(b): it can go down while phi is far from its optimum": 'predicted_elbo_decrease = "B"\n',
    },
    "predicted_gap_k4": {
        "0: at the optimum the ELBO equals log p(x)": "predicted_gap_k4 = 0.0\n",
        "log 3! = 1.79, the lecture's gap for K = 3, unchanged": "predicted_gap_k4 = 1.79\n",
        "log K = log 4": "predicted_gap_k4 = 1.386\n",
        "K! = 24 nats (the number of modes, not its log)": "predicted_gap_k4 = 24\n",
        "K log K = 4 log 4": "predicted_gap_k4 = 5.545\n",
    },
}

CORRECT = {
    "predicted_elbo_decrease": {
        "an upper-case letter with spaces": 'predicted_elbo_decrease = " C "\n',
    },
    "predicted_gap_k4": {
        "a rounded number": "predicted_gap_k4 = 3.2\n",
        "log 24 with NumPy": "predicted_gap_k4 = np.log(24)\n",
    },
    "update_assignments": {
        "computed in float32 (the test allows a relative 1e-5)": edit(
            "update_assignments", {"dtype=np.float64": "dtype=np.float32"}
        ),
        # structurally different: a Python loop over the points
        "a loop over the points with a manual max shift": """
import math
def update_assignments(x, m, s2):
    rows = []
    for xi in np.asarray(x, dtype=np.float64):
        logits = [mk * xi - 0.5 * (sk + mk * mk) for mk, sk in zip(np.asarray(m, float), np.asarray(s2, float))]
        top = max(logits)
        weights = [math.exp(v - top) for v in logits]
        total = sum(weights)
        rows.append([w / total for w in weights])
    return np.array(rows)
""",
        # structurally different: TensorFlow throughout, a tensor returned
        "TensorFlow reduce_logsumexp, returning a tensor": """
import tensorflow as tf
def update_assignments(x, m, s2):
    x, m, s2 = (tf.constant(np.asarray(v, dtype=np.float64)) for v in (x, m, s2))
    logits = x[:, None] * m[None, :] - 0.5 * (s2 + m**2)
    return tf.exp(logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True))
""",
    },
    "update_means": {
        "computed in float32 (the test allows a relative 1e-5)": edit(
            "update_means", {"dtype=np.float64": "dtype=np.float32"}, every=True
        ),
        # structurally different: a Python loop over the clusters
        "a loop over the clusters": """
def update_means(x, phi, sigma2):
    x, phi = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    m, s2 = np.zeros(phi.shape[1]), np.zeros(phi.shape[1])
    for k in range(phi.shape[1]):
        s2[k] = 1.0 / (1.0 / sigma2 + np.sum(phi[:, k]))
        m[k] = s2[k] * np.sum(phi[:, k] * x)
    return m, s2
""",
        # structurally different: TensorFlow throughout, tensors returned in a list
        "TensorFlow, returning tensors as a list": """
import tensorflow as tf
def update_means(x, phi, sigma2):
    x, phi = tf.constant(np.asarray(x, dtype=np.float64)), tf.constant(np.asarray(phi, dtype=np.float64))
    precision = 1.0 / sigma2 + tf.reduce_sum(phi, axis=0)
    return [tf.linalg.matvec(phi, x, transpose_a=True) / precision, 1.0 / precision]
""",
    },
    "elbo": {
        # structurally different: the terms from TFP distributions
        "TFP cross-entropy and entropies": """
import tensorflow as tf
import tensorflow_probability as tfp
def elbo(x, phi, m, s2, sigma2):
    d = tfp.distributions
    x, phi, m, s2 = (tf.constant(np.asarray(v, dtype=np.float64)) for v in (x, phi, m, s2))
    n, K = phi.shape
    q_mu = d.Normal(m, tf.sqrt(s2))
    prior = d.Normal(tf.constant(0.0, tf.float64), tf.sqrt(tf.constant(sigma2, tf.float64)))
    lik = tf.reduce_sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * ((x[:, None] - m) ** 2 + s2)))
    value = (-tf.reduce_sum(q_mu.cross_entropy(prior)) - n * np.log(K) + lik
             + tf.reduce_sum(d.Categorical(probs=phi).entropy()) + tf.reduce_sum(q_mu.entropy()))
    return float(value)
""",
        # structurally different: Python loops, the KL form
        "the KL form, E[log p(x, c | mu)] + H[q(c)] - KL(q(mu) || p(mu)), with Python loops": """
import math
def elbo(x, phi, m, s2, sigma2):
    x, phi, m, s2 = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2))
    n, K = phi.shape
    total = 0.0
    for i in range(n):
        for k in range(K):
            if phi[i, k] > 0:
                e_log_lik = -0.5 * math.log(2 * math.pi) - 0.5 * ((x[i] - m[k]) ** 2 + s2[k])
                total += phi[i, k] * (e_log_lik - math.log(K) - math.log(phi[i, k]))
    for k in range(K):
        total -= 0.5 * (s2[k] / sigma2 + m[k] ** 2 / sigma2 - 1 + math.log(sigma2 / s2[k]))
    return total
""",
    },
    "cavi": {
        # structurally different: the updates and the ELBO inline, a while loop
        "its own inline updates, history as a list": """
def cavi(x, K, sigma2, max_iter=100, tol=1e-8, seed=0):
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    m = rng.choice(x, K, replace=False)
    s2 = np.ones(K)
    phi = np.full((len(x), K), 1.0 / K)

    def bound(phi, m, s2):
        ent_c = -np.sum(np.where(phi > 0, phi * np.log(np.where(phi > 0, phi, 1.0)), 0.0))
        return (np.sum(-0.5 * np.log(2 * np.pi * sigma2) - (s2 + m**2) / (2 * sigma2)) - len(x) * np.log(K)
                + np.sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * ((x[:, None] - m) ** 2 + s2)))
                + ent_c + np.sum(0.5 * np.log(2 * np.pi * np.e * s2)))

    history = [bound(phi, m, s2)]
    iteration = 0
    while iteration < max_iter:
        logits = np.outer(x, m) - 0.5 * (s2 + m**2)
        phi = np.exp(logits - logits.max(axis=1, keepdims=True))
        phi /= phi.sum(axis=1, keepdims=True)
        s2 = 1.0 / (1.0 / sigma2 + phi.sum(axis=0))
        m = s2 * (phi.T @ x)
        history.append(bound(phi, m, s2))
        iteration += 1
        if history[-1] - history[-2] < tol:
            break
    return phi, m, s2, history
""",
        # structurally different: a while loop on the improvement
        "calls the helpers, stops with a while loop on the improvement": """
def cavi(x, K, sigma2, max_iter=100, tol=1e-8, seed=0):
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    m, s2, phi = rng.choice(x, K, replace=False), np.ones(K), np.full((len(x), K), 1.0 / K)
    history = [elbo(x, phi, m, s2, sigma2)]
    improvement = np.inf
    while len(history) <= max_iter and improvement >= tol:
        phi = update_assignments(x, m, s2)
        m, s2 = update_means(x, phi, sigma2)
        history.append(elbo(x, phi, m, s2, sigma2))
        improvement = history[-1] - history[-2]
    return np.asarray(phi), np.asarray(m), np.asarray(s2), np.array(history)
""",
    },
    "exact_log_evidence": {
        # structurally different: a loop over assignments, determinants in closed form
        "a loop over assignments, cluster by cluster (Sherman-Morrison), np.logaddexp": """
import math
def exact_log_evidence(x, weights, sigma2):
    x = np.asarray(x, dtype=np.float64)
    n, K = len(x), len(weights)
    total = -np.inf
    for c in itertools.product(range(K), repeat=n):
        c = np.array(c)
        log_term = sum(math.log(weights[k]) for k in c) - 0.5 * n * math.log(2 * math.pi)
        for k in range(K):
            xk = x[c == k]
            nk = len(xk)
            # N(xk; 0, I + sigma2 1 1^T): det = 1 + nk sigma2, inverse by Sherman-Morrison.
            log_term -= 0.5 * (math.log1p(nk * sigma2) + xk @ xk - sigma2 * xk.sum() ** 2 / (1 + nk * sigma2))
        total = np.logaddexp(total, log_term)
    return float(total)
""",
        # structurally different: TFP distributions and tf.reduce_logsumexp
        "TFP MultivariateNormalTriL on a batch of covariances, a Categorical prior, tf.reduce_logsumexp": """
import tensorflow as tf
import tensorflow_probability as tfp
def exact_log_evidence(x, weights, sigma2):
    x = tf.constant(np.asarray(x, dtype=np.float64))
    n, K = int(x.shape[0]), len(weights)
    assignments = tf.constant(list(itertools.product(range(K), repeat=n)))
    A = tf.one_hot(assignments, K, dtype=tf.float64)
    cov = tf.eye(n, dtype=tf.float64) + sigma2 * tf.matmul(A, A, transpose_b=True)
    mvn = tfp.distributions.MultivariateNormalTriL(tf.zeros(n, tf.float64), tf.linalg.cholesky(cov))
    prior = tfp.distributions.Categorical(probs=tf.constant(np.asarray(weights, dtype=np.float64)))
    log_prior = tf.reduce_sum(prior.log_prob(assignments), axis=1)
    return float(tf.reduce_logsumexp(log_prior + mvn.log_prob(x)))
""",
    },
}
