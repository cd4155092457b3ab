"""What the Lambda package ships of our code: the modules its handlers import, found by grimp.

The template names the handlers (each function's Handler). Every module they import, directly
or through others, at the top of a file or inside a function (a lazy import still runs on
Lambda), ships with the packages that hold it; nothing else does. The local gateway, the CLI,
infra and the test doubles are never imported by a handler, so they stay out without a list of
names to leave out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Our top-level packages that code running on Lambda may come from.
SOURCE_PACKAGES = ("domain", "adapters", "entrypoints")


def handler_modules(template: dict[str, Any]) -> list[str]:
    """The modules of the template's Lambda handlers: "entrypoints.aws_lambda.handler" ->
    "entrypoints.aws_lambda"."""
    handlers = sorted(
        str(resource["Properties"]["Handler"])
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Lambda::Function"
    )
    if not handlers:
        raise ValueError("the template has no AWS::Lambda::Function with a Handler")
    modules = []
    for handler in handlers:
        module, _, function = handler.rpartition(".")
        if not module or not function:
            raise ValueError(f"Handler {handler!r} is not module.function")
        modules.append(module)
    return modules


def imported_modules(roots: list[str]) -> set[str]:
    """`roots` and every module of ours they import, with the packages holding each."""
    import grimp  # a laptop's tool (the `local` extra), as is everything in infra

    graph = grimp.build_graph(*SOURCE_PACKAGES, cache_dir=None)
    modules: set[str] = set()
    for root in roots:
        if root not in graph.modules:
            raise ValueError(f"handler module {root!r} is not in {', '.join(SOURCE_PACKAGES)}")
        modules |= {root, *graph.find_upstream_modules(root)}
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
    parents = {".".join(m.split(".")[:n]) for m in modules for n in range(1, m.count(".") + 1)}
    return modules | parents


def module_files(modules: set[str], project_root: Path) -> dict[str, Path]:
    """Name in the zip -> file, for each module (a package is its __init__.py)."""
    files: dict[str, Path] = {}
    for module in sorted(modules):
        relative = Path(*module.split("."))
        for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
            if (project_root / candidate).is_file():
                files[candidate.as_posix()] = project_root / candidate
                break
        else:
            raise FileNotFoundError(f"no source for module {module!r} under {project_root}")
    return files
