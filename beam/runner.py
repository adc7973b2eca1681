"""Pipeline options shared by the Beam jobs."""

import contextlib
import logging
from collections.abc import Iterator, Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from kubeslim.errors import KubeslimError

DEFAULT_RUNNER = "FnApiRunner"

log = logging.getLogger(__name__)


def make_pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the command line; without ``--runner``, the local FnApiRunner.

    FnApiRunner is the engine Beam's DirectRunner runs batch jobs on (and honours
    ``--direct_running_mode`` and ``--direct_num_workers``); naming it directly skips the
    DirectRunner's attempt to download the Prism runner binary, which fails offline.
    """
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if standard.runner is None:
        standard.runner = DEFAULT_RUNNER
    log.info("Beam runner: %s", standard.runner)
    return options


@contextlib.contextmanager
def worker_errors_as_user_errors() -> Iterator[None]:
    """Re-raises a ``KubeslimError`` that a Beam worker process raised as one.

    In-process runners pass the worker's exception through; multi-process and remote runners
    wrap it in a ``RuntimeError`` carrying the worker's traceback as text.
    """
    try:
        yield
    except RuntimeError as e:
        prefix = f"{KubeslimError.__module__}.{KubeslimError.__qualname__}: "
        lines = [line for line in str(e).splitlines() if line.startswith(prefix)]
        if not lines:
            raise
        raise KubeslimError(lines[-1].removeprefix(prefix)) from None
