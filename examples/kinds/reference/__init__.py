"""A learnware in the reference engine's format: learnware.yaml names this
file's Model class, which loads the scikit-learn model pickled beside it.

The dock runs it with Debian's /usr/bin/python3 through its shim
(share/python/learnware_shim.py), which supplies learnware.model.BaseModel;
the reference engine runs it with its own.  Unpickling needs the same
scikit-learn as train.py used: the host's python3-sklearn.
"""
import os
import pickle

import numpy as np
from learnware.model import BaseModel


class Model(BaseModel):
    def __init__(self):
        super().__init__(input_shape=(13,), output_shape=(1,))
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "model.pkl"), "rb") as f:
            self.model = pickle.load(f)

    def fit(self, X, y):
        self.model.fit(np.asarray(X, dtype=float), np.asarray(y, dtype=float))

    def finetune(self, X, y):
        pass

    def predict(self, X):
        return self.model.predict(np.asarray(X, dtype=float)).reshape(-1, 1)
