"""What a training run writes and shows: run folders, checkpoints, metrics, progress, plots."""
