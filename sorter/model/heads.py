"""Softmax heads on a model's pooled features, fitted in numpy: the personal correction of the
bundled head, and the heads that tell a user's named pets from other cats or dogs.

Pure numpy (no TensorFlow, no scipy): `sorter learn` runs in the plain install. The problems
are small and smooth (a few thousand rows of 1280 features, 3 to 5 classes), so a plain
L-BFGS converges in a hundred or so steps of two matrix products each: ~0.1 s a fit on
2 cores, which is what lets `learn` cross-validate every candidate it chooses from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sorter.model.evidence import Evidence
from sorter.model.lite import softmax


@dataclass(frozen=True)
class Head:
    """logits = features @ kernel + bias; probabilities = softmax(logits / temperature), with
    ImageNet's word weighed in after it when the model carries its evidence, as sorting does."""

    kernel: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)
    temperature: float = 1.0
    evidence: Evidence | None = None

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        p = softmax(np.asarray(features, np.float64) @ self.kernel + self.bias, self.temperature)
        return p if self.evidence is None else self.evidence.adjust(p, features)

    def offsets(self, features: np.ndarray) -> np.ndarray:
        """What the evidence adds to each row's logits (after the temperature): zero without it.
        softmax(log softmax(z / T) + o) = softmax(z / T + o), so a fit can treat it as fixed."""
        if self.evidence is None:
            return np.zeros((len(features), self.kernel.shape[1]))
        return self.evidence.masses(features) @ self.evidence.weights + self.evidence.offset


def lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, *,
    iterations: int = 200, memory: int = 10, tolerance: float = 1e-6,
) -> np.ndarray:
    """Minimise a smooth function (value and gradient) from `x0`: L-BFGS with a backtracking
    (Armijo) line search (Nocedal & Wright, algorithm 7.4). Stops when the gradient's largest
    component is below `tolerance` or after `iterations` steps."""
    x = np.asarray(x0, np.float64).copy()
    value, gradient = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1 / y.s)
    for _ in range(iterations):
        if np.abs(gradient).max() < tolerance:
            break
        direction = -gradient
        alphas = []
        for s, y, rho in reversed(steps):
            alpha = rho * (s @ direction)
            direction = direction - alpha * y
            alphas.append(alpha)
        if steps:
            s, y, _ = steps[-1]
            direction = direction * ((s @ y) / (y @ y))
        for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
            direction = direction + s * (alpha - rho * (y @ direction))
        slope = gradient @ direction
        if slope >= 0:  # not a descent direction (numerical trouble): start again from steepest descent
            steps.clear()
            direction, slope = -gradient, -(gradient @ gradient)
        step = 1.0 if steps else min(1.0, 1.0 / max(np.abs(gradient).sum(), 1e-12))
        while True:
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step /= 2
        if new_value > value:
            break  # no step along the direction decreases it: as good as it gets
        s, y = candidate - x, new_gradient - gradient
        if s @ y > 1e-12:
            steps.append((s, y, 1.0 / (s @ y)))
            del steps[:-memory]
        improvement = value - new_value
        x, value, gradient = candidate, new_value, new_gradient
        if improvement < 1e-12 * max(1.0, abs(value)):
            break
    return x


def fit_softmax(
    features: np.ndarray, targets: np.ndarray, weights: np.ndarray, start: Head, *, l2: float,
    basis: np.ndarray | None = None,
) -> Head:
    """The head minimising sum_i weights_i * cross-entropy(targets_i, p_i) + l2 * |change|^2,
    where the kernel may change from `start`'s only within the columns of `basis` (orthonormal,
    (features, k); default: everywhere) and the bias freely; the temperature stays. `targets` are
    probabilities per row: one-hot for a label, a model's own probabilities for a row that
    should keep its decision.

    Why a basis: the change is fitted in k (~100) dimensions instead of 1280, so a fit costs
    a few milliseconds instead of seconds, and cross-validating every candidate stays cheap."""
    x_matrix = np.asarray(features, np.float64)
    basis = np.eye(x_matrix.shape[1]) if basis is None else basis
    projected = x_matrix @ basis
    n_dims, n_classes = basis.shape[1], start.kernel.shape[1]
    temperature = start.temperature
    logits0 = x_matrix @ start.kernel + start.bias
    offsets = start.offsets(x_matrix)  # the evidence's part: fixed, it moves with no weight fitted here
    w = np.asarray(weights, np.float64)[:, None]
    mass = targets.sum(axis=1, keepdims=True)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        change = theta[: n_dims * n_classes].reshape(n_dims, n_classes)
        logits = (logits0 + projected @ change + theta[n_dims * n_classes :]) / temperature + offsets
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = float(-(w * targets * log_p).sum() + l2 * (theta @ theta))
        # d(cross-entropy)/d(logits) = (p - target) / temperature, weighted per row.
        g_logits = w * (np.exp(log_p) * mass - targets) / temperature
        gradient = np.concatenate([(projected.T @ g_logits).ravel(), g_logits.sum(axis=0)]) + 2 * l2 * theta
        return value, gradient

    theta = lbfgs(objective, np.zeros(n_dims * n_classes + n_classes))
    change = theta[: n_dims * n_classes].reshape(n_dims, n_classes)
    return Head(start.kernel + basis @ change, start.bias + theta[n_dims * n_classes :], temperature, start.evidence)


def principal_basis(features: np.ndarray, k: int) -> np.ndarray:
    """The `k` directions along which `features` vary most (orthonormal columns): where a
    change of the head can matter for these photos."""
    x_matrix = np.asarray(features, np.float64)
    centred = x_matrix - x_matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[: min(k, len(vt))].T


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[np.asarray(labels, np.int64)]


def folds(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    """`k` (at most `n`) disjoint held-out index sets covering 0..n-1: each row held out once."""
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(min(k, n))] if n else []
