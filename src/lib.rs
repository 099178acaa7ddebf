#![recursion_limit = "256"]
//! The clearing house and contract ledger of a territorial common data space (ECD).
//!
//! A neutral trusted third party: it verifies participants' credentials, records signed
//! contracts, answers connectors' pre-transfer questions and records their receipts, and
//! keeps all of it in one append-only Merkle log that anyone can verify without trusting
//! the operator. See `ARCHITECTURE.md` for the design.
//!
//! | module       | owns                                                               |
//! |--------------|--------------------------------------------------------------------|
//! | [`ledger`]   | the Merkle log: hashing, proofs, tiles, notes, sequencer (no business) |
//! | [`entry`]    | typed, versioned log entries and their canonical encoding          |
//! | [`journal`]  | appending typed entries and returning receipts with proofs         |
//! | [`cluster`]  | several processes on one database: who runs the sequencer          |
//! | [`odrl`]     | ODRL 2.2 policies: model, validation, evaluation with explanations  |
//! | [`store`]    | SQLite and PostgreSQL behind one interface                          |
//! | [`participants`] | onboarding, connector keys, suspension                      |
//! | [`trust`]    | credentials, SIREN/SIRET, trust anchors, ProConnect, mandates      |
//! | [`exchange`] | contracts, connector tokens, pre-transfer decisions, receipts      |
//! | [`billing`]  | tariffs, financing rules, cost allocation, statements               |
//! | [`jose`]     | compact and detached JWS (EdDSA, ES256)                             |
//! | [`http`]     | the HTTP API: routes, extractors, RFC 9457 problems                 |
//! | [`pages`]    | server-rendered pages for the committee and the operator (`/ui`)     |
//! | [`verify`]   | verifying a published log from the outside                          |
//! | [`export`]   | writing the log as static tlog-tiles files                          |
//! | [`config`]   | the typed configuration                                             |
//! | [`keys`]     | private key files                                                   |
//! | [`server`]   | assembling and running the service                                  |
//! | [`telemetry`] | logs on stderr, optional OpenTelemetry trace export                |
//! | [`demo`]     | demo data                                                           |
//! | [`cli`]      | the command line                                                    |

pub mod bench;
pub mod billing;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod entry;
pub mod exchange;
pub mod export;
pub mod http;
pub mod jose;
pub mod journal;
pub mod keys;
pub mod ledger;
pub mod metrics;
pub mod odrl;
pub mod pages;
pub mod participants;
pub mod privacy;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod trust;
pub mod verify;
pub mod witness;
