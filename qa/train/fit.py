"""The fitting the training commands share: a listwise softmax ranker, logistic regression,
Platt scaling (L-BFGS from scipy, from zeros: deterministic), and the reliability table."""

from __future__ import annotations

import numpy as np

from qa import model as model_mod


def fit_listwise(groups: list, l2: float, width: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Weights (in raw feature units), bias and feature means of a linear scorer trained with
    a softmax over each group of rows: -log of the probability the group's positives get.

    Rows are sparse (the crossed features are mostly zero); features are scaled, not centred,
    as a softmax does not see a shift that every row of a group shares.
    """
    from scipy import sparse
    from scipy.optimize import minimize

    groups = [(x, y) for x, y in groups if y.any() and len(y) > 1]
    if not groups:  # nothing to learn from (a fold of a tiny data set): a model of zeros
        return np.zeros(width), 0.0, np.zeros(width)
    X = sparse.vstack([sparse.csr_matrix(x) for x, _ in groups], format="csr", dtype=np.float64)
    y = np.concatenate([y for _, y in groups]).astype(np.float64)
    seg = np.repeat(np.arange(len(groups)), [len(g[1]) for g in groups])
    n_groups = len(groups)
    mean = np.asarray(X.mean(axis=0)).ravel()
    sd = np.sqrt(np.maximum(np.asarray(X.multiply(X).mean(axis=0)).ravel() - mean ** 2, 0.0))
    sd[sd == 0] = 1.0
    Z = (X @ sparse.diags(1.0 / sd)).tocsr()
    ZT = Z.T.tocsr()

    def loss(w):
        s = Z @ w
        top = np.full(n_groups, -np.inf)
        np.maximum.at(top, seg, s)
        e = np.exp(s - top[seg])
        total = np.bincount(seg, e, n_groups)
        pos = np.bincount(seg, e * y, n_groups)
        value = -(np.log(pos) - np.log(total)).mean() + l2 * (w @ w) / 2 / n_groups
        grad = ZT @ (e / total[seg] - e * y / pos[seg]) / n_groups + l2 * w / n_groups
        return value, grad

    w = minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                 options={"maxiter": 1000}).x
    return w / sd, float(-(mean / sd) @ w), mean


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float, np.ndarray]:
    from scipy.optimize import minimize

    mean, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    Z = np.hstack([(X - mean) / sd, np.ones((len(X), 1))])

    def loss(w):
        z = Z @ w
        p = 1 / (1 + np.exp(-z))
        reg = w.copy()
        reg[-1] = 0.0
        value = np.logaddexp(0, -z)[y == 1].sum() + np.logaddexp(0, z)[y == 0].sum()
        return (value + l2 * (reg @ reg) / 2) / len(y), (Z.T @ (p - y) + l2 * reg) / len(y)

    w = minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B",
                 options={"maxiter": 1000}).x
    return w[:-1] / sd, float(w[-1] - (mean / sd) @ w[:-1]), mean


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(scale, shift) so that sigmoid(scale * score + shift) fits y (log loss)."""
    from scipy.optimize import minimize

    def loss(ab):
        z = ab[0] * scores + ab[1]
        p = 1 / (1 + np.exp(-z))
        value = (np.logaddexp(0, -z)[y == 1].sum() + np.logaddexp(0, z)[y == 0].sum()) / len(y)
        return value, np.array([((p - y) * scores).mean(), (p - y).mean()])

    a, b = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    return float(a), float(b)


def linear(names, fitted) -> model_mod.Linear:
    w, b, mean = fitted
    return model_mod.Linear(tuple(names), w, b, mean)


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[list[float]]:
    """[low, high, questions, mean predicted, observed] per probability bin."""
    out = []
    for lo in range(bins):
        a, b = lo / bins, (lo + 1) / bins
        k = (p >= a) & ((p < b) if lo < bins - 1 else (p <= b))
        if k.any():
            out.append([a, b, int(k.sum()), round(float(p[k].mean()), 3), round(float(y[k].mean()), 3)])
    return out
