"""The shared converter core: any registered data set -> sharded TFRecords, with Apache Beam.

One Beam element is one output shard (a split, a shard index and the handles of its records),
so per-element runner overhead is paid per shard, not per image. Each worker writes its shard
whole (``storage.writing``) into the output's staging directory, which is moved into place
only when the pipeline succeeds; the output may be local or on an object store (``s3://``,
``gs://``), where the workers write through Beam's file systems.

Run it as ``kubeslim convert``; Beam's own pipeline options (``--runner``,
``--direct_running_mode``, ...) pass through to Beam.
"""

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
import numpy as np

from kubeslim import dataset_spec, output_dirs, storage
from kubeslim.beam import decode_check, records
from kubeslim.beam.datasets import dataset_factory
from kubeslim.beam.datasets.base import ImageDataset, RecordRef
from kubeslim.beam.download import cache_dir
from kubeslim.beam.encode import EncodedImage, SkippedImage, build_example, encode_image
from kubeslim.beam.options import ConvertOptions
from kubeslim.beam.runner import make_pipeline_options, worker_errors_as_user_errors
from kubeslim.errors import KubeslimError

_METRICS_NAMESPACE = "kubeslim.convert"
_SKIPPED_LOGGED = 20
_CHECK_BATCH = 256  # images checked by TensorFlow in one call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardTask:
    """One output shard: which records go into which file."""

    split: str
    index: int
    num_shards: int
    refs: Sequence[RecordRef]


def plan_shards(
    split_records: dict[str, Sequence[RecordRef]], num_shards: dict[str, int], seed: int
) -> list[ShardTask]:
    """Shuffles each split with ``seed`` and cuts it into contiguous shards.

    Raises:
      KubeslimError: a split is empty, or has fewer records than shards.
    """
    tasks = []
    for split, refs in split_records.items():
        shards = num_shards[split]
        if shards < 1 or len(refs) < shards:
            raise KubeslimError(
                f"split {split!r} has {len(refs)} records, cannot write {shards} shards"
            )
        order = np.random.default_rng(seed).permutation(len(refs))
        for index, chunk in enumerate(np.array_split(order, shards)):
            chunk_refs = refs[chunk] if isinstance(refs, np.ndarray) else [refs[i] for i in chunk]
            tasks.append(ShardTask(split, index, shards, chunk_refs))
    return tasks


@dataclass
class ShardResult:
    """What writing shards produced: examples per class and format, and the images skipped
    as (record, why, class id)."""

    per_class: Counter = field(default_factory=Counter)
    formats: Counter = field(default_factory=Counter)
    skipped: list[tuple[str, str, int]] = field(default_factory=list)

    def merge(self, other: "ShardResult") -> "ShardResult":
        self.per_class.update(other.per_class)
        self.formats.update(other.formats)
        self.skipped.extend(other.skipped)
        return self

    def skip(self, ref: RecordRef, label: int, where: str, reason: str, strict: bool) -> None:
        """Counts an image left out, or with ``strict`` fails on it.

        Raises:
          KubeslimError: ``strict``, naming the image and why.
        """
        if strict:
            raise KubeslimError(f"{where}: {reason} (--strict)")
        self.skipped.append((str(ref), reason, label))


def write_shard(
    dataset: ImageDataset, task: ShardTask, out_dir: str, num_classes: int, strict: bool
) -> ShardResult:
    """Writes one shard file whole (``storage.writing``) into ``out_dir`` (local or not).

    Images from source files are checked with TensorFlow a batch at a time before they are
    written; records keep their planned order.

    Raises:
      KubeslimError: a label is out of range, or (with ``strict``) an image does not decode.
    """
    name = dataset_spec.shard_name(dataset.name, task.split, task.index, task.num_shards)
    channels = dataset.image_shape[-1]
    result = ShardResult()
    with storage.writing(storage.join(out_dir, name)) as f:
        batch: list[tuple[RecordRef, str, int, EncodedImage]] = []
        for ref, image in zip(task.refs, dataset.read(task.split, task.refs), strict=True):
            where = f"{task.split} record {ref}"
            if not 0 <= image.label < num_classes:
                raise KubeslimError(f"{where}: label {image.label} not in [0, {num_classes})")
            try:
                batch.append((ref, where, image.label, encode_image(image, where, channels)))
            except SkippedImage as e:
                result.skip(ref, image.label, where, str(e), strict)
            if len(batch) == _CHECK_BATCH:
                _write_checked(f, batch, channels, strict, result)
                batch = []
        _write_checked(f, batch, channels, strict, result)
    return result


