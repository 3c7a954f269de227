"""Unit 09 (diffusion models): wrong answers that must lose points, correct alternatives that must not.

Each entry replaces one solution cell (by its nbgrader grade_id) with the code below; the test cells named in
TESTS must then lose points (every other test cell must keep full points). The code may use the names of the
lab's imports cell (types, plt, np, config). Most entries are edits of the solution (``edit``); full code is kept
for answers that are structurally different.
"""

from catalogue import Edits

ASSIGNMENT = "lab09_diffusion"
TESTS = {  # solution cell -> the test cell that grades it
    "cosine_schedule": "test_cosine_schedule",
    "predicted_clipped_steps": "test_predicted_clipped_steps",
    "q_sample": "test_q_sample",
    "posterior_mean_variance": "test_posterior_mean_variance",
    "ddpm_loss": "test_ddpm_loss",
    "predicted_best_loss": "test_predicted_best_loss",
    "reverse_step": "test_reverse_step",
    "eps_from_v": "test_eps_from_v",
}

edit = Edits(ASSIGNMENT)

# Lines of the solutions, quoted by the edits below.
CLIP = "np.clip(1.0 - ratio, 0.0, 0.999)"
Q_NOISE = "np.sqrt(1.0 - signal) * np.asarray(eps, np.float64)"
POST_VAR = "return mean, beta * (1.0 - abar_prev) / denominator"
DRAW_T = "rng.integers(1, T + 1, size=len(x0))"
SIGMA = "np.where(t > 1, np.sqrt(schedule.betas[t]), 0.0)"
V_EPS = "abar**0.5 * v + (1.0 - abar) ** 0.5 * xt"

WRONG = {
    "cosine_schedule": {
        "no clipping: beta_T = 1": edit("cosine_schedule", {CLIP: "(1.0 - ratio)"}),
        "the offset s forgotten": edit("cosine_schedule", {"(steps / T + s) / (1 + s)": "(steps / T)"}),
        "cos instead of cos^2": edit("cosine_schedule", {"np.pi / 2) ** 2": "np.pi / 2)"}),
        "alpha_bars = f(t) / f(0), which disagrees with the clipped beta_T": edit(
            "cosine_schedule", {"return betas, np.cumprod(1.0 - betas)": "return betas, f / f[0]"}
        ),
        # structurally different: the lecture's schedule, adapted to the lab's signature
        "pasted the lecture's version: the (rescaled) linear schedule": """
def cosine_schedule(T, s=0.008):
    scale = 1000.0 / T
    betas = np.concatenate([[0.0], np.linspace(scale * 1e-4, scale * 0.02, T)])
    return betas, np.cumprod(1.0 - betas)
""",
    },
    "predicted_clipped_steps": {
        "0: the clip never acts": "predicted_clipped_steps = 0",
        "10: the last steps all clip": "predicted_clipped_steps = 10",
    },
    "q_sample": {
        "noise scaled by beta_t instead of sqrt(1 - alpha_bar_t)": edit(
            "q_sample",
            {Q_NOISE: "np.asarray(schedule.betas)[np.asarray(t)].reshape(signal.shape) * np.asarray(eps, np.float64)"},
        ),
        "noise scaled by the variance 1 - alpha_bar_t": edit(
            "q_sample", {Q_NOISE: "(1.0 - signal) * np.asarray(eps, np.float64)"}
        ),
        "alpha_bar off by one step (alpha_bars[t - 1])": edit(
            "q_sample", {"alpha_bars)[np.asarray(t)]": "alpha_bars)[np.asarray(t) - 1]"}
        ),
        # structurally different: the lecture's train_step indexing, for flat (B, D) data only
        "pasted the lecture's version: alpha_bars[t][:, None], right only for flat data": """
def q_sample(x0, t, eps, schedule):
    ab = schedule.alpha_bars[t][:, None]
    return np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps
""",
    },
    "posterior_mean_variance": {
        "posterior variance beta_t instead of beta-tilde_t": edit(
            "posterior_mean_variance", {POST_VAR: "return mean, beta"}
        ),
        "the mean with alpha and alpha-bar swapped (sqrt(abar_t) on x_t)": edit(
            "posterior_mean_variance", {"coef_xt = (1.0 - beta) ** 0.5 *": "coef_xt = abar**0.5 *"}
        ),
        "alpha_bar_(t-1) replaced by alpha_bar_t (off by one)": edit(
            "posterior_mean_variance", {"schedule.alpha_bars[t - 1]": "schedule.alpha_bars[t]"}
        ),
        # structurally different: the lecture's posterior_terms, written for one t shared by the batch
        "pasted the lecture's version: one t for the whole batch, coefficients not broadcast per example": """
def posterior_mean_variance(x0, xt, t, schedule):
    betas, alpha_bars = schedule.betas, schedule.alpha_bars
    beta, ab, ab_prev = betas[t], alpha_bars[t], alpha_bars[t - 1]
    mean = (np.sqrt(ab_prev) * beta * x0 + np.sqrt(1 - beta) * (1 - ab_prev) * xt) / (1 - ab)
    return mean, (1 - ab_prev) / (1 - ab) * beta
""",
    },
    "ddpm_loss": {
        "t sampled from 0 (rng.integers(0, T))": edit("ddpm_loss", {DRAW_T: "rng.integers(0, T, size=len(x0))"}),
        "t sampled from 0 to T": edit("ddpm_loss", {DRAW_T: "rng.integers(0, T + 1, size=len(x0))"}),
        "t never reaches T (rng.integers(1, T))": edit("ddpm_loss", {DRAW_T: "rng.integers(1, T, size=len(x0))"}),
        "one t for the whole batch": edit("ddpm_loss", {DRAW_T: "np.full(len(x0), rng.integers(1, T + 1))"}),
        "noise scaled by beta_t instead of sqrt(1 - alpha_bar_t)": edit(
            "ddpm_loss", {"np.sqrt(1.0 - keep) * eps": "schedule.betas[t].reshape(keep.shape) * eps"}
        ),
        "a sum over the entries instead of the mean": edit("ddpm_loss", {"float(np.mean(": "float(np.sum("}),
    },
    "predicted_best_loss": {
        "(a): zero, the best predictor is exact": 'predicted_best_loss = "a"',
        "(c): one, the variance of eps": 'predicted_best_loss = "c"',
    },
    "reverse_step": {
        "noise added at the last sampling step (t = 1)": edit("reverse_step", {SIGMA: "np.sqrt(schedule.betas[t])"}),
        "pasted the lecture's version: sigma_t^2 = beta-tilde_t": edit(
            "reverse_step",
            {
                "np.sqrt(schedule.betas[t]), 0.0)": (
                    "np.sqrt((1 - schedule.alpha_bars[t - 1]) / (1 - schedule.alpha_bars[t]) * schedule.betas[t]), 0.0)"
                )
            },
        ),
        "the mean with alpha and alpha-bar swapped": edit(
            "reverse_step", {"/ np.sqrt(1.0 - abar) *": "/ np.sqrt(beta) *", "/ np.sqrt(1.0 - beta)": "/ np.sqrt(abar)"}
        ),
        "noise scaled by beta_t instead of sqrt(beta_t)": edit(
            "reverse_step", {"np.sqrt(schedule.betas[t]), 0.0)": "schedule.betas[t], 0.0)"}
        ),
        "the noise prediction added instead of subtracted": edit("reverse_step", {"(xt - beta": "(xt + beta"}),
    },
    "eps_from_v": {
        "the two coefficients swapped": edit("eps_from_v", {V_EPS: "(1.0 - abar) ** 0.5 * v + abar**0.5 * xt"}),
        "a sign: sqrt(abar) v - sqrt(1 - abar) x_t": edit(
            "eps_from_v", {V_EPS: "abar**0.5 * v - (1.0 - abar) ** 0.5 * xt"}
        ),
        "alpha_bar off by one step": edit("eps_from_v", {"alpha_bars[np.asarray(t)]": "alpha_bars[np.asarray(t) - 1]"}),
    },
}

