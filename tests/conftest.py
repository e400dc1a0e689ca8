import os
import tempfile

import pytest

# Compiled models are cached per test session unless a cache is given
os.environ.setdefault("EVENTPROP_CACHE_DIR", tempfile.mkdtemp(prefix="eventprop_cache_"))


@pytest.fixture(params=["float", "double"])
def precision(request):
    return request.param


@pytest.fixture(params=[1, 5])
def batch_size(request):
    return request.param
