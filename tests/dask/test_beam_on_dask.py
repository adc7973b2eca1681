"""kubeslim's Beam jobs on a real Dask cluster, compared with the local runner byte for byte,
and the Dask runner's Beam semantics compared with Beam's own FnApiRunner."""

import filecmp
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.internal.cloudpickle import cloudpickle

# The workers cannot import this test module: its DoFns travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# The SavedModel protobufs of a tensorflow-transform output embed fresh ids: two local runs
# differ there too. Their behaviour is compared instead (``_same_transform``).
_SAVED_MODEL_FILES = {"saved_model.pb", "fingerprint.pb"}


def _dask_args(address: str) -> list[str]:
    return ["--runner", "DaskRunner", "--dask_client_address", address]


def _differing_files(a: Path, b: Path) -> list[str]:
    """Relative paths whose presence or bytes differ between two trees, SavedModel protobufs
    aside."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    differing = sorted(str(p) for p in files_a ^ files_b)
    for path in sorted(files_a & files_b):
        if path.name not in _SAVED_MODEL_FILES and not filecmp.cmp(a / path, b / path, False):
            differing.append(str(path))
    return differing


def _same_transform(a: Path, b: Path, inputs: dict[str, np.ndarray]) -> None:
    """Both transform graphs give the same outputs on the same inputs."""
    import tensorflow as tf
    import tensorflow_transform as tft

    outputs = []
    for directory in (a, b):
        layer = tft.TFTransformOutput(str(directory)).transform_features_layer()
        outputs.append(layer({k: tf.constant(v) for k, v in inputs.items()}))
    assert outputs[0].keys() == outputs[1].keys()
    for key in outputs[0]:
        np.testing.assert_array_equal(outputs[0][key].numpy(), outputs[1][key].numpy())


class _EvensAndOdds(beam.DoFn):
    def process(self, n: int):
        yield beam.pvalue.TaggedOutput("odd", n) if n % 2 else n


class _SumPerBundle(beam.DoFn):
    """Emits only in finish_bundle."""

    def start_bundle(self):
        self._total = 0

    def process(self, n: int):
        self._total += n

    def finish_bundle(self):
        yield beam.transforms.window.GlobalWindows.windowed_value(("bundle_total", self._total))


def _semantics_pipeline(pipeline: beam.Pipeline, text_file: Path, out: Path) -> None:
    numbers = pipeline | "Numbers" >> beam.Create(range(200))
    split = numbers | "Split" >> beam.ParDo(_EvensAndOdds()).with_outputs("odd", main="even")
    total = numbers | "Total" >> beam.CombineGlobally(sum)
    words = pipeline | "ReadWords" >> beam.io.ReadFromText(str(text_file))
    lines = {
        "even_share": split.even
        | "Share" >> beam.Map(lambda n, t: f"{n}/{t}", beam.pvalue.AsSingleton(total)),
        "odd_count": split.odd | "CountOdd" >> beam.combiners.Count.Globally(),
        "grouped": numbers
        | "Key" >> beam.Map(lambda n: (n % 7, n))
        | "Group" >> beam.GroupByKey()
        | "Sorted" >> beam.MapTuple(lambda k, ns: f"{k}:{sorted(ns)}"),
        "bundle_sum": numbers
        | "Bundles" >> beam.ParDo(_SumPerBundle())
        | "SumBundles" >> beam.CombinePerKey(sum),
        "word_counts": (words, words | "Upper" >> beam.Map(str.upper))
        | "Both" >> beam.Flatten()
        | "CountWords" >> beam.combiners.Count.PerElement(),
        "in_list": numbers
        | "Pick" >> beam.Filter(lambda n, odds: n in odds[:5], beam.pvalue.AsList(split.odd)),
    }
    for name, pcollection in lines.items():
        _ = (
            pcollection
            | f"Format{name}" >> beam.Map(str)
            | f"Write{name}" >> beam.io.WriteToText(str(out / name), shard_name_template="")
        )


def test_the_dask_runner_computes_what_beams_own_runner_computes(
    dask_cluster: str, tmp_path: Path
) -> None:
    """Every sink, both outputs of a multi-output ParDo, finish_bundle's output, side inputs,
    GroupByKey, Flatten and a file read, as Beam's FnApiRunner computes them."""
    from kubeslim.beam.runner import check_beam_args, make_pipeline_options

    text_file = tmp_path / "words.txt"
    text_file.write_text("".join(f"w{i % 13}\n" for i in range(300)))
    results = {}
    for runner, args in (("local", []), ("dask", _dask_args(dask_cluster))):
        out = tmp_path / runner
        options = make_pipeline_options(check_beam_args(args))
        with beam.Pipeline(options=options) as pipeline:
            _semantics_pipeline(pipeline, text_file, out)
        results[runner] = {p.name: sorted(p.read_text().splitlines()) for p in out.iterdir()}
    assert len(results["local"]) == 6
    assert results["dask"] == results["local"]
    assert results["dask"]["odd_count"] == ["100"]
    assert results["dask"]["bundle_sum"] == [str(("bundle_total", sum(range(200))))]


