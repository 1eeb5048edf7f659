#!/usr/bin/python3
"""Fit the reference-format example's model: scikit-learn's
HistGradientBoostingRegressor on boston.csv (13 features, target `target`),
pickled for __init__.py.  A seeded fifth of the rows is held out to report
an RMSE, as `learnware train` does; the model is then fit on every row.

    usage: /usr/bin/python3 train.py BOSTON.csv MODEL.pkl
"""
import pickle
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor


def model():
    return HistGradientBoostingRegressor(max_iter=200, learning_rate=0.1, random_state=0)


data, out = sys.argv[1], sys.argv[2]
d = np.genfromtxt(data, delimiter=",", skip_header=1)
X, y = d[:, :-1], d[:, -1]
test = np.random.default_rng(0).permutation(len(y))[: len(y) // 5]
train = np.setdiff1d(np.arange(len(y)), test)
held = model().fit(X[train], y[train])
rmse = float(np.sqrt(np.mean((held.predict(X[test]) - y[test]) ** 2)))
with open(out, "wb") as f:
    pickle.dump(model().fit(X, y), f)
print("%s: scikit-learn HistGradientBoostingRegressor on %s: %d rows x %d features"
      % (out, data, X.shape[0], X.shape[1]))
print("  rmse %.4f held out (%d rows)" % (rmse, len(test)))
