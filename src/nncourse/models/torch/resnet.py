"""The torch twin of ``nncourse.models.resnet``: the same small ResNet, with the same class names and the
same ``state_dict`` names, so either model loads the other's weights as they are.

``ResNet(..., seed=s)`` starts from the weights of the NumPy ``ResNet(..., seed=s)`` (it builds the NumPy
model and copies its state), so both back ends can be compared number for number.
"""

import torch

from ...errors import DTypeError, ShapeError
from ...numpy_nn.registry import load_numpy_state
from ...validation import as_array, boolean, finite, positive_int
from .. import resnet as numpy_resnet

__all__ = ["BasicBlock", "ResNet"]


def _check_images(x, channels, who):
    """Cheap checks of a batch of images (a float tensor (N, channels, H, W)): type, dtype and shape."""
    if not isinstance(x, torch.Tensor):
        as_array(x, "input x", who)                           # a ragged list gets its own words
        raise DTypeError(f"{who}: the input x must be a torch tensor of images, got {type(x).__name__}; convert "
                         f"with torch.as_tensor(x, dtype=torch.float32)")
    if not x.is_floating_point():
        raise DTypeError(f"{who} expects a floating-point input x, got {x.dtype}: convert it with x.float()")
    if x.ndim != 4 or x.shape[1] != channels:
        raise ShapeError(f"{who} expects an input x of shape (batch, {channels}, height, width) (NCHW), got "
                         f"{tuple(x.shape)}")
    return x


class BasicBlock(torch.nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``; see the NumPy twin for the maths."""

    def __init__(self, in_channels, out_channels, stride=1, *, residual=True, batch_norm=True,
                 dtype=torch.float32):
        super().__init__()
        from ...torch_nn.dtypes import torch_dtype

        in_channels = positive_int(in_channels, "in_channels", "BasicBlock")
        out_channels = positive_int(out_channels, "out_channels", "BasicBlock")
        stride = positive_int(stride, "stride", "BasicBlock")
        residual = boolean(residual, "residual", "BasicBlock")
        batch_norm = boolean(batch_norm, "batch_norm", "BasicBlock")
        dtype = torch_dtype(dtype)
        self.in_channels = in_channels
        self.residual, self.batch_norm = residual, batch_norm

        def conv(c_in, c_out, k, s):
            return torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, bias=not batch_norm, dtype=dtype)

        self.conv1 = conv(in_channels, out_channels, 3, stride)
        self.bn1 = torch.nn.BatchNorm2d(out_channels, dtype=dtype) if batch_norm else torch.nn.Identity()
        self.conv2 = conv(out_channels, out_channels, 3, 1)
        self.bn2 = torch.nn.BatchNorm2d(out_channels, dtype=dtype) if batch_norm else torch.nn.Identity()
        self.downsample = None
        if residual and (stride != 1 or in_channels != out_channels):
            layers = [conv(in_channels, out_channels, 1, stride)]
            if batch_norm:
                layers.append(torch.nn.BatchNorm2d(out_channels, dtype=dtype))
            self.downsample = torch.nn.Sequential(*layers)

    def forward(self, x):
        x = _check_images(x, self.in_channels, "BasicBlock")
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return torch.relu(out)


class ResNet(torch.nn.Module):
    """The torch twin of ``nncourse.models.resnet.ResNet`` (same arguments)."""

    def __init__(self, blocks=(1, 1, 1), widths=(8, 16, 32), in_channels=1, num_classes=10, *,
                 residual=True, batch_norm=True, seed=0, dtype=torch.float32):
        super().__init__()
        from ...torch_nn.dtypes import numpy_dtype, torch_dtype

        dtype = torch_dtype(dtype)
        # the NumPy model checks the arguments and draws the initial weights
        twin = numpy_resnet.ResNet(blocks, widths, in_channels, num_classes, residual=residual,
                                   batch_norm=batch_norm, seed=seed, dtype=numpy_dtype(dtype))
        self.config = twin.get_config()
        self.conv1 = torch.nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=not batch_norm, dtype=dtype)
        self.bn1 = torch.nn.BatchNorm2d(widths[0], dtype=dtype) if batch_norm else torch.nn.Identity()
        channels = widths[0]
        for stage, (count, width) in enumerate(zip(twin.blocks, twin.widths), start=1):
            stride = 1 if stage == 1 else 2
            setattr(self, f"layer{stage}", torch.nn.Sequential(*[
                BasicBlock(channels if i == 0 else width, width, stride if i == 0 else 1, residual=residual,
                           batch_norm=batch_norm, dtype=dtype) for i in range(count)]))
            channels = width
        self.fc = torch.nn.Linear(channels, num_classes, dtype=dtype)
        self.stages = len(twin.blocks)
        load_numpy_state(self, twin)

    def forward(self, x):
        x = _check_images(x, self.config["in_channels"], "ResNet")     # the NumPy twin's checks, the same words
        if len(x) == 0:
            raise ShapeError(f"ResNet got an empty batch (input x of shape {tuple(x.shape)}): pass at least one image")
        finite(x.detach().cpu().numpy(), "ResNet", argument="input x")
        x = torch.relu(self.bn1(self.conv1(x)))
        for stage in range(1, self.stages + 1):
            x = getattr(self, f"layer{stage}")(x)
        return self.fc(x.mean(dim=(2, 3)))                 # global average pooling, then the classifier
