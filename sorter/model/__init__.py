"""model: the network and its files, and loading a classifier, in one place.

Owns the Keras side of a model file (`network`: metadata, paths, the from-scratch network),
the EfficientNet-Lite0 backbone and its ImageNet weights (`backbone`, read by the
tensors-only `torch_weights`), the int8 LiteRT runtime with its float head (`lite`), numpy softmax
heads (`heads`), reading the .npz files sorter saves arrays in (`arrays`), the second look at
the pet in the frame (`second_look`), the personal model layered on top (`personal`, run by
`personal_classifier`; a newer sorter's file told from a damaged one: `formats`) with the heads
that name a user's pets (`pet_heads`) and the folders they were learnt from (`pet_homes`), and
batched, threaded classification of files (`inference`).

May import: `sorter.media` (inference decodes the files it classifies), `sorter.config`,
`sorter.errors`. TensorFlow is imported lazily, only where a Keras model is built or saved.
"""
