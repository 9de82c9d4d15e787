"""Q1a networks of the kinds students write, as notebook source, for the table-driven tests.

``EQUIVARIANT``: convolution-only networks of many reaches, paddings, nonlinearities and
normalisations; every one is equivariant (away from the border) and must pass.
``NOT_EQUIVARIANT``: networks that pool, stride, upsample, flatten, mix positions through linear
layers, normalise over the image or use positions; each must fail, with the words that say why.
``NOT_AN_MLP``: PixelMLP answers that are not fully connected networks over the image.
"""

from __future__ import annotations

from typing import NamedTuple


def _net(body: str, forward: str = "return self.net(x)", name: str = "EquivariantNet") -> str:
    return (f"\nclass {name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            + "".join(f"        {line}\n" for line in body.strip().splitlines())
            + "\n    def forward(self, x):\n"
            + "".join(f"        {line}\n" for line in forward.strip().splitlines()))


class Net(NamedTuple):
    id: str
    source: str
    reach: int | None = None  # the reach the probe must measure (None: not asserted)


EQUIVARIANT = [
    Net("one_1x1", _net("self.net = nn.Conv2d(3, 4, 1)"), 0),
    Net("three_3x3", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))
"""), 3),
    Net("twelve_3x3_deep", _net("""
layers = [nn.Conv2d(3, 6, 3, padding=1), nn.ReLU()]
for _ in range(11):
    layers += [nn.Conv2d(6, 6, 3, padding=1), nn.ReLU()]
self.net = nn.Sequential(*layers[:-1])
"""), 12),
    Net("five_5x5", _net("""
self.net = nn.Sequential(*[m for i in range(5) for m in (nn.Conv2d(3 if i == 0 else 6, 6, 5,
                           padding=2), nn.Tanh())])
"""), 10),
    Net("large_kernel_11", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 4, 11, padding=5), nn.GELU(), nn.Conv2d(4, 2, 11, padding=5))
"""), 10),
    Net("dilated_1_2_4_8", _net("""
self.net = nn.Sequential(*[m for i, d in enumerate((1, 2, 4, 8)) for m in (
    nn.Conv2d(3 if i == 0 else 6, 6, 3, padding=d, dilation=d), nn.ReLU())])
"""), 15),
    Net("dilated_to_63", _net("""
self.net = nn.Sequential(*[m for i, d in enumerate((1, 2, 4, 8, 16, 32)) for m in (
    nn.Conv2d(3 if i == 0 else 4, 4, 3, padding=d, dilation=d), nn.LeakyReLU(0.1))])
"""), 63),
    Net("circular_padding", _net("""
self.net = nn.Sequential(*[m for i in range(4) for m in (
    nn.Conv2d(3 if i == 0 else 8, 8, 3, padding=1, padding_mode="circular"), nn.ReLU())])
"""), 4),
    Net("reflect_padding_5x5", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 5, padding=2, padding_mode="reflect"), nn.ELU(),
                         nn.Conv2d(8, 8, 5, padding=2, padding_mode="reflect"), nn.ELU(),
                         nn.Conv2d(8, 2, 5, padding=2, padding_mode="replicate"))
"""), 6),
    Net("batchnorm_dropout", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Dropout2d(0.5), nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8),
                         nn.ReLU(), nn.Dropout(0.3), nn.Conv2d(8, 1, 3, padding=1))
self.net[1].running_mean.fill_(0.3)
self.net[1].running_var.fill_(2.0)
"""), 3),
    Net("functional_same_padding", _net("""
self.w1 = nn.Parameter(torch.randn(8, 3, 3, 3) * 0.3)
self.w2 = nn.Parameter(torch.randn(1, 8, 5, 5) * 0.1)
self.b = nn.Parameter(torch.zeros(8))
""", "return F.conv2d(torch.sigmoid(F.conv2d(x, self.w1, self.b, padding='same')), self.w2, "
     "padding='same')"), 3),
    Net("even_kernel_same", _net("self.net = nn.Sequential(nn.Conv2d(3, 4, 4, padding='same'), "
                                 "nn.ReLU(), nn.Conv2d(4, 1, 4, padding='same'))"), None),
    Net("residual_blocks", _net("""
self.inp = nn.Conv2d(3, 8, 3, padding=1)
self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                                           nn.Conv2d(8, 8, 3, padding=1)) for _ in range(3)])
""", """
x = self.inp(x)
for block in self.blocks:
    x = F.relu(x + block(x))
return x
"""), 7),
    Net("depthwise_separable", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 3, 7, padding=3, groups=3), nn.Conv2d(3, 8, 1), nn.SiLU(),
                         nn.Conv2d(8, 8, 7, padding=3, groups=8), nn.Conv2d(8, 2, 1))
"""), 6),
    Net("channels_last_linear_and_layernorm", _net("""
self.conv = nn.Conv2d(3, 8, 3, padding=1)
self.norm = nn.LayerNorm(8)
self.mix = nn.Linear(8, 4)
""", "return self.mix(self.norm(self.conv(x).permute(0, 2, 3, 1))).permute(0, 3, 1, 2)"), 1),
    Net("cuda_in_forward", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))
""", "return self.net(x.to('cuda'))"), 2),
    Net("constructor_defaults", """
class EquivariantNet(nn.Module):
    def __init__(self, channels=(3, 16, 16, 1), kernel=5):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(a, b, kernel, padding=kernel // 2)
                                   for a, b in zip(channels, channels[1:]))

    def forward(self, x):
        for conv in self.convs[:-1]:
            x = torch.relu(conv(x))
        return self.convs[-1](x)
""", 6),
]


