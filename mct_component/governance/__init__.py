"""A card as a governed record in MLMD: versions and their changes (`registry`), the
review lifecycle (`lifecycle`), the push gate (`gates`), CloudEvents about changes
(`events`) and what changed between two versions (`diff`).

It may import `assembly`, `mlmd`, `render`, `readers`, `content`, `card` and the leaf
modules; never `generator`, `dashboard`, `exports` or the API.
"""
