"""text8, word2vec's corpus: the first 10^8 bytes of an English Wikipedia dump, cleaned to
lowercase letters and spaces, as one line in ``text8.zip``. It has one split, cut here into
lines of 1,000 words so that the job can spread them; words seen fewer than 5 times become
``<unk>``, as in the word2vec tutorial."""

import zipfile

from kubeslim.beam.download import RemoteFile
from kubeslim.beam.text.base import TextCorpus
from kubeslim.errors import KubeslimError

ARCHIVE = RemoteFile("http://mattmahoney.net/dc/text8.zip")
WORDS_PER_LINE = 1000


class Text8(TextCorpus):
    name = "text8"
    remote_files = (ARCHIVE,)
    split_names = ("train",)
    min_count = 5
    shards = 4

    def lines(self, split: str) -> list[str]:
        archive = self.files[ARCHIVE.filename]
        try:
            with zipfile.ZipFile(archive) as z:
                words = z.read("text8").decode("utf-8").split()
        except (zipfile.BadZipFile, KeyError, OSError) as e:
            raise KubeslimError(f"{archive}: not a zip holding text8 ({e})") from None
        return [
            " ".join(words[i : i + WORDS_PER_LINE]) for i in range(0, len(words), WORDS_PER_LINE)
        ]
