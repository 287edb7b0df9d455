"""watching: `sorter watch`: filesystem events -> files that are complete and ready
(`watcher`), by the waits (a photo's for the companions it takes along too), batch limits and
file stamps of `settling`, fed by the events handler and the observer's start and stop
(`events`), through the observers watchdog offers
(`observers`), with the kernel asked whether a writer still holds a file (`leases`);
companions that arrive after their photo, joined to it (`sorting.latecomers`, which `sort`
uses too); files judged unreadable, said once they stop changing (`unreadable`); the watch
use-case (`watch`: its start, stop and summary), its batches, sorted one after another with
what it remembers between them (`batch_loop`), its hold on the folder's lock (`folder_hold`),
and the systemd unit `--print-systemd-unit` writes (`systemd`). What to do where sorter's own
files refuse it is said as every command says it (`files.refused`).

May import: `sorter.sorting` (each batch is sorted as `sorter sort` does), `sorter.model`,
`sorter.media`, `sorter.files`, `sorter.signals`, `sorter.config`, `sorter.errors`.
watchdog is imported only when a watch starts.
"""
