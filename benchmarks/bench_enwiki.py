"""word2vec against gensim on the English Wikipedia excerpt that ships in gensim's test data.

The excerpt (``enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``) is read
with gensim's own ``WikiCorpus`` from the installed package, so nothing is downloaded, and
written one line per 1,000 tokens (gensim cuts longer sentences at 10,000). kubeslim converts
it with ``convert-text --corpus text_files`` and trains with the ``kubeslim word2vec`` command,
timed from outside (its overhead: the command's wall time minus its epochs' training time);
gensim trains ``Word2Vec`` on the same train lines with the same settings and 2 threads. Both
are scored by gensim's own functions: Spearman correlation on WordSim353 and accuracy on
questions-words, both shipped with gensim.

Targets: at least 0.5x gensim's training words/s at dimensions 100 and 200, quality no worse
than gensim's, and a command overhead under 5 s.

Run with ``make bench-text`` (after ``bench_text.py``); results go to
benchmarks/results/text_enwiki.{json,md}.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_text
import numpy as np
from results_files import write_results

ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LINE_WORDS = 1000
SPEED_TARGET = 0.5
OVERHEAD_TARGET_SECONDS = 5.0
SETTINGS = {"window_size": 5, "num_negatives": 5, "subsample": 1e-3, "learning_rate": 0.025}


def write_lines(path: Path) -> int:
    """Writes the excerpt's articles as lines of at most ``LINE_WORDS`` tokens; returns the
    number of tokens."""
    from gensim.corpora.wikicorpus import WikiCorpus
    from gensim.test.utils import datapath

    wiki = WikiCorpus(datapath(ENWIKI), dictionary={}, processes=1)
    tokens = 0
    with path.open("w", encoding="utf-8") as f:
        for article in wiki.get_texts():
            for start in range(0, len(article), LINE_WORDS):
                f.write(" ".join(article[start : start + LINE_WORDS]) + "\n")
            tokens += len(article)
    return tokens


def _scores(vectors: np.ndarray, vocabulary: list[str]) -> dict:
    """WordSim353 Spearman and questions-words accuracy, by gensim's functions."""
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    keyed = KeyedVectors(vectors.shape[1])
    keyed.add_vectors(vocabulary, vectors.astype(np.float32))
    _, spearman, _ = keyed.evaluate_word_pairs(datapath("wordsim353.tsv"))
    accuracy, _ = keyed.evaluate_word_analogies(datapath("questions-words.txt"))
    return {"wordsim353_spearman": float(spearman.statistic), "analogy_accuracy": accuracy}


def run_command(
    corpus_dir: Path, model_dir: Path, words: int, dimensions: int, epochs: int
) -> dict:
    """``kubeslim word2vec`` as a user runs it: speed, wall time, overhead and scores."""
    from kubeslim.components.text import word2vec

    flags = {**SETTINGS, "embedding_size": dimensions, "epochs": epochs}
    command = [sys.executable, "-m", "kubeslim", "word2vec", "--corpus_dir", str(corpus_dir)]
    command += ["--model_dir", str(model_dir)]
    command += [f"--{name}={value}" for name, value in flags.items()]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    history = json.loads((model_dir / word2vec.CONFIG_FILE).read_text())["history"]
    training = sum(words / h["words_per_second"] for h in history)
    embeddings, vocabulary = word2vec.load_embeddings(model_dir)
    return {
        "words_per_second": statistics.median(h["words_per_second"] for h in history),
        "wall_seconds": wall,
        "training_seconds": training,
        "overhead_seconds": wall - training,
        **_scores(embeddings, vocabulary),
    }


def run_gensim(sentences: list[list[str]], words: int, dimensions: int, epochs: int) -> dict:
    """gensim's ``Word2Vec`` with the same settings, on the same lines."""
    options = {**SETTINGS, "embedding_size": dimensions, "epochs": epochs, "seed": 0}
    speed, (vectors, vocabulary) = bench_text.run_gensim(sentences, options, words)
    return {
        "words_per_second": speed["words_per_second"],
        "training_seconds": speed["wall_seconds"],
        **_scores(vectors, vocabulary),
    }


