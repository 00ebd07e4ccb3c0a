"""ML Metadata: opening a store (`store`), walking a model's lineage to the inputs of its
card (`lineage`), and the card facts recorded as `ModelCard` custom properties
(`summary`).

It may import `readers` (the references lineage resolves to), `card` and the leaf
modules (`errors`, `constants`, `files`, `text`); ml_metadata itself is imported only
where a store is opened.
"""
