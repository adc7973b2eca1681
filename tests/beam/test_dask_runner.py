"""The Dask runner refuses, before it connects to any cluster, what it cannot run."""

import apache_beam as beam
import pytest
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from kubeslim.beam.runner import make_pipeline_options
from kubeslim.errors import KubeslimError

# No scheduler listens here: reaching the connection would be an error of another kind.
_NOWHERE = ["--runner", "DaskRunner", "--dask_client_address", "127.0.0.1:9"]


class _RunningTotal(beam.DoFn):
    TOTAL = ReadModifyWriteStateSpec("total", beam.coders.VarIntCoder())

    def process(self, element, total=beam.DoFn.StateParam(TOTAL)):  # noqa: B008 (Beam's API)
        total.write((total.read() or 0) + element[1])
        yield total.read()


def test_a_stateful_dofn_is_refused_by_name():
    with pytest.raises(KubeslimError, match="cannot run 'Totals'.*per-key state"):
        with beam.Pipeline(options=make_pipeline_options(_NOWHERE)) as pipeline:
            _ = (
                pipeline
                | beam.Create([("a", 1), ("a", 2)])
                | "Totals" >> beam.ParDo(_RunningTotal())
            )


def test_a_primitive_it_does_not_translate_is_refused_by_name():
    from apache_beam.testing.test_stream import TestStream

    with pytest.raises(KubeslimError, match="cannot run 'Events'"):
        with beam.Pipeline(options=make_pipeline_options(_NOWHERE)) as pipeline:
            _ = pipeline | "Events" >> TestStream().add_elements([1, 2])
