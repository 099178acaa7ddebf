//! An evaluation request and the state of the world it is evaluated in.
//!
//! The request names an action, a target and an assignee (the formal semantics' Evaluation
//! Request); its `context` is the state of the world: the value of each left operand by its
//! ODRL name, collection membership, duty states and payments made. Values are parsed and
//! typed once, here, so that evaluating one request against several policies does no parsing.
//!
//! ```json
//! {"action": "read", "target": "https://data.example/ds/1", "assignee": "urn:siren:123456789",
//!  "context": {"dateTime": "2025-03-01T10:00:00Z", "count": 3, "purpose": "research",
//!              "spatial": "69123", "payAmount": {"value": "12.50", "unit": "EUR"},
//!              "partyMembership": {"urn:siren:123456789": ["https://ecd.example/public-bodies"]},
//!              "dutyStates": {"urn:duty:attribution": {"deonticState": "Fulfilled"}},
//!              "payments": [{"duty": "urn:duty:fee", "payer": "urn:siren:123456789",
//!                            "payee": "urn:siren:987654321", "amount": "2.00",
//!                            "currency": "EUR", "date": "2025-03-01T09:59:00Z"}]}}
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::odrl::decimal::Decimal;
use crate::odrl::error::RequestError;
use crate::odrl::model::normalise_currency;
use crate::odrl::spatial::Area;
use crate::odrl::vocab::ODRL;
use crate::odrl::xsd::{XsdDuration, parse_date_time};

/// "May `assignee` perform `action` on `target`, in this state of the world?"
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The action, as an ODRL term (`read`), a prefixed name or an IRI.
    pub action: String,
    pub target: Option<String>,
    pub assignee: Option<String>,
    pub context: Context,
    /// Evaluate an Offer as though it had been agreed. The formal semantics say an Offer is a
    /// proposal that an evaluator does not consider; policy authors use this to try one.
    pub evaluate_offer: bool,
}

impl Request {
    /// A request for an action, with no target, assignee or context yet.
    pub fn new(action: impl Into<String>) -> Request {
        Request {
            action: action.into(),
            ..Request::default()
        }
    }

    pub fn with_target(mut self, target: impl Into<String>) -> Request {
        self.target = Some(target.into());
        self
    }

    pub fn with_assignee(mut self, assignee: impl Into<String>) -> Request {
        self.assignee = Some(assignee.into());
        self
    }

    pub fn with_context(mut self, context: Context) -> Request {
        self.context = context;
        self
    }

    /// Read a request from its JSON form (see the module documentation).
    pub fn from_json(value: &Value) -> Result<Request, RequestError> {
        let Value::Object(map) = value else {
            return Err(RequestError::NotAnObject);
        };
        let action = match map.get("action") {
            Some(action) => term(action, "action")?,
            None => return Err(RequestError::Missing("action")),
        };
        let target = map.get("target").map(|t| term(t, "target")).transpose()?;
        let assignee = map
            .get("assignee")
            .map(|a| term(a, "assignee"))
            .transpose()?;
        let context = match map.get("context") {
            Some(Value::Object(context)) => Context::from_json(context)?,
            Some(Value::Null) | None => Context::default(),
            Some(_) => return Err(bad("context", "must be a JSON object")),
        };
        let evaluate_offer = match map.get("evaluateOffer") {
            Some(Value::Bool(flag)) => *flag,
            None => false,
            Some(_) => return Err(bad("evaluateOffer", "must be true or false")),
        };
        Ok(Request {
            action,
            target,
            assignee,
            context,
            evaluate_offer,
        })
    }
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Request::from_json(&value).map_err(serde::de::Error::custom)
    }
}

