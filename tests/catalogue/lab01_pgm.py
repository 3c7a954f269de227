"""Unit 01 (probabilistic graphical models): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one answer cell (by its nbgrader grade_id) with the code below; TESTS names the test
cell that must then score 0 for a wrong answer (every other test cell must keep full points). Small
mistakes are edits of the solution (``edit``); full code marks an answer built differently.
"""

from catalogue import Edits

ASSIGNMENT = "lab01_pgm"
TESTS = {  # answer cell -> the test cell that grades it
    "count_parameters": "test_count_parameters",
    "build_joint": "test_build_joint",
    "posterior": "test_posterior",
    "predicted_free_parameters": "test_predicted_free_parameters",
    "predicted_rain_given_sprinkler": "test_predicted_rain_given_sprinkler",
}
edit = Edits(ASSIGNMENT)

# The lecture's CPTs, written into the answer instead of read from its argument.
LECTURE_CPTS = """    cpts = {
        "age": np.array([0.30, 0.45, 0.25]),
        "gender": np.array([0.50, 0.50]),
        "ms": np.array([0.55, 0.45]),
        "salary": np.array(
            [
                [[0.70, 0.25, 0.05], [0.60, 0.30, 0.10]],
                [[0.30, 0.50, 0.20], [0.20, 0.50, 0.30]],
                [[0.20, 0.40, 0.40], [0.10, 0.40, 0.50]],
            ]
        ),
        "y": np.array([[[0.80, 0.20], [0.70, 0.30]], [[0.55, 0.45], [0.45, 0.55]], [[0.25, 0.75], [0.15, 0.85]]]),
    }
"""
SALARY = '    salary_cpt = tf.convert_to_tensor(cpts["salary"])'
ROWS_LOOP = "        for parent in parents[variable]:\n            rows *= cardinalities[parent]\n"
NORMALISED = "return joint_q_e / joint_q_e.sum()  # divided by p(evidence)"

WRONG = {
    "count_parameters": {
        "free parameters without the -1 (free = entries)": edit(
            "count_parameters", {"free += rows * (cardinality - 1)": "free += rows * cardinality"}
        ),
        "subtracts 1 per variable instead of 1 per CPT row": edit(
            "count_parameters", {"free += rows * (cardinality - 1)": "free += rows * cardinality - 1"}
        ),
        "parents' cardinalities summed instead of multiplied": edit(
            "count_parameters",
            {
                "rows = 1  # configurations of the parents": "rows = 0 if parents[variable] else 1",
                "rows *= cardinalities[parent]": "rows += cardinalities[parent]",
            },
        ),
        "parents ignored (one row per CPT)": edit("count_parameters", {ROWS_LOOP: ""}),
    },
    "build_joint": {
        "salary conditioned on gender instead of marital status": edit(
            "build_joint",
            {
                "def salary(age, ms):": "def salary(age, gender):",
                "tf.stack([age, ms], axis=-1)": "tf.stack([age, gender], axis=-1)",
            },
        ),
        "CPTs passed as logits instead of probabilities": edit("build_joint", {"probs=": "logits="}, every=True),
        "y's CPT indexed [gender, salary] (parent axes transposed)": edit(
            "build_joint", {"tf.stack([salary, gender], axis=-1)": "tf.stack([gender, salary], axis=-1)"}
        ),
        "the lecture's CPTs hard-coded (the argument ignored)": edit("build_joint", {SALARY: LECTURE_CPTS + SALARY}),
    },
    "posterior": {
        "not normalised (returns p(query, evidence))": edit("posterior", {NORMALISED: "return joint_q_e"}),
        "likelihood p(evidence | query) instead of the posterior": edit(
            "posterior",
            {
                NORMALISED: "prior = table.sum(axis=tuple(i for i, v in enumerate(names) if v != query))\n"
                "    return joint_q_e / prior"
            },
        ),
        "evidence ignored (returns the prior marginal)": edit(
            "posterior",
            {
                "evidence[v] if v in evidence else slice(None) for v in names": "slice(None) for v in names",
                "[v for v in names if v not in evidence]": "list(names)",
            },
        ),
        "maximum over the hidden variables instead of the sum": edit(
            "posterior",
            {
                "joint_q_e = observed.sum(axis=hidden_axes)": (
                    "joint_q_e = observed.max(axis=hidden_axes) if hidden_axes else observed"
                )
            },
        ),
    },
    "predicted_free_parameters": {
        "one parameter per arrow (22 + 1)": "predicted_free_parameters = 23\n",
        "the new parent's cardinality added (22 + 3)": "predicted_free_parameters = 25\n",
        "the new entries counted, not the new free parameters (22 + 24)": "predicted_free_parameters = 46\n",
        "the total number of entries (61), not of free parameters": "predicted_free_parameters = 61\n",
    },
    "predicted_rain_given_sprinkler": {
        "(a) higher: the sprinkler read as evidence for rain": 'predicted_rain_given_sprinkler = "a"\n',
        "(c) the same: independence a priori taken for independence given the common child": (
            'predicted_rain_given_sprinkler = "c"\n'
        ),
    },
}

CORRECT = {
    "count_parameters": {
        # structurally different: math.prod in comprehensions
        "math.prod in one comprehension": """
import math
def count_parameters(cardinalities, parents):
    rows = {v: math.prod(cardinalities[u] for u in parents[v]) for v in cardinalities}
    return (sum(rows[v] * c for v, c in cardinalities.items()),
            sum(rows[v] * (c - 1) for v, c in cardinalities.items()))
""",
        # structurally different: vectors of rows and cardinalities, a dot product
        "NumPy arrays, returned as a list": """
def count_parameters(cardinalities, parents):
    names = list(cardinalities)
    cards = np.array([cardinalities[v] for v in names])
    rows = np.array([np.prod([cardinalities[u] for u in parents[v]], dtype=np.int64) for v in names])
    return [int(rows @ cards), int(rows @ (cards - 1))]
""",
    },
    "build_joint": {
        # structurally different: the auto-batched joint, CPT rows by tensor indexing, log-probability tables
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
        # structurally different: a Python loop over every configuration of the table
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
        # structurally different: one-hot masks instead of slicing, in TensorFlow
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
    "predicted_free_parameters": {
        "the same number as a float": "predicted_free_parameters = 34.0\n",
        "as an expression: 22 - 6 rows + 18 rows": "predicted_free_parameters = 22 - 3 * 2 + 3 * 2 * 3\n",
    },
    "predicted_rain_given_sprinkler": {
        "the capital letter": 'predicted_rain_given_sprinkler = "B"\n',
        "with spaces around it": 'predicted_rain_given_sprinkler = " b "\n',
    },
}
