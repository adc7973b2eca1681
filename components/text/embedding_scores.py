"""Scoring word embeddings: nearest neighbours and analogy accuracy (the word2vec
tutorials' evaluation), in numpy."""

from pathlib import Path
from typing import Any

import numpy as np

from kubeslim import corpus_spec
from kubeslim.errors import KubeslimError


def normalized(embeddings: np.ndarray) -> np.ndarray:
    return embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)


def nearest_neighbours(
    embeddings: np.ndarray, vocabulary: list[str], words: list[str], k: int = 8
) -> dict[str, list[tuple[str, float]]]:
    """The ``k`` words with the most similar (cosine) embeddings to each of ``words``.

    Raises:
      KubeslimError: a word is not in the vocabulary.
    """
    index = {w: i for i, w in enumerate(vocabulary)}
    missing = [w for w in words if w not in index]
    if missing:
        raise KubeslimError(f"not in the vocabulary: {', '.join(missing)}")
    unit = normalized(embeddings)
    result = {}
    for word in words:
        similarity = unit @ unit[index[word]]
        similarity[index[word]] = -np.inf
        best = np.argsort(-similarity)[:k]
        result[word] = [(vocabulary[i], float(similarity[i])) for i in best]
    return result


def analogy_accuracy(
    embeddings: np.ndarray, vocabulary: list[str], questions_path: str | Path
) -> dict[str, Any]:
    """Accuracy on a ``questions-words.txt``-format file (``: section`` lines, then ``a b c
    d`` lines meaning a is to b as c is to d): the answer is the word nearest to
    b - a + c other than a, b and c. Questions with a word outside the vocabulary are
    counted and skipped, as the tutorial did.

    Raises:
      KubeslimError: the file cannot be read.
    """
    sections, skipped = corpus_spec.read_analogies(questions_path, vocabulary)
    questions = [q for _, section in sections for q in section]
    return _score_analogies(embeddings, questions, skipped)


def analogy_accuracy_ids(embeddings: np.ndarray, questions_path: str | Path) -> dict[str, Any]:
    """``analogy_accuracy`` on an analogy set already mapped to ids (``analogies.ids.txt``)."""
    questions = []
    for number, ids in _analogy_lines(questions_path):
        try:
            questions.append([int(i) for i in ids])
        except ValueError:
            raise KubeslimError(f"{questions_path}:{number}: expected 4 ids, got {ids}") from None
    return _score_analogies(embeddings, questions, 0)


def _analogy_lines(path: str | Path):
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise KubeslimError(f"{path}: {e.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.startswith(":"):
            yield number, line.split()


def _score_analogies(
    embeddings: np.ndarray, questions: list[list[int]], skipped: int
) -> dict[str, Any]:
    unit = normalized(embeddings)
    correct = 0
    for batch in np.array_split(np.array(questions, dtype=np.int64), max(1, len(questions) // 512)):
        if not len(batch):
            continue
        target = unit[batch[:, 1]] - unit[batch[:, 0]] + unit[batch[:, 2]]
        similarity = target @ unit.T
        np.put_along_axis(similarity, batch[:, :3], -np.inf, axis=1)
        correct += int((similarity.argmax(1) == batch[:, 3]).sum())
    return {
        "questions": len(questions),
        "skipped": skipped,
        "correct": correct,
        "accuracy": correct / len(questions) if questions else 0.0,
    }
