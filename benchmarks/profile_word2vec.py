"""Where word2vec's time goes, against the speed gensim reaches on the same corpus.

On gensim's enwiki excerpt (as ``bench_enwiki.py`` converts it) this measures, in one run:
the command's fixed costs (a bare ``import tensorflow``, ``kubeslim word2vec --help``, and
the command's wall time at one epoch against its epoch's training time); the input pipeline
alone; the training step alone on batches already made, at several batch sizes; and the two
TensorFlow kernels every pair goes through, a gather and a ``scatter_sub`` of embedding rows,
per row. The report turns the kernels' cost per row into a kernel-only estimate of words/s
(what the step would reach if it did nothing else) and sets it beside gensim's words/s from
``results/text_enwiki.json`` (``make bench-text``), if present.

Run with ``make profile-word2vec``; results go to benchmarks/results/word2vec_profile.{json,md}.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_files import RESULTS, write_results

BATCH_SIZES = (1024, 4096, 8192)
DIMENSIONS = (100, 200)
STEPS = 30  # timed steps per batch size, after two untimed ones
NEGATIVES = 5


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def fixed_costs(corpus_dir: Path, train_words: int, tmp: Path) -> dict:
    """The command's costs outside its epoch of ``train_words`` words, as a user meets them."""
    from kubeslim.components.text import word2vec

    model_dir = tmp / "w2v-one-epoch"
    command = [sys.executable, "-m", "kubeslim", "word2vec", "--corpus_dir", str(corpus_dir)]
    command += ["--model_dir", str(model_dir), "--epochs=1", f"--num_negatives={NEGATIVES}"]
    wall = _wall(command)
    history = json.loads((model_dir / word2vec.CONFIG_FILE).read_text())["history"]
    training = train_words / history[0]["words_per_second"]
    return {
        "import_tensorflow_seconds": _wall([sys.executable, "-c", "import tensorflow"]),
        "help_seconds": _wall([sys.executable, "-m", "kubeslim", "word2vec", "--help"]),
        "command_seconds": wall,
        "epoch_seconds": training,
        "overhead_seconds": wall - training,
    }


def step_speeds(corpus_dir: Path) -> dict:
    """Pairs/s of the input pipeline alone, and of the training step alone on made batches."""
    import tensorflow as tf

    from kubeslim.components.text import word2vec
    from kubeslim.components.text.corpus import token_counts
    from kubeslim.components.text.word2vec_options import Word2VecOptions

    counts = token_counts(corpus_dir)
    results: dict = {"pipeline": {}, "step": {}}
    for dimensions in DIMENSIONS:
        for batch_size in BATCH_SIZES:
            options = Word2VecOptions(
                embedding_size=dimensions, num_negatives=NEGATIVES, batch_size=batch_size
            )
            keep = word2vec.keep_probabilities(counts, options.subsample)
            logits = tf.cast(0.75 * tf.math.log(tf.maximum(counts, 1e-3)), tf.float32)
            model = word2vec.Word2Vec(int(counts.shape[0]), options)
            pairs = word2vec.make_pairs(corpus_dir, options, keep, model.epoch)
            if dimensions == DIMENSIONS[0]:
                start, made = time.perf_counter(), 0
                for centers, _, _ in pairs:
                    made += int(centers.shape[0])
                results["pipeline"][batch_size] = made / (time.perf_counter() - start)
                results["pairs_per_epoch"] = made
            batches = [batch for batch, _ in zip(pairs, range(STEPS + 2), strict=False)]
            step = tf.function(word2vec._train_step(model, options, logits))
            for batch in batches[:2]:
                float(step(*batch))
            start = time.perf_counter()
            for batch in batches[2:]:
                loss = step(*batch)
            float(loss)
            seconds = time.perf_counter() - start
            results["step"].setdefault(dimensions, {})[batch_size] = {
                "pairs_per_second": STEPS * batch_size / seconds,
                "ms_per_step": 1000 * seconds / STEPS,
            }
            print(
                f"  {dimensions}d batch {batch_size}: {STEPS * batch_size / seconds:,.0f} pairs/s",
                flush=True,
            )
    return results


def kernel_costs(vocabulary_size: int) -> dict:
    """Microseconds per row of the gather and ``scatter_sub`` the step runs, and of an empty
    ``tf.function`` call, each timed inside a ``tf.function`` over 200 calls."""
    import tensorflow as tf

    def per_call(fn) -> float:
        fn = tf.function(fn)
        fn()
        start = time.perf_counter()
        for _ in range(200):
            result = fn()
        float(result)
        return 1e6 * (time.perf_counter() - start) / 200

    rows = 4096
    costs: dict = {"empty_call_us": per_call(lambda: tf.constant(0.0))}
    for dimensions in DIMENSIONS:
        table = tf.Variable(tf.random.uniform([vocabulary_size, dimensions]))
        ids = tf.random.uniform([rows], 0, vocabulary_size, tf.int64)
        updates = tf.random.uniform([rows, dimensions])

        def gather(table=table, ids=ids):
            return tf.reduce_sum(tf.gather(table, ids)[:, 0])

        def scatter(table=table, ids=ids, updates=updates):
            table.scatter_sub(tf.IndexedSlices(updates, ids))
            return tf.constant(0.0)

        costs[dimensions] = {
            "gather_us_per_row": (per_call(gather) - costs["empty_call_us"]) / rows,
            "scatter_sub_us_per_row": (per_call(scatter) - costs["empty_call_us"]) / rows,
        }
    return costs


