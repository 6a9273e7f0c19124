"""Structure rules that import-linter cannot express: no module imports another module's private
(``_name``) helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import xinyue

SOURCE = Path(xinyue.__file__).parent


def private_imports() -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xinyue"):
                found += [
                    f"{path.relative_to(SOURCE)}:{node.lineno} {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                    and not alias.name.startswith("__")
                    and alias.name != "_"
                ]
    return found


def test_no_module_imports_another_modules_private_names():
    assert private_imports() == []
