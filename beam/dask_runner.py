"""Beam pipelines on a ``dask.distributed`` cluster: Beam's DaskRunner with a full translation.

Beam's own DaskRunner (``apache_beam.runners.dask``, Beam 2.77) translates Create, ParDo,
GroupByKey and Flatten onto Dask bags, but kubeslim's jobs need more than it does:

- it computes only the last transform it visits, so a job with several sinks (a shard per
  split, tensorflow-transform's many outputs) silently skips all but one;
- a multi-output ParDo hands every consumer the elements of every output;
- what a DoFn emits in ``finish_bundle`` (``BatchElements``, every file sink) is dropped;
- a side input is recomputed inside each task that reads it;
- ``Read`` (``ReadFromTFRecord``, ``ReadFromText``) and ``Impulse`` become no-ops that
  produce nothing, and any other transform it does not know is skipped without a word.

This runner keeps Beam's ``DaskOptions`` (``--dask_client_address``, ``--dask_npartitions``,
``--dask_partition_size``...) and its overrides, and translates every primitive itself: each
PCollection is one bag of windowed values, every sink is computed, side inputs are computed
once and broadcast, reads are split into bundles read on the workers, and a primitive it
cannot run is an error naming it. ``--runner DaskRunner`` selects it.
"""

import functools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.internal import pickler
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.common import DoFnRunner, DoFnState, Receiver
from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask.overrides import (
    _Create,
    _Flatten,
    _GroupByKeyOnly,
    _Read,
    _Reshuffle,
    dask_overrides,
)
from apache_beam.runners.runner import PipelineState
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.userstate import is_stateful_dofn
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import counters
from apache_beam.utils.windowed_value import WindowedValue

from kubeslim.errors import KubeslimError

# At most this many partitions for a Create without --dask_npartitions/--dask_partition_size:
# a plan of a few shard tasks gets one partition per task, spread over the workers.
_DEFAULT_MAX_PARTITIONS = 64
_READ_BUNDLE_BYTES = 64 << 20


class DaskRunner(beam_dask.DaskRunner):
    """Runs a Beam pipeline on a Dask cluster (``--dask_client_address``; without it, a
    ``distributed.LocalCluster`` in this process), every transform translated to Dask bags."""

    def run_pipeline(self, pipeline: beam.Pipeline, options: PipelineOptions) -> "DaskResult":
        try:
            import dask.distributed as ddist
        except ImportError:
            raise KubeslimError(
                "--runner DaskRunner needs dask.distributed: pip install 'kubeslim[dask]'"
            ) from None
        dask_options = options.view_as(beam_dask.DaskOptions).get_all_options(
            drop_default=True, current_only=True
        )
        bag_kwargs = beam_dask.DaskOptions._extract_bag_kwargs(dask_options)
        pipeline.replace_all(dask_overrides())
        translator = _Translator(bag_kwargs, options)
        pipeline.visit(translator)
        try:
            client = ddist.Client(**dask_options)
        except (OSError, TimeoutError) as e:
            where = dask_options.get("address") or dask_options.get("scheduler_file")
            raise KubeslimError(f"cannot reach the Dask scheduler at {where}: {e}") from None
        return DaskResult(client, client.compute(translator.sinks()))


class DaskResult(beam_dask.DaskRunnerResult):
    """The running job; waiting raises a worker's error and then closes the client."""

    def wait_until_finish(self, duration: float | None = None) -> str:
        try:
            return super().wait_until_finish(duration)
        finally:
            if self._state != PipelineState.RUNNING:
                self.client.close()


