"""The text-model commands: ``word2vec``, ``language-model``, ``translation-model`` and
``translate``."""

import argparse
import sys
from collections.abc import Sequence

from kubeslim.cli.framework import Command, Invocation, PathFlag
from kubeslim.components.text import ptb_lm_options, translation_options
from kubeslim.components.text.word2vec_options import Word2VecOptions
from kubeslim.errors import KubeslimError
from kubeslim.options import OVERWRITE_HELP

CORPUS = PathFlag("corpus_dir", "output of `kubeslim convert-text`")
EXPORT = PathFlag("export_dir", "write the SavedModel here", required=False)


def _overwrite_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true", help=f"--export_dir: {OVERWRITE_HELP}")


def _check_export_dir(run: Invocation, kind: str) -> None:
    """Refuses a bad --export_dir before training, not after it."""
    if run.path("export_dir"):
        from kubeslim.fileio import OutputDir

        OutputDir(
            run.path("export_dir"),
            kind,
            overwrite=run.overwrite,
            inputs={"--model_dir": run.path("model_dir")},
            what="--export_dir",
        )


def _word2vec_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    parser.add_argument("--neighbours", help="comma-separated words to show the nearest words of")
    parser.add_argument("--analogies", metavar="PATH", help="a questions-words.txt file to score")
    _overwrite_flag(parser)


def _word2vec(run: Invocation) -> None:
    from kubeslim.components.text import embedding_scores, word2vec

    options = run.options(Word2VecOptions)
    _check_export_dir(run, word2vec.EXPORT_KIND)
    model_dir = run.path("model_dir")
    record = word2vec.train_word2vec(run.path("corpus_dir"), model_dir, options)
    last = record["history"][-1] if record["history"] else {}
    print(
        f"trained {len(record['history'])} epochs on {record['corpus']} "
        f"({record['vocabulary_size']:,} words): loss {last.get('loss', float('nan')):.4f}, "
        f"{last.get('words_per_second', 0):,.0f} words/s"
    )
    embeddings, vocabulary = word2vec.load_embeddings(model_dir)
    if run.neighbours:
        words = [w.strip() for w in run.neighbours.split(",") if w.strip()]
        for word, near in embedding_scores.nearest_neighbours(
            embeddings, vocabulary, words
        ).items():
            print(f"{word}: " + ", ".join(f"{w} {s:.3f}" for w, s in near))
    if run.analogies:
        a = embedding_scores.analogy_accuracy(embeddings, vocabulary, run.analogies)
        print(
            f"analogies: {a['correct']}/{a['questions']} correct ({a['accuracy']:.4f}), "
            f"{a['skipped']} skipped for words outside the vocabulary"
        )
    if run.path("export_dir"):
        word2vec.export_embeddings(model_dir, run.path("export_dir"), overwrite=run.overwrite)
        print(f"SavedModel and projector TSVs written to {run.path('export_dir')}")


def _language_model(run: Invocation) -> None:
    from kubeslim.components.text import ptb_lm

    choice = run.options(ptb_lm_options.LanguageModelChoice)
    config = ptb_lm_options.get_config(choice.config, **run.overrides())
    _check_export_dir(run, ptb_lm.EXPORT_KIND)
    record = ptb_lm.train_language_model(run.path("corpus_dir"), run.path("model_dir"), config)
    for h in record["history"]:
        valid = f", valid {h['valid_perplexity']:.2f}" if "valid_perplexity" in h else ""
        print(
            f"epoch {h['epoch']}: learning rate {h['learning_rate']:.4g}, "
            f"train perplexity {h['train_perplexity']:.2f}{valid}, "
            f"{h['words_per_second']:,.0f} words/s"
        )
    if "test_perplexity" in record:
        print(f"test perplexity {record['test_perplexity']:.2f}")
    if run.path("export_dir"):
        ptb_lm.export_language_model(
            run.path("model_dir"), run.path("export_dir"), overwrite=run.overwrite
        )
        print(f"SavedModel written to {run.path('export_dir')}")


def _translation_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    parser.add_argument(
        "--self_test",
        action="store_true",
        help="the tutorial's self-test: train and decode a tiny random corpus (no other flag)",
    )
    _overwrite_flag(parser)


