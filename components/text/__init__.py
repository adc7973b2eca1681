"""The classic text models: word2vec (and, next, the PTB language model and translation)."""
