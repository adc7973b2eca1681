"""The seq2seq tutorial's translation model (tensorflow/models ``translate.py``, after Cho et
al. 2014 and Bahdanau et al. 2015) in TF2: an LSTM encoder over the (reversed) source, an LSTM
decoder started from the encoder's final states, attention over the encoder's outputs (Luong et
al.'s "general" score, attentional hidden state ``tanh(W [context; h])``), and a softmax over
the target vocabulary, sampled during training when the vocabulary is large (Jean et al. 2015).

Training batches come from the tutorial's buckets: each pair goes to the smallest bucket that
holds its source and its target plus EOS, is padded to that bucket's sizes, and each step draws
a bucket at random in proportion to its size. Decoding is greedy or a beam search, in one
TensorFlow graph that the trainer, ``kubeslim translate`` and the exported SavedModel share; the
SavedModel also embeds the converter's tensorflow-transform graph, so it takes raw sentences.

Ids: the converter's vocabulary ids shifted up by three, below which sit PAD, GO and EOS.
"""

import json
import logging
import math
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kubeslim import corpus_spec
from kubeslim.components.distribute import strategy_from_environment
from kubeslim.components.evaluate import METRICS_FILE
from kubeslim.components.text.epoch_log import EpochLog, trained_record
from kubeslim.components.text.layers import LstmStack
from kubeslim.components.text.translation_options import TranslationConfig, get_config
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir, claim_dir

PAD, GO, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<go>", "<eos>")
SOURCE, TARGET = "source", "target"
RECORD_FILE = "translation.json"
CHECKPOINT_PREFIX = "translate.ckpt"

EXPORT_KIND = "translation_export"  # its kind in the kubeslim marker (``fileio``)
log = logging.getLogger(__name__)


def read_parallel_descriptor(corpus_dir: str | Path) -> dict[str, Any]:
    """``corpus.json`` of a converted parallel corpus.

    Raises:
      KubeslimError: ``corpus_dir`` is not one.
    """
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    if descriptor.get("features") != [SOURCE, TARGET]:
        raise KubeslimError(
            f"{corpus_dir} is not a parallel corpus (its features: {descriptor.get('features')}); "
            "convert one such as numbers_enfr or wmt_enfr"
        )
    return descriptor


def read_pairs(corpus_dir: str | Path, split: str) -> tf.data.Dataset:
    """(source, target) int32 id vectors of ``split``, shifted past the special ids."""
    descriptor = read_parallel_descriptor(corpus_dir)
    files = corpus_spec.split_files(corpus_dir, descriptor, split)
    spec = {f: tf.io.VarLenFeature(tf.int64) for f in (SOURCE, TARGET)}

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        return tuple(
            tf.cast(tf.sparse.to_dense(example[f]), tf.int32) + len(SPECIALS)
            for f in (SOURCE, TARGET)
        )

    return tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=tf.data.AUTOTUNE)


def bucket_index(source_length: tf.Tensor, target_length: tf.Tensor, buckets) -> tf.Tensor:
    """The first bucket holding the source and GO + target; -1 for none."""
    fits = tf.stack([(source_length <= s) & (target_length + 1 <= t) for s, t in buckets])
    first = tf.cast(tf.argmax(tf.cast(fits, tf.int32)), tf.int32)
    return tf.where(tf.reduce_any(fits), first, -1)


def encoder_input(source: tf.Tensor, config: TranslationConfig) -> tf.Tensor:
    return tf.reverse(source, [0]) if config.reverse_source else source


def _bucket_sizes(pairs: tf.data.Dataset, buckets) -> np.ndarray:
    """Pairs per bucket, and (last) those fitting none."""
    counts = pairs.map(lambda s, t: bucket_index(tf.size(s), tf.size(t), buckets)).reduce(
        tf.zeros([len(buckets) + 1], tf.int64),
        lambda total, b: (
            total + tf.one_hot(tf.where(b < 0, len(buckets), b), len(buckets) + 1, dtype=tf.int64)
        ),
    )
    return counts.numpy()


