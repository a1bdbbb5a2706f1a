"""Your own network, your own data: the layer table and its checks (`table`), the table as a PyTorch model
(`model`), your own images as ImageFolder would read them (`data`), and the lecture's 8-step script (`script`)."""

from explorer.builder.data import (
    DEFAULT_SIZE,
    LIMITS,
    MAX_CLASSES,
    MAX_IMAGES,
    MAX_UNCOMPRESSED,
    MAX_ZIP_BYTES,
    ClassPreview,
    DataError,
    ImageFolderData,
    check_class_name,
    from_class_uploads,
    load_image_folder,
    preview,
    split,
    uploads_to_zip,
)
from explorer.builder.model import (
    TableNet,
    build_model,
    expected_state,
    gradient_norms,
    initialize,
    layer_paths,
)
from explorer.builder.script import ScriptError, to_script
from explorer.builder.table import (
    INITS,
    KINDS,
    PRESETS,
    Problem,
    RowCheck,
    TableCheck,
    TableError,
    TableFile,
    add_row,
    check_layers,
    default_row,
    fit_classes,
    move_row,
    normalize_row,
    preset,
    remove_row,
    table_from_json,
    table_to_json,
)

__all__ = [
    "DEFAULT_SIZE", "INITS", "KINDS", "LIMITS", "MAX_CLASSES", "MAX_IMAGES", "MAX_UNCOMPRESSED", "MAX_ZIP_BYTES", "PRESETS",
    "ClassPreview", "DataError", "ImageFolderData", "Problem", "RowCheck", "ScriptError", "TableCheck",
    "TableError", "TableFile", "TableNet", "add_row", "build_model", "check_class_name", "check_layers",
    "default_row", "expected_state", "fit_classes", "from_class_uploads", "gradient_norms", "initialize",
    "layer_paths", "load_image_folder", "move_row", "normalize_row", "preset", "preview", "remove_row", "split",
    "table_from_json", "table_to_json", "to_script", "uploads_to_zip",
]