/// The state of the world a request is evaluated in. Absent values are unknown, and a
/// constraint on an unknown value is not satisfied (closed world).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// When the action would be exercised (`dateTime`).
    pub date_time: Option<DateTime<Utc>>,
    /// Time since the action was first exercised (`elapsedTime`).
    pub elapsed_time: Option<XsdDuration>,
    /// How many times the action has been exercised before this request (`count`), as the
    /// caller counted from the log. This request would be exercise number `count + 1`.
    pub count: Option<u64>,
    /// Purposes of the request (`purpose`), as terms or IRIs.
    pub purpose: Vec<String>,
    /// Where the action would be exercised (`spatial`).
    pub spatial: Vec<Area>,
    /// Who receives the result (`recipient`).
    pub recipient: Vec<String>,
    /// The amount at stake (`payAmount`), e.g. the value of a contract to sign.
    pub pay_amount: Option<Money>,
    /// Where now lies relative to named events (`event`).
    pub events: Vec<(String, EventPhase)>,
    /// Party → the party collections it belongs to.
    pub party_membership: HashMap<String, Vec<String>>,
    /// Asset → the asset collections it belongs to.
    pub asset_membership: HashMap<String, Vec<String>>,
    /// Duty key (uid or JSON path) → its deontic state.
    pub duty_states: HashMap<String, DeonticState>,
    /// Payments made, for `compensate` duties.
    pub payments: Vec<Payment>,
    /// Values of any other left operand, by the name the policy writes it with.
    pub other: HashMap<String, Value>,
}

/// An amount of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub value: Decimal,
    /// ISO 4217 code when recognised (`EUR`), otherwise the unit as written.
    pub currency: Option<String>,
}

/// Where now lies relative to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventPhase {
    Before,
    During,
    After,
}

/// The deontic state of a duty (formal semantics: not-set, fulfilled, violated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeonticState {
    NotSet,
    Fulfilled,
    Violated,
}

/// A payment made towards a `compensate` duty.
#[derive(Debug, Clone)]
pub struct Payment {
    /// The key (uid or JSON path) of the duty it pays.
    pub duty: String,
    pub payer: Option<String>,
    pub payee: Option<String>,
    pub amount: Decimal,
    pub currency: Option<String>,
    pub date: Option<DateTime<Utc>>,
}

impl Context {
    pub fn with_date_time(mut self, date_time: DateTime<Utc>) -> Context {
        self.date_time = Some(date_time);
        self
    }

    pub fn with_elapsed_time(mut self, elapsed: XsdDuration) -> Context {
        self.elapsed_time = Some(elapsed);
        self
    }

    pub fn with_count(mut self, count: u64) -> Context {
        self.count = Some(count);
        self
    }

    pub fn with_purpose(mut self, purpose: impl Into<String>) -> Context {
        self.purpose.push(purpose.into());
        self
    }

    pub fn with_spatial(mut self, area: Area) -> Context {
        self.spatial.push(area);
        self
    }

    pub fn with_recipient(mut self, recipient: impl Into<String>) -> Context {
        self.recipient.push(recipient.into());
        self
    }

    pub fn with_pay_amount(mut self, value: Decimal, currency: &str) -> Context {
        self.pay_amount = Some(Money {
            value,
            currency: Some(normalise_currency(currency)),
        });
        self
    }

    pub fn with_event(mut self, event: impl Into<String>, phase: EventPhase) -> Context {
        self.events.push((event.into(), phase));
        self
    }

    pub fn with_party_membership(
        mut self,
        member: impl Into<String>,
        collection: impl Into<String>,
    ) -> Context {
        self.party_membership
            .entry(member.into())
            .or_default()
            .push(collection.into());
        self
    }

    pub fn with_asset_membership(
        mut self,
        member: impl Into<String>,
        collection: impl Into<String>,
    ) -> Context {
        self.asset_membership
            .entry(member.into())
            .or_default()
            .push(collection.into());
        self
    }

    pub fn with_duty_state(mut self, duty: impl Into<String>, state: DeonticState) -> Context {
        self.duty_states.insert(duty.into(), state);
        self
    }

