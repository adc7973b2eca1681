"""The image classification DAG: convert -> analyze -> train -> evaluate -> quality gate, and,
when the model is blessed, export -> freeze and TFLite.

Where the steps run is set when the pipeline is compiled (``ClusterOptions``): every task
runs the project's image; train, evaluate and export request GPUs at run time
(``num_gpus``), land on the GPU node pool by node selector and tolerate its taint; each step
requests CPU and memory. Deterministic steps are cached; the download step retries with
back-off.
"""

from kfp import dsl
from kfp.dsl.base_component import BaseComponent

from kubeslim.components import kfp_components
from kubeslim.pipelines.placement import ClusterOptions, place_tasks

PIPELINE_NAME = "kubeslim-image-classifier"


def create_pipeline(
    image: str = kfp_components.DEFAULT_IMAGE, options: ClusterOptions | None = None
) -> BaseComponent:
    """Builds the pipeline with every task running in container ``image``, placed on the
    cluster as ``options`` say."""
    options = options or ClusterOptions()

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Convert a data set to TFRecords with Beam, analyze it with "
        "tensorflow-transform, train a TF-Slim network, evaluate it, and when it passes the "
        "quality gate export a SavedModel, freeze it and convert it to TFLite.",
    )
    def image_classifier_pipeline(
        dataset_name: str = "digits",
        dataset_source: str = "",
        beam_options: str = "",
        converted_dataset: str = "",
        model_name: str = "lenet",
        preprocessing_name: str = "",
        image_size: int = 0,
        batch_size: int = 32,
        num_epochs: int = 15,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        learning_rate_decay_type: str = "fixed",
        weight_decay: float = 5e-4,
        label_smoothing: float = 0.0,
        moving_average_decay: float = 0.0,
        checkpoint_path: str = "",
        checkpoint_exclude_scopes: str = "",
        trainable_scopes: str = "",
        num_gpus: int = 1,
        mixed_precision: bool = False,
        seed: int = 0,
        accuracy_threshold: float = 0.97,
        blessed_evaluation: str = "",
        freeze_max_difference: float = 1e-5,
        int8_min_agreement: float = 0.97,
    ):
        """Parameters are the pipeline's configuration surface in the Kubeflow UI.

        Args:
          dataset_name: a data set registered in ``kubeslim.beam.datasets.dataset_factory``.
          dataset_source: a mirror of the data set's raw files (directory, http(s)://, gs://,
            s3://), or the ROOT of an image_folder; "" for the canonical address.
          beam_options: Beam pipeline flags for convert and analyze, e.g.
            "--runner=DataflowRunner --project=P --region=R --temp_location=gs://B/tmp";
            "" runs them in the step's pod.
          converted_dataset: a ``kubeslim convert`` output to start from instead of
            converting; "" converts ``dataset_name``.
          model_name: a network registered in ``kubeslim.components.nets.nets_factory``.
          preprocessing_name: lenet, cifarnet, inception or vgg; "" for the network's own.
          image_size: network input size; 0 for the network's default.
          batch_size: training batch size.
          num_epochs: passes over the training split.
          optimizer: adadelta, adagrad, adam, ftrl, momentum, sgd or rmsprop.
          learning_rate: the optimizer's initial learning rate.
          learning_rate_decay_type: fixed, exponential or polynomial.
          weight_decay: L2 scale on the weights (5e-4 suits the digits demo; TF-Slim's
            default for ImageNet nets is 4e-5).
          label_smoothing: TF-Slim's label smoothing.
          moving_average_decay: keep moving averages of the weights for evaluation and
            export; 0 keeps none.
          checkpoint_path: fine-tune from this checkpoint (a URI the train step can read);
            "" trains from scratch.
          checkpoint_exclude_scopes: comma-separated scopes not restored, e.g. LeNet/fc4.
          trainable_scopes: comma-separated scopes to train; "" trains all.
          num_gpus: GPUs for train, evaluate and export (mirrored in training).
          mixed_precision: float16 compute on GPU.
          seed: split, shuffle and initialization seed.
          accuracy_threshold: the top-1 accuracy the model must reach to be exported.
          blessed_evaluation: the evaluation output (directory or metrics.json URI) of the
            model now in production; the new one is exported only if not worse. "" skips it.
          freeze_max_difference: the largest allowed difference between the frozen graph's
            (and TFLite float32's) and the SavedModel's probabilities on the held-out split.
          int8_min_agreement: the smallest share of held-out images on which TFLite int8
            must agree with the SavedModel's top-1 class.
        """
        convert_task = kfp_components.convert_dataset(
            dataset_name=dataset_name,
            source=dataset_source,
            seed=seed,
            beam_options=beam_options,
            converted_dataset=converted_dataset,
        )
        options.retry_download(convert_task)
        dataset = convert_task.outputs["dataset"]
        analyze_task = kfp_components.analyze_dataset(dataset=dataset, beam_options=beam_options)
        train_task = kfp_components.train_model(
            dataset=dataset,
            transform=analyze_task.outputs["transform"],
            model_name=model_name,
            preprocessing_name=preprocessing_name,
            image_size=image_size,
            batch_size=batch_size,
            num_epochs=num_epochs,
            optimizer=optimizer,
            learning_rate=learning_rate,
            learning_rate_decay_type=learning_rate_decay_type,
            weight_decay=weight_decay,
            label_smoothing=label_smoothing,
            moving_average_decay=moving_average_decay,
            checkpoint_path=checkpoint_path,
            checkpoint_exclude_scopes=checkpoint_exclude_scopes,
            trainable_scopes=trainable_scopes,
            mixed_precision=mixed_precision,
            seed=seed,
        )
        model = train_task.outputs["model"]
        evaluate_task = kfp_components.evaluate_model(dataset=dataset, model=model)
        gate_task = kfp_components.gate_model(
            evaluation=evaluate_task.outputs["evaluation"],
            accuracy_threshold=accuracy_threshold,
            blessed_evaluation=blessed_evaluation,
        )
        tasks = [
            (convert_task, "convert (Beam)", False),
            (analyze_task, "analyze (TFT)", False),
            (train_task, "train", True),
            (evaluate_task, "evaluate", True),
            (gate_task, "quality gate", False),
        ]
        with dsl.If(gate_task.outputs["Output"] == True, name="blessed"):  # noqa: E712
            export_task = kfp_components.export_model(model=model, num_gpus=num_gpus)
            saved_model = export_task.outputs["saved_model"]
            freeze_task = kfp_components.freeze_model(
                saved_model=saved_model, dataset=dataset, max_difference=freeze_max_difference
            )
            tflite_task = kfp_components.convert_tflite(
                saved_model=saved_model,
                dataset=dataset,
                max_difference=freeze_max_difference,
                min_int8_agreement=int8_min_agreement,
            )
            tasks += [
                (export_task, "export SavedModel", True),
                (freeze_task, "freeze GraphDef", False),
                (tflite_task, "convert TFLite", False),
            ]
        place_tasks(tasks, image, options, num_gpus)

    return image_classifier_pipeline
