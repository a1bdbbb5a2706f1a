"""CNN Explorer: the library behind the app. `core` is shared plumbing (no Streamlit except
`explorer.core.session`); every other package is one lesson's wing, its `__init__` its public face."""

__version__ = "0.1.0"
