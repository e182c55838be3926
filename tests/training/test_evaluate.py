from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.models.types import SENTIMENT_LABELS, Prediction, Sentiment, TagPrediction, TagSource
from verbatim.training.corpus import Record
from verbatim.training.evaluate import keyword_baseline, review_report, sentiment_report, theme_report


def test_theme_report_micro_and_macro() -> None:
    gold = [{"Bug"}, {"Bug", "Price"}, set()]
    predicted = [{"Bug"}, {"Price"}, {"Price"}]
    report = theme_report(gold, predicted, ["Bug", "Price", "Support"])
    assert report["per_tag"]["Bug"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert report["per_tag"]["Price"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert report["micro_f1"] == round(2 * 2 / (2 * 2 + 1 + 1), 4)
    assert report["macro_f1"] == 0.6667  # Support never occurs and is left out of the mean


def test_sentiment_report_confusion() -> None:
    report = sentiment_report(["negative", "positive", "neutral", None], ["negative", "neutral", "neutral", "positive"])
    assert report["accuracy"] == round(2 / 3, 4)
    assert report["confusion"]["positive"]["neutral"] == 1
    assert report["count"] == 3


def test_keyword_baseline_uses_rules_and_parents() -> None:
    records = [Record(id="1", text="slack keeps crashing", tags=frozenset({"Slack", "Integrations", "Bug"}),
                      sentiment="negative")]
    report = keyword_baseline(records, DEFAULT_TAXONOMY)
    assert report["micro_f1"] == 1.0


def _prediction(tags: set[str], sentiment: str, flagged: bool) -> Prediction:
    probabilities = [0.8 if label == sentiment else 0.1 for label in SENTIMENT_LABELS]
    return Prediction(tags=tuple(TagPrediction(t, None, 0.9, TagSource.MODEL) for t in sorted(tags)),
                      sentiment=Sentiment.from_probabilities(probabilities), needs_review=flagged)


def test_review_report_compares_error_rates_of_flagged_and_unflagged_comments() -> None:
    records = [Record(str(i), "x", frozenset({"Bug"}), "negative") for i in range(8)]
    predictions = [
        _prediction({"Bug"}, "positive", True),   # flagged, wrong sentiment
        _prediction({"Price"}, "negative", True),  # flagged, wrong tags
        _prediction({"Bug"}, "negative", True),    # flagged, right
        _prediction({"Bug"}, "negative", False),
        _prediction({"Bug"}, "negative", False),
        _prediction({"Bug"}, "negative", False),
        _prediction({"Bug", "Price"}, "negative", False),  # unflagged, wrong tags
        _prediction({"Bug"}, "negative", False),
    ]
    report = review_report(records, predictions)
    # 3 wrong answers, 3 flagged: a perfect flagger would leave none unflagged, so no ceiling
    assert report == {"flagged_share": 0.375, "error_rate_flagged": round(2 / 3, 4), "error_rate_unflagged": 0.2,
                      "error_ratio": round((2 / 3) / 0.2, 2), "error_ratio_ceiling": None}


def test_the_ceiling_is_the_ratio_of_a_flagger_that_flags_wrong_answers_first() -> None:
    # 10 comments, 4 wrong (the first four), 2 flagged (one wrong, one right)
    records = [Record(str(i), "x", frozenset({"Bug"}), "negative") for i in range(10)]
    predictions = [_prediction({"Price"} if i < 4 else {"Bug"}, "negative", i in (0, 9)) for i in range(10)]
    report = review_report(records, predictions)
    assert report["error_ratio"] == round((1 / 2) / (3 / 8), 2)
    # flagging 2 wrong answers instead: 2/2 wrong flagged, 2/8 unflagged
    assert report["error_ratio_ceiling"] == 4.0
    # more flagged than wrong: every wrong answer is caught, nothing is left to compare with
    flagged_all_wrong = [_prediction({"Price"} if i < 4 else {"Bug"}, "negative", i < 6) for i in range(10)]
    assert review_report(records, flagged_all_wrong)["error_ratio_ceiling"] is None


def test_review_report_without_any_flag_has_no_ratio() -> None:
    records = [Record("1", "x", frozenset(), None)]
    assert review_report(records, [_prediction(set(), "neutral", False)])["error_ratio"] is None
