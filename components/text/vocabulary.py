"""A converted corpus's vocabularies published as their own artifact, with a Markdown summary
for the Kubeflow UI (the text pipelines' vocabulary step)."""

import shutil
from pathlib import Path

from kubeslim import corpus_spec
from kubeslim.fileio import OutputDir


def publish_vocabularies(corpus_dir: str | Path, output_dir: str | Path) -> str:
    """Copies ``corpus_dir``'s vocabularies, transform and descriptor to ``output_dir`` and
    returns a Markdown summary: vocabulary sizes, out-of-vocabulary rates per split, and the
    most frequent words (the vocabularies rank words by count)."""
    output = OutputDir(output_dir, "vocabulary", inputs={"--corpus_dir": corpus_dir})
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    features = descriptor.get("features", [corpus_spec.TOKENS_KEY])
    lines = [f"# Vocabulary of {descriptor['name']}", ""]
    lines += ["| split | feature | tokens | out of vocabulary |", "| --- | --- | ---: | ---: |"]
    for split, entry in descriptor["splits"].items():
        for f in features:
            tokens, oov = entry["num_tokens"][f], entry["num_out_of_vocabulary"][f]
            rate = f"{oov / tokens:.2%}" if tokens else "-"
            lines.append(f"| {split} | {f} | {tokens:,} | {oov:,} ({rate}) |")
    with output.staging() as tmp:
        for f in features:
            words = corpus_spec.read_vocabulary(corpus_dir, f)
            corpus_spec.write_vocabulary(tmp, words, f)
            top = ", ".join(f"`{w}`" for w in words[:20])
            lines += [
                "",
                f"**{f}**: {len(words):,} ids (the last for words outside it); "
                f"most frequent: {top}",
            ]
        shutil.copytree(
            Path(corpus_dir) / corpus_spec.TRANSFORM_DIR, tmp / corpus_spec.TRANSFORM_DIR
        )
        shutil.copy(
            Path(corpus_dir) / corpus_spec.DESCRIPTOR_FILE, tmp / corpus_spec.DESCRIPTOR_FILE
        )
    return "\n".join(lines) + "\n"
