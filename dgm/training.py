"""Training helpers shared by the model notebooks: compact progress lines and an optional time budget.

``DGM_TRAIN_SECONDS`` (unset by default) stops every ``model.fit`` that uses :func:`callbacks` before
its training would pass that many seconds. The benchmark uses it ("60 s of training on two CPU
cores"); students can use it to try FULL-size data on a slow machine.
"""

from __future__ import annotations

import os
import time

import keras


def progress(iterable, label: str, total: int | None = None, every: float = 0.25):
    """Yield from ``iterable``, printing a line like ``label: 50% (100/200), 3.1 s`` as it goes.

    For custom loops a student waits on (sampling steps, CAVI sweeps, importance samples): a line at
    each ``every`` fraction of the work and at the end, with the seconds elapsed, rather than a
    progress bar (bars need widgets, and nbgrader and the website show only text). ``total`` is
    ``len(iterable)`` unless given.
    """
    total = len(iterable) if total is None else total
    if total <= 0:
        raise ValueError(f"progress({label!r}): expected a positive number of steps, got {total}.")
    step = max(1, round(total * every))
    start = time.perf_counter()
    done = 0
    try:
        for done, item in enumerate(iterable, start=1):
            yield item
            if done % step == 0 or done == total:
                seconds = time.perf_counter() - start
                print(f"{label}: {100 * done / total:3.0f}% ({done}/{total}), {seconds:.1f} s", flush=True)
    finally:
        if done != total:  # the loop stopped early (a break, an error, or fewer items than ``total``)
            print(f"{label}: stopped at {done}/{total}, {time.perf_counter() - start:.1f} s", flush=True)


def train_seconds() -> float | None:
    """The time budget from ``DGM_TRAIN_SECONDS``, or None when unset."""
    value = os.environ.get("DGM_TRAIN_SECONDS", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"DGM_TRAIN_SECONDS must be a number of seconds, got {value!r}.") from None
    if seconds <= 0:
        raise ValueError(f"DGM_TRAIN_SECONDS must be positive, got {seconds}.")
    return seconds


class Progress(keras.callbacks.Callback):
    """One short line every ``every`` epochs (and at the last one), instead of Keras's progress bars."""

    def __init__(self, epochs: int, every: int | None = None):
        super().__init__()
        self.epochs = epochs
        self.every = every or max(1, epochs // 5)
        self.start = time.perf_counter()
        self.seconds = 0.0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs or self.model.stop_training:
            values = "  ".join(f"{name} {value:.2f}" for name, value in (logs or {}).items())
            print(f"epoch {epoch + 1:>3}/{self.epochs}  {self.seconds:5.1f} s  {values}", flush=True)


class TimeBudget(keras.callbacks.Callback):
    """Stop training before ``seconds`` of training have passed.

    Between epochs, the next one is predicted to take as long as the last (validation included) and is
    not started if it would end past the budget. Within an epoch, training stops after the batch that
    passes the budget: an epoch can be long (a U-Net over 60 000 images on a CPU), so a run never
    goes over the budget by more than one batch and one validation pass.
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.start = self.epoch_start = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if (now - self.start) + (now - self.epoch_start) > self.seconds:
            self.model.stop_training = True


def callbacks(epochs: int, every: int | None = None) -> list[keras.callbacks.Callback]:
    """The ``DGM_TRAIN_SECONDS`` budget when it is set, and progress lines. Use with ``verbose=0``."""
    budget = train_seconds()
    return ([TimeBudget(budget)] if budget else []) + [Progress(epochs, every)]


def jit_compile() -> bool | str:
    """What to pass as ``model.compile(jit_compile=...)``: XLA on a CPU-only machine too.

    Keras's default ("auto") turns XLA on only with a GPU; on two CPU cores XLA made lecture 05's VAE
    about 1.5 times faster. With a GPU, "auto" lets Keras decide (it knows, e.g., that Apple's Metal
    plugin has no XLA).
    """
    import tensorflow as tf

    return "auto" if [d for d in tf.config.list_physical_devices() if d.device_type != "CPU"] else True


def fit(model: keras.Model, dataset, epochs: int, validation_data=None, every: int | None = None):
    """``model.fit`` on a ``tf.data`` pipeline with :func:`callbacks`; returns the History.

    The pipeline shuffles itself (``dgm.data.binarized_batches``); ``shuffle=False`` keeps Keras from
    warning about it on stderr, which nbgrader would count against a correct answer.
    """
    steps = int(dataset.cardinality()) if hasattr(dataset, "cardinality") else -1
    steps_per_epoch = None
    if steps > 0:
        # Keras otherwise starts a new iterator each epoch and ends the epoch on an end-of-data error;
        # with XLA on the CPU that stalled the next epoch's first step by up to 2 s (measured). One
        # repeated iterator with the same number of steps per epoch gives the same epochs, reshuffled.
        dataset, steps_per_epoch = dataset.repeat(), steps
    return model.fit(
        dataset,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation_data,
        verbose=0,
        shuffle=False,
        callbacks=callbacks(epochs, every),
    )
