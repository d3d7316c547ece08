"""Recurrent layers: ``RNN`` (Elman, tanh or ReLU), ``LSTM`` and ``GRU`` (torch keeps them in
``torch/nn/modules/rnn.py``), with backpropagation through time.

A recurrent layer applies the *same* cell at every time step and carries a hidden state forward::

    RNN:   h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)

    LSTM:  [i, f, g, o] = x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh     (4 blocks of H columns)
           i, f, o = sigmoid(.)    g = tanh(.)
           c_t = f * c_{t-1} + i * g          the cell state: a sum, not a product, through time
           h_t = o * tanh(c_t)

    GRU:   [r, z] = sigmoid(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)   (first 2 blocks)
           n = tanh(x_t @ W_in.T + b_in + r * (h_{t-1} @ W_hn.T + b_hn))   (third block)
           h_t = (1 - z) * n + z * h_{t-1}

Shapes: ``T`` time steps, ``B`` batch, ``I`` input size, ``H`` hidden size, ``L`` layers. Inside,
everything is time-major ``(T, B, ...)``; ``batch_first=True`` only changes the layout of the
input and output, as in torch.

Two tricks make the NumPy version fast (a Python loop over time is unavoidable, so the work inside
it must be small):

* the input projection ``x_t @ W_ih.T + b`` does not depend on the hidden state, so it is computed
  for all time steps in **one** matrix product before the loop;
* in ``backward``, the loop only carries the gradient through time; the weight gradients are sums
  over time of outer products, computed after the loop as **one** product each.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from ..utils import as_rng
from .module import Module
from .parameter import Parameter

__all__ = ["RNN", "LSTM", "GRU"]


def _sigmoid(z, out=None):
    """The logistic function written through tanh: no overflow warning for large |z|."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class RNNBase(Module):
    """What ``RNN`` and ``LSTM`` share: parameters, input and state checks, the loop over layers.

    A subclass sets ``_n_gates`` (1 for the RNN, 4 for the LSTM), ``_n_states`` (1: h, or 2: h and
    c) and implements ``_layer_forward`` and ``_layer_backward`` for one layer over all time steps.
    """

    _n_gates = 1
    _n_states = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, *,
                 seed=None, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}: {arg} must be a positive integer, got {value!r}")
        dtype = validation.float_dtype(dtype, name)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = validation.boolean(bias, "bias", name)
        self.batch_first = validation.boolean(batch_first, "batch_first", name)
        self.dtype = dtype

        # torch's default: every weight and bias from U(-1/sqrt(H), 1/sqrt(H))
        rng = as_rng(seed, rng)
        bound = 1.0 / np.sqrt(self.hidden_size)
        G = self._n_gates * self.hidden_size
        for k in range(self.num_layers):
            fan = self.input_size if k == 0 else self.hidden_size
            shapes = {f"weight_ih_l{k}": (G, fan), f"weight_hh_l{k}": (G, self.hidden_size)}
            if self.bias:
                shapes.update({f"bias_ih_l{k}": (G,), f"bias_hh_l{k}": (G,)})
            for pname, shape in shapes.items():
                setattr(self, pname, Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype)))
        self._caches = None
        self.grad_hx = None   # d loss / d initial state, filled in by backward

    # ------------------------------------------------------------------ parameters of one layer
    def _weights(self, k):
        """``(W_ih, W_hh, b)`` of layer ``k``; ``b = b_ih + b_hh`` (or ``None``)."""
        W_ih = getattr(self, f"weight_ih_l{k}").data
        W_hh = getattr(self, f"weight_hh_l{k}").data
        b = None
        if self.bias:
            b = getattr(self, f"bias_ih_l{k}").data + getattr(self, f"bias_hh_l{k}").data
        return W_ih, W_hh, b

    def _project_input(self, k, x, *, both_biases=True):
        """``x @ W_ih.T + b`` for all time steps at once: (T, B, I) -> (T, B, G*H), one matmul.

        ``b = b_ih + b_hh``, or only ``b_ih`` with ``both_biases=False`` (the GRU keeps ``b_hh`` apart).
        """
        W_ih, _, b = self._weights(k)
        T, B, I = x.shape
        pre = (x.reshape(T * B, I) @ W_ih.T).reshape(T, B, -1)
        if self.bias:
            pre += b if both_biases else getattr(self, f"bias_ih_l{k}").data
        return pre

    def _accumulate(self, k, x, h_prev, dZ, dZ_hh=None):
        """Weight gradients of layer ``k`` from the pre-activation gradients ``dZ`` (T, B, G*H) of all
        steps: sums over time become single matrix products. Returns d loss / d x (T, B, I).

        ``dZ_hh`` is the gradient of the hidden-side pre-activations when it differs from ``dZ`` (GRU).
        """
        T, B, I = x.shape
        dZ2 = dZ.reshape(T * B, -1)                                                # (T*B, G*H)
        dZ2_hh = dZ2 if dZ_hh is None else dZ_hh.reshape(T * B, -1)
        getattr(self, f"weight_ih_l{k}").accumulate_grad(dZ2.T @ x.reshape(T * B, I))           # (G*H, I)
        getattr(self, f"weight_hh_l{k}").accumulate_grad(dZ2_hh.T @ h_prev.reshape(T * B, -1))  # (G*H, H)
        if self.bias:
            getattr(self, f"bias_ih_l{k}").accumulate_grad(dZ2.sum(axis=0))
            getattr(self, f"bias_hh_l{k}").accumulate_grad(dZ2_hh.sum(axis=0))
        return (dZ2 @ getattr(self, f"weight_ih_l{k}").data).reshape(T, B, I)

    # ------------------------------------------------------------------ forward
    def _forward(self, input, states):
        """Shared forward: returns the output and a tuple of final states, each (L, B, H)."""
        x, batched = self._time_major_input(input)                   # (T, B, I)
        T, B, _ = x.shape
        states = self._initial_states(states, input.shape, batched, B)
        finals = tuple(np.empty_like(s) for s in states)
        caches = []
        for k in range(self.num_layers):
            x, cache, last = self._layer_forward(k, x, tuple(s[k] for s in states))
            caches.append(cache)
            for final, value in zip(finals, last):
                final[k] = value
        self._caches = caches
        self._batched = batched
        self._input_shape = input.shape
        # the top layer's hidden states are also its backward cache: hand out a copy, so that editing
        # the output in place cannot change the gradients (the batch_first swap copies anyway)
        if self.batch_first and batched:
            output = np.ascontiguousarray(x.swapaxes(0, 1))          # (B, T, H)
        else:
            output = x.copy()                                        # (T, B, H)
        if not batched:
            output, finals = output[:, 0], tuple(f[:, 0] for f in finals)
        self._output_shape = output.shape
        return output, finals

    def _time_major_input(self, input):
        name = self._label()
        if not isinstance(input, np.ndarray):
            input = validation.as_array(input, "input", name)
        if input.dtype.kind in "iub":
            raise DTypeError(f"{name} expects float input vectors, got dtype {input.dtype}: turn symbol indices "
                             f"into vectors first with an Embedding (or one-hot encode them)")
        if input.dtype.kind != "f":
            raise DTypeError(f"{name} expects a floating-point input, got dtype {input.dtype}")
        layout = "(batch, time, input_size)" if self.batch_first else "(time, batch, input_size)"
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name} expects input of shape {layout} (or (time, input_size) for one sequence) with "
                f"input_size={self.input_size}, got {input.shape}"
                + (f": the last axis must be the features ({self.input_size})" if input.ndim in (2, 3) else "")
            )
        if 0 in input.shape:
            raise ShapeError(f"{name} got an empty input of shape {input.shape}: pass at least one time step")
        if input.dtype != self.dtype:
            raise DTypeError(f"{name} has {self.dtype} weights but got {input.dtype} input: convert with "
                             f"x.astype(np.{self.dtype}), or build the layer with dtype=np.{input.dtype}")
        if not np.isfinite(input).all():
            raise NonFiniteError(f"{name} got input containing NaN or inf: clean the data, or, if it comes "
                                 f"from an earlier layer, lower the learning rate (training diverged)")
        batched = input.ndim == 3
        x = input if batched else input[:, None, :]
        if batched and self.batch_first:
            x = x.swapaxes(0, 1)
        # always a copy (the batch_first swap needs one anyway): backward reads the input, and the
        # caller may reuse or edit their array after forward
        return np.array(x, order="C"), batched

    def _initial_states(self, states, input_shape, batched, B):
        """Zeros, or the given initial states checked against (L, B, H); a batch that fits the
        *other* axis of the input is a batch_first mix-up, and the message says so."""
        L, H = self.num_layers, self.hidden_size
        if states is None:
            return tuple(np.zeros((L, B, H), dtype=self.dtype) for _ in range(self._n_states))
        names = ("h_0", "c_0")[: self._n_states]
        expected = (L, B, H) if batched else (L, H)
        checked = []
        for sname, s in zip(names, states):
            if not isinstance(s, np.ndarray):
                s = np.asarray(s)
            if s.dtype != self.dtype:
                raise DTypeError(f"{self._label()}: {sname} has dtype {s.dtype} but the layer is {self.dtype}: "
                                 f"convert with {sname}.astype(np.{self.dtype})")
            if s.shape != expected:
                raise ShapeError(self._state_message(sname, s.shape, expected, input_shape, batched))
            if not np.isfinite(s).all():
                raise NonFiniteError(f"{self._label()}: {sname} contains NaN or inf, which would spread to "
                                     f"every output; pass finite initial states (or None for zeros), and if "
                                     f"{sname} is the previous batch's state, training has diverged: lower "
                                     f"the learning rate")
            s = s.copy()                                 # backward reads it: a private copy (it is small)
            checked.append(s if batched else s[:, None, :])
        return tuple(checked)

    def _state_message(self, sname, got, expected, input_shape, batched):
        message = (f"{self._label()}: {sname} must have shape (num_layers, batch, hidden_size) = {expected}, "
                   f"got {got}")
        if batched and len(got) == 3 and got[0] == self.num_layers and got[2] == self.hidden_size:
            other_axis = 1 if self.batch_first else 0       # the time axis, if batch_first is right
            if got[1] == input_shape[other_axis]:
                layout = "(batch, time, features)" if not self.batch_first else "(time, batch, features)"
                return (f"{message}. The state's batch size {got[1]} matches axis "
                        f"{other_axis} of the input {input_shape}, so the input looks "
                        f"like {layout}: build the layer with batch_first={not self.batch_first} "
                        f"(or transpose the input with x.swapaxes(0, 1))")
        if len(got) == 2 and batched:
            return f"{message}: add the layer axis, {sname}[None] (num_layers={self.num_layers})"
        return message

    # ------------------------------------------------------------------ backward
    def _backward(self, grad_output, grad_finals):
        """Backpropagation through time over all layers; returns d loss / d input."""
        self._require_forward(self._caches)
        self._check_grad_output(grad_output, self._output_shape, self.dtype)
        g = grad_output if self._batched else grad_output[:, None, :]
        if self.batch_first and self._batched:
            g = g.swapaxes(0, 1)
        g = np.ascontiguousarray(g)                                  # (T, B, H)
        grads = []
        for sname, gf in zip(("grad_h_n", "grad_c_n"), grad_finals):
            if gf is not None:
                expected = (self.num_layers, g.shape[1], self.hidden_size) if self._batched else \
                    (self.num_layers, self.hidden_size)
                if not isinstance(gf, np.ndarray) or gf.shape != expected:
                    raise ShapeError(f"{self._label()}.backward: {sname} must be an array with the shape of "
                                     f"the final state {expected}, got {getattr(gf, 'shape', type(gf).__name__)}")
                if gf.dtype != self.dtype:
                    raise DTypeError(f"{self._label()}.backward: {sname} has dtype {gf.dtype}, expected "
                                     f"{self.dtype}: convert with .astype(np.{self.dtype})")
                gf = gf if self._batched else gf[:, None, :]
            grads.append(gf)
        initial = [np.empty((self.num_layers, g.shape[1], self.hidden_size), dtype=self.dtype)
                   for _ in range(self._n_states)]
        for k in range(self.num_layers - 1, -1, -1):
            layer_finals = tuple(None if gf is None else gf[k] for gf in grads)
            g, d_initial = self._layer_backward(k, self._caches[k], g, layer_finals)
            for store, value in zip(initial, d_initial):
                store[k] = value
        if not self._batched:
            initial = [s[:, 0] for s in initial]
            return g[:, 0], initial
        if self.batch_first:
            g = np.ascontiguousarray(g.swapaxes(0, 1))
        return g, initial

    # ------------------------------------------------------------------ printing
    def _label(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def get_config(self):
        config = {"input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                  "bias": self.bias, "batch_first": self.batch_first, "dtype": self.dtype.name}
        if isinstance(self, RNN):
            config["nonlinearity"] = self.nonlinearity
        return config

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        return text


class _HiddenStateOnly:
    """``forward`` / ``backward`` of the recurrent layers whose only state is ``h`` (``RNN``, ``GRU``)."""

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, None if hx is None else (hx,))
        return output, h_n

    def backward(self, grad_output, grad_h_n=None):
        grad_input, (self.grad_hx,) = self._backward(grad_output, (grad_h_n,))
        return grad_input


class RNN(_HiddenStateOnly, RNNBase):
    """``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False)``.

    ``forward(input, h_0=None) -> (output, h_n)``: ``input`` (T, B, I) (or (B, T, I) with
    ``batch_first``, or (T, I) for one sequence), ``h_0`` and ``h_n`` (L, B, H), ``output`` the top
    layer's hidden states (T, B, H). Parameters as in torch: ``weight_ih_l{k}`` (H, I or H),
    ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,).

    ``backward(grad_output, grad_h_n=None)`` runs backpropagation through time, accumulates every
    parameter gradient and returns d loss / d input; d loss / d h_0 is left in ``grad_hx``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, *, seed=None, rng=None, dtype=np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ConfigError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, seed=seed, rng=rng, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _layer_forward(self, k, x, state):
        (h,) = state                                        # (B, H)
        _, W_hh, _ = self._weights(k)
        pre = self._project_input(k, x)                     # (T, B, H): x_t @ W_ih.T + b, all t at once
        hs = np.empty_like(pre)                             # (T, B, H): every hidden state
        for t in range(len(x)):
            a = np.matmul(h, W_hh.T, out=hs[t])             # h_{t-1} @ W_hh.T ...
            a += pre[t]                                     # ... + x_t @ W_ih.T + b
            h = np.tanh(a, out=a) if self.nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        return hs, (x, state[0], hs), (h,)

    def _layer_backward(self, k, cache, g, finals):
        x, h0, hs = cache
        _, W_hh, _ = self._weights(k)
        dh = np.zeros_like(h0) if finals[0] is None else finals[0].copy()   # d loss / d h_t, from later steps
        dA = np.empty_like(hs)                              # (T, B, H): d loss / d pre-activation
        for t in range(len(hs) - 1, -1, -1):
            dh += g[t]                                      # ... plus from the output at step t
            if self.nonlinearity == "tanh":
                np.multiply(dh, 1 - hs[t] * hs[t], out=dA[t])   # tanh' = 1 - h^2
            else:
                np.multiply(dh, hs[t] > 0, out=dA[t])
            dh = dA[t] @ W_hh                               # to h_{t-1}
        h_prev = np.concatenate([h0[None], hs[:-1]])        # (T, B, H): h_{t-1} for every t
        dx = self._accumulate(k, x, h_prev, dA)
        return dx, (dh,)

    def extra_repr(self):
        text = super().extra_repr()
        return text + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False)``.

    ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))`` with the shapes of ``RNN``. The
    gates are stacked in torch's order i, f, g, o: ``weight_ih_l{k}`` is (4H, I), ``weight_hh_l{k}``
    (4H, H), the biases (4H,).

    ``backward(grad_output, grad_h_n=None, grad_c_n=None)`` returns d loss / d input and leaves
    ``(d h_0, d c_0)`` in ``grad_hx``.
    """

    _n_gates = 4
    _n_states = 2

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ShapeError(f"{self._label()}: the initial state must be a pair (h_0, c_0), each of shape "
                             f"(num_layers, batch, hidden_size), got {type(hx).__name__}")
        output, (h_n, c_n) = self._forward(input, hx)
        return output, (h_n, c_n)

    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        grad_input, initial = self._backward(grad_output, (grad_h_n, grad_c_n))
        self.grad_hx = tuple(initial)
        return grad_input

    def _layer_forward(self, k, x, state):
        h, c = state                                        # (B, H) each
        H = self.hidden_size
        _, W_hh, _ = self._weights(k)
        gates = self._project_input(k, x)                   # (T, B, 4H): x_t @ W_ih.T + b, all t at once
        T, B, _ = gates.shape
        cs = np.empty((T, B, H), dtype=x.dtype)             # cell states
        tcs = np.empty_like(cs)                             # tanh(c_t)
        hs = np.empty_like(cs)                              # hidden states
        for t in range(T):
            z = gates[t]                                    # (B, 4H), becomes the gate values in place
            z += h @ W_hh.T
            _sigmoid(z[:, :2 * H], out=z[:, :2 * H])        # i, f
            np.tanh(z[:, 2 * H:3 * H], out=z[:, 2 * H:3 * H])   # g
            _sigmoid(z[:, 3 * H:], out=z[:, 3 * H:])        # o
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            c = f * c + i * g
            cs[t] = c
            np.tanh(c, out=tcs[t])
            h = np.multiply(o, tcs[t], out=hs[t])
        return hs, (x, state[0], state[1], gates, cs, tcs, hs), (h, c)

    def _layer_backward(self, k, cache, g_out, finals):
        x, h0, c0, gates, cs, tcs, hs = cache
        H = self.hidden_size
        _, W_hh, _ = self._weights(k)
        dh = np.zeros_like(h0) if finals[0] is None else finals[0].copy()
        dc = np.zeros_like(c0) if finals[1] is None else finals[1].copy()
        dZ = np.empty_like(gates)                           # (T, B, 4H): d loss / d gate pre-activations
        for t in range(len(gates) - 1, -1, -1):
            z = gates[t]
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            c_prev = cs[t - 1] if t > 0 else c0
            tc = tcs[t]
            dh += g_out[t]
            dc += dh * o * (1 - tc * tc)                    # through h_t = o * tanh(c_t)
            d = dZ[t]
            np.multiply(dc * g, i * (1 - i), out=d[:, :H])              # d i
            np.multiply(dc * c_prev, f * (1 - f), out=d[:, H:2 * H])    # d f
            np.multiply(dc * i, 1 - g * g, out=d[:, 2 * H:3 * H])       # d g
            np.multiply(dh * tc, o * (1 - o), out=d[:, 3 * H:])         # d o
            dc *= f                                         # to c_{t-1}: the forget gate, nothing else
            dh = d @ W_hh                                   # to h_{t-1}
        h_prev = np.concatenate([h0[None], hs[:-1]])
        dx = self._accumulate(k, x, h_prev, dZ)
        return dx, (dh, dc)


class GRU(_HiddenStateOnly, RNNBase):
    """``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False)``.

    ``forward(input, h_0=None) -> (output, h_n)`` with the shapes of ``RNN``. Gates stacked in torch's
    order r, z, n: ``weight_ih_l{k}`` is (3H, I), ``weight_hh_l{k}`` (3H, H), the biases (3H,). Unlike
    the RNN and LSTM, ``b_hh`` cannot be folded into ``b_ih``: the candidate ``n`` multiplies the
    hidden part, bias included, by the reset gate ``r``.

    ``backward(grad_output, grad_h_n=None)`` returns d loss / d input; d loss / d h_0 is in ``grad_hx``.
    """

    _n_gates = 3

    def _layer_forward(self, k, x, state):
        (h,) = state                                        # (B, H)
        H = self.hidden_size
        _, W_hh, _ = self._weights(k)
        b_hh = getattr(self, f"bias_hh_l{k}").data if self.bias else 0
        gates = self._project_input(k, x, both_biases=False)   # (T, B, 3H): x_t @ W_ih.T + b_ih, all t
        T, B, _ = gates.shape
        hidden_n = np.empty((T, B, H), dtype=x.dtype)      # h_{t-1} @ W_hn.T + b_hn, needed by backward
        hs = np.empty_like(hidden_n)
        for t in range(T):
            hh = h @ W_hh.T + b_hh                          # (B, 3H)
            z = gates[t]                                    # becomes the gate values in place
            z[:, :2 * H] += hh[:, :2 * H]
            _sigmoid(z[:, :2 * H], out=z[:, :2 * H])        # r, u (torch calls the update gate z)
            hidden_n[t] = hh[:, 2 * H:]
            r, u = z[:, :H], z[:, H:2 * H]
            z[:, 2 * H:] += r * hidden_n[t]
            n = np.tanh(z[:, 2 * H:], out=z[:, 2 * H:])
            h = np.add((1 - u) * n, u * h, out=hs[t])
        return hs, (x, state[0], gates, hidden_n, hs), (h,)

    def _layer_backward(self, k, cache, g_out, finals):
        x, h0, gates, hidden_n, hs = cache
        H = self.hidden_size
        _, W_hh, _ = self._weights(k)
        dh = np.zeros_like(h0) if finals[0] is None else finals[0].copy()
        dX = np.empty_like(gates)                           # d loss / d (input-side pre-activations)
        dHH = np.empty_like(gates)                          # d loss / d (hidden-side pre-activations)
        for t in range(len(gates) - 1, -1, -1):
            r, u, n = gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:]
            h_prev = hs[t - 1] if t > 0 else h0
            dh = dh + g_out[t]
            da_n = dh * (1 - u) * (1 - n * n)               # through n = tanh(a_n)
            dX[t, :, 2 * H:] = da_n
            dHH[t, :, 2 * H:] = da_n * r                    # a_n = x-part + r * (h W_hn.T + b_hn)
            dX[t, :, :H] = dHH[t, :, :H] = da_n * hidden_n[t] * r * (1 - r)
            dX[t, :, H:2 * H] = dHH[t, :, H:2 * H] = dh * (h_prev - n) * u * (1 - u)
            dh = dh * u + dHH[t] @ W_hh                     # to h_{t-1}: directly and through W_hh
        h_prev = np.concatenate([h0[None], hs[:-1]])
        dx = self._accumulate(k, x, h_prev, dX, dHH)
        return dx, (dh,)


