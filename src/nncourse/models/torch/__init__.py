"""The torch twins of the complete models in ``nncourse.models`` (same class names, same ``state_dict`` names)."""

from .resnet import *  # noqa: F401,F403  ResNet, BasicBlock
