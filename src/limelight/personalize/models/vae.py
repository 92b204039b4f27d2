"""Variational autoencoders for collaborative filtering: Mult-VAE and RecVAE.

`variant="multvae"` (the default) — Liang, Krishnan, Hoffman & Jebara 2018, "Variational Autoencoders for
Collaborative Filtering": the member's history row is L2-normalised, dropped out (`dropout`), encoded
to a Gaussian over a `latent`-dimensional taste vector (one `hidden` tanh layer), and decoded to
logits over the whole catalog; the loss is the multinomial log-likelihood of the history plus a KL
term whose weight is annealed linearly from 0 to the cap `beta` over training.

`variant="recvae"` — Shenbin, Alekseev, Tutubalina, Malykh & Nikolenko 2020, "RecVAE":
the same likelihood with a deeper encoder (five swish layers with dense residual connections and
layer norm), a linear decoder, a *composite prior* (a mixture of N(0, I), the previous epoch's
posterior and a wide N(0, e¹⁰ I), weights 3/20, 3/4, 1/10), a KL weight `gamma`·|history| per member,
and alternating updates: `encoder_epochs` passes over the encoder (with input dropout), then one
pass over the decoder (without).

Defaults (Mult-VAE, 256 hidden, 64 latent, KL cap β = 1, 50 epochs of batches of 128, Adam 1e-3)
were chosen on a validation split of ML-100k's *training* part (never its test split): on data this
small the VAE overfits, and a stronger KL weight (β = 1 rather than the paper's 0.2) helped most
(validation NDCG@10 0.262 against 0.231), more epochs hurt; 600/200 units scored about the same at
5x the time. RecVAE (γ = 0.005, dropout 0.5) scored 0.236-0.253 there.

Fold-in is the model itself: a member's scores are decode(mean of encode(history)), whether or not
the member was in the training data. Needs PyTorch (`pip install 'limelight[deep]'`), imported
only on use; training runs on `threads` torch threads and is seeded by `seed` without touching
torch's global random state.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions, Recommender, binarize, check_number
from limelight.personalize.models._torch import load_torch, pack_state, torch_threads, unpack_state

__all__ = ["VAE", "VARIANTS"]

log = logging.getLogger(__name__)

VARIANTS: tuple[str, ...] = ("recvae", "multvae")
#: RecVAE's composite prior: weights of N(0, I), the previous posterior and N(0, e^10 I)
_PRIOR_WEIGHTS = (3 / 20, 3 / 4, 1 / 10)
_WIDE_LOGVAR = 10.0


def _build_network(torch: Any, variant: str, n_titles: int, hidden: int, latent: int) -> Any:
    nn = torch.nn
    functional = nn.functional

    def _input_layer() -> tuple[Any, Any]:
        """The titles → hidden weights stored title-major (one row per title), initialised like `nn.Linear`."""
        bound = 1.0 / math.sqrt(n_titles)
        if variant == "multvae":  # Liang et al.: Xavier weights, N(0, 0.001²) biases
            limit = math.sqrt(6.0 / (n_titles + hidden))
            table = nn.Parameter(torch.empty(n_titles, hidden).uniform_(-limit, limit))
            return table, nn.Parameter(torch.empty(hidden).normal_(0.0, 0.001))
        table = nn.Parameter(torch.empty(n_titles, hidden).uniform_(-bound, bound))
        return table, nn.Parameter(torch.empty(hidden).uniform_(-bound, bound))

    class MultEncoder(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.table, self.bias = _input_layer()
            self.stats = nn.Linear(hidden, 2 * latent)

        def forward(self, x: _Input) -> tuple[Any, Any]:
            mu, logvar = self.stats(torch.tanh(_first_layer(torch, self.table, self.bias, x))).chunk(2, dim=1)
            return mu, logvar

    class RecEncoder(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.table, self.bias = _input_layer()
            self.layers = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(4)])
            self.norms = nn.ModuleList([nn.LayerNorm(hidden, eps=0.1) for _ in range(5)])
            self.mu = nn.Linear(hidden, latent)
            self.logvar = nn.Linear(hidden, latent)

        def forward(self, x: _Input) -> tuple[Any, Any]:
            h = self.norms[0](functional.silu(_first_layer(torch, self.table, self.bias, x)))
            total = h
            for layer, norm in zip(self.layers, self.norms[1:]):
                h = norm(functional.silu(layer(h) + total))
                total = total + h
            return self.mu(h), self.logvar(h)

    class VAENetwork(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            if variant == "multvae":
                self.encoder: Any = MultEncoder()
                self.decoder: Any = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, n_titles))
                for module in self.modules():  # Liang et al.: Xavier weights, N(0, 0.001²) biases
                    if isinstance(module, nn.Linear):
                        nn.init.xavier_uniform_(module.weight)
                        nn.init.normal_(module.bias, std=0.001)
            else:
                self.encoder = RecEncoder()
                self.decoder = nn.Linear(latent, n_titles)

        def forward(self, x: Any) -> Any:
            mu, _ = self.encoder(x)
            return self.decoder(mu)

    return VAENetwork()


class _Input:
    """A batch of binary history rows, L2-normalised, as (title indexes, row offsets, weights) for `embedding_bag`."""

    def __init__(self, torch: Any, rows: sp.csr_matrix, dropout: float = 0.0, rng: np.random.Generator | None = None):
        counts = np.diff(rows.indptr)
        values = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts).astype(np.float32)
        if dropout > 0 and rng is not None:  # input dropout, kept entries scaled by 1/(1 − p)
            values *= (rng.random(values.size) >= dropout) / np.float32(1.0 - dropout)
        self.indices = torch.from_numpy(rows.indices.astype(np.int64))
        self.offsets = torch.from_numpy(rows.indptr[:-1].astype(np.int64))
        self.weights = torch.from_numpy(values)


def _first_layer(torch: Any, table: Any, bias: Any, x: _Input) -> Any:
    """`x @ table + bias` touching only the titles in the histories (a sum of table rows per member)."""
    bag = torch.nn.functional.embedding_bag(x.indices, table, x.offsets, mode="sum", per_sample_weights=x.weights)
    return bag + bias


def _log_normal(z: Any, mu: Any, logvar: Any) -> Any:
    return -0.5 * (logvar + math.log(2 * math.pi) + (z - mu).pow(2) / logvar.exp())


class VAE(Recommender):
    """Mult-VAE or RecVAE over binary histories, small enough to train on a CPU."""

    name = "vae"
    _array_attrs: ClassVar[tuple[str, ...]] = ("state_values_",)
    _meta_attrs: ClassVar[tuple[str, ...]] = ("state_keys_", "epochs_run_")

    def __init__(
        self,
        variant: str = "multvae",
        hidden: int = 256,
        latent: int = 64,
        dropout: float = 0.5,
        beta: float = 1.0,
        gamma: float = 0.005,
        epochs: int = 50,
        encoder_epochs: int = 3,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        seed: int = 7,
        threads: int = 1,
        max_seconds: float | None = None,
    ) -> None:
        self.variant = variant
        self.hidden = hidden
        self.latent = latent
        self.dropout = dropout
        self.beta = beta
        self.gamma = gamma
        self.epochs = epochs
        self.encoder_epochs = encoder_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.threads = threads
        self.max_seconds = max_seconds

    # -- training -----------------------------------------------------------------------------
    def check_params(self) -> None:
        if self.variant not in VARIANTS:
            raise InputError(f"the 'variant' parameter of VAE must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        for name, low, high in (("hidden", 1, 100_000), ("latent", 1, 100_000), ("epochs", 1, 100_000),
                                ("encoder_epochs", 1, 1000), ("batch_size", 1, 10_000_000), ("threads", 1, 1024)):
            check_number("VAE", name, getattr(self, name), low, high, integer=True)
        check_number("VAE", "dropout", self.dropout, 0, 0.99)
        check_number("VAE", "beta", self.beta, 0, 100)
        check_number("VAE", "gamma", self.gamma, 0, 100)
        check_number("VAE", "learning_rate", self.learning_rate, 1e-9, 10)
        if self.max_seconds is not None:
            check_number("VAE", "max_seconds", self.max_seconds, 1e-3, 1e7)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        torch = load_torch("VAE")
        with torch_threads("VAE", self.threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            network = self._train(torch, binarize(interactions.matrix))
        network.eval()
        state = network.state_dict()
        self.state_keys_ = list(state)
        self.state_values_ = pack_state(state, self.state_keys_)
        self.title_ids_ = interactions.title_ids
        self._network = network
        return self

    def _train(self, torch: Any, matrix: sp.csr_matrix) -> Any:
        started = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        rows = np.flatnonzero(matrix.getnnz(axis=1) > 0)
        network = _build_network(torch, self.variant, matrix.shape[1], self.hidden, self.latent)
        network.train()
        recvae = self.variant == "recvae"
        encoder_opt = torch.optim.Adam(network.encoder.parameters(), lr=self.learning_rate)
        decoder_opt = torch.optim.Adam(network.decoder.parameters(), lr=self.learning_rate)
        old_encoder = _build_network(torch, self.variant, matrix.shape[1], self.hidden, self.latent).encoder
        old_encoder.eval().requires_grad_(False)
        log_weights = [math.log(w) for w in _PRIOR_WEIGHTS]
        steps_per_pass = max(1, math.ceil(len(rows) / self.batch_size))
        total_steps = self.epochs * steps_per_pass
        step = 0

        def one_pass(optimizers: list[Any], dropout: float) -> bool:
            """One pass over the members; False once the time budget is spent."""
            nonlocal step
            order = rng.permutation(rows)
            for start in range(0, len(order), self.batch_size):
                batch = matrix[np.sort(order[start : start + self.batch_size])]
                coo = batch.tocoo()
                member, title = torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))
                x = _Input(torch, batch, dropout, rng)
                mu, logvar = network.encoder(x)
                z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
                log_p = torch.log_softmax(network.decoder(z), dim=1)
                likelihood = torch.zeros(batch.shape[0]).index_add_(0, member, log_p[member, title])
                if recvae:
                    with torch.no_grad():
                        old_mu, old_logvar = old_encoder(_Input(torch, batch))
                    zero = torch.zeros_like(mu)
                    prior = torch.logsumexp(torch.stack([
                        _log_normal(z, zero, zero) + log_weights[0],
                        _log_normal(z, old_mu, old_logvar) + log_weights[1],
                        _log_normal(z, zero, zero + _WIDE_LOGVAR) + log_weights[2],
                    ]), dim=0)
                    kl = ((_log_normal(z, mu, logvar) - prior).sum(dim=1) * (self.gamma * torch.from_numpy(np.diff(batch.indptr).astype(np.float32)))).mean()
                else:
                    weight = self.beta * min(1.0, step / max(total_steps - 1, 1))
                    kl = weight * (0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar).sum(dim=1)).mean()
                loss = kl - likelihood.mean()
                encoder_opt.zero_grad()
                decoder_opt.zero_grad()
                loss.backward()
                for optimizer in optimizers:
                    optimizer.step()
                step += 1
                if self.max_seconds is not None and time.perf_counter() - started > self.max_seconds:
                    return False
            return True

        self.epochs_run_ = 0
        for epoch in range(self.epochs):
            if recvae:
                going = all(one_pass([encoder_opt], self.dropout) for _ in range(self.encoder_epochs))
                old_encoder.load_state_dict(network.encoder.state_dict())
                going = going and one_pass([decoder_opt], 0.0)
            else:
                going = one_pass([encoder_opt, decoder_opt], self.dropout)
            self.epochs_run_ = epoch + 1
            if not going:
                log.info("VAE: stopped after %d epochs, out of its %.0f s budget", epoch + 1, self.max_seconds)
                break
        log.info("VAE (%s): %d epochs in %.1f s", self.variant, self.epochs_run_, time.perf_counter() - started)
        return network

    def _get_network(self) -> Any:
        network = getattr(self, "_network", None)
        if network is None:
            torch = load_torch("VAE")
            network = _build_network(torch, self.variant, self.n_titles_, self.hidden, self.latent)
            network.load_state_dict(unpack_state(torch, network.state_dict(), self.state_keys_, self.state_values_))
            network.eval()
            self._network = network
        return network

    # -- scoring ------------------------------------------------------------------------------
    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Decoder logits of the encoder's mean for each binarized history row (fold-in)."""
        history = binarize(self._check_history(history))
        torch = load_torch("VAE")
        network = self._get_network()
        with torch.no_grad(), torch_threads("VAE", self.threads):
            out = network(_Input(torch, history)).numpy()
        return np.asarray(out, dtype=np.float32)
