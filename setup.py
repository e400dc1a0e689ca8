from setuptools import find_packages, setup

setup(
    name="eventprop",
    version="0.1.0",
    description="Exact event-based gradients (EventProp) for spiking networks on GeNN 5 models",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["eventprop", "eventprop.*", "simulators"]),
    py_modules=["models"],
    install_requires=["numpy>=1.22", "h5py>=3.6", "tqdm>=4.60",
                      "matplotlib>=3.5"],
    extras_require={
        "test": ["pytest>=7", "scipy>=1.8"],
        # CuPy wheels for the CUDA major version of the driver (nvidia-smi shows it), with
        # NVRTC and the runtime from PyPI ("ctk"), so that no CUDA toolkit is needed
        "cuda12": ["cupy-cuda12x[ctk]>=14"],
        "cuda13": ["cupy-cuda13x[ctk]>=14"],
        "cluster": ["ray>=2.9"],
        "shd": ["tonic>=1.4"],
        "bench": ["psutil>=5.9", "torch==2.13.0"],
    },
    entry_points={"console_scripts": ["eventprop=eventprop.cli:main"]},
)
