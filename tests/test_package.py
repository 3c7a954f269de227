"""Unit tests of the helper package: configuration, data loading, checks."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from dgm import checks, config, data

# The original data files: DGM_DATA_DIR (the Makefile sets it to ../shared/data when that is there).
SHARED_DATA = Path(os.environ.get("DGM_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data")
needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "mnist-idx").is_dir(), reason="no original data files (set DGM_DATA_DIR)"
)


# --- config -------------------------------------------------------------------------------------


def test_mode_defaults_to_full_and_nbgrader_forces_fast(monkeypatch):
    monkeypatch.delenv("DGM_MODE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert config.mode() == "full" and config.pick(1, 2) == 2
    monkeypatch.setenv("DGM_MODE", "FAST")
    assert config.is_fast() and config.pick(1, 2) == 1
    monkeypatch.setenv("DGM_MODE", "full")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert config.mode() == "fast"


def test_bad_mode_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("DGM_MODE", "quick")
    with pytest.raises(ValueError, match="DGM_MODE must be 'fast' or 'full', got 'quick'"):
        config.mode()


def test_version_check_names_what_is_missing_or_old():
    ok = {"tensorflow": "2.21.0", "tensorflow_probability": "0.25.0", "keras": "3.15.1", "numpy": "2.4.6"}
    assert config.check_versions(ok) == []
    problems = config.check_versions({**ok, "keras": "2.15.0", "numpy": None} | {})
    assert any("keras 2.15.0 is too old" in p for p in problems)
    problems = config.check_versions({k: v for k, v in ok.items() if k != "tensorflow"})
    assert problems == ["tensorflow is not installed (need >= 2.16)."]


def test_setup_reports_environment_and_seeds(capsys, monkeypatch):
    monkeypatch.setenv("DGM_SEED", "5")
    report = config.setup()
    printed = capsys.readouterr().out
    assert report["seed"] == 5 and report["where"] == "local" and report["mode"] in ("FAST", "FULL")
    assert "tensorflow: " in printed and "device: CPU" in printed
    a = np.random.rand()
    config.seed_everything(5)
    assert np.random.rand() == a


# --- data ---------------------------------------------------------------------------------------


def test_subset_is_embedded_with_the_expected_shapes():
    for name in data.DATASETS:
        subset = data.load_subset(name)
        assert subset["train_images"].shape == (data.SUBSET_SIZES["train"], 28, 28)
        assert subset["test_labels"].shape == (data.SUBSET_SIZES["test"],)
        assert subset["train_images"].dtype == np.uint8
        assert set(np.unique(subset["train_labels"])) == set(range(10))


def test_fast_mode_loads_the_subset_without_any_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("DGM_MODE", "fast")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache
    monkeypatch.delenv("DGM_DATA_DIR", raising=False)
    assert len(data.load("mnist")["train_images"]) == data.SUBSET_SIZES["train"]


def test_binarize_is_dynamic_and_matches_intensities():
    images = np.full((2000, 28, 28), 64, dtype=np.uint8)
    rng = np.random.default_rng(0)
    a, b = data.binarize(images, rng), data.binarize(images, rng)
    assert a.shape == (2000, 784) and set(np.unique(a)) <= {0.0, 1.0}
    assert not np.array_equal(a, b)
    assert abs(a.mean() - 64 / 255) < 0.005  # 1.6M Bernoulli draws: sd of the mean is 3.5e-4


def test_missing_data_dir_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("DGM_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataError, match="Fix: put the four original mnist IDX files"):
        data.load_full("mnist")


def test_download_failure_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.delenv("DGM_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match="Fix: connect to the internet, or set DGM_DATA_DIR"):
        data.locate("mnist", data.FILES["test_labels"], mirrors=[(tmp_path / "nowhere").as_uri() + "/"])


def test_a_corrupt_file_is_rejected_by_its_checksum(monkeypatch, tmp_path):
    folder = tmp_path / "mnist-idx"
    folder.mkdir()
    with gzip.open(folder / data.FILES["test_labels"], "wb") as handle:
        handle.write(b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x03")
    monkeypatch.setenv("DGM_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataError, match="corrupt or not the original file"):
        data.locate("mnist", data.FILES["test_labels"])


def test_read_idx_rejects_truncated_files(tmp_path):
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 100)
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(path)


@needs_shared
def test_download_from_a_mirror_fills_the_cache_and_verifies(monkeypatch, tmp_path):
    """The real download path, with the offline copy served as a file:// mirror."""
    monkeypatch.delenv("DGM_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "cache"))
    mirror = (SHARED_DATA / "mnist-idx").as_uri() + "/"
    path = data.locate("mnist", data.FILES["test_labels"], mirrors=[(tmp_path / "bad").as_uri() + "/", mirror])
    assert path == tmp_path / "cache" / "datasets" / "mnist-idx" / data.FILES["test_labels"]
    assert data.read_idx(path).shape == (10_000,)
    # Second time: from the cache, no mirror needed.
    assert data.locate("mnist", data.FILES["test_labels"], mirrors=["file:///nonexistent/"]) == path


@needs_shared
@pytest.mark.parametrize("name", list(data.DATASETS))
def test_full_data_from_the_offline_folder(monkeypatch, name):
    monkeypatch.setenv("DGM_DATA_DIR", str(SHARED_DATA))
    full = data.load_full(name)
    assert full["train_images"].shape == (60_000, 28, 28) and full["test_images"].shape == (10_000, 28, 28)
    assert full["train_labels"].max() == 9


@needs_shared
@pytest.mark.parametrize("name", list(data.DATASETS))
def test_subset_rebuilds_byte_for_byte(monkeypatch, tmp_path, name):
    """`make assets` is reproducible: the committed subset is exactly what the build gives."""
    monkeypatch.setenv("DGM_DATA_DIR", str(SHARED_DATA))
    rebuilt = data.build_subset(name, tmp_path / "subset.npz")
    assert rebuilt.read_bytes() == data.subset_path(name).read_bytes()


def test_missing_subset_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "ASSETS", tmp_path)
    with pytest.raises(data.DataError, match="make assets"):
        data.load_subset("mnist")


