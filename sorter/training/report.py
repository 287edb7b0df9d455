"""Pictures for people: training curves, confusion matrix, contact sheet of mistakes.

Drawn with OpenCV, which we already depend on, rather than adding a plotting library.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sorter.config import AS_BYTES, CONTROLS_SHOWN, OTHER
from sorter.training.publish import written_whole
from sorter.training.report_folder import marked_png

WHITE = (255, 255, 255)
GREY = (200, 200, 200)
BLACK = (30, 30, 30)
COLOURS = {"loss": (200, 90, 30), "val_loss": (60, 60, 220), "accuracy": (40, 160, 40), "val_accuracy": (20, 120, 230)}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def write_png(path: Path, img: np.ndarray, marked: bool = False) -> Path:
    """`img` (BGR) as a PNG at `path`, encoded in memory and written by Python: OpenCV's
    `imwrite` takes a C string, and a path that is not UTF-8 (`q/\\xff/m.keras`, kept by Python
    as a surrogate escape) crashed the process (a segmentation fault, no message, the half-saved
    model left behind). Written under a temporary name and renamed: a full disk leaves no half a PNG.
    `marked`: as evaluate's report (`report_folder.marked_png`), which the next --report replaces."""
    ok, encoded = cv2.imencode(".png", img)
    if not ok:
        raise ValueError(f"could not encode {path.name} as PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as temporary:
        temporary.write_bytes(marked_png(encoded.tobytes()) if marked else encoded.tobytes())
    return path


def _text(img, text: str, org, scale=0.45, colour=BLACK, thickness=1) -> None:
    """`text` drawn as ASCII, escaped as the terminal shows a name (`cli.console.printable`:
    `ev\\x1bil`, a byte that is not UTF-8 as `\\xe9`), the rest backslash-escaped: names are data,
    and `putText` takes a C string, which a name that is not UTF-8 (kept by Python as a
    surrogate escape) crashed (a segmentation fault, no message)."""
    drawn = text.translate(CONTROLS_SHOWN).translate(AS_BYTES).encode("ascii", "backslashreplace").decode("ascii")
    cv2.putText(img, drawn, org, FONT, scale, colour, thickness, cv2.LINE_AA)


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
    return write_png(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


def write_confusion_matrix(confusion: dict[str, dict[str, int]], path: Path, notes: list[str] = (),
                           marked: bool = False) -> Path:
    """confusion[true][predicted] as shaded cells (rows: true classes, columns: predicted),
    and `notes` (one line each) below it."""
    cell, margin, line = 150, 120, 26
    rows = list(confusion)
    columns = list(next(iter(confusion.values()), {}))
    height = margin + cell * len(rows) + 40 + line * len(notes)
    img = np.full((height, margin + cell * len(columns) + 20, 3), 255, np.uint8)
    total_per_row = {t: sum(confusion[t].values()) or 1 for t in rows}
    for i, true in enumerate(rows):
        _text(img, true, (20, margin + cell * i + cell // 2), 0.6)
        for j, predicted in enumerate(columns):
            share = confusion[true][predicted] / total_per_row[true]
            shade = int(255 - 180 * share)
            x, y = margin + cell * j, margin + cell * i
            cv2.rectangle(img, (x, y), (x + cell, y + cell), (shade, shade, 255), -1)
            cv2.rectangle(img, (x, y), (x + cell, y + cell), GREY, 1)
            _text(img, str(confusion[true][predicted]), (x + 40, y + cell // 2), 0.8, BLACK, 2)
            _text(img, f"{share:.1%}", (x + 45, y + cell // 2 + 28), 0.5)
    for j, predicted in enumerate(columns):
        _text(img, predicted, (margin + cell * j + 55, margin - 15), 0.6)
    _text(img, "predicted ->", (margin, 40), 0.55)
    _text(img, "true", (20, margin - 15), 0.55)
    for k, note in enumerate(notes):
        _text(img, note, (20, margin + cell * len(rows) + 30 + line * k), 0.55)
    return write_png(path, img, marked)


#: Each kind of mistake (evaluation.Mistake.kind) gets its own block on the contact sheet.
MISTAKE_TITLES = {
    "swapped": "cats and dogs swapped",
    "pet_called_neither": "pets called neither (left in place)",
    "non_pet_filed": "non-pets filed as pets",
}


def write_contact_sheet(
    mistakes, path: Path, kinds=("swapped",), thumb: int = 160, columns: int = 6, limit: int = 36,
    marked: bool = False,
) -> Path:
    """Thumbnails of the most confident mistakes, captioned true -> predicted (confidence),
    one block per kind of mistake, so that many confident mistakes of one kind never hide
    the others: each kind gets an equal share of `limit`."""
    from sorter.errors import ImageError
    from sorter.media.decoder_output import quietly
    from sorter.media.images import load_image

    header = 30
    caption = 34
    share = max(columns, limit // len(kinds) // columns * columns)
    blocks = [(kind, [m for m in mistakes if m.kind == kind]) for kind in kinds]
    heights = [header + (thumb + caption) * -(-min(len(found), share) // columns) for _, found in blocks]
    img = np.full((max(sum(heights), header), columns * thumb, 3), 255, np.uint8)
    top = 0
    for (kind, found), height in zip(blocks, heights, strict=True):
        title = f"{MISTAKE_TITLES[kind]}: {len(found) or 'none'}"
        if len(found) > share:
            title += f" (the {share} most confident)"
        _text(img, title, (6, top + 20), 0.55, BLACK, 1)
        for k, mistake in enumerate(found[:share]):
            r, c = divmod(k, columns)
            x, y = c * thumb, top + header + r * (thumb + caption)
            try:
                picture = quietly(load_image, Path(mistake.path), thumb)
                img[y : y + thumb, x : x + thumb] = cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)
            except ImageError:
                pass
            _text(img, f"{mistake.true_label} -> {mistake.predicted}", (x + 4, y + thumb + 14), 0.42)
            _text(img, f"{mistake.confidence:.1%}  {Path(mistake.path).name[:12]}", (x + 4, y + thumb + 29), 0.38)
        top += height
    return write_png(path, img, marked)


def write_evaluation_report(result, report_dir: Path, image_size: int) -> list[Path]:
    """confusion.png (with pet accuracy, non-pets left out and pets lost to neither under it)
    and mistakes.png, marked as evaluate's (`report_folder`); a three-way evaluation (an "other"
    column) shows all three kinds of mistake, even those it has none of."""
    report_dir.mkdir(parents=True, exist_ok=True)
    three_way = any(OTHER in row for row in result.confusion.values())
    kinds = tuple(MISTAKE_TITLES) if three_way else ("swapped",)
    return [
        write_confusion_matrix(result.confusion, report_dir / "confusion.png",
                               result.rate_lines() + result.calibration_lines() + result.kind_lines(), marked=True),
        write_contact_sheet(result.mistakes, report_dir / "mistakes.png", kinds, marked=True),
    ]
