"""Take the code home: the exact, runnable PyTorch script for a layer table and its data, in the lecture's
8 steps (seed 000 ~L599–738: imports, device + seed, parameters, dataset + loader, model class, loss +
optimizer, training loop, accuracy), with ``ImageFolder`` + ``Resize((64,128))`` for your own data
(~L803–857) or ``dsets.MNIST`` as the lecture.

The model class writes ``features`` / ``classifier`` out layer by layer (same module numbering, so the same
state_dict keys, as `build_model`); the train/test split is `explorer.builder.data.split` written out, so
the script trains and tests on the same images as the app. Only torch and torchvision are needed.
Every value from the user is checked (numbers) or written with ``repr`` (paths), so nothing typed can
become code.
"""

from __future__ import annotations

import math
from typing import Sequence

from explorer.builder.data import check_size
from explorer.builder.table import TableCheck, check_layers, raise_first
from explorer.core.i18n import UserError, translate

MAX_PATH = 500  # characters of a data folder path


class ScriptError(UserError):
    """A refused script option (``builder.error.*`` key + params)."""


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScriptError("builder.error.option", name=name, value=str(value)[:40], low=low, high=high)
    return value


def _real(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and low <= value <= high):
        raise ScriptError("builder.error.option", name=name, value=str(value)[:40], low=low, high=high)
    return float(value)


