"""CNN Explorer: the library behind the app (no Streamlit here, except `explorer.session`)."""

__version__ = "0.1.0"
