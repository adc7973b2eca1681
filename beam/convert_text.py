"""Converts a text corpus to token-id TFRecords with a tensorflow-transform vocabulary.

The corpus's records (one raw string per feature: ``tokens`` for a monolingual corpus,
``source`` and ``target`` for a parallel one) are first streamed to one staging TFRecord file
per split, so no corpus has to fit in memory. Then one Beam job: ``tft_beam.AnalyzeDataset``
over the train split cuts the text into tokens (``TextCorpus.tokenize``) and builds one
vocabulary per feature with the corpus's limits (``min_count`` as TFT's frequency threshold,
``vocabulary_size`` as its top-k, words ranked by count); ``TransformDataset`` maps every
split through them, words outside a vocabulary to its one out-of-vocabulary id. Records with
more tokens than the corpus's ``max_tokens`` are counted and dropped. The output directory:

- ``{corpus}_{split}-00000-of-0000N.tfrecord``: one ``tf.train.Example`` per record with an
  int64 list feature per corpus feature;
- ``vocabulary_{feature}.txt``: one word per line, its line number its id; the last line
  names the out-of-vocabulary id (``<unk>``, or ``<oov>`` where the corpus has its own
  ``<unk>``);
- ``transform/``: the TFT output, which maps raw strings to ids (ragged tensors), so exported
  models cut and map text exactly as the training data was;
- ``corpus.json``: features, vocabularies and, per split, files and the counts of records,
  dropped records, tokens and out-of-vocabulary tokens.

Runs on any Beam runner, FnApiRunner by default, like the image converters.
"""

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kubeslim import output_dirs
from kubeslim.beam.download import cache_dir
from kubeslim.beam.options import ConvertTextOptions
from kubeslim.beam.records import encode_example
from kubeslim.beam.runner import make_pipeline_options, worker_errors_as_user_errors
from kubeslim.beam.text.base import UNK, TextCorpus
from kubeslim.beam.text.corpus_factory import get_corpus
from kubeslim.corpus_spec import DESCRIPTOR_FILE, TRANSFORM_DIR, shard_prefix, write_vocabulary
from kubeslim.errors import KubeslimError

OOV = "<oov>"
_OOV_COUNT = "{}_out_of_vocabulary"
_PROGRESS_RECORDS = 1_000_000

log = logging.getLogger(__name__)


