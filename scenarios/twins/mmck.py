"""The analytic twin of the `mmck` story: the M/M/c/K queue in closed form.

Poisson arrivals at rate lambda, c servers each exponential at rate mu, room for K customers in
the system (queue plus service). With a = lambda / mu, the stationary probabilities are

    p_n = p_0 a^n / n!                  for 0 <= n <= c
    p_n = p_0 a^n / (c! c^(n - c))       for c < n <= K

and, by PASTA (Poisson arrivals see time averages), an arrival is blocked with probability p_K.
L = sum n p_n, lambda_eff = lambda (1 - p_K) and W = L / lambda_eff (Little's law).
Terms are computed in log space, so K in the thousands and a far above c stay finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MMcK", "mmck"]


@dataclass(frozen=True, slots=True)
class MMcK:
    lam: float
    mu: float
    c: int
    K: int
    probabilities: tuple[float, ...]
    """p_0 .. p_K."""

    @property
    def p_block(self) -> float:
        return self.probabilities[-1]

    @property
    def L(self) -> float:  # noqa: N802 - queueing notation
        return math.fsum(n * p for n, p in enumerate(self.probabilities))

    @property
    def Lq(self) -> float:  # noqa: N802
        return math.fsum((n - self.c) * p for n, p in enumerate(self.probabilities) if n > self.c)

    @property
    def lambda_eff(self) -> float:
        return self.lam * (1.0 - self.p_block)

    @property
    def W(self) -> float:  # noqa: N802
        return self.L / self.lambda_eff

    @property
    def utilisation(self) -> float:
        """Mean fraction of servers busy."""
        return self.lambda_eff / (self.c * self.mu)

    def as_dict(self) -> dict[str, float]:
        return {"p_block": self.p_block, "L": self.L, "Lq": self.Lq, "W": self.W,
                "lambda_eff": self.lambda_eff, "utilisation": self.utilisation}


def mmck(lam: float, mu: float, c: int, K: int) -> MMcK:
    """The stationary M/M/c/K queue (lam, mu in events/s; c servers; K >= c places in total)."""
    if not (lam > 0 and math.isfinite(lam)):
        raise ValueError(f"lambda must be a finite number > 0 (got {lam})")
    if not (mu > 0 and math.isfinite(mu)):
        raise ValueError(f"mu must be a finite number > 0 (got {mu})")
    if c < 1:
        raise ValueError(f"c must be >= 1 (got {c})")
    if K < c:
        raise ValueError(f"K must be >= c (got K={K}, c={c})")
    log_a = math.log(lam / mu)
    log_c = math.log(c)
    log_terms = [n * log_a - math.lgamma(n + 1) if n <= c
                 else n * log_a - math.lgamma(c + 1) - (n - c) * log_c
                 for n in range(K + 1)]
    top = max(log_terms)
    weights = [math.exp(x - top) for x in log_terms]
    total = math.fsum(weights)
    return MMcK(lam, mu, c, K, tuple(w / total for w in weights))