CORRECT = {
    "cosine_schedule": {
        "alpha-bar first, then the ratio, np.minimum for the clip": """
def cosine_schedule(T, s=0.008):
    grid = np.linspace(0.0, 1.0, T + 1)
    abar = np.cos((grid + s) / (1 + s) * np.pi / 2) ** 2
    abar = abar / abar[0]
    betas = np.zeros(T + 1)
    betas[1:] = np.minimum(1 - abar[1:] / abar[:-1], 0.999)
    return betas, np.cumprod(1 - betas)
""",
    },
    "predicted_clipped_steps": {"a float": "predicted_clipped_steps = 1.0"},
    "q_sample": {
        "transposes: the batch axis last, so that (B,) broadcasts": """
def q_sample(x0, t, eps, schedule):
    ab = schedule.alpha_bars[np.asarray(t)]
    return (np.sqrt(ab) * np.asarray(x0).T + np.sqrt(1 - ab) * np.asarray(eps).T).T
""",
    },
    "posterior_mean_variance": {
        "direct conditioning of the joint Gaussian, with expand_dims in a loop": """
def posterior_mean_variance(x0, xt, t, schedule):
    x0, xt, t = np.asarray(x0, float), np.asarray(xt, float), np.asarray(t)
    ab, ab_prev, alpha = schedule.alpha_bars[t], schedule.alpha_bars[t - 1], 1 - schedule.betas[t]
    cov12, var2 = np.sqrt(alpha) * (1 - ab_prev), 1 - ab
    gain, shift, mean_prev = cov12 / var2, np.sqrt(ab), np.sqrt(ab_prev)
    for _ in range(x0.ndim - 1):
        gain, shift, mean_prev = gain[..., None], shift[..., None], mean_prev[..., None]
    mean = mean_prev * x0 + gain * (xt - shift * x0)
    return mean, (1 - ab_prev) - cov12**2 / var2
""",
    },
    "ddpm_loss": {
        "rng.integers with endpoint=True": edit(
            "ddpm_loss", {DRAW_T: "rng.integers(1, T, size=len(x0), endpoint=True)"}
        ),
    },
    "predicted_best_loss": {"the capital letter, with spaces": 'predicted_best_loss = " B "'},
    "reverse_step": {
        "the noise masked after the step": """
def reverse_step(eps_model, xt, t, z, schedule):
    xt, t = np.asarray(xt, float), np.asarray(t)
    shape = (-1,) + (1,) * (xt.ndim - 1)
    b, ab = schedule.betas[t].reshape(shape), schedule.alpha_bars[t].reshape(shape)
    x = (xt - b / np.sqrt(1 - ab) * eps_model(xt, t)) / np.sqrt(1 - b)
    noise = np.sqrt(b) * np.asarray(z)
    noise[t == 1] = 0.0
    return x + noise
""",
    },
    "eps_from_v": {
        "through the x0 prediction": """
def eps_from_v(xt, v, t, schedule):
    xt, v = np.asarray(xt, float), np.asarray(v, float)
    ab = schedule.alpha_bars[np.asarray(t)].reshape((-1,) + (1,) * (xt.ndim - 1))
    x0 = np.sqrt(ab) * xt - np.sqrt(1 - ab) * v
    return (xt - np.sqrt(ab) * x0) / np.sqrt(1 - ab)
""",
    },
}
