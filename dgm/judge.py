"""An independent judge for generated digits: a small classifier trained on real MNIST images only.

Units 06, 09 and 10 ask "does this generated image look like a 7?". A classifier that has nothing to do
with the model being judged, and has never seen a sample, turns that question into a number. Its test
accuracy bounds how far its verdicts can be trusted, so each lecture prints it and checks it.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dgm import training


def train(images, labels, epochs: int, seed: int, batch_size: int = 128) -> keras.Model:
    """A 784 → 256 → 10 MLP that returns logits, trained on ``images`` (N, 784) and digits ``labels`` (N,).

    The classifier has its own generators (initial weights and shuffling from ``seed``), so training it
    changes no other example's random numbers. It trains for all ``epochs`` whatever
    ``DGM_TRAIN_SECONDS`` says: that budget is for the models it judges, and a judge stopped early
    would lower every score it gives.
    """
    images = np.asarray(images, "float32")
    labels = np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != 784 or len(labels) != len(images):
        raise ValueError(
            f"judge.train: expected images of shape (N, 784) and N labels, got images {images.shape} "
            f"and {len(labels)} labels."
        )
    classifier = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(256, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)),
            keras.layers.Dense(10, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ],
        name="judge",
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images), seed=seed).batch(batch_size)
    # shuffle=False: the pipeline shuffles itself, and Keras would say so on stderr.
    classifier.fit(batches, epochs=epochs, verbose=0, shuffle=False, callbacks=[training.Progress(epochs)])
    return classifier


def probabilities(classifier: keras.Model, images) -> np.ndarray:
    """The judge's probability of each digit, shape (N, 10), for images of shape (N, 784)."""
    images = np.asarray(images, "float32")
    # Direct calls in chunks: ``predict`` costs about 50 ms a call however few the images (measured).
    logits = [classifier(images[start : start + 1000], training=False) for start in range(0, len(images), 1000)]
    return tf.nn.softmax(tf.concat(logits, axis=0)).numpy()


def digits(classifier: keras.Model, images) -> np.ndarray:
    """The judge's digit for each image of shape (N, 784)."""
    return np.argmax(probabilities(classifier, images), axis=1)
