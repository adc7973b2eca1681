"""One module per network, and ``nets_factory`` mapping TF-Slim names to builders."""
