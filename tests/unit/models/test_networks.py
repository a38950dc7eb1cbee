"""The Transformer's patching: which bars go into which token."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nexus.models._networks import TransformerNetwork


@pytest.mark.parametrize(("lookback", "patch", "tokens", "pad"), [(12, 4, 3, 0), (7, 3, 3, 2)])
def test_tokens_are_consecutive_bars_with_the_oldest_patch_padded(
    lookback: int, patch: int, tokens: int, pad: int
) -> None:
    net = TransformerNetwork(
        2, lookback, patch_size=patch, d_model=8, n_heads=2, num_layers=1, dim_feedforward=8,
        dropout=0.0, attention_dropout=0.0, positional="sinusoidal", pooling="mean",
    )  # fmt: skip
    net.scale.set(np.array([1.0, -1.0]), np.array([2.0, 0.5]))
    seen = []
    net.embed.register_forward_hook(lambda _m, args, _out: seen.append(args[0]))
    x = torch.randn(5, lookback, 2)
    assert net(x).shape == (5, 3)
    scaled = (x - torch.tensor([1.0, -1.0])) / torch.tensor([2.0, 0.5])
    padded = torch.cat([torch.zeros(5, pad, 2), scaled], dim=1)
    assert seen[0].shape == (5, tokens, patch * 2)
    for k in range(tokens):
        window = padded[:, k * patch : (k + 1) * patch, :].reshape(5, -1)
        torch.testing.assert_close(seen[0][:, k, :], window)
    assert net.position.shape == (tokens, 8)
