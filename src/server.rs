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
use ed25519_dalek::SigningKey;
use tokio::net::TcpListener;

use crate::cluster::{Cluster, ClusterParts};
use crate::config::Config;
use crate::exchange::ExchangeService;
use crate::http::auth::OperatorAuth;
use crate::http::{AppState, router};
use crate::journal::Journal;
use crate::ledger::note::NoteSigner;
use crate::ledger::publish::HeadPublisher;
use crate::ledger::reader::LogReader;
use crate::ledger::sequencer::open_head;
use crate::store::{Store, StoreOptions};
use crate::trust::anchors::AnchorSet;
use crate::trust::did::DidResolver;
use crate::trust::issuer::Issuer;
use crate::trust::proconnect::{ClientConfig, ProConnect};
use crate::trust::service::{TrustParts, TrustService, TrustSettings};
use crate::trust::sirene::{SireneClient, SireneSource};
use crate::trust::status::{OwnLists, StatusChecker};
use crate::trust::verifier::Verifier;
use crate::witness::client::Cosignatures;

/// The service's private keys.
pub struct Keys {
    /// Signs checkpoints.
    pub log: NoteSigner,
    /// Signs the credentials this service issues.
    pub issuer: SigningKey,
}

/// What a service needs beyond its configuration file.
pub struct ServiceOptions {
    /// Base URL clients reach the service at (its `did:web` derives from it).
    pub public_url: String,
    pub operator_token: Option<String>,
    pub sirene: SireneSource,
    pub proconnect: Option<ClientConfig>,
}

impl ServiceOptions {
    /// Options from the configuration: secrets read, Sirene API client built, ProConnect
    /// configured when it has a client id. `bound` is the listening address, the default
    /// public URL.
    pub fn from_config(config: &Config, bound: std::net::SocketAddr) -> anyhow::Result<Self> {
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
            .trim_end_matches('/')
            .to_owned();
        let sirene = SireneSource::Api(
            SireneClient::new(&config.sirene.base_url, config.sirene_api_key()?)
                .map_err(|e| anyhow::anyhow!("sirene: {e}"))?,
        );
        let proconnect = match &config.proconnect.client_id {
            None => None,
            Some(client_id) => Some(ClientConfig {
                issuer: config.proconnect.issuer.clone(),
                client_id: client_id.clone(),
                client_secret: config.proconnect_client_secret()?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "proconnect.client_id is set but no client secret \
                         (CLEARINGHOUSE_PROCONNECT__CLIENT_SECRET or proconnect.client_secret_file)"
                    )
                })?,
                redirect_uri: format!("{public_url}/v1/auth/proconnect/callback"),
            }),
        };
        Ok(ServiceOptions {
            public_url,
            operator_token: config.operator_token()?,
            sirene,
            proconnect,
        })
    }
}

/// A started service: state shared by handlers, and its part in the sequencer election
/// (the sequencer and the witness collectors run while this process leads).
pub struct Service {
    pub state: AppState,
    cluster: Cluster,
}

impl Service {
    /// Open storage and the log and start the sequencer.
    pub async fn start(
        config: &Config,
        keys: Keys,
        options: ServiceOptions,
    ) -> anyhow::Result<Service> {
        let store = Store::connect(&StoreOptions {
            url: config.database_url(),
            max_connections: config.database_max_connections,
            pg_schema: None,
        })
        .await
        .context("opening the database")?;
        Self::start_with_store(config, store, keys, options).await
    }

