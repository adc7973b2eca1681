"""kubeslim: TF-Slim image classification as a Kubeflow pipeline.

The package is split as the repository is: ``kubeslim.beam`` (Apache Beam data jobs),
``kubeslim.components`` (train, evaluate, export, freeze), ``kubeslim.pipelines`` (KFP DAGs).
"""

__version__ = "0.1.0"
