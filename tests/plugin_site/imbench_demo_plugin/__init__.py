"""A third-party plugin, as a package would ship one: importing it (config
``plugins = ["imbench_demo_plugin"]``) or its entry point (group
``imbench.plugins``, see the dist-info beside it) registers a strategy and a
classifier."""

from imblearn.over_sampling import SMOTE
from sklearn.linear_model import RidgeClassifier

from imbench.classifiers import Classifier, register_classifier
from imbench.strategies import Strategy, register_strategy


def register() -> None:
    register_strategy(
        Strategy(
            "halfsmote",
            make_sampler=lambda seed: SMOTE(sampling_strategy=0.5, random_state=seed),
            grid=({"sampler__k_neighbors": 3}, {"sampler__k_neighbors": 5}),
            min_minority_train=6,
            adds_minority_only=True,
            description="SMOTE up to half the majority, k tuned (demo plugin)",
        )
    )
    register_classifier(
        Classifier(
            "ridge_demo",
            lambda seed: RidgeClassifier(),
            ({"alpha": 0.1}, {"alpha": 10.0}),
            scores="decision_function",
            description="ridge classifier scored by its decision function (demo plugin)",
        )
    )


register()
