"""Layers the text models share."""

import keras
import tensorflow as tf


class LstmStack(keras.layers.Layer):
    """LSTM layers one over another, each started from its own ``[h, c]``, with dropout after
    each. The layers are named attributes, not a list: Keras 3 leaves layers held in lists out
    of ``tf.train.Checkpoint``."""

    def __init__(
        self,
        units: int,
        num_layers: int,
        *,
        dropout: float = 0.0,
        seed: int | None = None,
        name: str | None = None,
        **lstm_options,
    ):
        super().__init__(name=name)
        self.supports_masking = True
        self.units, self.num_layers = units, num_layers
        for i in range(num_layers):
            layer = keras.layers.LSTM(
                units, return_sequences=True, return_state=True, name=f"lstm_{i}", **lstm_options
            )
            setattr(self, f"lstm_{i}", layer)
        self.dropout = keras.layers.Dropout(dropout, seed=seed)

    def zero_states(self, batch_size: int) -> list[list[tf.Tensor]]:
        return [[tf.zeros([batch_size, self.units])] * 2 for _ in range(self.num_layers)]

    def call(self, x, initial_states=None, mask=None, training=False):
        """Outputs [batch, steps, units] and each layer's final ``[h, c]``."""
        states = []
        for i in range(self.num_layers):
            lstm = getattr(self, f"lstm_{i}")
            start = None if initial_states is None else initial_states[i]
            x, h, c = lstm(x, initial_state=start, mask=mask, training=training)
            x = self.dropout(x, training=training)
            states.append([h, c])
        return x, states
