"""What a user watches during training: a progress bar on a terminal, plain lines elsewhere
(log files of cluster jobs get one line per epoch and phase instead of bar redraws)."""
import sys

from tqdm import tqdm


class Progress:
    def __init__(self, enabled=True, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.bars = enabled and self.stream.isatty()

    def phase(self, total, description):
        """A bar over the ``total`` examples of one phase; ``update(n, loss=, accuracy=)``."""
        return _PhaseBar(self, total, description)

    def line(self, text):
        if not self.enabled:
            return
        if self.bars:
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


class _PhaseBar:
    def __init__(self, progress, total, description):
        self.bar = tqdm(total=total, desc=description, unit="ex", leave=False,
                        file=progress.stream, dynamic_ncols=True) if progress.bars else None

    def update(self, n, loss, accuracy):
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{100 * accuracy:.1f}%",
                                 refresh=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
