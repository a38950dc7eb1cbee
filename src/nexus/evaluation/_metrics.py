"""Classification metrics for three-class direction models, and honest baselines.

Classes are indices into :data:`nexus.datasets.CLASSES`: 0 DOWN, 1 NEUTRAL, 2 UP.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EPS",
    "classification_metrics",
    "conditional_baseline",
    "edge_significance",
    "majority_baseline",
    "paired_f1_significance",
    "skill_significance",
]

EPS = 1e-12
_DOWN, _NEUTRAL, _UP = 0, 1, 2


def _precision_recall(y: np.ndarray, pred: np.ndarray, cls: int) -> tuple[float, float, float]:
    tp = float(np.sum((pred == cls) & (y == cls)))
    predicted = float(np.sum(pred == cls))
    actual = float(np.sum(y == cls))
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def classification_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1, precision and recall for UP and DOWN, log-loss and Brier score.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        True classes (0 DOWN, 1 NEUTRAL, 2 UP).
    proba : ndarray of float, shape (n, 3)
        Predicted class probabilities; the predicted class is the arg-max.

    Returns
    -------
    dict
        ``n, accuracy, macro_f1`` (over the three classes), ``macro_f1_updown``
        (over UP and DOWN), ``precision_up, recall_up, precision_down,
        recall_down, log_loss, brier`` (mean squared distance to the one-hot
        truth, summed over classes).

    Examples
    --------
    >>> y = np.array([0, 2, 2, 1])
    >>> p = np.array([[.8, .1, .1], [.1, .1, .8], [.6, .2, .2], [.2, .6, .2]])
    >>> m = classification_metrics(y, p)
    >>> m["accuracy"], round(m["recall_up"], 2), round(m["precision_down"], 2)
    (0.75, 0.5, 0.5)
    """
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    pred = proba.argmax(axis=1)
    per = {c: _precision_recall(y, pred, c) for c in (_DOWN, _NEUTRAL, _UP)}
    onehot = np.eye(3)[y]
    picked = np.clip(proba[np.arange(len(y)), y], EPS, 1.0)
    return {
        "n": len(y),
        "accuracy": float(np.mean(pred == y)) if len(y) else float("nan"),
        "macro_f1": float(np.mean([per[c][2] for c in per])),
        "macro_f1_updown": float((per[_UP][2] + per[_DOWN][2]) / 2),
        "precision_up": per[_UP][0],
        "recall_up": per[_UP][1],
        "precision_down": per[_DOWN][0],
        "recall_down": per[_DOWN][1],
        "log_loss": float(-np.mean(np.log(picked))) if len(y) else float("nan"),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))) if len(y) else float("nan"),
    }


def majority_baseline(train_y: np.ndarray, n: int) -> np.ndarray:
    """Always the training set's class frequencies (its arg-max is the majority class).

    Returns
    -------
    ndarray, shape (n, 3)
    """
    freq = np.bincount(np.asarray(train_y, dtype=np.int64), minlength=3).astype(np.float64)
    freq = (freq + 1.0) / (freq.sum() + 3.0)  # Laplace: no class gets probability 0
    return np.tile(freq, (n, 1))