def _write_checked(
    f: Any,
    batch: list[tuple[RecordRef, str, int, EncodedImage]],
    channels: int,
    strict: bool,
    result: ShardResult,
) -> None:
    """Writes the images of ``batch`` that decode as training decodes them, in order."""
    from_files = [i for i, (*_, encoded) in enumerate(batch) if encoded.from_file]
    failed = decode_check.undecodable([batch[i][3].data for i in from_files], channels)
    reasons = {from_files[i]: reason for i, reason in failed.items()}
    for i, (ref, where, label, encoded) in enumerate(batch):
        if i in reasons:
            result.skip(ref, label, where, reasons[i], strict)
            continue
        f.write(records.frame_record(build_example(encoded, label)))
        result.per_class[label] += 1
        result.formats[encoded.format] += 1


class WriteShardFn(beam.DoFn):
    """Writes one ``ShardTask`` as a TFRecord file; emits (split, ShardResult)."""

    def __init__(self, dataset: ImageDataset, num_classes: int, out_dir: str, strict: bool):
        self._dataset = dataset
        self._num_classes = num_classes
        self._out_dir = out_dir
        self._strict = strict

    def process(self, task: ShardTask) -> Iterable[tuple[str, ShardResult]]:
        result = write_shard(self._dataset, task, self._out_dir, self._num_classes, self._strict)
        counter = beam.metrics.Metrics.counter
        for label, n in result.per_class.items():
            counter(_METRICS_NAMESPACE, f"examples/{task.split}/class_{label}").inc(n)
        if result.skipped:
            counter(_METRICS_NAMESPACE, f"skipped/{task.split}").inc(len(result.skipped))
        yield task.split, result


def merge_results(results: Iterable[ShardResult]) -> ShardResult:
    """Combines shard results (associative and commutative, as Beam requires)."""
    total = ShardResult()
    for result in results:
        total.merge(result)
    return total


def write_metadata(
    results_per_split: dict[str, ShardResult],
    *,
    out_dir: str,
    dataset: ImageDataset,
    class_names: list[str],
    tasks: list[ShardTask],
    seed: int,
) -> None:
    """Writes ``labels.txt`` and the ``dataset.json`` descriptor.

    Raises:
      KubeslimError: a split, or a class (other than a background class), has no examples.
    """
    _check_not_empty(results_per_split, dataset, class_names, tasks)
    dataset_spec.write_labels(storage.join(out_dir, dataset_spec.LABELS_FILE), class_names)
    splits: dict[str, Any] = {}
    for task in tasks:
        split = splits.setdefault(task.split, {"num_shards": task.num_shards, "files": []})
        split["files"].append(
            dataset_spec.shard_name(dataset.name, task.split, task.index, task.num_shards)
        )
    formats: Counter = Counter()
    for split, entry in splits.items():
        result = results_per_split.get(split, ShardResult())
        formats.update(result.formats)
        entry["num_examples"] = sum(result.per_class.values())
        entry["examples_per_class"] = {
            name: result.per_class.get(label, 0) for label, name in enumerate(class_names)
        }
        entry["skipped"] = [{"record": r, "reason": why} for r, why, _ in sorted(result.skipped)]
    descriptor = {
        "name": dataset.name,
        "num_classes": len(class_names),
        "class_names": class_names,
        "background_class": dataset.background_class,
        "image_shape": list(dataset.image_shape),
        "image_formats": sorted(formats),
        "feature_keys": dataset_spec.FEATURE_KEYS,
        "splits": splits,
        "seed": seed,
    }
    storage.write_text(
        storage.join(out_dir, dataset_spec.DESCRIPTOR_FILE), json.dumps(descriptor, indent=2) + "\n"
    )


def _check_not_empty(
    results_per_split: dict[str, ShardResult],
    dataset: ImageDataset,
    class_names: list[str],
    tasks: list[ShardTask],
) -> None:
    def skipped_images(skipped: list[tuple[str, str, int]]) -> str:
        if not skipped:
            return "the source has no images of it"
        record, reason, _ = min(skipped)
        return f"all its {len(skipped)} images were skipped, e.g. {record}: {reason}"

    splits = list(dict.fromkeys(task.split for task in tasks))
    results = [results_per_split.get(split, ShardResult()) for split in splits]
    total = merge_results(results)
    for label in range(1 if dataset.background_class else 0, len(class_names)):
        if not total.per_class[label]:
            skipped = [s for s in total.skipped if s[2] == label]
            raise KubeslimError(
                f"{dataset.name}: class {class_names[label]!r} has no examples: "
                + skipped_images(skipped)
            )
    for split, result in zip(splits, results, strict=True):
        if not sum(result.per_class.values()):
            raise KubeslimError(
                f"{dataset.name}: split {split!r} has no examples: "
                + skipped_images(result.skipped)
            )


