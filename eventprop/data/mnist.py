"""MNIST (LeCun, Cortes & Burges), read from the four original gzip IDX files.

The files are looked for in two layouts: torchvision's `MNIST/raw/` (so a copy downloaded
for torchvision is reused) and a flat `mnist/` folder. Only numpy and the standard library are
needed, and a download fetches the very files torchvision does, checked by their MD5 sums.
"""
import gzip
import hashlib
import http.client
import os
import urllib.request

import numpy as np

from eventprop.data.paths import MissingDataError, data_dir

# file name: canonical MD5 sum, in the order the splits are returned
FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# the mirrors torchvision uses, in its order (the original site often refuses downloads)
MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]

_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


def _folders(root):
    base = data_dir(root)
    return [base / "MNIST" / "raw", base / "mnist"]


def _read_idx(path, magic):
    """The array in a gzip IDX file: a big-endian uint32 magic number (0x0000080N for unsigned
    bytes in N dimensions), N big-endian uint32 sizes, then the bytes. A wrong magic number or
    a byte count that does not match the sizes (a truncated or mislabelled file) is an error
    naming the file rather than a silently misshapen array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = magic & 0xFF
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise ValueError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: IDX magic number is {found:#010x}, expected {magic:#010x}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if len(data) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: header gives shape {shape} ({int(np.prod(shape))} bytes) "
                         f"but {len(data) - header} bytes follow it")
    # a copy, so that callers get a writable array rather than a view of immutable bytes
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _fetch(name, folder):
    """Download `name` into `folder`, trying each mirror in turn; the bytes go to a temporary
    file in the same folder that replaces the target only once its MD5 sum is right, so an
    interrupted or corrupted download never leaves a file that looks complete."""
    errors = []
    for mirror in MIRRORS:
        url = mirror + name
        tmp = folder / f".{name}.{os.getpid()}.part"  # same folder: os.replace stays atomic
        try:
            md5 = hashlib.md5()
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    md5.update(chunk)
                    out.write(chunk)
            if md5.hexdigest() != FILES[name]:
                errors.append(f"{url}: MD5 {md5.hexdigest()}, expected {FILES[name]}")
                continue
            os.replace(tmp, folder / name)
            return None
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return f"{name} ({'; '.join(errors)})"


def load_mnist(root=None, download=False):
    """The MNIST splits as a dict: "train_images" (60000, 28, 28) uint8, "train_labels"
    (60000,) int64, "test_images" (10000, 28, 28) uint8, "test_labels" (10000,) int64.

    The first of data_dir(root)/MNIST/raw and data_dir(root)/mnist that holds all four files is
    read. If neither does and `download` is true, the missing files are fetched into
    MNIST/raw; otherwise MissingDataError says which files are missing and where they go."""
    folders = _folders(root)
    found = next((f for f in folders if all((f / n).is_file() for n in FILES)), None)
    if found is None and download:
        found = folders[0]
        found.mkdir(parents=True, exist_ok=True)
        failed = [_fetch(n, found) for n in FILES if not (found / n).is_file()]
        failed = [f for f in failed if f]
        if failed:
            raise MissingDataError(f"MNIST download into {found} failed for "
                                   + ", ".join(failed) + "; put the files there by hand, or "
                                   "set EVENTPROP_DATA (or root) to a folder that has them")
    if found is None:
        missing = "; ".join(
            f"{f} lacks " + ", ".join(n for n in FILES if not (f / n).is_file())
            for f in folders)
        raise MissingDataError(
            f"MNIST files not found: {missing}. Call load_mnist(download=True) to fetch them "
            f"into {folders[0]}, or set EVENTPROP_DATA (or pass root) to the data folder "
            "holding MNIST/raw/ or mnist/ with the four files")
    names = list(FILES)
    data = {}
    for split, images, labels in (("train", names[0], names[1]), ("test", names[2], names[3])):
        x = _read_idx(found / images, _IMAGES_MAGIC)
        y = _read_idx(found / labels, _LABELS_MAGIC).astype(np.int64)
        if len(x) != len(y):
            raise ValueError(f"{found / images} holds {len(x)} images but "
                             f"{found / labels} holds {len(y)} labels")
        data[f"{split}_images"], data[f"{split}_labels"] = x, y
    return data


def latency_spike_times(images, trial_ms, dt):
    """One (times, ids) pair per image, a time-to-first-spike code: flattened pixel i with
    grey value g spikes once, at (255 - g) / 255 * (trial_ms - 4 * dt) + 2 * dt, so brighter
    pixels spike earlier and every spike lies 2 * dt inside the trial. Pixels with g <= 1
    (background) do not spike, which keeps the input sparse. ids are ascending."""
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"images must have shape (n, ...) with pixels per image, "
                         f"got {images.shape}")
    flat = images.reshape(len(images), -1).astype(np.float64)
    if flat.size and not (np.all(flat >= 0) and np.all(flat <= 255)):
        raise ValueError("pixel values must lie in [0, 255]")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if not trial_ms > 4 * dt:
        raise ValueError(f"trial_ms ({trial_ms}) must be longer than 4 * dt ({4 * dt})")
    span = trial_ms - 4 * dt
    result = []
    for g in flat:
        ids = np.flatnonzero(g > 1).astype(np.int64)
        result.append(((255. - g[ids]) / 255. * span + 2 * dt, ids))
    return result
