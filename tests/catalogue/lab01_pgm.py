"""Unit 01 (probabilistic graphical models): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; ``fails`` names
the test cell that must then score 0 (every other test cell must keep full points).
"""

ASSIGNMENT = "lab01_pgm"
TESTS = {  # solution cell -> the test cell that grades it
    "count_parameters": "test_count_parameters",
    "build_joint": "test_build_joint",
    "posterior": "test_posterior",
}

WRONG = {
    "count_parameters": {
        "free parameters without the -1 (free = entries)": """
def count_parameters(cardinalities, parents):
    entries = 0
    for v, card in cardinalities.items():
        entries += card * int(np.prod([cardinalities[u] for u in parents[v]]))
    return entries, entries
""",
        "subtracts 1 per variable instead of 1 per CPT row": """
def count_parameters(cardinalities, parents):
    entries = 0
    for v, card in cardinalities.items():
        entries += card * int(np.prod([cardinalities[u] for u in parents[v]]))
    return entries, entries - len(cardinalities)
""",
        "parents' cardinalities summed instead of multiplied": """
def count_parameters(cardinalities, parents):
    entries = free = 0
    for v, card in cardinalities.items():
        rows = sum(cardinalities[u] for u in parents[v]) if parents[v] else 1
        entries += rows * card
        free += rows * (card - 1)
    return entries, free
""",
        "parents ignored (one row per CPT)": """
def count_parameters(cardinalities, parents):
    return sum(cardinalities.values()), sum(c - 1 for c in cardinalities.values())
""",
    },
    "build_joint": {
        "salary conditioned on gender instead of marital status": """
def build_joint(cpts):
    salary_cpt, y_cpt = tf.constant(cpts["salary"]), tf.constant(cpts["y"])
    return tfd.JointDistributionNamed({
        "age": tfd.Categorical(probs=cpts["age"]),
        "gender": tfd.Categorical(probs=cpts["gender"]),
        "ms": tfd.Categorical(probs=cpts["ms"]),
        "salary": lambda age, gender: tfd.Categorical(probs=tf.gather_nd(salary_cpt, tf.stack([age, gender], -1))),
        "y": lambda salary, gender: tfd.Categorical(probs=tf.gather_nd(y_cpt, tf.stack([salary, gender], -1))),
    })
""",
        "CPTs passed as logits instead of probabilities": """
def build_joint(cpts):
    salary_cpt, y_cpt = tf.constant(cpts["salary"]), tf.constant(cpts["y"])
    return tfd.JointDistributionNamed({
        "age": tfd.Categorical(logits=cpts["age"]),
        "gender": tfd.Categorical(logits=cpts["gender"]),
        "ms": tfd.Categorical(logits=cpts["ms"]),
        "salary": lambda age, ms: tfd.Categorical(logits=tf.gather_nd(salary_cpt, tf.stack([age, ms], -1))),
        "y": lambda salary, gender: tfd.Categorical(logits=tf.gather_nd(y_cpt, tf.stack([salary, gender], -1))),
    })
""",
        "y's CPT indexed [gender, salary] (parent axes transposed)": """
def build_joint(cpts):
    salary_cpt, y_cpt = tf.constant(cpts["salary"]), tf.constant(cpts["y"])
    return tfd.JointDistributionNamed({
        "age": tfd.Categorical(probs=cpts["age"]),
        "gender": tfd.Categorical(probs=cpts["gender"]),
        "ms": tfd.Categorical(probs=cpts["ms"]),
        "salary": lambda age, ms: tfd.Categorical(probs=tf.gather_nd(salary_cpt, tf.stack([age, ms], -1))),
        "y": lambda salary, gender: tfd.Categorical(probs=tf.gather_nd(y_cpt, tf.stack([gender, salary], -1))),
    })
""",
        "the lecture's CPTs hard-coded (the argument ignored)": """
def build_joint(cpts):
    salary_cpt = tf.constant([[[0.70, 0.25, 0.05], [0.60, 0.30, 0.10]], [[0.30, 0.50, 0.20], [0.20, 0.50, 0.30]],
                              [[0.20, 0.40, 0.40], [0.10, 0.40, 0.50]]], tf.float64)
    y_cpt = tf.constant([[[0.80, 0.20], [0.70, 0.30]], [[0.55, 0.45], [0.45, 0.55]], [[0.25, 0.75], [0.15, 0.85]]],
                        tf.float64)
    return tfd.JointDistributionNamed({
        "age": tfd.Categorical(probs=tf.constant([0.30, 0.45, 0.25], tf.float64)),
        "gender": tfd.Categorical(probs=tf.constant([0.50, 0.50], tf.float64)),
        "ms": tfd.Categorical(probs=tf.constant([0.55, 0.45], tf.float64)),
        "salary": lambda age, ms: tfd.Categorical(probs=tf.gather_nd(salary_cpt, tf.stack([age, ms], -1))),
        "y": lambda salary, gender: tfd.Categorical(probs=tf.gather_nd(y_cpt, tf.stack([salary, gender], -1))),
    })
""",
    },
    "posterior": {
        "not normalised (returns p(query, evidence))": """
def posterior(table, names, query, evidence):
    table = np.asarray(table, dtype=np.float64)
    sliced = table[tuple(evidence.get(v, slice(None)) for v in names)]
    remaining = [v for v in names if v not in evidence]
    return sliced.sum(axis=tuple(i for i, v in enumerate(remaining) if v != query))
""",
        "likelihood p(evidence | query) instead of the posterior": """
def posterior(table, names, query, evidence):
    table = np.asarray(table, dtype=np.float64)
    sliced = table[tuple(evidence.get(v, slice(None)) for v in names)]
    remaining = [v for v in names if v not in evidence]
    joint = sliced.sum(axis=tuple(i for i, v in enumerate(remaining) if v != query))
    prior = table.sum(axis=tuple(i for i, v in enumerate(names) if v != query))
    return joint / prior
""",
        "evidence ignored (returns the prior marginal)": """
def posterior(table, names, query, evidence):
    table = np.asarray(table, dtype=np.float64)
    return table.sum(axis=tuple(i for i, v in enumerate(names) if v != query))
""",
        "maximum over the hidden variables instead of the sum": """
def posterior(table, names, query, evidence):
    table = np.asarray(table, dtype=np.float64)
    sliced = table[tuple(evidence.get(v, slice(None)) for v in names)]
    remaining = [v for v in names if v not in evidence]
    hidden = tuple(i for i, v in enumerate(remaining) if v != query)
    best = sliced.max(axis=hidden) if hidden else sliced
    return best / best.sum()
""",
    },
}

