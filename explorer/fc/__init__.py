"""The lectures' other half: neurons, activations, losses and backprop in matrix form.

The MLP forward and backward by hand with every matrix as a display step (`matrix`), the homework's MLP in
PyTorch with its init choices and training loop (`mlp`), activation functions (`functions`), the vanishing
gradient measured (`vanishing`), why a nonlinearity (`nonlinear`), losses (`losses`), FC vs CNN on shifted
digits (`shift`), input checks (`checks`); the page's texts (`view`) and figures (`plots`). The fully
connected net's parameter counts (16×16 → 100 → 26) are on the Shapes page (`explorer.shapes.compare`), not here.
"""

from explorer.fc.checks import FCError
from explorer.fc.functions import FUNCTIONS, chain_factor, curves
from explorer.fc.losses import (
           compare_losses,
           learning_curves,
           logistic_step,
           misclassified,
           parse_scores,
           real_scores,
           saturation,
)
from explorer.fc.matrix import (
           ACTIVATIONS,
           default_batch,
           format_matrix,
           loss_history,
           mlp_step,
           parse_labels,
           parse_matrix,
           parse_vector,
           random_params,
           to_csv,
           to_markdown,
           verify_summary,
           verify_with_torch,
)
from explorer.fc.mlp import (
           INIT_FUNCTIONS,
           INITS,
           build,
           homework_table,
           init_default,
           init_he,
           init_xavier,
           layer_table,
           reinit,
           train_mlp,
           trainer_layers,
)
from explorer.fc.nonlinear import TOYS, collapse, collapse_example, compare_toy
from explorer.fc.shift import fc_vs_cnn, load_models, shift_accuracy, shift_right
from explorer.fc.vanishing import compare_profiles, gradient_norms, gradient_profile

__all__ = [
    "ACTIVATIONS", "FCError", "FUNCTIONS", "INITS", "INIT_FUNCTIONS", "TOYS", "build", "chain_factor", "collapse",
    "collapse_example", "compare_losses", "compare_profiles", "compare_toy", "curves", "default_batch", "fc_vs_cnn", "format_matrix",
    "gradient_norms", "gradient_profile", "homework_table", "init_default", "init_he", "init_xavier",
    "layer_table", "learning_curves", "load_models", "logistic_step", "loss_history", "misclassified", "mlp_step", "parse_labels",
    "parse_matrix", "parse_scores", "parse_vector", "random_params", "real_scores", "reinit", "saturation",
    "shift_accuracy", "shift_right", "to_csv", "to_markdown", "train_mlp", "trainer_layers", "verify_summary",
    "verify_with_torch",
]
