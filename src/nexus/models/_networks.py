"""The PyTorch networks behind LSTMModel and TransformerModel.

Both map float32 windows (batch, L, F) to logits (batch, 3). Each starts with a
:class:`Standardize` layer holding the per-feature mean and std learned from
the training split, so the exported ONNX graph takes raw features.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["EncoderLayer", "LSTMNetwork", "Standardize", "TransformerNetwork", "sinusoidal_table"]

N_CLASSES = 3


class Standardize(nn.Module):
    """``(x - mean) / std`` per feature, with buffers saved in the state dict."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))

    def set(self, mean: np.ndarray, std: np.ndarray) -> None:
        """Store moments of shape (F,)."""
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, L, F) -> (batch, L, F)."""
        return (x - self.mean) / self.std


class LSTMNetwork(nn.Module):
    """Standardize -> LSTM -> last hidden state -> dropout -> linear (3 logits)."""

    def __init__(self, n_features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.scale = Standardize(n_features)
        self.lstm = nn.LSTM(
            n_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, L, F) -> logits (batch, 3)."""
        out, _ = self.lstm(self.scale(x))
        return self.head(self.dropout(out[:, -1, :]))


def sinusoidal_table(length: int, d_model: int) -> torch.Tensor:
    """The fixed sine/cosine position encoding of "Attention Is All You Need", (length, d_model)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model)
    )
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: d_model // 2])
    return table


class EncoderLayer(nn.Module):
    """A pre-norm Transformer encoder layer with dropout on the residual branches.

    ``h = x + drop(attn(norm(x)))``, then ``h + drop(ff(norm(h)))``, ``ff`` a
    ReLU MLP. Dropout on the attention weights is separate
    (``attention_dropout``) and off by default: on CPU every dropout mask costs
    one serial random draw per element, and the (batch, heads, L, L)
    attention mask was about a third of the Transformer's training time.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dim_feedforward: int,
        dropout: float,
        attention_dropout: float,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(
            d_model, n_heads, dropout=attention_dropout, batch_first=True
        )
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, dim_feedforward), nn.ReLU(), nn.Linear(dim_feedforward, d_model)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, L, d_model) -> (batch, L, d_model)."""
        h = self.norm1(x)
        x = x + self.dropout(self.attention(h, h, h, need_weights=False)[0])
        return x + self.dropout(self.feed_forward(self.norm2(x)))


class TransformerNetwork(nn.Module):
    """Standardize -> patches -> embedding + positions -> encoder layers -> pooling -> linear.

    Each token is a patch of ``patch_size`` consecutive bars (their ``patch_size * F``
    standardised features side by side, as in PatchTST), so the encoder sees
    ``ceil(L / patch_size)`` tokens; when ``patch_size`` does not divide ``L`` the
    oldest patch is padded in front with zeros (the training mean).

    Parameters
    ----------
    n_features, lookback : int
        ``F`` and ``L``.
    patch_size : int
        Bars per token; 1 makes every bar a token.
    d_model, n_heads, num_layers, dim_feedforward : int
        Encoder size (``d_model`` divisible by ``n_heads``).
    dropout : float
        On the embedding, on each layer's residual branches and before the head.
    attention_dropout : float
        On the attention weights.
    positional : {"sinusoidal", "learned"}
        Fixed sine/cosine table (a buffer) or a learned (L, d_model) parameter.
    pooling : {"mean", "last"}
        Mean over time steps, or the last step.
    """

    def __init__(
        self,
        n_features: int,
        lookback: int,
        *,
        patch_size: int,
        d_model: int,
        n_heads: int,
        num_layers: int,
        dim_feedforward: int,
        dropout: float,
        attention_dropout: float,
        positional: str,
        pooling: str,
    ) -> None:
        super().__init__()
        self.scale = Standardize(n_features)
        self.patch_size = patch_size
        self.n_tokens = -(-lookback // patch_size)
        self.pad = self.n_tokens * patch_size - lookback
        self.embed = nn.Linear(n_features * patch_size, d_model)
        if positional == "learned":
            self.position = nn.Parameter(0.02 * torch.randn(self.n_tokens, d_model))
        else:
            self.register_buffer("position", sinusoidal_table(self.n_tokens, d_model))
        self.layers = nn.Sequential(
            *[
                EncoderLayer(d_model, n_heads, dim_feedforward, dropout, attention_dropout)
                for _ in range(num_layers)
            ]
        )
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, N_CLASSES)
        self.pool_mean = pooling == "mean"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, L, F) -> logits (batch, 3)."""
        x = self.scale(x)
        if self.pad:
            x = nn.functional.pad(x, (0, 0, self.pad, 0))
        tokens = x.reshape(x.shape[0], self.n_tokens, self.patch_size * x.shape[2])
        h = self.layers(self.dropout(self.embed(tokens) + self.position))
        pooled = h.mean(dim=1) if self.pool_mean else h[:, -1, :]
        return self.head(self.dropout(self.norm(pooled)))
