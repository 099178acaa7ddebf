//! The Merkle log: RFC 6962 / RFC 9162 hashing and proofs, C2SP tiles, signed notes,
//! checkpoints and cosignatures, and the single-writer sequencer.
//!
//! This module knows nothing of the clearing house's business: it appends byte strings,
//! stores them as tiles and proves things about them. It is written against the
//! [`storage::LogStorage`] contract, implemented by `crate::store`.
//!
//! | module        | owns                                                            |
//! |---------------|-----------------------------------------------------------------|
//! | [`hash`]      | leaf and node hashing, roots of hash lists                      |
//! | [`proof`]     | verifying inclusion and consistency proofs (client side)        |
//! | [`tree`]      | which hashes a proof needs, computing them from tiles, the edge |
//! | [`tiles`]     | tile paths, tile coordinates, entry bundles                     |
//! | [`nodes`]     | a tile with its interior nodes, so proofs read instead of hash  |
//! | [`note`]      | signed notes, keys, checkpoints                                 |
//! | [`witness`]   | tlog-cosignature/v1                                             |
//! | [`storage`]   | the storage contract                                            |
//! | [`reader`]    | proofs and tiles from storage through a bounded cache           |
//! | [`publish`]   | the head readers see, only ever moving forward                  |
//! | [`sequencer`] | batching, committing, acknowledging                             |

pub mod hash;
pub mod nodes;
pub mod note;
pub mod proof;
pub mod publish;
pub mod reader;
pub mod sequencer;
pub mod storage;
pub mod tiles;
pub mod tree;
pub mod witness;