# --- checks -------------------------------------------------------------------------------------


def test_assert_close_says_expected_and_got():
    checks.assert_close([1.0, 2.0], [1.0, 2.0], "f(x)")
    with pytest.raises(checks.CheckFailure, match=r"f\(x\): expected \[1., 2.\], got \[1., 3.\]"):
        checks.assert_close([1.0, 3.0], [1.0, 2.0], "f(x)")


def test_assert_close_names_a_matching_misconception():
    with pytest.raises(checks.CheckFailure, match="Hint: arguments swapped"):
        checks.assert_close(0.3, 0.5, "kl", hints=[(0.7, "not this one"), (0.3, "arguments swapped")])
    with pytest.raises(checks.CheckFailure) as info:
        checks.assert_close(0.31, 0.5, "kl", hints=[(0.3, "arguments swapped")])
    assert "Hint" not in str(info.value)


@pytest.mark.parametrize(
    "got,message",
    [
        (None, "returned None: did you forget the `return` statement"),
        ("text", "not a number or an array"),
        (np.ones(3), r"expected shape \(\), got shape \(3,\)"),
        (np.float64("nan"), "got NaN where"),
    ],
)
def test_assert_close_explains_malformed_answers(got, message):
    with pytest.raises(checks.CheckFailure, match=message):
        checks.assert_close(got, 1.0, "f")


def test_shape_message_detects_a_sum_over_the_batch():
    with pytest.raises(checks.CheckFailure, match="did you sum or average over the batch"):
        checks.assert_close(3.0, [1.0, 2.0], "f")


def test_within_se_and_in_range():
    checks.assert_within_se(1.02, 1.0, 0.01, "est")
    with pytest.raises(checks.CheckFailure, match="Hint: sign"):
        checks.assert_within_se(-1.0, 1.0, 0.01, "est", hints=[(-1.0, "sign")])
    with pytest.raises(checks.CheckFailure, match=r"expected a value in \[0, 1\], got nan"):
        checks.assert_in_range(float("nan"), 0, 1, "p")


def test_the_package_holds_no_solution_code():
    """Students can read dgm/: no lab's function name may be defined there."""
    import ast

    names = set()
    for path in (Path(config.REPO_ROOT) / "source" / "labs").glob("*.py"):
        tree = ast.parse(path.read_text())
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert names
    for path in (Path(config.REPO_ROOT) / "dgm").glob("*.py"):
        tree = ast.parse(path.read_text())
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not names & defined, f"{path.name} defines lab functions {names & defined}"


# --- widgets ------------------------------------------------------------------------------------


