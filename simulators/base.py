"""What every simulator shares: the network's default parameters ``p`` and the network."""
from .defaults import p, rules
from .network import EventPropNetwork

__all__ = ["EventPropNetwork", "p", "rules"]
