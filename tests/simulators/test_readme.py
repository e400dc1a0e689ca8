"""The README's parameter tables are generated from the simulators' ``p``: they must match."""
import pathlib
import re

import pytest

from eventprop.cli import SIMULATORS
from simulators.base import parameter_table

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", sorted(SIMULATORS))
def test_parameter_table_is_current(name):
    import importlib
    module, cls = SIMULATORS[name]
    expected = parameter_table(getattr(importlib.import_module(module), cls))
    text = README.read_text()
    m = re.search(rf"<!-- params {name} -->\n(.*?)<!-- /params -->", text, re.S)
    assert m, f"README.md has no <!-- params {name} --> section"
    assert m.group(1) == expected, (f"README.md's table of {name} is out of date; "
                                    f"replace it with the output of: eventprop params {name}")
