"""A small residual network for MNIST (chapter 12), built from ``numpy_nn`` layers.

The network, for ``blocks=(n, n, n)`` and ``widths=(8, 16, 32)`` (the layout of He et al.'s CIFAR
ResNets, ``6n + 2`` layers with weights)::

    conv 3×3 (1 → 8) - BN - ReLU                              28 × 28
    n basic blocks of width 8                                 28 × 28
    n basic blocks of width 16 (the first one with stride 2)  14 × 14
    n basic blocks of width 32 (the first one with stride 2)   7 × 7
    global average pooling (one number per channel) - Linear(32 → 10)

A basic block computes ``relu(F(x) + shortcut(x))`` with ``F = conv-BN-ReLU-conv-BN``. The shortcut
is the identity when the shape does not change, else a 1×1 convolution with the block's stride and a
BN (a *projection*). ``residual=False`` drops the shortcut (a *plain* network of the same depth, the
chapter's comparison), ``batch_norm=False`` drops the BN layers (the convolutions then get a bias).

Backward of a block: the gradient ``g`` that reaches the sum goes down *both* paths unchanged
(d(a + b)/da = d(a + b)/db = 1), so ``d x = F.backward(g) + shortcut.backward(g)``; for the identity
shortcut the second term is ``g`` itself. That direct path is why the gradient reaching the first
layers of a deep ResNet does not vanish.

The names of parameters and buffers are torch's (``layer2.0.downsample.1.running_mean``), so the
torch twin in ``nncourse.models.torch.resnet`` loads this model's ``state_dict`` as it is.
"""

import numpy as np

from .. import validation
from ..errors import ConfigError, ShapeError
from ..numpy_nn.activation import ReLU
from ..numpy_nn.batchnorm import BatchNorm2d
from ..numpy_nn.container import Sequential
from ..numpy_nn.conv import Conv2d
from ..numpy_nn.linear import Linear
from ..numpy_nn.module import Module, check_float_array
from ..numpy_nn.registry import load_numpy_state, saveable, to_numpy, twin_of
from ..utils import as_rng

__all__ = ["BasicBlock", "ResNet"]


def _conv(in_channels, out_channels, kernel_size, stride, batch_norm, rng, dtype):
    """A convolution with He initialisation; no bias in front of a BN (the BN's shift replaces it)."""
    return Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                  bias=not batch_norm, init="he", rng=rng, dtype=dtype)


def _norm(channels, batch_norm, dtype):
    return BatchNorm2d(channels, dtype=dtype) if batch_norm else None


class BasicBlock(Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, as torchvision's ``BasicBlock``."""

    def __init__(self, in_channels, out_channels, stride=1, *, residual=True, batch_norm=True,
                 seed=None, rng=None, dtype=np.float32):
        super().__init__()
        who = "BasicBlock"
        self.in_channels = validation.positive_int(in_channels, "in_channels", who)
        self.out_channels = validation.positive_int(out_channels, "out_channels", who)
        self.stride = validation.positive_int(stride, "stride", who)
        self.residual = validation.boolean(residual, "residual", who)
        self.batch_norm = validation.boolean(batch_norm, "batch_norm", who)
        self.dtype = validation.float_dtype(dtype, who)
        rng = as_rng(seed, rng)
        self.conv1 = _conv(in_channels, out_channels, 3, stride, batch_norm, rng, self.dtype)
        if batch_norm:
            self.bn1 = _norm(out_channels, batch_norm, self.dtype)
        self.relu1 = ReLU()
        self.conv2 = _conv(out_channels, out_channels, 3, 1, batch_norm, rng, self.dtype)
        if batch_norm:
            self.bn2 = _norm(out_channels, batch_norm, self.dtype)
        self.relu2 = ReLU()
        self.downsample = None
        if residual and (stride != 1 or in_channels != out_channels):
            # a projection: 1×1 convolution with the block's stride (+ BN) so that the shapes match
            layers = [_conv(in_channels, out_channels, 1, stride, batch_norm, rng, self.dtype)]
            if batch_norm:
                layers.append(BatchNorm2d(out_channels, dtype=self.dtype))
            self.downsample = Sequential(*layers)

    def _main_path(self):
        """The layers of F in order: conv1, bn1, relu1, conv2, bn2 (without the BNs if batch_norm=False)."""
        names = ["conv1", "bn1", "relu1", "conv2", "bn2"] if self.batch_norm else ["conv1", "relu1", "conv2"]
        return [getattr(self, name) for name in names]

    def forward(self, x):
        x = check_float_array(x, "BasicBlock")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ShapeError(f"BasicBlock expects an input x of shape (batch, {self.in_channels}, height, width) "
                             f"(NCHW), got {x.shape}")
        out = x
        for layer in self._main_path():
            out = layer(out)                                     # F(x)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))   # F(x) + shortcut(x)
        return self.relu2(out)

    def backward(self, grad_output, *, need_input_grad=True):
        g = self.relu2.backward(grad_output)                     # d loss / d (F(x) + shortcut(x))
        grad_x = g
        for layer in reversed(self._main_path()):
            grad_x = layer.backward(grad_x)                      # d loss / d x through F
        if self.residual:                                        # ... plus through the shortcut
            grad_x = grad_x + (g if self.downsample is None else self.downsample.backward(g))
        return grad_x

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, stride={self.stride}, residual={self.residual}, "
                f"batch_norm={self.batch_norm}")


def _to_torch(layer, where):
    """A NumPy ``ResNet`` -> its torch twin (``models/torch/resnet.py``), weights and statistics copied."""
    from .torch.resnet import ResNet as TorchResNet

    config = layer.get_config()
    twin = TorchResNet(config.pop("blocks"), config.pop("widths"), **config)
    load_numpy_state(twin, layer)
    return twin.train(layer.training)


