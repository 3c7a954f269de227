"""Unit 06 (the conditional VAE, as the semi-supervised M2 model): wrong answers that must lose points, correct
alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cells named in
TESTS must then lose points (every other test cell must keep full points). The code may use the names of the
lab's imports cell (types, keras, plt, np, tf, tfp, tfd, config, data, plotting, training). Most entries are
edits of the solution (``edit``); full code is kept for answers that are structurally different.
"""

from catalogue import Edits

ASSIGNMENT = "lab06_cvae"
TESTS = {  # solution cell -> the test cell(s) that grade it
    "enumerate_labels": "test_enumerate_labels",
    "ConditionalPrior": "test_ConditionalPrior",
    "labelled_bound": "test_labelled_bound",
    "unlabelled_bound": ["test_unlabelled_bound_loop", "test_unlabelled_bound_confident"],
    "m2_loss": "test_m2_loss",
    "predicted_classifier_gradient": "test_predicted_classifier_gradient",
    "predicted_uniform_bound": "test_predicted_uniform_bound",
    "predicted_distinct_images": "test_predicted_distinct_images",
}

edit = Edits(ASSIGNMENT)

# Lines of the solutions, quoted by the edits below.
COPIES = "copies = tf.tile(x, [num_classes, 1])"
CLASSES = "classes = tf.repeat(tf.range(num_classes, dtype=tf.int32), batch)"
HEAD = 'keras.layers.Dense(2 * latent_dim, kernel_initializer="zeros", bias_initializer="zeros")'
HIDDEN = 'keras.layers.Dense(hidden, activation="relu")'
HOT = "hot = tf.one_hot(label, model.num_classes)"
GAP = "gap = tf.exp(lv - lv_p) + tf.square(mu - mu_p) / tf.exp(lv_p) - 1.0 - (lv - lv_p)"
LABEL_TERM = " - tf.gather(model.log_class_prior, label)"
TILE_EPS = "tf.tile(tf.cast(eps, tf.float32), [C, 1])"
TABLE = "table = tf.transpose(tf.reshape(per_label, [C, -1]))"
LOG_Q = "log_q = tf.nn.log_softmax(model.classifier(x), axis=-1)"
RETURN_U = "return tf.reduce_sum(tf.exp(log_q) * (table + log_q), axis=-1)"
SUPERVISED = "labelled_bound(model, x_labelled, y_labelled, eps_labelled) + alpha * cross_entropy"

