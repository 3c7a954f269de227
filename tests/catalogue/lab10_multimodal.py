"""Unit 10 (multimodal VAEs, transferred): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cell named in TESTS
must then score 0 (every other test cell must keep full points). The code may use the names of the lab's imports
cell (np, tf, tfp, tfd, config). Most entries are edits of the solution (``edit``); full code is kept for answers
that are structurally different. The entries named "pasted the lecture's version" are what a lecture cell gives
when adapted to the exercise's signature.
"""

from catalogue import Edits

ASSIGNMENT = "lab10_multimodal"
TESTS = {  # solution cell -> the test cell that grades it
    "product_of_experts": "test_product_of_experts",
    "moe_log_prob": "test_moe_log_prob",
    "moe_elbo": "test_moe_elbo",
    "coherence": "test_coherence",
    "predicted_poe_conflict": "test_predicted_poe_conflict",
    "predicted_entropy_gain": "test_predicted_entropy_gain",
}

edit = Edits(ASSIGNMENT)

# Lines of the solutions quoted by the edits below.
OBSERVED = "observed = tf.cast(mask, tf.bool)[:, :, None]"
NEG_LOG_VARS = "tf.where(observed, -log_vars, -np.inf)"
WITH_PRIOR = (
    "neg_log_vars = tf.concat([tf.where(observed, -log_vars, -np.inf), tf.zeros_like(log_vars[:, :1])], axis=1)"
)
MEANS_WITH_PRIOR = "all_means = tf.concat([tf.where(observed, means, 0.0), tf.zeros_like(means[:, :1])], axis=1)"
RETURN_POE = "return tf.reduce_sum(weights * all_means, axis=1), -tf.reduce_logsumexp(neg_log_vars, axis=1)"
SQUARED = "squared = tf.square(z - tf.convert_to_tensor(means, tf.float32)) * tf.exp(-log_vars)"
LOG_NORMAL = "log_normal = -0.5 * tf.reduce_sum(squared + log_vars + np.log(2 * np.pi), axis=-1)"
LOG_WEIGHTS = "log_weights = tf.math.log(mask / tf.reduce_sum(mask, axis=1, keepdims=True))"
RETURN_MOE = "return tf.reduce_logsumexp(log_normal + log_weights, axis=-1)"
CODES = "codes = means + tf.exp(0.5 * log_vars) * tf.convert_to_tensor(eps, tf.float32)"
TERM = "per_expert.append(tf.reduce_mean(log_joint(z) - moe_log_prob(z, means, log_vars, mask), axis=0))"
MASK_ELBO = "mask = tf.cast(mask, tf.float32)"
RETURN_ELBO = "return tf.reduce_sum(per_expert, axis=1) / tf.reduce_sum(mask, axis=1)"
STANDARD_ERROR = "float(np.sqrt(rate * (1.0 - rate) / len(hits)))"

