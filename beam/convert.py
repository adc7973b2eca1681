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
from dataclasses import dataclass
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
DEFAULT_CACHE_DIR = Path(os.environ.get("KUBESLIM_CACHE", "~/.cache/kubeslim")).expanduser()

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardTask:
    """One output shard: which records go into which file."""

    split: str
    index: int
    num_shards: int
    refs: tuple[RecordRef, ...]


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
            tasks.append(ShardTask(split, index, shards, tuple(refs[i] for i in chunk)))
    return tasks


def encode_png(pixels: np.ndarray) -> bytes:
    """Encodes a uint8 [height, width, 1 or 3] array as PNG."""
    mode = {1: "L", 3: "RGB"}[pixels.shape[-1]]
    buffer = io.BytesIO()
    Image.fromarray(pixels.squeeze(-1) if mode == "L" else pixels, mode=mode).save(buffer, "PNG")
    return buffer.getvalue()


def build_example(image: SourceImage) -> bytes:
    """A serialized ``tf.train.Example`` with TF-Slim's feature keys."""
    height, width, _ = image.pixels.shape
    keys = dataset_spec.FEATURE_KEYS
    return records.encode_example(
        {
            keys["image"]: encode_png(image.pixels),
            keys["format"]: b"png",
            keys["label"]: image.label,
            keys["height"]: height,
            keys["width"]: width,
        }
    )


def _check_image(image: SourceImage, ref: RecordRef, num_classes: int) -> None:
    pixels = image.pixels
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[-1] not in (1, 3):
        raise KubeslimError(
            f"record {ref!r}: expected uint8 pixels of shape [h, w, 1 or 3], "
            f"got {pixels.dtype} {pixels.shape}"
        )
    if not 0 <= image.label < num_classes:
        raise KubeslimError(f"record {ref!r}: label {image.label} not in [0, {num_classes})")


class WriteShardFn(beam.DoFn):
    """Writes one ``ShardTask`` as a TFRecord file; emits (split, {label: count})."""

    def __init__(self, dataset: ImageDataset, num_classes: int, out_dir: str):
        self._dataset = dataset
        self._num_classes = num_classes
        self._out_dir = Path(out_dir)

    def process(self, task: ShardTask) -> Iterable[tuple[str, dict[int, int]]]:
        name = dataset_spec.shard_name(self._dataset.name, task.split, task.index, task.num_shards)
        path = self._out_dir / name
        partial = path.with_name(path.name + ".partial")
        counts: Counter[int] = Counter()
        with partial.open("wb") as f:
            for ref, image in zip(task.refs, self._dataset.read(task.refs), strict=True):
                _check_image(image, ref, self._num_classes)
                f.write(records.frame_record(build_example(image)))
                counts[image.label] += 1
        os.replace(partial, path)
        for label, n in counts.items():
            beam.metrics.Metrics.counter(
                _METRICS_NAMESPACE, f"examples/{task.split}/class_{label}"
            ).inc(n)
        yield task.split, dict(counts)


def merge_counts(counts: Iterable[dict[int, int]]) -> dict[int, int]:
    """Sums per-label counts."""
    total: Counter[int] = Counter()
    for c in counts:
        total.update(c)
    return dict(total)


def write_metadata(
    counts_per_split: dict[str, dict[int, int]],
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
    for split, entry in splits.items():
        per_class = counts_per_split.get(split, {})
        entry["num_examples"] = sum(per_class.values())
        entry["examples_per_class"] = {
            class_names[label]: per_class.get(label, 0) for label in range(len(class_names))
        }
    descriptor = {
        "name": dataset.name,
        "num_classes": len(class_names),
        "class_names": class_names,
        "labels_offset": 0,
        "image_shape": list(dataset.image_shape),
        "image_format": "png",
        "feature_keys": dataset_spec.FEATURE_KEYS,
        "splits": splits,
        "seed": seed,
    }
    (out / dataset_spec.DESCRIPTOR_FILE).write_text(json.dumps(descriptor, indent=2) + "\n")


def convert_dataset(
    dataset_name: str,
    output_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike | None = None,
    source: str | None = None,
    num_shards: dict[str, int] | None = None,
    seed: int = 0,
    beam_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Converts data set ``dataset_name`` into TFRecords under ``output_dir``.

    Args:
      dataset_name: a name registered in ``dataset_factory``.
      output_dir: the directory to write; replaced as a whole when the job succeeds.
      cache_dir: where downloads are kept between runs.
      source: another address or local copy of the raw data (a mirror).
      num_shards: shards per split; defaults to the data set's own.
      seed: shuffle seed; the same seed gives byte-identical shards.
      beam_args: Beam pipeline options, e.g. ``["--runner=DirectRunner"]``.

    Returns:
      The data set descriptor that was written.
    """
    dataset = dataset_factory.get_dataset(dataset_name)
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
        with beam.Pipeline(options=make_pipeline_options(beam_args)) as pipeline:
            _ = (
                pipeline
                | "PlanShards" >> beam.Create(tasks)
                | "WriteShards" >> beam.ParDo(WriteShardFn(dataset, len(class_names), str(tmp)))
                | "CountPerSplit" >> beam.CombinePerKey(merge_counts)
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
    descriptor = dataset_spec.read_descriptor(out)
    for split, entry in descriptor["splits"].items():
        log.info(
            "%s/%s: %d examples in %d shards",
            dataset_name,
            split,
            entry["num_examples"],
            entry["num_shards"],
        )
    return descriptor


def run(argv: Sequence[str] | None = None) -> None:
    """Entry point in Beam's style: own flags parsed, the rest passed to Beam."""
    from kubeslim.cli import main

    sys.exit(main(["convert", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    run()
