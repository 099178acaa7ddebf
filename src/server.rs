//! Assemble the service from its configuration, run it on a listener, stop it cleanly.
//!
//! [`Service::start`] opens the database (migrating it), opens the log with its key,
//! starts the sequencer and builds the shared state. [`Service::run`] serves HTTP on a given
//! listener until a shutdown future resolves, then lets in-flight requests and appends
//! finish: the sequencer commits what it was handed before the process exits.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::auth::OperatorAuth;
use crate::http::{AppState, router};
use crate::journal::Journal;
use crate::ledger::note::NoteSigner;
use crate::ledger::reader::LogReader;
use crate::ledger::sequencer::{self, RunningSequencer, open_head};
use crate::store::{Store, StoreOptions};

/// How long shutdown waits for the sequencer to commit what it was handed.
const SEQUENCER_DRAIN: Duration = Duration::from_secs(30);

/// A started service: state shared by handlers, and the sequencer task.
pub struct Service {
    pub state: AppState,
    sequencer: RunningSequencer,
}

impl Service {
    /// Open storage and the log and start the sequencer.
    pub async fn start(
        config: &Config,
        signer: NoteSigner,
        operator_token: Option<String>,
    ) -> anyhow::Result<Service> {
        let store = Store::connect(&StoreOptions {
            url: config.database_url(),
            max_connections: config.database_max_connections,
            pg_schema: None,
        })
        .await
        .context("opening the database")?;
        Self::start_with_store(config, store, signer, operator_token).await
    }

    /// Same as [`Service::start`] on an already opened store (tests pass their own).
    pub async fn start_with_store(
        config: &Config,
        store: Store,
        signer: NoteSigner,
        operator_token: Option<String>,
    ) -> anyhow::Result<Service> {
        store.migrate().await.context("migrating the database")?;
        let origin = config.log.origin.clone();
        let head = open_head(&store, &signer, &origin)
            .await
            .context("opening the log")?;
        let (publish, subscribe) = watch::channel(Arc::new(head));
        let cache =
            NonZeroUsize::new(config.log.tile_cache_tiles.max(16)).unwrap_or(NonZeroUsize::MIN);
        let storage = Arc::new(store.clone());
        let reader = Arc::new(LogReader::new(storage.clone(), subscribe, cache));
        let verifier = signer.verifier().clone();
        let (handle, task) = sequencer::start(
            storage,
            Arc::new(signer),
            origin.clone(),
            config.sequencer(),
            publish,
            reader.clone(),
            None,
        );
        let journal = Journal::new(reader, Some(handle), verifier, origin);
        let state = AppState {
            store,
            journal,
            operator_auth: Arc::new(OperatorAuth::new(operator_token.as_deref())),
        };
        Ok(Service {
            state,
            sequencer: task,
        })
    }

    /// Serve on `listener` until `shutdown` resolves, then drain and stop.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Service { state, sequencer } = self;
        let store = state.store.clone();
        let app = router(state);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        // Every in-flight request has been answered: the sequencer commits what it still
        // holds and stops.
        sequencer.stop(SEQUENCER_DRAIN).await;
        store.close().await;
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests and appends");
}
