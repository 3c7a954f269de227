"""Unit 07 (hierarchical VAEs, transferred): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell named in TESTS
must then score 0 (every other test cell must keep full points). The code may use the names of the lab's imports
cell (np, tf, tfp, tfd, config) and the provided model cell (LadderVAE3). Most entries are edits of the solution
(``edit``); full code is kept for answers that are structurally different. The entries named "pasted the lecture's
version" are what a lecture cell gives when adapted to the exercise's signature.
"""

from catalogue import Edits

ASSIGNMENT = "lab07_hvae"
TESTS = {  # solution cell -> the test cell that grades it
    "merge_experts": "test_merge_experts",
    "ladder_negative_elbo": "test_ladder_negative_elbo",
    "layer_activity": "test_layer_activity",
    "predicted_merged_variance": "test_predicted_merged_variance",
    "predicted_uninformative_kl": "test_predicted_uninformative_kl",
}

edit = Edits(ASSIGNMENT)

# Lines of the solutions quoted by the edits below.
LOG_VAR = "log_var = -tf.reduce_logsumexp(-log_vars, axis=0)"
WEIGHTS = "weights = tf.nn.softmax(-log_vars, axis=0)"
RETURN_MERGE = "return tf.reduce_sum(weights * tf.convert_to_tensor(means, tf.float32), axis=0), log_var"
MERGE = "mean, log_var = merge_experts(tf.stack([up_mean, prior_mean]), tf.stack([up_log_var, prior_log_var]))"
SAMPLE = "z = mean + tf.exp(0.5 * log_var) * eps[layer - 1]"
KL_LAYER = "kls.insert(0, kl_diag(mean, log_var, prior_mean, prior_log_var))"
RECON = "recon = tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)"
TOP_SAMPLE = "z = mean + tf.exp(0.5 * log_var) * tf.reshape(eps[1], (samples * batch, -1))"
MID_SAMPLE = "z = means[2] + tf.exp(0.5 * log_var) * tf.reshape(eps[0], (samples * batch, -1))"
AVERAGED = (
    "averaged = [tf.reduce_mean(tf.reshape(means[layer], (samples, batch, -1)), axis=0).numpy() for layer in (1, 2, 3)]"
)

