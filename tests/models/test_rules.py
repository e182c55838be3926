from verbatim.models.rules import KeywordRules
from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag, Taxonomy


def test_whole_words_only_and_case_insensitive() -> None:
    rules = KeywordRules(DEFAULT_TAXONOMY)
    assert "Bug" in rules.match("It CRASHES every morning")
    assert "Bug" not in rules.match("debugging is on us")  # "bug" inside a word
    assert "Performance" in rules.match("way too slow.")
    assert "Performance" not in rules.match("slowly getting used to it")


def test_child_brings_parent_with_evidence() -> None:
    hits = KeywordRules(DEFAULT_TAXONOMY).match("the slack notifications are great")
    assert hits["Slack"].lower() == "slack"
    assert hits["Integrations"].lower() == "slack"


def test_parent_matches_on_its_own_keywords() -> None:
    hits = KeywordRules(DEFAULT_TAXONOMY).match("the integration with our ERP works")
    assert "Integrations" in hits
    assert not {"Slack", "Salesforce", "HubSpot", "Zendesk", "Intercom"} & set(hits)


def test_multi_word_phrase_spans_whitespace_and_longest_is_evidence() -> None:
    rules = KeywordRules(DEFAULT_TAXONOMY)
    assert rules.match("the help   article was stale")["Documentation"].lower().split() == ["help", "article"]
    assert rules.match("Tech Support was great")["Support"].lower() == "tech support"


def test_tag_without_keywords_never_matches() -> None:
    taxonomy = Taxonomy((Tag("Quiet"), Tag("Loud", keywords=("loud",))))
    assert KeywordRules(taxonomy).match("quiet and loud") == {"Loud": "loud"}
