"""The data commands, Beam jobs all: ``convert``, ``convert-text`` and ``analyze``."""

from kubeslim.beam.options import AnalyzeOptions, ConvertOptions, ConvertTextOptions
from kubeslim.cli.framework import Command, Invocation, PathFlag

BEAM_EPILOG = (
    "Beam's own pipeline options pass through to the job, e.g. --runner=DataflowRunner "
    "--project=P --region=R --temp_location=gs://B/tmp, --runner=DaskRunner "
    "--dask_client_address=HOST:8786, or --direct_running_mode=multi_processing "
    "--direct_num_workers=2; a flag neither this command nor Beam knows is an error. Without "
    "--runner the job runs locally on Beam's FnApiRunner."
)


def _convert(run: Invocation) -> None:
    from kubeslim.beam.convert import convert_dataset

    out = run.path("output_dir")
    descriptor = convert_dataset(out, run.options(ConvertOptions), beam_args=run.beam_args)
    for split, entry in descriptor["splits"].items():
        skipped = len(entry["skipped"])
        print(
            f"{split}: {entry['num_examples']} examples in {entry['num_shards']} shards"
            + (f", {skipped} images skipped (listed in dataset.json)" if skipped else "")
        )
    print(f"wrote {out}")


def _convert_text(run: Invocation) -> None:
    from kubeslim.beam.convert_text import convert_corpus

    out = run.path("output_dir")
    descriptor = convert_corpus(out, run.options(ConvertTextOptions), beam_args=run.beam_args)
    for split, entry in descriptor["splits"].items():
        tokens = ", ".join(
            f"{entry['num_tokens'][f]:,} {f} tokens "
            f"({entry['num_out_of_vocabulary'][f]:,} out of vocabulary)"
            for f in descriptor["features"]
        )
        print(f"{split}: {entry['num_lines']:,} records, {tokens}", end="")
        print(f"; {entry['num_dropped']:,} dropped as too long" if entry["num_dropped"] else "")
    sizes = ", ".join(f"{v['size']:,} {f}" for f, v in descriptor["vocabularies"].items())
    print(f"vocabulary: {sizes} words; wrote {out}")


def _analyze(run: Invocation) -> None:
    from kubeslim.beam.analyze import analyze_dataset

    options = run.options(AnalyzeOptions)
    out = run.path("output_dir")
    stats = analyze_dataset(run.path("dataset_dir"), out, options, beam_args=run.beam_args)
    mean = ", ".join(f"{v:.2f}" for v in stats["pixel_mean"])
    std = ", ".join(f"{v:.2f}" for v in stats["pixel_std"])
    print(f"{stats['num_examples']} {options.split} examples; pixel mean [{mean}], std [{std}]")
    height, width = stats["image_height"], stats["image_width"]
    print(
        f"image height {height['min']:.0f}-{height['max']:.0f}, "
        f"width {width['min']:.0f}-{width['max']:.0f}"
    )
    counts = stats["label_counts"]
    print(f"{len(counts)} labels, {min(counts.values())} to {max(counts.values())} examples each")
    print(f"transform output written to {out}")


COMMANDS = [
    Command(
        "convert",
        "Convert a data set to sharded TFRecords with an Apache Beam job.",
        _convert,
        options=(ConvertOptions,),
        paths=(
            PathFlag("output_dir", "directory to write the TFRecords to", aliases=("dataset_dir",)),
        ),
        beam=True,
        tensorflow=False,  # only a job reading image files loads it, in its workers
        epilog=BEAM_EPILOG,
    ),
    Command(
        "convert-text",
        "Convert a text corpus to token-id TFRecords with a tensorflow-transform vocabulary "
        "(a Beam job).",
        _convert_text,
        options=(ConvertTextOptions,),
        paths=(PathFlag("output_dir", "directory to write"),),
        beam=True,
        epilog=BEAM_EPILOG,
    ),
    Command(
        "analyze",
        "Analyze a converted data set with tensorflow-transform: label vocabulary with counts, "
        "per-channel pixel mean and std, image sizes (a Beam job).",
        _analyze,
        options=(AnalyzeOptions,),
        paths=(
            PathFlag("dataset_dir", "output of `kubeslim convert`"),
            PathFlag("output_dir", "transform output directory to write"),
        ),
        beam=True,
        epilog=BEAM_EPILOG,
    ),
]
