"""The shared converter core: any registered data set -> sharded TFRecords, with Apache Beam.

One Beam element is one output shard (a split, a shard index and the handles of its records),
so per-element runner overhead is paid per shard, not per image. Each worker writes its shard
under a temporary name and renames it when complete; the whole output directory is written
beside its final place and moved there only when the pipeline succeeds.

Run it as ``kubeslim convert`` or ``python -m kubeslim.beam.convert``; flags this job does not
know are Beam pipeline options (``--runner``, ``--direct_running_mode``, ...).
"""

import io
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apache_beam as beam
import numpy as np
from PIL import Image

from kubeslim import dataset_spec
from kubeslim.beam import records
from kubeslim.beam.datasets import dataset_factory
from kubeslim.beam.datasets.base import ImageDataset, RecordRef, SourceImage
from kubeslim.beam.runner import make_pipeline_options, worker_errors_as_user_errors
from kubeslim.errors import KubeslimError
from kubeslim.fileio import atomic_output_dir, check_output_dir

_METRICS_NAMESPACE = "kubeslim.convert"
_SKIPPED_LOGGED = 20
DEFAULT_CACHE_DIR = Path(os.environ.get("KUBESLIM_CACHE", "~/.cache/kubeslim")).expanduser()

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


class SkippedImage(Exception):
    """An image that cannot go into the data set; ``str()`` says why."""


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    format: str
    height: int
    width: int


def encode_image(image: SourceImage, where: str, channels: int) -> EncodedImage:
    """The bytes to store for one image.

    Pixels become PNG. Image file bytes are kept as they are when they are a JPEG or PNG in
    grey or RGB that decodes whole; other formats and colour modes (CMYK, palette, alpha) are
    converted to RGB and re-encoded, as JPEG when they came as JPEG and as PNG otherwise.

    Raises:
      SkippedImage: the bytes do not decode as an image.
      KubeslimError: the pixels are not uint8 [h, w, channels].
    """
    if image.pixels is not None:
        pixels = image.pixels
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[-1] != channels:
            raise KubeslimError(
                f"{where}: expected uint8 pixels of shape [h, w, {channels}], "
                f"got {pixels.dtype} {pixels.shape}"
            )
        return EncodedImage(records.encode_png(pixels), "png", pixels.shape[0], pixels.shape[1])
    try:
        with Image.open(io.BytesIO(image.encoded)) as decoded:
            decoded.load()
            source_format, mode, (width, height) = decoded.format, decoded.mode, decoded.size
            if source_format in ("JPEG", "PNG") and mode in ("L", "RGB"):
                return EncodedImage(image.encoded, source_format.lower(), height, width)
            buffer = io.BytesIO()
            out_format = "JPEG" if source_format == "JPEG" else "PNG"
            decoded.convert("RGB").save(buffer, out_format, quality=95)
    except Image.UnidentifiedImageError:
        raise SkippedImage("does not decode as an image (not a known image format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise SkippedImage(f"does not decode as an image ({e})") from None
    return EncodedImage(buffer.getvalue(), out_format.lower(), height, width)


def build_example(encoded: EncodedImage, label: int) -> bytes:
    """A serialized ``tf.train.Example`` with TF-Slim's feature keys."""
    keys = dataset_spec.FEATURE_KEYS
    return records.encode_example(
        {
            keys["image"]: encoded.data,
            keys["format"]: encoded.format.encode(),
            keys["label"]: label,
            keys["height"]: encoded.height,
            keys["width"]: encoded.width,
        }
    )


@dataclass
class ShardResult:
    """What writing shards produced: examples per class and format, images skipped and why."""

    per_class: Counter = field(default_factory=Counter)
    formats: Counter = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: "ShardResult") -> "ShardResult":
        self.per_class.update(other.per_class)
        self.formats.update(other.formats)
        self.skipped.extend(other.skipped)
        return self


