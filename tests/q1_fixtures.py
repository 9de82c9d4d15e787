"""Student code for the Q1 tests: a reference solution and known mistakes, as source text.

Each namespace is built by ``exec`` of source text, as a notebook would define it, so the probe
sees exactly what a student's process would hold.
"""

from __future__ import annotations

PRELUDE = """
import torch
from torch import nn
import torch.nn.functional as F
"""

TRANSLATE = """
def translate(x, dx, dy):
    # Shift right by dx (width, last axis) and down by dy (height), filling with zeros.
    out = torch.zeros_like(x)
    H, W = x.shape[-2:]
    if abs(dx) >= W or abs(dy) >= H:
        return out
    out[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \\
        x[..., max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
    return out
"""

EQUIVARIANT_NET = """
class EquivariantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x):
        return self.net(x)
"""

PIXEL_MLP = """
class PixelMLP(nn.Module):
    def __init__(self, size=32):
        super().__init__()
        self.size = size
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(3 * size * size, 100), nn.ReLU(),
            nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, size * size))

    def forward(self, x):
        return self.net(x).view(-1, 1, self.size, self.size)
"""

CNN = """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
"""

MLP = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(3072, 100), nn.ReLU(),
            nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))

    def forward(self, x):
        return self.net(x)
"""

REFERENCE = {"translate": TRANSLATE, "EquivariantNet": EQUIVARIANT_NET, "PixelMLP": PIXEL_MLP,
             "CNN": CNN, "MLP": MLP}

#: Known mistakes: variant name -> (the name it replaces, its source).
MISTAKES = {
    "translate_roll": ("translate", """
def translate(x, dx, dy):
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
"""),
    "translate_axes": ("translate", TRANSLATE.replace("def translate(x, dx, dy):",
                                                      "def translate(x, dy, dx):")),
    "translate_direction": ("translate", TRANSLATE.replace("def translate(x, dx, dy):",
                                                           "def translate(x, dx, dy):\n"
                                                           "    dx, dy = -dx, -dy")),
    # Correct inside the image; F.pad raises when the shift exceeds the image.
    "translate_pad": ("translate", """
def translate(x, dx, dy):
    return F.pad(x, (dx, -dx, dy, -dy))
"""),
    "equivariant_linear": ("EquivariantNet", """
class EquivariantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 32 * 32, 32 * 32)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1)).view(-1, 1, 32, 32)
"""),
    "equivariant_position_bias": ("EquivariantNet", """
class EquivariantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bias = nn.Parameter(torch.zeros(1, 8, 32, 32))  # one bias per pixel

    def forward(self, x):
        return self.conv(x) + self.bias
"""),
    "equivariant_pool_upsample": ("EquivariantNet", """
class EquivariantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1), nn.Upsample(scale_factor=2))

    def forward(self, x):
        return self.net(x)
"""),
    "equivariant_no_conv": ("EquivariantNet", """
class EquivariantNet(nn.Module):
    def forward(self, x):
        return torch.relu(x)
"""),
    "pixel_mlp_conv": ("PixelMLP", EQUIVARIANT_NET.replace("EquivariantNet", "PixelMLP")),
    "cnn_no_conv": ("CNN", MLP.replace("class MLP", "class CNN")),
    "cnn_crash": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 32 * 32, 10)  # wrong: the 3x3 conv without padding gives 30x30

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
"""),
    "cnn_wrong_shape": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 10, 3, padding=1)

    def forward(self, x):
        return self.conv(x).mean(dim=(2,))
"""),
    "cnn_too_large": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 32 * 32, 700)
        self.out = nn.Linear(700, 10)

    def forward(self, x):
        return self.out(self.fc(self.conv(x).flatten(1)))
"""),
    # A CNN written with the functional API: no nn.Conv2d module, but a convolution runs.
    "cnn_functional": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(32, 3, 3, 3) * 0.2)
        self.w2 = nn.Parameter(torch.randn(64, 32, 3, 3) * 0.06)
        self.fc = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(F.conv2d(x, self.w1, padding=1)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, self.w2, padding=1)), 2)
        return self.fc(x.flatten(1))
"""),
    "cnn_not_a_class": ("CNN", "CNN = 'a string'\n"),
    "cnn_required_args": ("CNN", """
