"""nncourse: the package behind the course "From the perceptron to MNIST".

``nncourse.numpy_nn``  a neural network written from scratch in NumPy, named like PyTorch
``nncourse.torch_nn``  the same networks in PyTorch (same seeds, same numbers)
``nncourse.train``     one training loop (``fit``) for both back ends
``nncourse.data``      toy data sets and MNIST
``nncourse.evaluation``, ``nncourse.plots``  accuracy, confusion matrices, figures
``nncourse.widgets``   interactive playgrounds
``nncourse.checks``    feedback for the exercises
"""

__version__ = "0.1.0"
