"""Unit 04 (CAVI for a Bayesian GMM in D dimensions, observation variance tau2, known unequal weights): wrong
answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; it must score 0
on the test cell named in TESTS, and every other test cell must keep full points. The lecture's own versions
(1-D, unit observation variance, equal weights), adapted to the lab's signatures, are wrong answers here.
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
        "pasted the lecture's version: logits x.m_k - (s2_k + ||m_k||^2)/2 (no log pi_k, no 1/tau2, no D)": """
def update_assignments(x, m, s2, weights, tau2):
    x, m, s2 = (np.asarray(v, dtype=np.float64) for v in (x, m, s2))
    logits = x @ m.T - 0.5 * (s2 + np.sum(m**2, axis=1))
    phi = np.exp(logits - logits.max(axis=1, keepdims=True))
    return phi / phi.sum(axis=1, keepdims=True)
""",
        "ignores the weights (no log pi_k in the logits)": edit(
            "update_assignments", {"np.log(np.array(weights, dtype=np.float64)) + ": ""}
        ),
        "forgets the factor D: E||mu_k||^2 = s2_k + ||m_k||^2": edit(
            "update_assignments", {"points.shape[1] * np.array(s2": "np.array(s2"}
        ),
        "ignores tau2 (the lecture's unit observation variance)": edit(
            "update_assignments", {"expected_fit / tau2": "expected_fit"}
        ),
        "plain softmax without log-sum-exp (inf/inf = NaN for far points)": edit(
            "update_assignments",
            {
                "    log_normaliser = np.logaddexp.reduce(scores, axis=1)  # stable: log-sum-exp over the clusters\n"
                "    return np.exp(scores - log_normaliser[:, None])\n": (
                    "    return np.exp(scores) / np.exp(scores).sum(axis=1)[:, None]\n"
                )
            },
        ),
        "adds pi_k instead of log pi_k to the logits": edit(
            "update_assignments",
            {"np.log(np.array(weights, dtype=np.float64))": "np.array(weights, dtype=np.float64)"},
        ),
        "divides by tau2 squared (tau2 taken for a standard deviation)": edit(
            "update_assignments", {"expected_fit / tau2": "expected_fit / tau2**2"}
        ),
        "normalises over the data points (columns) instead of the clusters": edit(
            "update_assignments",
            {
                "np.logaddexp.reduce(scores, axis=1)": "np.logaddexp.reduce(scores, axis=0)",
                "log_normaliser[:, None]": "log_normaliser[None, :]",
            },
        ),
    },
    "update_means": {
        "pasted the lecture's version: precision 1/sigma2 + sum_i phi_ik, mean sum_i phi_ik x_i / precision": """
def update_means(x, phi, sigma2, tau2):
    x, phi = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    precision = 1.0 / sigma2 + phi.sum(axis=0)
    return phi.T @ x / precision[:, None], 1.0 / precision
""",
        "the precision is right but the mean lacks 1/tau2": edit(
            "update_means", {"(variances / tau2)[:, None]": "variances[:, None]"}
        ),
        "returns the standard deviation s_k instead of the variance": edit(
            "update_means", {"return centres, variances": "return centres, np.sqrt(variances)"}
        ),
        "prior precision sigma2 instead of 1/sigma2": edit(
            "update_means", {"1.0 / (1.0 / sigma2 + counts / tau2)": "1.0 / (sigma2 + counts / tau2)"}
        ),
        "no prior term (m_k = the cluster's weighted average; an empty cluster divides by 0)": edit(
            "update_means", {"1.0 / (1.0 / sigma2 + counts / tau2)": "1.0 / (counts / tau2)"}
        ),
        "each point brings precision tau2 instead of 1/tau2": edit(
            "update_means", {"1.0 / sigma2 + counts / tau2": "1.0 / sigma2 + counts * tau2"}
        ),
    },
    "elbo": {
        "pasted the lecture's version: 1-D constants, unit variance, -n log K, no factor D": """
def elbo(x, phi, m, s2, weights, sigma2, tau2):
    x, phi, m, s2 = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2))
    n, K = phi.shape
    expected_log_prior_mu = np.sum(-0.5 * np.log(2 * np.pi * sigma2) - (s2 + np.sum(m**2, axis=1)) / (2 * sigma2))
    expected_sq = np.sum((x[:, None, :] - m) ** 2, axis=2) + s2
    expected_log_lik = np.sum(phi * (-0.5 * np.log(2 * np.pi) - 0.5 * expected_sq))
    entropy_c = -np.sum(phi * np.log(np.where(phi > 0, phi, 1.0)))
    entropy_mu = np.sum(0.5 * np.log(2 * np.pi * np.e * s2))
    return float(expected_log_prior_mu - n * np.log(K) + expected_log_lik + entropy_c + entropy_mu)
