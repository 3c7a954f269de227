"""MNIST and Fashion-MNIST: the original IDX files, checked by SHA-256, and a small embedded subset.

Where the full data comes from, in order:

1. ``DGM_DATA_DIR`` (offline machines, CI): ``<dir>/mnist-idx/*.gz`` and ``<dir>/fashion-mnist/*.gz``.
2. The cache, ``~/.keras/datasets/<folder>/`` (``KERAS_HOME`` moves it), filled by earlier downloads.
3. A download from the standard mirrors, verified against the checksums below and then cached.

FAST mode and the tests use the subset in ``assets/data/`` instead (``make assets`` rebuilds it), so
they need neither a download nor ``DGM_DATA_DIR``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from . import config

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

DATASETS = {
    "mnist": {
        "folder": "mnist-idx",
        "mirrors": [
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
        ],
        "sha256": {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        "licence": "MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0",
    },
    "fashion_mnist": {
        "folder": "fashion-mnist",
        "mirrors": [
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ],
        "sha256": {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        "licence": "Fashion-MNIST (Zalando Research), MIT",
    },
}

# The embedded subset: this many images per split, drawn with this seed (see build_subset).
SUBSET_SIZES = {"train": 5000, "test": 1000}
SUBSET_SEED = 20261121


class DataError(RuntimeError):
    """Data missing or corrupt; the message says how to fix it."""


def _spec(dataset: str) -> dict:
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[dataset]


def cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str) -> None:
    got = sha256(path)
    if got != expected:
        raise DataError(
            f"{path} is corrupt or not the original file: SHA-256 {got}, expected {expected}.\n"
            "Fix: delete it and load again (it will be downloaded), or copy the original file there."
        )


def _download(name: str, spec: dict, target: Path, mirrors: list[str] | None = None) -> list[str]:
    """Try each mirror; keep the first file whose checksum matches. Returns the failures."""
    failures = []
    target.parent.mkdir(parents=True, exist_ok=True)
    for base in mirrors or spec["mirrors"]:
        url = base + name
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        os.close(fd)
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
            _verify(Path(tmp), spec["sha256"][name])
            os.replace(tmp, target)
            return failures
        except (OSError, DataError) as err:
            failures.append(f"{url}: {err}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return failures


def locate(dataset: str, name: str, mirrors: list[str] | None = None, download: bool = True) -> Path:
    """The verified path of one original file, downloading it into the cache if needed."""
    spec = _spec(dataset)
    offline = config.data_dir()
    if offline is not None:
        path = offline / spec["folder"] / name
        if not path.exists():
            raise DataError(
                f"DGM_DATA_DIR is set to {offline}, but {path} does not exist.\n"
                f"Fix: put the four original {dataset} IDX files in {offline / spec['folder']}, "
                "or unset DGM_DATA_DIR to download them."
            )
        _verify(path, spec["sha256"][name])
        return path
    cached = cache_dir() / spec["folder"] / name
    if cached.exists():
        _verify(cached, spec["sha256"][name])
        return cached
    failures = _download(name, spec, cached, mirrors) if download else ["downloads disabled"]
    if cached.exists():
        return cached
    raise DataError(
        f"Could not get {name} ({dataset}).\n  " + "\n  ".join(failures) + "\n"
        "Fix: connect to the internet, or set DGM_DATA_DIR to a folder holding "
        f"{spec['folder']}/{name} (offline machines), or use FAST mode (DGM_MODE=fast), "
        "which needs no download."
    )


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (images: 16-byte header; labels: 8-byte header)."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise DataError(f"{path} is not an IDX file of unsigned bytes (magic number {magic:#x}).")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} is truncated: {data.size} bytes of data for shape {shape}.")
    return data.reshape(shape)


def load_full(dataset: str = "mnist", mirrors: list[str] | None = None) -> dict[str, np.ndarray]:
    """All of a dataset: uint8 images (N, 28, 28) and labels (N,) for train and test."""
    return {key: read_idx(locate(dataset, name, mirrors)) for key, name in FILES.items()}


def subset_path(dataset: str) -> Path:
    return config.ASSETS / "data" / f"{dataset}_subset.npz"


def load_subset(dataset: str = "mnist") -> dict[str, np.ndarray]:
    """The small embedded subset (no download): same keys and dtypes as ``load_full``."""
    path = subset_path(dataset)
    if not path.exists():
        raise DataError(
            f"The embedded subset {path} is missing.\n"
            "Fix: run `make assets` in the course folder (it needs the full data once)."
        )
    with np.load(path) as archive:
        return {key: archive[key] for key in FILES}


def load(dataset: str = "mnist", subset: bool | None = None) -> dict[str, np.ndarray]:
    """The data for the current mode: the subset in FAST mode, everything in FULL mode."""
    if subset is None:
        subset = config.is_fast()
    return load_subset(dataset) if subset else load_full(dataset)


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 vectors (N, 784) in [0, 1]."""
    return images.reshape(len(images), -1).astype("float32") / 255.0


def binarize(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dynamic binarisation: each pixel ~ Bernoulli(intensity), drawn afresh at every call."""
    probs = images if images.dtype != np.uint8 else to_float(images)
    return (rng.random(probs.shape, dtype=np.float32) < probs).astype("float32")


def binarized_batches(images: np.ndarray, batch_size: int, seed: int, labels: np.ndarray | None = None):
    """A shuffled ``tf.data`` pipeline of dynamically binarised batches (a fresh binarisation each epoch).

    images: float32 intensities (N, 784) in [0, 1]. Yields binary float32 batches, or (batch, labels)
    pairs when labels are given (e.g. one-hot vectors for a conditional model).
    """
    import tensorflow as tf

    # Shuffle indices, not images: filling a shuffle buffer with 60 000 images took up to 1.6 s at the
    # start of an epoch; a buffer of integers fills at once, and each batch is gathered in one op.
    arrays = [tf.convert_to_tensor(images)] + ([tf.convert_to_tensor(labels)] if labels is not None else [])
    order = tf.data.Dataset.range(len(images)).shuffle(len(images), seed=seed).batch(batch_size)
    # A generator keeps its state between passes. A plain tf.random op would restart its sequence at
    # every pass once a global seed is set (as the setup cell does): the same noise every epoch.
    noise = tf.random.Generator.from_seed(seed)

    def draw(index):
        x, *rest = (tf.gather(array, index) for array in arrays)
        binary = tf.cast(noise.uniform(tf.shape(x)) < x, tf.float32)
        return (binary, *rest) if rest else binary

    return order.map(draw).prefetch(2)


def choose_subset(n_total: int, size: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(n_total, size=size, replace=False))


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz whose bytes depend only on the arrays (fixed timestamps), so rebuilds are identical."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def build_subset(dataset: str, path: Path | None = None) -> Path:
    """Rebuild the embedded subset from the full, checksummed files (``make assets``)."""
    full = load_full(dataset)
    arrays = {}
    for split, size in SUBSET_SIZES.items():
        index = choose_subset(len(full[f"{split}_labels"]), size, SUBSET_SEED)
        arrays[f"{split}_images"] = full[f"{split}_images"][index]
        arrays[f"{split}_labels"] = full[f"{split}_labels"][index]
    path = path or subset_path(dataset)
    _write_npz(path, arrays)
    return path
