import pytest

from actions.intake.next_steps import RuleTableError, load_table, next_step


@pytest.mark.parametrize(
    ("severity", "days", "rule"),
    [
        ("severe", 0.1, "severe"),
        ("severe", 60, "severe"),
        ("mild", 30, "lasting-three-weeks"),
        ("moderate", 3, "moderate-several-days"),
        ("moderate", 1, "self-care"),
        ("mild", 7, "mild-over-a-week"),
        ("mild", 1, "self-care"),
        (None, None, "self-care"),
    ],
)
def test_first_matching_rule_wins(severity, days, rule):
    assert next_step(severity, days).rule_id == rule


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("rules: []", "non-empty"),
        ("rules:\n  - {id: a, level: x, advice: y, when: {colour: red}}", "unknown condition"),
        ("rules:\n  - {id: a, level: x, advice: y, when: {severity: awful}}", "severity must be"),
        ("rules:\n  - {id: a, level: x, advice: y, when: {min_days: 1}}", "must have `when: {}`"),
        ("rules:\n  - {id: a}", "needs id, level, advice"),
    ],
)
def test_malformed_table_names_file_and_rule(tmp_path, content, message):
    path = tmp_path / "next_steps.yml"
    path.write_text(content)
    with pytest.raises(RuleTableError, match=message) as error:
        load_table(path)
    assert str(path) in str(error.value)
