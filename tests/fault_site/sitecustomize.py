"""Loaded by every Python process of the fault tests (PYTHONPATH): classifiers that
kill their worker, do so once, or hang -- in the CLI process and in every pool
worker, as a plugin would be."""

import os
import signal
import time


def _register() -> None:
    from sklearn.linear_model import LogisticRegression

    from imbench.classifiers import Classifier, register_classifier

    class Killer(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            os.kill(os.getpid(), signal.SIGKILL)

    class Flaky(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            marker = os.environ["IMBENCH_TEST_MARKER"]
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
            return super().fit(X, y, sample_weight=sample_weight)

    class Sleeper(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            time.sleep(120)
            return super().fit(X, y, sample_weight=sample_weight)

    for name, cls in (("killer", Killer), ("flaky", Flaky), ("sleeper", Sleeper)):
        register_classifier(Classifier(name, lambda seed, cls=cls: cls(max_iter=200), ({},)))


if os.environ.get("IMBENCH_TEST_FAULTS"):
    _register()
