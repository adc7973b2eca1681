"""Where the benchmarks write what they measured: ``benchmarks/results/NAME.{json,md}``."""

import json
import os
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _replace(path: Path, text: str) -> None:
    """Writes ``text`` to a temporary file beside ``path``, then moves it into place."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as f:
            f.write(text)
        os.chmod(temporary, 0o644)  # mkstemp's file is its owner's alone
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_results(name: str, markdown: str, report: dict | None = None) -> Path:
    """Writes ``markdown`` to ``results/NAME.md`` and ``report``, when given, to
    ``results/NAME.json``; a run that fails half-way leaves the previous files whole.

    Returns:
      The Markdown file's path.
    """
    RESULTS.mkdir(exist_ok=True)
    if report is not None:
        _replace(RESULTS / f"{name}.json", json.dumps(report, indent=2) + "\n")
    _replace(RESULTS / f"{name}.md", markdown)
    return RESULTS / f"{name}.md"