def conditional_baseline(train_y: np.ndarray, train_key: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Class frequencies on the training set conditional on a discrete key.

    With ``key = sign(last 1-bar return)`` this is the "sign of the last
    return" baseline made probabilistic: its arg-max is the class most often
    seen after that sign in training.

    Parameters
    ----------
    train_y : ndarray of int, shape (m,)
        Training classes.
    train_key, key : ndarray of int, shape (m,) and (n,)
        A small integer per sample (e.g. -1, 0, +1).

    Returns
    -------
    ndarray, shape (n, 3)
    """
    out = np.tile(majority_baseline(train_y, 1)[0], (len(key), 1))
    for value in np.unique(train_key):
        mask = train_key == value
        out[key == value] = majority_baseline(np.asarray(train_y)[mask], 1)[0]
    return out


def edge_significance(
    y: np.ndarray,
    model_proba: np.ndarray,
    baseline_proba: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    block: int = 1,
    n_boot: int = 2000,
    seed: int = 0,
) -> float:
    """One-sided p-value that the model is more accurate than the baseline by chance alone.

    A paired bootstrap of the accuracy difference. Samples that share a
    cluster (the same bar time: symbols move together) are resampled together,
    in blocks of ``block`` consecutive clusters (labels that overlap in time),
    so correlated samples are not counted as independent evidence.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        True classes.
    model_proba, baseline_proba : ndarray, shape (n, 3)
        The two predictions compared (their arg-max).
    clusters : ndarray, shape (n,), optional
        Cluster key per sample, sortable (e.g. the decision time); default one
        cluster per sample.
    block : int
        Consecutive clusters resampled together.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    float
        The share of resamples in which the model is not more accurate.
    """
    y = np.asarray(y)
    if len(y) == 0:
        return 1.0
    diff = (model_proba.argmax(axis=1) == y).astype(float) - (
        baseline_proba.argmax(axis=1) == y
    ).astype(float)
    inverse = _cluster_codes(clusters, len(y))
    per_cluster = np.stack([np.bincount(inverse, weights=diff), np.bincount(inverse)], axis=1)
    blocks, draw = _block_draws(per_cluster, block, n_boot, seed)
    drawn = blocks[draw].sum(axis=1)  # (n_boot, 2): summed differences and sample counts
    means = drawn[:, 0] / drawn[:, 1]
    return float((np.sum(means <= 0) + 1) / (n_boot + 1))


def skill_significance(
    y: np.ndarray,
    model_proba: np.ndarray,
    *,
    metric: str = "macro_f1",
    clusters: np.ndarray | None = None,
    block: int = 1,
) -> float:
    """One-sided p-value that the model's ``metric`` shows skill: a circular-shift permutation test.

    The null hypothesis is "the predictions carry no information about the
    labels": not "the model is no better than the majority class". The two
    differ for macro-F1, which any predictor that spreads its calls over the
    classes scores above the majority class (one class: F1 0 for the others)
    without knowing anything. Under the null, the model's calls, shifted in
    time against the labels, score as well as when aligned. Samples are put
    in time order (by ``clusters``) and the calls are rotated against the
    labels by every shift of at least ``block`` clusters; rotation keeps the
    autocorrelation of both series (regimes, overlapping labels), which a
    plain shuffle would destroy. For accuracy and F1 only the true positives
    change with the shift, and they are cross-correlations of class
    indicators: all shifts cost one FFT per class.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        True classes.
    model_proba : ndarray, shape (n, 3)
        Predicted probabilities (their arg-max is the call).
    metric : {"macro_f1", "accuracy"}
        Macro-F1 over the three classes, or accuracy.
    clusters : ndarray, shape (n,), optional
        Sortable time key per sample (e.g. the decision time); default the
        sample order, one cluster per sample.
    block : int
        Shifts closer than ``block`` clusters (times ``n / n_clusters``
        samples) to the alignment are left out: labels that overlap in time.

    Returns
    -------
    float
        ``(1 + #{shifts scoring >= the aligned score}) / (1 + #shifts)``; 1.0
        for fewer than 2 samples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 2000)
    >>> skill = np.eye(3)[np.where(rng.random(2000) < 0.6, y, rng.integers(0, 3, 2000))]
    >>> skill_significance(y, skill) < 0.001
    True
    >>> skill_significance(y, np.eye(3)[rng.integers(0, 3, 2000)]) > 0.01
    True
    """
    if metric not in ("macro_f1", "accuracy"):
        raise ValueError(f"metric {metric!r} is not 'macro_f1' or 'accuracy'")
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    if n < 2:
        return 1.0
    order = np.arange(n) if clusters is None else np.argsort(np.asarray(clusters), kind="stable")
    n_clusters = n if clusters is None else len(np.unique(np.asarray(clusters)))
    truth, pred = y[order], np.asarray(model_proba).argmax(axis=1)[order]
    scores = _score_per_shift(truth, pred, metric)
    gap = int(np.ceil(max(1, block) * n / n_clusters))
    shifts = scores[gap : n - gap + 1] if n - gap + 1 > gap else scores[:0]
    return float((1 + np.sum(shifts >= scores[0] - 1e-12)) / (1 + len(shifts)))


def _score_per_shift(truth: np.ndarray, pred: np.ndarray, metric: str) -> np.ndarray:
    """``metric(truth, roll(pred, k))`` for every k in 0..n-1, shape (n,)."""
    n = len(truth)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    per_class = []
    for cls in (_DOWN, _NEUTRAL, _UP):
        a = np.fft.rfft((truth == cls).astype(float), size)
        b = np.fft.rfft((pred == cls).astype(float), size)
        linear = np.fft.irfft(a * np.conj(b), size)  # sum_i t[i] p[i - k], non-circular parts
        tp = np.rint(linear[:n] + np.r_[0.0, linear[size - n + 1 :]])  # wrap: circular
        if metric == "accuracy":
            per_class.append(tp)
        else:
            total = float(np.sum(truth == cls) + np.sum(pred == cls))
            per_class.append(2 * tp / total if total else np.zeros(n))
    stacked = np.vstack(per_class)
    return stacked.sum(axis=0) / n if metric == "accuracy" else stacked.mean(axis=0)


def paired_f1_significance(
    y: np.ndarray,
    challenger_proba: np.ndarray,
    champion_proba: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    block: int = 1,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """The challenger's macro-F1 over UP and DOWN minus the champion's, and a one-sided p-value.

    A paired bootstrap: both models are scored on the same resampled samples,
    whole clusters (bar times: symbols move together) drawn in blocks of
    ``block`` consecutive clusters (labels that overlap in time). F1 is not a
    mean over samples, so each resample adds up the true-positive, predicted
    and actual counts of its clusters and computes F1 from them.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        True classes (0 DOWN, 1 NEUTRAL, 2 UP).
    challenger_proba, champion_proba : ndarray, shape (n, 3)
        The two models' probabilities on the same samples (their arg-max is the call).
    clusters : ndarray, shape (n,), optional
        Sortable time key per sample; default one cluster per sample.
    block : int
        Consecutive clusters resampled together.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    (float, float)
        The observed difference, and the share of resamples in which the
        challenger is not better (``(1 + #{diff <= 0}) / (1 + n_boot)``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice([0, 2], 3000)
    >>> good = np.eye(3)[np.where(rng.random(3000) < 0.3, y, rng.choice([0, 2], 3000))]
    >>> coin = np.eye(3)[rng.choice([0, 2], 3000)]
    >>> diff, p = paired_f1_significance(y, good, coin)
    >>> round(diff, 2), p < 0.001
    (0.15, True)
    """
    y = np.asarray(y, dtype=np.int64)
    if len(y) == 0:
        return 0.0, 1.0
    inverse = _cluster_codes(clusters, len(y))
    counts = np.stack(
        [
            _f1_counts(y, np.asarray(p).argmax(axis=1), inverse)
            for p in (challenger_proba, champion_proba)
        ],
        axis=1,
    )  # (clusters, 2 models, 2 classes, 3 counts)
    total = counts.sum(axis=0)
    observed = _updown_f1(total[0]) - _updown_f1(total[1])
    blocks, draw = _block_draws(counts, block, n_boot, seed)
    diffs = np.empty(n_boot)
    for i, rows in enumerate(draw):
        drawn = blocks[rows].sum(axis=0)
        diffs[i] = _updown_f1(drawn[0]) - _updown_f1(drawn[1])
    return float(observed), float((1 + np.sum(diffs <= 0)) / (1 + n_boot))


def _cluster_codes(clusters: np.ndarray | None, n: int) -> np.ndarray:
    """Each sample's cluster, as codes in sorted cluster order (one cluster per sample if None)."""
    if clusters is None:
        return np.arange(n)
    return np.unique(np.asarray(clusters), return_inverse=True)[1]


def _block_draws(
    per_cluster: np.ndarray, block: int, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``per_cluster`` rows over blocks of ``block`` consecutive clusters, and
    ``n_boot`` draws (with replacement) of as many blocks, shape (n_boot, n_blocks)."""
    block = max(1, block)
    n_blocks = -(-len(per_cluster) // block)
    blocks = np.add.reduceat(per_cluster, np.arange(n_blocks) * block, axis=0)
    draw = np.random.default_rng(seed).integers(0, n_blocks, size=(n_boot, n_blocks))
    return blocks, draw


def _f1_counts(y: np.ndarray, pred: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Per cluster, for DOWN and UP: true positives, predicted, actual; shape (k, 2, 3)."""
    k = int(inverse.max()) + 1
    out = np.zeros((k, 2, 3))
    for j, cls in enumerate((_DOWN, _UP)):
        for m, hit in enumerate(((pred == cls) & (y == cls), pred == cls, y == cls)):
            out[:, j, m] = np.bincount(inverse, weights=hit.astype(float), minlength=k)
    return out


def _updown_f1(counts: np.ndarray) -> float:
    """Mean F1 of DOWN and UP from summed counts (2, 3): ``2 tp / (predicted + actual)``."""
    total = counts[:, 1] + counts[:, 2]
    f1 = np.divide(2 * counts[:, 0], total, out=np.zeros(2), where=total > 0)
    return float(f1.mean())
