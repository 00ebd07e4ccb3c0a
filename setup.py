"""Packaging for mct-component.

The default templates live in the top-level `templates/` folder; `package_dir` maps it
to the `mct_component.templates` package so they ship inside the wheel and remote
runners (Kubeflow, Dataflow) find them.
"""

import pathlib

from setuptools import setup

setup(
    name="mct-component",
    version="0.1.0",
    description="A TFX component that builds model cards from ML Metadata lineage.",
    long_description=pathlib.Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.11",
    packages=[
        "mct_component",
        "mct_component.assembly",
        "mct_component.card",
        "mct_component.content",
        "mct_component.dashboard",
        "mct_component.exports",
        "mct_component.generator",
        "mct_component.governance",
        "mct_component.mlmd",
        "mct_component.readers",
        "mct_component.render",
        "mct_component.serve",
        "mct_component.templates",
    ],
    package_dir={"mct_component.templates": "templates"},
    package_data={
        "mct_component": ["schemas/*.json", "py.typed"],
        "mct_component.templates": ["*.jinja"],
    },
    install_requires=[
        "tfx>=1.14,<1.17",
        "jinja2>=3.0",
        "jsonschema-rs>=0.61,<0.62",
        "pyyaml>=5.4",
        # The dashboard reads MySQL-backed MLMD stores directly.
        "pymysql>=1.0",
        # Card versions are signed and verified with OpenSSF model signing (Sigstore
        # bundles); the library needs pyOpenSSL at import.
        "model-signing>=1.1,<1.2",
        "pyopenssl",
        # `mct-card serve`: the review console, an ASGI app on uvicorn.
        "starlette>=0.40",
        "uvicorn>=0.30",
        "python-multipart>=0.0.9",
        # TFMA's TFRecord outputs are read without TensorFlow; records carry CRC32C sums.
        "google-crc32c>=1.5",
    ],
    # The `pdf` output format lays the HTML card out with WeasyPrint.
    extras_require={"pdf": ["weasyprint>=60"]},
    entry_points={"console_scripts": ["mct-card=mct_component.cli:main"]},
)