WRONG = {
    "product_of_experts": {
        # structurally different: the lecture's product_of_gaussians over every expert and the prior
        "pasted the lecture's version: every expert and the prior multiplied, the mask ignored": """
def product_of_experts(means, log_vars, mask):
    def product_of_gaussians(experts):
        precision = sum(1.0 / var for _, var in experts)
        return sum(mean / var for mean, var in experts) / precision, 1.0 / precision

    means = tf.convert_to_tensor(means, tf.float32)
    variances = tf.exp(tf.convert_to_tensor(log_vars, tf.float32))
    experts = [(tf.zeros_like(means[:, 0]), tf.ones_like(means[:, 0]))]
    experts += [(means[:, m], variances[:, m]) for m in range(means.shape[1])]
    mean, var = product_of_gaussians(experts)
    return mean, tf.math.log(var)
""",
        # structurally different: the lecture's formula with the mask in the precisions, in float32
        "pasted the lecture's version with the mask in the precisions: exp(100) overflows float32": """
def product_of_experts(means, log_vars, mask):
    precision = tf.cast(mask, tf.float32)[:, :, None] * tf.exp(-tf.convert_to_tensor(log_vars, tf.float32))
    total = 1.0 + tf.reduce_sum(precision, axis=1)
    mean = tf.reduce_sum(precision * tf.convert_to_tensor(means, tf.float32), axis=1) / total
    return mean, -tf.math.log(total)
""",
        "the variances multiplied (log-variances added) instead of the precisions added": edit(
            "product_of_experts",
            {
                RETURN_POE: "return tf.reduce_sum(weights * all_means, axis=1), "
                "-tf.reduce_sum(tf.where(tf.math.is_inf(neg_log_vars), 0.0, neg_log_vars), axis=1)"
            },
        ),
        "the prior expert left out": edit(
            "product_of_experts",
            {
                WITH_PRIOR: f"neg_log_vars = {NEG_LOG_VARS}",
                MEANS_WITH_PRIOR: "all_means = tf.where(observed, means, 0.0)",
            },
        ),
        "the mask ignored": edit("product_of_experts", {OBSERVED: "observed = tf.ones_like(means, tf.bool)"}),
        "the mask applied to the means only: a missing expert's precision still counts": edit(
            "product_of_experts", {NEG_LOG_VARS: "-log_vars"}
        ),
        "returns the variance instead of the log-variance": edit(
            "product_of_experts",
            {RETURN_POE: RETURN_POE.replace("-tf.reduce_logsumexp(", "tf.exp(-tf.reduce_logsumexp(") + ")"},
        ),
    },
    "moe_log_prob": {
        # structurally different: the lecture model's posterior, equal weights over every expert
        "pasted the lecture's version: tfd.MixtureSameFamily with equal weights over all M experts": """
def moe_log_prob(z, means, log_vars, mask):
    means = tf.convert_to_tensor(means, tf.float32)
    mixture = tfd.MixtureSameFamily(
        tfd.Categorical(logits=tf.zeros(tf.shape(means)[:-1])),
        tfd.MultivariateNormalDiag(means, tf.exp(tf.convert_to_tensor(log_vars, tf.float32) / 2)),
    )
    return mixture.log_prob(tf.convert_to_tensor(z, tf.float32))
""",
        "the weights not normalised (log mask)": edit("moe_log_prob", {LOG_WEIGHTS: "log_weights = tf.math.log(mask)"}),
        "the weights 1 / M over all experts, not over the observed ones": edit(
            "moe_log_prob", {LOG_WEIGHTS: "log_weights = tf.math.log(mask / mask.shape[1])"}
        ),
        "not stabilised: the log of a sum of densities underflows far from the experts": edit(
            "moe_log_prob",
            {RETURN_MOE: "return tf.math.log(tf.reduce_sum(tf.exp(log_normal + log_weights), axis=-1))"},
        ),
        "the log-variance read as a log standard deviation": edit(
            "moe_log_prob",
            {
                SQUARED: SQUARED.replace("tf.exp(-log_vars)", "tf.exp(-2.0 * log_vars)"),
                LOG_NORMAL: LOG_NORMAL.replace("squared + log_vars", "squared + 2.0 * log_vars"),
            },
        ),
        "the Gaussian's normalising constant left out": edit(
            "moe_log_prob", {LOG_NORMAL: LOG_NORMAL.replace(" + np.log(2 * np.pi)", "")}
        ),
    },
    "moe_elbo": {
        # structurally different: the lecture's ELBO, one sample from each of the first two experts, weights 1/2
        "pasted the lecture's version: one sample from each of two experts, weights 1/2, the mask ignored": """
def moe_elbo(log_joint, means, log_vars, mask, eps):
    means = tf.convert_to_tensor(means, tf.float32)
    log_vars = tf.convert_to_tensor(log_vars, tf.float32)
    eps = tf.convert_to_tensor(eps, tf.float32)
    everyone = tf.ones_like(tf.cast(mask, tf.float32))
    terms = []
    for m in range(2):
        z = (means[:, m] + tf.exp(0.5 * log_vars[:, m]) * eps[0, :, m])[None]
        terms.append(log_joint(z)[0] - moe_log_prob(z, means, log_vars, everyone)[0])
    return 0.5 * tf.add_n(terms)
""",
        "log q of the sampling expert instead of the mixture's": edit(
            "moe_elbo",
            {
                TERM: TERM.replace(
                    "moe_log_prob(z, means, log_vars, mask)",
                    "moe_log_prob(z, means[:, m : m + 1], log_vars[:, m : m + 1], tf.ones_like(mask[:, :1]))",
                )
            },
        ),
        "the mask ignored (every expert sampled and mixed)": edit(
            "moe_elbo", {MASK_ELBO: "mask = tf.ones_like(tf.cast(mask, tf.float32))"}
        ),
        "the variance used as the standard deviation when sampling": edit(
            "moe_elbo", {CODES: CODES.replace("tf.exp(0.5 * log_vars)", "tf.exp(log_vars)")}
        ),
        "the K samples summed instead of averaged": edit(
            "moe_elbo", {TERM: TERM.replace("tf.reduce_mean(", "tf.reduce_sum(")}
        ),
        "no entropy term: only log p(observed, z) averaged": edit(
            "moe_elbo", {TERM: TERM.replace(" - moe_log_prob(z, means, log_vars, mask)", "")}
        ),
        "the experts' terms summed, not averaged (weights not normalised)": edit(
            "moe_elbo", {RETURN_ELBO: "return tf.reduce_sum(per_expert, axis=1)"}
        ),
    },
    "coherence": {
        "the standard error without dividing by N": edit(
            "coherence", {STANDARD_ERROR: "float(np.sqrt(rate * (1.0 - rate)))"}
        ),
        "0 instead of NaN for a class never requested": edit("coherence", {"else np.nan": "else 0.0"}),
        # structurally different: grouped by the judged class (a precision, not a recall)
        "per-class rates grouped by the judged class, not the requested one": """
def coherence(judge_logits, labels, num_classes):
    labels = np.asarray(labels)
    judged = np.argmax(np.asarray(judge_logits), axis=1)
    hits = judged == labels
    rate = float(hits.mean())
    per_class = np.array([hits[judged == c].mean() if np.any(judged == c) else np.nan for c in range(num_classes)])
    return rate, float(np.sqrt(rate * (1 - rate) / len(hits))), per_class
""",
        # structurally different: each class's hits over all N
        "per-class hits divided by all N images": """
def coherence(judge_logits, labels, num_classes):
    labels = np.asarray(labels)
    hits = np.argmax(np.asarray(judge_logits), axis=1) == labels
    rate = float(hits.mean())
    per_class = np.array([np.sum(hits & (labels == c)) / len(hits) for c in range(num_classes)])
    per_class[[not np.any(labels == c) for c in range(num_classes)]] = np.nan
    return rate, float(np.sqrt(rate * (1 - rate) / len(hits))), per_class
""",
        # structurally different: the class-balanced average as the rate
        "the rate as the average of the per-class rates": """
def coherence(judge_logits, labels, num_classes):
    labels = np.asarray(labels)
    hits = np.argmax(np.asarray(judge_logits), axis=1) == labels
    per_class = np.array([hits[labels == c].mean() if np.any(labels == c) else np.nan for c in range(num_classes)])
    rate = float(np.nanmean(per_class))
    return rate, float(np.sqrt(rate * (1 - rate) / len(hits))), per_class
""",
    },
    "predicted_poe_conflict": {
        "(b): two bumps, as a mixture": 'predicted_poe_conflict = "b"',
        "(c): one wide bump": 'predicted_poe_conflict = "c"',
    },
    "predicted_entropy_gain": {
        "no gain": "predicted_entropy_gain = 0.0",
        "one bit counted as one nat": "predicted_entropy_gain = 1.0",
    },
}

