"""The Beam jobs' options (convert, analyze, convert-text), importable without TensorFlow.
See ``kubeslim.options`` for how they are defined and used. Beam's own pipeline options
(``--runner`` and the runner's flags) are not here: ``kubeslim.beam.runner`` checks them."""

from dataclasses import dataclass

from kubeslim.beam.datasets.dataset_factory import DATASETS
from kubeslim.beam.text.corpus_factory import CORPORA
from kubeslim.errors import KubeslimError
from kubeslim.options import Options, at_least, option, overwrite_option

SOURCE_HELP = (
    "where to read the raw data instead of its canonical address: a directory, file://, "
    'http(s)://, gs:// or s3:// base holding the same file names; "" is the canonical address'
)
CACHE_HELP = 'where downloads are kept between runs; "" is $KUBESLIM_CACHE or ~/.cache/kubeslim'


def parse_num_shards(text: str) -> dict[str, int]:
    """``"train=4,validation=2"`` -> ``{"train": 4, "validation": 2}``.

    Raises:
      KubeslimError: not of that form.
    """
    shards = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        split, sep, count = item.partition("=")
        if not sep or not split or not count.isdigit() or int(count) < 1:
            raise KubeslimError(f"--num_shards {text!r}: expected SPLIT=N[,SPLIT=N] with N >= 1")
        shards[split] = int(count)
    return shards


def _num_shards_problem(text: str) -> str | None:
    try:
        parse_num_shards(text)
    except KubeslimError:
        return "be SPLIT=N[,SPLIT=N...] with N >= 1, e.g. train=4,validation=2"
    return None


@dataclass(frozen=True)
class ConvertOptions(Options):
    """``kubeslim convert``: a registered data set to sharded TFRecords."""

    dataset_name: str = option(
        "digits", "the data set", choices=lambda: sorted(DATASETS), aliases=("dataset",)
    )
    source: str = option(
        "",
        SOURCE_HELP + "; required for imagenet (the ILSVRC-2012 archives) and image_folder "
        "(ROOT/CLASS_NAME/images)",
    )
    cache_dir: str = option("", CACHE_HELP, cli_only=True)
    validation_size: float = option(
        0.0,
        "the held-out split of digits, flowers and image_folder: a fraction, or a count if "
        ">= 1; 0 keeps the data set's own (0.2, 350, 0.1)",
        check=at_least(0),
    )
    num_shards: str = option(
        "",
        'shards per split, e.g. train=4,validation=2; "" keeps the data set\'s',
        check=_num_shards_problem,
        metavar="SPLIT=N,...",
    )
    seed: int = option(
        0, "split and shuffle seed; the same seed gives byte-identical shards", check=at_least(0)
    )
    strict: bool = option(
        False, "fail on the first image that does not decode instead of skipping and counting it"
    )
    overwrite: bool = overwrite_option()

    @property
    def shards(self) -> dict[str, int]:
        return parse_num_shards(self.num_shards)


@dataclass(frozen=True)
class AnalyzeOptions(Options):
    """``kubeslim analyze``: tensorflow-transform statistics of a converted split."""

    split: str = option("train", "the split to analyze", check=lambda v: None if v else "be given")
    overwrite: bool = overwrite_option()


@dataclass(frozen=True)
class ConvertTextOptions(Options):
    """``kubeslim convert-text``: a text corpus to token-id TFRecords and vocabularies."""

    corpus_name: str = option(
        "pydoc_text",
        "the corpus (pydoc_text and numbers_enfr are embedded; text_files and parallel_files "
        "are your own)",
        choices=lambda: sorted(CORPORA),
        aliases=("corpus",),
    )
    source: str = option(
        "",
        SOURCE_HELP + "; for text_files, a glob pattern of UTF-8 files, a sentence per line; "
        "for parallel_files, 'SOURCE_GLOB,TARGET_GLOB', files aligned line by line",
    )
    min_count: int = option(
        0,
        "words seen fewer times in the train split are out of vocabulary; 0 keeps the "
        "corpus's own rule (5 for pydoc_text, text8 and text_files)",
        check=at_least(0),
    )
    vocabulary_size: int = option(
        0,
        "at most this many words per vocabulary, the most frequent; 0 keeps the corpus's own "
        "limit (10,000 for ptb, 40,000 for wmt_enfr and parallel_files)",
        check=at_least(0),
    )
    cache_dir: str = option("", CACHE_HELP, cli_only=True)
    overwrite: bool = overwrite_option()
