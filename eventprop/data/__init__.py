"""Data sets for the experiments: where they live and how to read them.

Every loader looks for its files under one data folder (see `data_dir`), so that a single
setting, the EVENTPROP_DATA environment variable, points the tests, benchmarks and training
scripts at the same copy.
"""
from eventprop.data.augment import (augment, balance_classes, blend, blend_members,
                                    check_augmentation, id_jitter, min_spike_count,
                                    normalise_spike_number, random_dilate, random_shift)
from eventprop.data.mnist import latency_spike_times, load_mnist
from eventprop.data.paths import MissingDataError, data_dir
from eventprop.data.shd import (SpikeDataset, keep_classes, load_spiking_audio,
                                spiking_audio_files)
from eventprop.data.yinyang import PUBLISHED_SPLITS, yinyang_dataset, yinyang_spike_times

__all__ = ["MissingDataError", "data_dir", "load_mnist", "latency_spike_times",
           "PUBLISHED_SPLITS", "yinyang_dataset", "yinyang_spike_times",
           "SpikeDataset", "keep_classes", "load_spiking_audio", "spiking_audio_files",
           "augment", "balance_classes", "blend", "blend_members", "check_augmentation",
           "id_jitter", "min_spike_count", "normalise_spike_number", "random_dilate",
           "random_shift"]