    pub fn with_payment(mut self, payment: Payment) -> Context {
        self.payments.push(payment);
        self
    }

    /// The value of another left operand, under the name the policy writes it with.
    pub fn with_value(mut self, name: impl Into<String>, value: Value) -> Context {
        self.other.insert(name.into(), value);
        self
    }

    /// Read the `context` object of a request.
    pub fn from_json(map: &Map<String, Value>) -> Result<Context, RequestError> {
        let mut context = Context::default();
        for (key, value) in map {
            let name = key
                .strip_prefix("odrl:")
                .or_else(|| key.strip_prefix(ODRL))
                .unwrap_or(key);
            let field = format!("context.{key}");
            match name {
                "dateTime" => {
                    let text = string(value, &field)?;
                    context.date_time =
                        Some(parse_date_time(text).ok_or_else(|| {
                            bad(&field, format!("`{text}` is not an xsd:dateTime"))
                        })?);
                }
                "elapsedTime" => {
                    let text = string(value, &field)?;
                    context.elapsed_time = Some(XsdDuration::parse(text).ok_or_else(|| {
                        bad(
                            &field,
                            format!("`{text}` is not an xsd:duration (e.g. P3D)"),
                        )
                    })?);
                }
                "count" => context.count = Some(count(value, &field)?),
                "purpose" => context.purpose = terms(value, &field)?,
                "recipient" => context.recipient = terms(value, &field)?,
                "spatial" => {
                    context.spatial = terms(value, &field)?
                        .iter()
                        .map(|code| Area::parse(code).map_err(|e| bad(&field, e.to_string())))
                        .collect::<Result<_, _>>()?;
                }
                "payAmount" => context.pay_amount = Some(money(value, &field)?),
                "event" => context.events = events(value, &field)?,
                "partyMembership" => context.party_membership = membership(value, &field)?,
                "assetMembership" => context.asset_membership = membership(value, &field)?,
                "dutyStates" => context.duty_states = duty_states(value, &field)?,
                "payments" => context.payments = payments(value, &field)?,
                _ => {
                    context.other.insert(key.clone(), value.clone());
                }
            }
        }
        Ok(context)
    }
}

fn bad(field: &str, reason: impl Into<String>) -> RequestError {
    RequestError::BadField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn string<'v>(value: &'v Value, field: &str) -> Result<&'v str, RequestError> {
    match value {
        Value::String(text) => Ok(text),
        Value::Object(map) => map
            .get("@value")
            .or_else(|| map.get("@id"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(field, "must be a string")),
        _ => Err(bad(field, "must be a string")),
    }
}

/// A term or IRI: a string or `{"@id": …}`.
fn term(value: &Value, field: &str) -> Result<String, RequestError> {
    string(value, field).map(str::to_owned)
}

/// One term or a list of terms.
fn terms(value: &Value, field: &str) -> Result<Vec<String>, RequestError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| term(item, &format!("{field}[{i}]")))
            .collect(),
        other => Ok(vec![term(other, field)?]),
    }
}

fn count(value: &Value, field: &str) -> Result<u64, RequestError> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return Err(bad(field, "must be a non-negative integer")),
    };
    Decimal::parse(&text)
        .and_then(Decimal::to_u64)
        .ok_or_else(|| bad(field, format!("`{text}` is not a non-negative integer")))
}

fn decimal(value: &Value, field: &str) -> Result<Decimal, RequestError> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return Err(bad(field, "must be a decimal, e.g. \"12.50\"")),
    };
    Decimal::parse(&text).ok_or_else(|| bad(field, format!("`{text}` is not an xsd:decimal")))
}