def _path(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PATH or "\0" in value:
        raise ScriptError("builder.error.script_path", name=name, limit=MAX_PATH)
    return value


def _pair_code(value: int | list[int]) -> str:
    return str(value) if isinstance(value, int) else f"({value[0]}, {value[1]})"


def _shape_text(shape: Sequence[int] | None) -> str:
    return "x".join(map(str, shape or ()))


def _module_code(row: dict, shape: tuple[int, ...], previous: tuple[int, ...] | None) -> list[str]:
    """The ``nn.…(...)`` line(s) of one row whose input has ``shape`` (``previous``: the input of a flatten
    right before a linear layer, written as the lecture does: ``7 * 7 * 64``)."""
    kind = row["kind"]
    if kind == "conv":
        padding = "'same'" if row["padding"] == "same" else _pair_code(row["padding"])
        return [f"nn.Conv2d({shape[0]}, {row['out_channels']}, kernel_size={_pair_code(row['kernel'])}, "
                f"stride={_pair_code(row['stride'])}, padding={padding})"]
    if kind in ("maxpool", "avgpool"):
        name = "MaxPool2d" if kind == "maxpool" else "AvgPool2d"
        padding = "" if row["padding"] == 0 else f", padding={_pair_code(row['padding'])}"
        return [f"nn.{name}(kernel_size={_pair_code(row['kernel'])}, stride={_pair_code(row['stride'])}{padding})"]
    if kind == "linear":
        n_in = f"{previous[1]} * {previous[2]} * {previous[0]}" if previous and len(previous) == 3 else str(shape[0])
        return [f"nn.Linear({n_in}, {row['out_features']}, bias=True)"]
    if kind == "batchnorm":
        return [f"nn.BatchNorm{2 if len(shape) == 3 else 1}d({shape[0]})"]
    if kind == "dropout":
        return [f"nn.Dropout(p={row['p']})"]
    if kind == "gap":
        return ["nn.AdaptiveAvgPool2d(1)", "nn.Flatten()"]
    return [{"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "leaky_relu": "nn.LeakyReLU(0.01)",
             "flatten": "nn.Flatten()"}[kind]]


def _model_code(check: TableCheck, *, init: str, lang: str) -> list[str]:
    """``class CNN(nn.Module)`` with ``features`` and ``classifier`` written out row by row."""
    parts: dict[str, list[tuple[str, str]]] = {"features": [], "classifier": []}
    inits: list[str] = []
    part = "features"
    for i, (row, summary) in enumerate(zip(check.layers, check.rows)):
        if row["kind"] in ("flatten", "gap"):
            part = "classifier"
        before = check.rows[i - 1].input_shape if i and check.layers[i - 1]["kind"] == "flatten" else None
        codes = _module_code(row, summary.input_shape, before if row["kind"] == "linear" else None)
        for number, code in enumerate(codes):
            out = (summary.output_shape[0], 1, 1) if len(codes) == 2 and number == 0 else summary.output_shape
            parts[part].append((code, f"# [{len(parts[part])}] -> {_shape_text(out)}"))  # gap: C×1×1, then C
        if "init" in row:  # conv / linear: one module, the last one added
            call = ("nn.init.xavier_uniform_({}.weight)" if row["init"] == "xavier"
                    else "nn.init.kaiming_normal_({}.weight, nonlinearity='relu')")
            inits.append(call.format(f"self.{part}[{len(parts[part]) - 1}]"))
    width = max(len(code) for rows in parts.values() for code, _ in rows) + 10
    lines = ["class CNN(nn.Module):", "    def __init__(self):", "        super().__init__()",
             f"        # {translate('builder.script.input', lang, shape=_shape_text(check.input_shape))}"]
    for name in ("features", "classifier"):
        if not parts[name]:
            lines.append(f"        self.{name} = nn.Sequential()  # {translate('builder.script.no_features', lang)}")
            continue
        lines.append(f"        self.{name} = nn.Sequential(")
        lines += [f"            {(code + ',').ljust(width)}{comment}" for code, comment in parts[name]]
        lines.append("        )")
    if init != "default":
        lines += [f"        # {translate('builder.script.init_' + init, lang)}",
                  "        for m in self.modules():",
                  "            if isinstance(m, (nn.Conv2d, nn.Linear)):",
                  "                " + ("nn.init.xavier_uniform_(m.weight)" if init == "xavier"
                                        else "nn.init.kaiming_normal_(m.weight, nonlinearity='relu')"),
                  "                nn.init.zeros_(m.bias)"]
    if inits:
        lines.append(f"        # {translate('builder.script.row_init', lang)}")
        lines += [f"        {call}" for call in inits]
    return lines + ["", "    def forward(self, x):", "        out = self.features(x)",
                    "        out = self.classifier(out)", "        return out"]


_SPLIT_FUNCTION = '''def stratified_split(targets, test_fraction, seed):
    generator = torch.Generator().manual_seed(seed)
    targets = torch.tensor(targets)
    train, test = [], []
    for c in range(int(targets.max()) + 1):
        idx = (targets == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_test = min(len(idx) - 1, max(1, round(len(idx) * test_fraction))) if len(idx) >= 2 else 0
        test += idx[:n_test].tolist()
        train += idx[n_test:].tolist()
    return sorted(train), sorted(test)'''


def _data_code(*, data_dir: str | None, test_dir: str | None, size: tuple[int, int], grayscale: bool,
               test_fraction: float, seed: int, lang: str) -> list[str]:
    if data_dir is None:  # the lecture's MNIST
        return ["mnist_train = dsets.MNIST(root='MNIST_data/', train=True, transform=transforms.ToTensor(),",
                "                          download=True)",
                "mnist_test = dsets.MNIST(root='MNIST_data/', train=False, transform=transforms.ToTensor(),",
                "                         download=True)",
                "train_set, test_set = mnist_train, mnist_test"]
    lines = [f"data_dir = {data_dir!r}  # {translate('builder.script.data_dir', lang)}"]
    if test_dir is not None:
        lines.append(f"test_dir = {test_dir!r}")
    lines += ["trans = transforms.Compose([",
              f"    transforms.Resize(({size[0]}, {size[1]})),  # {translate('builder.script.resize', lang)}"]
    if grayscale:
        lines.append(f"    transforms.Grayscale(1),  # {translate('builder.script.grayscale', lang)}")
    lines += ["    transforms.ToTensor(),", "])"]
    if test_dir is not None:
        return lines + ["train_set = torchvision.datasets.ImageFolder(root=data_dir, transform=trans)",
                        "test_set = torchvision.datasets.ImageFolder(root=test_dir, transform=trans)",
                        "print('Classes:', train_set.classes)",
                        f"assert train_set.classes == test_set.classes, "
                        f"{translate('builder.script.same_classes', lang)!r}"]
    return lines + ["dataset = torchvision.datasets.ImageFolder(root=data_dir, transform=trans)",
                    "print('Classes:', dataset.classes)", "", "",
                    f"# {translate('builder.script.split', lang)}", _SPLIT_FUNCTION, "", "",
                    f"train_idx, test_idx = stratified_split(dataset.targets, {test_fraction!r}, {seed})",
                    "train_set = Subset(dataset, train_idx)", "test_set = Subset(dataset, test_idx)"]


def to_script(layers: Sequence[object], *, data_dir: str | None, size: tuple[int, int] = (64, 128),
              grayscale: bool = False, epochs: int = 15, lr: float = 0.001, batch_size: int = 100, seed: int = 777,
              init: str = "default", test_fraction: float = 0.2, test_dir: str | None = None,
              lang: str = "en") -> str:
    """A standalone script that trains the table's network on the ImageFolder at ``data_dir`` (or MNIST when
    ``data_dir`` is None, as the lecture) and ends by printing ``Accuracy: <float>``.

    Images are resized to ``size`` (grayscale or colour); the test images are ``test_dir``'s if given, else a
    seeded stratified ``test_fraction`` of ``data_dir`` (as `split`). Comments in ``lang`` ("ko" or "en")."""
    if data_dir is not None:
        data_dir = _path(data_dir, "data_dir")
        size = check_size(size)
    if test_dir is not None:
        test_dir = _path(test_dir, "test_dir")
    epochs = _whole(epochs, "epochs", 1, 1000)
    batch_size = _whole(batch_size, "batch_size", 1, 10_000)
    seed = _whole(seed, "seed", 0, 2**63 - 1)
    lr = _real(lr, "lr", 1e-7, 10.0)
    test_fraction = _real(test_fraction, "test_fraction", 0.05, 0.5)
    if init not in ("default", "xavier", "he"):
        raise ScriptError("builder.error.init", value=str(init)[:40], choices="default, xavier, he")
    if lang not in ("ko", "en"):
        raise ScriptError("builder.error.option", name="lang", value=str(lang)[:10], low="ko", high="en")
    input_shape = (1, 28, 28) if data_dir is None else (1 if grayscale else 3, *size)
    check = check_layers(layers, input_shape)
    raise_first(check)

    def step(n: int) -> str:
        return f"# {'-' * 4} {translate(f'builder.step.{n}', lang)} {'-' * 4}"

    lines = [f"# {translate('builder.script.title', lang)}",
             f"# {translate('builder.script.needs', lang)}",
             f"# {translate('builder.script.layout' if data_dir is not None else 'builder.script.mnist', lang)}",
             "", step(1), "import torch", "import torch.nn as nn", "import torchvision",
             "import torchvision.datasets as dsets", "import torchvision.transforms as transforms",
             "from torch.utils.data import DataLoader, Subset",
             "", step(2), "device = 'cuda' if torch.cuda.is_available() else 'cpu'",
             f"torch.manual_seed({seed})  # {translate('builder.script.seed', lang)}",
             "if device == 'cuda':", f"    torch.cuda.manual_seed_all({seed})",
             "", step(3), f"learning_rate = {lr!r}", f"training_epochs = {epochs}", f"batch_size = {batch_size}",
             "", step(4),
             *_data_code(data_dir=data_dir, test_dir=test_dir, size=size, grayscale=grayscale,
                         test_fraction=test_fraction, seed=seed, lang=lang),
             "data_loader = DataLoader(dataset=train_set, batch_size=batch_size, shuffle=True,",
             f"                         drop_last=len(train_set) > batch_size)  "
             f"# {translate('builder.script.drop_last', lang)}",
             "test_loader = DataLoader(dataset=test_set, batch_size=batch_size)",
             "", "", step(5), *_model_code(check, init=init, lang=lang), "", "",
             "model = CNN().to(device)",
             "", step(6), "criterion = nn.CrossEntropyLoss().to(device)  # Softmax is internally computed.",
             "optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)",
             "", step(7), "total_batch = len(data_loader)", "print('Learning started. It takes sometime.')",
             "model.train()", "for epoch in range(training_epochs):", "    avg_cost = 0",
             "    for X, Y in data_loader:", "        X = X.to(device)", "        Y = Y.to(device)",
             "        optimizer.zero_grad()", "        hypothesis = model(X)",
             "        cost = criterion(hypothesis, Y)",
             "        cost.backward()", "        optimizer.step()", "        avg_cost += cost.item() / total_batch",
             "    print('[Epoch: {:>4}] cost = {:>.9}'.format(epoch + 1, avg_cost))", "print('Learning Finished!')",
             "", step(8), f"model.eval()  # {translate('builder.script.eval', lang)}", "with torch.no_grad():",
             "    correct = 0", "    for X_test, Y_test in test_loader:",
             "        prediction = model(X_test.to(device))",
             "        correct += (torch.argmax(prediction, 1) == Y_test.to(device)).sum().item()",
             "    accuracy = correct / len(test_set)", "    print('Accuracy:', accuracy)",
             f"torch.save(model.state_dict(), 'my_cnn.pt')  # {translate('builder.script.save', lang)}"]
    return "\n".join(lines) + "\n"