CORRECT = {
    "product_of_experts": {
        # structurally different: the formula as written, in float64, where exp(100) does not overflow
        "the formula in float64 with the mask in the precisions, cast back to float32": """
def product_of_experts(means, log_vars, mask):
    precision = tf.cast(mask, tf.float64)[:, :, None] * tf.exp(-tf.cast(log_vars, tf.float64))
    total = 1.0 + tf.reduce_sum(precision, axis=1)
    mean = tf.reduce_sum(precision * tf.cast(means, tf.float64), axis=1) / total
    return tf.cast(mean, tf.float32), tf.cast(-tf.math.log(total), tf.float32)
""",
        # structurally different: NumPy, the largest precision factored out, a loop over the examples
        "NumPy, one example at a time, the largest precision factored out": """
def product_of_experts(means, log_vars, mask):
    means, log_vars, mask = (np.asarray(a, np.float64) for a in (means, log_vars, mask))
    out_mean, out_log_var = [], []
    for b in range(len(means)):
        keep = mask[b] > 0
        neg = np.concatenate([-log_vars[b][keep], np.zeros((1, means.shape[2]))])
        mus = np.concatenate([means[b][keep], np.zeros((1, means.shape[2]))])
        top = neg.max(axis=0)
        scaled = np.exp(neg - top)
        out_log_var.append(-(top + np.log(scaled.sum(axis=0))))
        out_mean.append((scaled * mus).sum(axis=0) / scaled.sum(axis=0))
    return tf.constant(np.array(out_mean), tf.float32), tf.constant(np.array(out_log_var), tf.float32)
""",
    },
    "moe_log_prob": {
        # structurally different: TFP densities per expert, missing ones replaced by -inf
        "TFP densities per expert, -inf for the missing ones": """
def moe_log_prob(z, means, log_vars, mask):
    z = tf.convert_to_tensor(z, tf.float32)
    mask = tf.cast(mask, tf.float32)
    parts = []
    for m in range(means.shape[1]):
        normal = tfd.MultivariateNormalDiag(means[:, m], tf.exp(0.5 * tf.convert_to_tensor(log_vars[:, m], tf.float32)))
        parts.append(tf.where(mask[:, m] > 0, normal.log_prob(z), -np.inf))
    return tf.reduce_logsumexp(tf.stack(parts, axis=-1), axis=-1) - tf.math.log(tf.reduce_sum(mask, axis=1))
""",
    },
    "moe_elbo": {
        # structurally different: a loop over the observed experts of each example and over the samples
        "loops over the samples, the log-mean over observed experts written out": """
def moe_elbo(log_joint, means, log_vars, mask, eps):
    means = tf.convert_to_tensor(means, tf.float32)
    log_vars = tf.convert_to_tensor(log_vars, tf.float32)
    eps = tf.convert_to_tensor(eps, tf.float32)
    weights = tf.cast(mask, tf.float32) / tf.reduce_sum(tf.cast(mask, tf.float32), axis=1, keepdims=True)
    total = tf.zeros(tf.shape(means)[:1])
    for m in range(means.shape[1]):
        for k in range(eps.shape[0]):
            z = (means[:, m] + tf.sqrt(tf.exp(log_vars[:, m])) * eps[k, :, m])[None]
            value = log_joint(z)[0] - moe_log_prob(z, means, log_vars, mask)[0]
            total += tf.where(weights[:, m] > 0, weights[:, m] * value, 0.0) / eps.shape[0]
    return total
""",
    },
    "coherence": {
        # structurally different: counts by np.bincount
        "counts by np.bincount": """
def coherence(judge_logits, labels, num_classes):
    labels = np.asarray(labels, int)
    hits = (np.argmax(judge_logits, axis=-1) == labels).astype(float)
    requested = np.bincount(labels, minlength=num_classes).astype(float)
    right = np.bincount(labels, weights=hits, minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(requested > 0, right / requested, np.nan)
    rate = hits.sum() / len(hits)
    return rate, np.sqrt(rate * (1 - rate) / len(hits)), per_class
""",
    },
    "predicted_poe_conflict": {"the capital letter, with a space": 'predicted_poe_conflict = " A"'},
    "predicted_entropy_gain": {"rounded": "predicted_entropy_gain = 0.69"},
}
