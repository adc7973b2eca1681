"""The KFP components' own functions, called as the executor calls them, for what the local
DAG tests do not run."""

import json

from kfp.dsl import Dataset

from kubeslim.pipelines.components import convert_dataset


def test_the_convert_step_starts_from_a_converted_dataset_and_records_the_fingerprint(
    tmp_path, digits_dir
):
    dataset = Dataset(uri=str(tmp_path / "dataset"))
    convert_dataset.python_func(
        dataset_name="digits",
        source="",
        validation_size=0.2,
        num_shards="",
        seed=0,
        strict=False,
        beam_options="",
        converted_dataset=str(digits_dir),
        source_fingerprint="converted sha256:abc 5 files",
        dataset=dataset,
    )
    copied = tmp_path / "dataset"
    assert (copied / "dataset.json").read_text() == (digits_dir / "dataset.json").read_text()
    shards = sorted(p.name for p in digits_dir.glob("*.tfrecord"))
    assert sorted(p.name for p in copied.glob("*.tfrecord")) == shards
    for name in shards:
        assert (copied / name).read_bytes() == (digits_dir / name).read_bytes()
    descriptor = json.loads((digits_dir / "dataset.json").read_text())
    assert dataset.metadata["source_fingerprint"] == "converted sha256:abc 5 files"
    assert dataset.metadata["num_classes"] == descriptor["num_classes"] == 10
    for split, entry in descriptor["splits"].items():
        assert dataset.metadata[f"{split}_examples"] == entry["num_examples"]