class _Translator(PipelineVisitor):
    """Builds one Dask bag of ``WindowedValue``s per PCollection, primitive by primitive."""

    def __init__(self, bag_kwargs: dict[str, int], options: PipelineOptions):
        self._bag_kwargs = bag_kwargs
        self._options = options
        self._bags: dict[pvalue.PCollection, Any] = {}
        self._consumed: set[pvalue.PCollection] = set()

    def sinks(self) -> list[Any]:
        """One small Dask item per PCollection nothing reads: computing them runs the job."""
        return [
            bag.reduction(_count, sum)
            for pcollection, bag in self._bags.items()
            if pcollection not in self._consumed
        ]

    def visit_transform(self, node: AppliedPTransform) -> None:
        transform = node.transform
        inputs = [p for p in node.inputs if isinstance(p, pvalue.PCollection)]
        self._consumed.update(inputs)
        self._consumed.update(si.pvalue for si in node.side_inputs)
        bags = [self._bags[p] for p in inputs]
        if isinstance(transform, _Create):
            out = self._create([GlobalWindows.windowed_value(v) for v in transform.values])
        elif isinstance(transform, beam.Impulse):
            out = self._create([GlobalWindows.windowed_value(b"")])
        elif isinstance(transform, _Read):
            bundles = list(transform.source.split(desired_bundle_size=_READ_BUNDLE_BYTES))
            out = self._create(bundles, npartitions=max(1, len(bundles))).map_partitions(
                _read_bundles
            )
        elif isinstance(transform, beam.ParDo):
            self._par_do(node, bags[0])
            return
        elif isinstance(transform, _GroupByKeyOnly):
            out = bags[0].map(_value).groupby(_key, shuffle="tasks").map(_grouped)
        elif isinstance(transform, _Flatten):
            out = _concat(bags) if bags else self._create([])
        elif isinstance(transform, _Reshuffle):
            out = bags[0]
        else:
            raise KubeslimError(
                f"the Dask runner cannot run {node.full_label!r} "
                f"({type(transform).__module__}.{type(transform).__qualname__})"
            )
        (output,) = node.outputs.values()
        self._bags[output] = out

    def _create(self, items: Sequence[Any], npartitions: int | None = None) -> Any:
        import dask.bag as db

        if npartitions is None:
            npartitions = self._bag_kwargs.get("npartitions")
        size = self._bag_kwargs.get("partition_size")
        if not npartitions and not size:
            size = max(1, math.ceil(len(items) / _DEFAULT_MAX_PARTITIONS))
        if not items:
            return db.from_sequence([], npartitions=1)
        return db.from_sequence(
            items, npartitions=None if size else npartitions, partition_size=size
        )

    def _par_do(self, node: AppliedPTransform, bag: Any) -> None:
        transform = node.transform
        if is_stateful_dofn(transform.fn):
            raise KubeslimError(
                f"the Dask runner cannot run {node.full_label!r}: its DoFn keeps per-key state "
                "or timers, which this runner does not support"
            )
        # As unoptimized delayed values: an Item argument would be optimized on its own, its
        # upstream fused into a copy that runs again.
        side_values = [
            self._bags[si.pvalue].reduction(list, _concat_lists).to_delayed(optimize_graph=False)
            for si in node.side_inputs
        ]
        spec = pickler.dumps(
            (
                transform.fn,
                transform.args,
                transform.kwargs,
                [(type(si), si._view_options()) for si in node.side_inputs],
                _windowing(node.inputs[0]),
                node.full_label,
                self._options,
            )
        )
        tagged = bag.map_partitions(_run_dofn, spec, *side_values)
        for tag, output in node.outputs.items():
            self._bags[output] = tagged.filter(functools.partial(_has_tag, tag=tag)).map(_untag)


class _TaggingReceiver(Receiver):
    def __init__(self, tag: str | None, out: list[tuple[str | None, WindowedValue]]):
        self._tag, self._out = tag, out

    def receive(self, windowed_value: WindowedValue) -> None:
        self._out.append((self._tag, windowed_value))


class _Receivers(dict):
    def __init__(self) -> None:
        super().__init__()
        self.out: list[tuple[str | None, WindowedValue]] = []

    def __missing__(self, tag: str | None) -> _TaggingReceiver:
        self[tag] = receiver = _TaggingReceiver(tag, self.out)
        return receiver


def _run_dofn(
    elements: Iterable[WindowedValue], spec: bytes, *side_values: list[WindowedValue]
) -> list[tuple[str | None, WindowedValue]]:
    """Runs a ParDo's DoFn over one partition as one bundle: setup, start, process, finish,
    teardown; returns what it emitted (finish_bundle's output included), tagged.

    ``spec`` is the DoFn, its arguments, its side inputs' views, the input's windowing, the
    step's name and the pipeline's options (which Beam's file systems on the worker take, as
    Beam's own workers do), pickled by Beam's pickler as Beam's own runners ship a DoFn.
    """
    fn, args, kwargs, side_views, windowing, label, options = pickler.loads(spec)
    FileSystems.set_options(options)
    receivers = _Receivers()
    side_inputs = [
        SideInputMap(view, view_options, values)
        for (view, view_options), values in zip(side_views, side_values, strict=True)
    ]
    runner = DoFnRunner(
        fn,
        args,
        kwargs,
        side_inputs,
        windowing,
        tagged_receivers=receivers,
        step_name=label,
        state=DoFnState(counters.CounterFactory()),
    )
    runner.setup()
    runner.start()
    for element in elements:
        runner.process(element)
    runner.finish()
    runner.teardown()
    return receivers.out


def _windowing(pcollection: pvalue.PCollection) -> beam.Windowing:
    """The PCollection's windowing; global for the output of a read (whose override, in Beam's
    Dask overrides, does not say)."""
    try:
        return pcollection.windowing
    except AttributeError:
        return beam.Windowing(GlobalWindows())


def _read_bundles(bundles: Iterable[Any]) -> list[WindowedValue]:
    """Reads source bundles. A list, as every partition function here returns: a generator
    would be exhausted by the first of the bag's consumers."""
    values = []
    for bundle in bundles:
        tracker = bundle.source.get_range_tracker(bundle.start_position, bundle.stop_position)
        values.extend(GlobalWindows.windowed_value(v) for v in bundle.source.read(tracker))
    return values


def _concat(bags: list[Any]) -> Any:
    import dask.bag as db

    return db.concat(bags)


def _value(windowed: WindowedValue) -> Any:
    return windowed.value


def _key(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _grouped(group: tuple[Any, list[tuple[Any, Any]]]) -> WindowedValue:
    key, pairs = group
    return GlobalWindows.windowed_value((key, [value for _, value in pairs]))


def _has_tag(tagged: tuple[str | None, WindowedValue], tag: str | None) -> bool:
    return tagged[0] == tag


def _untag(tagged: tuple[str | None, WindowedValue]) -> WindowedValue:
    return tagged[1]


def _concat_lists(lists: Iterable[list[Any]]) -> list[Any]:
    return [item for part in lists for item in part]


def _count(partition: Iterable[Any]) -> int:
    return sum(1 for _ in partition)
