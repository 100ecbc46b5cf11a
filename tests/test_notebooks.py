"""The notebooks in notebooks/ execute top to bottom (outputs are not stored in the repository)."""
from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
ipykernel_spec = pytest.importorskip("ipykernel.kernelspec")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "effectmeting-test"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A kernelspec whose argv is this interpreter (works in a fresh venv, whatever is on PATH)."""
    prefix = tmp_path_factory.mktemp("kernel")
    ipykernel_spec.install(kernel_name=KERNEL, prefix=str(prefix))
    return prefix / "share" / "jupyter"


def test_notebooks_exist_without_outputs():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "design_effect_study.ipynb",
                                           "societal_cost_study.ipynb", "your_own_data.ipynb"}
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, kernel_path, monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=120,
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
