//! A circuit breaker on an explicit clock, written here in Rust from RusToK's semantics (the spec's
//! §1 and rustok-sim's reference model): the three variants the gate knows.
//!
//! - `Resilience` (CB-B, `rustok-core/src/resilience/circuit_breaker.rs`, the one that survives):
//!   an outcome is judged by the state the breaker is in *when it finishes*; the half-open limit
//!   counts every probe admitted in the episode and is never decremented; a failure that lands
//!   while Open pushes the open period forward; totals, and `reset()` zeroes them all.
//! - `Standalone` (CB-A, `rustok-core/src/circuit_breaker.rs`): an outcome is judged by the state
//!   the call *started* in; the half-open limit caps in-flight probes, and the probe that closes
//!   the circuit decrements its counter after the close zeroed it, so the u32 wraps. No manual
//!   `open()` / `close()`, no state-transition count, and `reset()` keeps the open time.
//! - `Hardened`: every permit belongs to an episode (a state period); only outcomes of the current
//!   episode move the state machine; the transition probe counts as in flight; each half-open
//!   episode counts its successes afresh; zero thresholds are rejected.
//!
//! There is no timer and no system clock: every method that needs the time takes `now` (the
//! gate's controlled clock, in seconds). Open -> HalfOpen is lazy, decided on the next admission.
//! "elapsed >= timeout" is `last_failure_time + timeout <= now`, computed once as a deadline, so a
//! clock moved by exactly `timeout` after the trip admits the probe.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Resilience,
    Standalone,
    Hardened,
}

impl Variant {
    pub fn parse(name: &str) -> Option<Variant> {
        match name {
            "resilience" => Some(Variant::Resilience),
            "standalone" => Some(Variant::Standalone),
            "hardened" => Some(Variant::Hardened),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Resilience => "resilience",
            Variant::Standalone => "standalone",
            Variant::Hardened => "hardened",
        }
    }

    /// Rust's Display text of the Open error (CB-A's, and CB-B's from 02-14).
    fn open_message(self) -> &'static str {
        match self {
            Variant::Standalone => "Circuit breaker is open",
            Variant::Resilience | Variant::Hardened => "Circuit breaker is open, requests blocked",
        }
    }
}

const U32_MAX: i64 = u32::MAX as i64;

#[derive(Clone, Debug)]
pub struct Config {
    pub failure_threshold: i64,
    pub success_threshold: i64,
    /// Seconds Open before a probe is admitted.
    pub timeout: f64,
    /// The half-open admission limit; `None` = unlimited (not for `Standalone`).
    pub half_open_max_requests: Option<i64>,
    pub variant: Variant,
}

impl Config {
    /// The rules the reference's config enforces (Rust itself validates nothing).
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("failure_threshold", Some(self.failure_threshold)),
            ("success_threshold", Some(self.success_threshold)),
            ("half_open_max_requests", self.half_open_max_requests),
        ] {
            if let Some(v) = value {
                if !(0..=U32_MAX).contains(&v) {
                    return Err(format!("{name} must be a u32 (got {v})"));
                }
                if self.variant == Variant::Hardened && v < 1 {
                    return Err(format!("{name} must be >= 1 for variant 'hardened' (got {v})"));
                }
            }
        }
        if !(self.timeout.is_finite() && self.timeout >= 0.0) {
            return Err(format!("timeout must be a finite number of seconds >= 0 (got {})", self.timeout));
        }
        if self.variant == Variant::Standalone && self.half_open_max_requests.is_none() {
            return Err("half_open_max_requests cannot be None for variant 'standalone' \
                        (CB-A's limit is a plain u32)"
                .into());
        }
        Ok(())
    }
}

/// What a caller can get wrong or be refused; `kind()` is the error kind the protocol reports.
#[derive(Debug)]
pub enum Error {
    /// The call was rejected without running: the rejecting state and the seconds until a probe
    /// may be admitted (None when a saturated half-open limit rejected it).
    Open { message: &'static str, state: State, retry_after: Option<f64> },
    /// A permit finished twice.
    PermitReused,
    /// A handle that this breaker never issued.
    UnknownPermit(String),
    /// `open()` / `close()` on CB-A, which has neither.
    NoSuchMethod(&'static str),
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Open { .. } => "CircuitOpenError",
            Error::PermitReused => "PermitError",
            Error::UnknownPermit(_) => "TypeError",
            Error::NoSuchMethod(_) => "AttributeError",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Error::Open { message, .. } => (*message).to_string(),
            Error::PermitReused => {
                "permit already finished: each permit takes exactly one on_success or on_failure".to_string()
            }
            Error::UnknownPermit(handle) => format!("not a permit this breaker issued: {handle}"),
            Error::NoSuchMethod(what) => {
                format!("{what}() does not exist on the standalone (CB-A) breaker; use reset()")
            }
        }
    }
}

