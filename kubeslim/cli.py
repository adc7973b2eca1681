"""The ``kubeslim`` command: one subcommand per pipeline step, plus compiling and running the
whole pipeline.

Argument definitions live here and the step modules are imported only when their subcommand
runs, so ``--help`` answers without loading TensorFlow. A ``KubeslimError`` or an OS error ends
the command with a one-line message and a non-zero exit.
"""

import argparse
import dataclasses
import functools
import inspect
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from kubeslim import __version__
from kubeslim.beam.datasets import dataset_factory
from kubeslim.beam.text.corpus_factory import CORPORA
from kubeslim.components.kfp_components import DEFAULT_IMAGE
from kubeslim.components.optimization import DECAY_TYPES, OPTIMIZERS, OptimizerOptions
from kubeslim.components.text import translation_options
from kubeslim.components.text.ptb_lm_options import CONFIGS, LanguageModelConfig
from kubeslim.components.text.word2vec_options import LOSSES, Word2VecOptions
from kubeslim.errors import KubeslimError
from kubeslim.pipelines.placement import ClusterOptions

Handler = Callable[[argparse.Namespace, list[str]], None]


def _convert(args: argparse.Namespace, beam_args: list[str]) -> None:
    from kubeslim.beam.convert import convert_dataset

    options = {} if args.validation_size is None else {"validation_size": args.validation_size}
    descriptor = convert_dataset(
        dataset_factory.get_dataset(args.dataset, **options),
        args.output_dir,
        cache_dir=args.cache_dir,
        source=args.source,
        num_shards=_parse_num_shards(args.num_shards),
        seed=args.seed,
        strict=args.strict,
        beam_args=beam_args,
        overwrite=args.overwrite,
    )
    for split, entry in descriptor["splits"].items():
        skipped = len(entry["skipped"])
        print(
            f"{split}: {entry['num_examples']} examples in {entry['num_shards']} shards"
            + (f", {skipped} images skipped (listed in dataset.json)" if skipped else "")
        )
    print(f"wrote {args.output_dir}")


def _parse_num_shards(values: Sequence[str]) -> dict[str, int]:
    result = {}
    for value in values:
        split, sep, n = value.partition("=")
        if not sep or not n.isdigit() or int(n) < 1:
            raise KubeslimError(f"--num_shards {value!r}: expected SPLIT=N with N >= 1")
        result[split] = int(n)
    return result


def _convert_text(args: argparse.Namespace, beam_args: list[str]) -> None:
    from kubeslim.beam.convert_text import convert_corpus

    descriptor = convert_corpus(
        args.corpus,
        args.output_dir,
        cache_dir=args.cache_dir,
        source=args.source,
        beam_args=beam_args,
        overwrite=args.overwrite,
    )
    for split, entry in descriptor["splits"].items():
        tokens = ", ".join(
            f"{entry['num_tokens'][f]:,} {f} tokens "
            f"({entry['num_out_of_vocabulary'][f]:,} out of vocabulary)"
            for f in descriptor["features"]
        )
        print(f"{split}: {entry['num_lines']:,} records, {tokens}", end="")
        print(f"; {entry['num_dropped']:,} dropped as too long" if entry["num_dropped"] else "")
    sizes = ", ".join(f"{v['size']:,} {f}" for f, v in descriptor["vocabularies"].items())
    print(f"vocabulary: {sizes} words; wrote {args.output_dir}")


def _check_export_dir(args: argparse.Namespace, kind: str) -> None:
    """Refuses a bad --export_dir before training, not after it."""
    if args.export_dir:
        from kubeslim.fileio import OutputDir

        OutputDir(
            args.export_dir,
            kind,
            overwrite=args.overwrite,
            inputs={"--model_dir": args.model_dir},
            what="--export_dir",
        )


