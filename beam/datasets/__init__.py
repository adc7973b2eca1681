"""One module per data set, and ``dataset_factory`` mapping names to them."""
