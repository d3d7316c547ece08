"""nncourse: the package behind the course "From the perceptron to a GPT".

``nncourse.numpy_nn``  the building blocks, written from scratch in NumPy and named like PyTorch
``nncourse.torch_nn``  their PyTorch side (same seeds, same numbers)
``nncourse.models``    every complete model, in NumPy and (``nncourse.models.torch``) in PyTorch
``nncourse.train``     one training loop (``fit``) for both back ends
``nncourse.data``      toy data sets, MNIST, names, Shakespeare, sequence tasks
``nncourse.autograd``  an automatic differentiation engine (chapter 13)
``nncourse.tokenizers``  byte-level byte-pair encoding (chapter 14)
``nncourse.scaling``   devices, data parallelism, accumulation, checkpoints (chapter 15)
``nncourse.evaluation``, ``nncourse.plots``, ``nncourse.results``  accuracy, figures, results tables
``nncourse.widgets``   interactive playgrounds
``nncourse.checks``    feedback for the exercises
"""

__version__ = "0.1.0"
