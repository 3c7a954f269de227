"""Unit 08 (priors for VAEs, transferred): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell
named in TESTS must then score 0 (every other test cell must keep full points). The code may use the
names of the lab's imports cell (np, tf, tfp, tfd, config) and the locked encoder cell (make_encoder).
Most entries are edits of the solution (``edit``); full code is kept for answers that are structurally
different. The entries named "pasted the lecture's version" are what a lecture cell gives when adapted to
the exercise's signature.
"""

from catalogue import Edits

ASSIGNMENT = "lab08_priors"
TESTS = {  # solution cell -> the test cell that grades it
    "mixture_log_prob": "test_mixture_log_prob",
    "vamp_log_prob": "test_vamp_log_prob",
    "monte_carlo_kl": "test_monte_carlo_kl",
    "mutual_information": "test_mutual_information",
    "predicted_best_prior": "test_predicted_best_prior",
    "predicted_standard_error": "test_predicted_standard_error",
}

edit = Edits(ASSIGNMENT)

# Lines of the solutions quoted by the edits below.
MIX_RETURN = "return tf.reduce_logsumexp(log_weights[:, None] + log_normal, axis=0)"
MIX_WEIGHTS = "log_weights = tf.nn.log_softmax(tf.convert_to_tensor(logits, tf.float64))"
MIX_LOG_NORMAL = "- half_log_det[:, None] -"
VAMP_RETURN = "return tf.reduce_logsumexp(log_component, axis=-1) - tf.math.log(count)"
VAMP_STANDARDISED = "standardised = (tf.expand_dims(z, -2) - centres) * tf.exp(-log_scales)"
VAMP_COMPONENT = "log_component = tf.reduce_sum(-0.5 * standardised**2 - log_scales - 0.5 * np.log(2 * np.pi), axis=-1)"
KL_RETURN = "return tf.reduce_mean(ratio, axis=0), tf.math.reduce_std(ratio, axis=0) / tf.sqrt(n)"
KL_RATIO = "ratio = log_q - tf.cast(log_prior(z), tf.float32)"
MI_MARGINAL = "log_marginal = top + np.log(np.exp(log_all - top[..., None]).sum(axis=-1)) - np.log(len(mu))"

