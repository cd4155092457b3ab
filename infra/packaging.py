"""`switchboard package`: the Lambda zip, byte-for-byte reproducible from the same sources."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
) -> Package:
    """Write the Lambda zip to `output`: the source packages plus their runtime wheels."""
    if arch not in wheels.ARCHITECTURES:
        choices = ", ".join(sorted(wheels.ARCHITECTURES))
        raise ValueError(f"unknown architecture {arch!r}; choose from {choices}")
    missing = [name for name in SOURCE_PACKAGES if not (project_root / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"{project_root} has no {', '.join(missing)} package(s)")
    python_version = lambda_python_version(load_template(TEMPLATE))
    with tempfile.TemporaryDirectory(prefix="switchboard-package-") as scratch:
        site = Path(scratch) / "site"
        site.mkdir()
        requirements = wheels.runtime_requirements(project_root, with_boto3)
        cache = cache_dir or default_cache_dir()
        wheels.install(requirements, site, arch, python_version, cache)
        entries = dict(_files(site, site))
        for name in SOURCE_PACKAGES:  # our code wins over a same-named file in a wheel
            entries.update(_files(project_root / name, project_root))
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_zip(output, entries)
    data = output.read_bytes()
    return Package(output, hashlib.sha256(data).hexdigest(), len(data), len(entries))


def _files(directory: Path, root: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file) for every file to ship under `directory`."""
    for path in directory.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if EXCLUDED_PARTS.intersection(relative.parts[:-1]) or _is_load_test(relative):
            continue
        yield relative.as_posix(), path


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