    /// Same as [`Service::start`] on an already opened store (tests pass their own).
    pub async fn start_with_store(
        config: &Config,
        store: Store,
        keys: Keys,
        options: ServiceOptions,
    ) -> anyhow::Result<Service> {
        store.migrate().await.context("migrating the database")?;
        // Entries logged before the audit index existed (migration 0004) are indexed now.
        let indexed = store
            .backfill_audit_index()
            .await
            .context("indexing entries for the audit")?;
        if indexed > 0 {
            tracing::info!(entries = indexed, "audit index: indexed earlier entries");
        }
        let origin = config.log.origin.clone();
        let signer = keys.log;
        let head = open_head(&store, &signer, &origin)
            .await
            .context("opening the log")?;
        let initial_size = head.head.size;
        let (publisher, subscribe) = HeadPublisher::new(head);
        let cache =
            NonZeroUsize::new(config.log.tile_cache_tiles.max(16)).unwrap_or(NonZeroUsize::MIN);
        let reader = Arc::new(LogReader::new(Arc::new(store.clone()), subscribe, cache));
        let verifier = signer.verifier().clone();
        let witnesses = config.witness_targets()?;
        let cosignatures = Arc::new(
            Cosignatures::load(&store, &witnesses, config.witness_quorum)
                .await
                .context("loading witness cosignatures")?,
        );
        let (cluster, route) = Cluster::start(ClusterParts {
            store: store.clone(),
            election: store.election(&origin),
            signer: Arc::new(signer),
            origin: origin.clone(),
            sequencer: config.sequencer(),
            publisher: publisher.clone(),
            reader: reader.clone(),
            witnesses,
            cosignatures: cosignatures.clone(),
            observer: Some(crate::metrics::batch_observer(initial_size)),
        })
        .await;
        tracing::info!(
            role = route.borrow().role(),
            "joined the log's sequencer election"
        );
        let journal = Journal::new(reader, route, publisher, verifier, origin);
        let trust = build_trust(
            config,
            &store,
            &journal,
            &keys.issuer,
            options.sirene,
            options.proconnect,
            &options.public_url,
        )?;
        let exchange =
            ExchangeService::new(trust.clone(), keys.issuer.clone(), config.exchange.clone());
        let state = AppState {
            store,
            journal,
            operator_auth: Arc::new(
                OperatorAuth::new(options.operator_token.as_deref())
                    .with_auditors(
                        config
                            .auth
                            .auditors
                            .iter()
                            .filter_map(|a| Some((a.label.clone(), a.digest()?)))
                            .collect(),
                    )
                    .with_committee(config.auth.committee_sirens.clone()),
            ),
            trust,
            exchange,
            status_lists: Arc::default(),
            invoicing: Arc::new(config.invoicing.clone()),
            cosignatures,
            pages: Arc::default(),
        };
        // Anchor changes since the last run are governance acts: log them before serving.
        state
            .trust
            .sync_anchors("configuration")
            .await
            .map_err(|e| anyhow::anyhow!("logging trust anchor changes: {e}"))?;
        Ok(Service { state, cluster })
    }

    /// Serve on `listener` until `shutdown` resolves, then drain and stop.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Service { state, cluster } = self;
        let store = state.store.clone();
        let app = router(state);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        // Every in-flight request has been answered: the sequencer (if this process leads)
        // commits what it still holds and stops, and the lock goes to a follower.
        cluster.stop().await;
        store.close().await;
        Ok(())
    }
}

impl Service {
    /// Stop without serving (a service used in-process, by the bench's set-up): the
    /// sequencer commits what it holds and the database closes.
    pub async fn stop(self) {
        self.cluster.stop().await;
        self.state.store.close().await;
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

/// Assemble the trust service: issuer identity, DID resolution, status checking, anchors.
fn build_trust(
    config: &Config,
    store: &Store,
    journal: &Journal,
    issuer_key: &SigningKey,
    sirene: SireneSource,
    proconnect: Option<ClientConfig>,
    public_url: &str,
) -> anyhow::Result<TrustService> {
    let ttl = Duration::from_secs(config.trust.did_cache_seconds);
    let allow_http = config.trust.allow_http_did_web;
    let issuer = Issuer::new(public_url, issuer_key, ttl, allow_http)
        .map_err(|e| anyhow::anyhow!("issuer identity: {e}"))?;
    let dids = DidResolver::new(
        ttl,
        allow_http,
        Some((issuer.did().to_owned(), issuer.did_document().clone())),
    );
    let status = StatusChecker::new(
        Duration::from_secs(config.trust.status_cache_seconds),
        Some(OwnLists {
            prefix: issuer.status_list_prefix(),
            store: store.clone(),
            issuer: issuer.did().to_owned(),
        }),
    );
    let anchors =
        AnchorSet::load_dir(&config.trust.anchors_dir, issuer.did()).with_context(|| {
            format!(
                "loading trust anchors from {}",
                config.trust.anchors_dir.display()
            )
        })?;
    if let Some(client) = &proconnect
        && anchors
            .openid_provider(&client.issuer, crate::clock::now())
            .is_none()
    {
        anyhow::bail!(
            "proconnect.issuer {} is not a trusted openid-provider anchor in {}",
            client.issuer,
            config.trust.anchors_dir.display()
        );
    }
    Ok(TrustService::new(TrustParts {
        store: store.clone(),
        journal: journal.clone(),
        verifier: Verifier::new(dids, status),
        issuer,
        anchors,
        anchors_dir: config.trust.anchors_dir.clone(),
        sirene,
        proconnect: proconnect.map(ProConnect::new),
        public_url: public_url.to_owned(),
        settings: TrustSettings {
            officer_mandate_days: config.trust.officer_mandate_days,
            officer_delegation_depth: config.trust.officer_delegation_depth,
            organisation_credential_days: config.trust.organisation_credential_days,
            challenge_seconds: config.trust.challenge_seconds,
        },
    }))
}
