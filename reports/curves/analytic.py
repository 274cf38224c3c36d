"""Closed forms and exact Markov-chain numbers for the consecutive-failure circuit breaker.

What counts (spec §1.2, §1.3; `rustok_sim.model.resilience.circuit_breaker`): in Closed a
failure adds 1 to ``failure_count`` and the breaker trips when the count reaches
``failure_threshold`` (k); a success sets the count back to 0, so only an unbroken run of k
failures trips it. Every way back to Closed (the half-open close, ``reset()``) zeroes the count.
In every variant (``resilience`` = CB-B, ``standalone`` = CB-A, ``hardened``) this part is the
same; k = 0 is accepted by the faithful variants and trips on the first failure, exactly as k = 1.

The workload: requests arrive as a Poisson process of rate ``rate`` (requests/s) and each one
fails independently with probability p (p0 on a healthy dependency, p1 during an outage). Calls
take no time (each outcome is known before the next request arrives); that is what makes the
variants agree on half-open too, except where a half-open admission limit can never let
``success_threshold`` successes through (`probes_per_half_open_episode`).

The run-length chain: state i = i consecutive failures (i < k), state k = tripped (absorbing).
Per request, i -> i+1 with probability p and i -> 0 with 1-p. Over a Poisson number of requests
with mean m = rate * t the transition matrix is the Poisson mixture of the per-request powers,
``sum_n e^-m m^n/n! M^n = exp(m (M - I))``, the transient matrix of the continuous-time chain.
`poisson_mixed_matrix` computes it exactly (to rounding) by uniformisation over a short step and
repeated squaring; every term is non-negative, so small probabilities keep their relative
precision (no ``1 - survival`` cancellation).

Units: rates in requests/s, times in seconds, probabilities in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rustok_sim.model.resilience.circuit_breaker import Variant

__all__ = ["SECONDS_PER_WEEK", "BreakerSetting", "OutageLoad", "Recovery", "TripCycle",
           "detection_delay_cdf", "detection_delay_cdf_grid", "detection_delay_mean", "detection_delay_quantile",
           "expected_requests_to_trip", "false_trip_probability", "outage_load",
           "poisson_mixed_matrix", "probes_per_half_open_episode", "recovery_after_outage",
           "run_length_matrix", "run_distribution_after", "steady_run_distribution", "trip_cycle"]

SECONDS_PER_WEEK = 7 * 24 * 3600.0

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BreakerSetting:
    """The breaker fields the curves depend on (spec §1.1); `timeout` in seconds.

    `failure_threshold` k >= 1 here (the faithful k = 0 behaves as 1). `variant` only matters
    for whether half-open can ever close (`probes_per_half_open_episode`)."""

    failure_threshold: int
    timeout: float
    success_threshold: int = 2
    half_open_max_requests: int | None = 3
    variant: Variant = "resilience"

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1 (got {self.failure_threshold}); "
                             f"a faithful 0 trips on the first failure, the same as 1")
        if not (self.timeout >= 0 and math.isfinite(self.timeout)):
            raise ValueError(f"timeout must be a finite number of seconds >= 0 (got {self.timeout})")
        if self.success_threshold < 0:
            raise ValueError(f"success_threshold must be >= 0 (got {self.success_threshold})")
        if self.half_open_max_requests is not None and self.half_open_max_requests < 0:
            raise ValueError(f"half_open_max_requests must be >= 0 or None (got {self.half_open_max_requests})")
        if self.variant not in ("resilience", "standalone", "hardened"):
            raise ValueError(f"variant must be resilience, standalone or hardened (got {self.variant!r})")

    @property
    def successes_to_close(self) -> int:
        """Half-open successes that close: a faithful 0 closes on the first success, like 1."""
        return max(self.success_threshold, 1)

    @property
    def can_close(self) -> bool:
        """False when half-open admits fewer probes than it needs successes (the breaker then
        stays half-open for good after its first trip: known defect §1.3 for CB-B)."""
        return self.successes_to_close <= probes_per_half_open_episode(self)


def probes_per_half_open_episode(setting: BreakerSetting) -> float:
    """How many requests one half-open episode can admit when calls take no time (inf = no cap).

    CB-B (``resilience``) counts every probe after the transition probe and never gives a place
    back: 1 + half_open_max_requests. CB-A (``standalone``) and ``hardened`` cap probes *in
    flight*; with instant calls at most one is in flight, so the cap binds only when CB-A's limit
    is 0 (just the transition probe gets through). None means unlimited."""
    limit = setting.half_open_max_requests
    if limit is None:
        return math.inf
    if setting.variant == "resilience":
        return 1.0 + limit
    if setting.variant == "standalone" and limit == 0:
        return 1.0
    return math.inf


def _require_probability(p: float, name: str) -> None:
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1] (got {p})")


def run_length_matrix(failure_threshold: int, p: float) -> Matrix:
    """The per-request chain over consecutive failures 0..k-1 and the absorbing state k
    (tripped): from i a failure (probability p) goes to i+1, a success to 0."""
    _require_probability(p, "error probability")
    k = failure_threshold
    matrix = np.zeros((k + 1, k + 1))
    for i in range(k):
        matrix[i, i + 1] = p
        matrix[i, 0] += 1.0 - p
    matrix[k, k] = 1.0
    return matrix


def poisson_mixed_matrix(matrix: Matrix, mean_requests: float) -> Matrix:
    """``exp(m (M - I))`` = the transition matrix over a Poisson(m) number of steps of the
    stochastic matrix M.

    Uniformisation: cut m into 2^j steps of h <= 1 mean requests, sum the Poisson(h) mixture of
    M's powers (40 terms leave a tail below 1/41! ~ 1e-49), then square j times. All terms and
    products are non-negative, so every entry keeps its relative precision."""
    if not (mean_requests >= 0 and math.isfinite(mean_requests)):
        raise ValueError(f"mean number of requests must be finite and >= 0 (got {mean_requests})")
    size = matrix.shape[0]
    if mean_requests == 0:
        return np.eye(size)
    squarings = max(0, math.ceil(math.log2(mean_requests)))
    step = mean_requests / 2.0 ** squarings
    result = np.zeros_like(matrix)
    power = np.eye(size)
    weight = math.exp(-step)
    for n in range(40):
        result += weight * power
        power = power @ matrix
        weight *= step / (n + 1)
    for _ in range(squarings):
        result = result @ result
    return result


def false_trip_probability(failure_threshold: int, p0: float, rate: float, window: float,
                           initial: Vector | None = None) -> float:
    """Probability of at least one trip (k consecutive failures) within `window` seconds of
    Poisson traffic at `rate` requests/s, each failing with probability `p0`.

    `initial` is the distribution of the consecutive-failure count at the window's start
    (length k); default a fresh count of 0 (just deployed, or just closed)."""
    _require_rate(rate)
    if window < 0:
        raise ValueError(f"window must be >= 0 seconds (got {window})")
    k = failure_threshold
    start = _initial(k, initial)
    transient = poisson_mixed_matrix(run_length_matrix(k, p0), rate * window)
    probability = float(start @ transient[:k, k])
    return min(1.0, max(0.0, probability))  # rounding can step a hair outside [0, 1]


def _require_rate(rate: float) -> None:
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"request rate must be a finite number of requests/s > 0 (got {rate})")


def _initial(failure_threshold: int, initial: Vector | None) -> Vector:
    if initial is None:
        start = np.zeros(failure_threshold)
        start[0] = 1.0
        return start
    start = np.asarray(initial, dtype=float)
    if start.shape != (failure_threshold,) or np.any(start < 0) or not math.isclose(start.sum(), 1.0):
        raise ValueError(f"initial must be a distribution over 0..{failure_threshold - 1} consecutive "
                         f"failures (non-negative, summing to 1), got {initial!r}")
    return start


def steady_run_distribution(failure_threshold: int, p0: float) -> Vector:
    """Distribution of the consecutive-failure count at an arbitrary moment when a long-running
    breaker is Closed on a healthy dependency: ``pi_i = p0^i (1 - p0) / (1 - p0^k)``.

    Why: every Closed period starts at 0; each visit to i+1 is a visit to i followed by a failure,
    so expected visits fall by p0 per step; every visit lasts 1/rate on average, so time (and,
    Poisson arrivals seeing time averages, an outage's start) is spread in the same ratio."""
    _require_probability(p0, "p0")
    k = failure_threshold
    if p0 == 1.0:
        return np.full(k, 1.0 / k)
    weights = p0 ** np.arange(k)
    return weights / weights.sum()


def run_distribution_after(failure_threshold: int, p0: float, requests: int) -> Vector:
    """Distribution of the count after `requests` healthy requests from 0, given no trip yet
    (what a simulation that warms a fresh breaker up and discards tripped runs sees). Tends to
    the chain's quasi-stationary law, which differs from `steady_run_distribution` by about the
    per-request trip probability."""
    k = failure_threshold
    row = np.linalg.matrix_power(run_length_matrix(k, p0), requests)[0, :k]
    total = row.sum()
    if total <= 0:
        raise ValueError(f"no run survives {requests} requests at p0={p0} with threshold {k}")
    return np.asarray(row / total, dtype=float)


def expected_requests_to_trip(failure_threshold: int, p: float, initial: Vector | None = None) -> float:
    """Expected number of requests until k consecutive failures, starting from `initial`
    (default 0); inf when p = 0.

    From 0: ``E0 = (1 - p^k) / ((1 - p) p^k)`` (k when p = 1). From i: the next attempt sends
    ``(1 - p^(k-i)) / (1 - p)`` requests on average and falls back to 0 with probability
    ``1 - p^(k-i)``, so ``E_i = (1 - p^(k-i)) (1 / (1 - p) + E0)``. Sums of positive terms,
    exact where a linear solve of the nearly singular chain (condition ~ 1/p^k) is not."""
    _require_probability(p, "error probability")
    k = failure_threshold
    start = _initial(k, initial)
    if p == 0.0:
        return math.inf
    if p == 1.0:
        return float(start @ (k - np.arange(k, dtype=float)))
    from_zero = (1.0 - p ** k) / ((1.0 - p) * p ** k)
    left = 1.0 - p ** (k - np.arange(k, dtype=float))
    return float(start @ (left * (1.0 / (1.0 - p) + from_zero)))


def detection_delay_mean(failure_threshold: int, p1: float, rate: float, initial: Vector | None = None) -> float:
    """Mean seconds from the error rate jumping to `p1` until the breaker opens, the run at the
    jump distributed as `initial` (default 0). By Wald's identity: requests to trip / rate."""
    _require_rate(rate)
    return expected_requests_to_trip(failure_threshold, p1, initial) / rate


def detection_delay_cdf(failure_threshold: int, p1: float, rate: float, times: Vector | list[float],
                        initial: Vector | None = None) -> Vector:
    """P(the breaker has opened by t seconds after the jump to p1) for each t in `times`
    (phase-type: the absorbing entry of ``exp(rate t (M - I))``, mixed over `initial`)."""
    _require_rate(rate)
    k = failure_threshold
    start = _initial(k, initial)
    matrix = run_length_matrix(k, p1)
    out = np.empty(len(times))
    for index, t in enumerate(times):
        if t < 0:
            raise ValueError(f"times must be >= 0 seconds (got {t})")
        out[index] = start @ poisson_mixed_matrix(matrix, rate * float(t))[:k, k]
    return np.clip(out, 0.0, 1.0)


def detection_delay_cdf_grid(failure_threshold: int, p1: float, rate: float, horizon: float, steps: int,
                             initial: Vector | None = None) -> tuple[Vector, Vector]:
    """(times, CDF) on ``steps + 1`` evenly spaced times from 0 to `horizon` seconds: the same
    numbers as `detection_delay_cdf`, by one step matrix applied `steps` times (for plots)."""
    _require_rate(rate)
    if steps < 1 or not horizon > 0:
        raise ValueError(f"need steps >= 1 and horizon > 0 seconds (got {steps}, {horizon})")
    k = failure_threshold
    state = np.concatenate([_initial(k, initial), [0.0]])
    step = poisson_mixed_matrix(run_length_matrix(k, p1), rate * horizon / steps)
    cdf = np.empty(steps + 1)
    for index in range(steps + 1):
        cdf[index] = state[k]
        state = state @ step
    return np.linspace(0.0, horizon, steps + 1), np.clip(cdf, 0.0, 1.0)


def detection_delay_quantile(failure_threshold: int, p1: float, rate: float, level: float,
                             initial: Vector | None = None) -> float:
    """The `level` quantile (0 < level < 1) of the detection delay, seconds, by bisection on
    `detection_delay_cdf` to 1e-9 relative; inf when p1 = 0. Delay 0 is possible only from a
    run already at k (never: the breaker would be open), so the quantile is > 0."""
    if not (0.0 < level < 1.0):
        raise ValueError(f"quantile level must be in (0, 1) (got {level})")
    if p1 == 0.0:
        return math.inf

    def cdf(t: float) -> float:
        return float(detection_delay_cdf(failure_threshold, p1, rate, [t], initial)[0])

    high = max(detection_delay_mean(failure_threshold, p1, rate, initial), 1.0 / rate)
    while cdf(high) < level:
        high *= 2.0
    low = 0.0
    while high - low > 1e-9 * high:
        middle = 0.5 * (low + high)
        if cdf(middle) < level:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True, slots=True)
