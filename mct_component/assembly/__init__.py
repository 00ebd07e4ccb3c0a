"""Building a card from its inputs: `assemble` (the card from what the readers return),
`chart_builders` (charts as data), `comparison` (against a baseline model),
`explanation` (Vertex explanation metadata) and `generate` (the one path from inputs to
a card's files, shared by the executor, the CLI and the API).

It may import `render`, `readers`, `content`, `card` and the leaf modules; never
`governance`, `generator` or anything that talks to MLMD.
"""
