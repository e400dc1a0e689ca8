"""Data sets for the experiments: where they live and how to read them.

Every loader looks for its files under one data folder (see `data_dir`), so that a single
setting, the EVENTPROP_DATA environment variable, points the tests, benchmarks and training
scripts at the same copy.
"""
from eventprop.data.mnist import latency_spike_times, load_mnist
from eventprop.data.paths import MissingDataError, data_dir
from eventprop.data.yinyang import PUBLISHED_SPLITS, yinyang_dataset, yinyang_spike_times

__all__ = ["MissingDataError", "data_dir", "load_mnist", "latency_spike_times",
           "PUBLISHED_SPLITS", "yinyang_dataset", "yinyang_spike_times"]
