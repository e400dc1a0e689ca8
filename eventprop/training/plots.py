"""Figures of a run folder: learning curves from metrics.csv and spike rasters from
recordings.h5, written as PNG files next to them."""
import pathlib

from .metrics import read_metrics


def plot_run(run_dir):
    """learning_curves.png, and raster.png when spikes were recorded; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")   # files only: works on machines without a display
    run_dir = pathlib.Path(run_dir)
    if not (run_dir / "metrics.csv").is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder: it has no metrics.csv")
    written = [plot_learning_curves(run_dir)]
    if (run_dir / "recordings.h5").is_file():
        path = plot_raster(run_dir)
        if path:
            written.append(path)
    return written


def plot_learning_curves(run_dir):
    import matplotlib.pyplot as plt
    rows = read_metrics(run_dir / "metrics.csv")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for phase in dict.fromkeys(r["phase"] for r in rows):
        sel = [r for r in rows if r["phase"] == phase]
        epoch = [int(r["epoch"]) for r in sel]
        ax_loss.plot(epoch, [float(r["loss"]) for r in sel], marker=".", label=phase)
        ax_acc.plot(epoch, [100 * float(r["accuracy"]) for r in sel], marker=".", label=phase)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(run_dir.name)
    fig.tight_layout()
    path = run_dir / "learning_curves.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_raster(run_dir):
    """The spikes of the first recorded trial's first example, one panel per population."""
    import h5py
    import matplotlib.pyplot as plt
    with h5py.File(run_dir / "recordings.h5", "r") as f:
        trials = [k for k in f if "spikes" in f[k]]
        if not trials:
            return None
        trial = trials[0]
        pops = list(f[trial]["spikes"])
        data = {pop: (f[trial]["spikes"][pop]["times"][()], f[trial]["spikes"][pop]["ids"][()],
                      f[trial]["spikes"][pop]["example"][()]) for pop in pops}
        label = int(f[trial]["labels"][0])
    fig, axes = plt.subplots(len(pops), 1, figsize=(8, 2.2 * len(pops)), sharex=True,
                             squeeze=False)
    for ax, pop in zip(axes[:, 0], pops):
        t, i, ex = data[pop]
        first = ex == 0
        ax.scatter(t[first], i[first], s=2, c="k")
        ax.set(ylabel=f"{pop}\nneuron")
    axes[-1, 0].set(xlabel="time (ms)")
    fig.suptitle(f"{run_dir.name}: {trial}, example 0 (label {label})")
    fig.tight_layout()
    path = run_dir / "raster.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
