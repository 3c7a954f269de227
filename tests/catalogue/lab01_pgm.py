"""Unit 01 (probabilistic graphical models): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one answer cell (by its nbgrader grade_id) with the code below; the test cells named in
TESTS for that cell must then lose points, and every other test cell must keep full points. Small mistakes are
edits of the solution (``edit``); full code marks an answer built differently. The code may use the names of the
lab's imports cell (itertools, np).
"""

from catalogue import Edits

ASSIGNMENT = "lab01_pgm"
TESTS = {  # answer cell -> the test cells that grade it
    "count_parameters": ["test_count_parameters", "test_count_parameters_cycles"],
    "predicted_free_parameters": "test_predicted_free_parameters",
    "build_joint": ["test_build_joint", "test_build_joint_random"],
    "posterior": "test_posterior",
    "independent": ["test_independent", "test_independent_edge_cases"],
    "predicted_intelligence_given_difficulty": "test_predicted_intelligence_given_difficulty",
    "learn_tables": ["test_learn_tables", "test_learn_tables_convergence"],
}
edit = Edits(ASSIGNMENT)

ROWS = "rows = int(np.prod([cardinalities[u] for u in pa], dtype=np.int64))"
NORMALISED = "return p_q_e / p_q_e.sum()"
VERDICT = "return bool(gap.max() <= tol)"
ROW_SUMS = "counts / counts.sum(axis=-1, keepdims=True)"