def _word2vec(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.text import word2vec

    _check_export_dir(args, word2vec.EXPORT_KIND)
    record = word2vec.train_word2vec(
        args.corpus_dir,
        args.model_dir,
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(Word2VecOptions)},
    )
    last = record["history"][-1] if record["history"] else {}
    print(
        f"trained {len(record['history'])} epochs on {record['corpus']} "
        f"({record['vocabulary_size']:,} words): loss {last.get('loss', float('nan')):.4f}, "
        f"{last.get('words_per_second', 0):,.0f} words/s"
    )
    embeddings, vocabulary = word2vec.load_embeddings(args.model_dir)
    if args.neighbours:
        words = [w.strip() for w in args.neighbours.split(",") if w.strip()]
        for word, near in word2vec.nearest_neighbours(embeddings, vocabulary, words).items():
            print(f"{word}: " + ", ".join(f"{w} {s:.3f}" for w, s in near))
    if args.analogies:
        a = word2vec.analogy_accuracy(embeddings, vocabulary, args.analogies)
        print(
            f"analogies: {a['correct']}/{a['questions']} correct ({a['accuracy']:.4f}), "
            f"{a['skipped']} skipped for words outside the vocabulary"
        )
    if args.export_dir:
        word2vec.export_embeddings(args.model_dir, args.export_dir, overwrite=args.overwrite)
        print(f"SavedModel and projector TSVs written to {args.export_dir}")


def _language_model(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.text import ptb_lm

    _check_export_dir(args, ptb_lm.EXPORT_KIND)
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(LanguageModelConfig)}
    record = ptb_lm.train_language_model(args.corpus_dir, args.model_dir, args.config, **overrides)
    for h in record["history"]:
        valid = f", valid {h['valid_perplexity']:.2f}" if "valid_perplexity" in h else ""
        print(
            f"epoch {h['epoch']}: learning rate {h['learning_rate']:.4g}, "
            f"train perplexity {h['train_perplexity']:.2f}{valid}, "
            f"{h['words_per_second']:,.0f} words/s"
        )
    if "test_perplexity" in record:
        print(f"test perplexity {record['test_perplexity']:.2f}")
    if args.export_dir:
        ptb_lm.export_language_model(args.model_dir, args.export_dir, overwrite=args.overwrite)
        print(f"SavedModel written to {args.export_dir}")


def _translation_model(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.text import translation

    if args.self_test:
        import tempfile

        with tempfile.TemporaryDirectory() as work_dir:
            results = translation.self_test(work_dir)
        last = results["history"][-1]
        print(
            f"self-test passed: 2 epochs, loss {last['train_loss']:.3f}; greedy and beam "
            "search decode; both SavedModels translate as the trainer does"
        )
        return
    if not (args.corpus_dir and args.model_dir):
        raise KubeslimError("--corpus_dir and --model_dir are needed (or --self_test)")
    _check_export_dir(args, translation.EXPORT_KIND)
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(translation_options.TranslationConfig)
    }
    record = translation.train_translation_model(
        args.corpus_dir, args.model_dir, args.config, **overrides
    )
    for h in record["history"]:
        valid = f", valid perplexity {h['valid_perplexity']:.3f}" if "valid_perplexity" in h else ""
        print(
            f"epoch {h['epoch']}: learning rate {h['learning_rate']:.4g}, "
            f"train perplexity {h['train_perplexity']:.3f}{valid}, "
            f"{h['target_words_per_second']:,.0f} target words/s"
        )
    if args.eval_split:
        scores = translation.evaluate_translation(args.model_dir, args.corpus_dir, args.eval_split)
        print(
            f"{args.eval_split}: BLEU {scores['bleu']:.2f}, exact match "
            f"{scores['exact_match']:.4f} over {scores['sentences']:,} sentences "
            f"(beam width {scores['beam_width']})"
        )
        for example in scores["examples"][:3]:
            print(f"  {example['translation']!r} (reference {example['reference']!r})")
    if args.export_dir:
        translation.export_translator(args.model_dir, args.export_dir, overwrite=args.overwrite)
        print(f"SavedModel written to {args.export_dir}")