class CNN(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(3, c1, 3, padding=1)
        self.fc = nn.Linear(c1 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
"""),
    # view(-1, n) with the wrong n: the batch size silently changes.
    "cnn_bad_view": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x)).view(-1, 8 * 8 * 8))
"""),
    # Impostors: a "CNN" whose one convolution is a token 1x1 mixing of colours before an MLP.
    "token_conv_cnn": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.colour = nn.Conv2d(3, 3, 1)
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(3072, 512), nn.ReLU(),
                                 nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))

    def forward(self, x):
        return self.mlp(self.colour(x))
"""),
    # An "MLP" that is secretly a CNN, so that the comparison is void.
    "mlp_with_conv": ("MLP", CNN.replace("class CNN", "class MLP")),
    # A sandbagged MLP that cannot learn (its input is scaled away), to make the CNN look good.
    "mlp_sandbagged": ("MLP", MLP.replace("return self.net(x)", "return self.net(x * 1e-6)")),
}

#: Other correct answers: the course notebook's own model shapes (no pooling, small MLP), and
#: models as students write them from tutorials, with their habits.
ALTERNATIVES = {
    # PyTorch's "Training a classifier" CIFAR-10 tutorial network, view(-1, 16 * 5 * 5) and all.
    "tutorial_cnn": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
"""),
    "bn_dropout_cnn": ("CNN", """
class CNN(nn.Module):
    def __init__(self, width=32, p=0.3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(p),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(p), nn.Linear(2 * width, 10))

    def forward(self, x):
        return self.head(self.features(x))
"""),
    # Returns probabilities, and moves everything to the GPU inside forward.
    "softmax_cuda_cnn": ("CNN", CNN.replace(
        "return self.fc(self.features(x).flatten(1))",
        "self.cuda()\n        x = x.to('cuda')\n"
        "        return F.softmax(self.fc(self.features(x).flatten(1)), dim=1)")),
    "worksheet_cnn": ("CNN", """
class CNN(nn.Module):
    def __init__(self, c1=32, c2=16):
        super().__init__()
        self.conv1 = nn.Conv2d(3, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1))
"""),
    # BatchNorm and Dropout with the common head: pooled feature maps flattened into a linear layer.
    "bn_dropout_flat_cnn": ("CNN", """
class CNN(nn.Module):
    def __init__(self, p=0.3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(p), nn.Linear(32 * 8 * 8, 10))

    def forward(self, x):
        return self.head(self.features(x))
"""),
    # Two strided convolutions flattened into one linear layer, no pooling (a plain student CNN).
    "strided_cnn": ("CNN", """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.fc = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1))
"""),
    # A strong MLP: 3072-512-256-10 with BatchNorm and Dropout.
    "strong_mlp": ("MLP", """
class MLP(nn.Module):
    def __init__(self, p=0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(3072, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(p),
            nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(p),
            nn.Linear(256, 10))

    def forward(self, x):
        return self.net(x)
"""),
    # The reference MLP before the 20-seed sweep on real CIFAR-10 (benchmarks/README.md).
    "mlp_256_128": ("MLP", MLP.replace("Linear(3072, 100)", "Linear(3072, 256)")
                    .replace("Linear(100, 100)", "Linear(256, 128)")
                    .replace("Linear(100, 10)", "Linear(128, 10)")),
    "worksheet_mlp": ("MLP", """
class MLP(nn.Module):
    def __init__(self, hidden=100):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(3072, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)
"""),
}


def source(*variants: str, drop: tuple[str, ...] = ()) -> str:
    """The reference notebook's code with some definitions replaced (MISTAKES, ALTERNATIVES)
    or dropped."""
    parts = dict(REFERENCE)
    for v in variants:
        name, text = MISTAKES[v] if v in MISTAKES else ALTERNATIVES[v]
        parts[name] = text
    return PRELUDE + "".join(text for name, text in parts.items() if name not in drop)


def namespace(*variants: str, drop: tuple[str, ...] = ()) -> dict:
    """A namespace as the student's process would hold it after running the notebook."""
    ns: dict = {"__name__": "__main__"}
    exec(compile(source(*variants, drop=drop), "<notebook>", "exec"), ns)  # noqa: S102
    return ns
