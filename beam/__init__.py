"""Apache Beam jobs: download and convert data sets to TFRecords of ``tf.train.Example``."""
