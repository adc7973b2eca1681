"""The seq2seq tutorial's model (its ``seq2seq_model.py``, after Cho et al. 2014 and Bahdanau
et al. 2015) in TF2: an LSTM encoder over the (reversed) source, an LSTM decoder started from
the encoder's final states, attention over the encoder's outputs (Luong et al.'s "general"
score, attentional hidden state ``tanh(W [context; h])``), and a softmax over the target
vocabulary, sampled during training when the vocabulary is large (Jean et al. 2015). Decoding
is greedy or a beam search, in one TensorFlow graph that the trainer, ``kubeslim translate``
and the exported SavedModel share."""

import keras
import numpy as np
import tensorflow as tf

from kubeslim.components.text.layers import LstmStack
from kubeslim.components.text.translation_data import EOS, GO, PAD
from kubeslim.components.text.translation_options import TranslationConfig


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


def loss_sum(model: Seq2Seq, encoder_inputs, decoder_inputs, targets, sampled: bool):
    """Summed cross-entropy over the real (non-PAD) target positions, and their number."""
    losses = model.token_losses(encoder_inputs, decoder_inputs, targets, sampled)
    weights = tf.cast(targets != PAD, losses.dtype)
    return tf.reduce_sum(losses * weights), tf.reduce_sum(weights)


def make_optimizer(config: TranslationConfig) -> keras.optimizers.Optimizer:
    kind = keras.optimizers.SGD if config.optimizer == "sgd" else keras.optimizers.Adam
    return kind(learning_rate=config.learning_rate, global_clipnorm=config.max_gradient_norm)


def build(model: Seq2Seq) -> None:
    ids = tf.fill([1, 2], GO)
    model.token_losses(ids, ids, ids, sampled=False)
