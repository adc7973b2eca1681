"""The Penn Treebank as Mikolov's ``simple-examples.tgz`` ships it (the PTB language-model
tutorial's data): ``data/ptb.{train,valid,test}.txt``, already lowercased with ``<unk>`` for
rare words and 10,000 words in all. Each line gets ``<eos>``, as the tutorial's reader does."""

import tarfile

from kubeslim.beam.download import RemoteFile
from kubeslim.beam.text.base import EOS, TextCorpus
from kubeslim.errors import KubeslimError

ARCHIVE = RemoteFile("http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz")


class Ptb(TextCorpus):
    name = "ptb"
    remote_files = (ARCHIVE,)
    vocabulary_size = 10_000

    def lines(self, split: str) -> list[str]:
        archive = self.files[ARCHIVE.filename]
        suffix = f"data/ptb.{split}.txt"
        try:
            with tarfile.open(archive, "r:gz") as tar:
                member = next((m for m in tar if m.isfile() and m.name.endswith(suffix)), None)
                if member is None:
                    raise KubeslimError(f"{archive} has no member ending in {suffix}")
                text = tar.extractfile(member).read().decode("utf-8")
        except (tarfile.TarError, OSError, EOFError) as e:
            raise KubeslimError(f"{archive}: not a readable .tgz ({e})") from None
        return [" ".join([*line.split(), EOS]) for line in text.splitlines() if line.strip()]
