"""TF Serving's side of an export: the session-based loader that TF Serving, KServe's
TensorFlow runtime and ``saved_model_cli`` run a SavedModel with."""

import numpy as np
import tensorflow as tf

from kubeslim.model_spec import servable_dir


def session_outputs(export_dir, signature: str, inputs: dict) -> dict[str, np.ndarray]:
    """Runs ``signature`` of the export through ``tf.compat.v1.saved_model.loader`` and
    ``Session.run``, as TF Serving does."""
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(
            session, ["serve"], str(servable_dir(export_dir))
        )
        definition = meta_graph.signature_def[signature]
        feeds = {definition.inputs[name].name: value for name, value in inputs.items()}
        fetches = {name: tensor.name for name, tensor in definition.outputs.items()}
        return session.run(fetches, feeds)


def assert_served_as_loaded(export_dir, signature: str, inputs: dict) -> dict[str, np.ndarray]:
    """The session loader's outputs equal ``tf.saved_model.load``'s within 1e-5 (strings
    exactly); returns them."""
    served = session_outputs(export_dir, signature, inputs)
    loaded = tf.saved_model.load(str(servable_dir(export_dir))).signatures[signature]
    expected = loaded(**{name: tf.constant(value) for name, value in inputs.items()})
    assert set(served) == set(expected)
    for name, value in served.items():
        reference = expected[name].numpy()
        if np.asarray(value).dtype.kind in "fc":
            np.testing.assert_allclose(value, reference, atol=1e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(value, reference, err_msg=name)
    return served