def test_convert_and_analyze_on_dask_match_the_local_runner(
    dask_cluster: str, tmp_path: Path
) -> None:
    """The digits' shards, dataset.json and labels.txt byte-identical, written by both
    workers; the analysis's statistics and vocabulary byte-identical, its transform
    equivalent."""
    from distributed import Client, get_task_stream

    from kubeslim.beam.analyze import analyze_dataset
    from kubeslim.beam.convert import convert_dataset
    from kubeslim.beam.options import AnalyzeOptions, ConvertOptions
    from kubeslim.beam.records import encode_png
    from kubeslim.dataset_spec import FEATURE_KEYS

    convert_options = ConvertOptions(num_shards="train=4,test=2")
    convert_dataset(tmp_path / "local", convert_options)
    with Client(dask_cluster) as client, get_task_stream(client) as stream:
        convert_dataset(tmp_path / "dask", convert_options, beam_args=_dask_args(dask_cluster))
    assert len(list((tmp_path / "dask").glob("*.tfrecord"))) == 6
    assert _differing_files(tmp_path / "local", tmp_path / "dask") == []
    assert len({task["worker"] for task in stream.data}) == 2

    for runner, args in (("local", []), ("dask", _dask_args(dask_cluster))):
        analyze_dataset(
            tmp_path / runner, tmp_path / f"tf_{runner}", AnalyzeOptions(), beam_args=args
        )
    assert _differing_files(tmp_path / "tf_local", tmp_path / "tf_dask") == []
    pixels = np.random.default_rng(0).integers(0, 17, (3, 8, 8, 1), dtype=np.uint8)
    _same_transform(
        tmp_path / "tf_local",
        tmp_path / "tf_dask",
        {
            FEATURE_KEYS["image"]: np.array([encode_png(p) for p in pixels]),
            FEATURE_KEYS["label"]: np.array([0, 3, 9], np.int64),
        },
    )


def test_convert_text_on_dask_matches_the_local_runner(dask_cluster: str, tmp_path: Path) -> None:
    """The translator's corpus: shards, vocabularies and descriptor byte-identical."""
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    options = ConvertTextOptions(corpus_name="numbers_enfr")
    for runner, args in (("local", []), ("dask", _dask_args(dask_cluster))):
        convert_corpus(tmp_path / runner, options, beam_args=args)
    assert len(list((tmp_path / "dask").glob("*.tfrecord"))) >= 3
    assert _differing_files(tmp_path / "local", tmp_path / "dask") == []


def test_a_bad_image_on_a_dask_worker_is_one_line_and_writes_nothing(
    dask_cluster: str, tmp_path: Path
) -> None:
    from PIL import Image

    for c in ("cats", "dogs"):
        (tmp_path / "photos" / c).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (20, 20), (i * 40, 0, 0)).save(tmp_path / "photos" / c / f"{i}.png")
    (tmp_path / "photos" / "dogs" / "broken.jpg").write_bytes(b"not a jpeg")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubeslim",
            "convert",
            "--dataset",
            "image_folder",
            "--source",
            str(tmp_path / "photos"),
            "--output_dir",
            str(tmp_path / "out"),
            "--strict",
            *_dask_args(dask_cluster),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "broken.jpg" in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["photos"]


def test_an_image_folder_on_s3_converts_into_s3_on_dask_as_locally(
    dask_cluster: str, tmp_path: Path
) -> None:
    """The workers read the photos from an S3-compatible server and write their shards back
    to it, with the job's own S3 options; the output equals the local runner's on disk."""
    from PIL import Image

    from kubeslim.beam.convert import convert_dataset
    from kubeslim.beam.options import ConvertOptions

    from ..s3 import BUCKET, download, keys, s3_args, s3_server, upload

    rng = np.random.default_rng(5)
    for name in ("daisy", "tulips", "roses"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(4):
            pixels = rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / name / f"{i}.png")
    options = dict(dataset_name="image_folder", validation_size=0.25, num_shards="train=3")
    with s3_server(tmp_path / "s3.log") as endpoint:
        source = upload(endpoint, tmp_path / "photos", "photos")
        outputs = ((tmp_path / "local", []), (f"s3://{BUCKET}/dask", _dask_args(dask_cluster)))
        for output, args in outputs:
            convert_dataset(
                output,
                ConvertOptions(source=source, **options),
                beam_args=[*s3_args(endpoint), *args],
            )
        download(endpoint, "dask", tmp_path / "dask")
        assert not [key for key in keys(endpoint) if ".tmp-" in key]
    assert len(list((tmp_path / "dask").glob("*.tfrecord"))) == 4
    assert _differing_files(tmp_path / "local", tmp_path / "dask") == []
