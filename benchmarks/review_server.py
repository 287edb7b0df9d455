"""How fast is `sorter review` on a large sorted folder, and how much memory does it hold?

    python benchmarks/review_server.py                       # 10,000 photos: first paint and corrections
    python benchmarks/review_server.py --photos 100000       # and the server's RSS at 100,000

Generates a flat folder of small JPEGs (see large_folder.py), sorts it through the real sort
path (`sort.sort_folder`, every file moved and journaled) with a stand-in classifier
that reads the colours (the bundled model would only make the set-up slower: the server
never runs a model), then starts `sorter review --no-browser` as a process of its own and
measures, with Debian's Chromium driven by Playwright:

- the page's first paint (first-contentful-paint) and the moment its cards are drawn (the
  page's `sorter-cards` mark), both from the start of navigation;
- a correction, click to file moved: a click on Dog in a card of cats/, until the photo is
  in dogs/ on disk (polled every 0.5 ms), for `--clicks` cards; the page's own measure of
  each request (fetch to answer, without Playwright's click); and the POST alone, no browser;
- the server's RSS (VmRSS and its peak, VmHWM) after the page, its thumbnails and the clicks.

Targets (issue 20): a correction <= 200 ms on 10,000 photos; first paint <= 2 s on 10,000;
RSS <= 300 MB on 100,000.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from arg_types import description, existing_dir, new_file, positive_int  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402, I001
from large_folder import make_folder  # noqa: E402
from running import as_script, p90, sorter_command  # noqa: E402

TARGETS = {"click_ms_max": 200.0, "first_paint_s_max": 2.0, "rss_mb_max": 300.0}


class ColourClassifier:
    """Cat for blue-ish pictures, dog for red-ish, neither for green-ish: confidences spread
    from 0.34 to 1 over random pictures, as a real folder's would."""

    image_size = 32
    class_names = ("cat", "dog", "other")

    def predict(self, batch):
        means = np.asarray(batch, np.float32).mean(axis=(1, 2))  # RGB
        logits = np.stack([means[:, 2], means[:, 0], means[:, 1] - 10.0], axis=1) / 12.0
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def spread(ms: list[float]) -> dict[str, object]:
    """Median, 90th percentile and the first and slowest of a series of timings (ms)."""
    ordered = sorted(ms)
    return {"median": round(statistics.median(ms), 1), "p90": round(p90(ms), 1),
            "first": round(ms[0], 1), "max": round(ordered[-1], 1), "n": len(ms)}


def memory_mb(pid: int) -> dict[str, float]:
    fields = dict(re.findall(r"(Vm\w+):\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()))
    return {"rss_mb": int(fields["VmRSS"]) / 1024, "peak_rss_mb": int(fields["VmHWM"]) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--photos", type=positive_int, default=10_000)
    parser.add_argument("--clicks", type=positive_int, default=20)
    parser.add_argument("--workdir", type=existing_dir, help="where to generate the folder (default: a temp dir)")
    parser.add_argument("--json", type=new_file, help="also write the results here")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from sorter.sorting import sort

    work = Path(tempfile.mkdtemp(prefix="sorter-review-", dir=args.workdir))
    folder = work / "photos"
    results: dict[str, object] = {"photos": args.photos}
    try:
        make_folder(folder, args.photos)
        started = time.perf_counter()
        summary = sort.sort_folder(folder, classifier=ColourClassifier())
        results["sorted"] = {"seconds": round(time.perf_counter() - started, 1), **summary.moved_to,
                             "left": sum(summary.reasons.values())}
        print(f"sorted {args.photos:,} photos in {results['sorted']['seconds']} s: {results['sorted']}", flush=True)

        started = time.perf_counter()
        server = subprocess.Popen([*sorter_command(), "review", str(folder), "--no-browser"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url = server.stdout.readline().strip()
        results["server_start_s"] = round(time.perf_counter() - started, 2)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.wait_for_function("() => performance.getEntriesByName('sorter-cards').length > 0", timeout=60_000)
                paint = page.evaluate("""() => ({
                    first_paint_s: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime / 1000,
                    cards_s: performance.getEntriesByName('sorter-cards')[0].startTime / 1000,
                    cards: document.querySelectorAll('figure').length,
                })""")
                page.wait_for_load_state("networkidle")
                results["page"] = {k: round(v, 3) if isinstance(v, float) else v for k, v in paint.items()}
                print(f"page: {results['page']}", flush=True)

                cats = page.locator("section", has=page.get_by_role("heading", name=re.compile("Moved to cats")))
                clicks = []
                for _ in range(args.clicks):
                    figure = cats.locator("figure").first
                    name = figure.locator(".name").text_content()
                    button = figure.get_by_role("button", name="Dog", exact=True)
                    target = folder / "dogs" / name
                    t0 = time.perf_counter()
                    button.click()
                    while not target.exists():
                        time.sleep(0.0005)
                    clicks.append((time.perf_counter() - t0) * 1000)
                    # The card has left cats/ on the page too, before the next one is clicked.
                    page.wait_for_function(f"() => !document.querySelector('figure[title^=\"cats/{name}\"]')")
                in_page = page.evaluate("() => performance.getEntriesByName('sorter-change').map((m) => m.duration)")
                browser.close()
            results["click_to_moved_ms"] = spread(clicks)
            results["in_page_request_ms"] = spread(in_page)
            print(f"click to moved: {results['click_to_moved_ms']}; the page's request to answer: "
                  f"{results['in_page_request_ms']}", flush=True)

            # The POST alone, without the browser: what the server spends on a correction.
            token = url.split("token=")[1]
            port = int(url.split(":")[2].split("/")[0])
            cookie = f"sorter-review-{port}={token}"
            # A change carries the page's own token (written into it), not the URL's.
            page_html = urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/", headers={"Cookie": cookie})).read().decode()
            page_token = html.unescape(re.search(r'<meta name="sorter-token" content="([^"]*)">', page_html)[1])
            groups = json.loads(urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/api/groups", headers={"Cookie": cookie})).read())
            cards = next(g for g in groups["groups"] if g["title"] == "cats/")["photos"][: args.clicks]
            generation = groups["generation"]
            posts = []
            for card in cards:
                body = {"id": card["id"], "to": "dog", "generation": generation}
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/move", data=json.dumps(body).encode(),
                    headers={"Cookie": cookie, "X-Sorter-Token": page_token, "Content-Type": "application/json"},
                )
                t0 = time.perf_counter()
                urllib.request.urlopen(request).read()
                posts.append((time.perf_counter() - t0) * 1000)
            results["post_ms"] = spread(posts)
            print(f"POST alone: {results['post_ms']}", flush=True)
            results["server_memory"] = {k: round(v, 1) for k, v in memory_mb(server.pid).items()}
            print(f"server memory: {results['server_memory']}", flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            results["server_exit"] = server.wait(timeout=30)
        results["targets"] = TARGETS
        print(json.dumps(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    as_script(main)