/// An admitted call, finished by exactly one `on_success` / `on_failure`.
#[derive(Clone, Debug)]
struct Permit {
    started_in: State,
    /// Whether it took a half-open place.
    counted: bool,
    /// The state period it was admitted in (hardened ignores outcomes of older ones).
    episode: u64,
    /// The `reset()` period it was admitted in.
    epoch: u64,
    done: bool,
}

/// A permit's handle: an index into the breaker's permits.
pub type PermitId = usize;

#[derive(Clone, Debug)]
pub struct Stats {
    pub state: State,
    pub total_requests: i64,
    pub total_successes: i64,
    pub total_failures: i64,
    pub total_rejected: i64,
    pub state_transitions: i64,
    pub failure_count: i64,
    pub success_count: i64,
    pub in_flight: i64,
    pub half_open_requests: i64,
    pub last_failure_time: Option<f64>,
}

impl Stats {
    pub fn success_rate(&self) -> f64 {
        if self.total_requests == 0 {
            1.0
        } else {
            self.total_successes as f64 / self.total_requests as f64
        }
    }

    pub fn rejection_rate(&self) -> f64 {
        if self.total_requests == 0 {
            0.0
        } else {
            self.total_rejected as f64 / self.total_requests as f64
        }
    }
}

/// Which variants have an edge: every one, CB-B and hardened, or CB-A only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Has {
    All,
    CbB,
    CbA,
}

/// Every legal state change: (from, trigger, to, variants). The breaker moves only through it.
const EDGES: &[(State, &str, State, Has)] = &[
    (State::Closed, "failure_threshold", State::Open, Has::All),
    (State::Open, "timeout_elapsed", State::HalfOpen, Has::All),
    (State::HalfOpen, "success_threshold", State::Closed, Has::All),
    (State::HalfOpen, "probe_failed", State::Open, Has::All),
    (State::Closed, "manual_open", State::Open, Has::CbB),
    (State::HalfOpen, "manual_open", State::Open, Has::CbB),
    (State::Open, "manual_close", State::Closed, Has::CbB),
    (State::HalfOpen, "manual_close", State::Closed, Has::CbB),
    (State::Open, "reset", State::Closed, Has::All),
    (State::HalfOpen, "reset", State::Closed, Has::All),
    // CB-A judges an outcome by the state the call started in, so outcomes can land late:
    (State::HalfOpen, "failure_threshold", State::Open, Has::CbA),
    (State::Closed, "probe_failed", State::Open, Has::CbA),
    (State::Open, "success_threshold", State::Closed, Has::CbA),
];

pub struct Breaker {
    config: Config,
    /// Trip one failure late (the harness's `--mutant`): the gate must notice.
    mutant: bool,
    state: State,
    failure_count: i64,
    success_count: i64,
    half_open_requests: i64,
    last_failure_time: Option<f64>,
    /// `last_failure_time + timeout`: the first instant a probe is admitted.
    deadline: f64,
    admitted: i64,
    rejected: i64,
    successes: i64,
    failures: i64,
    state_transitions: i64,
    in_flight: i64,
    episode: u64,
    epoch: u64,
    /// retry_after of the latest rejection.
    retry_hint: Option<f64>,
    permits: Vec<Permit>,
}

impl Breaker {
    pub fn new(config: Config, mutant: bool) -> Result<Breaker, String> {
        config.validate()?;
        Ok(Breaker {
            config,
            mutant,
            state: State::Closed,
            failure_count: 0,
            success_count: 0,
            half_open_requests: 0,
            last_failure_time: None,
            deadline: f64::INFINITY,
            admitted: 0,
            rejected: 0,
            successes: 0,
            failures: 0,
            state_transitions: 0,
            in_flight: 0,
            episode: 0,
            epoch: 0,
            retry_hint: None,
            permits: Vec::new(),
        })
    }

    // -- reading ------------------------------------------------------------------------------

    pub fn state(&self) -> State {
        self.state
    }

