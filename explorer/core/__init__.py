"""Shared plumbing of every lesson: i18n, the session (the one Streamlit wrapper), figures, display,
threads, images, samples, MNIST data and the lectures' models. Imports no lesson wing."""
