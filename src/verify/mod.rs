//! Client-side verification: everything a party needs to check the log (and, later, audit
//! bundles) without trusting the operator. Uses only the published resources and the log's
//! verifier key.
//!
//! | module     | owns                                          |
//! |------------|-----------------------------------------------|
//! | [`source`] | reading a published log over HTTP or on disk  |
//! | [`log`]    | verifying the whole log, streaming            |
//! | [`bundle`] | offline audit bundles: format and checks      |
//! | [`witness`] | witnesses' cosignatures against a quorum     |

pub mod billing;
pub mod bundle;
pub mod log;
pub mod source;
pub mod witness;
