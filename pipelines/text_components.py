"""Thin KFP v2 components for the text models, over the same library functions as the
``kubeslim`` subcommands; built as ``pipelines/components.py`` is (the project's image, no pip
at run time, each step's options dataclass made from the component's ``locals()``)."""

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Markdown, Metrics, Model, Output

from kubeslim.pipelines.cluster import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def convert_text(
    corpus_name: str,
    source: str,
    min_count: int,
    vocabulary_size: int,
    beam_options: str,
    corpus: Output[Dataset],
):
    """Converts a registered text corpus (or your own: ``text_files``, ``parallel_files``) to
    token-id TFRecords with its tensorflow-transform vocabularies, within the vocabulary limits
    given (0: the corpus's own), as a Beam job; ``beam_options`` are Beam pipeline flags ("" runs
    the job in this pod)."""
    import shlex

    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    options = ConvertTextOptions.from_mapping(locals())
    descriptor = convert_corpus(corpus.path, options, beam_args=shlex.split(beam_options))
    corpus.metadata["name"] = descriptor["name"]
    for split, entry in descriptor["splits"].items():
        corpus.metadata[f"{split}_records"] = entry["num_lines"]
        corpus.metadata[f"{split}_dropped"] = entry["num_dropped"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def publish_vocabulary(
    corpus: Input[Dataset], vocabulary: Output[Artifact], summary: Output[Markdown]
):
    """Publishes the corpus's vocabularies and tensorflow-transform graph as one artifact (what
    serving shares with training), with a summary: sizes, out-of-vocabulary rates per split
    and the most frequent words."""
    from kubeslim.components.text.vocabulary import publish_vocabularies

    text = publish_vocabularies(corpus.path, vocabulary.path)
    with open(summary.path, "w") as f:
        f.write(text)


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def train_word2vec(
    corpus: Input[Dataset],
    embedding_size: int,
    window_size: int,
    num_negatives: int,
    subsample: float,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    loss: str,
    seed: int,
    model: Output[Model],
):
    """Trains skip-gram embeddings (negative sampling or NCE) on the corpus's train split."""
    from kubeslim.components.text.word2vec import train_word2vec as train
    from kubeslim.components.text.word2vec_options import Word2VecOptions

    record = train(corpus.path, model.path, Word2VecOptions.from_mapping(locals()))
    model.metadata["words_per_second"] = record["history"][-1]["words_per_second"]
    model.metadata["loss"] = record["history"][-1]["loss"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate_word2vec(
    corpus: Input[Dataset],
    model: Input[Model],
    neighbours_of: str,
    metrics: Output[Metrics],
    evaluation: Output[Artifact],
):
    """Analogy accuracy on the corpus's analogy set (text8's questions-words), if it has one,
    and the nearest neighbours of ``neighbours_of`` (comma-separated words)."""
    from kubeslim.components.text.word2vec import evaluate_embeddings
    from kubeslim.components.text.word2vec_options import Word2VecEvalOptions
    from kubeslim.pipelines.metrics_artifacts import log_metrics

    options = Word2VecEvalOptions.from_mapping(locals())
    result = evaluate_embeddings(model.path, corpus.path, evaluation.path, options)
    values = {"vocabulary_size": result["vocabulary_size"]}
    if "analogies" in result:
        values["analogy_accuracy"] = result["analogies"]["accuracy"]
        values["analogy_questions"] = result["analogies"]["questions"]
    log_metrics(metrics, values)


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def export_word2vec(model: Input[Model], num_gpus: int, saved_model: Output[Model]):
    """The embeddings as a SavedModel (words -> vectors, nearest neighbours) and the
    TensorBoard projector's TSVs."""
    from kubeslim.components.text.word2vec import export_embeddings

    export_embeddings(model.path, saved_model.path)
    saved_model.metadata["format"] = "saved_model"
    saved_model.metadata["num_gpus"] = num_gpus


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def train_language_model(
    corpus: Input[Dataset], config: str, config_overrides: str, model: Output[Model]
):
    """Trains the PTB tutorial's LSTM language model (``config`` small, medium or large, with
    ``config_overrides`` such as "max_max_epoch=2")."""
    from kubeslim.components.text.ptb_lm import train_language_model as train
    from kubeslim.components.text.ptb_lm_options import LanguageModelChoice

    chosen = LanguageModelChoice.from_mapping(locals()).resolve()
    record = train(corpus.path, model.path, chosen)
    last = record["history"][-1]
    model.metadata["train_perplexity"] = last["train_perplexity"]
    model.metadata["words_per_second"] = last["words_per_second"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate_language_model(
    corpus: Input[Dataset],
    model: Input[Model],
    metrics: Output[Metrics],
    evaluation: Output[Artifact],
):
    """Perplexity of every split of the corpus under the trained model."""
    from kubeslim.components.text.ptb_lm import evaluate_language_model as evaluate
    from kubeslim.pipelines.metrics_artifacts import log_metrics

    result = evaluate(model.path, corpus.path, evaluation.path)
    log_metrics(metrics, {f"{s}_perplexity": v for s, v in result["perplexity"].items()})


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def export_language_model(model: Input[Model], num_gpus: int, saved_model: Output[Model]):
    """A SavedModel that scores a sentence (perplexity) and gives the next-word distribution."""
    from kubeslim.components.text.ptb_lm import export_language_model as export

    export(model.path, saved_model.path)
    saved_model.metadata["format"] = "saved_model"
    saved_model.metadata["num_gpus"] = num_gpus


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def train_translation(
    corpus: Input[Dataset], config: str, config_overrides: str, model: Output[Model]
):
    """Trains the seq2seq tutorial's attention encoder-decoder (``config`` small, tutorial or
    self_test, with ``config_overrides`` such as "epochs=2")."""
    from kubeslim.components.text.translation import train_translation_model as train
    from kubeslim.components.text.translation_options import TranslationChoice

    chosen = TranslationChoice.from_mapping(locals()).resolve()
    record = train(corpus.path, model.path, chosen)
    last = record["history"][-1]
    model.metadata["train_perplexity"] = last["train_perplexity"]
    model.metadata["target_words_per_second"] = last["target_words_per_second"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate_translation(
    corpus: Input[Dataset],
    model: Input[Model],
    eval_split: str,
    eval_beam_width: int,
    metrics: Output[Metrics],
    evaluation: Output[Artifact],
):
    """BLEU and exact-match accuracy on ``eval_split`` (beam search of ``eval_beam_width``; 0
    for the model's own)."""
    from kubeslim.components.text.translation_options import TranslationEvalOptions
    from kubeslim.components.text.translator import write_evaluation
    from kubeslim.pipelines.metrics_artifacts import log_metrics

    options = TranslationEvalOptions.from_mapping(locals())
    result = write_evaluation(model.path, corpus.path, evaluation.path, options)
    log_metrics(metrics, {name: result[name] for name in ("bleu", "exact_match", "sentences")})


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def export_translation(model: Input[Model], num_gpus: int, saved_model: Output[Model]):
    """A SavedModel whose ``serving_default`` maps raw sentences to translations."""
    from kubeslim.components.text.translator import export_translator

    export_translator(model.path, saved_model.path)
    saved_model.metadata["format"] = "saved_model"
    saved_model.metadata["num_gpus"] = num_gpus
