"""Pipeline options shared by the Beam jobs."""

import logging
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

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