WRONG = {
    "enumerate_labels": {
        "each image repeated in place (tf.repeat), the labels in blocks": edit(
            "enumerate_labels", {COPIES: "copies = tf.repeat(x, num_classes, axis=0)"}
        ),
        "the labels cycle (tf.tile), the images in blocks": edit(
            "enumerate_labels", {CLASSES: "classes = tf.tile(tf.range(num_classes, dtype=tf.int32), [batch])"}
        ),
        "one-hot labels instead of integers": edit(
            "enumerate_labels", {"return copies, classes": "return copies, tf.one_hot(classes, num_classes)"}
        ),
        "a fixed 10 classes": edit(
            "enumerate_labels",
            {"[num_classes, 1]": "[10, 1]", "tf.range(num_classes, dtype=tf.int32)": "tf.range(10, dtype=tf.int32)"},
        ),
        "labels as float32": edit(
            "enumerate_labels", {"return copies, classes": "return copies, tf.cast(classes, tf.float32)"}
        ),
    },
    "ConditionalPrior": {
        # structurally different: the lecture's prior network (mlp([num_classes, 64], 2 * latent_dim)), default init
        "pasted the lecture's version: a 64-unit network with the default initialisation (not N(0, I) at first)": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        layers = [keras.Input((num_classes,)), keras.layers.Dense(64, activation="relu")]
        self.prior_net = keras.Sequential([*layers, keras.layers.Dense(2 * latent_dim)])

    def call(self, y_onehot):
        mean, log_var = tf.split(self.prior_net(y_onehot), 2, axis=-1)
        return mean, log_var
""",
        "no ReLU on the hidden layer (a linear map of the label)": edit(
            "ConditionalPrior", {HIDDEN: "keras.layers.Dense(hidden)"}
        ),
        "the hidden layer starts at zero too (ReLU(0) = 0, it never learns)": edit(
            "ConditionalPrior",
            {HIDDEN: 'keras.layers.Dense(hidden, activation="relu", kernel_initializer="zeros")'},
        ),
        "the output layer keeps its default random initialisation": edit(
            "ConditionalPrior", {HEAD: "keras.layers.Dense(2 * latent_dim)"}
        ),
        "a softplus on the log-variance (never negative)": edit(
            "ConditionalPrior",
            {"both[:, self.latent_dim :]": "tf.nn.softplus(both[:, self.latent_dim :])"},
        ),
    },
    "labelled_bound": {
        "pasted the lecture's version: recon + KL, without the label term -log p(y)": edit(
            "labelled_bound", {LABEL_TERM: ""}
        ),
        "+log p(y) instead of -log p(y)": edit(
            "labelled_bound", {LABEL_TERM: " + tf.gather(model.log_class_prior, label)"}
        ),
        "KL(p || q) instead of KL(q || p)": edit(
            "labelled_bound",
            {GAP: "gap = tf.exp(lv_p - lv) + tf.square(mu - mu_p) / tf.exp(lv) - 1.0 - (lv_p - lv)"},
        ),
        "the KL to N(0, I), ignoring the learned prior": edit(
            "labelled_bound", {"mu_p, lv_p = model.prior(hot)": "mu_p, lv_p = tf.zeros_like(mu), tf.zeros_like(lv)"}
        ),
        "standard deviation exp(log_var) instead of exp(log_var / 2)": edit(
            "labelled_bound", {"tf.exp(lv / 2) * tf.cast": "tf.exp(lv) * tf.cast"}
        ),
        "the label appended as a number, not one-hot": edit(
            "labelled_bound", {HOT: "hot = tf.cast(label[:, None], tf.float32)"}
        ),
        "reconstruction averaged over pixels": edit(
            "labelled_bound", {"return tf.reduce_sum(pixels, axis=1)": "return tf.reduce_mean(pixels, axis=1)"}
        ),
    },
    "unlabelled_bound": {
        "the entropy term forgotten": edit(
            "unlabelled_bound", {RETURN_U: "return tf.reduce_sum(tf.exp(log_q) * table, axis=-1)"}
        ),
        "the entropy with the wrong sign (+H)": edit(
            "unlabelled_bound", {RETURN_U: "return tf.reduce_sum(tf.exp(log_q) * (table - log_q), axis=-1)"}
        ),
        "log of a softmax (NaN for a confident classifier)": edit(
            "unlabelled_bound",
            {LOG_Q: "log_q = tf.math.log(tf.nn.softmax(model.classifier(x), axis=-1))"},
        ),
        "the labels weighted equally, not by q(y | x)": edit(
            "unlabelled_bound",
            {RETURN_U: "return tf.reduce_mean(table, axis=-1) + tf.reduce_sum(tf.exp(log_q) * log_q, axis=-1)"},
        ),
        "the noise repeated per image instead of tiled like the images": edit(
            "unlabelled_bound", {TILE_EPS: "tf.repeat(tf.cast(eps, tf.float32), C, axis=0)"}
        ),
        "reshaped to (B, C) directly (pairs images with the wrong labels)": edit(
            "unlabelled_bound", {TABLE: "table = tf.reshape(per_label, [-1, C])"}
        ),
        # structurally different: only the classifier's most likely label
        "-L of the most likely label only": """
def unlabelled_bound(model, x, eps):
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    guess = tf.argmax(model.classifier(x), axis=-1, output_type=tf.int32)
    return labelled_bound(model, x, guess, eps)
""",
    },
    "m2_loss": {
        "the classification term forgotten": edit("m2_loss", {" + alpha * cross_entropy": ""}),
        "the classification term with the wrong sign": edit(
            "m2_loss", {"+ alpha * cross_entropy": "- alpha * cross_entropy"}
        ),
        "alpha ignored": edit("m2_loss", {"+ alpha * cross_entropy": "+ cross_entropy"}),
        "alpha multiplies the whole labelled part": edit(
            "m2_loss", {SUPERVISED: f"alpha * ({SUPERVISED[:-24]} + cross_entropy)"}
        ),
        # structurally different: one mean over the two batches together
        "one mean over both batches": """
def m2_loss(model, x_labelled, y_labelled, x_unlabelled, eps_labelled, eps_unlabelled, alpha):
    x_labelled = tf.cast(tf.convert_to_tensor(x_labelled), tf.float32)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(y_labelled, tf.int32), logits=model.classifier(x_labelled)
    )
    labelled = labelled_bound(model, x_labelled, y_labelled, eps_labelled) + alpha * ce
    return tf.reduce_mean(tf.concat([labelled, unlabelled_bound(model, x_unlabelled, eps_unlabelled)], axis=0))
""",
    },
    "predicted_classifier_gradient": {
        "(b): towards the true labels": 'predicted_classifier_gradient = "b"',
        "(c): away from the true labels": 'predicted_classifier_gradient = "c"',
    },
    "predicted_uniform_bound": {
        "(a): equal (the entropy forgotten)": 'predicted_uniform_bound = "a"',
        "(c): larger by log C": 'predicted_uniform_bound = "c"',
    },
    "predicted_distinct_images": {
        "8: one image per noise vector": "predicted_distinct_images = 8",
        "0: no image without noise": "predicted_distinct_images = 0",
    },
}

CORRECT = {
    "enumerate_labels": {
        # structurally different: NumPy indexing
        "NumPy, rows indexed by r % B and r // B": """
def enumerate_labels(x, num_classes):
    x = np.asarray(x, np.float32)
    rows = np.arange(num_classes * len(x))
    return x[rows % len(x)], (rows // len(x)).astype(np.int32)
""",
        # structurally different: a loop over the labels, concatenated
        "a loop over the labels and tf.concat": """
def enumerate_labels(x, num_classes):
    x = tf.cast(x, tf.float32)
    n = tf.shape(x)[0]
    return tf.concat([x] * num_classes, 0), tf.concat([tf.fill([n], c) for c in range(num_classes)], 0)
""",
    },
    "ConditionalPrior": {
        # structurally different: two zero-initialised heads
        "two output heads starting at zero": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.body = keras.layers.Dense(hidden, activation="relu")
        zeros = keras.initializers.Zeros()
        self.mean_head = keras.layers.Dense(latent_dim, kernel_initializer=zeros, bias_initializer=zeros)
        self.log_var_head = keras.layers.Dense(latent_dim, kernel_initializer=zeros, bias_initializer=zeros)

    def call(self, y_onehot):
        h = self.body(y_onehot)
        return self.mean_head(h), self.log_var_head(h)
""",
        # structurally different: a Sequential network and tf.split
        "a Sequential network and tf.split": """
class ConditionalPrior(keras.Model):
    def __init__(self, num_classes, latent_dim, hidden=64, **kwargs):
        super().__init__(**kwargs)
        self.net = keras.Sequential(
            [
                keras.Input((num_classes,)),
                keras.layers.Dense(hidden, activation="relu"),
                keras.layers.Dense(2 * latent_dim, kernel_initializer="zeros"),
            ]
        )

    def call(self, y_onehot):
        mean, log_var = tf.split(self.net(y_onehot), 2, axis=-1)
        return mean, log_var
""",
    },
    "labelled_bound": {
        # structurally different: TFP distributions for the likelihood, the KL and the class prior
        "TFP distributions": """
def labelled_bound(model, x, y, eps):
    x = tf.cast(x, tf.float32)
    onehot = tf.one_hot(tf.cast(y, tf.int32), model.num_classes)
    mean, log_var = tf.split(model.encoder(tf.concat([x, onehot], -1)), 2, axis=-1)
    q = tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_var))
    z = mean + q.stddev() * tf.cast(eps, tf.float32)
    likelihood = tfd.Independent(tfd.Bernoulli(logits=model.decoder(tf.concat([z, onehot], -1))), 1)
    p_mean, p_log_var = model.prior(onehot)
    kl = tfd.kl_divergence(q, tfd.MultivariateNormalDiag(p_mean, tf.exp(0.5 * p_log_var)))
    log_py = tfd.Categorical(logits=model.log_class_prior).log_prob(tf.cast(y, tf.int32))
    return -likelihood.log_prob(x) + kl - log_py
""",
        # structurally different: NumPy in float64 after the network calls, standard deviations
        "NumPy in float64 with logaddexp": """
def labelled_bound(model, x, y, eps):
    x, y, eps = np.asarray(x, np.float64), np.asarray(y, np.int64), np.asarray(eps, np.float64)
    d, onehot = model.latent_dim, np.eye(model.num_classes)[y]
    h = np.asarray(model.encoder(np.concatenate([x, onehot], 1).astype(np.float32)), np.float64)
    mq, sq = h[:, :d], np.exp(0.5 * h[:, d:])
    z = (mq + sq * eps).astype(np.float32)
    lg = np.asarray(model.decoder(np.concatenate([z, onehot.astype(np.float32)], 1)), np.float64)
    mp, vp = (np.asarray(v, np.float64) for v in model.prior(onehot.astype(np.float32)))
    sp = np.exp(0.5 * vp)
    kl = np.sum(np.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5, axis=1)
    recon = np.sum(np.logaddexp(0.0, lg) - x * lg, axis=1)
    return recon + kl - np.asarray(model.log_class_prior, np.float64)[y]
""",
    },
    "unlabelled_bound": {
        # structurally different: a Python loop over the labels and TFP's entropy
        "a loop over the labels and tfd.Categorical's entropy": """
def unlabelled_bound(model, x, eps):
    x = tf.cast(x, tf.float32)
    n = tf.shape(x)[0]
    per_label = tf.stack([labelled_bound(model, x, tf.fill([n], c), eps) for c in range(model.num_classes)], 1)
    q = tfd.Categorical(logits=model.classifier(x))
    return tf.reduce_sum(q.probs_parameter() * per_label, axis=1) - q.entropy()
""",
        "probabilities from softmax, the entropy with tf.math.xlogy": edit(
            "unlabelled_bound",
            {
                LOG_Q: "probs = tf.nn.softmax(model.classifier(x), axis=-1)",
                RETURN_U: "return tf.reduce_sum(probs * table + tf.math.xlogy(probs, probs), axis=-1)",
            },
        ),
    },
    "m2_loss": {
        "tfd.Categorical for log q(y | x)": edit(
            "m2_loss",
            {
                "tf.nn.sparse_softmax_cross_entropy_with_logits(\n        labels=tf.cast(y_labelled, tf.int32), "
                "logits=model.classifier(x_labelled)\n    )": "-tfd.Categorical(logits=model.classifier(x_labelled))"
                ".log_prob(tf.cast(y_labelled, tf.int32))"
            },
        ),
        # structurally different: three means, Keras's loss object
        "three separate means, with Keras's cross-entropy": """
def m2_loss(model, x_labelled, y_labelled, x_unlabelled, eps_labelled, eps_unlabelled, alpha):
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_labelled, model.classifier(x_labelled))
    labelled = tf.reduce_mean(labelled_bound(model, x_labelled, y_labelled, eps_labelled))
    unlabelled = tf.reduce_mean(unlabelled_bound(model, x_unlabelled, eps_unlabelled))
    return labelled + alpha * ce + unlabelled
""",
    },
    "predicted_classifier_gradient": {"the capital letter, with spaces": 'predicted_classifier_gradient = " A "'},
    "predicted_uniform_bound": {"the capital letter": 'predicted_uniform_bound = "B"'},
    "predicted_distinct_images": {"a float": "predicted_distinct_images = 1.0"},
}