""",
        "ignores the weights: E[log p(c_i)] = -log K": edit(
            "elbo", {"log_prior_labels = np.sum(phi @ log_w)": "log_prior_labels = -len(x) * math.log(len(log_w))"}
        ),
        "the entropy of q(mu) without its factor D": edit(
            "elbo",
            {"centres_entropy = 0.5 * dims * np.sum(": "centres_entropy = 0.5 * np.sum("},
        ),
        "E||mu_k||^2 = s2_k + ||m_k||^2 in the prior term (factor D forgotten)": edit(
            "elbo", {"mean_sq_mu = dims * s2 + ": "mean_sq_mu = s2 + "}
        ),
        "E||x_i - mu_k||^2 = ||x_i - m_k||^2 + s2_k in the likelihood (factor D forgotten)": edit(
            "elbo", {"+ dims * s2  # E_q ||x_i - mu_k||^2": "+ s2  # E_q ||x_i - mu_k||^2"}
        ),
        "the likelihood's normaliser -D/2 log(2 pi), without tau2": edit(
            "elbo", {"math.log(2 * math.pi * tau2)": "math.log(2 * math.pi)"}
        ),
        "phi * log(phi) without 0 log 0 = 0 (NaN for hard assignments)": edit(
            "elbo", {"np.log(np.where(phi > 0, phi, 1.0))": "np.log(phi)"}
        ),
        "missing the entropy of q(c)": edit("elbo", {" + labels_entropy + ": " + "}),
        "normalising constants -1/2 log(2 pi v) instead of -D/2 log(2 pi v)": edit(
            "elbo",
            {
                "-0.5 * dims * math.log(2 * math.pi * sigma2)": "-0.5 * math.log(2 * math.pi * sigma2)",
                "-0.5 * dims * math.log(2 * math.pi * tau2)": "-0.5 * math.log(2 * math.pi * tau2)",
            },
        ),
    },
    "cavi": {
        "never stops early: always runs max_iter iterations (tol ignored)": edit(
            "cavi", {"        if trace[-1] - trace[-2] < tol:\n            break\n": ""}
        ),
        "history without the ELBO of the starting point": edit(
            "cavi",
            {
                "trace = [elbo(x, resp, centres, variances, weights, sigma2, tau2)]": "trace = []",
                "while len(trace) <= max_iter:": "while len(trace) < max_iter:",
                "if trace[-1] - trace[-2] < tol:": "if len(trace) > 1 and trace[-1] - trace[-2] < tol:",
            },
        ),
        "updates the centres first, from phi = the weights": edit(
            "cavi",
            {
                "        resp = update_assignments(x, centres, variances, weights, tau2)\n"
                "        centres, variances = update_means(x, resp, sigma2, tau2)\n": (
                    "        centres, variances = update_means(x, resp, sigma2, tau2)\n"
                    "        resp = update_assignments(x, centres, variances, weights, tau2)\n"
                )
            },
        ),
        "ignores the seed (an unseeded generator)": edit(
            "cavi", {"rng = np.random.default_rng(seed)": "rng = np.random.default_rng()"}
        ),
        "initial means drawn with replacement (two centres can start equal and never separate)": edit(
            "cavi", {"len(weights), replace=False)": "len(weights), replace=True)"}
        ),
        "pasted the lecture's stopping rule, improvement < tol * |ELBO|, instead of the absolute tol": edit(
            "cavi", {"if trace[-1] - trace[-2] < tol:": "if trace[-1] - trace[-2] < tol * abs(trace[-2]):"}
        ),
        "phi starts at 1/K (the lecture's start) instead of the weights": edit(
            "cavi",
            {"np.tile(weights, (len(x), 1))": "np.full((len(x), len(weights)), 1.0 / len(weights))"},
        ),
    },
    "exact_log_evidence": {
        "pasted the lecture's version: unit observation variance and -n log K for every assignment": edit(
            "exact_log_evidence",
            {
                "    n, dims = x.shape\n": "    n, dims = x.shape\n    tau2 = 1.0\n",
                "log_pi[labels].sum(axis=1) - 0.5 *": "-n * math.log(len(log_pi)) - 0.5 *",
            },
        ),
        "ignores tau2 (unit observation variance)": edit(
            "exact_log_evidence",
            {"    x = np.asarray(x, dtype=np.float64)\n": "    x = np.asarray(x, dtype=np.float64)\n    tau2 = 1.0\n"},
        ),
        # structurally different: one log-sum-exp over the assignments for each coordinate, then a sum over d
        "sums over the assignments separately for each coordinate (the coordinates share c)": """
