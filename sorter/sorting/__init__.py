"""sorting: `sorter sort`: classify, plan and move a folder's photos a batch at a time.

Owns what a sort says of each file (`results`) and the sort use-case (`sort`: `sort_folder`;
`batches`: the `Sorter` that classifies, plans and files a batch, which `watch` reuses for every
batch; `named_again`: `--name-pets`, the photos already in cats/ and dogs/ looked at again for
the user's named pets; `suggesting`: what the named pets came close to, noted for the review
page; `latecomers`: where the photos sorted before went, for their companions copied in after
them, which `watch` joins to them too; `late_companions`: those a sort meets, joined; `alone`:
the videos judged on their own, and those left in place, beside a photo of their stem or before
one came, which no later photo takes along; `foreseen`: a dry run's photos a sort would be refused,
said "failed" as the sort would say them).

May import: `sorter.review` (the page a sort writes), `sorter.model`, `sorter.media`,
`sorter.files`, `sorter.config`, `sorter.errors`.
"""
