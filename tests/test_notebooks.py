"""Every notebook in ``notebooks/`` runs top to bottom in a real kernel, without a cell error.

The kernel is this interpreter (``sys.executable``), through a kernel spec written into the test's
temporary folder and put first on ``JUPYTER_PATH``: nothing has to be installed with ``jupyter
kernelspec``, and no other ``python3`` spec on the machine (a user's, a system's) can be picked
up instead. Each notebook runs with its working folder and ``MAPEK_HOME`` in a temporary folder,
and must show something to look at: image outputs (the run's charts), and the DataFrame
``Session.events()`` returns.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "mapek-test-python"
CELL_TIMEOUT = 300
"""Seconds per cell; a worker start imports litellm, which is slow on a loaded machine."""


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of a kernel spec that starts ``sys.executable -m ipykernel_launcher``."""
    from ipykernel.kernelspec import write_kernel_spec

    jupyter = tmp_path / "jupyter"
    write_kernel_spec(jupyter / "kernels" / KERNEL, overrides={"display_name": KERNEL})
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))  # first on the kernel search path
    # Kernel files of this run stay in the temporary folder, not in the user's home.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


@pytest.mark.timeout(20 * CELL_TIMEOUT)
@pytest.mark.usefixtures("home")  # MAPEK_HOME in the temporary folder, no MAPEK_MODEL
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, kernel: str, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    client = NotebookClient(nb, kernel_name=kernel, timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError naming the cell and its traceback
    ran = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    assert ran, f"{path.name} has no code cell that ran"
    outputs = [(c, o) for c in ran for o in c.get("outputs", [])]
    # something to look at: the run's charts (and the loop's graph) as inline images
    images = [o for _, o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no image output"
    assert all(base64.b64decode(o["data"]["image/png"]).startswith(b"\x89PNG") for o in images)
    # a live view was updated as the run went: it ends on the run's end, not on its start
    for c in (c for c in ran if ".live(" in c.source):
        html = "".join(o["data"].get("text/html", "") for o in c.outputs if "data" in o)
        status = re.search(r"status</th><td[^>]*>([^<:]*)", html)
        assert status and status.group(1) not in ("created", "paused", "running"), \
            f"{path.name}: the live view was not updated ({status and status.group(1)})"
    # Session.events() is a DataFrame: the cells that call it show a pandas table
    tables = [c for c in ran if ".events()" in c.source]
    assert tables, f"{path.name} never calls Session.events()"
    for c in tables:
        html = [o["data"].get("text/html", "") for o in c.outputs if "data" in o]
        assert any('class="dataframe"' in h for h in html), \
            f"{path.name}: the cell {c.source[:40]!r} shows no DataFrame"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, (f"{path.name}: cells {dirty} keep outputs; clear them before committing "
                       "(Jupyter: Edit > Clear Outputs of All Cells)")


def test_notebooks_folder_is_not_empty() -> None:
    assert NOTEBOOKS, f"no notebooks in {REPO / 'notebooks'}"