class TripCycle:
    """One false trip on a healthy dependency and its consequences, per trip (long run).

    - `closed_seconds`: mean time Closed before the trip (from a fresh count).
    - `open_periods`: mean Open periods per trip (a half-open probe can fail and re-open),
      ``1 / (1 - p0)^s``.
    - `open_seconds`: mean time not Closed per trip (Open periods: timeout + the wait for the
      next request, 1/rate; plus half-open time between probes).
    - `rejected_requests`: mean requests rejected per trip, ``rate * timeout * open_periods``.
    - `cycle_seconds`: mean time from one fresh Closed period to the next, so the long-run
      trips per second are ``1 / cycle_seconds`` (renewal theorem).
    With `can_close` False the first trip never ends: the per-trip numbers are inf."""

    closed_seconds: float
    open_periods: float
    open_seconds: float
    rejected_requests: float
    cycle_seconds: float

    @property
    def trips_per_week(self) -> float:
        return SECONDS_PER_WEEK / self.cycle_seconds if self.cycle_seconds > 0 else math.inf


def _half_open_attempt(successes_needed: int, p: float, rate: float) -> tuple[float, float]:
    """(probability one half-open attempt closes, its mean seconds after the first probe).
    The first probe is the request that ends the Open period; probe j+1 is sent only when the
    first j succeeded, one interarrival (1/rate) later."""
    q = 1.0 - p
    closes = q ** successes_needed
    later_probes = sum(q ** j for j in range(1, successes_needed))
    return closes, later_probes / rate


