"""KFP v2 pipelines, their compiler and their local runner."""