def test_explore_redraws_when_a_slider_moves(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from dgm import widgets

    monkeypatch.delenv("DGM_HEADLESS", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    calls = []
    box = widgets.explore(
        lambda m, s: calls.append((m, s)),
        m=widgets.slider(0.0, -1, 1, 0.1, "m"),
        s=widgets.slider(1.0, 0.5, 2, 0.1, "s"),
    )
    assert calls == [(0.0, 1.0)], "explore draws once at once"
    box.children[0].children[0].value = 0.5
    assert calls[-1] == (0.5, 1.0)


def test_integer_and_choice_controls_redraw(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from dgm import widgets

    monkeypatch.delenv("DGM_HEADLESS", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    calls = []
    box = widgets.explore(
        lambda digit, seed: calls.append((digit, seed)),
        digit=widgets.choice(range(10), 3, "digit"),
        seed=widgets.integer(0, 0, 50, "seed"),
    )
    assert calls == [(3, 0)]
    digit, seed = box.children[0].children
    digit.value, seed.value = 7, 12
    assert calls[-1] == (7, 12) and isinstance(calls[-1][1], int)


def test_explore_headless_draws_once_without_widgets(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from dgm import widgets

    monkeypatch.setenv("DGM_HEADLESS", "1")
    calls = []
    assert widgets.explore(lambda m: calls.append(m), m=widgets.slider(0.3, 0, 1, 0.1, "m")) is None
    assert calls == [0.3]


# --- training helpers -----------------------------------------------------------------------------


def test_time_budget_is_read_from_the_environment(monkeypatch):
    from dgm import training

    monkeypatch.delenv("DGM_TRAIN_SECONDS", raising=False)
    assert training.train_seconds() is None
    assert [type(c).__name__ for c in training.callbacks(10)] == ["Progress"]
    monkeypatch.setenv("DGM_TRAIN_SECONDS", "60")
    assert training.train_seconds() == 60.0
    assert [type(c).__name__ for c in training.callbacks(10)] == ["TimeBudget", "Progress"]
    monkeypatch.setenv("DGM_TRAIN_SECONDS", "a minute")
    with pytest.raises(ValueError, match="DGM_TRAIN_SECONDS must be a number of seconds, got 'a minute'"):
        training.train_seconds()


@pytest.mark.parametrize("epoch_seconds, epochs, seconds", [(25, 2, 50), (20, 3, 60), (70, 1, 70)])
def test_time_budget_stops_before_an_epoch_would_overrun(monkeypatch, epoch_seconds, epochs, seconds):
    import types

    import keras

    from dgm import training

    now = [0.0]
    monkeypatch.setattr(training, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    budget = training.TimeBudget(60)
    budget.set_model(model)
    model.stop_training = False
    budget.on_train_begin()
    ran = 0
    while not model.stop_training:
        budget.on_epoch_begin(ran)
        now[0] += epoch_seconds
        budget.on_epoch_end(ran)
        ran += 1
    assert (ran, now[0]) == (epochs, seconds), f"expected {epochs} epochs in {seconds} s, got {ran} in {now[0]} s"


def test_time_budget_stops_within_a_long_epoch():
    """A single epoch can outlast the budget (a U-Net over full MNIST on a CPU): Keras must stop after
    the batch that passes it, not at the epoch's end."""
    import keras
    import numpy as np

    from dgm import training

    class Count(keras.callbacks.Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            Count.batches += 1

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((640, 1), "float32")
    model.fit(x, x, batch_size=8, epochs=3, verbose=0, callbacks=[training.TimeBudget(1e-9), Count()])
    assert Count.batches == 1, f"expected training to stop after the first of 80 batches, it ran {Count.batches}"


def test_image_grid_needs_a_title_and_sets_it():
    import matplotlib

    matplotlib.use("Agg")
    from dgm import plotting

    fig = plotting.image_grid(np.zeros((4, 784), "float32"), 2, 2, "four blank images")
    assert fig._suptitle.get_text() == "four blank images"
    with pytest.raises(ValueError, match="needs a title"):
        plotting.image_grid(np.zeros((4, 784), "float32"), 2, 2, " ")


def test_progress_prints_each_quarter_and_says_when_a_loop_stopped_early(capsys):
    from dgm.training import progress

    assert list(progress(range(8), "sampling")) == list(range(8)), "progress must yield every item, in order"
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "sampling:  25% (2/8)",
        "sampling:  50% (4/8)",
        "sampling:  75% (6/8)",
        "sampling: 100% (8/8)",
    ], lines
    for item in progress(range(8), "sweeps"):
        if item == 2:
            break
    assert capsys.readouterr().out.splitlines()[-1].startswith("sweeps: stopped at 3/8"), "a break must be reported"
    with pytest.raises(ValueError, match="positive number of steps"):
        list(progress([], "nothing"))


def test_jit_compile_is_on_for_cpu_only_and_left_to_keras_with_an_accelerator(monkeypatch):
    import types

    import tensorflow as tf

    from dgm import training

    cpu, gpu = types.SimpleNamespace(device_type="CPU"), types.SimpleNamespace(device_type="GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda *kind: [cpu])
    assert training.jit_compile() is True
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda *kind: [cpu, gpu])
    assert training.jit_compile() == "auto"


def test_fit_runs_whole_epochs_of_a_pipeline():
    import keras

    from dgm import training

    pictures = np.random.default_rng(0).random((100, 784), dtype=np.float32)
    dataset = data.binarized_batches(pictures, 32, seed=0, labels=np.zeros((100, 1), dtype="float32"))
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = training.fit(model, dataset, 3, every=3)
    assert len(history.history["loss"]) == 3
    assert int(model.optimizer.iterations) == 3 * 4, "expected 4 batches (32, 32, 32, 4) in each of 3 epochs"


def test_binarized_batches_are_binary_and_fresh_each_epoch():
    import tensorflow as tf

    tf.random.set_seed(0)  # as every notebook's setup cell does: each pass must still draw anew
    pictures = np.full((64, 784), 0.5, dtype="float32")
    dataset = data.binarized_batches(pictures, 32, seed=0, labels=np.arange(64))
    first = np.concatenate([x.numpy() for x, _ in dataset])
    second = np.concatenate([x.numpy() for x, _ in dataset])
    assert set(np.unique(first)) <= {0.0, 1.0} and first.shape == (64, 784)
    assert 0.45 < first.mean() < 0.55, "pixels of intensity 0.5 should be on about half the time"
    assert not np.array_equal(first, second), "each pass should draw a new binarisation"


def test_binarized_batches_keep_labels_with_their_images_and_shuffle_each_epoch():
    labels = np.arange(100)
    pictures = np.repeat((labels % 2).astype("float32")[:, None], 784, axis=1)  # odd images all on, even off
    dataset = data.binarized_batches(pictures, 32, seed=0, labels=labels)
    orders = []
    for _ in range(2):
        batches = list(dataset)
        assert [len(y) for _, y in batches] == [32, 32, 32, 4]
        for x, y in batches:
            expected = np.repeat((y.numpy() % 2)[:, None], 784, axis=1)
            assert np.array_equal(x.numpy(), expected), "each image should come with its own label"
        orders.append(np.concatenate([y.numpy() for _, y in batches]))
    assert sorted(orders[0]) == list(labels), "one pass should show every image once"
    assert not np.array_equal(orders[0], labels) and not np.array_equal(*orders), "expected a new order each pass"


def test_binarized_batches_are_reproducible():
    pictures = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    runs = [np.concatenate([x.numpy() for x in data.binarized_batches(pictures, 32, seed=3)]) for _ in range(2)]
    assert np.array_equal(*runs), "the same seed should give the same batches"


def test_without_tfp_kl_refuses_tfp_inside_the_call_only():
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    p, q = tfd.Normal(0.0, 1.0), tfd.Normal(1.0, 2.0)
    with pytest.raises(checks.CheckFailure, match="not allowed"):
        checks.without_tfp_kl(lambda: tfd.kl_divergence(p, q), "kl")()
    with pytest.raises(checks.CheckFailure, match="not allowed"):
        checks.without_tfp_kl(lambda: p.kl_divergence(q), "kl")()
    assert checks.without_tfp_kl(lambda a: a + 1, "kl")(1) == 2  # a formula is fine
    assert float(tfd.kl_divergence(p, q)) > 0  # and TFP is back afterwards


# --- judge --------------------------------------------------------------------------------------


def _separable_digits(n=300, seed=0):
    """Images whose digit is which block of 78 pixels is bright: a classifier learns them in a few epochs."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.random((n, 784), dtype=np.float32) * 0.2
    for i, label in enumerate(labels):
        images[i, label * 78 : (label + 1) * 78] += 0.8
    return images, labels


def _dense_weights(keras):
    """Weights that Keras draws from its global seed, as a lecture's next model would."""
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    return layer.kernel.numpy()


def test_judge_is_seeded_and_trains_all_its_epochs_whatever_the_budget(monkeypatch):
    import keras

    from dgm import judge

    images, labels = _separable_digits()
    # This budget would stop a dgm.training.fit after its first epoch; the judge is not the model judged.
    monkeypatch.setenv("DGM_TRAIN_SECONDS", "0.001")
    keras.utils.set_random_seed(5)
    first = judge.train(images, labels, epochs=4, seed=3)
    after_judge = _dense_weights(keras)
    keras.utils.set_random_seed(5)
    without_judge = _dense_weights(keras)
    again = judge.train(images, labels, epochs=4, seed=3)
    assert len(first.history.history["loss"]) == 4, "the judge stopped before its last epoch"
    for a, b in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(after_judge, without_judge, "training the judge used Keras's global generator")
    probabilities = judge.probabilities(first, images)
    assert probabilities.shape == (len(images), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(judge.digits(first, images) == labels) > 0.9


def test_judge_rejects_images_of_the_wrong_shape():
    from dgm import judge

    with pytest.raises(ValueError, match=r"expected images of shape \(N, 784\) and N labels, got images \(5, 28, 28\)"):
        judge.train(np.zeros((5, 28, 28)), np.zeros(5), epochs=1, seed=0)