WRONG = {
    "mixture_log_prob": {
        # structurally different: section 1's equal-weight diagonal mixture, given the diagonal of each L_k
        "pasted the lecture's version: equal weights 1/K and diagonal covariances": """
def mixture_log_prob(z, logits, means, scale_trils):
    z = tf.convert_to_tensor(z, tf.float32)
    means = tf.convert_to_tensor(means, tf.float32)
    log_vars = 2.0 * tf.math.log(tf.linalg.diag_part(tf.convert_to_tensor(scale_trils, tf.float32)))
    per_component = -0.5 * tf.reduce_sum(
        np.log(2 * np.pi) + log_vars + tf.square(z[:, None, :] - means) * tf.exp(-log_vars), axis=-1
    )
    return tf.reduce_logsumexp(per_component, axis=-1) - np.log(means.shape[0])
""",
        "the log of a sum of exps, without the max trick (underflows to -inf far away)": edit(
            "mixture_log_prob",
            {MIX_RETURN: "return tf.math.log(tf.reduce_sum(tf.exp(log_weights[:, None] + log_normal), axis=0))"},
        ),
        "weights not normalised (the logits used as log-weights)": edit(
            "mixture_log_prob", {MIX_WEIGHTS: "log_weights = tf.convert_to_tensor(logits, tf.float64)"}
        ),
        "the log-determinant counted twice (-log det instead of -1/2 log det)": edit(
            "mixture_log_prob", {MIX_LOG_NORMAL: "- 2.0 * half_log_det[:, None] -"}
        ),
        "the log-determinant missing": edit("mixture_log_prob", {MIX_LOG_NORMAL: "-"}),
    },
    "vamp_log_prob": {
        "pasted the lecture's version: the encoder's second output read as a log-variance": edit(
            "vamp_log_prob",
            {
                VAMP_STANDARDISED: "standardised = (tf.expand_dims(z, -2) - centres) * tf.exp(-0.5 * log_scales)",
                VAMP_COMPONENT: VAMP_COMPONENT.replace("- log_scales -", "- 0.5 * log_scales -"),
            },
        ),
        "1/K missing (log-sum-exp without - log K)": edit(
            "vamp_log_prob", {VAMP_RETURN: "return tf.reduce_logsumexp(log_component, axis=-1)"}
        ),
        "mean of the log-densities instead of log-mean-exp": edit(
            "vamp_log_prob", {VAMP_RETURN: "return tf.reduce_mean(log_component, axis=-1)"}
        ),
        # structurally different: one Gaussian with the averaged parameters
        "the components' parameters averaged into one Gaussian": """
def vamp_log_prob(z, pseudo_inputs, encode):
    mean, log_std = encode(pseudo_inputs)
    centre = tf.reduce_mean(mean, axis=0)
    scale = tf.sqrt(tf.reduce_mean(tf.exp(2.0 * log_std), axis=0))
    return tfd.MultivariateNormalDiag(centre, scale).log_prob(tf.convert_to_tensor(z, tf.float32))
""",
        # structurally different: the pseudo-inputs' first d pixels taken as the components' means
        "pseudo-inputs not through the encoder (their first d entries as the means, unit variances)": """
def vamp_log_prob(z, pseudo_inputs, encode):
    z = tf.convert_to_tensor(z, tf.float32)
    d = z.shape[-1]
    centres = tf.convert_to_tensor(pseudo_inputs, tf.float32)[:, :d]
    log_component = tfd.MultivariateNormalDiag(centres, tf.ones_like(centres)).log_prob(tf.expand_dims(z, -2))
    return tf.reduce_logsumexp(log_component, axis=-1) - tf.math.log(float(centres.shape[0]))
""",
    },
    "monte_carlo_kl": {
        # structurally different: lecture 05 / section 2's closed form, with no spread
        "pasted the lecture's version: the closed-form KL to N(0, I), log_prior ignored": """
def monte_carlo_kl(mean, log_var, log_prior, eps):
    mean = tf.convert_to_tensor(mean, tf.float32)
    log_var = tf.convert_to_tensor(log_var, tf.float32)
    kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)
    return kl, tf.zeros_like(kl)
""",
        "pasted the lecture's version: one standard error pooled over the batch": edit(
            "monte_carlo_kl",
            {
                KL_RETURN: "pooled = tf.math.reduce_std(ratio) / tf.sqrt(tf.cast(tf.size(ratio), tf.float32))\n"
                "    return tf.reduce_mean(ratio, axis=0), tf.fill(tf.shape(ratio)[1:], pooled)"
            },
        ),
        "standard error divided by n instead of sqrt(n)": edit("monte_carlo_kl", {"/ tf.sqrt(n)": "/ n"}),
        "the standard deviation returned as the standard error": edit("monte_carlo_kl", {"/ tf.sqrt(n)": ""}),
        "the sign reversed (log p - log q)": edit(
            "monte_carlo_kl", {KL_RATIO: "ratio = tf.cast(log_prior(z), tf.float32) - log_q"}
        ),
        "z not reparameterised: the prior's noise eps used as the sample": edit(
            "monte_carlo_kl", {"z = mean + tf.exp(0.5 * log_var) * eps": "z = eps"}
        ),
    },
    "mutual_information": {
        "log N missing from log q(z)": edit("mutual_information", {" - np.log(len(mu))": ""}),
        "mean of the log-densities instead of log-mean-exp for log q(z)": edit(
            "mutual_information", {MI_MARGINAL: "log_marginal = log_all.mean(axis=-1)"}
        ),
    },
    "predicted_best_prior": {"(a): 0": 'predicted_best_prior = "a"', "(c): log N": 'predicted_best_prior = "c"'},
    "predicted_standard_error": {
        "(b): divided by four": 'predicted_standard_error = "b"',
        "(c): the same": 'predicted_standard_error = "c"',
    },
}

