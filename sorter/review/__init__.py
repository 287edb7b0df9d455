"""review: the static review page a sort writes (`page`) and `sorter review`, the local
review server (`server`: HTTP and its security; `app`: what it answers, and the checks made
first; `session`: corrections; `folder_times`: the folders listed, by time, that tell a file
moved by hand; `destinations`: the folder a correction files a photo in, and its names there;
`locking`: the folder's lock a click takes; `pet_names`: the pet's name a
click sends; `pet_dirs`: the pets' folders as listed, which tell one renamed by hand; `cards`:
a photo as the page draws it; `catalog`: the photos and their groups; `loading`: the catalog read from the
folder, the journal and the personal model; `posters`: what it shows of a video;
`app.html`/`app.js`/`app_keys.js`/`app_take_back.js`/`app.css`: its page).

May import: `sorter.learning` (the page's "Learn from my corrections" button),
`sorter.model`, `sorter.media`, `sorter.files`, `sorter.signals`, `sorter.config`,
`sorter.errors`.
"""
