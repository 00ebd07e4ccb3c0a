"""Benchmarks: this component against Model Card Toolkit 2.0, and lineage resolution at scale.

`make bench` runs both (`python -m bench.run`, then `python -m bench.lineage_scale`);
inputs and MLMD stores are generated once and cached under `build/bench/`.
"""