def trip_cycle(setting: BreakerSetting, p0: float, rate: float) -> TripCycle:
    """The renewal cycle Closed -> trip -> Open (-> half-open -> Open)* -> Closed at error
    probability `p0` and `rate` requests/s. Open lasts exactly `timeout` plus the exponential
    wait for the next request (the lazy transition, spec §1.2), which becomes the probe."""
    _require_rate(rate)
    closed = expected_requests_to_trip(setting.failure_threshold, p0) / rate
    if math.isinf(closed):
        return TripCycle(math.inf, 0.0, 0.0, 0.0, math.inf)
    closes, attempt_seconds = _half_open_attempt(setting.successes_to_close, p0, rate)
    if not setting.can_close or closes == 0.0:
        return TripCycle(closed, math.inf, math.inf, math.inf, math.inf)
    open_periods = 1.0 / closes
    open_seconds = open_periods * (setting.timeout + 1.0 / rate + attempt_seconds)
    return TripCycle(closed, open_periods, open_seconds, rate * setting.timeout * open_periods,
                     closed + open_seconds)


@dataclass(frozen=True, slots=True)
class Recovery:
    """Seconds from the end of a hard outage until the breaker is Closed again.

    `mean`: the outage ends at a random moment of the breaker's Open/probe cycle (the
    equilibrium residual of ``timeout + Exp(rate)``); `after_failed_probe`: it ends just after a
    probe failed, so the full timeout has to run (the worst phase, on average over the waits)."""

    mean: float
    after_failed_probe: float


