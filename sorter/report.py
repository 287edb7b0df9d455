"""Pictures for people: training curves, confusion matrix, contact sheet of mistakes.

Drawn with OpenCV, which we already depend on, rather than adding a plotting library.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sorter.config import CLASS_NAMES

WHITE = (255, 255, 255)
GREY = (200, 200, 200)
BLACK = (30, 30, 30)
COLOURS = {"loss": (200, 90, 30), "val_loss": (60, 60, 220), "accuracy": (40, 160, 40), "val_accuracy": (20, 120, 230)}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img, text: str, org, scale=0.45, colour=BLACK, thickness=1) -> None:
    cv2.putText(img, text, org, FONT, scale, colour, thickness, cv2.LINE_AA)


def _panel(
    img, x0, y0, w, h, series: dict[str, list[float]], title: str, y_range, marker=None, legend_top=True
) -> None:
    lo, hi = y_range
    # Legend where the curves are not: top right for falling losses, bottom right for accuracy.
    legend_y = y0 + 18 if legend_top else y0 + h - 16 * len(series) - 4
    cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), GREY, 1)
    _text(img, title, (x0, y0 - 8), 0.55)
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        y = int(y0 + h - h * i / 4)
        cv2.line(img, (x0, y), (x0 + w, y), (235, 235, 235), 1)
        _text(img, f"{value:.2f}", (x0 - 42, y + 4), 0.38)
    n = max(len(v) for v in series.values()) if series else 0
    if marker is not None and n > 1:
        epoch, label = marker  # e.g. where a fine-tune started from its parent's epochs
        x = int(x0 + w * epoch / (n - 1))
        cv2.line(img, (x, y0), (x, y0 + h), GREY, 1)
        _text(img, label, (x + 4, y0 + h // 2), 0.38, (120, 120, 120))
    for legend_row, (name, values) in enumerate(series.items()):
        if not values:
            continue
        xs = [x0 + (w * i / max(1, n - 1) if n > 1 else w / 2) for i in range(len(values))]
        ys = [y0 + h - h * (min(max(v, lo), hi) - lo) / ((hi - lo) or 1) for v in values]
        points = np.array(list(zip(xs, ys, strict=True)), np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [points], False, COLOURS.get(name, BLACK), 2, cv2.LINE_AA)
        _text(img, name, (x0 + w - 110, legend_y + 16 * legend_row), 0.42, COLOURS.get(name, BLACK))
    _text(img, f"epochs: {n}", (x0 + w // 2 - 30, y0 + h + 20), 0.42)


def write_training_curves(
    history: list[dict[str, float]], path: Path, marker: tuple[int, str] | None = None
) -> Path:
    """Loss and accuracy per epoch, training and validation, as one PNG; `marker` draws a
    labelled line after that many epochs."""
    img = np.full((340, 900, 3), 255, np.uint8)
    keys = {k for row in history for k in row}
    losses = {k: [row.get(k, np.nan) for row in history] for k in ("loss", "val_loss") if k in keys}
    accs = {k: [row.get(k, np.nan) for row in history] for k in ("accuracy", "val_accuracy") if k in keys}
    top = max([v for s in losses.values() for v in s if v == v] or [1.0])
    _panel(img, 60, 40, 360, 250, losses, "loss", (0.0, max(0.1, top)), marker)
    low = min([v for s in accs.values() for v in s if v == v] or [0.5])
    _panel(img, 510, 40, 360, 250, accs, "accuracy", (min(0.5, low), 1.0), marker, legend_top=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


def write_confusion_matrix(confusion: dict[str, dict[str, int]], path: Path) -> Path:
    cell, margin = 150, 120
    n = len(CLASS_NAMES)
    img = np.full((margin + cell * n + 40, margin + cell * n + 20, 3), 255, np.uint8)
    total_per_row = {t: sum(confusion[t].values()) or 1 for t in CLASS_NAMES}
    for i, true in enumerate(CLASS_NAMES):
        _text(img, true, (20, margin + cell * i + cell // 2), 0.6)
        for j, predicted in enumerate(CLASS_NAMES):
            share = confusion[true][predicted] / total_per_row[true]
            shade = int(255 - 180 * share)
            x, y = margin + cell * j, margin + cell * i
            cv2.rectangle(img, (x, y), (x + cell, y + cell), (shade, shade, 255), -1)
            cv2.rectangle(img, (x, y), (x + cell, y + cell), GREY, 1)
            _text(img, str(confusion[true][predicted]), (x + 40, y + cell // 2), 0.8, BLACK, 2)
            _text(img, f"{share:.1%}", (x + 45, y + cell // 2 + 28), 0.5)
    for j, predicted in enumerate(CLASS_NAMES):
        _text(img, predicted, (margin + cell * j + 55, margin - 15), 0.6)
    _text(img, "predicted ->", (margin, 40), 0.55)
    _text(img, "true", (20, margin - 15), 0.55)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
    return path


def write_contact_sheet(mistakes, path: Path, thumb: int = 160, columns: int = 6, limit: int = 36) -> Path:
    """Thumbnails of the most confident mistakes, captioned true -> predicted (confidence)."""
    from sorter.errors import ImageError
    from sorter.images import load_image

    shown = list(mistakes)[:limit]
    rows = max(1, (len(shown) + columns - 1) // columns)
    caption = 34
    img = np.full((rows * (thumb + caption), columns * thumb, 3), 255, np.uint8)
    if not shown:
        _text(img, "no mistakes", (10, 30), 0.6)
    for k, mistake in enumerate(shown):
        r, c = divmod(k, columns)
        x, y = c * thumb, r * (thumb + caption)
        try:
            picture = load_image(Path(mistake.path), thumb)
            img[y : y + thumb, x : x + thumb] = cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)
        except ImageError:
            pass
        _text(img, f"{mistake.true_label} -> {mistake.predicted}", (x + 4, y + thumb + 14), 0.42)
        _text(img, f"{mistake.confidence:.1%}  {Path(mistake.path).name[:12]}", (x + 4, y + thumb + 29), 0.38)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
    return path


def write_evaluation_report(result, report_dir: Path, image_size: int) -> list[Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_confusion_matrix(result.confusion, report_dir / "confusion.png"),
        write_contact_sheet(result.mistakes, report_dir / "mistakes.png"),
    ]