def _translation_model(run: Invocation) -> None:
    if run.self_test:
        _self_test()
        return
    from kubeslim.components.text import translation, translator

    if not (run.path("corpus_dir") and run.path("model_dir")):
        raise KubeslimError("--corpus_dir and --model_dir are needed (or --self_test)")
    choice = run.options(translation_options.TranslationChoice)
    config = translation_options.get_config(choice.config, **run.overrides())
    scoring = run.options(translation_options.TranslationEvalOptions)
    _check_export_dir(run, translator.EXPORT_KIND)
    corpus_dir, model_dir = run.path("corpus_dir"), run.path("model_dir")
    record = translation.train_translation_model(corpus_dir, model_dir, config)
    for h in record["history"]:
        valid = f", valid perplexity {h['valid_perplexity']:.3f}" if "valid_perplexity" in h else ""
        print(
            f"epoch {h['epoch']}: learning rate {h['learning_rate']:.4g}, "
            f"train perplexity {h['train_perplexity']:.3f}{valid}, "
            f"{h['target_words_per_second']:,.0f} target words/s"
        )
    if scoring.eval_split:
        scores = translator.evaluate_translation(
            model_dir, corpus_dir, scoring.eval_split, beam_width=scoring.eval_beam_width or None
        )
        print(
            f"{scoring.eval_split}: BLEU {scores['bleu']:.2f}, exact match "
            f"{scores['exact_match']:.4f} over {scores['sentences']:,} sentences "
            f"(beam width {scores['beam_width']})"
        )
        for example in scores["examples"][:3]:
            print(f"  {example['translation']!r} (reference {example['reference']!r})")
    if run.path("export_dir"):
        translator.export_translator(model_dir, run.path("export_dir"), overwrite=run.overwrite)
        print(f"SavedModel written to {run.path('export_dir')}")


def _self_test() -> None:
    import tempfile

    from kubeslim.components.text.translation_self_test import self_test

    with tempfile.TemporaryDirectory() as work_dir:
        results = self_test(work_dir)
    last = results["history"][-1]
    print(
        f"self-test passed: 2 epochs, loss {last['train_loss']:.3f}; greedy and beam "
        "search decode; both SavedModels translate as the trainer does"
    )


def _translate_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    parser.add_argument("--beam_width", type=int, help="1 decodes greedily (default: the model's)")
    parser.add_argument("sentences", nargs="*", help="source sentences (default: standard input)")


def _translate(run: Invocation) -> None:
    from kubeslim.components.text.translator import Translator

    if run.beam_width is not None and run.beam_width < 1:
        raise KubeslimError(f"--beam_width {run.beam_width}: must be at least 1")
    sentences = run.sentences or [line.rstrip("\n") for line in sys.stdin]
    for translation in Translator(run.path("model_dir"), run.beam_width)(sentences):
        print(translation)


MODEL = PathFlag("model_dir", "checkpoints and the training record go here")

COMMANDS = [
    Command(
        "word2vec",
        "Train word2vec (skip-gram, negative sampling or NCE) on a converted corpus, resuming "
        "from --model_dir; then show neighbours, score analogies and export.",
        _word2vec,
        options=(Word2VecOptions,),
        paths=(CORPUS, MODEL, EXPORT),
        flags=_word2vec_flags,
    ),
    Command(
        "language-model",
        "Train the PTB tutorial's LSTM language model on a converted corpus (resuming from "
        "--model_dir), report train, valid and test perplexity, and export it.",
        _language_model,
        options=(ptb_lm_options.LanguageModelChoice,),
        paths=(CORPUS, MODEL, EXPORT),
        overrides=ptb_lm_options.LanguageModelConfig,
        configs=ptb_lm_options.CONFIGS,
        flags=lambda parser, _: _overwrite_flag(parser),
    ),
    Command(
        "translation-model",
        "Train the seq2seq tutorial's attention encoder-decoder on a converted parallel corpus "
        "(resuming from --model_dir), score BLEU and exact match, and export it; or run the "
        "tutorial's --self_test.",
        _translation_model,
        options=(translation_options.TranslationChoice, translation_options.TranslationEvalOptions),
        paths=(
            PathFlag("corpus_dir", CORPUS.help, required=False),
            PathFlag("model_dir", MODEL.help, required=False),
            EXPORT,
        ),
        overrides=translation_options.TranslationConfig,
        configs=translation_options.CONFIGS,
        flags=_translation_flags,
    ),
    Command(
        "translate",
        "Translate sentences given as arguments, or one a line on standard input, with a "
        "trained translation model (the tutorial's --decode).",
        _translate,
        paths=(PathFlag("model_dir", "a `kubeslim translation-model` model directory"),),
        flags=_translate_flags,
    ),
]