def training_batches(
    corpus_dir: str | Path, config: TranslationConfig, split: str = "train"
) -> tuple[tf.data.Dataset, int, np.ndarray]:
    """One epoch of bucketed batches ``(encoder_input, decoder_input, decoder_target)``, each
    padded to its bucket's sizes, the buckets drawn in proportion to their sizes.

    Returns:
      The batches, the number of steps in an epoch, and the pairs per bucket (the last entry:
      pairs too long for every bucket, which are left out).
    """
    pairs = read_pairs(corpus_dir, split)
    sizes = _bucket_sizes(pairs, config.buckets)
    if not sizes[:-1].sum():
        raise KubeslimError(f"no {split} pair of {corpus_dir} fits the buckets {config.buckets}")
    per_bucket, weights = [], []
    for b, (source_size, target_size) in enumerate(config.buckets):
        if not sizes[b]:
            continue
        data = (
            pairs.filter(
                lambda s, t, b=b: bucket_index(tf.size(s), tf.size(t), config.buckets) == b
            )
            .shuffle(min(int(sizes[b]), 100_000), seed=config.seed + b)
            .map(
                lambda s, t: (
                    encoder_input(s, config),
                    tf.concat([[GO], t], 0),
                    tf.concat([t, [EOS]], 0),
                )
            )
            .padded_batch(
                config.batch_size, padded_shapes=([source_size], [target_size], [target_size])
            )
        )
        per_bucket.append(data)
        weights.append(float(sizes[b]))
    steps = sum(math.ceil(n / config.batch_size) for n in sizes[:-1])
    batches = tf.data.Dataset.sample_from_datasets(
        per_bucket, weights=weights, seed=config.seed, stop_on_empty_dataset=False
    )
    return batches.prefetch(tf.data.AUTOTUNE), steps, sizes


class Seq2Seq(keras.layers.Layer):
    """Embeddings, the LSTM encoder and decoder, attention and the output projection. A Keras
    layer, so that its ``trainable_variables`` hold its sub-layers' weights."""

    def __init__(self, source_size: int, target_size: int, config: TranslationConfig):
        super().__init__(name="seq2seq")
        self.config = config
        size, seed = config.size, config.seed
        init = keras.initializers.GlorotUniform(seed)

        self.source_embedding = keras.layers.Embedding(source_size, size, name="source_embedding")
        self.target_embedding = keras.layers.Embedding(target_size, size, name="target_embedding")
        self.encoder = LstmStack(size, config.num_layers, name="encoder")
        self.decoder = LstmStack(size, config.num_layers, name="decoder")
        self.attention_kernel = keras.layers.Dense(size, use_bias=False, name="attention")
        self.attention_output = keras.layers.Dense(
            size, activation="tanh", use_bias=False, name="attention_output"
        )
        self.output_weights = self.add_weight(
            shape=(target_size, size), initializer=init, name="output_weights"
        )
        self.output_bias = self.add_weight(
            shape=(target_size,), initializer="zeros", name="output_bias"
        )
        self.built = True

    def encode(self, source: tf.Tensor):
        """Encoder outputs [batch, steps, size], their mask, their attention keys, and each
        layer's final [h, c]."""
        mask = source != PAD
        memory, states = self.encoder(self.source_embedding(source), mask=mask)
        return memory, mask, self.attention_kernel(memory), states

    def decode(self, inputs, memory, mask, keys, states):
        """Attentional hidden states [batch, steps, size] for decoder ``inputs`` (teacher
        forcing, or one step at a time), and the decoder's states after them."""
        x, new_states = self.decoder(self.target_embedding(inputs), initial_states=states)
        scores = tf.einsum("bth,bsh->bts", x, keys)
        scores += (1.0 - tf.cast(mask, scores.dtype))[:, None, :] * -1e9
        context = tf.einsum("bts,bsh->bth", tf.nn.softmax(scores), memory)
        return self.attention_output(tf.concat([context, x], -1)), new_states

    def logits(self, hidden: tf.Tensor) -> tf.Tensor:
        return tf.matmul(hidden, self.output_weights, transpose_b=True) + self.output_bias

    def token_losses(self, encoder_inputs, decoder_inputs, targets, sampled: bool) -> tf.Tensor:
        """Cross-entropy per target position [batch, steps]; sampled softmax if ``sampled``
        and the configuration asks for fewer samples than there are target words."""
        memory, mask, keys, states = self.encode(encoder_inputs)
        hidden, _ = self.decode(decoder_inputs, memory, mask, keys, states)
        num_classes = self.output_bias.shape[0]
        if sampled and 0 < self.config.num_samples < num_classes:
            flat = tf.reshape(hidden, [-1, self.config.size])
            losses = tf.nn.sampled_softmax_loss(
                self.output_weights,
                self.output_bias,
                tf.reshape(tf.cast(targets, tf.int64), [-1, 1]),
                flat,
                self.config.num_samples,
                num_classes,
            )
            return tf.reshape(losses, tf.shape(targets))
        return tf.nn.sparse_softmax_cross_entropy_with_logits(targets, self.logits(hidden))

    def translate_ids(self, source: tf.Tensor, max_length: tf.Tensor, beam_width: int):
        """Target ids [batch, steps] for encoder inputs [batch, steps]: EOS ends a sentence,
        PAD fills after it. ``beam_width`` 1 decodes greedily."""
        if beam_width == 1:
            return self._greedy(source, max_length)
        return self._beam_search(source, max_length, beam_width)

    def _greedy(self, source, max_length):
        memory, mask, keys, states = self.encode(source)
        batch = tf.shape(source)[0]
        token = tf.fill([batch, 1], GO)
        finished = tf.zeros([batch], tf.bool)
        outputs = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        for step in tf.range(max_length):
            hidden, states = self.decode(token, memory, mask, keys, states)
            best = tf.argmax(self.logits(hidden[:, 0]), -1, output_type=tf.int32)
            best = tf.where(finished, PAD, best)
            outputs = outputs.write(step, best)
            finished |= best == EOS
            token = best[:, None]
            if tf.reduce_all(finished):
                break
        return tf.transpose(outputs.stack())

    def _beam_search(self, source, max_length, width):
        """Keeps the ``width`` best partial translations by log-probability; a finished one
        keeps its score and can only be extended by PAD at no cost."""
        batch = tf.shape(source)[0]
        tile = lambda x: tf.repeat(x, width, axis=0)  # noqa: E731
        memory, mask, keys, states = self.encode(source)
        memory, mask, keys = tile(memory), tile(mask), tile(keys)
        states = tf.nest.map_structure(tile, states)
        scores = tf.tile([[0.0] + [-np.inf] * (width - 1)], [batch, 1])
        finished = tf.zeros([batch, width], tf.bool)
        sequences = tf.zeros([batch, width, 0], tf.int32)
        token = tf.fill([batch * width, 1], GO)
        vocabulary = self.output_bias.shape[0]
        pad_only = tf.one_hot(PAD, vocabulary, on_value=0.0, off_value=-np.inf)
        offsets = tf.range(batch)[:, None] * width
        for _ in tf.range(max_length):
            tf.autograph.experimental.set_loop_options(
                shape_invariants=[(sequences, tf.TensorShape([None, width, None]))]
            )
            hidden, states = self.decode(token, memory, mask, keys, states)
            log_probs = tf.reshape(
                tf.nn.log_softmax(self.logits(hidden[:, 0])), [batch, width, vocabulary]
            )
            log_probs = tf.where(finished[..., None], pad_only, log_probs)
            scores, best = tf.math.top_k(
                tf.reshape(scores[..., None] + log_probs, [batch, width * vocabulary]), width
            )
            parent, word = best // vocabulary, best % vocabulary
            rows = tf.reshape(parent + offsets, [-1])
            states = tf.nest.map_structure(lambda s, rows=rows: tf.gather(s, rows), states)
            finished = tf.gather(finished, parent, batch_dims=1) | (word == EOS)
            sequences = tf.concat(
                [tf.gather(sequences, parent, batch_dims=1), word[..., None]], axis=2
            )
            token = tf.reshape(word, [-1, 1])
            if tf.reduce_all(finished):
                break
        return sequences[:, 0]  # top_k sorts: beam 0 scores best


