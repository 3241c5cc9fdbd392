"""The layers import only what their seam allows (read from the source, no import side effects).

- The estimators talk to the fit plan and the driver, never to a backend or a
  minimum-norm solver module.
- The driver selects backends through the registry and imports none itself.
- The experiments use the plan, the model, the references' public faces and
  the driver, never the private problem, operator or solver types.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_relubias"


def imported(path):
    """``(module, name)`` for every import in ``path``, modules resolved to absolute names."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    package = parts[:-1] if path.name != "__init__.py" else parts
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out += [(module, alias.name) for alias in node.names]
    return out


def modules(path):
    """Absolute names of the modules ``path`` imports (including ``from m import sub``)."""
    names = set()
    for module, name in imported(path):
        names.add(module)
        if name:
            names.add(f"{module}.{name}")
    return names


BACKENDS = "sklearn_relubias._gd._backends._"
SOLVERS = ("sklearn_relubias._reference._dual_qp", "sklearn_relubias._reference._primal_qp")


@pytest.mark.parametrize("name", ["_shallow.py", "_min_norm.py", "_base.py"])
def test_estimators_reach_kernels_and_solvers_only_through_the_plan_and_the_driver(name):
    mods = modules(PACKAGE / name)
    assert not any(m.startswith(BACKENDS) for m in mods), mods
    assert not any(m.startswith(SOLVERS) for m in mods), mods
    assert not any(m.startswith("sklearn_relubias._gd._") for m in mods), mods
    if name != "_base.py":
        assert "sklearn_relubias._plan" in {m for m, _ in imported(PACKAGE / name)}


def test_the_driver_imports_no_backend():
    for path in (PACKAGE / "_gd").glob("*.py"):
        mods = modules(path)
        assert not any(m.startswith(BACKENDS) for m in mods), (path.name, mods)


PRIVATE_TYPES = {
    "GDProblem",
    "GramOperator",
    "DataOperator",
    "make_operator",
    "DualFactor",
    "solve_min_norm",
    "solve_min_norm_primal",
    "RowOperator",
}


@pytest.mark.parametrize("path", sorted((PACKAGE / "experiments").glob("*.py")), ids=str)
def test_experiments_import_no_private_gradient_descent_or_solver_type(path):
    for module, name in imported(path):
        assert name not in PRIVATE_TYPES, (path.name, module, name)
        assert not module.startswith(SOLVERS), (path.name, module)
        assert not module.startswith("sklearn_relubias._gd._"), (path.name, module)


def _divides_learning_rate(node):
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
        return False
    return "learning_rate" in (getattr(node.left, "id", None), getattr(node.left, "attr", None))


def test_one_step_size_formula():
    """``learning_rate / (curvature)`` is computed once, in the plan (docstrings aside)."""
    hits = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if any(_divides_learning_rate(n) for n in ast.walk(ast.parse(path.read_text())))
    ]
    assert hits == ["_plan.py"], hits
