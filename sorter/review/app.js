// The review page: draws the groups the server sends, moves a card when a photo is filed
// anew, and pages ("show 100 more"); its keys are app_keys.js's, and taking back its corrections
// app_take_back.js's. Every name is put in the page with textContent or as an attribute value,
// never as markup.
"use strict";

(() => {
  const token = document.querySelector('meta[name="sorter-token"]').content;
  const main = document.getElementById("groups");
  const chips = document.getElementById("chips");
  const status = document.getElementById("status");
  const learnButton = document.getElementById("learn");
  const report = document.getElementById("report");
  const BUTTONS = [["cat", "Cat"], ["dog", "Dog"], ["neither", "Neither"]];
  const SPECIES = [["cat", "cats/"], ["dog", "dogs/"]];
  const sections = new Map(); // group key -> {group, el, grid, count, chip, more, cursor}
  let pageSize = 100;
  let generation = ""; // the server's numbering of the photos this page shows
  let folder = "DIR"; // the folder reviewed, as a shell reads it back (the server's `typed`)
  let maxName = 64; // the longest pet's name the server takes (its "max_pet_name")
  let learning = false; // the server makes corrections wait while it learns: say so instead
  const petLists = {}; // species -> the <datalist> of its named pets, which a name's field offers
  let lastNamed = null; // [species, name] of the last photo named: a field starts with it (p, Enter names the next)
  // group key -> [species, name] last given in a "Might be" group: its next photo is likely hers
  // too, so her group's field starts with that, not the pet the sort guessed the user denied.
  const lastNamedIn = new Map();
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  function counted(n, what) {
    return `${n.toLocaleString()} ${what}${n === 1 ? "" : "s"}`;
  }

  // "12 photos and 3 videos" of `total` cards, `videos` of them videos; "12 photos" without any.
  function photosAndVideos(total, videos) {
    return `${counted(total - videos, "photo")}${videos ? ` and ${counted(videos, "video")}` : ""}`;
  }

  function say(text, bad = false) {
    status.textContent = text;
    status.className = bad ? "bad" : "";
  }

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Sorter-Token": token },
      body: JSON.stringify(body),
    };
    let response;
    try {
      response = await fetch(path, { credentials: "same-origin", ...init });
    } catch {  // no answer at all (an HTTP error is one): the server was stopped, Ctrl-C say
      throw Object.assign(new Error(`the review server has stopped: run \`sorter review ${folder}\` again to go on`),
        { stopped: true });
    }
    const data = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
    // `dropped`: a correction `u` can no longer take back from this page, which forgets it.
    if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { dropped: !!data.dropped });
    return data;
  }

  function showPets(pets) {
    for (const [species] of SPECIES) {
      if (!petLists[species]) {
        petLists[species] = el("datalist", { id: `pets-${species}` });
        document.body.append(petLists[species]);
      }
      petLists[species].replaceChildren(...(pets[species] || []).map((name) => el("option", { value: name })));
    }
  }

  // "cats/Luna" (or "cats/Luna/") -> ["cat", "Luna"]: the species and name of a named pet's folder.
  const petOf = (folder) => [folder.startsWith("dogs/") ? "dog" : "cat", folder.split("/")[1]];
  // Where a photo is, as a status line says it: "in cats/", or at the top of the folder reviewed.
  const place = (path) => (path.includes("/") ? `in ${path.slice(0, path.lastIndexOf("/") + 1)}` : "at the top of the folder");

  function card(photo) {
    const thumb = `/thumb/${photo.id}?v=${generation}`;
    const img = el("img", { src: thumb, alt: photo.name, loading: "lazy", decoding: "async" });
    const link = el("a", { href: `/view/${photo.id}?v=${generation}`, target: "_blank", rel: "noopener" }, img);
    // Not a link then: it opened the server's `{"error": "no preview"}`, as raw JSON.
    img.addEventListener("error", () => link.replaceWith(el("span", { class: "none", text: "no preview" })));
    let said;
    const mightBe = photo.might_be && petOf(photo.might_be); // [species, name]
    if (mightBe) {  // how close her head came, as the sort's own page says it
      said = el("b", { text: `${mightBe[1]}? ${photo.likeness_shown}` });  // cut as in Python, never rounded up
    } else if (photo.confidence !== null) {
      const label = photo.label === "other" ? "neither" : photo.label;
      said = el("b", { text: `${label} ${photo.shown}` });
    } else if (photo.reason === "not sorted yet") {  // catalog.UNSORTED: no sort judged this file; nothing is wrong with it
      said = el("b", { text: photo.reason });
    } else if (photo.label || photo.status === "neither") {  // put there (or back at the top) by hand: its folder's label
      said = el("b", { class: photo.label ? "" : "bad", text: photo.label || "no confidence" });
    } else {  // never judged: "unreadable" and why ("empty file"), as the sort's page and the terminal say it
      said = el("b", { class: "bad", text: photo.status });
      if (photo.reason) said.append(el("span", { class: "reason", text: photo.reason }));
    }
    // A button pressed says where it is; for one in place, that sorter (or you) said neither: not
    // of a file no one judged (unreadable, not sorted yet), which Cat or Dog still files by hand.
    const judged = photo.confidence !== null || photo.label || photo.choice || photo.status === "neither";
    const caption = el("figcaption", {}, said);
    if (photo.choice) {
      const you = photo.pet || (photo.choice === "other" ? "neither" : photo.choice);
      caption.append(el("b", { class: "you", text: `you: ${you}` }));
    }
    const looks = "not a cat or a dog: looks like ";  // sorter.files.planning.LOOKS_LIKE
    if (photo.reason && photo.reason.startsWith(looks)) {
      caption.append(el("span", { class: "looks", text: `looks like ${photo.reason.slice(looks.length)}` }));
    }
    // A name cut with "…" shows whole over the picture on the chosen card (`.whole`): a phone has
    // no tooltip, and a name unfolding in place would grow the row and move the card clicked next.
    // The folder it is in (page.folder_shown: "a/b/c/"; none at the top), cut from the left.
    if (photo.folder) caption.append(el("span", { class: "dir" }, el("bdi", { text: photo.folder })));
    caption.append(el("span", { class: "named" }, el("span", { class: "name", text: photo.name }),
      el("span", { class: "whole", "aria-hidden": "true", text: photo.folder + photo.name })));
    if (photo.with.length) {
      const kinds = [...new Set(photo.with.map((n) => (n.includes(".") ? n.slice(n.lastIndexOf(".") + 1).toUpperCase() : n)))];
      caption.append(el("span", { class: "with", text: `+ ${kinds.sort().join(" ")}` }));
    }
    if (photo.video) {  // its picture is its middle frame: say it is a video, and how long, as the sort's page does
      caption.append(el("span", { class: "video", text: `\u25b6 video${photo.length ? ` ${photo.length}` : ""}` }));  // wording.clock
    }
    const choices = el("div", { class: "choices", role: "group", "aria-label": `file ${photo.name} as` });
    for (const [choice, name] of BUTTONS) {
      const pressed = photo.current === choice && !photo.pet && (choice !== "neither" || !!judged); // in cats/Luna/: "Cat" takes it out
      const button = el("button", { type: "button", "aria-pressed": String(pressed), text: name });
      button.addEventListener("click", () => file(photo, choice));
      choices.append(button);
    }
    if (mightBe) {  // it stays where it is, and is never suggested for her again
      const not = el("button", { type: "button", class: "not", text: `Not ${mightBe[1]}` });
      not.addEventListener("click", () => file(photo, photo.current));
      choices.append(not);
    }
    // In a named pet's folder: its folder, pressed; else "Name…", which opens the name's field.
    const naming = el("div", { class: "naming" });
    const nameButton = el("button", {
      type: "button", class: "pet", "aria-pressed": String(!!photo.pet), title: "into a named pet's folder (key p)",
      text: photo.pet ? `${photo.current === "dog" ? "dogs" : "cats"}/${photo.pet}/` : "Name\u2026",
    });
    naming.append(nameButton);
    let title = photo.where;
    if (photo.origin) title += ` (was ${photo.origin})`;
    if (photo.reason) title += `: ${photo.reason}`;
    if (photo.with.length) title += ` (with ${photo.with.join(", ")})`;
    const figure = el("figure", { tabindex: "-1", title }, el("div", { class: "pic" }, link), caption, choices, naming);
    figure.photo = photo;
    nameButton.addEventListener("click", () => openNaming(figure));
    figure.dataset.id = photo.id;
    // As the server orders a group (catalog.Photo.sort_key): least confident first; a photo
    // that might be a named pet, the likeliest first.
    figure.dataset.order = JSON.stringify(photo.might_be ? [-photo.likeness, photo.id] : [photo.confidence || 0, photo.id]);
    return figure;
  }

  // The name's field in place of the "Name…" button: which species' folder and the name (the
  // pets already named offered as it is typed); Enter files the photo there, Escape closes it.
  function openNaming(figure) {
    const photo = figure.photo;
    const naming = figure.querySelector(".naming");
    const button = naming.querySelector("button.pet");
    const open = naming.querySelector("form");
    if (open) {
      open.querySelector("input").focus();
      return;
    }
    const species = el("select", { "aria-label": "species" },
      ...SPECIES.map(([value, folder]) => el("option", { value, text: folder })));
    // A photo that might be a named pet starts with the last name given in her group, or with
    // her until one was; else its own species (a photo left in place: the last one named) and
    // the last name given to one of that species: a dog named after a cat must not land in cats/Rex/.
    const [lastSpecies, lastName] = photo.might_be
      ? lastNamedIn.get(photo.group) || petOf(photo.might_be) : lastNamed || [];
    const own = photo.current === "cat" || photo.current === "dog" ? photo.current : null;
    species.value = photo.pet || !photo.might_be ? own || lastSpecies || "cat" : lastSpecies;
    const input = el("input", {
      type: "text", "aria-label": "pet's name", placeholder: "pet's name", maxlength: String(maxName),
      autocomplete: "off", spellcheck: "false", list: `pets-${species.value}`,
    });
    input.value = photo.pet || (lastSpecies === species.value && lastName) || "";
    species.addEventListener("change", () => input.setAttribute("list", `pets-${species.value}`));
    const form = el("form", { class: "name-form" }, input,
      el("div", {}, species, el("button", { type: "submit", text: "Name" })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!input.value.trim()) {
        say("type the pet's name", true);
        return;
      }
      lastNamed = [species.value, input.value.trim()];
      if (photo.might_be) lastNamedIn.set(photo.group, lastNamed);
      correct(photo, species.value, input.value);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      form.remove();
      button.hidden = false;
      figure.focus();
    });
    button.hidden = true;
    naming.append(form);
    input.focus();
    input.select(); // a name typed replaces the one it starts with
  }

  function before(a, b) {
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }

  // Into its group's grid at its place, least confident first, replacing an older card of it.
  function put(photo) {
    const old = document.querySelector(`figure[data-id="${photo.id}"]`);
    const figure = card(photo);
    const grid = sections.get(photo.group).grid;
    const order = JSON.parse(figure.dataset.order);
    const next = [...grid.children].find((f) => f !== old && before(order, JSON.parse(f.dataset.order)));
    grid.insertBefore(figure, next || null);
    if (old) old.remove();
    return figure;
  }

  function heading(group) {
    if (group.status === "moved") return ["Moved to ", el("span", { class: "where", text: group.shown })];
    if (group.status === "maybe") {
      // Photos a sort left unnamed that her head came close to (sorter.files.suggestions).
      const name = petOf(group.shown)[1]; // as shown: a new line in it as `\n`
      return ["Might be ", el("span", { class: "where", text: group.shown }),
        ` \u2014 p, Enter: it is ${name}; Not ${name}: it is not`];
    }
    if (group.status === "unsorted") return ["Not sorted yet"];
    return [`Left in place: ${group.status} `, el("span", { class: "why", text: group.shown })];
  }

  function section(group) {
    let s = sections.get(group.key);
    if (s) return s;
    const count = el("span", { class: "count" });
    const more = el("button", { type: "button", class: "more" });
    const grid = el("div", { class: "grid" });
    const node = el("section", { id: group.key, class: `group ${group.status}` },
      el("h2", {}, ...heading(group), " ", count), grid, more);
    const chip = el("a", { class: `chip ${group.status}`, href: `#${group.key}` });
    s = { group, el: node, grid, count, chip, more, cursor: null };
    more.addEventListener("click", () => showMore(s));
    // In rank order: groups that appear later (a first "you said neither") go after their peers.
    const after = [...sections.values()].filter((o) => o.group.rank > group.rank).sort((a, b) => a.group.rank - b.group.rank)[0];
    main.insertBefore(node, after ? after.el : null);
    chips.insertBefore(chip, after ? after.chip : null);
    sections.set(group.key, s);
    return s;
  }

  function counts(groups) {
    for (const group of groups) {
      const s = section(group);
      s.group = group;
      s.count.textContent = group.count.toLocaleString();
      const title = group.status === "moved" ? group.shown
        : group.status === "maybe" ? `might be ${group.shown}` : `${group.status}: ${group.shown}`;
      s.chip.replaceChildren(`${title} `, el("b", { text: group.count.toLocaleString() }));
      const hidden = group.count - s.grid.children.length;
      s.more.hidden = hidden <= 0 || s.cursor === "end";
      s.more.textContent = `show ${Math.min(pageSize, hidden).toLocaleString()} more (${hidden.toLocaleString()} not shown)`;
      s.el.hidden = group.count === 0 && s.grid.children.length === 0;
      s.chip.hidden = s.el.hidden;
    }
  }

  function loaded(s, photos) {
    for (const photo of photos) {
      if (!document.querySelector(`figure[data-id="${photo.id}"]`)) put(photo);
    }
    // The server pages from the last photo it sent (a cursor), whatever moved in meanwhile.
    s.cursor = photos.length < pageSize ? "end" : photos[photos.length - 1].id;
  }

  async function showMore(s) {
    try {
      const data = await api(`/api/photos?group=${encodeURIComponent(s.group.key)}&after=${s.cursor}`);
      loaded(s, data.photos);
      counts([s.group]);
    } catch (error) {
      say(error.message, true);
    }
  }

  function focusAfter(figure) {
    // The next card of the same group, so c, d, n can go down a group without arrows.
    return figure && (figure.nextElementSibling || figure.previousElementSibling);
  }

  // One change at a time, each sent once the one before is answered: a quick c then u must
  // not take the move back before its answer comes and files the card where it no longer is.
  // `body` may be a function (u's): read once the change before it is answered, which may add
  // to this page's corrections.
  let changing = Promise.resolve();
  function change(path, body, done, failed = () => undefined) {
    changing = changing.catch(() => undefined).then(() => send(path, body, done, failed));
    return changing;
  }

  async function send(path, asked, done, failed) {
    if (learning) {
      say("still learning from your corrections: correct more once it is done", true);
      return;
    }
    const body = typeof asked === "function" ? asked() : asked;
    const focused = document.activeElement && document.activeElement.closest("figure");
    const wasFocused = body && focused && Number(focused.dataset.id) === body.id ? focusAfter(focused) : null;
    const started = performance.now();
    try {
      const data = await api(path, body);
      performance.measure("sorter-change", { start: started }); // request to answer, for benchmarks/review_server.py
      for (const group of data.groups) section(group);
      showPets(data.pets);
      const figure = put(data.photo);
      counts(data.groups);
      say(done(data.photo, data));
      (wasFocused || figure).focus({ preventScroll: !!wasFocused });
      if (!wasFocused) figure.scrollIntoView({ block: "nearest" });
    } catch (error) {
      say(error.message, true);
      failed(error);
    }
  }

  // `notPet`: the answer "Not Luna", which moves nothing: the line says it was heard.
  // `at`: where this page shows the photo, which the server checks: another tab's correction
  // since moved it, and this card's button would undo it unseen.
  function correct(shown, choice, pet, notPet) {
    const body = { id: shown.id, to: choice, generation, at: shown.path, ...(pet === undefined ? {} : { pet }) };
    return change("/api/move", body, (photo, data) => {
      takeBacks.corrected(data.correction, photo);
      if (notPet) return `${photo.name} is not ${notPet}: noted; it stays ${place(photo.where)}`;
      if (data.correction === null) return `${photo.name} stays ${place(photo.where)}`;  // its place's button: nothing moved
      // Filed as neither, it went back to the top of the folder, where the sort found it.
      const where = `${photo.name} is ${photo.where.includes("/") ? "" : "back "}${place(photo.where)}`;
      if (!photo.pet) return where;
      // How many photos her folder holds, against what learn needs to know her: it learns from
      // photos, so her videos are counted apart.
      const group = data.groups.find((g) => g.key === photo.group);
      const photos = `${photosAndVideos(group.count, group.videos)} of ${photo.pet}`;
      return group.count - group.videos < data.min_pet_photos
        ? `${where}: ${photos}, name ${data.min_pet_photos} or more photos to learn ${photo.pet}`
        : `${where}: ${photos}; Learn from my corrections, and sorts put ${photo.pet}'s photos there`;
    });
  }

  // A button or key: where the photo already is, on a "Might be Luna" card, is Not Luna.
  function file(photo, choice) {
    const not = photo.might_be && !photo.pet && choice === photo.current ? petOf(photo.might_be)[1] : undefined;
    return correct(photo, choice, undefined, not);
  }

  // What learn learnt, in one line (the report says why): corrections it found unsafe to learn
  // are kept for the next learn, and a green "learnt" over them would say they were.
  function learnt(data) {
    if (!data.saved) return ["Nothing to learn: correct a photo first"];
    const and = (names) => names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names.join("");
    const n = data.corrections;
    const yours = `your ${n} correction${n === 1 ? "" : "s"}`;
    if (n > 0 && !data.corrections_learnt) {
      const notYet = `${yours} ${n === 1 ? "is" : "are"} not learnt yet (see the report)`;
      return data.pets.length ? [`${and(data.pets)} learnt; ${notYet}`] : [`nothing learnt: ${notYet}`, true];
    }
    const what = [...(n > 0 ? [yours] : []), ...data.pets];
    if (!what.length) return ["nothing new learnt (see the report)"];
    return [`learnt ${and(what)}: sort and watch now use your personal model`];
  }

  // `sorter learn` on the folder; its report goes in the panel as text, line by line.
  async function learn() {
    if (learning) return;
    isLearning();
    say("");
    report.hidden = true;
    try {
      showLearnt(await api("/api/learn", {}));
    } catch (error) {
      say(error.message, true);
    } finally {
      doneLearning();
    }
  }

  function showLearnt(data) {
    const lines = [...data.lines, ...data.unreadable.map((name) => `unreadable: ${name}`)];
    // A line of the table (its columns aligned with runs of spaces) stays one line: `.row`.
    report.querySelector("pre").replaceChildren(...lines.map((line) =>
      el("span", { class: / {2,}\S/.test(line.trim()) ? "row" : "", text: line })));
    report.hidden = false;
    say(...learnt(data));
  }

  function isLearning() {
    learning = true;
    takeBacks.whileLearning(true);
    learnButton.disabled = true;
    learnButton.textContent = "learning\u2026";
  }

  function doneLearning() {
    learning = false;
    takeBacks.whileLearning(false);
    learnButton.disabled = false;
    learnButton.textContent = "Learn from my corrections";
  }

  // A page loaded while another tab's learn ran: it asks every second, and once learn is done
  // says what it learnt (or why it failed), where it was stuck on "learning…" until a reload.
  async function awaitLearn() {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let data;
      try {
        data = await api("/api/learning");
      } catch (error) {
        say(error.message, true);
        if (error.stopped) return;
        continue;
      }
      if (data.learning) continue;
      doneLearning();
      if (data.learnt === null) say("");
      else if (data.learnt.error) say(data.learnt.error, true);
      else showLearnt(data.learnt);
      return;
    }
  }

  learnButton.addEventListener("click", learn);
  // app_take_back.js: this page's corrections, and the button and `u` that take back the last.
  const takeBacks = window.sorterTakeBack({ change, place });
  window.sorterKeys({ file, openNaming, takeBack: takeBacks.takeBack, say }); // app_keys.js: the keys do what the buttons do

  async function start() {
    try {
      const data = await api("/api/groups");
      pageSize = data.page;
      generation = data.generation;
      takeBacks.load(generation);
      maxName = data.max_pet_name;
      folder = data.typed;
      showPets(data.pets);
      document.getElementById("title").textContent = `Review ${data.folder}`;
      document.title = `sorter review: ${data.folder}`;
      document.getElementById("sub").textContent =
        `${photosAndVideos(data.total, data.videos)} · least confident first · click a photo to see it larger`;
      for (const group of data.groups) loaded(section(group), group.photos);
      counts(data.groups);
      if (data.learning) { // asked before this page loaded (a reload, another tab): its report goes there
        isLearning();
        say("sorter is learning from your corrections: this page says what it learnt once it is done");
        awaitLearn();
      }
      performance.mark("sorter-cards");
    } catch (error) {
      say(error.message, true);
    }
  }

  start();
})();
