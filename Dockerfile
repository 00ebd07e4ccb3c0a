# The image every step of the Kubeflow Pipelines v2 / Vertex AI pipeline runs in: TFX
# plus mct-component (its default templates ship inside the package).
#   docker build -t mct-component:latest .
FROM tensorflow/tfx:1.16.0

# The base image's TFX 1.16 satisfies `tfx>=1.14,<1.17`, so pip only adds what is missing.
# The source is deleted after installing so that no `mct_component/` folder in a working
# directory can shadow the installed package (which alone holds the templates).
COPY . /tmp/mct-component
RUN python -m pip install --no-cache-dir "/tmp/mct-component[pdf]" \
    && rm -rf /tmp/mct-component \
    && cd / && python -c "from importlib import resources; \
assert resources.files('mct_component.templates').joinpath('model_card.html.jinja').is_file()"
