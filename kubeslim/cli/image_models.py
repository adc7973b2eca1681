"""The image-model commands: ``train``, ``eval``, ``export``, ``freeze``, ``tflite``,
``predict`` and ``benchmark``. TF-Slim's own flag names work too (``--train_dir``,
``--eval_dir``, ``--dataset_name``, ``--dataset_split_name``, ``--max_number_of_steps``,
``--train_image_size``, ``--eval_image_size``), so a TF-Slim command line runs."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from kubeslim.cli.framework import Command, Invocation, PathFlag
from kubeslim.components.options import (
    BenchmarkOptions,
    EvalOptions,
    ExportOptions,
    FreezeOptions,
    TfliteOptions,
    TrainOptions,
)
from kubeslim.errors import KubeslimError


def _tf_slim_data_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    group = parser.add_argument_group("TF-Slim's flags, checked against the data set")
    group.add_argument("--dataset_name", help="must be the name of the data set at --dataset_dir")
    group.add_argument(
        "--dataset_split_name", help="train (the split kubeslim trains on)", metavar="SPLIT"
    )


def _check_dataset_name(run: Invocation) -> None:
    from kubeslim import dataset_spec

    if run.dataset_name is None:
        return
    name = dataset_spec.read_descriptor(run.path("dataset_dir"))["name"]
    if run.dataset_name != name:
        raise KubeslimError(
            f"--dataset_name {run.dataset_name}, but --dataset_dir {run.path('dataset_dir')} "
            f"holds the {name} data set"
        )


def _train(run: Invocation) -> None:
    from kubeslim.components.train import train

    options = run.options(TrainOptions)
    _check_dataset_name(run)
    if run.dataset_split_name not in (None, "train"):
        raise KubeslimError(
            f"--dataset_split_name {run.dataset_split_name}: kubeslim trains on the train split"
        )
    record = train(
        run.path("dataset_dir"),
        run.path("model_dir"),
        options,
        transform_dir=run.path("transform_dir"),
    )
    print(
        f"trained {record['steps']} steps, final train accuracy "
        f"{record['history']['accuracy'][-1]:.4f}; checkpoint {record['checkpoint']}"
    )


def _eval_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    group = parser.add_argument_group("TF-Slim's flags, checked against the model")
    group.add_argument("--dataset_name", help="must be the data set the model was trained on")


def _model_dir_of(run: Invocation, options: EvalOptions) -> tuple[str | None, EvalOptions]:
    """TF-Slim's ``--checkpoint_path`` may be the training directory itself; without a model
    directory, it is any checkpoint of ``--model_name``."""
    import dataclasses

    model_dir = run.path("model_dir")
    if model_dir is not None:
        return model_dir, options
    if options.checkpoint_path and Path(options.checkpoint_path, "model_config.json").is_file():
        return options.checkpoint_path, dataclasses.replace(options, checkpoint_path="")
    if not (options.checkpoint_path and options.model_name):
        raise KubeslimError(
            "--model_dir is needed, or --checkpoint_path TRAIN_DIR, or --checkpoint_path CKPT "
            "with --model_name NAME (a checkpoint without a model directory, TF-Slim's say)"
        )
    return None, options


def _check_dataset(run: Invocation, model_dir: str | None) -> None:
    from kubeslim.components.model_dir import ModelConfig

    if model_dir is None or run.dataset_name is None:
        return
    trained_on = ModelConfig.load(model_dir).dataset_name
    if run.dataset_name != trained_on:
        raise KubeslimError(
            f"--dataset_name {run.dataset_name}, but the model in {model_dir} has {trained_on}"
        )


def _eval(run: Invocation) -> None:
    from kubeslim.components.evaluate import evaluate, evaluate_checkpoints

    model_dir, options = _model_dir_of(run, run.options(EvalOptions))
    dataset_dir, out = run.path("dataset_dir"), run.path("output_dir")
    _check_dataset(run, model_dir)
    if options.watch:
        if model_dir is None:
            raise KubeslimError("--watch needs a model directory to watch (--model_dir)")
        history = evaluate_checkpoints(dataset_dir, model_dir, out, options)
        for h in history:
            print(f"step {h['step']}: top-1 {h['top1_accuracy']:.4f}, loss {h['loss']:.4f}")
        print(f"{len(history)} checkpoints evaluated; written to {out}")
        return
    m = evaluate(dataset_dir, model_dir, out, options)
    print(
        f"top-1 accuracy {m['top1_accuracy']:.4f}, top-5 accuracy {m['top5_accuracy']:.4f}, "
        f"loss {m['loss']:.4f} on {m['num_examples']} {m['split']} examples; written to {out}"
    )


def _export(run: Invocation) -> None:
    from kubeslim.components.export import export_saved_model

    export_saved_model(
        run.path("model_dir"),
        run.path("export_dir"),
        run.options(ExportOptions),
        dataset_dir=run.path("dataset_dir"),
    )
    print(f"SavedModel written to {run.path('export_dir')}")


def _freeze(run: Invocation) -> None:
    from kubeslim.components.freeze import freeze_saved_model

    out = run.path("output_dir")
    record = freeze_saved_model(
        run.path("export_dir"),
        out,
        run.options(FreezeOptions),
        check_dataset_dir=run.path("check_dataset_dir"),
    )
    print(f"frozen graph written to {out} ({record['num_nodes']} nodes)")
    for name, tensor in record["inputs"].items():
        print(f"input  {name}: {tensor} shape {record['input_shape']}")
    for name, tensor in record["outputs"].items():
        print(f"output {name}: {tensor}")
    if "max_abs_difference" in record:
        print(
            f"max |frozen - SavedModel| on the held-out split: {record['max_abs_difference']:.3g}"
        )


def _tflite(run: Invocation) -> None:
    from kubeslim.components.tflite import convert

    out = run.path("output_dir")
    record = convert(
        run.path("export_dir"),
        out,
        run.options(TfliteOptions),
        dataset_dir=run.path("dataset_dir"),
    )
    for quantization, name in record["files"].items():
        line = f"{quantization:8s} {out}/{name} ({record['bytes'][quantization] / 1e6:.2f} MB)"
        if "checks" in record:
            c = record["checks"][quantization]
            line += (
                f": max |TFLite - SavedModel| {c['max_abs_difference']:.3g}, top-1 agreement "
                f"{c['top1_agreement']:.4f} on {c['num_examples']} held-out images"
            )
        print(line)


def _predict_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    parser.add_argument("images", nargs="+", help="image files (PNG or JPEG)")


def _predict(run: Invocation) -> None:
    from kubeslim.components.predict import predict

    for result in predict(run.path("model"), run.images):
        print(result["image"])
        for name, score in result["top"]:
            print(f"  {score:.5f}  {name}")


def _benchmark(run: Invocation) -> None:
    from kubeslim.components.benchmark import benchmark_network

    r = benchmark_network(run.options(BenchmarkOptions))
    print(
        f"{r['model_name']}: {r['parameters']:,} parameters, batches of {r['batch_size']} "
        f"{r['image_size']}x{r['image_size']} images on {r['device']}"
    )
    for name in ("forward", "forward_backward"):
        t = r[name]
        print(
            f"{name:17s} {t['seconds_per_batch']:.4f} +/- {t['stdev']:.4f} s/batch, "
            f"{t['images_per_second']:.1f} images/s"
        )


DATASET = PathFlag("dataset_dir", "output of `kubeslim convert`")
MODEL = PathFlag("model_dir", "output of `kubeslim train`")
EXPORT = PathFlag("export_dir", "output of `kubeslim export`")

COMMANDS = [
    Command(
        "train",
        "Train a network on a converted data set's train split (TF-Slim's "
        "train_image_classifier.py), resuming from --model_dir.",
        _train,
        options=(TrainOptions,),
        paths=(
            DATASET,
            PathFlag("model_dir", "checkpoints, logs and config go here", aliases=("train_dir",)),
            PathFlag(
                "transform_dir",
                "output of `kubeslim analyze`: its statistics feed the preprocessing, and the "
                "exported model embeds it",
                required=False,
            ),
        ),
        flags=_tf_slim_data_flags,
    ),
    Command(
        "eval",
        "Evaluate a checkpoint (TF-Slim's eval_image_classifier.py): accuracy, loss, "
        "confusion matrix; --watch evaluates each new one.",
        _eval,
        options=(EvalOptions,),
        paths=(
            DATASET,
            PathFlag(
                "model_dir",
                "output of `kubeslim train` (or give it as --checkpoint_path, as TF-Slim did)",
                required=False,
            ),
            PathFlag("output_dir", "metrics.json and plots go here", aliases=("eval_dir",)),
        ),
        flags=_eval_flags,
    ),
    Command(
        "export",
        "Export a SavedModel taking encoded image bytes (TF-Slim's export_inference_graph.py): "
        "of --model_dir, or of any --checkpoint_path of --model_name.",
        _export,
        options=(ExportOptions,),
        paths=(
            PathFlag(
                "model_dir",
                "output of `kubeslim train` (or give --checkpoint_path and --model_name)",
                required=False,
            ),
            PathFlag("export_dir", "SavedModel directory to write"),
            PathFlag(
                "dataset_dir",
                "without --model_dir: the converted data set whose classes label the export "
                "(ImageNet's 1,001 without one)",
                required=False,
            ),
        ),
    ),
    Command(
        "freeze",
        "Freeze a SavedModel into a GraphDef of constants, checked against the SavedModel on a "
        "data set's held-out split when one is given.",
        _freeze,
        options=(FreezeOptions,),
        paths=(
            EXPORT,
            PathFlag("output_dir", "directory to write frozen_graph.pb to"),
            PathFlag(
                "check_dataset_dir",
                "a converted data set: compare the frozen graph with the SavedModel on its "
                "held-out split, and write nothing unless they agree",
                required=False,
            ),
        ),
    ),
    Command(
        "tflite",
        "Convert an exported model to TFLite in float32, float16 and (with --dataset_dir) "
        "int8, checked against the SavedModel.",
        _tflite,
        options=(TfliteOptions,),
        paths=(
            EXPORT,
            PathFlag("output_dir", "directory for the .tflite files"),
            PathFlag(
                "dataset_dir",
                "a converted data set: its train split calibrates int8, its held-out split "
                "checks every file against the SavedModel (nothing is written if one fails)",
                required=False,
            ),
        ),
    ),
    Command(
        "predict",
        "Top-5 classes of image files (PNG or JPEG) with an exported model.",
        _predict,
        paths=(PathFlag("model", "output of `kubeslim export`"),),
        flags=_predict_flags,
    ),
    Command(
        "benchmark",
        "Time a net's forward and forward-backward pass on random data.",
        _benchmark,
        options=(BenchmarkOptions,),
    ),
]
