"""Converts an exported SavedModel to TensorFlow Lite in float32, float16 and int8, and runs
the result, so it can be checked against the SavedModel.

The frozen ``classify_images`` signature is converted, the same graph ``freeze`` writes
(preprocessed float images in, probabilities and logits out). int8 is full-integer
quantization calibrated on a sample of the training TFRecords, preprocessed as in
evaluation; its inputs and outputs stay float32.
"""

import json
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.components.export import SERVING_SIGNATURE
from kubeslim.components.freeze import (
    frozen_signature,
    output_tensor_names,
    preprocessed_images,
)
from kubeslim.components.options import TfliteOptions
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir
from kubeslim.model_spec import servable_dir

QUANTIZATIONS = ("float32", "float16", "int8")
TFLITE_FILE = "model_{}.tflite"
TFLITE_RECORD = "tflite.json"

log = logging.getLogger(__name__)


def convert(
    export_dir: str | Path,
    output_dir: str | Path,
    options: TfliteOptions | None = None,
    *,
    dataset_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Writes ``model_float32.tflite`` and ``model_float16.tflite`` and, given
    ``dataset_dir``, ``model_int8.tflite`` calibrated on its train split, to ``output_dir``
    (see ``fileio.OutputDir``). Given ``dataset_dir``, every file is also compared with the
    SavedModel on its held-out split, and nothing is written unless float32 agrees within
    ``options.max_difference`` and int8 agrees on top-1 for ``options.min_int8_agreement``.

    Returns:
      The record written to ``tflite.json``: files, sizes in bytes and the checks.

    Raises:
      KubeslimError: an input is not what it should be, or a check fails.
    """
    options = options or TfliteOptions()
    output = OutputDir(
        output_dir,
        "tflite",
        overwrite=options.overwrite,
        inputs={"--export_dir": export_dir, "--dataset_dir": dataset_dir},
    )
    if dataset_dir is not None:  # before any work
        descriptor = dataset_spec.read_descriptor(dataset_dir)
        dataset_spec.split_files(dataset_dir, descriptor, "train")
        dataset_spec.held_out_split(descriptor)
    signature, frozen = frozen_signature(export_dir)
    sizes = {}
    with output.staging() as tmp:
        for quantization in QUANTIZATIONS:
            if quantization == "int8" and dataset_dir is None:
                continue
            converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
            if quantization == "float16":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.target_spec.supported_types = [tf.float16]
            elif quantization == "int8":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.representative_dataset = _representative_data(
                    export_dir, dataset_dir, options.num_calibration_images
                )
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            path = tmp / TFLITE_FILE.format(quantization)
            path.write_bytes(converter.convert())
            sizes[quantization] = path.stat().st_size
        record = {
            "files": {q: TFLITE_FILE.format(q) for q in sizes},
            "outputs": {
                name: tensor.split(":")[0]
                for name, tensor in output_tensor_names(signature, frozen).items()
            },
            "bytes": sizes,
            "source": str(export_dir),
            "calibration_images": options.num_calibration_images if "int8" in sizes else 0,
        }
        (tmp / TFLITE_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        if dataset_dir is not None:
            record["checks"] = {
                q: compare_with_saved_model(tmp / name, export_dir, dataset_dir)
                for q, name in record["files"].items()
            }
            _check(record["checks"], options, dataset_dir)
            (tmp / TFLITE_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    log.info(
        "TFLite written to %s: %s",
        output_dir,
        ", ".join(f"{q} {n / 1e6:.2f} MB" for q, n in sizes.items()),
    )
    return record


def _check(checks: dict[str, dict[str, float]], options: TfliteOptions, dataset_dir) -> None:
    """Raises ``KubeslimError`` when float32 or int8 falls short of ``options``."""
    difference = checks["float32"]["max_abs_difference"]
    if difference > options.max_difference:
        raise KubeslimError(
            f"TFLite float32 differs from the SavedModel by {difference:.3g} > --max_difference "
            f"{options.max_difference} on the held-out split of {dataset_dir}; nothing was "
            "written"
        )
    agreement = checks["int8"]["top1_agreement"]
    if agreement < options.min_int8_agreement:
        raise KubeslimError(
            f"TFLite int8 agrees with the SavedModel's top-1 on {agreement:.4f} of the "
            f"held-out images of {dataset_dir} < --min_int8_agreement "
            f"{options.min_int8_agreement}; nothing was written"
        )


def _representative_data(
    export_dir: str | Path, dataset_dir: str | Path, limit: int
) -> Callable[[], Iterator[list[np.ndarray]]]:
    def samples() -> Iterator[list[np.ndarray]]:
        for _, images in preprocessed_images(export_dir, dataset_dir, "train", limit):
            for image in images:
                yield [image[None]]

    return samples


def load_tflite(path: str | Path) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """A TFLite model written by ``convert`` as a function from preprocessed images to its
    named outputs (``probabilities``, ``logits``)."""
    path = Path(path)
    names = json.loads((path.parent / TFLITE_RECORD).read_text())["outputs"]
    with warnings.catch_warnings():
        # TF 2.21 still ships tf.lite.Interpreter; it warns of a move to ai_edge_litert.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    (image_input,) = interpreter.get_input_details()
    output_index = {d["name"]: d["index"] for d in interpreter.get_output_details()}

    def run(images: np.ndarray) -> dict[str, np.ndarray]:
        interpreter.resize_tensor_input(image_input["index"], images.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(image_input["index"], images.astype(np.float32))
        interpreter.invoke()
        return {name: interpreter.get_tensor(output_index[t]).copy() for name, t in names.items()}

    return run


def compare_with_saved_model(
    tflite_path: str | Path,
    export_dir: str | Path,
    dataset_dir: str | Path,
    split: str | None = None,
) -> dict[str, float]:
    """The TFLite model against the SavedModel's ``serving_default`` on ``split`` (by default
    the held-out one): the largest probability difference and the share of images whose
    top-1 class agrees."""
    serving = tf.saved_model.load(str(servable_dir(export_dir))).signatures[SERVING_SIGNATURE]
    run = load_tflite(tflite_path)
    split = split or dataset_spec.held_out_split(dataset_spec.read_descriptor(dataset_dir))
    worst, agree, total = 0.0, 0, 0
    for encoded, images in preprocessed_images(export_dir, dataset_dir, split):
        expected = serving(image_bytes=tf.constant(encoded))["probabilities"].numpy()
        got = run(images)["probabilities"]
        worst = max(worst, float(np.abs(got - expected).max()))
        agree += int((got.argmax(1) == expected.argmax(1)).sum())
        total += len(images)
    return {"max_abs_difference": worst, "top1_agreement": agree / total, "num_examples": total}
