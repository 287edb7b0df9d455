"""Re-export an existing MODEL.keras to its int8 MODEL.tflite, calibrated as `sorter train`
calibrates: `CALIBRATION_IMAGES` photos of the training split its metadata records (same
seed, share, limit and non-pet folders), decoded as `sort` decodes them.

Why: a model trained before the .tflite ended at the last convolution's map (`lite.export_features`)
gets the map, and with it the second look at the pet (`sorter.model.second_look`), without
training again. The head, its temperature and ImageNet's evidence read the pooled features,
which the new export computes as before (pooled in float instead of int8), so they stay; the
reference set (`make_reference`) is written again from the new features, since a personal model
and its checks belong to the exact network that computes them.

    python benchmarks/reexport.py sorter/models/default.keras ../shared/datasets/dogs-vs-cats-200 --other ...
    (the .tflite, then the reference set)
"""

from __future__ import annotations

from pathlib import Path

from sorter.errors import ModelError, UsageError


def reexport(model_path: Path, data_dir: Path, other: tuple[Path, ...] = ()) -> Path:
    """Write MODEL.tflite again from MODEL.keras; returns its path. `other`: the non-pet
    folders of its training (default: those the metadata names, when here)."""
    from sorter.model.lite import export_features, export_int8, has_features
    from sorter.model.network import import_keras, read_metadata, runtime_path
    from sorter.training.datasets import recorded_other_dirs, split
    from sorter.training.loop import calibration_images

    meta = read_metadata(model_path).get("training", {})
    if "seed" not in meta:
        raise UsageError(f"{model_path}: its metadata does not record its split, so it cannot be calibrated as trained")
    other = other or tuple(folder for folder in recorded_other_dirs(meta) if folder.is_dir())
    parts = split(data_dir, float(meta["validation_split"]), int(meta["seed"]), meta.get("limit"), other)
    keras = import_keras()
    try:
        model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
    except Exception as exc:
        raise ModelError(f"{model_path}: cannot load ({type(exc).__name__}: {str(exc)[:200]})") from exc
    size = int(model.input_shape[1])
    calibration = calibration_images(parts.train, size, int(meta["seed"]))
    export = export_features if has_features(model) else export_int8
    return export(model, calibration, runtime_path(model_path))