def benchmark(tmp: Path, epochs: int, repeats: int) -> dict:
    """Converts the excerpt, then alternates the two trainers at 100 and 200 dimensions."""
    from kubeslim import corpus_spec
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    text = tmp / "enwiki.txt"
    tokens = write_lines(text)
    corpus_dir = tmp / "enwiki"
    convert_corpus(corpus_dir, ConvertTextOptions(corpus_name="text_files", source=str(text)))
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    vocabulary = corpus_spec.read_vocabulary(corpus_dir)
    words = descriptor["splits"]["train"]["num_tokens"][corpus_spec.TOKENS_KEY]
    sentences = bench_text.train_sentences(corpus_dir, vocabulary)
    results: dict = {}
    for dimensions in (100, 200):
        runs: dict[str, list] = {"kubeslim": [], "gensim": []}
        for repeat in range(repeats):
            model_dir = tmp / f"w2v-{dimensions}-{repeat}"
            runs["kubeslim"].append(run_command(corpus_dir, model_dir, words, dimensions, epochs))
            runs["gensim"].append(run_gensim(sentences, words, dimensions, epochs))
            for name, rs in runs.items():
                r = rs[-1]
                print(
                    f"  enwiki {dimensions}d {name:<8} run {repeat + 1}: "
                    f"{r['words_per_second']:9.0f} words/s, WordSim353 "
                    f"{r['wordsim353_spearman']:.3f}, analogies {r['analogy_accuracy']:.3f}",
                    flush=True,
                )
        medians = {
            name: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
            for name, rs in runs.items()
        }
        results[str(dimensions)] = {
            "runs": runs,
            "medians": medians,
            "speed_ratio": medians["kubeslim"]["words_per_second"]
            / medians["gensim"]["words_per_second"],
        }
    return {
        "corpus_tokens": tokens,
        "train_words": words,
        "vocabulary_size": len(vocabulary),
        "epochs": epochs,
        "settings": SETTINGS,
        "dimensions": results,
        "targets": {"speed_ratio": SPEED_TARGET, "overhead_seconds": OVERHEAD_TARGET_SECONDS},
    }


def markdown(report: dict) -> str:
    """The report for people."""
    s = report["settings"]
    lines = [
        "# word2vec against gensim on gensim's enwiki excerpt (`make bench-text`)",
        "",
        f"{report['corpus_tokens']:,} tokens (gensim's `WikiCorpus`), {report['train_words']:,} "
        f"in the train split, {report['vocabulary_size']:,} words in the vocabulary "
        f"(`--min_count 5`). Skip-gram, window {s['window_size']}, {s['num_negatives']} "
        f"negatives, subsampling {s['subsample']}, learning rate {s['learning_rate']}, "
        f"{report['epochs']} epochs; kubeslim at its default batch of pairs, gensim with 2 "
        "threads. Scores by gensim's own "
        "`evaluate_word_pairs` (WordSim353) and `evaluate_word_analogies` (questions-words).",
        "",
        "| dimensions | trainer | training words/s | WordSim353 Spearman | analogy accuracy "
        "| wall s | training s | overhead s |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for dimensions, result in report["dimensions"].items():
        for name, m in result["medians"].items():
            wall = f"{m['wall_seconds']:.1f}" if "wall_seconds" in m else ""
            overhead = f"{m['overhead_seconds']:.1f}" if "overhead_seconds" in m else ""
            lines.append(
                f"| {dimensions} | {name} | {m['words_per_second']:,.0f} | "
                f"{m['wordsim353_spearman']:.3f} | {m['analogy_accuracy']:.4f} | {wall} | "
                f"{m['training_seconds']:.1f} | {overhead} |"
            )
    for dimensions, result in report["dimensions"].items():
        ratio = result["speed_ratio"]
        overhead = result["medians"]["kubeslim"]["overhead_seconds"]
        lines.append(
            f"\nAt {dimensions} dimensions: {ratio:.2f}x gensim's words/s (target "
            f"{SPEED_TARGET}x: {'met' if ratio >= SPEED_TARGET else 'missed'}); command "
            f"overhead {overhead:.1f} s (target under {OVERHEAD_TARGET_SECONDS:.0f} s: "
            f"{'met' if overhead < OVERHEAD_TARGET_SECONDS else 'missed'})."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="word2vec epochs (default 5)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs (default 2)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="bench-enwiki-") as tmp:
        report = benchmark(Path(tmp), args.epochs, args.repeats)
    write_results("text_enwiki", markdown(report), report)
    print(markdown(report))


if __name__ == "__main__":
    main()
