"""A plugin whose classifier raises while fitting: its cells fail, the sweep goes on."""

from sklearn.linear_model import LogisticRegression

from imbench.classifiers import Classifier, register_classifier


class Boom(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise ZeroDivisionError("boom: this plugin fails on purpose")


register_classifier(Classifier("boom", lambda seed: Boom(), ({},), description="always fails"))
