"""WMT English -> French as the seq2seq tutorial (``translate.py``) used it: the 10^9-word
Giga-Fren corpus to train on (``training-giga-fren.tar``, which holds the gzipped
``giga-fren.release2.fixed.en.gz`` and ``.fr.gz``, line-aligned) and newstest2013 from WMT15's
``dev-v2.tgz`` as the held-out set. 40,000 words per language, as in the tutorial.

Both archives are read as streams, pair by pair, so the 22 million pairs never sit in memory.
"""

import gzip
import tarfile
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO

from kubeslim.beam.download import RemoteFile
from kubeslim.beam.text.parallel import ParallelCorpus
from kubeslim.errors import KubeslimError

TRAIN_ARCHIVE = RemoteFile("http://www.statmt.org/wmt10/training-giga-fren.tar")
DEV_ARCHIVE = RemoteFile("http://www.statmt.org/wmt15/dev-v2.tgz")
_MEMBERS = {
    "train": (TRAIN_ARCHIVE, "giga-fren.release2.fixed.{}.gz"),
    "valid": (DEV_ARCHIVE, "newstest2013.{}"),
}


class WmtEnfr(ParallelCorpus):
    name = "wmt_enfr"
    remote_files = (TRAIN_ARCHIVE, DEV_ARCHIVE)
    split_names = ("train", "valid")
    vocabulary_size = 40_000
    shards = 16

    def pairs(self, split: str) -> Iterator[tuple[str, str]]:
        remote, pattern = _MEMBERS[split]
        archive = self.files[remote.filename]
        try:
            with ExitStack() as stack:
                tar = stack.enter_context(tarfile.open(archive))
                english, french = (
                    stack.enter_context(_open_member(tar, pattern.format(lang), archive))
                    for lang in ("en", "fr")
                )
                for number, (en, fr) in enumerate(zip(english, french, strict=False), 1):
                    yield _decode(en, archive, number), _decode(fr, archive, number)
                if english.readline() or french.readline():
                    raise KubeslimError(
                        f"{archive}: the English and French of {pattern.format('*')} have "
                        "different numbers of lines"
                    )
        except (tarfile.TarError, OSError, EOFError) as e:
            raise KubeslimError(f"{archive}: not a readable archive ({e})") from None


def _open_member(tar: tarfile.TarFile, basename: str, archive) -> IO[bytes]:
    member = next((m for m in tar if m.isfile() and m.name.split("/")[-1] == basename), None)
    if member is None:
        raise KubeslimError(f"{archive} has no member named {basename}")
    stream = tar.extractfile(member)
    return gzip.open(stream) if basename.endswith(".gz") else stream


def _decode(line: bytes, archive, number: int) -> str:
    try:
        return line.decode("utf-8").strip()
    except UnicodeDecodeError as e:
        raise KubeslimError(f"{archive}: line {number} is not UTF-8 ({e})") from None
