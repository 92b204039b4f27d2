"""SASRec (Kang & McAuley 2018): a causal self-attention model of each member's sequence of titles.

Trained with full softmax over the catalog (`negatives=0`, the default; Petrov & Macdonald 2023
show it beats the original one-negative BCE) or with `negatives` uniformly sampled negatives
shared across a batch. Needs PyTorch (`pip install 'limelight[deep]'`), imported only on use.

Order: training sequences come from `Interactions.events` (timestamps). At scoring time the
history row's *values* give the order (larger = later: pass `Interactions.last_at` rows); rows of
plain 1s are ordered by each title's mean interaction time in training.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from limelight.personalize.base import Interactions, Recommender, check_number
from limelight.personalize.models._torch import load_torch, pack_state, torch_threads, unpack_state

__all__ = ["SASRec"]

log = logging.getLogger(__name__)


def _build_network(torch: Any, n_titles: int, hidden: int, max_len: int, blocks: int, heads: int, dropout: float) -> Any:
    nn = torch.nn

    class SASRecNetwork(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.title_embedding = nn.Embedding(n_titles + 1, hidden, padding_idx=0)
            # unit-norm title vectors: with a layer-normed hidden state the logits start near N(0, 1)
            nn.init.normal_(self.title_embedding.weight, std=hidden**-0.5)
            with torch.no_grad():
                self.title_embedding.weight[0].zero_()
            self.position_embedding = nn.Embedding(max_len, hidden)
            layer = nn.TransformerEncoderLayer(
                hidden, heads, dim_feedforward=hidden, dropout=dropout, batch_first=True, norm_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("causal", torch.triu(torch.ones(max_len, max_len, dtype=torch.bool), 1))

        def forward(self, sequences: Any) -> Any:
            length = sequences.shape[1]
            keep = (sequences > 0).unsqueeze(-1).float()
            positions = torch.arange(length, device=sequences.device)
            x = self.title_embedding(sequences) * hidden**0.5 + self.position_embedding(positions)
            x = self.dropout(x) * keep
            x = self.encoder(x, mask=self.causal[:length, :length])
            return self.norm(x) * keep

    return SASRecNetwork()


class SASRec(Recommender):
    """Self-attentive sequential recommendation, small enough to train on a CPU."""

    name = "sasrec"
    uses_order: ClassVar[bool] = True
    _array_attrs: ClassVar[tuple[str, ...]] = ("state_values_", "title_mean_time_")
    _meta_attrs: ClassVar[tuple[str, ...]] = ("state_keys_",)

    def __init__(
        self,
        hidden: int = 64,
        max_len: int = 50,
        blocks: int = 2,
        heads: int = 1,
        dropout: float = 0.2,
        epochs: int = 20,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        negatives: int = 0,
        seed: int = 7,
        threads: int = 1,
        max_seconds: float | None = None,
    ) -> None:
        self.hidden = hidden
        self.max_len = max_len
        self.blocks = blocks
        self.heads = heads
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.negatives = negatives
        self.seed = seed
        self.threads = threads
        self.max_seconds = max_seconds

    # -- training -----------------------------------------------------------------------------
    def _sequences(self, interactions: Interactions) -> list[np.ndarray]:
        if interactions.events is not None and len(interactions.events):
            events = interactions.events.sort_values(["member_idx", "timestamp", "title_idx"], kind="stable")
            member = events["member_idx"].to_numpy()
            titles = events["title_idx"].to_numpy() + 1
            cuts = np.flatnonzero(np.diff(member)) + 1
            return [s for s in np.split(titles, cuts) if len(s) >= 2]
        log.warning("SASRec: no timestamps, so sequences follow title order within each member")
        csr = interactions.matrix.tocsr()
        return [csr.indices[csr.indptr[r] : csr.indptr[r + 1]] + 1 for r in range(csr.shape[0])]

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        with torch_threads("SASRec", self.threads):
            return self._fit(interactions)

    def check_params(self) -> None:
        for name, low, high in (("hidden", 1, 4096), ("max_len", 2, 4096), ("blocks", 1, 32), ("heads", 1, 64),
                                ("epochs", 1, 10_000), ("batch_size", 1, 1_000_000), ("negatives", 0, 1_000_000), ("threads", 1, 1024)):
            check_number("SASRec", name, getattr(self, name), low, high, integer=True)
        check_number("SASRec", "dropout", self.dropout, 0, 0.99)
        check_number("SASRec", "learning_rate", self.learning_rate, 1e-9, 10)
        if self.max_seconds is not None:
            check_number("SASRec", "max_seconds", self.max_seconds, 1e-3, 1e7)

    def _fit(self, interactions: Interactions) -> Self:
        started = time.perf_counter()
        out_of_time = False
        torch = load_torch("SASRec")
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        n_titles = interactions.n_titles
        network = _build_network(torch, n_titles, self.hidden, self.max_len, self.blocks, self.heads, self.dropout)
        optimizer = torch.optim.Adam(network.parameters(), lr=self.learning_rate, betas=(0.9, 0.98))
        sequences = self._sequences(interactions)
        length = self.max_len
        network.train()
        for epoch in range(self.epochs):
            if out_of_time:
                log.info("SASRec: stopped after %d epochs, out of its %.0f s budget", epoch, self.max_seconds)
                break
            order = rng.permutation(len(sequences))
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                batch = [sequences[i] for i in order[start : start + self.batch_size]]
                inputs = np.zeros((len(batch), length), dtype=np.int64)
                targets = np.zeros((len(batch), length), dtype=np.int64)
                for row, seq in enumerate(batch):
                    # a random window ending anywhere in the sequence, so long histories are all used
                    end = int(rng.integers(2, len(seq) + 1)) if len(seq) > length + 1 else len(seq)
                    window = seq[max(0, end - length - 1) : end]
                    inputs[row, length - len(window) + 1 :] = window[:-1]
                    targets[row, length - len(window) + 1 :] = window[1:]
                x = torch.from_numpy(inputs)
                y = torch.from_numpy(targets)
                hidden = network(x)
                mask = y > 0
                h = hidden[mask]
                target = y[mask]
                weights = network.title_embedding.weight
                if self.negatives == 0:
                    logits = h @ weights[1:].T
                    loss = torch.nn.functional.cross_entropy(logits, target - 1)
                else:
                    negatives = torch.from_numpy(rng.integers(1, n_titles + 1, self.negatives))
                    positive = (h * weights[target]).sum(-1, keepdim=True)
                    negative = h @ weights[negatives].T
                    negative = negative.masked_fill(negatives[None, :] == target[:, None], -1e9)
                    logits = torch.cat([positive, negative], dim=1)
                    loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(target), dtype=torch.long))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
                if self.max_seconds is not None and time.perf_counter() - started > self.max_seconds:
                    out_of_time = True
                    break
            log.info("SASRec epoch %d: loss %.4f", epoch + 1, total / max(len(sequences), 1))
        network.eval()
        state = network.state_dict()
        self.state_keys_ = [k for k in state if k != "causal"]
        self.state_values_ = pack_state(state, self.state_keys_)
        self.title_mean_time_ = self._mean_times(interactions)
        self.title_ids_ = interactions.title_ids
        self._network = network
        return self

    @staticmethod
    def _mean_times(interactions: Interactions) -> np.ndarray:
        if interactions.last_at is None:
            return np.arange(interactions.n_titles, dtype=np.float64)
        last = interactions.last_at.tocsc()
        sums = np.asarray(last.sum(axis=0)).ravel()
        counts = np.diff(last.indptr)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)

    def _get_network(self) -> Any:
        network = getattr(self, "_network", None)
        if network is None:
            torch = load_torch("SASRec")
            network = _build_network(
                torch, self.n_titles_, self.hidden, self.max_len, self.blocks, self.heads, self.dropout
            )
            template = network.state_dict()
            state = unpack_state(torch, template, self.state_keys_, self.state_values_)
            state["causal"] = template["causal"]
            network.load_state_dict(state)
            network.eval()
            self._network = network
        return network

    # -- scoring ------------------------------------------------------------------------------
    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = self._check_history(history)
        torch = load_torch("SASRec")
        network = self._get_network()
        inputs = np.zeros((history.shape[0], self.max_len), dtype=np.int64)
        for row in range(history.shape[0]):
            lo, hi = history.indptr[row], history.indptr[row + 1]
            cols, values = history.indices[lo:hi], history.data[lo:hi]
            if cols.size == 0:
                continue
            order = np.lexsort((self.title_mean_time_[cols], values))
            seq = cols[order][-self.max_len :] + 1
            inputs[row, self.max_len - len(seq) :] = seq
        with torch.no_grad(), torch_threads("SASRec", self.threads):
            hidden = network(torch.from_numpy(inputs))[:, -1, :]
            scores = hidden @ network.title_embedding.weight[1:].T
        out = scores.numpy().astype(np.float32)
        out[history.getnnz(axis=1) == 0] = 0.0
        return out
