"""`switchboard package`: the Lambda zip, byte-for-byte reproducible from the same sources."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra import bytecode as compiled
from infra import wheels
from infra.cfn_yaml import TEMPLATE, lambda_python_version, load_template

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SOURCE_PACKAGES = ("domain", "adapters", "entrypoints")
# Never shipped: test code, load generators, caches, and console scripts whose shebang names
# this machine's interpreter.
EXCLUDED_PARTS = frozenset({"tests", "loadtests", "__pycache__", "bin"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Zip timestamps start in 1980; one fixed time and mode make the bytes depend on content only.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, readable by Lambda's sandbox user


@dataclass(frozen=True)
class Package:
    path: Path
    sha256: str
    size: int
    files: int


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "switchboard" / "wheels"


def build(
    output: Path,
    arch: str = "arm64",
    cache_dir: Path | None = None,
    with_boto3: bool = False,
    project_root: Path = PROJECT_ROOT,
    bytecode: str | None = None,
) -> Package:
    """Write the Lambda zip to `output`: the source packages plus their runtime wheels.

    With `bytecode` (an interpreter of the template runtime's Python version, or "auto" for
    one found here: infra/bytecode.py), every module also ships compiled by that interpreter.
    Lambda's code folder is read-only, so without it each cold start compiles every module it
    imports (loadtests/RESULTS.md, "Benchmark 3"). The bytecode is checked against its source's
    hash, never a timestamp, so it stays valid after unzipping and the zip stays reproducible.
    """
    if arch not in wheels.ARCHITECTURES:
        choices = ", ".join(sorted(wheels.ARCHITECTURES))
        raise ValueError(f"unknown architecture {arch!r}; choose from {choices}")
    missing = [name for name in SOURCE_PACKAGES if not (project_root / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"{project_root} has no {', '.join(missing)} package(s)")
    python_version = lambda_python_version(load_template(TEMPLATE))
    compiler = compiled.interpreter(bytecode, python_version) if bytecode is not None else None
    with tempfile.TemporaryDirectory(prefix="switchboard-package-") as scratch:
        site = Path(scratch) / "site"
        site.mkdir()
        requirements = wheels.runtime_requirements(project_root, with_boto3)
        cache = cache_dir or default_cache_dir()
        wheels.install(requirements, site, arch, python_version, cache)
        for name in SOURCE_PACKAGES:  # our code wins over a same-named file in a wheel
            for relative, path in _files(project_root / name, project_root):
                (site / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, site / relative)
        if compiler is not None:
            compiled.compile_tree(site, compiler)
        tag = f"cpython-{python_version.replace('.', '')}" if compiler is not None else None
        entries = dict(_files(site, site, bytecode_tag=tag))
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_zip(output, entries)
    data = output.read_bytes()
    return Package(output, hashlib.sha256(data).hexdigest(), len(data), len(entries))


def _files(
    directory: Path, root: Path, bytecode_tag: str | None = None
) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file) for every file to ship under `directory`; with `bytecode_tag`
    (e.g. cpython-313), the bytecode compile_tree wrote too."""
    for path in directory.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or _excluded(relative, bytecode_tag):
            continue
        yield relative.as_posix(), path


def _excluded(relative: Path, bytecode_tag: str | None) -> bool:
    if (
        bytecode_tag is not None
        and relative.parent.name == "__pycache__"
        and relative.name.endswith(f".{bytecode_tag}.pyc")
    ):
        return False
    if relative.suffix in EXCLUDED_SUFFIXES or _is_load_test(relative):
        return True
    return bool(EXCLUDED_PARTS.intersection(relative.parts[:-1]))


def _is_load_test(relative: Path) -> bool:
    # entrypoints/loadtest_command.py drives Locust from a laptop; Lambda never runs it.
    return relative.parts[0] in SOURCE_PACKAGES and relative.name.startswith("loadtest")


def _write_zip(output: Path, entries: dict[str, Path]) -> None:
    with zipfile.ZipFile(output, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is honoured when unpacked
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name].read_bytes(), compresslevel=6)
