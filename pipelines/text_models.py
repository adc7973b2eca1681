"""The text-model DAGs, one per tutorial: convert (Beam, with the tensorflow-transform
vocabulary) -> vocabulary (published as its own artifact) -> train -> evaluate -> export.
Their parameters are their steps' options (``pipelines.parameters``); they are placed on the
cluster as the image pipeline is (``placement.py``): train, evaluate and export on the GPU
node pool, the Beam step retried with back-off."""

from typing import Any

from kubeslim.beam.options import ConvertTextOptions
from kubeslim.components.text.ptb_lm_options import LanguageModelChoice
from kubeslim.components.text.translation_options import TranslationChoice, TranslationEvalOptions
from kubeslim.components.text.word2vec_options import Word2VecEvalOptions, Word2VecOptions
from kubeslim.pipelines.cluster import ClusterOptions
from kubeslim.pipelines.parameters import ParameterGroup, PipelineDefinition, RunOptions

RUN = ParameterGroup(RunOptions)


def _convert_and_train(values: dict[str, Any], convert: ParameterGroup, cluster, train):
    """The convert, vocabulary and train tasks; ``train(corpus)`` makes the last."""
    from kubeslim.pipelines import text_components as text
    from kubeslim.pipelines.placement import retry_download

    convert_task = text.convert_text(**convert.pick(values), beam_options=values["beam_options"])
    retry_download(convert_task, cluster)
    corpus = convert_task.outputs["corpus"]
    vocabulary_task = text.publish_vocabulary(corpus=corpus)
    train_task = train(corpus)
    return (
        corpus,
        train_task,
        [
            (convert_task, "convert (Beam + TFT)", False),
            (vocabulary_task, "vocabulary", False),
        ],
    )


def _place(tasks, model_steps, what: str, values: dict[str, Any], cluster) -> None:
    """Adds the train, evaluate and export tasks (on the GPU pool) and places them all."""
    from kubeslim.pipelines.placement import place_tasks

    train_task, evaluate_task, export_task = model_steps
    tasks += [
        (train_task, f"train {what}", True),
        (evaluate_task, "evaluate", True),
        (export_task, "export SavedModel", True),
    ]
    place_tasks(tasks, cluster, values["num_gpus"])


WORD2VEC_CORPUS = ParameterGroup(ConvertTextOptions)
WORD2VEC_TRAIN = ParameterGroup(Word2VecOptions)
WORD2VEC_EVALUATE = ParameterGroup(Word2VecEvalOptions)


def _build_word2vec(values: dict[str, Any], cluster: ClusterOptions) -> None:
    from kubeslim.pipelines import text_components as text

    corpus, train_task, tasks = _convert_and_train(
        values,
        WORD2VEC_CORPUS,
        cluster,
        lambda corpus: text.train_word2vec(corpus=corpus, **WORD2VEC_TRAIN.pick(values)),
    )
    model = train_task.outputs["model"]
    evaluate_task = text.evaluate_word2vec(
        corpus=corpus, model=model, **WORD2VEC_EVALUATE.pick(values)
    )
    export_task = text.export_word2vec(model=model, num_gpus=values["num_gpus"])
    _place(tasks, (train_task, evaluate_task, export_task), "word2vec", values, cluster)


WORD2VEC = PipelineDefinition(
    name="kubeslim-word2vec",
    description="Convert a text corpus with Beam and tensorflow-transform, train word2vec "
    "skip-gram embeddings, evaluate analogies and neighbours, export a SavedModel and "
    "projector files.",
    groups=(WORD2VEC_CORPUS, RUN, WORD2VEC_TRAIN, WORD2VEC_EVALUATE),
    build=_build_word2vec,
)

LANGUAGE_MODEL_TRAIN = ParameterGroup(LanguageModelChoice)


def _build_language_model(values: dict[str, Any], cluster: ClusterOptions) -> None:
    from kubeslim.pipelines import text_components as text

    corpus, train_task, tasks = _convert_and_train(
        values,
        WORD2VEC_CORPUS,
        cluster,
        lambda corpus: text.train_language_model(
            corpus=corpus, **LANGUAGE_MODEL_TRAIN.pick(values)
        ),
    )
    model = train_task.outputs["model"]
    evaluate_task = text.evaluate_language_model(corpus=corpus, model=model)
    export_task = text.export_language_model(model=model, num_gpus=values["num_gpus"])
    _place(tasks, (train_task, evaluate_task, export_task), "language model", values, cluster)


LANGUAGE_MODEL = PipelineDefinition(
    name="kubeslim-language-model",
    description="Convert a text corpus with Beam and tensorflow-transform, train the PTB "
    "tutorial's LSTM language model, report perplexity, export a scoring SavedModel.",
    groups=(WORD2VEC_CORPUS, RUN, LANGUAGE_MODEL_TRAIN),
    build=_build_language_model,
)

TRANSLATION_CORPUS = ParameterGroup(ConvertTextOptions, defaults={"corpus_name": "numbers_enfr"})
TRANSLATION_TRAIN = ParameterGroup(TranslationChoice)
TRANSLATION_EVALUATE = ParameterGroup(TranslationEvalOptions)


def _build_translation(values: dict[str, Any], cluster: ClusterOptions) -> None:
    from kubeslim.pipelines import text_components as text

    corpus, train_task, tasks = _convert_and_train(
        values,
        TRANSLATION_CORPUS,
        cluster,
        lambda corpus: text.train_translation(corpus=corpus, **TRANSLATION_TRAIN.pick(values)),
    )
    model = train_task.outputs["model"]
    evaluate_task = text.evaluate_translation(
        corpus=corpus, model=model, **TRANSLATION_EVALUATE.pick(values)
    )
    export_task = text.export_translation(model=model, num_gpus=values["num_gpus"])
    _place(tasks, (train_task, evaluate_task, export_task), "translation model", values, cluster)


TRANSLATION = PipelineDefinition(
    name="kubeslim-translation",
    description="Convert a parallel corpus with Beam and tensorflow-transform, train the "
    "seq2seq tutorial's attention encoder-decoder, score BLEU, export a SavedModel that "
    "translates raw sentences.",
    groups=(TRANSLATION_CORPUS, RUN, TRANSLATION_TRAIN, TRANSLATION_EVALUATE),
    build=_build_translation,
)