def _translate(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.text.translation import Translator

    sentences = args.sentences or [line.rstrip("\n") for line in sys.stdin]
    translator = Translator(args.model_dir, args.beam_width)
    for translation in translator(sentences):
        print(translation)


def _analyze(args: argparse.Namespace, beam_args: list[str]) -> None:
    from kubeslim.beam.analyze import analyze_dataset

    stats = analyze_dataset(
        args.dataset_dir,
        args.output_dir,
        split=args.split,
        beam_args=beam_args,
        overwrite=args.overwrite,
    )
    mean = ", ".join(f"{v:.2f}" for v in stats["pixel_mean"])
    std = ", ".join(f"{v:.2f}" for v in stats["pixel_std"])
    print(f"{stats['num_examples']} {args.split} examples; pixel mean [{mean}], std [{std}]")
    height, width = stats["image_height"], stats["image_width"]
    print(
        f"image height {height['min']:.0f}-{height['max']:.0f}, "
        f"width {width['min']:.0f}-{width['max']:.0f}"
    )
    counts = stats["label_counts"]
    print(f"{len(counts)} labels, {min(counts.values())} to {max(counts.values())} examples each")
    print(f"transform output written to {args.output_dir}")


def _train(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.train import train

    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(OptimizerOptions)}
    record = train(
        args.dataset_dir,
        args.model_dir,
        model_name=args.model_name,
        preprocessing_name=args.preprocessing_name,
        image_size=args.image_size,
        batch_size=args.batch_size,
        num_epochs=args.num_epochs,
        max_steps=args.max_steps,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        labels_offset=args.labels_offset,
        checkpoint_path=args.checkpoint_path,
        checkpoint_exclude_scopes=args.checkpoint_exclude_scopes,
        trainable_scopes=args.trainable_scopes,
        ignore_missing_vars=args.ignore_missing_vars,
        mixed_precision=args.mixed_precision,
        seed=args.seed,
        transform_dir=args.transform_dir,
        **options,
    )
    print(
        f"trained {record['steps']} steps, final train accuracy "
        f"{record['history']['accuracy'][-1]:.4f}; checkpoint {record['checkpoint']}"
    )


def _eval(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.evaluate import evaluate, evaluate_checkpoints

    if args.watch:
        history = evaluate_checkpoints(
            args.dataset_dir,
            args.model_dir,
            args.output_dir,
            split=args.split,
            eval_interval_secs=args.eval_interval_secs,
            timeout_secs=args.timeout_secs,
        )
        for h in history:
            print(f"step {h['step']}: top-1 {h['top1_accuracy']:.4f}, loss {h['loss']:.4f}")
        print(f"{len(history)} checkpoints evaluated; written to {args.output_dir}")
        return
    m = evaluate(
        args.dataset_dir,
        args.model_dir,
        args.output_dir,
        split=args.split,
        checkpoint_path=args.checkpoint_path,
        overwrite=args.overwrite,
    )
    print(
        f"top-1 accuracy {m['top1_accuracy']:.4f}, top-5 accuracy {m['top5_accuracy']:.4f}, "
        f"loss {m['loss']:.4f} on {m['num_examples']} {m['split']} examples; "
        f"written to {args.output_dir}"
    )


def _export(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.export import export_saved_model

    export_saved_model(
        args.model_dir,
        args.export_dir,
        checkpoint_path=args.checkpoint_path,
        overwrite=args.overwrite,
    )
    print(f"SavedModel written to {args.export_dir}")


def _freeze(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.freeze import freeze_saved_model, max_abs_difference

    record = freeze_saved_model(args.export_dir, args.output_dir, overwrite=args.overwrite)
    print(f"frozen graph written to {args.output_dir} ({record['num_nodes']} nodes)")
    for name, tensor in record["inputs"].items():
        print(f"input  {name}: {tensor} shape {record['input_shape']}")
    for name, tensor in record["outputs"].items():
        print(f"output {name}: {tensor}")
    if args.check_dataset_dir:
        diff = max_abs_difference(args.output_dir, args.export_dir, args.check_dataset_dir)
        print(f"max |frozen - SavedModel| on the held-out split: {diff:.3g}")


def _tflite(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.tflite import compare_with_saved_model, convert

    record = convert(args.export_dir, args.output_dir, args.dataset_dir, overwrite=args.overwrite)
    for quantization, name in record["files"].items():
        size = record["bytes"][quantization] / 1e6
        line = f"{quantization:8s} {args.output_dir}/{name} ({size:.2f} MB)"
        if args.dataset_dir:
            c = compare_with_saved_model(
                f"{args.output_dir}/{name}", args.export_dir, args.dataset_dir
            )
            line += (
                f": max |TFLite - SavedModel| {c['max_abs_difference']:.3g}, top-1 agreement "
                f"{c['top1_agreement']:.4f} on {c['num_examples']} held-out images"
            )
        print(line)


def _predict(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.predict import predict

    for result in predict(args.model, args.images):
        print(result["image"])
        for name, score in result["top"]:
            print(f"  {score:.5f}  {name}")


def _benchmark(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.components.benchmark import benchmark_network

    r = benchmark_network(
        args.model,
        batch_size=args.batch_size,
        num_batches=args.num_batches,
        image_size=args.image_size,
    )
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


def _compile_pipeline(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.pipelines.kubeflow_runner import compile_pipeline

    selector = None
    if args.gpu_node_selector.lower() != "none":
        key, sep, value = args.gpu_node_selector.partition("=")
        if not sep or not key:
            raise KubeslimError(
                f"--gpu_node_selector {args.gpu_node_selector!r}: expected KEY=VALUE or none"
            )
        selector = (key, value)
    options = ClusterOptions(
        accelerator_type=args.accelerator_type,
        gpu_node_selector=selector,
        gpu_toleration_key=None if args.gpu_toleration.lower() == "none" else args.gpu_toleration,
        gpu_cpu_request=args.gpu_cpu_request,
        gpu_memory_request=args.gpu_memory_request,
        cpu_request=args.cpu_request,
        memory_request=args.memory_request,
    )
    path = compile_pipeline(args.output, image=args.image, options=options, pipeline=args.pipeline)
    print(f"pipeline written to {path}: upload it in the Kubeflow Pipelines UI")


def _run_local(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.pipelines.local_runner import run_local

    declared = _pipeline_parameters(args.pipeline)
    given = {name for name in _all_pipeline_parameters() if hasattr(args, name)}
    if foreign := sorted(given - set(declared)):
        raise KubeslimError(
            f"pipeline {args.pipeline} has no parameter {', '.join('--' + n for n in foreign)}; "
            f"its parameters: {', '.join(declared)}"
        )
    run = run_local(
        args.pipeline_root, args.pipeline, **{name: getattr(args, name) for name in given}
    )
    m = run.metrics
    if args.pipeline == "image_classifier":
        dataset = getattr(args, "dataset_name", declared["dataset_name"].default)
        print(
            f"\nTest top-1 accuracy: {m['top1_accuracy']:.4f} "
            f"(top-5 {m['top5_accuracy']:.4f}, loss {m['loss']:.4f}) "
            f"on {m['num_examples']} {dataset} {m['split']} images"
        )
    else:
        print(f"\nEvaluation: {_flat_scalars(m)}")
    print(f"Outputs of run {run.run_dir}:")
    width = max(len(name) for name in run.outputs)
    for name, path in run.outputs.items():
        print(f"  {name:<{width}}  {path}")


def _submit(args: argparse.Namespace, _: list[str]) -> None:
    from kubeslim.pipelines.kubeflow_runner import default_output
    from kubeslim.pipelines.submit import TOKEN_ENV, submit_pipeline

    if not args.host:
        raise KubeslimError("--host not given and KF_PIPELINES_ENDPOINT not set")
    result = submit_pipeline(
        args.host,
        args.package or default_output(args.pipeline),
        version_name=args.version_name or time.strftime("%Y%m%d-%H%M%S"),
        experiment_name=args.experiment,
        run_name=args.run_name,
        parameters=_parse_params(args.param, args.pipeline),
        schedule=args.schedule,
        token=os.environ.get(TOKEN_ENV),
    )
    print(f"pipeline {result.pipeline_id}, version {result.version_id}")
    kind = "recurring run" if result.recurring_run_id else "run"
    print(f"{kind} {result.recurring_run_id or result.run_id}: {result.url}")


def _flat_scalars(metrics: dict[str, Any], prefix: str = "") -> str:
    """``a.b=1.2345, c=7`` for the numbers in nested ``metrics``."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            parts.append(_flat_scalars(value, f"{prefix}{key}."))
        elif isinstance(value, float):
            parts.append(f"{prefix}{key}={value:.4f}")
        elif isinstance(value, int):
            parts.append(f"{prefix}{key}={value}")
    return ", ".join(p for p in parts if p)


def _parse_params(values: Sequence[str], pipeline: str) -> dict[str, Any]:
    """``NAME=VALUE`` pipeline arguments, typed as the pipeline declares them."""
    declared = _pipeline_parameters(pipeline)
    params: dict[str, Any] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or name not in declared:
            raise KubeslimError(
                f"--param {value!r}: expected NAME=VALUE with NAME one of {', '.join(declared)}"
            )
        kind = _parameter_type(declared[name])
        try:
            params[name] = kind(text)
        except ValueError:
            raise KubeslimError(f"--param {value!r}: {name} takes {kind.__name__} values") from None
    return params


@functools.cache
def _pipeline_parameters(pipeline: str) -> dict[str, inspect.Parameter]:
    from kubeslim.pipelines.pipeline_factory import get_pipeline_builder

    return dict(inspect.signature(get_pipeline_builder(pipeline)().pipeline_func).parameters)


@functools.cache
def _all_pipeline_parameters() -> dict[str, tuple[inspect.Parameter, list[str]]]:
    """Every pipeline's parameters: name -> (the first declaration, the pipelines with it)."""
    from kubeslim.pipelines.pipeline_factory import PIPELINES

    merged: dict[str, tuple[inspect.Parameter, list[str]]] = {}
    for pipeline in PIPELINES:
        for name, param in _pipeline_parameters(pipeline).items():
            merged.setdefault(name, (param, []))[1].append(pipeline)
    return merged


def build_parser() -> argparse.ArgumentParser:
    """The ``kubeslim`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="kubeslim",
        description="TF-Slim image classification as a Kubeflow pipeline.",
    )
    parser.add_argument("--version", action="version", version=f"kubeslim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Handler, help: str, writes_output: bool = False, **kwargs: Any
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, **kwargs)
        p.set_defaults(handler=handler)
        if writes_output:
            p.add_argument(
                "--overwrite",
                action="store_true",
                help="also replace a kubeslim output of another kind (a previous output of "
                "this kind is replaced anyway; a directory kubeslim did not write never is)",
            )
        return p

    p = command(
        "convert",
        _convert,
        "Convert a data set to sharded TFRecords with an Apache Beam job.",
        writes_output=True,
        epilog="Any other --flag is a Beam pipeline option, e.g. --runner=DataflowRunner "
        "--project=P --region=R --temp_location=gs://B/tmp, or "
        "--direct_running_mode=multi_processing --direct_num_workers=2. "
        "Without --runner the job runs locally on Beam's FnApiRunner.",
    )
    p.add_argument(
        "--dataset", required=True, choices=sorted(dataset_factory.DATASETS), help="data set"
    )
    p.add_argument("--output_dir", required=True, help="directory to write the TFRecords to")
    p.add_argument(
        "--cache_dir", help="download cache (default $KUBESLIM_CACHE or ~/.cache/kubeslim)"
    )
    p.add_argument(
        "--source",
        help="where to read the raw data instead of its canonical address: a directory, "
        "file://, http(s)://, gs:// or s3:// base holding the same file names; required for "
        "imagenet (the ILSVRC-2012 archives) and image_folder (ROOT/CLASS_NAME/images)",
    )
    p.add_argument(
        "--validation_size",
        type=float,
        help="held-out split of digits, flowers and image_folder: a fraction, or a count "
        "if >= 1 (defaults 0.2, 350, 0.1)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on an image that does not decode instead of skipping and counting it",
    )
    p.add_argument(
        "--num_shards",
        action="append",
        default=[],
        metavar="SPLIT=N",
        help="shards for a split, e.g. --num_shards train=4 (repeatable)",
    )
    p.add_argument("--seed", type=int, default=0, help="split and shuffle seed (default 0)")

    p = command(
        "convert-text",
        _convert_text,
        "Convert a text corpus to token-id TFRecords with a tensorflow-transform vocabulary "
        "(a Beam job).",
        writes_output=True,
        epilog="Any other --flag is a Beam pipeline option, as for convert.",
    )
    p.add_argument(
        "--corpus", required=True, choices=sorted(CORPORA), help="pydoc_text is embedded"
    )
    p.add_argument("--output_dir", required=True, help="directory to write")
    p.add_argument("--source", help="a mirror of the corpus's files (directory or URL)")
    p.add_argument("--cache_dir", help="where downloads are kept (default ~/.cache/kubeslim)")

    p = command(
        "word2vec",
        _word2vec,
        "Train word2vec (skip-gram, negative sampling or NCE) on a converted corpus, resuming "
        "from model_dir; then show neighbours, score analogies and export.",
        writes_output=True,
    )
    p.add_argument("--corpus_dir", required=True, help="output of `kubeslim convert-text`")
    p.add_argument("--model_dir", required=True, help="checkpoints and word2vec.json go here")
    p.add_argument("--neighbours", help="comma-separated words to show the nearest words of")
    p.add_argument("--analogies", help="a questions-words.txt-format file to score")
    p.add_argument("--export_dir", help="write the SavedModel and projector TSVs here")
    for f in dataclasses.fields(Word2VecOptions):
        choices = LOSSES if f.name == "loss" else None
        p.add_argument(
            f"--{f.name}",
            type=type(f.default),
            default=f.default,
            choices=choices,
            help=f"default {f.default}",
        )

    p = command(
        "language-model",
        _language_model,
        "Train the PTB tutorial's LSTM language model on a converted corpus (resuming from "
        "model_dir), report train, valid and test perplexity, and export it.",
        writes_output=True,
    )
    p.add_argument("--corpus_dir", required=True, help="output of `kubeslim convert-text`")
    p.add_argument("--model_dir", required=True, help="checkpoints and the record go here")
    p.add_argument("--config", default="small", choices=sorted(CONFIGS), help="default small")
    p.add_argument("--export_dir", help="write the scoring SavedModel here")
    for f in dataclasses.fields(LanguageModelConfig):
        p.add_argument(
            f"--{f.name}", type=type(f.default), help=f"overrides the configuration's {f.name}"
        )

    p = command(
        "translation-model",
        _translation_model,
        "Train the seq2seq tutorial's attention encoder-decoder on a converted parallel corpus "
        "(resuming from model_dir), score BLEU and exact match, and export it; or run the "
        "tutorial's --self_test.",
        writes_output=True,
    )
    p.add_argument("--corpus_dir", help="output of `kubeslim convert-text` (numbers_enfr, ...)")
    p.add_argument("--model_dir", help="checkpoints, logs and the record go here")
    p.add_argument(
        "--config",
        default="small",
        choices=sorted(translation_options.CONFIGS),
        help="small (numbers_enfr on a CPU), tutorial (WMT: 3 x 1024, sampled softmax), or "
        "self_test; default small",
    )
    p.add_argument(
        "--eval_split", default="test", help="split to score after training ('' for none)"
    )
    p.add_argument("--export_dir", help="write the SavedModel (raw sentence -> translation) here")
    p.add_argument("--self_test", action="store_true", help="train and decode a tiny random corpus")
    for f in dataclasses.fields(translation_options.TranslationConfig):
        if f.name == "buckets":
            kind: Any = translation_options.parse_buckets
        elif f.name == "reverse_source":
            kind = _parse_bool
        else:
            kind = type(f.default)
        p.add_argument(f"--{f.name}", type=kind, help=f"overrides the configuration's {f.name}")

    p = command(
        "translate",
        _translate,
        "Translate sentences given as arguments, or one a line on standard input, with a "
        "trained translation model (the tutorial's --decode).",
    )
    p.add_argument("--model_dir", required=True, help="a `kubeslim translation-model` model_dir")
    p.add_argument("--beam_width", type=int, help="1 decodes greedily (default: the model's)")
    p.add_argument("sentences", nargs="*", help="source sentences (default: standard input)")

    p = command(
        "analyze",
        _analyze,
        "Analyze a converted data set with tensorflow-transform: label vocabulary with counts, "
        "per-channel pixel mean and std, image sizes.",
        writes_output=True,
        epilog="Any other --flag is a Beam pipeline option, as for convert.",
    )
    p.add_argument("--dataset_dir", required=True, help="output of `kubeslim convert`")
    p.add_argument("--output_dir", required=True, help="transform output directory to write")
    p.add_argument("--split", default="train", help="split to analyze (default train)")

    p = command("train", _train, "Train a network on a converted data set's train split.")
    p.add_argument("--dataset_dir", required=True, help="output of `kubeslim convert`")
    p.add_argument("--model_dir", required=True, help="checkpoints, logs and config go here")
    p.add_argument(
        "--transform_dir",
        help="output of `kubeslim analyze`: its statistics feed the preprocessing, and the "
        "exported model embeds it",
    )
    p.add_argument("--model_name", default="lenet", help="network name (default lenet)")
    p.add_argument("--preprocessing_name", help="preprocessing (default: the network's)")
    p.add_argument("--image_size", type=int, help="input size (default: the network's)")
    p.add_argument("--batch_size", type=int, default=32, help="over all replicas (default 32)")
    p.add_argument("--num_epochs", type=int, default=15, help="default 15")
    p.add_argument("--max_steps", type=int, help="stop after this many steps, if sooner")
    p.add_argument("--weight_decay", type=float, default=4e-5, help="L2 scale (default 4e-5)")
    p.add_argument("--label_smoothing", type=float, default=0.0, help="default 0")
    p.add_argument(
        "--labels_offset",
        type=int,
        default=0,
        help="subtracted from the labels: 1 drops a background class 0 (default 0)",
    )
    p.add_argument(
        "--checkpoint_path",
        help="fine-tune from this TF checkpoint (or directory) or Keras .weights.h5 file; "
        "used only when model_dir has no checkpoint",
    )
    p.add_argument(
        "--checkpoint_exclude_scopes",
        help="comma-separated scopes not restored, e.g. InceptionV3/Logits",
    )
    p.add_argument("--trainable_scopes", help="comma-separated scopes to train (default all)")
    p.add_argument(
        "--ignore_missing_vars",
        action="store_true",
        help="initialize variables the checkpoint lacks instead of failing",
    )
    p.add_argument(
        "--mixed_precision",
        action="store_true",
        help="float16 compute on GPU (bfloat16 on CPU), float32 weights",
    )
    p.add_argument("--seed", type=int, default=0, help="default 0")
    for f in dataclasses.fields(OptimizerOptions):
        kind = float if "float" in str(f.type) else str
        choices = {"optimizer": OPTIMIZERS, "learning_rate_decay_type": DECAY_TYPES}.get(f.name)
        p.add_argument(
            f"--{f.name}",
            type=kind,
            default=f.default,
            choices=choices,
            help=f"{f.metadata['help']} (default {f.default})",
        )

    p = command("eval", _eval, "Evaluate a checkpoint: accuracy, loss, confusion matrix.", True)
    p.add_argument("--dataset_dir", required=True, help="output of `kubeslim convert`")
    p.add_argument("--model_dir", required=True, help="output of `kubeslim train`")
    p.add_argument("--output_dir", required=True, help="metrics.json and plots go here")
    p.add_argument(
        "--split", help="split to evaluate (default: test, or validation where there is no test)"
    )
    p.add_argument("--checkpoint_path", help="checkpoint prefix (default: the latest)")
    p.add_argument(
        "--watch",
        action="store_true",
        help="TF-Slim's eval loop: evaluate each new checkpoint into OUTPUT_DIR/step-N",
    )
    p.add_argument(
        "--eval_interval_secs", type=float, default=60, help="--watch polling (default 60)"
    )
    p.add_argument(
        "--timeout_secs",
        type=float,
        help="--watch stops after this long without a new checkpoint (default: never)",
    )

    p = command("export", _export, "Export a SavedModel taking encoded image bytes.", True)
    p.add_argument("--model_dir", required=True, help="output of `kubeslim train`")
    p.add_argument("--export_dir", required=True, help="SavedModel directory to write")
    p.add_argument("--checkpoint_path", help="checkpoint prefix (default: the latest)")

    p = command("freeze", _freeze, "Freeze a SavedModel into a GraphDef of constants.", True)
    p.add_argument("--export_dir", required=True, help="output of `kubeslim export`")
    p.add_argument("--output_dir", required=True, help="directory to write frozen_graph.pb to")
    p.add_argument(
        "--check_dataset_dir",
        help="also compare the frozen graph with the SavedModel on this data set's held-out split",
    )

    p = command(
        "tflite",
        _tflite,
        "Convert an exported model to TFLite in float32, float16 and (with --dataset_dir) "
        "int8, and check each against the SavedModel.",
        writes_output=True,
    )
    p.add_argument("--export_dir", required=True, help="output of `kubeslim export`")
    p.add_argument("--output_dir", required=True, help="directory for the .tflite files")
    p.add_argument(
        "--dataset_dir",
        help="a converted data set: its train split calibrates int8, its held-out split "
        "checks every file against the SavedModel",
    )

    p = command("predict", _predict, "Top-5 classes of image files (PNG or JPEG).")
    p.add_argument("--model", required=True, help="output of `kubeslim export`")
    p.add_argument("images", nargs="+", help="image files")

    p = command(
        "benchmark",
        _benchmark,
        "Time a net's forward and forward-backward pass on random data.",
    )
    p.add_argument("--model", required=True, help="network name, e.g. alexnet_v2")
    p.add_argument("--batch_size", type=int, default=32, help="default 32")
    p.add_argument("--num_batches", type=int, default=10, help="timed batches (default 10)")
    p.add_argument("--image_size", type=int, help="input size (default: the network's)")

    p = command(
        "compile-pipeline",
        _compile_pipeline,
        "Compile a KFP pipeline to YAML for the Kubeflow Pipelines UI.",
    )
    _add_pipeline_choice(p)
    p.add_argument(
        "--output",
        help="YAML file to write (default build/kubeslim-PIPELINE.yaml, e.g. "
        "build/kubeslim-image-classifier.yaml)",
    )
    p.add_argument(
        "--image",
        default=os.environ.get("KUBESLIM_IMAGE") or DEFAULT_IMAGE,
        help=f"container image of every step (default $KUBESLIM_IMAGE or {DEFAULT_IMAGE})",
    )
    cluster = ClusterOptions()
    p.add_argument(
        "--accelerator_type",
        default=cluster.accelerator_type,
        help=f"GPU resource of train, evaluate and export (default {cluster.accelerator_type})",
    )
    p.add_argument(
        "--gpu_node_selector",
        default="=".join(cluster.gpu_node_selector),
        help="KEY=VALUE label of the GPU node pool, or none "
        f"(default {'='.join(cluster.gpu_node_selector)})",
    )
    p.add_argument(
        "--gpu_toleration",
        default=cluster.gpu_toleration_key,
        help="taint key the GPU steps tolerate (Exists, NoSchedule), or none "
        f"(default {cluster.gpu_toleration_key})",
    )
    for name in ("gpu_cpu_request", "gpu_memory_request", "cpu_request", "memory_request"):
        default = getattr(cluster, name)
        what = "GPU steps'" if name.startswith("gpu") else "other steps'"
        p.add_argument(
            f"--{name}",
            default=default,
            help=f"{what} {name.split('_')[-2]} request (default {default})",
        )

    p = command(
        "submit",
        _submit,
        "Upload the compiled pipeline to Kubeflow Pipelines as a new version and start a run "
        "(or a recurring run). The token is read from $KFP_TOKEN, never from a flag.",
    )
    p.add_argument(
        "--host",
        default=os.environ.get("KF_PIPELINES_ENDPOINT"),
        help="Kubeflow Pipelines API address (default $KF_PIPELINES_ENDPOINT)",
    )
    _add_pipeline_choice(p)
    p.add_argument(
        "--package",
        help="compiled pipeline (default build/kubeslim-PIPELINE.yaml, as compile-pipeline "
        "writes it)",
    )
    p.add_argument("--version_name", help="pipeline version name (default: the time)")
    p.add_argument("--experiment", default="kubeslim", help="experiment (default kubeslim)")
    p.add_argument("--run_name", help="run name (default: pipeline and version)")
    p.add_argument(
        "--schedule",
        help="cron expression (5 fields, or 6 with seconds first): a recurring run instead",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline argument, repeatable (see `kubeslim run-local --help` for the names)",
    )

    p = command(
        "run-local",
        _run_local,
        "Run a whole pipeline on this machine with kfp.local, then print its evaluation and "
        "where every output went. A parameter not given keeps the pipeline's default.",
    )
    _add_pipeline_choice(p)
    p.add_argument("--pipeline_root", default="runs", help="runs are written here (default runs)")
    for name, (param, pipelines) in _all_pipeline_parameters().items():
        where = "" if len(pipelines) == len(_pipeline_names()) else f" ({', '.join(pipelines)})"
        p.add_argument(
            f"--{name}",
            type=_parameter_type(param),
            default=argparse.SUPPRESS,
            help=f"default {param.default}{where}",
        )
    return parser


def _pipeline_names() -> list[str]:
    from kubeslim.pipelines.pipeline_factory import PIPELINES

    return sorted(PIPELINES)


def _add_pipeline_choice(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pipeline",
        default="image_classifier",
        choices=_pipeline_names(),
        help="which pipeline (default image_classifier)",
    )


def _parse_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _parameter_type(param: inspect.Parameter) -> Callable[[str], Any]:
    """How to read a pipeline parameter's value from the command line."""
    kind = type(param.default)
    if kind is bool:
        _parse_bool.__name__ = "bool"  # argparse names the type in its error message
        return _parse_bool
    return kind


def _configure_logging(verbose: bool) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("absl", "apache_beam", "tensorflow"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``kubeslim``; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("convert", "convert-text", "analyze"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _configure_logging(args.verbose)
    try:
        args.handler(args, extra)
    except KubeslimError as e:
        print(f"kubeslim {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"kubeslim {args.command}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