class Broken(NamedTuple):
    id: str
    source: str
    mistake: str
    words: tuple[str, ...]  # the message must contain each


NOT_EQUIVARIANT = [
    Broken("flatten_linear", _net("""
self.conv = nn.Conv2d(3, 4, 3, padding=1)
self.fc = nn.Linear(4 * 32 * 32, 32 * 32)
""", "return self.fc(torch.relu(self.conv(x)).flatten(1)).view(-1, 1, 32, 32)"),
        "equivariant_global", ("fully connected layer", "flattening", "whole image")),
    Broken("per_pixel_bias", _net("""
self.conv = nn.Conv2d(3, 8, 3, padding=1)
self.bias = nn.Parameter(torch.zeros(1, 8, 32, 32))
""", "return self.conv(x) + self.bias"),
        "equivariant_position_parameter", ("one value per pixel", "bias (1, 8, 32, 32)")),
    Broken("maxpool_upsample", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 8, 3, padding=1), nn.Upsample(scale_factor=2))
"""), "equivariant_stride", ("pooling", "upsampling")),
    Broken("strided_conv_transpose", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(8, 1, 2, stride=2))
"""), "equivariant_stride", ("stride > 1",)),
    Broken("strided_shrinks", _net("self.net = nn.Conv2d(3, 8, 3, stride=2, padding=1)"),
           "equivariant_shape", ("(2, 8, 16, 16)", "stride > 1")),
    Broken("instance_norm", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.InstanceNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 1, 3, padding=1))
"""), "equivariant_global", ("normalisation over the whole image",)),
    Broken("coordinate_channels", _net("""
self.conv = nn.Conv2d(5, 4, 3, padding=1)
""", """
n, _, h, w = x.shape
ys = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(n, 1, h, w)
xs = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(n, 1, h, w)
return self.conv(torch.cat([x, ys, xs], 1))
"""), "not_equivariant", ("Not equivariant", "per-channel biases")),
    Broken("global_average_added", _net("""
self.conv = nn.Conv2d(3, 4, 3, padding=1)
self.pool = nn.AdaptiveAvgPool2d(1)
""", "y = self.conv(x)\nreturn y + self.pool(y)"), "equivariant_global", ("pooling",)),
    Broken("no_convolution", _net("self.scale = nn.Parameter(torch.ones(1))",
                                  "return torch.relu(x) * self.scale"), "no_conv",
           ("no convolution",)),
    Broken("random_in_eval", _net("self.net = nn.Conv2d(3, 4, 3, padding=1)",
                                  "return F.dropout(self.net(x), 0.5)"), "",
           ("different outputs for the same input", "training=self.training")),
]

NOT_AN_MLP = [
    Broken("one_by_one_convs", _net("""
self.net = nn.Sequential(nn.Conv2d(3, 16, 1), nn.ReLU(), nn.Conv2d(16, 1, 1))
""", name="PixelMLP"), "pixel_mlp_not_fc", ("uses a convolution",)),
    Broken("per_pixel_linear", _net("""
self.net = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
""", "return self.net(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)", name="PixelMLP"),
        "pixel_mlp_per_pixel", ("not fully connected across the image", "per-pixel")),
    Broken("pooled_then_linear", _net("""
self.pool = nn.AvgPool2d(2)
self.fc = nn.Linear(3 * 16 * 16, 32 * 32)
""", "return self.fc(self.pool(x).flatten(1)).view(-1, 1, 32, 32)", name="PixelMLP"),
        "pixel_mlp_not_fc", ("pooling",)),
    Broken("conv_then_linear", _net("""
self.conv = nn.Conv2d(3, 2, 3, padding=1)
self.fc = nn.Linear(2 * 32 * 32, 32 * 32)
""", "return self.fc(self.conv(x).flatten(1)).view(-1, 1, 32, 32)", name="PixelMLP"),
        "pixel_mlp_not_fc", ("uses a convolution", "Conv2d")),
    Broken("no_linear_at_all", _net("self.scale = nn.Parameter(torch.ones(1))",
                                    "return torch.tanh(x * self.scale)", name="PixelMLP"),
           "pixel_mlp_not_fc", ("no fully connected layer",)),
]

#: PixelMLP answers that are MLPs (they must pass).
MLPS = [
    Net("flat_in_image_out", _net("""
self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 64), nn.ReLU(),
                         nn.Linear(64, 32 * 32))
""", "return self.net(x).view(-1, 1, 32, 32)", name="PixelMLP")),
    Net("flat_output", _net("""
self.fc1 = nn.Linear(3072, 100)
self.fc2 = nn.Linear(100, 3 * 32 * 32)
""", "return self.fc2(F.relu(self.fc1(x.view(x.size(0), -1))))", name="PixelMLP")),
    Net("functional_weights", _net("""
self.w1 = nn.Parameter(torch.randn(3072, 50) * 0.02)
self.w2 = nn.Parameter(torch.randn(50, 1024) * 0.1)
""", "return (torch.relu(x.reshape(len(x), -1) @ self.w1) @ self.w2).reshape(-1, 1, 32, 32)",
        name="PixelMLP")),
]
