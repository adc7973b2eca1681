"""The options dataclasses: each field checked once, where it is defined."""

import dataclasses
import math
import typing

import pytest

from kubeslim.beam.options import ConvertOptions, parse_num_shards
from kubeslim.components.options import EvalOptions, TfliteOptions, TrainOptions
from kubeslim.components.text.ptb_lm_options import LanguageModelChoice
from kubeslim.components.text.translation_options import TranslationChoice, TranslationConfig
from kubeslim.components.text.word2vec_options import Word2VecOptions
from kubeslim.errors import KubeslimError
from kubeslim.options import Options, parse_assignments, spec_of
from kubeslim.pipelines.cluster import ClusterOptions
from kubeslim.pipelines.submit import SubmitOptions

ALL = [
    ConvertOptions,
    TrainOptions,
    EvalOptions,
    TfliteOptions,
    Word2VecOptions,
    TranslationConfig,
    TranslationChoice,
    LanguageModelChoice,
    ClusterOptions,
    SubmitOptions,
]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_field_has_help_a_parameter_type_and_a_default_that_passes_its_own_check(cls):
    kinds = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        assert spec_of(f).help, f"{cls.__name__}.{f.name} has no help"
        assert kinds[f.name] in (str, int, float, bool), f"{cls.__name__}.{f.name}"
    cls()  # the defaults are valid


@pytest.mark.parametrize(
    "cls, values, message",
    [
        (TrainOptions, {"image_size": -5}, "--image_size -5: must be 0 or at least 1"),
        (TrainOptions, {"weight_decay": math.nan}, "--weight_decay nan: must be a finite number"),
        (TrainOptions, {"weight_decay": -1.0}, "--weight_decay -1.0: must be at least 0"),
        (TrainOptions, {"learning_rate": math.inf}, "--learning_rate inf: must be a finite"),
        (TrainOptions, {"learning_rate_decay_factor": -1}, "must be in (0, 1]"),
        (TrainOptions, {"model_name": "lenett"}, "did you mean 'lenet'?"),
        (TrainOptions, {"preprocessing_name": "nosuch"}, 'unknown value (known: "", cifarnet'),
        (TrainOptions, {"batch_size": "32"}, "--batch_size '32': must be int"),
        (TrainOptions, {"mixed_precision": 1}, "--mixed_precision 1: must be bool"),
        (TrainOptions, {"checkpoint_exclude_scopes": "X"}, "needs --checkpoint_path"),
        (ConvertOptions, {"seed": -1}, "--seed -1: must be at least 0"),
        (ConvertOptions, {"num_shards": "train=0"}, "--num_shards 'train=0': must be SPLIT=N"),
        (EvalOptions, {"eval_interval_secs": -1.0}, "must be positive"),
        (Word2VecOptions, {"batch_size": 100}, "a positive multiple of 16"),
        (TranslationConfig, {"buckets": "5x10"}, "must be SOURCE:TARGET pairs"),
        (ClusterOptions, {"gpu_memory_request": "lots"}, "must be a Kubernetes quantity"),
        (ClusterOptions, {"gpu_node_selector": "no label"}, "KEY=VALUE (a node label) or none"),
        (SubmitOptions, {"schedule": "* *"}, "must be a cron expression"),
        (LanguageModelChoice, {"config_overrides": "keep_prob=0"}, "--keep_prob 0.0: must be"),
        (LanguageModelChoice, {"config_overrides": "hiden_size=3"}, "did you mean 'hidden_size'"),
        (TranslationChoice, {"config": "huge"}, "--config 'huge': unknown value"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_flag(cls, values, message):
    with pytest.raises(KubeslimError) as error:
        cls(**values)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_integers_are_taken_for_floats_and_an_unknown_name_is_named():
    assert TrainOptions(learning_rate=1).learning_rate == 1.0
    assert isinstance(TrainOptions(learning_rate=1).learning_rate, float)
    with pytest.raises(
        KubeslimError, match="unknown option 'num_epoch'; did you mean 'num_epochs'"
    ):
        TrainOptions.make(num_epoch=3)


def test_assignments_parse_typed_and_named_configurations_apply_them():
    assert parse_assignments(TranslationConfig, "epochs=2, reverse_source=false") == {
        "epochs": 2,
        "reverse_source": False,
    }
    with pytest.raises(KubeslimError, match="'epochs': expected NAME=VALUE"):
        parse_assignments(TranslationConfig, "epochs")
    chosen = TranslationChoice(config="small", config_overrides="epochs=2,buckets=4:4").resolve()
    assert (chosen.epochs, chosen.bucket_sizes, chosen.size) == (2, ((4, 4),), 128)
    assert parse_num_shards("train=4, validation=2") == {"train": 4, "validation": 2}


def test_from_mapping_takes_only_the_fields_as_a_component_passes_its_locals():
    local_names = {"dataset": object(), "model_name": "cifarnet", "num_epochs": 2, "model": 0}
    options = TrainOptions.from_mapping(local_names)
    assert (options.model_name, options.num_epochs, options.batch_size) == ("cifarnet", 2, 32)


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainOptions().num_epochs = 3
    assert issubclass(TrainOptions, Options)