WRONG = {
    "count_parameters": {
        # The lecture's counting loop (section 3) in a function: right counts, no cycle check.
        "pasted the lecture's version: counts a graph with a cycle as if it were a DAG": """
def count_parameters(parents, cardinalities):
    free_total = 0
    for v, pas in parents.items():
        rows = int(np.prod([cardinalities[u] for u in pas]))  # configurations of the parents (1 if none)
        free_total = free_total + rows * (cardinalities[v] - 1)
    return free_total
""",
        "only two-variable cycles detected (a -> b -> a), not longer ones": """
def count_parameters(parents, cardinalities):
    for v, pa in parents.items():
        for u in pa:
            if v in parents[u]:
                raise ValueError(f"{u} and {v} are each other's parents")
    return sum(int(np.prod([cardinalities[u] for u in pa])) * (cardinalities[v] - 1) for v, pa in parents.items())
""",
        "free parameters without the -1 (all the entries counted)": edit(
            "count_parameters", {"free += rows * (cardinalities[v] - 1)": "free += rows * cardinalities[v]"}
        ),
        "every parent assumed binary (2 rows per parent)": edit("count_parameters", {ROWS: "rows = 2 ** len(pa)"}),
        "parents' cardinalities added instead of multiplied": edit(
            "count_parameters", {ROWS: "rows = sum(cardinalities[u] for u in pa) if pa else 1"}
        ),
    },
    "predicted_free_parameters": {
        "one parameter per arrow (15 + 1)": "predicted_free_parameters = 16\n",
        "the new parent's cardinality added (15 + 2)": "predicted_free_parameters = 17\n",
        "the new entries counted, not the new free parameters (15 + 6)": "predicted_free_parameters = 21\n",
        "the total number of entries (32), not of free parameters": "predicted_free_parameters = 32\n",
    },
    "build_joint": {
        # Lecture section 6: each table reshaped onto the joint's axes, which is right only when its axes are
        # already in the order of names (there: binary variables, parents listed in that order).
        "pasted the lecture's version: tables reshaped without moving their axes into the order of names": """
def build_joint(tables, parents, names):
    shape = [np.shape(tables[v])[-1] for v in names]
    joint = np.ones(shape)
    for v, pas in parents.items():
        table_v = np.asarray(tables[v], dtype=np.float64)
        axes = [names.index(u) for u in pas + [v]]
        joint = joint * table_v.reshape([shape[i] if i in axes else 1 for i in range(len(names))])
    return joint
""",
        "the parents' axes read in reverse order": edit(
            "build_joint", {"for u in [*pa, v]]": "for u in [*pa[::-1], v]]"}
        ),
        "returns the log joint instead of the joint": edit(
            "build_joint",
            {
                "return np.einsum(*operands, list(range(len(names))))": (
                    "return np.log(np.einsum(*operands, list(range(len(names)))))"
                )
            },
        ),
        "axes in the order of the parents dictionary, not of names": edit(
            "build_joint", {"[names.index(u) for u in": "[list(parents).index(u) for u in"}
        ),
    },
    "posterior": {
        # Lecture section 7: slice the evidence, sum the hidden axes, normalise; the query axes stay in the
        # order of the table.
        "pasted the lecture's version: the query axes left in the order of the table": """
def posterior(joint, names, query, evidence):
    joint = np.asarray(joint, dtype=np.float64)
    sliced = joint[tuple(evidence[v] if v in evidence else slice(None) for v in names)]
    left = [v for v in names if v not in evidence]
    p_q_e = sliced.sum(axis=tuple(i for i, v in enumerate(left) if v not in query))
    return p_q_e / p_q_e.sum()
""",
        "not normalised (returns p(query, evidence))": edit("posterior", {NORMALISED: "return p_q_e"}),
        "evidence summed out instead of fixed (returns the prior)": edit(
            "posterior",
            {
                "evidence.get(v, slice(None)) for v in names": "slice(None) for v in names",
                "free = [v for v in names if v not in evidence]": "free = list(names)",
            },
        ),
        "normalised along the last axis only (a conditional of the last query variable)": edit(
            "posterior", {NORMALISED: "return p_q_e / p_q_e.sum(axis=-1, keepdims=True)"}
        ),
    },
    "independent": {
        # Lecture section 6's conditional / dependence_gap: p(a | b, z) against p(a | z), 0/0 where p(b, z) = 0.
        "pasted the lecture's version: 0/0 = NaN where p(z) = 0 makes every such case 'dependent'": """
def independent(joint, names, a, b, given=(), tol=1e-9):
    joint = np.asarray(joint, dtype=np.float64)

    def conditional(v, cond):
        keep = {v, *cond}
        marginal = joint.sum(axis=tuple(i for i, u in enumerate(names) if u not in keep), keepdims=True)
        return marginal / marginal.sum(axis=names.index(v), keepdims=True)

    gap = np.abs(conditional(a, [b, *given]) - conditional(a, list(given))).max()
    return bool(gap <= tol)
""",
        "the conditioning set ignored (marginal independence tested)": edit(
            "independent", {"for v in (a, b, *given)]": "for v in (a, b)]"}
        ),
        "exact equality of floating-point sums instead of a tolerance": """
def independent(joint, names, a, b, given=(), tol=1e-9):
    joint = np.asarray(joint, dtype=np.float64)
    p_abz = np.einsum(joint, list(range(joint.ndim)), [names.index(v) for v in (a, b, *given)])
    p_z = p_abz.sum(axis=(0, 1))
    safe = np.where(p_z > 0, p_z, 1.0)
    return bool(np.all(p_abz / safe == (p_abz.sum(axis=1) / safe)[:, None] * (p_abz.sum(axis=0) / safe)[None, :]))
""",
        "p(a, b | z) compared with the unconditional p(a) p(b)": """
def independent(joint, names, a, b, given=(), tol=1e-9):
    joint = np.asarray(joint, dtype=np.float64)
    p_abz = np.einsum(joint, list(range(joint.ndim)), [names.index(v) for v in (a, b, *given)])
    p_z = p_abz.sum(axis=(0, 1))
    p_a = np.einsum(joint, list(range(joint.ndim)), [names.index(a)])
    p_b = np.einsum(joint, list(range(joint.ndim)), [names.index(b)])
    product = np.outer(p_a, p_b).reshape(p_abz.shape[:2] + (1,) * len(given))
    gap = np.abs(p_abz / np.where(p_z > 0, p_z, 1.0) - product) * (p_z > 0)
    return bool(gap.max() <= tol)
""",
        "the tolerance argument ignored (fixed at 1e-9)": edit(
            "independent", {VERDICT: "return bool(gap.max() <= 1e-9)"}
        ),
    },
    "predicted_intelligence_given_difficulty": {
        "(b) lower: 'explaining away' applied whatever was observed": (
            'predicted_intelligence_given_difficulty = "b"\n'
        ),
        "(c) the same: only observing the collider itself, not a descendant, taken to couple its causes": (
            'predicted_intelligence_given_difficulty = "c"\n'
        ),
    },
    "learn_tables": {
        # Lecture section 5's counted_cpt: maximum likelihood, no pseudo count (0/0 for an unseen row).
        "pasted the lecture's version: plain normalised counts, the pseudo count ignored": """
def learn_tables(samples, parents, cardinalities, pseudo_count=1.0):
    learned = {}
    for v, pas in parents.items():
        shape = [cardinalities[u] for u in pas + [v]]
        codes = np.ravel_multi_index([np.asarray(samples[u]) for u in pas + [v]], shape)
        counts = np.bincount(codes, minlength=int(np.prod(shape))).reshape(shape)
        learned[v] = counts / counts.sum(axis=-1, keepdims=True)
    return learned
""",
        "each table normalised over its first axis instead of the child's (last) axis": edit(
            "learn_tables", {ROW_SUMS: "counts / counts.sum(axis=0, keepdims=True)"}
        ),
        "the joint counts normalised (p(parents, v)), not each row": edit(
            "learn_tables", {ROW_SUMS: "counts / counts.sum()"}
        ),
        "the pseudo count added once to the denominator instead of alpha * |v|": edit(
            "learn_tables",
            {
                "np.full([cardinalities[u] for u in [*pa, v]], float(pseudo_count))": (
                    "np.zeros([cardinalities[u] for u in [*pa, v]])"
                ),
                ROW_SUMS: "(counts + pseudo_count) / (counts.sum(axis=-1, keepdims=True) + pseudo_count)",
            },
        ),
        "the parents' axes in sorted order, not in the order of parents[v]": edit(
            "learn_tables", {"for u in [*pa, v]": "for u in [*sorted(pa), v]"}, every=True
        ),
    },
}

