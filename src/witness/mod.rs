//! Witnesses (C2SP tlog-witness over tlog-cosignature/v1).
//!
//! | module     | owns                                                                 |
//! |------------|----------------------------------------------------------------------|
//! | [`server`] | `clearinghouse witness`: checks consistency, cosigns, keeps its state |
//! | [`client`] | the service's side: submitting checkpoints, keeping the cosignatures  |

pub mod client;
pub mod server;
