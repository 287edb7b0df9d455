"""files: the only code that changes a user's files, and the record that makes it reversible.

Owns the journal (`journal`; written by `journal_writer`, intents fsync'd before each move) and
recovery from it after a crash, the moves themselves (no-replace, across filesystems, a photo's
folder asked first whether it may leave: `leaving`; the mount table: `mounts`), the folder lock
(`lock`) and a running watcher's, which lists the runs of the watches killed before it
(`watching_note`), planning (pure: predictions ->
destinations), filing (a photo and its companions moved as one journaled group), companions,
undo (each chunk of moves put back: `putting_back`; why one could not be: `kept_back`; the
whereabouts of a file moved on since sorter put it, found in the folder's files keyed by identity
(`listing`), or said uncertain (`found`), photos of one size and time among them (`twins`),
photos whose names were swapped or shifted on a card, then one edited (`card_moves`), and of a folder it made:
`made_folders`; a photo copied by hand, the original gone: `copied`; what is left of
sorter once every move is undone: `tidying`), the verdicts a sort left on the photos it did not
move (`verdicts`; an older sorter's, before "seen" records: `before_seen`) and those put back
where it found them (`put_backs`), a file told by what it is (`identities`), whether the file at
a photo's place is still the one a sort judged there (`judged`: the review page and `learn` ask it
alike), the photos it noted a named pet might be
(`suggestions`), where a named pet's photos go once her folder is renamed (`pet_folders`), and
the checks on the folder a command is given, with what to do where sorter's own files refuse a
write (`refused`).

May import: `sorter.config`, `sorter.errors` and the standard library. Nothing else of
sorter: every use-case above builds on it.
"""
