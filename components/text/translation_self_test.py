"""The translation tutorial's ``--self_test``, end to end: convert, train, decode, export."""

from pathlib import Path
from typing import Any

import tensorflow as tf

from kubeslim.components.text.translation import train_translation_model
from kubeslim.components.text.translation_options import CONFIGS
from kubeslim.components.text.translator import Translator, evaluate_translation, export_translator
from kubeslim.errors import KubeslimError
from kubeslim.model_spec import servable_dir


def self_test(work_dir: str | Path) -> dict[str, Any]:
    """The tutorial's ``--self_test``: a tiny random parallel corpus (10 words a language,
    sentences of 1 to 5 words) is converted, trained on for 2 epochs with the ``self_test``
    configuration (two layers of 32 units, softmax sampled over 8 of the 13 target ids),
    decoded greedily and by beam search, exported and reloaded. It checks that every stage
    runs and that the SavedModel translates as the trainer does; it says nothing of quality.

    Raises:
      KubeslimError: a stage disagrees with another.
    """
    import random

    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.text.parallel import ParallelCorpus

    class RandomPairs(ParallelCorpus):
        name = "self_test"
        max_tokens = (5, 5)

        def pairs(self, split: str):
            rng = random.Random(split)
            for _ in range(200 if split == "train" else 20):
                source = [f"s{rng.randrange(10)}" for _ in range(rng.randint(1, 5))]
                yield " ".join(source), " ".join(w.replace("s", "t") for w in reversed(source))

    work_dir = Path(work_dir)
    corpus_dir, model_dir = work_dir / "corpus", work_dir / "model"
    convert_corpus(corpus_dir, corpus=RandomPairs())
    record = train_translation_model(corpus_dir, model_dir, CONFIGS["self_test"])
    sentences = [en for en, _ in RandomPairs().pairs("test")]
    results = {"history": record["history"]}
    for beam_width in (1, 3):
        results[f"beam_width_{beam_width}"] = evaluate_translation(
            model_dir, corpus_dir, beam_width=beam_width
        )
        translator = Translator(model_dir, beam_width)
        export_dir = work_dir / f"export_{beam_width}"
        export_translator(model_dir, export_dir, beam_width)
        served = tf.saved_model.load(str(servable_dir(export_dir))).signatures["serving_default"]
        exported = served(sentences=tf.constant(sentences))["translations"].numpy()
        if [t.decode("utf-8") for t in exported] != translator(sentences):
            raise KubeslimError(f"beam width {beam_width}: the SavedModel translates differently")
    return results
