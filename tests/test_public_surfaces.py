"""The layers talk through public names: no module reaches into another package's private
modules or objects, and every package says in its ``__init__`` what the others may use."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import flowlearn

SRC = Path(flowlearn.__file__).parent


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _owner(private: str) -> str:
    """The package a private name belongs to: ``a.b._c`` -> ``a.b``; a private name of a
    module, ``a.b.c._d``, belongs to the module's package ``a.b``."""
    parts = private.split(".")
    first = next(i for i, p in enumerate(parts) if p.startswith("_") and not p.startswith("__"))
    owner = parts[:first]
    if not (SRC.parent / Path(*owner)).is_dir():
        owner = owner[:-1]
    return ".".join(owner)


def test_no_module_imports_another_packages_private_modules():
    offences = []
    for name, path in _modules():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if not target.startswith("flowlearn.") or not any(
                    p.startswith("_") and not p.startswith("__") for p in target.split(".")
                ):
                    continue
                owner = _owner(target)
                if not (package == owner or package.startswith(owner + ".")):
                    offences.append(f"{name}:{node.lineno} imports {target}")
    assert not offences, "\n".join(offences)


def test_no_private_attribute_is_reached_from_outside():
    offences = []
    for name, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                offences.append(f"{name}:{node.lineno} reads {ast.unparse(node)}")
    assert not offences, "\n".join(offences)


def test_every_package_states_its_public_surface():
    for info in pkgutil.walk_packages([str(SRC)], prefix="flowlearn."):
        if not info.ispkg:
            continue
        module = importlib.import_module(info.name)
        inside = list(pkgutil.iter_modules(module.__path__))
        if not inside and hasattr(module, "__all__"):
            continue  # a package reserved for a later issue
        assert getattr(module, "__all__", None), f"{info.name} exports nothing (__all__)"
        for public in module.__all__:
            assert hasattr(module, public), f"{info.name}.__all__ names {public}, not defined"
