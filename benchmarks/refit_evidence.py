"""Fit a trained model's ImageNet evidence again (`sorter.model.evidence`), as `sorter train`
fits it, and record its validation as `sorter evaluate --split validation` measures it: a model
trained before the evidence took its present masses gets them without training again.

    python benchmarks/refit_evidence.py sorter/models/default.keras ../shared/datasets/dogs-vs-cats-200

The non-pet folders default to those the metadata names (give them with --other when they are
elsewhere); the hold-out, to the one it records. ~3 min on 2 busy cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from running import as_script  # noqa: E402  (after the path above)


def main() -> None:
    from make_reference_set import model_and_data

    args = model_and_data(__doc__).parse_args()
    from sorter.model.network import read_metadata, write_metadata
    from sorter.training.evaluate import evaluate
    from sorter.training.evidence import refit_evidence

    started = time.monotonic()
    evidence = refit_evidence(args.model, args.data, tuple(args.other))
    print(f"evidence fitted on {evidence['fitted_on']} in {time.monotonic() - started:.0f} s: "
          f"masses {evidence['masses']}", flush=True)
    result = evaluate(args.data, args.model, "validation", other=tuple(args.other), personal=False)
    metadata = read_metadata(args.model)
    metadata["validation"] = result.to_json()
    metadata["validation_accuracy"], metadata["validation_n"] = result.accuracy, result.n
    write_metadata(args.model, metadata)
    print(f"validation recorded: studio pets {result.pet_accuracy:.2%}, lost to neither {result.pets_lost_to_neither:.2%}; "
          "hold-out " + ", ".join(f"{k.kind} {k.rate:.1%}" for k in result.holdout))


if __name__ == "__main__":
    as_script(main)