    pub fn variant(&self) -> Variant {
        self.config.variant
    }

    pub fn failure_count(&self) -> i64 {
        self.failure_count
    }

    pub fn success_count(&self) -> i64 {
        self.success_count
    }

    /// Seconds until a call would be admitted: 0 now, the rest of the open period while Open,
    /// None while a saturated half-open limit rejects (no timeout ends that).
    pub fn retry_after(&self, now: f64) -> Option<f64> {
        match self.state {
            State::Open => {
                let wait = self.deadline - now;
                Some(if wait > 0.0 { wait } else { 0.0 })
            }
            State::HalfOpen if self.half_open_full() => None,
            _ => Some(0.0),
        }
    }

    pub fn stats(&self) -> Stats {
        Stats {
            state: self.state,
            total_requests: self.admitted + self.rejected,
            total_successes: self.successes,
            total_failures: self.failures,
            total_rejected: self.rejected,
            state_transitions: self.state_transitions,
            failure_count: self.failure_count,
            success_count: self.success_count,
            in_flight: self.in_flight,
            half_open_requests: self.half_open_requests,
            last_failure_time: self.last_failure_time,
        }
    }

    fn half_open_full(&self) -> bool {
        matches!(self.config.half_open_max_requests, Some(limit) if self.half_open_requests >= limit)
    }

    // -- admission ----------------------------------------------------------------------------

    /// Admit a call (its permit) or reject it (None, counted as rejected).
    pub fn admit(&mut self, now: f64) -> Option<PermitId> {
        match self.state {
            State::Closed => Some(self.issue(State::Closed, false)),
            State::Open => {
                let wait = self.deadline - now;
                if wait > 0.0 {
                    self.reject(Some(wait));
                    return None;
                }
                self.half_open_requests = 0;
                if self.config.variant != Variant::Resilience {
                    self.success_count = 0; // CB-A resets it here; hardened counts per episode
                }
                self.fire("timeout_elapsed");
                // Rust does not count the transition probe; hardened counts it as in flight.
                let counted = self.config.variant == Variant::Hardened;
                if counted {
                    self.half_open_requests = 1;
                }
                Some(self.issue(State::HalfOpen, counted))
            }
            State::HalfOpen => {
                if self.half_open_full() {
                    self.reject(None);
                    return None;
                }
                self.half_open_requests += 1;
                Some(self.issue(State::HalfOpen, true))
            }
        }
    }

    /// Admit a call or refuse it with `Error::Open`.
    pub fn try_acquire(&mut self, now: f64) -> Result<PermitId, Error> {
        self.admit(now).ok_or(Error::Open {
            message: self.config.variant.open_message(),
            state: self.state,
            retry_after: self.retry_hint,
        })
    }

    fn issue(&mut self, started_in: State, counted: bool) -> PermitId {
        self.admitted += 1;
        self.in_flight += 1;
        self.permits.push(Permit { started_in, counted, episode: self.episode, epoch: self.epoch, done: false });
        self.permits.len() - 1
    }

    fn reject(&mut self, retry_after: Option<f64>) {
        self.rejected += 1;
        self.retry_hint = retry_after;
    }

    // -- outcomes -----------------------------------------------------------------------------

    pub fn on_success(&mut self, permit: PermitId, now: f64) -> Result<(), Error> {
        if let Some(permit) = self.finish(permit)? {
            self.record(&permit, true, now);
            self.successes += 1;
        }
        Ok(())
    }

    pub fn on_failure(&mut self, permit: PermitId, now: f64) -> Result<(), Error> {
        if let Some(permit) = self.finish(permit)? {
            self.record(&permit, false, now);
            self.failures += 1;
        }
        Ok(())
    }

    /// Close out the permit; None when its outcome must not touch anything.
    fn finish(&mut self, id: PermitId) -> Result<Option<Permit>, Error> {
        let permit = self.permits.get_mut(id).ok_or_else(|| Error::UnknownPermit(format!("#{id}")))?;
        if permit.done {
            return Err(Error::PermitReused);
        }
        permit.done = true;
        let permit = permit.clone();
        if permit.epoch != self.epoch {
            // Issued before reset(): Rust still adds the outcome to the zeroed totals; hardened
            // drops it.
            return Ok(if self.config.variant == Variant::Hardened { None } else { Some(permit) });
        }
        self.in_flight -= 1;
        Ok(Some(permit))
    }