CORRECT = {
    "count_parameters": {
        "math.prod in one comprehension": """
import math
def count_parameters(cardinalities, parents):
    rows = {v: math.prod(cardinalities[u] for u in parents[v]) for v in cardinalities}
    return (sum(rows[v] * c for v, c in cardinalities.items()),
            sum(rows[v] * (c - 1) for v, c in cardinalities.items()))
""",
        "NumPy arrays, returned as a list": """
def count_parameters(cardinalities, parents):
    names = list(cardinalities)
    cards = np.array([cardinalities[v] for v in names])
    rows = np.array([np.prod([cardinalities[u] for u in parents[v]], dtype=np.int64) for v in names])
    return [int(rows @ cards), int(rows @ (cards - 1))]
""",
    },
    "build_joint": {
        "JointDistributionNamedAutoBatched with tensor indexing and logits = log(probs)": """
def build_joint(cpts):
    salary_cpt = tf.math.log(tf.constant(cpts["salary"], tf.float64))
    y_cpt = tf.math.log(tf.constant(cpts["y"], tf.float64))
    return tfd.JointDistributionNamedAutoBatched({
        "age": tfd.Categorical(probs=tf.constant(cpts["age"], tf.float64)),
        "gender": tfd.Categorical(probs=tf.constant(cpts["gender"], tf.float64)),
        "ms": tfd.Categorical(probs=tf.constant(cpts["ms"], tf.float64)),
        "salary": lambda age, ms: tfd.Categorical(logits=salary_cpt[age, ms]),
        "y": lambda salary, gender: tfd.Categorical(logits=y_cpt[salary, gender]),
    })
""",
    },
    "posterior": {
        "itertools over every configuration": """
def posterior(table, names, query, evidence):
    table = np.asarray(table, dtype=np.float64)
    q = names.index(query)
    result = np.zeros(table.shape[q])
    for index in itertools.product(*[range(k) for k in table.shape]):
        if all(index[names.index(v)] == value for v, value in evidence.items()):
            result[index[q]] += table[index]
    return result / result.sum()
""",
        "TensorFlow: mask the evidence, reduce, normalise": """
def posterior(table, names, query, evidence):
    t = tf.constant(np.asarray(table, dtype=np.float64))
    for i, v in enumerate(names):
        if v in evidence:
            shape = [1] * len(names)
            shape[i] = -1
            t = t * tf.reshape(tf.one_hot(int(evidence[v]), t.shape[i], dtype=tf.float64), shape)
    q = names.index(query)
    marginal = tf.reduce_sum(t, axis=[i for i in range(len(names)) if i != q])
    return (marginal / tf.reduce_sum(marginal)).numpy()
""",
    },
}
