"""The simulators: one per benchmark, each training an EventProp network from ``p``."""
