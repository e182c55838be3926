from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.training.corpus import Record
from verbatim.training.evaluate import keyword_baseline, sentiment_report, theme_report


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
