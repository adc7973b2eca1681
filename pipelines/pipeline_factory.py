"""Maps pipeline names to their definitions (``parameters.PipelineDefinition``): a new
pipeline is one module and one line here. Listing the names and their parameters loads no
kfp."""

from typing import TYPE_CHECKING

from kubeslim.pipelines.cluster import ClusterOptions
from kubeslim.pipelines.parameters import PipelineDefinition
from kubeslim.registry import LazyRegistry

if TYPE_CHECKING:
    from kfp.dsl.graph_component import GraphComponent

PIPELINES = LazyRegistry(
    "kubeslim.pipelines",
    {
        "image_classifier": "image_classifier:PIPELINE",
        "language_model": "text_models:LANGUAGE_MODEL",
        "translation": "text_models:TRANSLATION",
        "word2vec": "text_models:WORD2VEC",
    },
    "pipeline",
)
DEFAULT_PIPELINE = "image_classifier"


def get_pipeline(name: str) -> PipelineDefinition:
    """The definition of pipeline ``name``.

    Raises:
      KubeslimError: ``name`` is not registered.
    """
    return PIPELINES.get_entry(name)


def build_pipeline(name: str, cluster: ClusterOptions | None = None) -> "GraphComponent":
    """Pipeline ``name`` as KFP's ``dsl.pipeline`` makes it, its tasks placed as ``cluster``
    says (the defaults if None).

    Raises:
      KubeslimError: ``name`` is not registered.
    """
    from kfp import dsl

    definition = get_pipeline(name)
    function = definition.function(cluster or ClusterOptions())
    return dsl.pipeline(name=definition.name, description=definition.description)(function)
