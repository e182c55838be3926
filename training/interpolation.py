"""Weight averaging of a fine-tuned encoder with the original (WiSE-FT, Wortsman et al. 2022).

Fine-tuning all-MiniLM-L6-v2 on 1,600 SaaS comments makes it better at those and worse at
everything else: a linear probe on the champion's encoder learned 0.02-0.05 less from 8-64
examples per tag of SemEval restaurants and BANKING77 than one on the original. Averaging
the two sets of weights trades one against the other (default models trained with each
weight, seed test; new accounts: the quick path at 8/16/64 per tag, mean of 3 samplings,
`python -m verbatim.bench.few_shot`):

    kept   seed themes  seed sentiment  SemEval sentiment  SemEval heads      BANKING77 heads
    1.0    0.787        0.866           0.694              0.58 / 0.67 / 0.73  0.78 / 0.84 / 0.90
    0.75   0.777        0.857           0.689              0.61 / 0.69 / 0.75  0.80 / 0.86 / 0.91
    0.5    0.785        0.834           0.664              0.63 / 0.70 / 0.76  0.81 / 0.87 / 0.91
    probe on the original encoder, for reference:          0.61 / 0.69 / 0.76  0.82 / 0.87 / 0.91

(The 0.5 row's heads ran on the 1.0 model's encoder averaged after training.)

1.0 (no averaging) stays the default. With 0.75 the default model lost what its README
example shows: on "The Slack integration keeps crashing and support never answers" the
Support head gave 0.13 against a rule bar of 0.25 (0.02 with the heads refitted at C=10),
where the fine-tuned model tags Support. New accounts that need the general encoder are
better served by a quick path fitted on it than by a weaker default model; the option
stays for that measurement (`TrainingConfig.interpolation`).
"""

from __future__ import annotations

import torch

from verbatim.models.encoder import PreTrainedModel


def interpolate(encoder: PreTrainedModel, anchor: PreTrainedModel, weight: float) -> None:
    """In place: every parameter becomes weight * itself + (1 - weight) * the anchor's."""
    if not 0 <= weight <= 1:
        raise ValueError(f"interpolation weight must be in [0, 1], got {weight}")
    originals = dict(anchor.named_parameters())
    names = [name for name, _ in encoder.named_parameters()]
    if set(names) != set(originals):
        raise ValueError("cannot interpolate encoders of different architectures: "
                         f"{sorted(set(names) ^ set(originals))[:5]} differ")
    with torch.no_grad():
        for name, parameter in encoder.named_parameters():
            parameter.mul_(weight).add_(originals[name].to(parameter.dtype), alpha=1 - weight)
