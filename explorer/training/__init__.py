"""Train MNIST live: settings and results (`config`), the trainer (`trainer`), the worker process it runs
in (`worker`) and the page's handle on it (`runner`), checkpoints (`checkpoints`) and figures (`plots`)."""

from explorer.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from explorer.training.config import TrainConfig, TrainingError
from explorer.training.runner import Runner
from explorer.training.trainer import Trainer

__all__ = ["CheckpointError", "Runner", "TrainConfig", "Trainer", "TrainingError", "load_checkpoint",
           "save_checkpoint"]
