"""Does the CNN beat the MLP? A paired exact comparison on the same held-out test images.

Both models are tested on the same images, so the fair comparison is paired: only the images
where exactly one model is right (the discordant pairs) carry evidence. With ``b`` images only the
CNN gets right and ``c`` only the MLP gets right, McNemar's exact test treats ``b`` as
Binomial(b + c, theta), theta = 1/2 when neither model is better. The interval of the accuracy
difference comes from the exact (Clopper-Pearson) interval of theta, conditional on b + c:

    difference = (b - c) / n,   interval = (b + c) / n * (2 * [theta_low, theta_high] - 1)

The CNN wins when the whole two-sided interval at the configured confidence lies above the
smallest gain that counts (``Budget.margin``, 0 by default). With margin 0 this is exactly
McNemar's one-sided exact test at level (1 - confidence) / 2, so the decision and the interval the
student reads never disagree. Standard library only (no SciPy in the grading image).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (stable for n in the tens of
    thousands)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    j = np.arange(k, n + 1, dtype=np.float64)
    terms = _log_choose(n, k) + j * math.log(p) + (n - j) * math.log1p(-p)
    top = float(terms.max())
    return min(1.0, math.exp(top) * float(np.exp(terms - top).sum()))


@functools.lru_cache(maxsize=16)
def _log_choose_all(n: int) -> np.ndarray:
    """log C(n, j) for j = 0..n (cached: the interval's bisection asks for the same n often)."""
    lg = np.array([math.lgamma(j + 1) for j in range(n + 1)])
    return lg[n] - lg - lg[::-1]


def _log_choose(n: int, k: int) -> np.ndarray:
    """log C(n, j) for j = k..n."""
    return _log_choose_all(n)[k:]


def _bisect(f, target: float, increasing: bool) -> float:
    """The p in [0, 1] where the monotone f(p) crosses ``target`` (60 halvings: exact to 1e-18)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact two-sided interval for a binomial proportion with ``k`` successes in ``n`` trials."""
    if n == 0:
        return 0.0, 1.0
    alpha = (1.0 - confidence) / 2
    low = 0.0 if k == 0 else _bisect(lambda p: binomial_upper_tail(k, n, p), alpha, True)
    # P(X <= k) = 1 - P(X >= k + 1), decreasing in p
    high = 1.0 if k == n else _bisect(lambda p: 1.0 - binomial_upper_tail(k + 1, n, p),
                                      alpha, False)
    return low, high


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of two models' predictions on the same ``n`` test images."""

    n: int
    cnn_correct: int
    mlp_correct: int
    cnn_only: int
    """images the CNN gets right and the MLP wrong (b)"""
    mlp_only: int
    """images the MLP gets right and the CNN wrong (c)"""
    confidence: float
    low: float
    """lower end of the interval of the accuracy difference (CNN - MLP, as a fraction)"""
    high: float
    """upper end of that interval"""
    p_value: float
    """McNemar's one-sided exact p-value: P(b or more CNN-only wins | b + c, no difference)"""

    @property
    def cnn_accuracy(self) -> float:
        return self.cnn_correct / self.n

    @property
    def mlp_accuracy(self) -> float:
        return self.mlp_correct / self.n

    @property
    def difference(self) -> float:
        return (self.cnn_only - self.mlp_only) / self.n

    def cnn_wins(self, margin: float = 0.0) -> bool:
        """Whether the whole interval lies above ``margin`` (0: above no difference)."""
        return self.low > margin

    def describe(self) -> str:
        """One sentence for the feedback: both accuracies, the difference and its interval."""
        return (f"CNN {self.cnn_accuracy:.1%}, MLP {self.mlp_accuracy:.1%} on the same "
                f"{self.n:,} held-out images: difference {self.difference * 100:+.1f} points, "
                f"{self.confidence:.0%} interval [{self.low * 100:+.1f}, {self.high * 100:+.1f}] "
                f"(paired exact McNemar test; {self.cnn_only} images only the CNN got right, "
                f"{self.mlp_only} only the MLP; one-sided p "
                f"{'< 1e-300' if self.p_value < 1e-300 else f'= {self.p_value:.2g}'})")


def compare(cnn_pred: np.ndarray, mlp_pred: np.ndarray, labels: np.ndarray,
            confidence: float) -> Comparison:
    """Pair the two models' predictions on the same test images and compare them."""
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence}")
    if not (cnn_pred.shape == mlp_pred.shape == labels.shape) or labels.ndim != 1 or not len(labels):
        raise ValueError("predictions and labels must be 1-D arrays of one nonzero length")
    cnn_ok, mlp_ok = cnn_pred == labels, mlp_pred == labels
    b, c = int((cnn_ok & ~mlp_ok).sum()), int((~cnn_ok & mlp_ok).sum())
    n, discordant = len(labels), b + c
    theta_low, theta_high = clopper_pearson(b, discordant, confidence)
    if discordant == 0:
        low = high = 0.0
    else:
        low = discordant / n * (2 * theta_low - 1)
        high = discordant / n * (2 * theta_high - 1)
    return Comparison(n=n, cnn_correct=int(cnn_ok.sum()), mlp_correct=int(mlp_ok.sum()),
                      cnn_only=b, mlp_only=c, confidence=confidence, low=low, high=high,
                      p_value=binomial_upper_tail(b, discordant, 0.5) if discordant else 1.0)