    fn record(&mut self, permit: &Permit, ok: bool, now: f64) {
        match self.config.variant {
            Variant::Standalone => self.judged_by_start_state(permit, ok, now),
            Variant::Hardened => {
                let current = permit.episode == self.episode;
                if permit.counted && current {
                    self.half_open_requests -= 1;
                }
                if current {
                    self.judged_by_current_state(ok, now);
                } // else stale: the state it was admitted in is gone
            }
            Variant::Resilience => self.judged_by_current_state(ok, now),
        }
    }

    fn trips(&self) -> bool {
        let threshold = self.config.failure_threshold + i64::from(self.mutant);
        self.failure_count >= threshold
    }

    /// CB-B (and hardened, for current outcomes): the state the breaker is in now decides.
    fn judged_by_current_state(&mut self, ok: bool, now: f64) {
        match self.state {
            State::Closed => {
                if ok {
                    self.failure_count = 0;
                } else {
                    self.failure_count += 1;
                    if self.trips() {
                        self.success_count = 0;
                        self.trip("failure_threshold", now);
                    }
                }
            }
            State::HalfOpen => {
                if ok {
                    self.success_count += 1;
                    if self.success_count >= self.config.success_threshold {
                        self.zero_counts();
                        self.fire("success_threshold");
                    }
                } else {
                    self.zero_counts();
                    self.trip("probe_failed", now);
                }
            }
            State::Open => {
                // A call admitted earlier fails late: the open period starts again. A late
                // success changes nothing (Rust logs "Unexpected success in Open state").
                if !ok {
                    self.stamp_open_time(now);
                }
            }
        }
    }

    /// CB-A: the state the call started in decides, whatever has happened since.
    fn judged_by_start_state(&mut self, permit: &Permit, ok: bool, now: f64) {
        if permit.started_in == State::Closed {
            if ok {
                self.failure_count = 0;
            } else {
                self.failure_count = (self.failure_count + 1) % (U32_MAX + 1); // AtomicU32::fetch_add
                if self.trips() {
                    self.trip("failure_threshold", now);
                }
            }
            return;
        }
        if ok {
            self.success_count += 1;
            if self.success_count >= self.config.success_threshold {
                // CB-A's close() runs whatever the state is by now, even Open after a trip.
                self.zero_counts();
                if self.state != State::Closed {
                    self.fire("success_threshold");
                }
            }
        } else {
            self.trip("probe_failed", now);
        }
        if permit.counted {
            // The decrement after the probe, which wraps when a close has zeroed the counter.
            self.half_open_requests = if self.half_open_requests == 0 { U32_MAX } else { self.half_open_requests - 1 };
        }
    }

    fn zero_counts(&mut self) {
        self.failure_count = 0;
        self.success_count = 0;
        self.half_open_requests = 0;
    }

    // -- manual control -----------------------------------------------------------------------

    /// Force Open and stamp the open time (CB-B and hardened).
    pub fn open(&mut self, now: f64) -> Result<(), Error> {
        if self.config.variant == Variant::Standalone {
            return Err(Error::NoSuchMethod("open"));
        }
        if self.state != State::Open {
            self.stamp_open_time(now);
            self.fire("manual_open");
        }
        Ok(())
    }

    /// Force Closed (CB-B and hardened). Like Rust it keeps half_open_requests (hardened zeroes
    /// it) and the open time.
    pub fn close(&mut self) -> Result<(), Error> {
        if self.config.variant == Variant::Standalone {
            return Err(Error::NoSuchMethod("close"));
        }
        if self.state != State::Closed {
            self.failure_count = 0;
            self.success_count = 0;
            if self.config.variant == Variant::Hardened {
                self.half_open_requests = 0;
            }
            self.fire("manual_close");
        }
        Ok(())
    }

    /// Back to Closed with every counter and total zeroed; CB-A keeps the open time.
    pub fn reset(&mut self) {
        if self.state != State::Closed {
            self.fire("reset");
        }
        self.zero_counts();
        if self.config.variant != Variant::Standalone {
            self.last_failure_time = None;
            self.deadline = f64::INFINITY;
        }
        self.admitted = 0;
        self.rejected = 0;
        self.successes = 0;
        self.failures = 0;
        self.state_transitions = 0;
        self.in_flight = 0;
        self.epoch += 1;
        self.episode += 1;
    }

    // -- transitions --------------------------------------------------------------------------

