//! An example `exec:` harness for the rustok-sim conformance gate, in Rust: it speaks the JSON
//! Lines protocol (version 1, docs/conformance.md) on stdin/stdout for the `circuit_breaker`
//! component, in front of its own breaker (`breaker.rs`, written here, not a wrapper).
//!
//!     rustok-sim conform --target "circuit_breaker=exec:target/release/breaker-harness"
//!
//! Each request line is `{"v": 1, "id": N, "t": SECONDS, "op": "new" | "call" | "get", ...}`;
//! each reply is `{"id": N, "ok": VALUE}` or `{"id": N, "error": {"kind", "message", "fields"}}`.
//! `t` is the gate's controlled clock and the only time this process uses.
//!
//! `--mutant` (or `BREAKER_HARNESS_MUTANT=1`) makes the breaker trip one failure late, which the
//! gate must report as a violation. To put a real implementation behind the protocol, replace
//! `Breaker` and keep `handle`.

mod breaker;

use std::io::{self, BufRead, BufWriter, Write};

use serde_json::{json, Map, Value};

use breaker::{Breaker, Config, Error, PermitId, Variant};

const PROTOCOL_VERSION: u64 = 1;

/// An error reply: (kind, message, fields).
struct Reply {
    kind: String,
    message: String,
    fields: Value,
}

impl Reply {
    fn new(kind: &str, message: impl Into<String>) -> Reply {
        Reply { kind: kind.to_string(), message: message.into(), fields: json!({}) }
    }
}

impl From<Error> for Reply {
    fn from(error: Error) -> Reply {
        let fields = match &error {
            Error::Open { state, retry_after, .. } => json!({"state": state.as_str(), "retry_after": retry_after}),
            _ => json!({}),
        };
        Reply { kind: error.kind().to_string(), message: error.message(), fields }
    }
}

struct Harness {
    mutant: bool,
    breaker: Option<Breaker>,
}

fn field<'a>(request: &'a Map<String, Value>, name: &str) -> Result<&'a Value, Reply> {
    request.get(name).ok_or_else(|| Reply::new("ProtocolError", format!("request has no {name:?}")))
}

fn text<'a>(request: &'a Map<String, Value>, name: &str) -> Result<&'a str, Reply> {
    field(request, name)?.as_str().ok_or_else(|| Reply::new("ProtocolError", format!("{name:?} is not a string")))
}

fn int(config: &Map<String, Value>, name: &str) -> Result<i64, Reply> {
    config
        .get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| Reply::new("ValueError", format!("config {name:?} must be an integer")))
}

fn parse_config(value: &Value) -> Result<Config, Reply> {
    let config = value.as_object().ok_or_else(|| Reply::new("ValueError", "config is not an object"))?;
    let variant_name = config.get("variant").and_then(Value::as_str).unwrap_or("resilience");
    let variant = Variant::parse(variant_name)
        .ok_or_else(|| Reply::new("ValueError", format!("unknown variant {variant_name:?}")))?;
    let half_open_max_requests = match config.get("half_open_max_requests") {
        None | Some(Value::Null) => None,
        Some(_) => Some(int(config, "half_open_max_requests")?),
    };
    let timeout = config
        .get("timeout")
        .and_then(Value::as_f64)
        .ok_or_else(|| Reply::new("ValueError", "config \"timeout\" must be a number"))?;
    Ok(Config {
        failure_threshold: int(config, "failure_threshold")?,
        success_threshold: int(config, "success_threshold")?,
        timeout,
        half_open_max_requests,
        variant,
    })
}

fn permit_handle(id: PermitId) -> Value {
    json!({"permit": format!("p{}", id + 1)})
}

fn permit_arg(args: Option<&Value>) -> Result<PermitId, Reply> {
    let handle = args
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|a| a.get("permit"))
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::new("TypeError", "expects the permit that try_acquire()/admit() returned"))?;
    handle
        .strip_prefix('p')
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n >= 1)
        .map(|n| n - 1)
        .ok_or_else(|| Reply::new("TypeError", format!("not a permit this breaker issued: {handle}")))
}

fn optional(value: Option<f64>) -> Value {
    value.map_or(Value::Null, Value::from)
}