def exact_log_evidence(x, weights, sigma2, tau2):
    x = np.asarray(x, dtype=np.float64)
    log_pi = np.log(np.asarray(weights, dtype=np.float64))
    n, dims = x.shape
    total = 0.0
    for d in range(dims):
        terms = []
        for c in itertools.product(range(len(log_pi)), repeat=n):
            A = np.eye(len(log_pi))[list(c)]
            cov = tau2 * np.eye(n) + sigma2 * A @ A.T
            _, logdet = np.linalg.slogdet(cov)
            col = x[:, d]
            quad = col @ np.linalg.solve(cov, col)
            terms.append(log_pi[list(c)].sum() - 0.5 * (n * math.log(2 * math.pi) + logdet + quad))
        terms = np.array(terms)
        total += terms.max() + math.log(np.exp(terms - terms.max()).sum())
    return float(total)
""",
        "forgets the prior prod_i pi_{c_i} of the assignments": edit(
            "exact_log_evidence", {"log_pi[labels].sum(axis=1) - 0.5 *": "-0.5 *"}
        ),
        "ignores the weights: -n log K for every assignment (tau2 right)": edit(
            "exact_log_evidence", {"log_pi[labels].sum(axis=1) - 0.5 *": "-n * math.log(len(log_pi)) - 0.5 *"}
        ),
        "sums the probabilities directly (underflows to log 0 far from 0)": edit(
            "exact_log_evidence", {"peak = log_terms.max()": "peak = 0.0"}
        ),
        "averages the log-terms (the log of a sum is not the mean of the logs)": edit(
            "exact_log_evidence",
            {
                "    peak = log_terms.max()\n    return float(peak + math.log(np.exp(log_terms - peak).sum()))": (
                    "    return float(np.mean(log_terms))"
                )
            },
        ),
    },
    "predicted_elbo_decrease": {
        "(a): an update can overshoot": 'predicted_elbo_decrease = "a"\n',
        "(b): it can go down while phi is far from its optimum": 'predicted_elbo_decrease = "B"\n',
    },
    "predicted_gap_k4": {
        "0: unequal weights break the label symmetry, so the posterior has one mode": "predicted_gap_k4 = 0.0\n",
        "log 3! = 1.79, the lecture's gap for K = 3, unchanged": "predicted_gap_k4 = 1.79\n",
        "log K = log 4": "predicted_gap_k4 = 1.386\n",
        "K! = 24 nats (the number of modes, not its log)": "predicted_gap_k4 = 24\n",
        "-log 0.4: the share of the heaviest cluster": "predicted_gap_k4 = 0.916\n",
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
            "update_assignments", {"dtype=np.float64": "dtype=np.float32"}, every=True
        ),
        # structurally different: a Python loop over the points, squared distances
        "a loop over the points, log pi_k - E||x_i - mu_k||^2 / (2 tau2), a manual max shift": """
import math
def update_assignments(x, m, s2, weights, tau2):
    x, m, s2 = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64), np.asarray(s2, dtype=np.float64)
    rows = []
    for xi in x:
        logits = [math.log(w) - (np.sum((xi - mk) ** 2) + len(xi) * sk) / (2 * tau2)
                  for w, mk, sk in zip(weights, m, s2)]
        top = max(logits)
        e = [math.exp(v - top) for v in logits]
        rows.append([v / sum(e) for v in e])
    return np.array(rows)
""",
        # structurally different: TensorFlow throughout, a tensor returned
        "TensorFlow log_softmax, returning a tensor": """
import tensorflow as tf
def update_assignments(x, m, s2, weights, tau2):
    x, m, s2, w = (tf.constant(np.asarray(v, dtype=np.float64)) for v in (x, m, s2, weights))
    dims = tf.cast(tf.shape(x)[1], tf.float64)
    logits = tf.math.log(w) + (tf.matmul(x, m, transpose_b=True) - 0.5 * (dims * s2 + tf.reduce_sum(m**2, 1))) / tau2
    return tf.exp(tf.nn.log_softmax(logits, axis=1))
