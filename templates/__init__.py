"""Default card templates, installed as the `mct_component.templates` package."""