def _loss_sum(model: Seq2Seq, encoder_inputs, decoder_inputs, targets, sampled: bool):
    """Summed cross-entropy over the real (non-PAD) target positions, and their number."""
    losses = model.token_losses(encoder_inputs, decoder_inputs, targets, sampled)
    weights = tf.cast(targets != PAD, losses.dtype)
    return tf.reduce_sum(losses * weights), tf.reduce_sum(weights)


def _make_optimizer(config: TranslationConfig) -> keras.optimizers.Optimizer:
    kind = keras.optimizers.SGD if config.optimizer == "sgd" else keras.optimizers.Adam
    return kind(learning_rate=config.learning_rate, global_clipnorm=config.max_gradient_norm)


def _build(model: Seq2Seq) -> None:
    ids = tf.fill([1, 2], GO)
    model.token_losses(ids, ids, ids, sampled=False)


def _vocabulary_sizes(directory: str | Path) -> tuple[int, int]:
    return tuple(
        len(corpus_spec.read_vocabulary(directory, f)) + len(SPECIALS) for f in (SOURCE, TARGET)
    )


def _copy_corpus_assets(corpus_dir: Path, model_dir: Path) -> None:
    """The vocabularies and the transform, so that the model directory stands alone."""
    for feature in (SOURCE, TARGET):
        words = corpus_spec.read_vocabulary(corpus_dir, feature)
        corpus_spec.write_vocabulary(model_dir, words, feature)
    shutil.rmtree(model_dir / corpus_spec.TRANSFORM_DIR, ignore_errors=True)
    shutil.copytree(corpus_dir / corpus_spec.TRANSFORM_DIR, model_dir / corpus_spec.TRANSFORM_DIR)


