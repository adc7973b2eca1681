"""TFLite float32, float16 and int8 files against the SavedModel on the held-out digits."""

import json

import pytest

from kubeslim.components import tflite


@pytest.fixture(scope="module")
def tflite_dir(tmp_path_factory, export_dir, digits_dir):
    out = tmp_path_factory.mktemp("tflite") / "tflite"
    tflite.convert(export_dir, out, dataset_dir=digits_dir)
    return out


def test_all_three_files_are_written_and_quantization_shrinks_them(tflite_dir):
    record = json.loads((tflite_dir / "tflite.json").read_text())
    sizes = record["bytes"]
    assert set(sizes) == {"float32", "float16", "int8"}
    assert sizes["int8"] < sizes["float16"] < sizes["float32"]
    assert record["outputs"].keys() == {"probabilities", "logits"}


def test_float32_matches_the_saved_model(tflite_dir, export_dir, digits_dir):
    c = tflite.compare_with_saved_model(tflite_dir / "model_float32.tflite", export_dir, digits_dir)
    assert c["num_examples"] == 359
    assert c["max_abs_difference"] <= 1e-5
    assert c["top1_agreement"] == 1.0


def test_float16_and_int8_keep_the_float_models_answers(tflite_dir, export_dir, digits_dir):
    f16 = tflite.compare_with_saved_model(
        tflite_dir / "model_float16.tflite", export_dir, digits_dir
    )
    int8 = tflite.compare_with_saved_model(tflite_dir / "model_int8.tflite", export_dir, digits_dir)
    assert f16["top1_agreement"] >= 0.99
    assert int8["top1_agreement"] >= 0.97


def test_without_data_there_is_no_int8(tmp_path, export_dir):
    record = tflite.convert(export_dir, tmp_path / "out")
    assert set(record["files"]) == {"float32", "float16"}
