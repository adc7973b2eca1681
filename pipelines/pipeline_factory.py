"""Maps pipeline names to their builders: a new pipeline is one module and one line here."""

from collections.abc import Callable

from kfp.dsl.base_component import BaseComponent

from kubeslim.errors import KubeslimError
from kubeslim.pipelines import image_classifier, text_models

PIPELINES: dict[str, Callable[..., BaseComponent]] = {
    "image_classifier": image_classifier.create_pipeline,
    "language_model": text_models.create_language_model_pipeline,
    "translation": text_models.create_translation_pipeline,
    "word2vec": text_models.create_word2vec_pipeline,
}
DEFAULT_PIPELINE = "image_classifier"


def get_pipeline_builder(name: str) -> Callable[..., BaseComponent]:
    """The builder of pipeline ``name``: ``(image, options) -> pipeline``.

    Raises:
      KubeslimError: ``name`` is not registered.
    """
    if name not in PIPELINES:
        raise KubeslimError(f"unknown pipeline {name!r}; known: {', '.join(sorted(PIPELINES))}")
    return PIPELINES[name]


def pipeline_name(pipeline: BaseComponent) -> str:
    """The name the pipeline is compiled, uploaded and run under."""
    return pipeline.pipeline_spec.pipeline_info.name
