"""What the PyTorch models (SASRec, the VAE) share: importing torch on use, a bounded thread count,
and their trained weights as one flat float32 array (so `limelight.artifacts` saves them like any
other model's arrays) and back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from limelight.errors import ConfigError

__all__ = ["load_torch", "pack_state", "torch_threads", "unpack_state"]


def load_torch(model: str) -> Any:
    """The torch module, or one sentence saying that `model` needs it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError(f"{model} needs PyTorch; install it with: pip install 'limelight[deep]'") from exc
    return torch


@contextmanager
def torch_threads(model: str, threads: int) -> Iterator[None]:
    """Run torch with `threads` intra-op threads for `model`, then restore the caller's setting.

    Small models lose badly to thread synchronisation on a busy machine (32 s vs 1 s for the
    test-sized model on 2 shared cores), so one thread is the default.
    """
    torch = load_torch(model)
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pack_state(state: dict[str, Any], keys: Sequence[str]) -> np.ndarray:
    """The tensors of `state` named by `keys`, flattened in that order into one float32 array."""
    return np.concatenate([state[k].detach().numpy().ravel() for k in keys]).astype(np.float32)


def unpack_state(torch: Any, template: dict[str, Any], keys: Sequence[str], values: np.ndarray) -> dict[str, Any]:
    """`pack_state` undone: each key's tensor, shaped like the `template` network's."""
    state, offset = {}, 0
    for key in keys:
        size = template[key].numel()
        state[key] = torch.from_numpy(np.array(values[offset : offset + size]).reshape(tuple(template[key].shape)))
        offset += size
    return state