# --- twins in torch and saving (nncourse.numpy_nn.registry) -----------------------------------------------
from ..errors import ConversionError  # noqa: E402
from .registry import copy_into, numpy_dtype_of, register_twin, saveable, to_numpy, torch_dtype_of  # noqa: E402


def _recurrent_from_torch(layer, where, rng):
    """``torch.nn.RNN`` / ``LSTM`` / ``GRU`` -> the NumPy twin, every ``weight_ih_l{k}``... copied by name."""
    unsupported = {"bidirectional": layer.bidirectional, "dropout": layer.dropout,
                   "proj_size": getattr(layer, "proj_size", 0)}
    used = {name: value for name, value in unsupported.items() if value}
    if used:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy {type(layer).__name__} does not "
            f"support {', '.join(f'{k}={v}' for k, v in used.items())}"
        )
    dtype = numpy_dtype_of(layer, where)
    options = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first, dtype=dtype)
    if layer.mode in ("LSTM", "GRU"):
        twin = (LSTM if layer.mode == "LSTM" else GRU)(layer.input_size, layer.hidden_size, **options)
    else:
        twin = RNN(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity, **options)
    for name, param in twin.named_parameters():
        param.data = to_numpy(getattr(layer, name), dtype)     # same names, shapes and gate order
    return twin


def _recurrent_to_torch(layer, where):
    """``numpy_nn.RNN`` / ``LSTM`` / ``GRU`` -> the torch layer: same names, shapes, gate order."""
    import torch

    # built on the "meta" device (no random initialisation, which would draw from torch's global
    # generator for nothing), then given real, uninitialised memory; skip_init cannot build an RNN
    options = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
                   dtype=torch_dtype_of(layer), device="meta")
    if isinstance(layer, RNN):
        twin = torch.nn.RNN(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity, **options)
    else:
        twin = getattr(torch.nn, type(layer).__name__)(layer.input_size, layer.hidden_size, **options)
    twin = twin.to_empty(device="cpu")
    for name, param in layer.named_parameters():
        copy_into(getattr(twin, name), param.data)
    return twin


for _class in (RNN, LSTM, GRU):
    register_twin(_class, f"torch.nn.{_class.__name__}", from_torch=_recurrent_from_torch,
                  to_torch=_recurrent_to_torch)
    saveable(_class)