def validation_loss(model: Seq2Seq, batches: tf.data.Dataset) -> float:
    """Mean full-softmax cross-entropy per target token of ``batches`` (``training_batches``)."""
    step = tf.function(lambda e, d, t: _loss_sum(model, e, d, t, False))
    total = count = 0.0
    for encoder_inputs, decoder_inputs, targets in batches:
        loss_sum, n = step(encoder_inputs, decoder_inputs, targets)
        total, count = total + float(loss_sum), count + float(n)
    return total / count


def train_translation_model(
    corpus_dir: str | Path,
    model_dir: str | Path,
    config_name: str = "small",
    *,
    strategy: tf.distribute.Strategy | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Trains on the train split epoch by epoch, resuming from the latest checkpoint in
    ``model_dir``; reports loss and perplexity (train, and valid if the corpus has it), and
    applies the tutorial's decay: the learning rate shrinks by ``learning_rate_decay_factor``
    when an epoch's loss is above all of the last three. Batches are split over the
    ``strategy``'s replicas (default: ``MirroredStrategy`` over several local GPUs, else one
    device).

    Returns:
      The record written to ``translation.json``.
    """
    config = get_config(config_name, **overrides)
    corpus_dir = Path(corpus_dir)
    descriptor = read_parallel_descriptor(corpus_dir)
    model_dir = claim_dir(
        model_dir, "translation_model", inputs={"--corpus_dir": corpus_dir}, what="--model_dir"
    )
    _copy_corpus_assets(corpus_dir, model_dir)
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or strategy_from_environment()
    with strategy.scope():
        model = Seq2Seq(*_vocabulary_sizes(model_dir), config)
        _build(model)
        optimizer = _make_optimizer(config)
        optimizer.build(model.trainable_variables)
    epoch_var = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch_var)
    manager = tf.train.CheckpointManager(
        checkpoint, str(model_dir), max_to_keep=3, checkpoint_name=CHECKPOINT_PREFIX
    )
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        log.info("resuming from %s (epoch %d)", manager.latest_checkpoint, int(epoch_var))
    batches, steps, sizes = training_batches(corpus_dir, config)
    log.info(
        "train pairs per bucket %s: %s; %d fit none and are left out; %d steps an epoch",
        list(config.buckets),
        sizes[:-1].tolist(),
        sizes[-1],
        steps,
    )
    # Built once: counting the pairs per bucket is a pass over the split.
    valid_batches = (
        training_batches(corpus_dir, config, "valid")[0]
        if "valid" in descriptor["splits"]
        else None
    )
    variables = model.trainable_variables

    def replica_step(encoder_inputs, decoder_inputs, targets):
        """Each replica's share of the batch; the loss is its part of the global mean."""
        with tf.GradientTape() as tape:
            loss_sum, local_count = _loss_sum(model, encoder_inputs, decoder_inputs, targets, True)
            count = tf.distribute.get_replica_context().all_reduce("SUM", local_count)
            loss = loss_sum / tf.maximum(count, 1.0)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss, count

    @tf.function
    def train_step(batch):
        loss, count = strategy.run(replica_step, args=batch)
        # count is already the global one on every replica
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("MEAN", count, axis=None)

    distributed = strategy.experimental_distribute_dataset(batches)
    log.info("training on %d replica(s)", strategy.num_replicas_in_sync)

    record = {
        "corpus_dir": str(corpus_dir),
        "corpus": descriptor["name"],
        "config_name": config_name,
        "config": asdict(config),
        "vocabulary_sizes": dict(zip((SOURCE, TARGET), _vocabulary_sizes(model_dir), strict=True)),
    }
    epoch_log = EpochLog(model_dir, RECORD_FILE, record, int(epoch_var))
    history = epoch_log.history
    for epoch in range(int(epoch_var), config.epochs):
        total = count = 0.0
        start = last_report = time.perf_counter()
        for step, batch in enumerate(distributed, 1):
            loss, n = train_step(batch)
            total, count = total + float(loss) * float(n), count + float(n)
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                log.info("epoch %d: step %d/%d, loss %.4f", epoch + 1, step, steps, total / count)
        train_loss = total / count
        if not math.isfinite(train_loss):
            raise KubeslimError(
                f"training loss became {train_loss} in epoch {epoch + 1}; the last good "
                f"checkpoint is kept: {manager.latest_checkpoint}"
            )
        entry = {
            "epoch": epoch + 1,
            "learning_rate": float(optimizer.learning_rate.numpy()),
            "train_loss": train_loss,
            "train_perplexity": math.exp(min(train_loss, 50.0)),
            "target_words_per_second": round(count / (time.perf_counter() - start), 1),
        }
        if valid_batches is not None:
            entry["valid_perplexity"] = math.exp(min(validation_loss(model, valid_batches), 50.0))
        previous = [h["train_loss"] for h in history[-3:]]
        if len(previous) == 3 and train_loss > max(previous):
            optimizer.learning_rate.assign(
                optimizer.learning_rate * config.learning_rate_decay_factor
            )
        epoch_log.end_epoch(entry, epoch_var, manager)
    return epoch_log.save()