def _log_counters(result: beam.runners.runner.PipelineResult) -> None:
    """Logs Beam's own counters, summed per split (the runner's view of the job)."""
    totals: Counter[str] = Counter()
    try:
        counters = result.metrics().query()["counters"]
    except NotImplementedError:  # a runner without metrics support
        return
    for counter in counters:
        if counter.key.metric.namespace == _METRICS_NAMESPACE:
            kind, split = counter.key.metric.name.split("/")[:2]
            totals[f"{split} {kind}"] += counter.committed or counter.attempted or 0
    if totals:
        log.info("Beam counters: %s", ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))


def convert_dataset(
    output_dir: str | os.PathLike,
    options: ConvertOptions | None = None,
    *,
    beam_args: Sequence[str] = (),
    dataset: ImageDataset | None = None,
) -> dict[str, Any]:
    """Converts a data set into TFRecords under ``output_dir``.

    Args:
      output_dir: the directory to write, local or on an object store, as
        ``output_dirs.output_dir`` says: it appears when the job succeeds, replacing a previous
        conversion there.
      options: which data set, from where, and how (``ConvertOptions``; its defaults if None).
      beam_args: Beam pipeline options, e.g. ``["--runner=DirectRunner"]``.
      dataset: a data set instance to convert instead of ``options.dataset_name`` (one built
        with arguments the registry does not pass, as tests and benchmarks do).

    Returns:
      The data set descriptor that was written.
    """
    options = options or ConvertOptions()
    if dataset is None:
        size = {"validation_size": options.validation_size} if options.validation_size else {}
        dataset = dataset_factory.get_dataset(options.dataset_name, **size)
    dataset_name, source = dataset.name, options.source or None
    cache = cache_dir(options.cache_dir, dataset_name)
    pipeline_options = make_pipeline_options(beam_args)  # also the file systems' options
    output = output_dirs.output_dir(
        output_dir,
        "dataset",
        overwrite=options.overwrite,
        inputs={"--source": source, "--cache_dir": cache},
    )
    shards = dict(dataset.default_num_shards)
    for split, n in options.shards.items():
        if split not in shards:
            raise KubeslimError(
                f"--num_shards names split {split!r}; {dataset_name} has: {', '.join(shards)}"
            )
        shards[split] = n
    dataset.prepare(cache, source)
    class_names = dataset.class_names()
    dataset_spec.check_class_names(class_names, dataset_name)
    seed = options.seed
    tasks = plan_shards(dataset.split_records(seed), shards, seed)
    log.info("converting %s: %d shards into %s", dataset_name, len(tasks), output.path)
    with output.staging() as tmp, worker_errors_as_user_errors():
        pipeline = beam.Pipeline(options=pipeline_options)
        _ = (
            pipeline
            | "PlanShards" >> beam.Create(tasks)
            | "WriteShards"
            >> beam.ParDo(WriteShardFn(dataset, len(class_names), str(tmp), options.strict))
            | "MergePerSplit" >> beam.CombinePerKey(merge_results)
            | "GatherSplits" >> beam.combiners.ToDict()
            | "WriteMetadata"
            >> beam.Map(
                write_metadata,
                out_dir=str(tmp),
                dataset=dataset,
                class_names=class_names,
                tasks=tasks,
                seed=seed,
            )
        )
        result = pipeline.run()
        result.wait_until_finish()
    _log_counters(result)
    descriptor = dataset_spec.read_descriptor(output.path)
    for split, entry in descriptor["splits"].items():
        log.info(
            "%s/%s: %d examples in %d shards, %d skipped",
            dataset_name,
            split,
            entry["num_examples"],
            entry["num_shards"],
            len(entry["skipped"]),
        )
        for skipped in entry["skipped"][:_SKIPPED_LOGGED]:
            log.warning("skipped %s: %s", skipped["record"], skipped["reason"])
        if len(entry["skipped"]) > _SKIPPED_LOGGED:
            log.warning(
                "... and %d more; all are listed in %s",
                len(entry["skipped"]) - _SKIPPED_LOGGED,
                dataset_spec.DESCRIPTOR_FILE,
            )
    return descriptor
