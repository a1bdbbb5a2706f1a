# CNN Explorer in a container: CPU-only PyTorch, a non-root user, a health check on Streamlit's own
# /_stcore/health. Build and run (no container engine runs where this project is developed: see README,
# "Beyond one machine", for what was and was not run):
#   docker build -t cnn-explorer .
#   docker run --rm -p 8501:8501 cnn-explorer          # then open http://localhost:8501
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    # full MNIST lives here when present (a volume); else the sample shipped with the app is used
    CNN_EXPLORER_DATA=/data \
    # worker slots (trainings, long jobs) are counted in this folder: one per container
    CNN_EXPLORER_RUN_DIR=/tmp/cnn-explorer \
    # trainings at once in this container (each uses its share of the container's CPUs)
    CNN_EXPLORER_MAX_TRAININGS=4

RUN useradd --create-home --uid 1000 explorer && mkdir -p /data && chown explorer /data
WORKDIR /app

# PyTorch's CPU-only wheels (a few hundred MB instead of the several-GB CUDA build pip picks by default)
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch>=2.10" "torchvision>=0.25"
COPY pyproject.toml README.md app.py ./
COPY explorer ./explorer
COPY pages ./pages
COPY .streamlit ./.streamlit
RUN pip install .

USER explorer
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"
CMD ["streamlit", "run", "app.py", "--server.headless", "true", "--server.address", "0.0.0.0", "--server.port", "8501"]