CORRECT = {
    "mixture_log_prob": {
        # structurally different: TFP's mixture distribution
        "tfd.MixtureSameFamily with MultivariateNormalTriL, float32": """
def mixture_log_prob(z, logits, means, scale_trils):
    mixture = tfd.MixtureSameFamily(
        tfd.Categorical(logits=tf.convert_to_tensor(logits, tf.float32)),
        tfd.MultivariateNormalTriL(
            tf.convert_to_tensor(means, tf.float32), tf.convert_to_tensor(scale_trils, tf.float32)
        ),
    )
    return mixture.log_prob(tf.convert_to_tensor(z, tf.float32))
""",
        # structurally different: NumPy, a loop over components, an explicit max shift
        "NumPy, a loop over the components and the max subtracted by hand": """
def mixture_log_prob(z, logits, means, scale_trils):
    z, means, trils = (np.asarray(a, "float64") for a in (z, means, scale_trils))
    logits = np.asarray(logits, "float64")
    log_w = logits - (logits.max() + np.log(np.sum(np.exp(logits - logits.max()))))
    terms = []
    for k in range(len(logits)):
        y = np.linalg.solve(trils[k], (z - means[k]).T)
        log_det = np.sum(np.log(np.diag(trils[k])))
        terms.append(log_w[k] - 0.5 * np.sum(y**2, axis=0) - log_det - 0.5 * z.shape[1] * np.log(2 * np.pi))
    terms = np.stack(terms)
    top = terms.max(axis=0)
    return top + np.log(np.sum(np.exp(terms - top), axis=0))
""",
    },
    "vamp_log_prob": {
        # structurally different: TFP's mixture of the encoder's Gaussians
        "tfd.MixtureSameFamily of the encoder's Gaussians": """
def vamp_log_prob(z, pseudo_inputs, encode):
    mean, log_std = encode(pseudo_inputs)
    mixture = tfd.MixtureSameFamily(
        tfd.Categorical(logits=tf.zeros(tf.shape(mean)[:1])), tfd.MultivariateNormalDiag(mean, tf.exp(log_std))
    )
    return mixture.log_prob(tf.convert_to_tensor(z, tf.float32))
""",
    },
    "monte_carlo_kl": {
        # structurally different: NumPy, TFP for log q, the sample standard deviation with n - 1
        "NumPy with tfd.Normal for log q, ddof = 1": """
def monte_carlo_kl(mean, log_var, log_prior, eps):
    mean, log_var, eps = (np.asarray(a, "float32") for a in (mean, log_var, eps))
    scale = np.exp(0.5 * log_var)
    z = mean + scale * eps
    log_q = np.sum(tfd.Normal(mean, scale).log_prob(z).numpy(), axis=-1)
    ratio = log_q - np.asarray(log_prior(z), "float64")
    return ratio.mean(axis=0), ratio.std(axis=0, ddof=1) / np.sqrt(len(eps))
""",
    },
    "mutual_information": {
        # structurally different: TensorFlow and TFP
        "TFP log-densities and tf.reduce_logsumexp": """
def mutual_information(means, log_vars, eps):
    q = tfd.MultivariateNormalDiag(tf.constant(means, tf.float64), tf.exp(0.5 * tf.constant(log_vars, tf.float64)))
    z = q.loc + q.scale.diag * tf.constant(eps, tf.float64)  # (S, N, d)
    log_all = q.log_prob(z[:, :, None, :])  # (S, N, N)
    log_own = tf.linalg.diag_part(log_all)
    n = tf.cast(tf.shape(log_all)[-1], tf.float64)
    return float(tf.reduce_mean(log_own - tf.reduce_logsumexp(log_all, axis=-1) + tf.math.log(n)))
""",
    },
    "predicted_best_prior": {"the capital letter": 'predicted_best_prior = "B"'},
    "predicted_standard_error": {"with spaces": 'predicted_standard_error = " a "'},
}