def recovery_after_outage(setting: BreakerSetting, p0: float, rate: float) -> Recovery:
    """Recovery from a hard outage (p1 = 1: during it every probe fails at once, so the breaker
    cycles Open for ``timeout + Exp(rate)`` seconds, then re-opens). After the outage the probes
    see `p0`; a failed attempt costs another Open period. For p1 < 1 the breaker can be Closed
    or half-open when the outage ends, and these numbers are an upper-side estimate."""
    _require_rate(rate)
    if not setting.can_close:
        return Recovery(math.inf, math.inf)
    closes, attempt_seconds = _half_open_attempt(setting.successes_to_close, p0, rate)
    if closes == 0.0:
        return Recovery(math.inf, math.inf)
    timeout, wait = setting.timeout, 1.0 / rate
    attempts = 1.0 / closes
    # From the first probe after the outage: every attempt's probes, and a full Open period
    # (timeout + wait) before each attempt after the first (Wald: attempts are i.i.d.).
    from_first_probe = attempts * attempt_seconds + (attempts - 1.0) * (timeout + wait)
    cycle_mean = timeout + wait
    cycle_second_moment = timeout ** 2 + 2.0 * timeout * wait + 2.0 * wait ** 2
    residual = cycle_second_moment / (2.0 * cycle_mean)
    return Recovery(residual + from_first_probe, timeout + wait + from_first_probe)


