"""Decoding with a trained translation model (the tutorial's ``translate.py --decode``): raw
sentences in, translations out, in one graph that also embeds the converter's
tensorflow-transform graph; scoring a split with BLEU and exact match; and the SavedModel."""

import json
import logging
import time
from pathlib import Path
from typing import Any

import tensorflow as tf

from kubeslim import corpus_spec
from kubeslim.components.serving import write_servable
from kubeslim.components.text.translation import load_model
from kubeslim.components.text.translation_data import (
    EOS,
    PAD,
    SOURCE,
    SPECIALS,
    TARGET,
    bucket_index,
    encoder_input,
    read_pairs,
)
from kubeslim.components.text.translation_options import TranslationEvalOptions
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir
from kubeslim.model_spec import METRICS_FILE, SERVABLE_VERSION

EXPORT_KIND = "translation_export"  # its kind in the kubeslim marker (``fileio``)

log = logging.getLogger(__name__)


class Translator(tf.Module):
    """Raw sentences in, translations out, in one graph: the converter's tensorflow-transform
    graph cuts and maps the source, the model decodes, the target words are joined with
    spaces. The trainer's evaluation, ``kubeslim translate`` and the SavedModel all run it."""

    def __init__(self, model_dir: str | Path, beam_width: int | None = None):
        super().__init__()
        import tensorflow_transform as tft

        self.model, config = load_model(model_dir)
        self.config = config
        self.beam_width = beam_width or config.beam_width
        self.max_length = config.bucket_sizes[-1][1]
        output = tft.TFTransformOutput(str(Path(model_dir) / corpus_spec.TRANSFORM_DIR))
        self.transform = output.transform_features_layer()  # tracked: saved with the module
        words = corpus_spec.read_vocabulary(model_dir, TARGET)
        self.target_words = tf.constant([*SPECIALS, *words])

    def encoder_inputs(self, source_ids: tf.RaggedTensor) -> tf.Tensor:
        """Shifted, reversed (if configured) and PAD-padded, as ``training_batches`` makes them."""
        ids = tf.cast(source_ids, tf.int32) + len(SPECIALS)
        dense = ids.to_tensor(PAD)
        if self.config.reverse_source:
            dense = tf.reverse_sequence(dense, tf.cast(ids.row_lengths(), tf.int32), 1, 0)
        return dense

    def words(self, ids: tf.Tensor) -> tf.Tensor:
        """Target ids [batch, steps] -> sentences [batch]: the words before EOS."""
        before_eos = tf.cumsum(tf.cast(ids == EOS, tf.int32), axis=1, exclusive=True) == 0
        keep = before_eos & (ids >= len(SPECIALS))
        tokens = tf.ragged.boolean_mask(tf.gather(self.target_words, ids), keep)
        return tf.strings.reduce_join(tokens, axis=1, separator=" ")

    def decode(self, encoder_inputs: tf.Tensor) -> tf.Tensor:
        return self.words(
            self.model.translate_ids(encoder_inputs, self.max_length, self.beam_width)
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")])
    def translate(self, sentences: tf.Tensor) -> dict[str, tf.Tensor]:
        # The transform's graph takes both raw features; the target is not needed here.
        raw = {SOURCE: sentences, TARGET: tf.fill(tf.shape(sentences), "")}
        ids = self.transform(raw)[SOURCE]
        return {"translations": self.decode(self.encoder_inputs(ids))}

    def __call__(self, sentences: list[str]) -> list[str]:
        out = self.translate(tf.constant(sentences, tf.string))["translations"]
        return [t.decode("utf-8") for t in out.numpy()]


def evaluate_translation(
    model_dir: str | Path,
    corpus_dir: str | Path,
    split: str = "test",
    *,
    beam_width: int | None = None,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Decodes ``split``'s converted source ids and scores the translations against the
    references: exact-match accuracy and corpus BLEU (sacrebleu, over the tokenizer's tokens).
    Pairs too long for the largest bucket are left out, as in training."""
    import sacrebleu

    translator = Translator(model_dir, beam_width)
    config = translator.config
    pairs = read_pairs(corpus_dir, split).filter(
        lambda s, t: bucket_index(tf.size(s), tf.size(t), config.bucket_sizes) >= 0
    )
    batches = pairs.map(lambda s, t: (encoder_input(s, config), t)).padded_batch(batch_size)
    decode = tf.function(translator.decode)
    hypotheses, references = [], []
    start = time.perf_counter()
    for encoder_inputs, targets in batches:
        hypotheses += [h.decode("utf-8") for h in decode(encoder_inputs).numpy()]
        references += [r.decode("utf-8") for r in translator.words(targets).numpy()]
    if not references:
        raise KubeslimError(f"{corpus_dir} has no {split} pair that fits the buckets")
    bleu = sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none", force=True)
    exact = sum(h == r for h, r in zip(hypotheses, references, strict=True)) / len(references)
    return {
        "split": split,
        "beam_width": translator.beam_width,
        "sentences": len(references),
        "exact_match": exact,
        "bleu": bleu.score,
        "sentences_per_second": round(len(references) / (time.perf_counter() - start), 1),
        "examples": [
            {"reference": r, "translation": h}
            for h, r in zip(hypotheses[:10], references[:10], strict=True)
        ],
        "translations": hypotheses,
    }


def write_evaluation(
    model_dir: str | Path,
    corpus_dir: str | Path,
    output_dir: str | Path,
    options: TranslationEvalOptions | None = None,
) -> dict[str, Any]:
    """``evaluate_translation`` of ``options.eval_split`` (``options.eval_beam_width`` 0 keeps
    the model's), written to ``output_dir``: ``metrics.json`` and every translation, one a
    line, in ``translations.txt``."""
    options = options or TranslationEvalOptions()
    output = OutputDir(
        output_dir,
        "translation_evaluation",
        inputs={"--model_dir": model_dir, "--corpus_dir": corpus_dir},
    )
    split = options.eval_split
    result = evaluate_translation(
        model_dir, corpus_dir, split, beam_width=options.eval_beam_width or None
    )
    with output.staging() as tmp:
        translations = result.pop("translations")
        (tmp / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
        (tmp / "translations.txt").write_text("".join(t + "\n" for t in translations))
    log.info(
        "%s: BLEU %.2f, exact match %.4f over %d sentences",
        split,
        result["bleu"],
        result["exact_match"],
        result["sentences"],
    )
    return result


def export_translator(
    model_dir: str | Path,
    export_dir: str | Path,
    beam_width: int | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Writes a SavedModel whose ``serving_default`` maps raw sentences to translations to
    ``export_dir`` (see ``fileio.OutputDir``), in version directory ``1`` as TF Serving lays a
    model out."""
    output = OutputDir(
        export_dir,
        EXPORT_KIND,
        overwrite=overwrite,
        inputs={"--model_dir": model_dir},
        what="--export_dir",
    )
    translator = Translator(model_dir, beam_width)
    with output.staging() as tmp:
        write_servable(
            tmp / SERVABLE_VERSION,
            {"serving_default": translator.translate},
            [translator.model, translator.transform, translator],
        )
    return Path(export_dir)