""",
    },
    "update_means": {
        "computed in float32 (the test allows a relative 1e-5)": edit(
            "update_means", {"dtype=np.float64": "dtype=np.float32"}, every=True
        ),
        # structurally different: a Python loop over the clusters, natural parameters
        "a loop over the clusters via the natural parameters (b_k, a_k)": """
def update_means(x, phi, sigma2, tau2):
    x, phi = np.asarray(x, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    K, D = phi.shape[1], x.shape[1]
    m, s2 = np.zeros((K, D)), np.zeros(K)
    for k in range(K):
        a = 1.0 / sigma2 + phi[:, k].sum() / tau2
        b = (phi[:, k][:, None] * x).sum(axis=0) / tau2
        m[k], s2[k] = b / a, 1.0 / a
    return m, s2
""",
        # structurally different: TensorFlow throughout, tensors returned in a list
        "TensorFlow, returning tensors as a list": """
import tensorflow as tf
def update_means(x, phi, sigma2, tau2):
    x, phi = tf.constant(np.asarray(x, dtype=np.float64)), tf.constant(np.asarray(phi, dtype=np.float64))
    precision = 1.0 / sigma2 + tf.reduce_sum(phi, axis=0) / tau2
    return [tf.matmul(phi, x, transpose_a=True) / (tau2 * precision[:, None]), 1.0 / precision]
""",
    },
    "elbo": {
        # structurally different: the terms from TFP distributions
        "TFP cross-entropies and entropies": """
import tensorflow as tf
import tensorflow_probability as tfp
def elbo(x, phi, m, s2, weights, sigma2, tau2):
    d = tfp.distributions
    x, phi, m, s2, w = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2, weights))
    D = x.shape[1]
    q_mu = d.MultivariateNormalDiag(m, np.sqrt(s2)[:, None] * np.ones(D))
    prior = d.MultivariateNormalDiag(np.zeros(D), np.sqrt(sigma2) * np.ones(D))
    q_ik = d.MultivariateNormalDiag(m[None], np.sqrt(s2)[None, :, None] * np.ones(D))
    lik_ik = d.MultivariateNormalDiag(x[:, None, :], np.sqrt(tau2) * np.ones(D))
    value = (-tf.reduce_sum(q_mu.cross_entropy(prior)) + np.sum(phi * np.log(w))
             - tf.reduce_sum(phi * q_ik.cross_entropy(lik_ik)) + tf.reduce_sum(q_mu.entropy())
             - np.sum(phi * np.log(np.where(phi > 0, phi, 1.0))))
    return float(value)
""",
        # structurally different: Python loops, the KL form
        "the KL form, E[log p(x, c | mu)] + H[q(c)] - KL(q(mu) || p(mu)), with Python loops": """
import math
def elbo(x, phi, m, s2, weights, sigma2, tau2):
    x, phi, m, s2 = (np.asarray(v, dtype=np.float64) for v in (x, phi, m, s2))
    (n, D), K = x.shape, phi.shape[1]
    total = 0.0
    for i in range(n):
        for k in range(K):
            if phi[i, k] > 0:
                sq = np.sum((x[i] - m[k]) ** 2) + D * s2[k]
                e_log_lik = -0.5 * D * math.log(2 * math.pi * tau2) - sq / (2 * tau2)
                total += phi[i, k] * (e_log_lik + math.log(weights[k]) - math.log(phi[i, k]))
    for k in range(K):
        total -= 0.5 * (D * s2[k] / sigma2 + np.sum(m[k] ** 2) / sigma2 - D + D * math.log(sigma2 / s2[k]))
    return total
""",
    },
    "cavi": {
        # structurally different: the updates and the ELBO inline, a for loop
        "its own inline updates, history as a list": """