def kernel_only_estimate(report: dict) -> dict:
    """The words/s of a step that only gathered and scattered its rows: per pair, a
    center and a context row are gathered and scattered, and NEGATIVES rows per group of
    ``NEGATIVES_SHARED_BY`` pairs."""
    from kubeslim.components.text.word2vec_options import NEGATIVES_SHARED_BY

    rows_per_pair = 2 + NEGATIVES / NEGATIVES_SHARED_BY
    pairs_per_word = report["pairs_per_epoch"] / report["train_words"]
    result = {"rows_per_pair": rows_per_pair, "pairs_per_word": pairs_per_word}
    for dimensions in DIMENSIONS:
        k = report["kernels"][dimensions]
        us_per_pair = rows_per_pair * (k["gather_us_per_row"] + k["scatter_sub_us_per_row"])
        result[dimensions] = 1e6 / us_per_pair / pairs_per_word
    return result


def gensim_words_per_second() -> dict:
    """gensim's median words/s per dimension from the last ``make bench-text``, if any."""
    path = RESULTS / "text_enwiki.json"
    if not path.exists():
        return {}
    dims = json.loads(path.read_text())["dimensions"]
    return {int(d): r["medians"]["gensim"]["words_per_second"] for d, r in dims.items()}


def markdown(report: dict) -> str:
    """The report for people."""
    fixed, gensim, bound = report["fixed"], report["gensim_words_per_second"], report["kernel_only"]
    ppw = bound["pairs_per_word"]
    lines = [
        "# Where word2vec's time goes (`make profile-word2vec`)",
        "",
        f"gensim's enwiki excerpt: {report['train_words']:,} train words, "
        f"{report['pairs_per_epoch']:,} skip-gram pairs an epoch ({ppw:.2f} a word: window 5, "
        f"subsampling 1e-3), {NEGATIVES} negatives, vocabulary {report['vocabulary_size']:,}.",
        "",
        "## The command's fixed costs",
        "",
        f"- `import tensorflow` alone: {fixed['import_tensorflow_seconds']:.1f} s",
        f"- `kubeslim word2vec --help`: {fixed['help_seconds']:.1f} s",
        f"- `kubeslim word2vec --epochs 1` (200 dimensions): {fixed['command_seconds']:.1f} s, "
        f"of which the epoch {fixed['epoch_seconds']:.1f} s: "
        f"**{fixed['overhead_seconds']:.1f} s overhead**",
        "",
        "## Pairs/s",
        "",
        "| batch | input pipeline alone | "
        + " | ".join(f"step alone, {d}d" for d in DIMENSIONS)
        + " |",
        "| ---: | ---: | " + " | ".join("---:" for _ in DIMENSIONS) + " |",
    ]
    for batch in BATCH_SIZES:
        steps = [report["steps"]["step"][d][batch] for d in DIMENSIONS]
        lines.append(
            f"| {batch} | {report['steps']['pipeline'][batch]:,.0f} | "
            + " | ".join(f"{s['pairs_per_second']:,.0f} ({s['ms_per_step']:.1f} ms)" for s in steps)
            + " |"
        )
    k = report["kernels"]
    lines += [
        "",
        "## The kernels every pair goes through",
        "",
        f"An empty `tf.function` call: {k['empty_call_us']:.0f} us.",
        "",
        "| dimensions | gather, us/row | scatter_sub, us/row | kernel-only words/s "
        "| gensim words/s | 0.5x gensim |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for d in DIMENSIONS:
        theirs = gensim.get(d)
        lines.append(
            f"| {d} | {k[d]['gather_us_per_row']:.3f} | {k[d]['scatter_sub_us_per_row']:.3f} | "
            f"{bound[d]:,.0f} | {f'{theirs:,.0f}' if theirs else 'n/a'} | "
            f"{f'{theirs / 2:,.0f}' if theirs else 'n/a'} |"
        )
    lines += [
        "",
        "The kernel-only estimate counts only the gathers and scatters "
        f"({bound['rows_per_pair']:.2f} rows a pair: its center, its context and its share "
        "of the negatives), at "
        f"{ppw:.2f} pairs a word; the step's other work and the input pipeline share the same "
        "two cores on top of it.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench_enwiki import write_lines

    from kubeslim import corpus_spec
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    with tempfile.TemporaryDirectory(prefix="profile-word2vec-") as name:
        tmp = Path(name)
        write_lines(tmp / "enwiki.txt")
        corpus_dir = tmp / "enwiki"
        source = str(tmp / "enwiki.txt")
        convert_corpus(corpus_dir, ConvertTextOptions(corpus_name="text_files", source=source))
        descriptor = corpus_spec.read_descriptor(corpus_dir)
        vocabulary_size = descriptor["vocabularies"][corpus_spec.TOKENS_KEY]["size"]
        train_words = descriptor["splits"]["train"]["num_tokens"][corpus_spec.TOKENS_KEY]
        print("fixed costs ...", flush=True)
        fixed = fixed_costs(corpus_dir, train_words, tmp)
        print("step speeds ...", flush=True)
        steps = step_speeds(corpus_dir)
    report = {
        "train_words": train_words,
        "vocabulary_size": vocabulary_size,
        "pairs_per_epoch": steps.pop("pairs_per_epoch"),
        "fixed": fixed,
        "steps": steps,
        "kernels": kernel_costs(vocabulary_size),
        "gensim_words_per_second": gensim_words_per_second(),
    }
    report["kernel_only"] = kernel_only_estimate(report)
    write_results("word2vec_profile", markdown(report), report)
    print(markdown(report))


if __name__ == "__main__":
    main()
