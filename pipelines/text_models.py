"""The text-model DAGs, one per tutorial: convert (Beam, with the tensorflow-transform
vocabulary) -> vocabulary (published as its own artifact) -> train -> evaluate -> export.
They are placed on the cluster as the image pipeline is (``placement.py``): train, evaluate
and export on the GPU node pool, the Beam step retried with back-off."""

from kfp import dsl
from kfp.dsl.base_component import BaseComponent

from kubeslim.components.kfp_components import DEFAULT_IMAGE
from kubeslim.components.text import kfp_components as text
from kubeslim.pipelines.placement import ClusterOptions, place_tasks

WORD2VEC_PIPELINE = "kubeslim-word2vec"
LANGUAGE_MODEL_PIPELINE = "kubeslim-language-model"
TRANSLATION_PIPELINE = "kubeslim-translation"


def _convert(corpus_name, corpus_source, beam_options, options: ClusterOptions):
    """The convert and vocabulary tasks, and the converted corpus."""
    convert_task = text.convert_text(
        corpus_name=corpus_name, source=corpus_source, beam_options=beam_options
    )
    options.retry_download(convert_task)
    corpus = convert_task.outputs["corpus"]
    vocabulary_task = text.publish_vocabulary(corpus=corpus)
    return [(convert_task, "convert (Beam + TFT)", False), (vocabulary_task, "vocabulary", False)]


def _place_with_model_steps(tasks, model_steps, what: str, image, options, num_gpus) -> None:
    """Adds the train, evaluate and export tasks (on the GPU pool) and places them all."""
    train_task, evaluate_task, export_task = model_steps
    tasks += [
        (train_task, f"train {what}", True),
        (evaluate_task, "evaluate", True),
        (export_task, "export SavedModel", True),
    ]
    place_tasks(tasks, image, options, num_gpus)


def create_word2vec_pipeline(
    image: str = DEFAULT_IMAGE, options: ClusterOptions | None = None
) -> BaseComponent:
    """word2vec: skip-gram embeddings, their analogy and neighbour evaluation, and export."""
    options = options or ClusterOptions()

    @dsl.pipeline(
        name=WORD2VEC_PIPELINE,
        description="Convert a text corpus with Beam and tensorflow-transform, train word2vec "
        "skip-gram embeddings, evaluate analogies and neighbours, export a SavedModel and "
        "projector files.",
    )
    def word2vec_pipeline(
        corpus_name: str = "pydoc_text",
        corpus_source: str = "",
        beam_options: str = "",
        embedding_size: int = 200,
        window_size: int = 5,
        num_negatives: int = 25,
        epochs: int = 15,
        loss: str = "negative_sampling",
        neighbours_of: str = "list,string,function,class,error",
        num_gpus: int = 1,
        seed: int = 0,
    ):
        """Args:
        corpus_name: pydoc_text (embedded) or text8 (with its analogy set).
        corpus_source: a mirror of the corpus's files; "" for the canonical address.
        beam_options: Beam pipeline flags for the convert step; "" runs it in its pod.
        embedding_size, window_size, num_negatives, epochs, loss: word2vec's flags.
        neighbours_of: comma-separated words whose nearest neighbours are reported.
        num_gpus: GPUs for train, evaluate and export.
        seed: initialization and sampling seed.
        """
        tasks = _convert(corpus_name, corpus_source, beam_options, options)
        corpus = tasks[0][0].outputs["corpus"]
        train_task = text.train_word2vec(
            corpus=corpus,
            embedding_size=embedding_size,
            window_size=window_size,
            num_negatives=num_negatives,
            epochs=epochs,
            loss=loss,
            seed=seed,
        )
        model = train_task.outputs["model"]
        evaluate_task = text.evaluate_word2vec(
            corpus=corpus, model=model, neighbours_of=neighbours_of
        )
        export_task = text.export_word2vec(model=model, num_gpus=num_gpus)
        model_steps = (train_task, evaluate_task, export_task)
        _place_with_model_steps(tasks, model_steps, "word2vec", image, options, num_gpus)

    return word2vec_pipeline


