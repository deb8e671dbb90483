"""What the atheris fuzz targets share: instrumentation, the fuzzer entry point, tree checks.

A target module defines ``TestOneInput(data: bytes) -> None``: it feeds ``data`` to one of our
readers, lets :class:`standards.errors.BadInput` (the documented refusal) pass and checks what must
hold afterwards; any other exception, a hang (libFuzzer ``-timeout``) or an excess of memory
(``-rss_limit_mb``) is a finding. The targets import our code inside :func:`instrumented`, which is
``atheris.instrument_imports()`` only when the module runs as ``python -m tests.fuzz.<target>``, so
pytest imports the same ``TestOneInput`` without atheris (``tests/fuzz/test_fuzz_targets.py``).
Nothing here imports our packages at module level, or they would be imported uninstrumented.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

#: Our packages: the code coverage guides the fuzzer through.
INSTRUMENTED = ["archive", "standards", "integrity"]
CORPUS = Path(__file__).resolve().parent / "corpus"
DICTS = Path(__file__).resolve().parent / "dicts"
TMP_ENV = "EDOSSIER_FUZZ_TMP"


class Finding(AssertionError):
    """An invariant of a reader does not hold for one input (a file outside staging, a leftover …)."""


@contextlib.contextmanager
def instrumented(active: bool, also: tuple[str, ...] = ()) -> Iterator[None]:
    """``atheris.instrument_imports()`` over :data:`INSTRUMENTED` (and ``also``) when ``active``; else nothing.

    ``also`` names standard-library modules a target leans on (``zipfile``), so the fuzzer sees
    coverage inside them too; they must not have been imported before.
    """
    if not active:
        yield
        return
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=[*INSTRUMENTED, *also]):
        yield


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """Run libFuzzer (through atheris) on ``test_one_input`` with the command line's options."""
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


_SCRATCH: Path | None = None


def scratch_parent() -> Path:
    """One private folder per process under which every input gets its own scratch folder.

    After an input it must be empty again: a file that escaped a staging folder lands here.
    """
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = private_folder("edossier-fuzz-")
    return _SCRATCH


def fast_temp_root() -> Path | None:
    """tmpfs (``/dev/shm``) where there is one: every input creates and removes files; else the default."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def private_folder(prefix: str) -> Path:
    """A new temporary folder, removed at exit.

    libFuzzer ends the process without running ``atexit`` handlers, so :mod:`tests.fuzz.run` passes
    ``EDOSSIER_FUZZ_TMP``, a folder of its own that it removes after the fuzzer exits.
    """
    where = os.environ.get(TMP_ENV) or fast_temp_root()
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (relative POSIX path → ``file``/``dir``/``link``/``other``), links not followed."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath, name)
            kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file" if p.is_file() else "other"
            out[p.relative_to(root).as_posix()] = kind
    return out


def check_scratch_is_empty() -> None:
    """Raise :class:`Finding` when something is left in :func:`scratch_parent`."""
    left = sorted(os.listdir(scratch_parent()))
    if left:
        raise Finding(f"left outside the input's scratch folder: {left[:5]}")
