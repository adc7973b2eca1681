"""text8, word2vec's corpus: the first 10^8 bytes of an English Wikipedia dump, cleaned to
lowercase letters and spaces, as one line in ``text8.zip``. It has one split, cut here into
lines of 1,000 words so that the job can spread them; words seen fewer than 5 times become
``<unk>``, as in the word2vec tutorial. word2vec's analogy set, ``questions-words.txt``
(19,544 questions such as "athens greece baghdad iraq"), is fetched with it and written mapped
to the vocabulary's ids."""

import zipfile
from pathlib import Path

from kubeslim.beam.download import RemoteFile
from kubeslim.beam.text.base import TextCorpus
from kubeslim.corpus_spec import ANALOGIES_FILE, TOKENS_KEY, read_analogies
from kubeslim.errors import KubeslimError

ARCHIVE = RemoteFile("http://mattmahoney.net/dc/text8.zip")
ANALOGIES = RemoteFile(
    "https://raw.githubusercontent.com/tmikolov/word2vec/master/questions-words.txt"
)
WORDS_PER_LINE = 1000


class Text8(TextCorpus):
    name = "text8"
    remote_files = (ARCHIVE, ANALOGIES)
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

    def write_extras(self, output_dir: Path, vocabularies: dict[str, list[str]]) -> dict:
        path = self.files[ANALOGIES.filename]
        sections, skipped = read_analogies(path, vocabularies[TOKENS_KEY][:-1])
        lines = []
        for name, questions in sections:
            lines += [f": {name}", *(" ".join(map(str, q)) for q in questions)]
        (output_dir / ANALOGIES_FILE).write_text("".join(x + "\n" for x in lines))
        kept = sum(len(questions) for _, questions in sections)
        return {"analogies": {"file": ANALOGIES_FILE, "questions": kept, "skipped": skipped}}
