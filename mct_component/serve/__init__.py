"""The review console: `mct-card serve`, a web app over the live MLMD store.

Reviewers read every model (`state`: the dashboard's rows, read live), each card
version, diffs and lineage, and act on cards (`actions`: submit, approve, reject, edit,
clone) through the same `governance.registry` code as the CLI, signed with the
console's key for the person the organisation's login names (`identity`), under the
review policy. `app` is the Starlette application, `pages` renders its pages with the
dashboard's and the card's templates, `csrf` guards every change. It may import
`dashboard`, `governance`, `assembly`, `mlmd`, `render`, `content`, `card` and the leaf
modules; Starlette and uvicorn load only here.
"""

from __future__ import annotations

from mct_component.serve.settings import ConsoleSettings

__all__ = ["ConsoleSettings"]
