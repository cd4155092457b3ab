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
from infra import shipped, wheels
from infra.cfn_yaml import TEMPLATE, lambda_python_version, load_template

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Never shipped from the wheels: caches, and console scripts (bin/, whose shebang names this
# machine's interpreter). (Our own code ships by what the handlers import: infra/shipped.py.)
EXCLUDED_PARTS = frozenset({"__pycache__"})
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
    bytecode: str | None = None  # the interpreter that compiled it; None: sources only
    note: str | None = None  # one line for the user when bytecode was wanted but not found


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "switchboard" / "wheels"


def build(
    output: Path,
    arch: str = "arm64",
    cache_dir: Path | None = None,
    with_boto3: bool = False,
    project_root: Path = PROJECT_ROOT,
    bytecode: str | None = compiled.IF_FOUND,
) -> Package:
    """Write the Lambda zip to `output`: the modules the template's handlers import, plus the
    runtime wheels.

    `bytecode` (infra/bytecode.py: IF_FOUND, the default, REQUIRED, an interpreter's path, or
    None for sources only) ships every module compiled by the template runtime's Python too.
    Lambda's code folder is read-only, so without it each cold start compiles every module it
    imports (loadtests/RESULTS.md, "Benchmark 3"). The bytecode is checked against its source's
    hash, never a timestamp, so it stays valid after unzipping and the zip stays reproducible.
    """
    if arch not in wheels.ARCHITECTURES:
        choices = ", ".join(sorted(wheels.ARCHITECTURES))
        raise ValueError(f"unknown architecture {arch!r}; choose from {choices}")
    template = load_template(TEMPLATE)
    python_version = lambda_python_version(template)
    sources = shipped.module_files(
        shipped.imported_modules(shipped.handler_modules(template)), project_root
    )
    compiler, note = compiled.choose(bytecode, python_version)
    with tempfile.TemporaryDirectory(prefix="switchboard-package-") as scratch:
        site = Path(scratch) / "site"
        site.mkdir()
        requirements = wheels.runtime_requirements(project_root, with_boto3)
        cache = cache_dir or default_cache_dir()
        wheels.install(requirements, site, arch, python_version, cache)
        for relative, path in sources.items():  # our code wins over a same-named file in a wheel
            (site / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, site / relative)
        if compiler is not None:
            compiled.compile_tree(site, compiler)
        tag = f"cpython-{python_version.replace('.', '')}" if compiler is not None else None
        entries = dict(_files(site, site, bytecode_tag=tag))
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_zip(output, entries)
    data = output.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return Package(output, digest, len(data), len(entries), compiler, note)


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
    folders = set(relative.parts[:-1])
    if "bin" in folders:
        return True
    if relative.parent.name == "__pycache__":  # only the runtime's own bytecode, if wanted
        return bytecode_tag is None or not relative.name.endswith(f".{bytecode_tag}.pyc")
    return relative.suffix in EXCLUDED_SUFFIXES or bool(EXCLUDED_PARTS & folders)


def _write_zip(output: Path, entries: dict[str, Path]) -> None:
    with zipfile.ZipFile(output, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is honoured when unpacked
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name].read_bytes(), compresslevel=6)
