"""The TFX shell: the `ModelCardGenerator` component, its spec and parameters
(`component`, `parameters`), its driver and executor, and the `ModelCard` artifact type.

The only subpackage that imports TFX at module level; each module is thin and hands
the work to `assembly` and `governance`. Nothing in the package imports it but the API
(`mct_component.ModelCardGenerator`, loaded lazily so that `import mct_component` does
not load TFX).
"""
