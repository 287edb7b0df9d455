// The review page's keys: the arrows choose a card, c / d / n file it, p names it, u takes back
// this page's last correction. What each does is the page's own, handed over by app.js (loaded after
// this script): this one reads the key and finds the card.
"use strict";

window.sorterKeys = ({ file, openNaming, takeBack, say }) => {
  const KEYS = { c: "cat", d: "dog", n: "neither" };

  // The card below or above: the nearest by horizontal position in the next row.
  function vertical(figure, down) {
    const here = figure.getBoundingClientRect();
    let best = null;
    let bestScore = Infinity;
    for (const other of document.querySelectorAll("figure")) {
      const r = other.getBoundingClientRect();
      const dy = down ? r.top - here.top : here.top - r.top;
      if (dy <= 4) continue;
      const score = dy * 10000 + Math.abs(r.left - here.left);
      if (score < bestScore) [best, bestScore] = [other, score];
    }
    return best;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, select")) return; // typing a pet's name
    const all = [...document.querySelectorAll("figure")];
    const figure = document.activeElement && document.activeElement.closest("figure");
    let target = null;
    if (event.key === "u") {
      takeBack();
    } else if (event.key === "p") {
      if (figure) openNaming(figure);
      else say("choose a photo first: arrow keys or a click", true);
    } else if (event.key in KEYS) {
      if (figure) file(figure.photo, KEYS[event.key]);
      else say("choose a photo first: arrow keys or a click", true);
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const i = all.indexOf(figure);
      target = figure ? all[i + (event.key === "ArrowRight" ? 1 : -1)] : all[0];
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      target = figure ? vertical(figure, event.key === "ArrowDown") : all[0];
    } else {
      return;
    }
    event.preventDefault();
    if (target) {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "nearest" });
    }
  });
};
