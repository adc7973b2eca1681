"""The image classification DAG: convert -> analyze -> train -> evaluate, and export -> freeze."""

from kfp import dsl
from kfp.dsl.base_component import BaseComponent

from kubeslim.components import kfp_components

PIPELINE_NAME = "kubeslim-image-classifier"


def create_pipeline(image: str = kfp_components.DEFAULT_IMAGE) -> BaseComponent:
    """Builds the pipeline with every task running in container ``image``."""

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Convert a data set to TFRecords with Beam, analyze it with "
        "tensorflow-transform, train a TF-Slim network, evaluate it, export a SavedModel "
        "and freeze it.",
    )
    def image_classifier_pipeline(
        dataset_name: str = "digits",
        dataset_source: str = "",
        model_name: str = "lenet",
        preprocessing_name: str = "",
        image_size: int = 0,
        batch_size: int = 32,
        num_epochs: int = 15,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 5e-4,
        seed: int = 0,
        freeze_max_difference: float = 1e-5,
        int8_min_agreement: float = 0.97,
    ):
        """Parameters are the pipeline's configuration surface in the Kubeflow UI.

        Args:
          dataset_name: a data set registered in ``kubeslim.beam.datasets.dataset_factory``.
          dataset_source: a mirror of the data set's raw files (directory, http(s)://, gs://,
            s3://), or the ROOT of an image_folder; "" for the canonical address.
          model_name: a network registered in ``kubeslim.components.nets.nets_factory``.
          preprocessing_name: lenet, cifarnet, inception or vgg; "" for the network's own.
          image_size: network input size; 0 for the network's default.
          batch_size: training batch size.
          num_epochs: passes over the training split.
          optimizer: adadelta, adagrad, adam, ftrl, momentum, sgd or rmsprop.
          learning_rate: the optimizer's learning rate.
          weight_decay: L2 scale on the weights (5e-4 suits the digits demo; TF-Slim's
            default for ImageNet nets is 4e-5).
          seed: split, shuffle and initialization seed.
          freeze_max_difference: the largest allowed difference between the frozen graph's
            (and TFLite float32's) and the SavedModel's probabilities on the held-out split.
          int8_min_agreement: the smallest share of held-out images on which TFLite int8
            must agree with the SavedModel's top-1 class.
        """
        convert_task = kfp_components.convert_dataset(
            dataset_name=dataset_name, source=dataset_source, seed=seed
        )
        dataset = convert_task.outputs["dataset"]
        analyze_task = kfp_components.analyze_dataset(dataset=dataset)
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
            weight_decay=weight_decay,
            seed=seed,
        )
        evaluate_task = kfp_components.evaluate_model(
            dataset=dataset, model=train_task.outputs["model"]
        )
        export_task = kfp_components.export_model(model=train_task.outputs["model"])
        freeze_task = kfp_components.freeze_model(
            saved_model=export_task.outputs["saved_model"],
            dataset=dataset,
            max_difference=freeze_max_difference,
        )
        tflite_task = kfp_components.convert_tflite(
            saved_model=export_task.outputs["saved_model"],
            dataset=dataset,
            max_difference=freeze_max_difference,
            min_int8_agreement=int8_min_agreement,
        )
        for task, display_name in [
            (convert_task, "convert (Beam)"),
            (analyze_task, "analyze (TFT)"),
            (train_task, "train"),
            (evaluate_task, "evaluate"),
            (export_task, "export SavedModel"),
            (freeze_task, "freeze GraphDef"),
            (tflite_task, "convert TFLite"),
        ]:
            task.set_display_name(display_name)
            task.set_container_image(image)

    return image_classifier_pipeline
