"""One module per preprocessing, and ``preprocessing_factory`` mapping names to them."""
