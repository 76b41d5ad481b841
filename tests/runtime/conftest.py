"""A user's own module of tools, written where another process can import it."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

USER_MODULE = '''
from mapek.safety.tools import ToolRegistry, tool

CALLS = []


@tool(effect="read", resource="price list")
def lookup_price(sku: str) -> str:
    """The list price of one SKU."""
    CALLS.append(sku)
    return f"{sku} costs 12.50 EUR"


@tool(effect="read")
def stock_level(sku: str, warehouse: str = "main") -> str:
    """Units in stock."""
    return f"{sku}: 40 units in {warehouse}"


registry = ToolRegistry()
registry.register(stock_level)

not_a_tool = 42


def plain_function(sku: str) -> str:
    return sku
'''


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module ``shop_tools`` on the path of this process and of the processes it starts."""
    folder = tmp_path / "usercode"
    folder.mkdir()
    (folder / "shop_tools.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p))
    yield "shop_tools"
    sys.modules.pop("shop_tools", None)