def make_preprocessing_fn(corpus: TextCorpus):
    """The TFT preprocessing_fn: each feature's raw strings -> ids (ragged int64), and how
    many of a record's ids are out of vocabulary."""
    import tensorflow as tf
    import tensorflow_transform as tft

    def preprocessing_fn(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        outputs = {}
        for feature in corpus.features:
            ids = tft.compute_and_apply_vocabulary(
                corpus.tokenize(inputs[feature]),
                top_k=corpus.vocabulary_size,
                frequency_threshold=corpus.min_count,
                num_oov_buckets=1,
                vocab_filename=feature,
            )
            size = tft.experimental.get_vocabulary_size_by_name(feature)
            outputs[feature] = ids
            outputs[_OOV_COUNT.format(feature)] = tf.reduce_sum(
                tf.cast(ids >= size, tf.int64), axis=1
            )
        return outputs

    return preprocessing_fn


def _stage(corpus: TextCorpus, split: str, path: Path) -> int:
    """Streams the split's records to a TFRecord file of raw strings; returns their number."""
    import tensorflow as tf

    count = 0
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in corpus.records(split):
            texts = {f: [t.encode("utf-8")] for f, t in zip(corpus.features, record, strict=True)}
            writer.write(encode_example(texts))
            count += 1
            if count % _PROGRESS_RECORDS == 0:
                log.info("%s %s: staged %d records", corpus.name, split, count)
    return count


def _decode_raw(record: bytes, features: tuple[str, ...]) -> dict[str, bytes]:
    import tensorflow as tf

    example = tf.train.Example.FromString(record).features.feature
    return {f: example[f].bytes_list.value[0] for f in features}


def _encode(instance: Any, corpus: TextCorpus):  # Any: TFT types its output loosely
    """The record's TFRecord bytes, unless it is too long, and its counts as tagged output
    ``stats``: [kept, dropped, tokens per feature..., out-of-vocabulary per feature...]."""
    import apache_beam as beam

    ids = [instance[f + "$ragged_values"] for f in corpus.features]
    limits = corpus.max_tokens or [None] * len(ids)
    kept = all(limit is None or len(x) <= limit for x, limit in zip(ids, limits, strict=True))
    oov = [int(instance[_OOV_COUNT.format(f)]) for f in corpus.features]
    yield beam.pvalue.TaggedOutput(
        "stats", np.array([int(kept), int(not kept), *map(len, ids), *oov], np.int64)
    )
    if kept:
        yield encode_example(
            {f: [int(i) for i in x] for f, x in zip(corpus.features, ids, strict=True)}
        )


def _sum_vectors(vectors, width: int) -> np.ndarray:
    return np.sum([np.zeros(width, np.int64), *vectors], axis=0)


def convert_corpus(
    output_dir: str | os.PathLike,
    options: ConvertTextOptions | None = None,
    *,
    beam_args: Sequence[str] = (),
    corpus: TextCorpus | None = None,
) -> dict[str, Any]:
    """Fetches a corpus and writes its token-id TFRecords, vocabularies and transform to
    ``output_dir`` (as ``output_dirs.output_dir`` says; on an object store it is written locally,
    then uploaded).

    Args:
      output_dir: the directory to write.
      options: which corpus, from where, with what vocabulary limits
        (``ConvertTextOptions``; its defaults if None).
      beam_args: Beam pipeline options.
      corpus: a corpus instance to convert instead of ``options.corpus_name`` (one built with
        other files, as tests do).

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

    options = options or ConvertTextOptions()
    corpus = corpus or get_corpus(options.corpus_name)
    if options.min_count:
        corpus.min_count = options.min_count
    if options.vocabulary_size:
        corpus.vocabulary_size = options.vocabulary_size
    cache = cache_dir(options.cache_dir, corpus.name)
    source = options.source or None
    pipeline_options = make_pipeline_options(beam_args)  # also the file systems' options
    output = output_dirs.output_dir(
        output_dir,
        "corpus",
        overwrite=options.overwrite,
        inputs={"--source": source, "--cache_dir": cache},
    )
    corpus.prepare(cache, source)
    metadata = dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec(
            {f: tf.io.FixedLenFeature([], tf.string) for f in corpus.features}
        )
    )
    width = 2 + 2 * len(corpus.features)
    with output.local_staging() as tmp, worker_errors_as_user_errors():
        (tmp / "staging").mkdir()
        staged = {s: tmp / "staging" / f"{s}.tfrecord" for s in corpus.split_names}
        counts = {s: _stage(corpus, s, path) for s, path in staged.items()}
        if not counts["train"]:
            raise KubeslimError(f"corpus {corpus.name!r}: the train split has no text")
        log.info(
            "converting %s: %s",
            corpus.name,
            ", ".join(f"{s} {n:,} records" for s, n in counts.items()),
        )
        with beam.Pipeline(options=pipeline_options) as pipeline:
            with tft_beam.Context(temp_dir=str(tmp / "tft_tmp")):
                raw = {
                    split: pipeline
                    | f"Read{split}" >> beam.io.ReadFromTFRecord(str(path))
                    | f"Decode{split}" >> beam.Map(_decode_raw, corpus.features)
                    for split, path in staged.items()
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
                    encoded = transformed | f"Encode{split}" >> beam.FlatMap(
                        _encode, corpus
                    ).with_outputs("stats", main="records")
                    _ = encoded.records | f"Write{split}" >> beam.io.WriteToTFRecord(
                        str(tmp / shard_prefix(corpus.name, split)),
                        file_name_suffix=".tfrecord",
                        num_shards=corpus.shards,
                        shard_name_template="-SSSSS-of-NNNNN",
                    )
                    _ = (
                        encoded.stats
                        | f"Count{split}" >> beam.CombineGlobally(_sum_vectors, width)
                        | f"Format{split}" >> beam.Map(lambda v: json.dumps(v.tolist()))
                        | f"WriteCounts{split}"
                        >> beam.io.WriteToText(
                            str(tmp / "staging" / f"{split}.counts"), shard_name_template=""
                        )
                    )
        descriptor = _describe(tmp, corpus)
        shutil.rmtree(tmp / "tft_tmp", ignore_errors=True)
        shutil.rmtree(tmp / "staging")
        (tmp / DESCRIPTOR_FILE).write_text(json.dumps(descriptor, indent=2) + "\n")
    for split, entry in descriptor["splits"].items():
        log.info(
            "%s %s: %s records (%s dropped as too long), tokens %s, out of vocabulary %s",
            corpus.name,
            split,
            f"{entry['num_lines']:,}",
            f"{entry['num_dropped']:,}",
            entry["num_tokens"],
            entry["num_out_of_vocabulary"],
        )
    return descriptor


def _describe(out: Path, corpus: TextCorpus) -> dict[str, Any]:
    """Writes the vocabularies and the corpus's extras, and returns the descriptor."""
    vocabularies, words_by_feature = {}, {}
    for feature in corpus.features:
        assets = out / TRANSFORM_DIR / "transform_fn" / "assets" / feature
        words = assets.read_text(encoding="utf-8").splitlines()
        # The out-of-vocabulary id is len(words): <unk>, or <oov> where <unk> is a word.
        words_by_feature[feature] = [*words, OOV if UNK in words else UNK]
        write_vocabulary(out, words_by_feature[feature], feature)
        vocabularies[feature] = {"size": len(words) + 1, "out_of_vocabulary_id": len(words)}
    splits = {}
    n = len(corpus.features)
    for split in corpus.split_names:
        counts = json.loads((out / "staging" / f"{split}.counts").read_text())
        splits[split] = {
            "files": sorted(
                p.name for p in out.glob(f"{shard_prefix(corpus.name, split)}-*.tfrecord")
            ),
            "num_lines": counts[0],
            "num_dropped": counts[1],
            "num_tokens": dict(zip(corpus.features, counts[2 : 2 + n], strict=True)),
            "num_out_of_vocabulary": dict(zip(corpus.features, counts[2 + n :], strict=True)),
        }
    return {
        "name": corpus.name,
        "features": list(corpus.features),
        "vocabularies": vocabularies,
        "min_count": corpus.min_count,
        "max_vocabulary_size": corpus.vocabulary_size,
        "max_tokens": corpus.max_tokens,
        "splits": splits,
        **corpus.write_extras(out, words_by_feature),
    }
