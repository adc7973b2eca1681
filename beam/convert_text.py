"""Converts a text corpus to token-id TFRecords with a tensorflow-transform vocabulary.

One Beam job: ``tft_beam.AnalyzeDataset`` over the train split builds the vocabulary with the
corpus's limits (``min_count`` as TFT's frequency threshold, ``vocabulary_size`` as its
top-k; the words ranked by count), and ``TransformDataset`` maps every split's lines through
it, words outside it to one out-of-vocabulary id. The output directory holds:

- ``{corpus}_{split}-00000-of-0000N.tfrecord``: one ``tf.train.Example`` per line with the
  int64 list feature ``tokens``;
- ``vocabulary.txt``: one word per line, its line number its id; the last line names the
  out-of-vocabulary id (``<unk>``, or ``<oov>`` where the corpus has its own ``<unk>``);
- ``transform/``: the TFT output, which maps raw ``text`` strings to ``ids`` (a ragged
  tensor), so exported models embed the same mapping;
- ``corpus.json``: splits, files, line, token and out-of-vocabulary counts.

Runs on any Beam runner, FnApiRunner by default, like the image converters.
"""

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubeslim.beam.convert import DEFAULT_CACHE_DIR
from kubeslim.beam.records import encode_example
from kubeslim.beam.runner import make_pipeline_options, worker_errors_as_user_errors
from kubeslim.beam.text.base import UNK, TextCorpus
from kubeslim.beam.text.corpus_factory import get_corpus
from kubeslim.corpus_spec import (
    DESCRIPTOR_FILE,
    TOKENS_KEY,
    TRANSFORM_DIR,
    VOCABULARY_FILE,
    shard_prefix,
)
from kubeslim.errors import KubeslimError
from kubeslim.fileio import atomic_output_dir

_TFT_VOCABULARY = "words"
OOV = "<oov>"

log = logging.getLogger(__name__)


def make_preprocessing_fn(corpus: TextCorpus):
    """The TFT preprocessing_fn: ``text`` (lines) -> ``ids`` (ragged int64)."""
    import tensorflow as tf
    import tensorflow_transform as tft

    def preprocessing_fn(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        tokens = tf.strings.split(inputs["text"])
        ids = tft.compute_and_apply_vocabulary(
            tokens,
            top_k=corpus.vocabulary_size,
            frequency_threshold=corpus.min_count,
            num_oov_buckets=1,
            vocab_filename=_TFT_VOCABULARY,
        )
        return {"ids": ids}

    return preprocessing_fn


def _encode_ids(instance: Any) -> bytes:  # Any: TFT types its output loosely
    return encode_example({TOKENS_KEY: [int(i) for i in instance["ids$ragged_values"]]})


def convert_corpus(
    corpus: str | TextCorpus,
    output_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike | None = None,
    source: str | None = None,
    beam_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Fetches ``corpus`` and writes its token-id TFRecords, vocabulary and transform.

    Returns:
      The descriptor written to ``corpus.json``.

    Raises:
      KubeslimError: the corpus is unknown, its files cannot be fetched or read, or its
        train split is empty.
    """
    import apache_beam as beam
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    corpus = get_corpus(corpus) if isinstance(corpus, str) else corpus
    corpus.prepare(Path(cache_dir or DEFAULT_CACHE_DIR) / corpus.name, source)
    lines = {split: corpus.lines(split) for split in corpus.split_names}
    if not lines["train"]:
        raise KubeslimError(f"corpus {corpus.name!r}: the train split has no text")
    metadata = dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec({"text": tf.io.FixedLenFeature([], tf.string)})
    )
    log.info(
        "converting %s: %s",
        corpus.name,
        ", ".join(f"{s} {len(v):,} lines" for s, v in lines.items()),
    )
    with atomic_output_dir(output_dir) as tmp, worker_errors_as_user_errors():
        with beam.Pipeline(options=make_pipeline_options(beam_args)) as pipeline:
            with tft_beam.Context(temp_dir=str(tmp / "tft_tmp")):
                raw = {
                    split: pipeline
                    | f"Read{split}" >> beam.Create([{"text": line} for line in split_lines])
                    for split, split_lines in lines.items()
                }
                transform_fn = (raw["train"], metadata) | "Analyze" >> tft_beam.AnalyzeDataset(
                    make_preprocessing_fn(corpus)
                )
                _ = transform_fn | "WriteTransform" >> tft_beam.WriteTransformFn(
                    str(tmp / TRANSFORM_DIR)
                )
                for split, data in raw.items():
                    transformed, _ = ((data, metadata), transform_fn) | (
                        f"Transform{split}"
                    ) >> tft_beam.TransformDataset(output_record_batches=False)
                    _ = (
                        transformed
                        | f"Encode{split}" >> beam.Map(_encode_ids)
                        | f"Write{split}"
                        >> beam.io.WriteToTFRecord(
                            str(tmp / shard_prefix(corpus.name, split)),
                            file_name_suffix=".tfrecord",
                            num_shards=corpus.shards,
                            shard_name_template="-SSSSS-of-NNNNN",
                        )
                    )
        shutil.rmtree(tmp / "tft_tmp", ignore_errors=True)
        descriptor = _describe(tmp, corpus, lines)
        (tmp / DESCRIPTOR_FILE).write_text(json.dumps(descriptor, indent=2) + "\n")
    log.info(
        "%s: %d words in the vocabulary; %s",
        corpus.name,
        descriptor["vocabulary_size"],
        ", ".join(f"{s} {e['num_tokens']:,} tokens" for s, e in descriptor["splits"].items()),
    )
    return descriptor


def _describe(out: Path, corpus: TextCorpus, lines: dict[str, list[str]]) -> dict[str, Any]:
    """Writes ``vocabulary.txt`` and returns the descriptor, with the counts per split."""
    assets = out / TRANSFORM_DIR / "transform_fn" / "assets" / _TFT_VOCABULARY
    words = assets.read_text(encoding="utf-8").splitlines()
    known = set(words)
    splits = {}
    for split, split_lines in lines.items():
        tokens = [t for line in split_lines for t in line.split()]
        splits[split] = {
            "files": sorted(
                p.name for p in out.glob(f"{shard_prefix(corpus.name, split)}-*.tfrecord")
            ),
            "num_lines": len(split_lines),
            "num_tokens": len(tokens),
            "num_out_of_vocabulary": sum(t not in known for t in tokens),
        }
    # The out-of-vocabulary bucket is id len(words): <unk>, or <oov> where <unk> is a word.
    vocabulary = [*words, OOV if UNK in known else UNK]
    (out / VOCABULARY_FILE).write_text("".join(w + "\n" for w in vocabulary), encoding="utf-8")
    return {
        "name": corpus.name,
        "vocabulary_size": len(vocabulary),
        "out_of_vocabulary_id": len(words),
        "min_count": corpus.min_count,
        "max_vocabulary_size": corpus.vocabulary_size,
        "feature_key": TOKENS_KEY,
        "splits": splits,
    }