CORRECT = {
    "count_parameters": {
        # structurally different: the standard library's topological sorter (its CycleError is a ValueError)
        "graphlib.TopologicalSorter and math.prod": """
import graphlib
import math

def count_parameters(parents, cardinalities):
    list(graphlib.TopologicalSorter(parents).static_order())  # raises graphlib.CycleError, a ValueError
    return sum(math.prod(cardinalities[u] for u in pa) * (cardinalities[v] - 1) for v, pa in parents.items())
""",
        # structurally different: depth-first search with three colours, counting while visiting
        "recursive depth-first search, returned as a NumPy integer": """
def count_parameters(parents, cardinalities):
    state = {}

    def visit(v):
        if state.get(v) == "open":
            raise ValueError(f"cycle through {v}")
        if state.get(v) != "done":
            state[v] = "open"
            for u in parents[v]:
                visit(u)
            state[v] = "done"

    for v in parents:
        visit(v)
    rows = np.array([np.prod([cardinalities[u] for u in parents[v]], dtype=np.int64) for v in parents])
    return rows @ np.array([cardinalities[v] - 1 for v in parents])
""",
    },
    "predicted_free_parameters": {
        "the same number as a float": "predicted_free_parameters = 18.0\n",
        "as an expression: 15 - 3 rows + 6 rows": "predicted_free_parameters = 15 - 3 + 3 * 2\n",
    },
    "build_joint": {
        # structurally different: a loop over every configuration
        "itertools over every configuration": """
def build_joint(tables, parents, names):
    tables = {v: np.asarray(t, dtype=np.float64) for v, t in tables.items()}
    joint = np.empty([tables[v].shape[-1] for v in names])
    for config in itertools.product(*[range(k) for k in joint.shape]):
        value = dict(zip(names, config))
        joint[config] = np.prod([tables[v][tuple(value[u] for u in pa) + (value[v],)] for v, pa in parents.items()])
    return joint
""",
        # structurally different: each table moved onto the joint's axes with np.moveaxis and broadcast, float32
        "moveaxis and broadcasting, in float32": """
def build_joint(tables, parents, names):
    joint = np.ones([np.shape(tables[v])[-1] for v in names], dtype=np.float32)
    for v, pa in parents.items():
        t = np.asarray(tables[v], dtype=np.float32)
        positions = [names.index(u) for u in [*pa, v]]
        order = np.argsort(positions)
        t = np.transpose(t, order)  # axes now in the order of names
        shape = [1] * len(names)
        for axis in sorted(positions):
            shape[axis] = joint.shape[axis]
        joint = joint * t.reshape(shape)
    return joint
""",
    },
    "posterior": {
        # structurally different: a Python loop over every configuration of the table
        "itertools over every configuration": """
def posterior(joint, names, query, evidence):
    joint = np.asarray(joint, dtype=np.float64)
    result = np.zeros([joint.shape[names.index(v)] for v in query])
    for index in itertools.product(*[range(k) for k in joint.shape]):
        if all(index[names.index(v)] == value for v, value in evidence.items()):
            result[tuple(index[names.index(v)] for v in query)] += joint[index]
    return result / result.sum()
""",
        # structurally different: one-hot masks for the evidence, then a sum and a transpose
        "masks, sum over the hidden axes, then transpose": """
def posterior(joint, names, query, evidence):
    t = np.asarray(joint, dtype=np.float64)
    for i, v in enumerate(names):
        if v in evidence:
            shape = [1] * t.ndim
            shape[i] = -1
            t = t * (np.arange(t.shape[i]) == evidence[v]).reshape(shape)
    kept = [v for v in names if v in query]
    marginal = t.sum(axis=tuple(i for i, v in enumerate(names) if v not in query))
    marginal = np.transpose(marginal, [kept.index(v) for v in query])
    return marginal / marginal.sum()
""",
    },
    "independent": {
        # structurally different: a loop over the configurations of the conditioning set
        "a loop over the configurations of the conditioning set": """
def independent(joint, names, a, b, given=(), tol=1e-9):
    joint = np.moveaxis(np.asarray(joint, dtype=np.float64), [names.index(v) for v in (a, b, *given)],
                        list(range(2 + len(given))))
    joint = joint.reshape(joint.shape[: 2 + len(given)] + (-1,)).sum(axis=-1)
    for z in itertools.product(*[range(k) for k in joint.shape[2:]]):
        block = joint[(slice(None), slice(None)) + z]
        total = block.sum()
        if total == 0:
            continue
        conditional = block / total
        if np.abs(conditional - np.outer(conditional.sum(axis=1), conditional.sum(axis=0))).max() > tol:
            return False
    return True
""",
        # structurally different: the lecture's comparison of conditionals, with the 0/0 rows masked out
        "p(a | b, z) against p(a | z), the undefined rows masked": """
def independent(joint, names, a, b, given=(), tol=1e-9):
    joint = np.asarray(joint, dtype=np.float64)
    p = np.einsum(joint, list(range(joint.ndim)), [names.index(v) for v in (a, b, *given)])
    p_bz = p.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_given_bz = p / p_bz
        a_given_z = p.sum(axis=1, keepdims=True) / p.sum(axis=(0, 1), keepdims=True)
        gap = np.abs(a_given_bz - a_given_z)
    return bool(np.nanmax(gap, initial=0.0) <= tol)
""",
    },
    "predicted_intelligence_given_difficulty": {
        "the capital letter": 'predicted_intelligence_given_difficulty = "A"\n',
        "with spaces around it": 'predicted_intelligence_given_difficulty = " a "\n',
    },
    "learn_tables": {
        # structurally different: a dictionary of counts filled sample by sample
        "a Python loop over the samples": """
def learn_tables(samples, parents, cardinalities, pseudo_count=1.0):
    n = len(next(iter(samples.values())))
    learned = {}
    for v, pa in parents.items():
        table = np.zeros([cardinalities[u] for u in pa] + [cardinalities[v]])
        for j in range(n):
            table[tuple(int(samples[u][j]) for u in pa) + (int(samples[v][j]),)] += 1
        table += pseudo_count
        learned[v] = table / table.sum(axis=-1, keepdims=True)
    return learned
""",
        # the lecture's bincount, with the pseudo count
        "ravel_multi_index and bincount, plus the pseudo count": """
def learn_tables(samples, parents, cardinalities, pseudo_count=1.0):
    learned = {}
    for v, pa in parents.items():
        shape = [cardinalities[u] for u in pa] + [cardinalities[v]]
        codes = np.ravel_multi_index([np.asarray(samples[u]) for u in [*pa, v]], shape)
        counts = np.bincount(codes, minlength=int(np.prod(shape))).reshape(shape) + pseudo_count
        learned[v] = counts / (counts.sum(axis=-1, keepdims=True))
    return learned
""",
    },
}