WRONG = {
    "merge_experts": {
        # structurally different: the lecture's two-expert function, called with the log-variances as variances
        "pasted the lecture's version: the first two experts, the log-variances read as variances": """
def merge_experts(means, log_vars):
    def precision_weighted(mean_a, var_a, mean_b, var_b):
        precision = 1.0 / var_a + 1.0 / var_b
        var = 1.0 / precision
        return var * (mean_a / var_a + mean_b / var_b), var

    return precision_weighted(means[0], log_vars[0], means[1], log_vars[1])
""",
        "pasted the lecture's version with exp(log_var): only the first two experts": """
def merge_experts(means, log_vars):
    def precision_weighted(mean_a, var_a, mean_b, var_b):
        precision = 1.0 / var_a + 1.0 / var_b
        var = 1.0 / precision
        return var * (mean_a / var_a + mean_b / var_b), var

    mean, var = precision_weighted(means[0], tf.exp(log_vars[0]), means[1], tf.exp(log_vars[1]))
    return mean, tf.math.log(var)
""",
        "the merge with variances instead of precisions (variances added, variance-weighted means)": edit(
            "merge_experts",
            {
                LOG_VAR: "log_var = tf.reduce_logsumexp(log_vars, axis=0)",
                WEIGHTS: "weights = tf.nn.softmax(log_vars, axis=0)",
            },
        ),
        # structurally different: the formula as written, in float32
        "not stabilised: exp(-log_var) overflows float32 for a log-variance of -120": """
def merge_experts(means, log_vars):
    precision = tf.exp(-tf.convert_to_tensor(log_vars, tf.float32))
    var = 1.0 / tf.reduce_sum(precision, axis=0)
    return var * tf.reduce_sum(precision * tf.convert_to_tensor(means, tf.float32), axis=0), tf.math.log(var)
""",
        "returns the variance instead of the log-variance": edit(
            "merge_experts", {RETURN_MERGE: RETURN_MERGE.replace("axis=0), log_var", "axis=0), tf.exp(log_var)")}
        ),
        "plain average of the means (precisions ignored in the mean)": edit(
            "merge_experts", {WEIGHTS: "weights = tf.ones_like(log_vars) / tf.cast(tf.shape(log_vars)[0], tf.float32)"}
        ),
    },
    "ladder_negative_elbo": {
        # structurally different: the lecture's two-layer top-down ELBO, with the third layer ignored
        "pasted the lecture's version: two layers (z3 ignored, z2 from layer 2's data term against N(0, I))": """
def ladder_negative_elbo(model, x, eps):
    def gaussian_kl(mean_q, log_var_q, mean_p, log_var_p):
        q = tfd.MultivariateNormalDiag(mean_q, tf.exp(0.5 * log_var_q))
        p = tfd.MultivariateNormalDiag(mean_p, tf.exp(0.5 * log_var_p))
        return tfd.kl_divergence(q, p)

    data_terms = model.bottom_up(x)
    mean2, log_var2 = data_terms[1]
    z2 = mean2 + tf.exp(0.5 * log_var2) * eps[1]
    kl_top = gaussian_kl(mean2, log_var2, tf.zeros_like(mean2), tf.zeros_like(log_var2))
    mean_p, log_var_p = model.prior(1, z2)
    mean_up, log_var_up = data_terms[0]
    var1 = 1.0 / (tf.exp(-log_var_up) + tf.exp(-log_var_p))
    mean1 = var1 * (mean_up * tf.exp(-log_var_up) + mean_p * tf.exp(-log_var_p))
    z1 = mean1 + tf.sqrt(var1) * eps[0]
    kl_bottom = gaussian_kl(mean1, tf.math.log(var1), mean_p, log_var_p)
    recon = -tf.reduce_sum(tfd.Bernoulli(logits=model.decode(z1), dtype=tf.float32).log_prob(x), axis=-1)
    kl = tf.stack([kl_bottom, kl_top, tf.zeros_like(kl_top)], axis=1)
    return recon + tf.reduce_sum(kl, axis=1), recon, kl
""",
        "the top-layer prior N(0, I) used for the lower layers": edit(
            "ladder_negative_elbo",
            {KL_LAYER: "kls.insert(0, kl_diag(mean, log_var, tf.zeros_like(mean), tf.zeros_like(log_var)))"},
        ),
        "KLs of the wrong layers: the columns top first": edit(
            "ladder_negative_elbo", {KL_LAYER: "kls.append(kl_diag(mean, log_var, prior_mean, prior_log_var))"}
        ),
        "the merge with variances instead of precisions (written inline)": edit(
            "ladder_negative_elbo",
            {
                MERGE: "var = tf.exp(up_log_var) + tf.exp(prior_log_var)\n"
                "        mean = (up_mean * tf.exp(up_log_var) + prior_mean * tf.exp(prior_log_var)) / var\n"
                "        log_var = tf.math.log(var)"
            },
        ),
        "no merge: the data's Gaussian alone as the posterior of layers 1 and 2": edit(
            "ladder_negative_elbo", {MERGE: "mean, log_var = up_mean, up_log_var"}
        ),
        "z1 and z2 sampled from the priors p(z_l | z_{l+1})": edit(
            "ladder_negative_elbo", {SAMPLE: "z = prior_mean + tf.exp(0.5 * prior_log_var) * eps[layer - 1]"}
        ),
        "KL arguments swapped: KL(p || q) for the lower layers": edit(
            "ladder_negative_elbo", {KL_LAYER: "kls.insert(0, kl_diag(prior_mean, prior_log_var, mean, log_var))"}
        ),
        "reconstruction averaged over pixels instead of summed": edit(
            "ladder_negative_elbo", {RECON: RECON.replace("tf.reduce_sum", "tf.reduce_mean")}
        ),
        "variance used as the standard deviation when sampling z1 and z2": edit(
            "ladder_negative_elbo", {SAMPLE: "z = mean + tf.exp(log_var) * eps[layer - 1]"}
        ),
    },
    "layer_activity": {
        # structurally different: lecture 05's unit_activity applied to the data's Gaussians of each layer
        "pasted the lecture's version (unit 05's unit_activity): the variance of the data's bottom-up means": """
def layer_activity(model, x, eps):
    return [np.var(mean.numpy(), axis=0) for mean, _ in model.bottom_up(x)]
""",
        "the layers above plugged in at their means (no sampling)": edit(
            "layer_activity", {TOP_SAMPLE: "z = mean", MID_SAMPLE: "z = means[2]"}
        ),
        "pooled variance over samples and images (no average over the samples first)": edit(
            "layer_activity", {AVERAGED: "averaged = [means[layer].numpy() for layer in (1, 2, 3)]"}
        ),
        "standard deviation instead of variance": edit(
            "layer_activity",
            {"return [np.var(m, axis=0) for m in averaged]": "return [np.std(m, axis=0) for m in averaged]"},
        ),
    },
    "predicted_merged_variance": {
        "the average of the variances": "predicted_merged_variance = 5 / 3",
        "the sum of the variances": "predicted_merged_variance = 5.0",
    },
    "predicted_uninformative_kl": {
        "(c): KLs of layers 1 and 2 large": 'predicted_uninformative_kl = "c"',
        "(b): all KLs zero": 'predicted_uninformative_kl = "b"',
    },
}