impl Harness {
    fn handle(&mut self, request: &Map<String, Value>) -> Result<Value, Reply> {
        match field(request, "v")?.as_u64() {
            Some(PROTOCOL_VERSION) => {}
            other => {
                return Err(Reply::new(
                    "ProtocolError",
                    format!("protocol version {other:?} not spoken; this harness speaks v1"),
                ))
            }
        }
        let now = field(request, "t")?.as_f64().ok_or_else(|| Reply::new("ProtocolError", "\"t\" is not a number"))?;
        let op = text(request, "op")?;
        if op == "new" {
            let component = text(request, "component")?;
            if component != "circuit_breaker" {
                return Err(Reply::new(
                    "ProtocolError",
                    format!("this harness speaks circuit_breaker, not {component}"),
                ));
            }
            let config = parse_config(field(request, "config")?)?;
            self.breaker = Some(Breaker::new(config, self.mutant).map_err(|m| Reply::new("ValueError", m))?);
            return Ok(Value::Null);
        }
        let breaker =
            self.breaker.as_mut().ok_or_else(|| Reply::new("RuntimeError", "no instance: send 'new' first"))?;
        match op {
            "get" => Ok(match text(request, "name")? {
                "state" => json!(breaker.state().as_str()),
                "variant" => json!(breaker.variant().as_str()),
                "failure_count" => json!(breaker.failure_count()),
                "success_count" => json!(breaker.success_count()),
                other => return Err(Reply::new("AttributeError", format!("no property {other:?}"))),
            }),
            "call" => {
                let args = request.get("args");
                Ok(match text(request, "method")? {
                    "admit" => breaker.admit(now).map_or(Value::Null, permit_handle),
                    "try_acquire" => permit_handle(breaker.try_acquire(now)?),
                    "on_success" => {
                        breaker.on_success(permit_arg(args)?, now)?;
                        Value::Null
                    }
                    "on_failure" => {
                        breaker.on_failure(permit_arg(args)?, now)?;
                        Value::Null
                    }
                    "retry_after" => optional(breaker.retry_after(now)),
                    "stats" => {
                        let s = breaker.stats();
                        json!({
                            "state": s.state.as_str(),
                            "total_requests": s.total_requests,
                            "total_successes": s.total_successes,
                            "total_failures": s.total_failures,
                            "total_rejected": s.total_rejected,
                            "state_transitions": s.state_transitions,
                            "failure_count": s.failure_count,
                            "success_count": s.success_count,
                            "in_flight": s.in_flight,
                            "half_open_requests": s.half_open_requests,
                            "last_failure_time": optional(s.last_failure_time),
                            "success_rate": s.success_rate(),
                            "rejection_rate": s.rejection_rate(),
                        })
                    }
                    "open" => {
                        breaker.open(now)?;
                        Value::Null
                    }
                    "close" => {
                        breaker.close()?;
                        Value::Null
                    }
                    "reset" => {
                        breaker.reset();
                        Value::Null
                    }
                    other => return Err(Reply::new("AttributeError", format!("no method {other:?}"))),
                })
            }
            other => Err(Reply::new("ProtocolError", format!("unknown op {other:?}"))),
        }
    }
}

fn main() -> io::Result<()> {
    let mutant = std::env::args().skip(1).any(|a| a == "--mutant")
        || std::env::var("BREAKER_HARNESS_MUTANT").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut harness = Harness { mutant, breaker: None };
    let stdin = io::stdin();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut line = String::new();
    let mut input = stdin.lock();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(()); // the gate closed our stdin: done
        }
        if line.trim().is_empty() {
            continue;
        }
        let (id, result) = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(request)) => (request.get("id").cloned().unwrap_or(Value::Null), harness.handle(&request)),
            Ok(_) => (Value::Null, Err(Reply::new("ProtocolError", "a request is a JSON object"))),
            Err(e) => (Value::Null, Err(Reply::new("ProtocolError", format!("request is not JSON: {e}")))),
        };
        let reply = match result {
            Ok(value) => json!({"id": id, "ok": value}),
            Err(Reply { kind, message, fields }) => {
                json!({"id": id, "error": {"kind": kind, "message": message, "fields": fields}})
            }
        };
        serde_json::to_writer(&mut out, &reply)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
}
