"""learning: `sorter learn`: the corrections a user made on disk (`corrections`), the examples
kept of them (`examples`), and the personal model (named pets included) fitted from them.

May import: `sorter.training` (the reference set), `sorter.model`, `sorter.media`,
`sorter.files`, `sorter.config`, `sorter.errors`.
"""
