"""Learning without forgetting (Li & Hoiem, 2016): while the top of the network is fine-tuned
to tell cats, dogs and the rest apart, it is also asked to keep giving the answers the
pretrained network gave to ImageNet's 1000 classes, on the same views.

Why: fine-tuning bought the pets and forgot the rest of the world. On non-pets from sources
no training photo came from, the fine-tuned network filed people, farm and wild animals as
pets far more often than its validation said, while ImageNet's own classifier on the
*pretrained* features knew them (issue 23). Keeping the ImageNet outputs close keeps the
features that know oxen and suits; the evidence (`sorter.model.evidence`) then reads those
outputs at sorting time from features that still mean what they meant.

How, at no cost to caching: the training views are cached as maps of the frozen blocks
(`sorter.training.transfer`); the teacher is the same top with its pretrained weights,
and its pooled features are what the probe computes anyway. One product with ImageNet's
classifier gives the teacher's soft targets (at temperature `TEMPERATURE`). The trainer's
output is the three class probabilities and the 1000 ImageNet logits side by side, so that
the loop's logs, checkpoints and early stopping stay as they are.
"""

from __future__ import annotations

import numpy as np

from sorter.model.network import import_keras

#: Softening of both distributions, as in the paper (T = 2), so that the classes after the
#: first one carry signal too.
TEMPERATURE = 2.0
IMAGENET = 1000


def teacher_targets(features: np.ndarray, kernel: np.ndarray, bias: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """(n, 1000) float16: the pretrained network's ImageNet probabilities at TEMPERATURE,
    from its pooled features."""
    out = np.empty((len(features), kernel.shape[1]), np.float16)
    for start in range(0, len(features), chunk):
        logits = (np.asarray(features[start : start + chunk], np.float32) @ kernel + bias) / TEMPERATURE
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        out[start : start + chunk] = p / p.sum(axis=1, keepdims=True)
    return out


def targets(labels: np.ndarray, teacher: np.ndarray) -> np.ndarray:
    """What the trainer is fitted to: each view's class, then the teacher's 1000 probabilities."""
    return np.concatenate([labels[:, None].astype(np.float16), teacher], axis=1)


def distilling(trainer, kernel: np.ndarray, bias: np.ndarray):
    """`trainer` (maps -> class probabilities) with a second, frozen output: ImageNet's
    classifier on its pooled features. Output: (batch, classes + 1000)."""
    keras = import_keras()
    imagenet = keras.layers.Dense(IMAGENET, name="imagenet", trainable=False, dtype="float32")
    logits = imagenet(trainer.get_layer("features").output)
    imagenet.set_weights([kernel, bias])
    both = keras.layers.Concatenate(name="classes_and_imagenet")([trainer.output, logits])
    return keras.Model(trainer.input, both, name="distilling")


def student(model):
    """The trainer without the ImageNet output: maps -> class probabilities."""
    keras = import_keras()
    return keras.Model(model.input, model.get_layer("classes").output)


def make_loss(classes: int, weight: float):
    """Cross-entropy on the classes plus `weight` x T^2 x KL(teacher || student) on ImageNet's
    classes (the T^2 keeps the gradient's scale as T changes, as in Hinton et al. 2015)."""
    keras = import_keras()
    ops = keras.ops

    class DistillLoss(keras.losses.Loss):
        def __init__(self, classes: int = classes, weight: float = weight, **kwargs):
            super().__init__(**kwargs)
            self.classes, self.weight = classes, weight

        def call(self, y_true, y_pred):
            label = ops.cast(y_true[:, 0], "int32")
            probabilities = ops.clip(y_pred[:, : self.classes], 1e-7, 1.0)
            ce = -ops.log(ops.take_along_axis(probabilities, label[:, None], axis=1)[:, 0])
            teacher = ops.cast(y_true[:, 1:], "float32")
            log_student = ops.log_softmax(y_pred[:, self.classes :] / TEMPERATURE, axis=-1)
            kl = ops.sum(teacher * (ops.log(ops.clip(teacher, 1e-8, 1.0)) - log_student), axis=-1)
            return ce + self.weight * TEMPERATURE**2 * kl

        def get_config(self):
            return {**super().get_config(), "classes": self.classes, "weight": self.weight}

    return DistillLoss()


def accuracy_metric(classes: int):
    """Accuracy on the classes alone, logged as `accuracy` like the plain trainer's."""
    keras = import_keras()
    ops = keras.ops

    def accuracy(y_true, y_pred):
        predicted = ops.argmax(y_pred[:, :classes], axis=-1)
        return ops.cast(ops.equal(predicted, ops.cast(y_true[:, 0], "int64")), "float32")

    return keras.metrics.MeanMetricWrapper(accuracy, name="accuracy")