@dataclass(frozen=True, slots=True)
class OutageLoad:
    """A long outage at error probability p1, in the long run: `failed_per_minute` requests
    that still reach the failing dependency and fail (probes, and the runs it takes to re-trip
    after a half-open close), and `rejected_fraction` of all requests the breaker fails fast."""

    failed_per_minute: float
    rejected_fraction: float


def outage_load(setting: BreakerSetting, p1: float, rate: float) -> OutageLoad:
    """Renewal reward over the outage cycle trip -> Open (timeout + 1/rate) -> half-open
    attempt -> (closes with probability (1-p1)^s -> Closed from 0 until k failures in a row).
    By Wald's identity the failures per cycle are p1 times the admitted requests."""
    _require_rate(rate)
    if p1 == 0.0:
        return OutageLoad(0.0, 0.0)
    if not setting.can_close:
        return OutageLoad(0.0, 1.0)  # stuck half-open after the first trip: everything rejected
    closes, attempt_seconds = _half_open_attempt(setting.successes_to_close, p1, rate)
    q = 1.0 - p1
    attempt_requests = sum(q ** j for j in range(setting.successes_to_close))
    closed_requests = expected_requests_to_trip(setting.failure_threshold, p1)
    admitted = attempt_requests + closes * closed_requests
    cycle = setting.timeout + 1.0 / rate + attempt_seconds + closes * closed_requests / rate
    return OutageLoad(60.0 * p1 * admitted / cycle, max(0.0, 1.0 - admitted / (rate * cycle)))
