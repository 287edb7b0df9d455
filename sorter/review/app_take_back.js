// This page's own corrections, and taking back the last of them: `u` (app_keys.js) and the
// "Undo last correction" button do the same, `takeBack`. The button is enabled only while the page
// has a correction to take back, its title says which, or why not. What a correction sends and
// how the card moves is app.js's, handed over (`change`, `place`); app.js is loaded after this.
"use strict";

window.sorterTakeBack = ({ change, place }) => {
  const button = document.getElementById("take-back");
  // This page's own corrections, the last last ({correction, id, path, generation}): `u` takes
  // back the last of them, never the server's last, which may be another tab's this page never
  // showed, or a closed browser's. Kept in the tab's sessionStorage, so a reload keeps them and a
  // new tab starts with none; those of another listing (its photos numbered otherwise) are dropped.
  const MINE = "sorter-review-mine";
  let mine = [];
  let generation = "";
  let learning = false;

  function shown() {
    const last = mine.at(-1);
    button.disabled = learning || !last;
    button.title = learning ? "still learning from your corrections: take back once it is done"
      : last ? `take back this page's last correction, ${last.path} (key u)`
        : "nothing to take back on this page: no correction made here yet";
  }

  function remember(list) {
    mine = list;
    shown();
    try {
      sessionStorage.setItem(MINE, JSON.stringify(mine));
    } catch { /* storage refused (a private window): kept until a reload */ }
  }

  // The listing's numbering, once the page has it: this tab's corrections of that listing come back.
  function load(numbering) {
    generation = numbering;
    try {
      remember(JSON.parse(sessionStorage.getItem(MINE) || "[]").filter((c) => c.generation === generation));
    } catch { shown(); /* none kept, or storage refused */ }
  }

  // A correction the server numbered (`null`: it moved nothing, "Not Luna" on a photo named since).
  function corrected(correction, photo) {
    if (correction !== null) remember([...mine, { correction, id: photo.id, path: photo.path, generation }]);
  }

  // This page's last correction, where the page shows its photo now (its card; a reload may
  // not show it yet: where the correction put it); a page that made none sends none, and the
  // server says so. Answered or dropped, the page forgets it: the next u is about the one before.
  function takeBack() {
    let last;
    const forget = () => remember(mine.filter((c) => c !== last));
    return change("/api/undo", () => {
      last = mine.at(-1);
      if (!last) return {};
      const card = document.querySelector(`figure[data-id="${last.id}"]`);
      return { correction: last.correction, at: card ? card.photo.path : last.path, generation };
    }, (photo, data) => {
      forget();
      // Where `u` found the photo, moved on since the click, as `sorter undo` says it.
      return [`took back: ${photo.name} is ${place(photo.where)} again`,
        ...data.found.map((line) => `found: ${line}`)].join("\n");
    }, (error) => {
      if (error.dropped) forget();
    });
  }

  // Corrections wait while learn runs (the server refuses them): the button says so meanwhile.
  function whileLearning(on) {
    learning = on;
    shown();
  }

  button.addEventListener("click", () => takeBack());
  shown();
  return { load, corrected, takeBack, whileLearning };
};