def _from_torch(layer, where, rng):
    """The torch ``ResNet`` -> the NumPy one (same ``state_dict`` names)."""
    twin = ResNet(**{**layer.config, "dtype": str(layer.fc.weight.dtype).replace("torch.", "")})
    own = twin.state_dict()
    twin.load_state_dict({name: to_numpy(t, own[name].dtype) for name, t in layer.state_dict().items()})
    return twin.train(layer.training)


@saveable
@twin_of("nncourse.models.torch.resnet.ResNet", from_torch=_from_torch, to_torch=_to_torch)
class ResNet(Module):
    """A small ResNet for 28×28 images (see the module docstring); ``forward(x (N, C, 28, 28)) -> logits (N, 10)``.

    ``blocks``: the number of basic blocks in each stage; ``widths``: the channels of each stage (the
    first stage keeps the size, each later stage halves it with a stride-2 block). ``seed`` fixes the
    He initialisation; ``residual`` and ``batch_norm`` as in ``BasicBlock``.
    """

    def __init__(self, blocks=(1, 1, 1), widths=(8, 16, 32), in_channels=1, num_classes=10, *,
                 residual=True, batch_norm=True, seed=0, dtype=np.float32):
        super().__init__()
        who = "ResNet"
        try:
            blocks, widths = tuple(blocks), tuple(widths)
        except TypeError:
            raise ConfigError(f"{who}: blocks and widths must be sequences such as (1, 1, 1) and (8, 16, 32), "
                              f"got {blocks!r} and {widths!r}") from None
        if not blocks or len(blocks) != len(widths):
            raise ConfigError(f"{who}: blocks {blocks} and widths {widths} must have the same length >= 1 "
                              f"(one number of blocks and one width per stage)")
        self.blocks = tuple(validation.positive_int(b, "each entry of blocks", who) for b in blocks)
        self.widths = tuple(validation.positive_int(w, "each entry of widths", who) for w in widths)
        self.in_channels = validation.positive_int(in_channels, "in_channels", who)
        self.num_classes = validation.positive_int(num_classes, "num_classes", who)
        self.residual = validation.boolean(residual, "residual", who)
        self.batch_norm = validation.boolean(batch_norm, "batch_norm", who)
        self.seed = seed
        self.dtype = validation.float_dtype(dtype, who)
        rng = as_rng(seed)
        self.conv1 = _conv(in_channels, widths[0], 3, 1, batch_norm, rng, self.dtype)
        if batch_norm:
            self.bn1 = BatchNorm2d(widths[0], dtype=self.dtype)
        self.relu = ReLU()
        channels = widths[0]
        for stage, (count, width) in enumerate(zip(self.blocks, self.widths), start=1):
            stride = 1 if stage == 1 else 2
            layer = Sequential(*[BasicBlock(channels if i == 0 else width, width, stride if i == 0 else 1,
                                            residual=residual, batch_norm=batch_norm, rng=rng, dtype=self.dtype)
                                 for i in range(count)])
            setattr(self, f"layer{stage}", layer)
            channels = width
        self.fc = Linear(channels, num_classes, init="torch", rng=rng, dtype=self.dtype)
        self._pooled_shape = None

    @property
    def depth(self):
        """The layers with weights on the longest path: the stem, two per block, the classifier."""
        return 2 + 2 * sum(self.blocks)

    def get_config(self):
        return {"blocks": list(self.blocks), "widths": list(self.widths), "in_channels": self.in_channels,
                "num_classes": self.num_classes, "residual": self.residual, "batch_norm": self.batch_norm,
                "seed": self.seed, "dtype": np.dtype(self.dtype).name}

    def _stages(self):
        return [getattr(self, f"layer{stage}") for stage in range(1, len(self.blocks) + 1)]

    def _stem(self):
        return [self.conv1, self.bn1, self.relu] if self.batch_norm else [self.conv1, self.relu]

    def forward(self, x):
        x = check_float_array(x, "ResNet")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ShapeError(f"ResNet expects an input x of images of shape (batch, {self.in_channels}, height, "
                             f"width), got {x.shape}" + (": reshape flattened digits with x.reshape(-1, 1, 28, 28)"
                                             if x.ndim == 2 and x.shape[1] == 784 else ""))
        for layer in self._stem() + self._stages():
            x = layer(x)
        self._pooled_shape = x.shape
        pooled = x.mean(axis=(2, 3))                          # global average pooling: (N, C)
        return self.fc(pooled)

    def backward(self, grad_output, *, need_input_grad=True):
        """Back through the classifier, the pooling (each of the H·W pixels gets 1/(H·W) of the
        gradient of its channel's mean), the stages and the stem."""
        self._require_forward(self._pooled_shape)
        n, c, h, w = self._pooled_shape
        self._check_grad_output(grad_output, (n, self.num_classes), self.dtype)
        validation.finite(grad_output, "ResNet.backward", argument="grad_output")
        g = self.fc.backward(grad_output)                     # (N, C)
        # (C, H, W, N) in memory (the layout of the convolutions, see numpy_nn/conv.py), seen as NCHW
        g = np.broadcast_to((g / (h * w)).T[:, None, None, :], (c, h, w, n)).copy().transpose(3, 0, 1, 2)
        layers = self._stem() + self._stages()
        for layer in reversed(layers[1:]):
            g = layer.backward(g)
        return self.conv1.backward(g, need_input_grad=need_input_grad)

    can_skip_input_grad = True

    def extra_repr(self):
        return ""