def write_shard(
    dataset: ImageDataset, task: ShardTask, out_dir: Path, num_classes: int, strict: bool
) -> ShardResult:
    """Writes one shard file under a temporary name, then renames it into place.

    Raises:
      KubeslimError: a label is out of range, or (with ``strict``) an image does not decode.
    """
    name = dataset_spec.shard_name(dataset.name, task.split, task.index, task.num_shards)
    path = out_dir / name
    partial = path.with_name(path.name + ".partial")
    channels = dataset.image_shape[-1]
    result = ShardResult()
    with partial.open("wb") as f:
        for ref, image in zip(task.refs, dataset.read(task.split, task.refs), strict=True):
            where = f"{task.split} record {ref}"
            if not 0 <= image.label < num_classes:
                raise KubeslimError(f"{where}: label {image.label} not in [0, {num_classes})")
            try:
                encoded = encode_image(image, where, channels)
            except SkippedImage as e:
                if strict:
                    raise KubeslimError(f"{where}: {e} (--strict)") from None
                result.skipped.append((str(ref), str(e)))
                continue
            f.write(records.frame_record(build_example(encoded, image.label)))
            result.per_class[image.label] += 1
            result.formats[encoded.format] += 1
    os.replace(partial, path)
    return result


class WriteShardFn(beam.DoFn):
    """Writes one ``ShardTask`` as a TFRecord file; emits (split, ShardResult)."""

    def __init__(self, dataset: ImageDataset, num_classes: int, out_dir: str, strict: bool):
        self._dataset = dataset
        self._num_classes = num_classes
        self._out_dir = Path(out_dir)
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
    """Writes ``labels.txt`` and the ``dataset.json`` descriptor."""
    out = Path(out_dir)
    dataset_spec.write_labels(out / dataset_spec.LABELS_FILE, class_names)
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
        entry["skipped"] = [{"record": r, "reason": why} for r, why in sorted(result.skipped)]
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
    (out / dataset_spec.DESCRIPTOR_FILE).write_text(json.dumps(descriptor, indent=2) + "\n")


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
    dataset: str | ImageDataset,
    output_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike | None = None,
    source: str | None = None,
    num_shards: dict[str, int] | None = None,
    seed: int = 0,
    strict: bool = False,
    beam_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Converts a data set into TFRecords under ``output_dir``.

    Args:
      dataset: a name registered in ``dataset_factory``, or a data set instance.
      output_dir: the directory to write; replaced as a whole when the job succeeds.
      cache_dir: where downloads are kept between runs.
      source: another address or local copy of the raw data (a mirror).
      num_shards: shards per split; defaults to the data set's own.
      seed: shuffle seed; the same seed gives byte-identical shards.
      strict: fail on an image that does not decode, instead of skipping and counting it.
      beam_args: Beam pipeline options, e.g. ``["--runner=DirectRunner"]``.

    Returns:
      The data set descriptor that was written.
    """
    if isinstance(dataset, str):
        dataset = dataset_factory.get_dataset(dataset)
    dataset_name = dataset.name
    out = check_output_dir(output_dir)
    shards = dict(dataset.default_num_shards)
    for split, n in (num_shards or {}).items():
        if split not in shards:
            raise KubeslimError(
                f"--num_shards names split {split!r}; {dataset_name} has: {', '.join(shards)}"
            )
        shards[split] = n
    dataset.prepare(Path(cache_dir or DEFAULT_CACHE_DIR) / dataset_name, source)
    class_names = dataset.class_names()
    tasks = plan_shards(dataset.split_records(seed), shards, seed)
    log.info("converting %s: %d shards into %s", dataset_name, len(tasks), out)
    with atomic_output_dir(out) as tmp, worker_errors_as_user_errors():
        pipeline = beam.Pipeline(options=make_pipeline_options(beam_args))
        _ = (
            pipeline
            | "PlanShards" >> beam.Create(tasks)
            | "WriteShards" >> beam.ParDo(WriteShardFn(dataset, len(class_names), str(tmp), strict))
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
    descriptor = dataset_spec.read_descriptor(out)
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


def run(argv: Sequence[str] | None = None) -> None:
    """Entry point in Beam's style: own flags parsed, the rest passed to Beam."""
    from kubeslim.cli import main

    sys.exit(main(["convert", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    run()