fn money(value: &Value, field: &str) -> Result<Money, RequestError> {
    let Value::Object(map) = value else {
        return Err(bad(
            field,
            "must be {\"value\": \"12.50\", \"unit\": \"EUR\"}",
        ));
    };
    let amount = map
        .get("value")
        .ok_or_else(|| bad(field, "lacks `value`"))?;
    let value = decimal(amount, &format!("{field}.value"))?;
    let currency = map
        .get("unit")
        .or_else(|| map.get("currency"))
        .map(|unit| string(unit, &format!("{field}.unit")).map(normalise_currency))
        .transpose()?;
    Ok(Money { value, currency })
}

fn events(value: &Value, field: &str) -> Result<Vec<(String, EventPhase)>, RequestError> {
    match value {
        Value::Object(map) if !map.contains_key("@id") => map
            .iter()
            .map(|(event, phase)| {
                let phase = match phase.as_str() {
                    Some("before") => EventPhase::Before,
                    Some("during") => EventPhase::During,
                    Some("after") => EventPhase::After,
                    _ => {
                        return Err(bad(
                            &format!("{field}.{event}"),
                            "must be \"before\", \"during\" or \"after\"",
                        ));
                    }
                };
                Ok((event.clone(), phase))
            })
            .collect(),
        other => Ok(terms(other, field)?
            .into_iter()
            .map(|event| (event, EventPhase::During))
            .collect()),
    }
}

fn membership(value: &Value, field: &str) -> Result<HashMap<String, Vec<String>>, RequestError> {
    let Value::Object(map) = value else {
        return Err(bad(field, "must be an object {member: [collection, …]}"));
    };
    map.iter()
        .map(|(member, collections)| {
            Ok((
                member.clone(),
                terms(collections, &format!("{field}.{member}"))?,
            ))
        })
        .collect()
}

fn duty_states(value: &Value, field: &str) -> Result<HashMap<String, DeonticState>, RequestError> {
    let Value::Object(map) = value else {
        return Err(bad(
            field,
            "must be an object {duty: {\"deonticState\": …}}",
        ));
    };
    map.iter()
        .map(|(duty, state)| {
            let written = match state {
                Value::Object(inner) => inner.get("deonticState").and_then(Value::as_str),
                Value::String(text) => Some(text.as_str()),
                _ => None,
            };
            let state = match written {
                Some("NotSet" | "notSet" | "not-set") => DeonticState::NotSet,
                Some("Fulfilled" | "fulfilled") => DeonticState::Fulfilled,
                Some("Violated" | "violated") => DeonticState::Violated,
                _ => {
                    return Err(bad(
                        &format!("{field}.{duty}"),
                        "deonticState must be \"NotSet\", \"Fulfilled\" or \"Violated\"",
                    ));
                }
            };
            Ok((duty.clone(), state))
        })
        .collect()
}

fn payments(value: &Value, field: &str) -> Result<Vec<Payment>, RequestError> {
    let Value::Array(items) = value else {
        return Err(bad(field, "must be an array of payments"));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let field = format!("{field}[{index}]");
            let Value::Object(map) = item else {
                return Err(bad(&field, "must be an object"));
            };
            let optional = |key: &str| -> Result<Option<String>, RequestError> {
                map.get(key)
                    .map(|v| term(v, &format!("{field}.{key}")))
                    .transpose()
            };
            let duty = optional("duty")?.ok_or_else(|| bad(&field, "lacks `duty`"))?;
            let amount = decimal(
                map.get("amount")
                    .ok_or_else(|| bad(&field, "lacks `amount`"))?,
                &format!("{field}.amount"),
            )?;
            let currency = optional("currency")?
                .or(optional("unit")?)
                .map(|c| normalise_currency(&c));
            let date = match optional("date")? {
                Some(text) => Some(parse_date_time(&text).ok_or_else(|| {
                    bad(
                        &format!("{field}.date"),
                        format!("`{text}` is not an xsd:dateTime"),
                    )
                })?),
                None => None,
            };
            Ok(Payment {
                duty,
                payer: optional("payer")?,
                payee: optional("payee")?,
                amount,
                currency,
                date,
            })
        })
        .collect()
}
