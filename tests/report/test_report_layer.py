"""The report renders what the study computed and never estimates: no report module imports an
estimator (import-linter's "The report renders, never estimates" contract checks the same in CI,
indirect imports included; this is the quick local check)."""
from __future__ import annotations

import ast
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "src" / "effectmeting" / "report"
#: pure data the report may read: estimator codes and labels
ALLOWED = {"effectmeting.estimate.registry"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_report_modules_import_no_estimator():
    modules = sorted(REPORT.glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        imported = _imports(path)
        estimate = {m for m in imported if m == "effectmeting.estimate" or m.startswith("effectmeting.estimate.")}
        estimate = {m for m in estimate if not any(m == a or m.startswith(a + ".") for a in ALLOWED)}
        assert not estimate, f"report/{path.name} imports {sorted(estimate)}"
        # and not the top-level lazy exports that estimate (effectmeting.honest_did, ...)
        assert "effectmeting.honest_did" not in imported, path.name
