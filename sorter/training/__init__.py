"""training: `sorter train` and `sorter evaluate`.

Owns the labelled data (`datasets`) and what its pet folders hold that is not read
(`not_read`), the training views (`augment`), the from-scratch training loop (`loop`), what
`--resume` goes on from (`resuming`), the model's files and the `--out` a run holds
(`publish`), the ranges of its whole-number options (`limits`), transfer learning on the
backbone (`transfer`), `--distribute` (`distribute`), the train use-case (`train`) and what it
refuses before it trains (`checks`), the evaluate use-case (`evaluate`), the pictures they draw
(`report`) and where evaluate's may go (`report_folder`), re-exporting a trained model's int8
network (`export`) and a model's reference set for `sorter learn` (`reference`).

May import: `sorter.model`, `sorter.media`, `sorter.config`, `sorter.errors`. TensorFlow is
imported lazily, here and in `sorter.model` only.
"""