def create_language_model_pipeline(
    image: str = DEFAULT_IMAGE, options: ClusterOptions | None = None
) -> BaseComponent:
    """The PTB LSTM language model: perplexity per split, and a scoring SavedModel."""
    options = options or ClusterOptions()

    @dsl.pipeline(
        name=LANGUAGE_MODEL_PIPELINE,
        description="Convert a text corpus with Beam and tensorflow-transform, train the PTB "
        "tutorial's LSTM language model, report perplexity, export a scoring SavedModel.",
    )
    def language_model_pipeline(
        corpus_name: str = "pydoc_text",
        corpus_source: str = "",
        beam_options: str = "",
        config: str = "small",
        max_max_epoch: int = 0,
        num_gpus: int = 1,
        seed: int = 0,
    ):
        """Args:
        corpus_name: pydoc_text (embedded) or ptb.
        corpus_source: a mirror of the corpus's files; "" for the canonical address.
        beam_options: Beam pipeline flags for the convert step; "" runs it in its pod.
        config: small, medium or large (the tutorial's table).
        max_max_epoch: epochs in all; 0 keeps the configuration's (13 / 39 / 55).
        num_gpus: GPUs for train, evaluate and export.
        seed: initialization and dropout seed.
        """
        tasks = _convert(corpus_name, corpus_source, beam_options, options)
        corpus = tasks[0][0].outputs["corpus"]
        train_task = text.train_language_model(
            corpus=corpus, config=config, max_max_epoch=max_max_epoch, seed=seed
        )
        model = train_task.outputs["model"]
        evaluate_task = text.evaluate_language_model(corpus=corpus, model=model)
        export_task = text.export_language_model(model=model, num_gpus=num_gpus)
        model_steps = (train_task, evaluate_task, export_task)
        _place_with_model_steps(tasks, model_steps, "language model", image, options, num_gpus)

    return language_model_pipeline


def create_translation_pipeline(
    image: str = DEFAULT_IMAGE, options: ClusterOptions | None = None
) -> BaseComponent:
    """seq2seq translation: BLEU and exact match, and a raw-string SavedModel."""
    options = options or ClusterOptions()

    @dsl.pipeline(
        name=TRANSLATION_PIPELINE,
        description="Convert a parallel corpus with Beam and tensorflow-transform, train the "
        "seq2seq tutorial's attention encoder-decoder, score BLEU, export a SavedModel that "
        "translates raw sentences.",
    )
    def translation_pipeline(
        corpus_name: str = "numbers_enfr",
        corpus_source: str = "",
        beam_options: str = "",
        config: str = "small",
        epochs: int = 0,
        eval_split: str = "test",
        beam_width: int = 0,
        num_gpus: int = 1,
        seed: int = 0,
    ):
        """Args:
        corpus_name: numbers_enfr (embedded) or wmt_enfr.
        corpus_source: a mirror of the corpus's files; "" for the canonical address.
        beam_options: Beam pipeline flags for the convert step; "" runs it in its pod.
        config: small (numbers_enfr) or tutorial (WMT: 3 x 1024 LSTMs, sampled softmax).
        epochs: epochs in all; 0 keeps the configuration's.
        eval_split: the split to score (wmt_enfr has train and valid).
        beam_width: beam search width; 0 keeps the configuration's, 1 decodes greedily.
        num_gpus: GPUs for train, evaluate and export.
        seed: initialization and shuffling seed.
        """
        tasks = _convert(corpus_name, corpus_source, beam_options, options)
        corpus = tasks[0][0].outputs["corpus"]
        train_task = text.train_translation(corpus=corpus, config=config, epochs=epochs, seed=seed)
        model = train_task.outputs["model"]
        evaluate_task = text.evaluate_translation(
            corpus=corpus, model=model, split=eval_split, beam_width=beam_width
        )
        export_task = text.export_translation(model=model, num_gpus=num_gpus)
        model_steps = (train_task, evaluate_task, export_task)
        _place_with_model_steps(tasks, model_steps, "translation model", image, options, num_gpus)

    return translation_pipeline
