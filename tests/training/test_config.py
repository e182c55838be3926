import pytest

from verbatim.training.config import TrainingConfig


@pytest.mark.parametrize("overrides, field", [
    ({"epochs": 0}, "epochs"), ({"encoder_lr": -1.0}, "encoder_lr"), ({"dropout": 1.0}, "dropout"),
    ({"max_length": 1024}, "max_length"), ({"threads": -2}, "threads"),
    ({"rehearsal_share": 0.0}, "rehearsal_share"), ({"rehearsal_share": 1.5}, "rehearsal_share"),
])
def test_invalid_settings_name_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"TrainingConfig.{field}"):
        TrainingConfig(**overrides)


def test_overrides_ignore_none_and_reject_unknown() -> None:
    assert TrainingConfig.from_overrides(epochs=None, seed=7) == TrainingConfig(seed=7)
    with pytest.raises(ValueError, match="unknown training settings \\['epoch'\\]"):
        TrainingConfig.from_overrides(epoch=3)
