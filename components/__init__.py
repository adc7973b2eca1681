"""The pipeline's steps (train, evaluate, export, freeze) as plain functions, plus thin KFP
component wrappers in ``kfp_components``."""