CORRECT = {
    "merge_experts": {
        # structurally different: the formula as written, in float64, where exp(120) does not overflow
        "the formula in float64, cast back to float32": """
def merge_experts(means, log_vars):
    log_vars = tf.cast(log_vars, tf.float64)
    precision = tf.exp(-log_vars)
    total = tf.reduce_sum(precision, axis=0)
    mean = tf.reduce_sum(precision * tf.cast(means, tf.float64), axis=0) / total
    return tf.cast(mean, tf.float32), tf.cast(-tf.math.log(total), tf.float32)
""",
        # structurally different: NumPy, the largest precision factored out
        "NumPy, the largest precision factored out": """
def merge_experts(means, log_vars):
    neg = -np.asarray(log_vars, np.float64)
    top = neg.max(axis=0)
    scaled = np.exp(neg - top)
    log_var = -(top + np.log(scaled.sum(axis=0)))
    mean = (scaled * np.asarray(means, np.float64)).sum(axis=0) / scaled.sum(axis=0)
    return tf.constant(mean, tf.float32), tf.constant(log_var, tf.float32)
""",
    },
    "ladder_negative_elbo": {
        # structurally different: TFP distributions, the three layers unrolled, the merge inline
        "TFP distributions, the layers unrolled": """
def ladder_negative_elbo(model, x, eps):
    def normal(mean, log_var):
        return tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var))

    def posterior(layer, z_above):
        prior_mean, prior_log_var = model.prior(layer, z_above)
        up_mean, up_log_var = up[layer - 1]
        log_var = -tf.reduce_logsumexp(tf.stack([-up_log_var, -prior_log_var]), axis=0)
        mean = tf.exp(log_var) * (up_mean * tf.exp(-up_log_var) + prior_mean * tf.exp(-prior_log_var))
        return normal(mean, log_var), normal(prior_mean, prior_log_var), mean, log_var

    up = model.bottom_up(x)
    q3 = normal(*up[2])
    z3 = up[2][0] + tf.exp(0.5 * up[2][1]) * eps[2]
    q2, p2, mean2, log_var2 = posterior(2, z3)
    z2 = mean2 + tf.exp(0.5 * log_var2) * eps[1]
    q1, p1, mean1, log_var1 = posterior(1, z2)
    z1 = mean1 + tf.exp(0.5 * log_var1) * eps[0]
    standard = normal(tf.zeros_like(up[2][0]), tf.zeros_like(up[2][1]))
    kl = tf.stack([tfd.kl_divergence(q1, p1), tfd.kl_divergence(q2, p2), tfd.kl_divergence(q3, standard)], axis=1)
    likelihood = tfd.Independent(tfd.Bernoulli(logits=model.decode(z1), dtype=tf.float32), 1)
    recon = -likelihood.log_prob(x)
    return recon + tf.reduce_sum(kl, axis=1), recon, kl
""",
        "the KL through log-variance differences, the Bernoulli term with sigmoid_cross_entropy": edit(
            "ladder_negative_elbo",
            {
                RECON: "recon = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), -1)",
                "ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) * tf.exp(-log_var_p)": (
                    "ratio = tf.exp(log_var_q - log_var_p) + tf.square(mean_q - mean_p) / tf.exp(log_var_p)"
                ),
            },
        ),
    },
    "layer_activity": {
        # structurally different: a loop over the S samples, the merge inline
        "a loop over the samples, the merge inline": """
def layer_activity(model, x, eps):
    up = model.bottom_up(x)
    sums = {1: 0.0, 2: 0.0}
    samples = int(eps[1].shape[0])
    for s in range(samples):
        z = up[2][0] + tf.exp(0.5 * up[2][1]) * eps[1][s]
        for layer in (2, 1):
            prior_mean, prior_log_var = model.prior(layer, z)
            precision = tf.exp(-up[layer - 1][1]) + tf.exp(-prior_log_var)
            mean = (up[layer - 1][0] * tf.exp(-up[layer - 1][1]) + prior_mean * tf.exp(-prior_log_var)) / precision
            sums[layer] = sums[layer] + mean.numpy()
            if layer == 2:
                z = mean + eps[0][s] / tf.sqrt(precision)
    means = [sums[1] / samples, sums[2] / samples, up[2][0].numpy()]
    return [m.var(axis=0) for m in means]
""",
    },
    "predicted_merged_variance": {"as a fraction": "predicted_merged_variance = 1 / (1 / 2 + 1 / 2 + 1)"},
    "predicted_uninformative_kl": {"the capital letter, with a space": 'predicted_uninformative_kl = "A "'},
}