    fn stamp_open_time(&mut self, now: f64) {
        self.last_failure_time = Some(now);
        self.deadline = now + self.config.timeout;
    }

    fn trip(&mut self, trigger: &str, now: f64) {
        self.stamp_open_time(now);
        if self.state != State::Open {
            // CB-A can re-trip while already Open: the time moves, the state does not.
            self.fire(trigger);
        }
    }

    /// Move along the edge `trigger` names from the current state; each move is a new episode.
    fn fire(&mut self, trigger: &str) {
        let variant = self.config.variant;
        let edge = EDGES.iter().find(|(from, name, _, has)| {
            *from == self.state
                && *name == trigger
                && match has {
                    Has::All => true,
                    Has::CbB => variant != Variant::Standalone,
                    Has::CbA => variant == Variant::Standalone,
                }
        });
        let Some(&(_, _, to, _)) = edge else {
            // A bug in this file, not in the caller: crash, and the gate reports the step.
            panic!("no {} edge {:?} --{trigger}-->", variant.as_str(), self.state);
        };
        self.state = to;
        self.episode += 1;
        if variant != Variant::Standalone {
            self.state_transitions += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(variant: Variant, failure: i64, success: i64, half_open: Option<i64>) -> Breaker {
        let config = Config {
            failure_threshold: failure,
            success_threshold: success,
            timeout: 1.0,
            half_open_max_requests: half_open,
            variant,
        };
        Breaker::new(config, false).unwrap()
    }

    fn fail(b: &mut Breaker, now: f64) {
        let p = b.try_acquire(now).unwrap();
        b.on_failure(p, now).unwrap();
    }

    fn succeed(b: &mut Breaker, now: f64) {
        let p = b.try_acquire(now).unwrap();
        b.on_success(p, now).unwrap();
    }

    #[test]
    fn trips_at_the_threshold_and_probes_at_the_exact_deadline() {
        let mut b = breaker(Variant::Resilience, 2, 1, None);
        fail(&mut b, 0.0);
        assert_eq!(b.state(), State::Closed);
        fail(&mut b, 0.0);
        assert_eq!(b.state(), State::Open);
        match b.try_acquire(0.25) {
            Err(Error::Open { state: State::Open, retry_after: Some(w), .. }) => assert_eq!(w, 0.75),
            other => panic!("expected a rejection, got {other:?}"),
        }
        succeed(&mut b, 1.0);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.stats().state_transitions, 3);
    }

    #[test]
    fn cb_b_half_open_limit_counts_every_probe_and_can_stick() {
        let mut b = breaker(Variant::Resilience, 1, 3, Some(1));
        fail(&mut b, 0.0);
        succeed(&mut b, 1.0); // the transition probe, not counted
        succeed(&mut b, 1.0); // counted: 1 of 1
        assert_eq!(b.state(), State::HalfOpen);
        assert!(b.try_acquire(1.0).is_err());
        assert_eq!(b.retry_after(9.0), None);
    }

    #[test]
    fn cb_a_wraps_the_half_open_counter_after_a_close() {
        let mut b = breaker(Variant::Standalone, 1, 1, Some(2));
        fail(&mut b, 0.0);
        let probe = b.try_acquire(1.0).unwrap(); // transition probe
        let counted = b.try_acquire(1.0).unwrap();
        b.on_success(counted, 1.0).unwrap();
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.stats().half_open_requests, U32_MAX);
        b.on_success(probe, 1.0).unwrap();
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn hardened_ignores_stale_outcomes_and_rejects_zero_thresholds() {
        let mut b = breaker(Variant::Hardened, 1, 1, Some(1));
        let slow = b.try_acquire(0.0).unwrap();
        fail(&mut b, 0.0);
        b.on_failure(slow, 0.5).unwrap(); // admitted while Closed: must not extend the open period
        assert_eq!(b.stats().last_failure_time, Some(0.0));
        let config = Config {
            failure_threshold: 0,
            success_threshold: 1,
            timeout: 1.0,
            half_open_max_requests: None,
            variant: Variant::Hardened,
        };
        assert!(Breaker::new(config, false).is_err());
    }

    #[test]
    fn a_permit_finishes_once() {
        let mut b = breaker(Variant::Resilience, 3, 1, None);
        let p = b.try_acquire(0.0).unwrap();
        b.on_success(p, 0.0).unwrap();
        assert!(matches!(b.on_failure(p, 0.0), Err(Error::PermitReused)));
    }
}
