"""scikit-learn's estimator checks over imbench's own estimators, so they clone, refuse
bad input, and report their fitted state like any estimator a user would plug in."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from imbench.classifiers import AnomalyScorer, ScalePosWeight, installed
from imbench.strategies import SampleWeighted

ESTIMATORS = [
    AnomalyScorer(n_estimators=10, random_state=0),
    SampleWeighted(LogisticRegression()),
    SampleWeighted(LogisticRegression(), class_weight={0: 1.0, 1: 5.0}),
]
if installed("xgboost"):
    from xgboost import XGBClassifier

    ESTIMATORS.append(ScalePosWeight(XGBClassifier(n_estimators=5, n_jobs=1, verbosity=0)))


def expected_failures(estimator):
    """Declared, with why; every other check must pass."""
    if isinstance(estimator, AnomalyScorer):
        return {
            # an isolation forest subsamples rows: a weight of 2 is not a repeated row
            "check_sample_weight_equivalence_on_dense_data": "IsolationForest subsamples",
        }
    if isinstance(estimator, SampleWeighted) and isinstance(estimator.class_weight, dict):
        why = "explicit costs name imbench's labels 0 and 1; these checks use other labels"
        return dict.fromkeys(
            ["check_estimators_dtypes", "check_classifier_data_not_an_array",
             "check_classifiers_classes", "check_fit2d_1feature"], why,
        )  # fmt: skip
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
