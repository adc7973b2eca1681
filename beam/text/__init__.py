"""Text corpora for the classic text models, and their registry."""