def load_model(model_dir: str | Path) -> tuple[Seq2Seq, TranslationConfig]:
    """The trained model of ``model_dir`` and its configuration.

    Raises:
      KubeslimError: there is none.
    """
    record, checkpoint = trained_record(model_dir, RECORD_FILE, "translation model")
    saved = record["config"]
    config = TranslationConfig(**{**saved, "buckets": tuple(map(tuple, saved["buckets"]))})
    model = Seq2Seq(*_vocabulary_sizes(model_dir), config)
    _build(model)
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
    return model, config


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
        self.max_length = config.buckets[-1][1]
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
        lambda s, t: bucket_index(tf.size(s), tf.size(t), config.buckets) >= 0
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
    split: str = "test",
    beam_width: int | None = None,
) -> dict[str, Any]:
    """``evaluate_translation``, written to ``output_dir``: ``metrics.json`` and every
    translation, one a line, in ``translations.txt``."""
    output = OutputDir(
        output_dir,
        "translation_evaluation",
        inputs={"--model_dir": model_dir, "--corpus_dir": corpus_dir},
    )
    result = evaluate_translation(model_dir, corpus_dir, split, beam_width=beam_width)
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
    ``export_dir`` (see ``fileio.OutputDir``)."""
    output = OutputDir(
        export_dir,
        EXPORT_KIND,
        overwrite=overwrite,
        inputs={"--model_dir": model_dir},
        what="--export_dir",
    )
    translator = Translator(model_dir, beam_width)
    with output.staging() as tmp:
        tf.saved_model.save(
            translator, str(tmp), signatures={"serving_default": translator.translate}
        )
    return Path(export_dir)


def self_test(work_dir: str | Path) -> dict[str, Any]:
    """The tutorial's ``--self_test``: a tiny random parallel corpus (10 words a language,
    sentences of 1 to 5 words) is converted, trained on for 2 epochs with the ``self_test``
    configuration (two layers of 32 units, softmax sampled over 8 of the 13 target ids),
    decoded greedily and by beam search, exported and reloaded. It checks that every stage
    runs and that the SavedModel translates as the trainer does; it says nothing of quality.

    Raises:
      KubeslimError: a stage disagrees with another.
    """
    import random

    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.text.parallel import ParallelCorpus

    class RandomPairs(ParallelCorpus):
        name = "self_test"
        max_tokens = (5, 5)

        def pairs(self, split: str):
            rng = random.Random(split)
            for _ in range(200 if split == "train" else 20):
                source = [f"s{rng.randrange(10)}" for _ in range(rng.randint(1, 5))]
                yield " ".join(source), " ".join(w.replace("s", "t") for w in reversed(source))

    work_dir = Path(work_dir)
    corpus_dir, model_dir = work_dir / "corpus", work_dir / "model"
    convert_corpus(RandomPairs(), corpus_dir)
    record = train_translation_model(corpus_dir, model_dir, "self_test")
    sentences = [en for en, _ in RandomPairs().pairs("test")]
    results = {"history": record["history"]}
    for beam_width in (1, 3):
        results[f"beam_width_{beam_width}"] = evaluate_translation(
            model_dir, corpus_dir, beam_width=beam_width
        )
        translator = Translator(model_dir, beam_width)
        export_dir = work_dir / f"export_{beam_width}"
        export_translator(model_dir, export_dir, beam_width)
        served = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
        exported = served(sentences=tf.constant(sentences))["translations"].numpy()
        if [t.decode("utf-8") for t in exported] != translator(sentences):
            raise KubeslimError(f"beam width {beam_width}: the SavedModel translates differently")
    return results