def cavi(x, weights, sigma2, tau2, max_iter=100, tol=1e-8, seed=0):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    (n, D), K = x.shape, len(w)
    rng = np.random.default_rng(seed)
    m = rng.choice(x, K, replace=False)  # rows of x; the same draw as x[rng.choice(n, K, replace=False)]
    s2 = np.ones(K)
    phi = np.tile(w, (n, 1))

    def bound(phi, m, s2):
        sq = np.sum((x[:, None, :] - m) ** 2, axis=2) + D * s2
        ent_c = -np.sum(np.where(phi > 0, phi * np.log(np.where(phi > 0, phi, 1.0)), 0.0))
        return (np.sum(-0.5 * D * np.log(2 * np.pi * sigma2) - (D * s2 + np.sum(m**2, 1)) / (2 * sigma2))
                + np.sum(phi * np.log(w)) + np.sum(phi * (-0.5 * D * np.log(2 * np.pi * tau2) - sq / (2 * tau2)))
                + ent_c + np.sum(0.5 * D * np.log(2 * np.pi * np.e * s2)))

    history = [bound(phi, m, s2)]
    for _ in range(max_iter):
        logits = np.log(w) - (np.sum((x[:, None, :] - m) ** 2, axis=2) + D * s2) / (2 * tau2)
        phi = np.exp(logits - logits.max(axis=1, keepdims=True))
        phi /= phi.sum(axis=1, keepdims=True)
        s2 = 1.0 / (1.0 / sigma2 + phi.sum(axis=0) / tau2)
        m = s2[:, None] * (phi.T @ x) / tau2
        history.append(bound(phi, m, s2))
        if history[-1] - history[-2] < tol:
            break
    return phi, m, s2, history
""",
        # structurally different: a while loop on the improvement
        "calls the helpers, stops with a while loop on the improvement": """
def cavi(x, weights, sigma2, tau2, max_iter=100, tol=1e-8, seed=0):
    x = np.asarray(x, dtype=np.float64)
    K = len(weights)
    rng = np.random.default_rng(seed)
    m, s2, phi = x[rng.choice(len(x), K, replace=False)], np.ones(K), np.tile(np.asarray(weights, float), (len(x), 1))
    history = [elbo(x, phi, m, s2, weights, sigma2, tau2)]
    improvement = np.inf
    while len(history) <= max_iter and improvement >= tol:
        phi = update_assignments(x, m, s2, weights, tau2)
        m, s2 = update_means(x, phi, sigma2, tau2)
        history.append(elbo(x, phi, m, s2, weights, sigma2, tau2))
        improvement = history[-1] - history[-2]
    return np.asarray(phi), np.asarray(m), np.asarray(s2), np.array(history)
""",
    },
    "exact_log_evidence": {
        # structurally different: a loop over assignments, cluster by cluster (Sherman-Morrison), np.logaddexp
        "a loop over assignments, cluster by cluster and coordinate by coordinate, np.logaddexp": """
import math
def exact_log_evidence(x, weights, sigma2, tau2):
    x = np.asarray(x, dtype=np.float64)
    n, D = x.shape
    total = -np.inf
    for c in itertools.product(range(len(weights)), repeat=n):
        c = np.array(c)
        log_term = sum(math.log(weights[k]) for k in c) - 0.5 * n * D * math.log(2 * math.pi)
        for k in range(len(weights)):
            xk = x[c == k]
            nk = len(xk)
            for d in range(D):
                col = xk[:, d]
                # N(col; 0, tau2 I + sigma2 1 1^T): det = tau2^nk (1 + nk sigma2 / tau2), Sherman-Morrison inverse.
                log_term -= 0.5 * (nk * math.log(tau2) + math.log1p(nk * sigma2 / tau2)
                                   + (col @ col - sigma2 * col.sum() ** 2 / (tau2 + nk * sigma2)) / tau2)
        total = np.logaddexp(total, log_term)
    return float(total)
""",
        # structurally different: TFP distributions on the flattened data and tf.reduce_logsumexp
        "TFP MultivariateNormalTriL on the Kronecker covariance of vec(x), a Categorical prior, reduce_logsumexp": """
import tensorflow as tf
import tensorflow_probability as tfp
def exact_log_evidence(x, weights, sigma2, tau2):
    x = np.asarray(x, dtype=np.float64)
    n, D = x.shape
    K = len(weights)
    assignments = np.array(list(itertools.product(range(K), repeat=n)))
    A = np.eye(K)[assignments]
    cov = np.kron(tau2 * np.eye(n) + sigma2 * A @ np.swapaxes(A, 1, 2), np.eye(D))  # rows of x stacked
    mvn = tfp.distributions.MultivariateNormalTriL(np.zeros(n * D), np.linalg.cholesky(cov))
    prior = tfp.distributions.Categorical(probs=np.asarray(weights, dtype=np.float64))
    log_prior = tf.reduce_sum(prior.log_prob(assignments), axis=1)
    return float(tf.reduce_logsumexp(log_prior + mvn.log_prob(x.reshape(-1))))
""",
    },
}
