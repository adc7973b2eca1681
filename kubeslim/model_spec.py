"""The on-disk contract of trained models, beside ``dataset_spec`` and ``corpus_spec``: the
file names that training, evaluation, export, the quality gate, the report and the runners
share, for the image classifiers and the text models alike.

A model directory holds ``model_config.json`` (what rebuilds the network), ``training.json``
(hyper-parameters and per-epoch history), TF checkpoints, ``logs/`` for TensorBoard and, when
trained with one, a copy of the tensorflow-transform output in ``transform/``. An evaluation
directory holds ``metrics.json``.
"""

CONFIG_FILE = "model_config.json"
TRAINING_FILE = "training.json"
LOGS_DIR = "logs"
TRANSFORM_DIR = "transform"
METRICS_FILE = "metrics.json"
