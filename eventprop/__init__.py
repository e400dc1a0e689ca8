"""eventprop: EventProp training of spiking networks on GeNN 5 models."""
__version__ = "0.1.0"
