"""MNIST: IDX parsing in both folder layouts, missing files, downloading, latency code."""
import gzip
import hashlib
import io
import os
import pathlib
import urllib.error
import urllib.request

import numpy as np
import pytest

from eventprop.data import MissingDataError, data_dir, latency_spike_times, load_mnist
from eventprop.data import mnist
from shared_data import shared_data_folder

NAMES = list(mnist.FILES)


def _idx_bytes(array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x800 + array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes())


def _small_set(seed=0):
    rng = np.random.default_rng(seed)
    return {"train_images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
            "train_labels": rng.integers(0, 10, 5).astype(np.int64),
            "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
            "test_labels": rng.integers(0, 10, 3).astype(np.int64)}


def _file_bytes(data):
    return dict(zip(NAMES, (_idx_bytes(data["train_images"]), _idx_bytes(data["train_labels"]),
                            _idx_bytes(data["test_images"]), _idx_bytes(data["test_labels"]))))


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def _assert_same(loaded, expected):
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert loaded[key].dtype == value.dtype, key
        assert np.array_equal(loaded[key], value), key


def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("EVENTPROP_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    assert data_dir("/x/y") == pathlib.Path("/x/y")
    assert data_dir(pathlib.Path("~/z")) == pathlib.Path.home() / "z"
    monkeypatch.delenv("EVENTPROP_DATA")
    assert data_dir() == pathlib.Path.home() / "data"


@pytest.mark.parametrize("layout", [("MNIST", "raw"), ("mnist",)])
def test_reads_both_layouts(tmp_path, layout):
    data = _small_set()
    _write(tmp_path.joinpath(*layout), _file_bytes(data))
    _assert_same(load_mnist(tmp_path), data)


def test_root_from_environment(tmp_path, monkeypatch):
    data = _small_set()
    _write(tmp_path / "mnist", _file_bytes(data))
    monkeypatch.setenv("EVENTPROP_DATA", str(tmp_path))
    _assert_same(load_mnist(), data)


def test_first_complete_folder_wins(tmp_path):
    raw, flat = _small_set(1), _small_set(2)
    _write(tmp_path / "MNIST" / "raw", _file_bytes(raw))
    _write(tmp_path / "mnist", _file_bytes(flat))
    _assert_same(load_mnist(tmp_path), raw)
    # an incomplete MNIST/raw is passed over for a complete flat copy
    (tmp_path / "MNIST" / "raw" / NAMES[3]).unlink()
    _assert_same(load_mnist(tmp_path), flat)


@pytest.mark.parametrize("index, magic", [(0, 0x801), (1, 0x803), (2, 0x1234)])
def test_bad_magic_names_the_file(tmp_path, index, magic):
    files = _file_bytes(_small_set())
    content = gzip.decompress(files[NAMES[index]])
    files[NAMES[index]] = gzip.compress(magic.to_bytes(4, "big") + content[4:])
    _write(tmp_path / "mnist", files)
    with pytest.raises(ValueError, match=f"{NAMES[index]}.*magic"):
        load_mnist(tmp_path)


def test_truncated_file_names_the_file(tmp_path):
    files = _file_bytes(_small_set())
    files[NAMES[2]] = gzip.compress(gzip.decompress(files[NAMES[2]])[:-10])
    _write(tmp_path / "mnist", files)
    with pytest.raises(ValueError, match=NAMES[2]):
        load_mnist(tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    data = _small_set()
    data["test_labels"] = data["test_labels"][:2]
    _write(tmp_path / "mnist", _file_bytes(data))
    with pytest.raises(ValueError, match=NAMES[3]):
        load_mnist(tmp_path)


def test_missing_files_name_file_folder_and_remedy(tmp_path):
    files = _file_bytes(_small_set())
    del files[NAMES[1]]
    _write(tmp_path / "MNIST" / "raw", files)
    with pytest.raises(MissingDataError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert NAMES[1] in message and str(tmp_path / "MNIST" / "raw") in message
    assert "download=True" in message and "EVENTPROP_DATA" in message
    assert isinstance(info.value, FileNotFoundError)


class _Server:
    """Stands in for urllib.request.urlopen: serves bytes by file name, mirror by mirror."""

    def __init__(self, files, failing_mirrors=()):
        self.files, self.failing, self.urls = files, failing_mirrors, []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        if any(url.startswith(m) for m in self.failing):
            raise urllib.error.URLError("unreachable")
        return io.BytesIO(self.files[url.rsplit("/", 1)[1]])


def _serve(monkeypatch, files, md5s, failing_mirrors=()):
    monkeypatch.setattr(mnist, "FILES", dict(zip(NAMES, md5s)))
    server = _Server(files, failing_mirrors)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    return server


def test_download_into_torchvision_layout(tmp_path, monkeypatch):
    data = _small_set()
    files = _file_bytes(data)
    server = _serve(monkeypatch, files, [hashlib.md5(files[n]).hexdigest() for n in NAMES],
                    failing_mirrors=[mnist.MIRRORS[0]])
    _assert_same(load_mnist(tmp_path, download=True), data)
    raw = tmp_path / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(NAMES)  # no temporary files left
    # the first mirror is tried first, the second one serves
    assert server.urls[:2] == [mnist.MIRRORS[0] + NAMES[0], mnist.MIRRORS[1] + NAMES[0]]
    # once present, nothing is downloaded again
    server.urls.clear()
    _assert_same(load_mnist(tmp_path, download=True), data)
    assert server.urls == []


def test_download_fetches_only_missing_files(tmp_path, monkeypatch):
    files = _file_bytes(_small_set())
    _write(tmp_path / "MNIST" / "raw", {n: files[n] for n in NAMES[:3]})
    server = _serve(monkeypatch, files, [hashlib.md5(files[n]).hexdigest() for n in NAMES])
    load_mnist(tmp_path, download=True)
    assert server.urls == [mnist.MIRRORS[0] + NAMES[3]]


def test_download_md5_mismatch(tmp_path, monkeypatch):
    files = _file_bytes(_small_set())
    md5s = [hashlib.md5(files[n]).hexdigest() for n in NAMES]
    md5s[2] = "0" * 32
    _serve(monkeypatch, files, md5s)
    with pytest.raises(MissingDataError, match=f"{NAMES[2]}.*MD5") as info:
        load_mnist(tmp_path, download=True)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)
    # the bad file was not kept, nor any temporary file; the good ones were
    assert sorted(os.listdir(tmp_path / "MNIST" / "raw")) == sorted(NAMES[:2] + NAMES[3:])


def test_download_all_mirrors_unreachable(tmp_path, monkeypatch):
    files = _file_bytes(_small_set())
    _serve(monkeypatch, files, [hashlib.md5(files[n]).hexdigest() for n in NAMES],
           failing_mirrors=mnist.MIRRORS)
    with pytest.raises(MissingDataError, match="unreachable"):
        load_mnist(tmp_path, download=True)
    assert os.listdir(tmp_path / "MNIST" / "raw") == []


def _real_folder():
    return shared_data_folder("mnist", "the four MNIST files",
                              lambda folder: all((folder / n).is_file() for n in NAMES))


def test_canonical_md5_sums():
    folder = _real_folder()
    sums = folder / "MD5SUMS"
    if sums.is_file():
        listed = dict(reversed(line.split()) for line in sums.read_text().splitlines() if line)
        assert listed == mnist.FILES
    for name, md5 in mnist.FILES.items():
        assert hashlib.md5((folder / name).read_bytes()).hexdigest() == md5


def test_real_files():
    _real_folder()
    data = load_mnist()
    assert data["train_images"].shape == (60000, 28, 28)
    assert data["test_images"].shape == (10000, 28, 28)
    assert data["train_images"].dtype == data["test_images"].dtype == np.uint8
    assert data["train_labels"].dtype == data["test_labels"].dtype == np.int64
    assert np.bincount(data["train_labels"]).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(data["test_labels"]).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_files_through_download(tmp_path, monkeypatch):
    """The real files, served as if from a mirror, pass the canonical MD5 check."""
    folder = _real_folder()
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: open(folder / url.rsplit("/", 1)[1], "rb"))
    data = load_mnist(tmp_path, download=True)
    assert data["test_images"].shape == (10000, 28, 28)
    for name in NAMES:
        assert (tmp_path / "MNIST" / "raw" / name).read_bytes() == (folder / name).read_bytes()


def test_latency_code_of_a_tiny_image():
    image = np.array([[[0, 255], [1, 2]], [[128, 0], [0, 51]]], dtype=np.uint8)
    trial_ms, dt = 30., 1.
    encoded = latency_spike_times(image, trial_ms, dt)
    assert len(encoded) == 2
    (t0, i0), (t1, i1) = encoded
    assert t0.dtype == np.float64 and i0.dtype == np.int64
    # pixels > 1 spike, at (255 - g) / 255 * (30 - 4) + 2
    assert np.array_equal(i0, [1, 3])
    assert np.allclose(t0, [2., 253 / 255 * 26 + 2])
    assert np.array_equal(i1, [0, 3])
    assert np.allclose(t1, [127 / 255 * 26 + 2, 204 / 255 * 26 + 2])
    assert np.all(np.diff(i0) > 0)


def test_latency_code_range_and_errors():
    (times, ids), = latency_spike_times(np.arange(256, dtype=np.uint8)[None], 20., 0.5)
    assert np.array_equal(ids, np.arange(2, 256))
    assert times.max() < 20. - 2 * 0.5 and times.min() == 2 * 0.5
    assert np.all(np.diff(times) < 0)  # brighter spikes earlier
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        latency_spike_times(np.full((1, 4), 300.), 20., 0.5)
    with pytest.raises(ValueError, match="trial_ms"):
        latency_spike_times(np.zeros((1, 4)), 2., 0.5)
