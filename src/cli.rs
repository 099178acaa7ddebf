//! The `clearinghouse` command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rand::RngCore;

use crate::config::{Config, Overrides};
use crate::keys::{ensure_key_file, read_key_file, write_key_file};
use crate::ledger::note::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteSigner, NoteVerifier};
use crate::server::{Keys, Service, ServiceOptions, shutdown_signal};
use crate::verify::log::{VerifyOptions, verify_log};
use crate::verify::source::LogSource;

#[derive(Debug, Parser)]
#[command(
    name = "clearinghouse",
    version,
    about = "Neutral clearing house and contract ledger for territorial common data spaces"
)]
pub struct Cli {
    /// TOML configuration file (values there are overridden by CLEARINGHOUSE_* variables).
    #[arg(long, global = true, env = "CLEARINGHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Log output format on stderr.
    #[arg(
        long,
        global = true,
        env = "CLEARINGHOUSE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (the log key must exist: see `keygen`).
    Serve(ServerArgs),
    /// Run the service on an embedded SQLite database with demo data.
    Demo(ServerArgs),
    /// Create or update the database schema, then exit.
    Migrate(DataArgs),
    /// Generate a signed-note Ed25519 key (mode 0600) and print its verifier key.
    Keygen(KeygenArgs),
    /// Verify a published log (over HTTP or in a directory) without trusting its operator.
    Verify(VerifyArgs),
    /// Run a C2SP tlog-witness: cosign checkpoints of the given logs, refusing any that is
    /// not consistent with the last one it cosigned.
    Witness(WitnessArgs),
    /// Write the log as static tlog-tiles files, for a web server or CDN to serve.
    Export(ExportArgs),
    /// ODRL tools for policy authors.
    #[command(subcommand)]
    Odrl(OdrlCommand),
    /// Billing tools for auditors and funders.
    #[command(subcommand)]
    Billing(BillingCommand),
    /// Erase a person's private records on a running service (GDPR right to erasure,
    /// retention limits): what they hold is revoked, their records and salts deleted, and
    /// the erasure logged without personal data. The operator token is read from
    /// `CLEARINGHOUSE_OPERATOR_TOKEN`.
    Erase(EraseArgs),
    /// Measure the service as its users load it: decisions, signed receipts (and a naive
    /// one-entry-per-transaction baseline), proofs and an audit query on a grown log, a full
    /// verification, the server's peak memory; beside the machine's bounds and the targets.
    /// Build with --release for meaningful figures.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Also run on PostgreSQL: a server URL on which the bench creates a database for the
    /// run (and drops it afterwards), e.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long)]
    postgres: Option<String>,
    /// Run on PostgreSQL only (with --postgres).
    #[arg(long, requires = "postgres")]
    no_sqlite: bool,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds each timed scenario runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Log sizes at which proofs are measured, comma-separated; the audit query runs at
    /// the first of at least 100000, the full verification at the largest.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000,10000000")]
    sizes: Vec<u64>,
    /// Where the bench's data directory goes (default: the system's temporary directory;
    /// a 10M-entry log takes several GB).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the data directory and the PostgreSQL database afterwards.
    #[arg(long)]
    keep: bool,
    /// Also write the reports as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EraseArgs {
    /// Base URL of the service, e.g. `https://clearinghouse.example.fr`.
    #[arg(long)]
    url: String,
    /// The person's e-mail address.
    #[arg(long)]
    email: String,
    /// `right-to-erasure` or `retention-limit`.
    #[arg(long, default_value = "right-to-erasure")]
    reason: String,
}

#[derive(Debug, Subcommand)]
enum BillingCommand {
    /// Verify a period bundle (`GET /v1/billing/periods/{period}/bundle`) offline and
    /// recompute every statement from its entries; exit 1 on any difference.
    Recompute {
        /// The period bundle file (JSON).
        file: PathBuf,
        /// The log's verifier key (`name+id+key`), or a file holding it.
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum OdrlCommand {
    /// Evaluate a request against a policy; print the decision and its explanation as JSON.
    Eval {
        /// ODRL policy (JSON-LD, compact terms with the ODRL context or full IRIs).
        #[arg(long)]
        policy: PathBuf,
        /// Request: {"action", "target", "assignee", "context": {...}}.
        #[arg(long)]
        request: PathBuf,
    },
    /// Check that a policy is valid ODRL; list every problem.
    Check {
        #[arg(long)]
        policy: PathBuf,
    },
}

#[derive(Debug, Args)]
struct DataArgs {
    /// Directory for the embedded database and the log key.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServerArgs {
    /// Address to listen on, ADDR:PORT (port 0 picks a free port and prints it).
    #[arg(long)]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// Key name; for the log key this is the checkpoint origin. Default: the configured origin.
    #[arg(long)]
    name: Option<String>,
    /// Where to write the private key. Default: the configured log key file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Make a witness (tlog-cosignature/v1) key instead of a log key.
    #[arg(long, conflicts_with = "issuer")]
    witness: bool,
    /// Make the credential-issuing key (default file: the configured issuer key file).
    #[arg(long)]
    issuer: bool,
    /// Overwrite an existing key file.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
#[command(
    group(clap::ArgGroup::new("source").required(true).args(["url", "dir"])),
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
struct VerifyArgs {
    #[command(subcommand)]
    what: Option<VerifyCommand>,
    /// The log's URL prefix, where `checkpoint` and `tile/` live (e.g. http://host:8080/log).
    #[arg(long)]
    url: Option<String>,
    /// A directory in the tlog-tiles layout (e.g. from `clearinghouse export`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The log's verifier key (`name+id+key`), or a file holding it. Obtain it out of band.
    #[arg(long, required = true)]
    key: Option<String>,
    /// Expected checkpoint origin. Default: the key's name.
    #[arg(long)]
    origin: Option<String>,
    /// A checkpoint saved earlier: the log must extend it (no rollback, no fork).
    #[arg(long)]
    previous: Option<PathBuf>,
    /// Save the verified checkpoint here, for the next run's --previous.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Bundles fetched concurrently.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// A witness's cosignature/v1 verifier key (inline or a file); repeat for several.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// How many of the --witness keys must have cosigned the checkpoint. Default: all.
    #[arg(long, requires = "witnesses")]
    witness_quorum: Option<usize>,
}

#[derive(Debug, Args)]
struct WitnessArgs {
    /// Address to listen on, ADDR:PORT (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:7380")]
    listen: SocketAddr,
    /// The witness's private key (cosignature/v1, mode 0600: `keygen --witness`).
    #[arg(long)]
    key_file: PathBuf,
    /// Verifier key of a log to witness (inline or a file); its name is the log's origin.
    /// Repeat for several logs, or for several keys of one log.
    #[arg(long = "log-vkey", required = true)]
    log_vkeys: Vec<String>,
    /// Directory where the witness keeps the latest checkpoint it cosigned for each log.
    /// Losing it lets the witness be fooled once: keep it, or retire the witness key.
    #[arg(long)]
    state_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum VerifyCommand {
    /// Check an offline audit bundle (from `GET /v1/audit/bundles`) with no network.
    Bundle {
        /// The bundle file (JSON).
        file: PathBuf,
        /// The log's verifier key (`name+id+key`), or a file holding it. Obtain it out of
        /// band: the key inside the bundle is only compared with it.
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let telemetry = crate::telemetry::Telemetry::init(matches!(cli.log_format, LogFormat::Json));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    telemetry.shutdown();
    code
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = cli.config.as_deref();
    match cli.command {
        Command::Serve(args) => serve(file, args).await,
        Command::Demo(args) => demo(file, args).await,
        Command::Migrate(args) => migrate(file, args).await,
        Command::Keygen(args) => keygen(file, args),
        Command::Verify(args) => verify(args).await,
        Command::Witness(args) => witness(args).await,
        Command::Erase(args) => erase(args).await,
        Command::Bench(args) => bench(args).await,
        Command::Export(args) => export(file, args).await,
        Command::Odrl(command) => odrl(command),
        Command::Billing(BillingCommand::Recompute { file, key }) => recompute(&file, &key),
    }
}

fn load(
    base: Config,
    file: Option<&Path>,
    listen: Option<SocketAddr>,
    data: &DataArgs,
) -> anyhow::Result<Config> {
    Ok(Config::load(
        base,
        file,
        &Overrides {
            listen,
            data_dir: data.data_dir.clone(),
            ..Overrides::default()
        },
    )?)
}

/// Print a line to stdout and flush it now (scripts and tests read it while we run).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Name of the credential-issuing key in its key file.
pub const ISSUER_KEY_NAME: &str = "credential-issuer";

/// Read the log and issuer keys, refusing files others can read.
fn read_keys(config: &Config) -> anyhow::Result<Keys> {
    let log = read_key_file(&config.key_file(), Some(&config.log.origin)).with_context(|| {
        format!(
            "loading the log key (create one with `clearinghouse keygen --name {}`)",
            config.log.origin
        )
    })?;
    let issuer = read_key_file(&config.issuer_key_file(), Some(ISSUER_KEY_NAME)).context(
        "loading the credential-issuing key (create one with `clearinghouse keygen --issuer`)",
    )?;
    Ok(Keys {
        log,
        issuer: issuer.signing_key().clone(),
    })
}

async fn serve(file: Option<&Path>, args: ServerArgs) -> anyhow::Result<ExitCode> {
    let config = load(Config::default(), file, args.listen, &args.data)?;
    let keys = read_keys(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    let options = ServiceOptions::from_config(&config, address)?;
    if options.operator_token.is_none() {
        tracing::warn!(
            "no operator token configured: operator endpoints will refuse every request"
        );
    }
    let vkey = keys.log.verifier().vkey();
    let service = Service::start(&config, keys, options).await?;
    say(&format!("clearinghouse listening on http://{address}"));
    say(&format!("log verifier key: {vkey}"));
    service.run(listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's service on `config`, answering at `address`: keys created if missing, the
/// demo's Sirene fixture (no network), its operator token (`operator-token` in the data
/// directory unless configured), and on the pages its committee member, who signs in
/// without an identity provider (every page says so).
pub(crate) async fn demo_service(config: &Config, address: SocketAddr) -> anyhow::Result<Service> {
    let keys = Keys {
        log: ensure_key_file(&config.key_file(), &config.log.origin)?,
        issuer: ensure_key_file(&config.issuer_key_file(), ISSUER_KEY_NAME)?
            .signing_key()
            .clone(),
    };
    let mut options = ServiceOptions::from_config(config, address)?;
    if options.operator_token.is_none() {
        options.operator_token = Some(demo_secret(&config.data_dir.join("operator-token"))?);
    }
    options.sirene = crate::demo::sirene_fixture();
    let mut service = Service::start(config, keys, options).await?;
    service.state.pages = std::sync::Arc::new(crate::pages::PagesConfig {
        demo_member: Some(crate::pages::DemoMember {
            siren: crate::demo::COMMITTEE_MEMBER.0.to_owned(),
            name: crate::demo::COMMITTEE_MEMBER.1.to_owned(),
        }),
    });
    Ok(service)
}

/// `clearinghouse bench`: one run per database, each report printed as it completes.
async fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let mut targets: Vec<Option<String>> = Vec::new();
    if !args.no_sqlite {
        targets.push(None);
    }
    if let Some(url) = &args.postgres {
        targets.push(Some(url.clone()));
    }
    let mut reports = Vec::new();
    let mut failed = false;
    for postgres in targets {
        let options = crate::bench::BenchOptions {
            postgres,
            clients: args.clients.max(1),
            seconds: args.seconds.max(1),
            sizes: args.sizes.clone(),
            work_dir: args.work_dir.clone().unwrap_or_else(std::env::temp_dir),
            keep: args.keep,
        };
        let report = crate::bench::run(&options, &|line| say(line)).await?;
        say("");
        say(&report.markdown());
        failed |= report.runs.iter().any(|r| r.errors > 0);
        reports.push(report);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&reports)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if failed {
        say("some requests failed: the figures above do not count them (see the errors)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Demo defaults: a data directory in the working directory and a demo origin.
pub(crate) fn demo_config() -> Config {
    let defaults = Config::default();
    Config {
        data_dir: PathBuf::from("demo-data"),
        log: crate::config::LogConfig {
            origin: "demo.clearinghouse.localhost/log".into(),
            ..defaults.log.clone()
        },
        trust: crate::config::TrustConfig {
            // The demo's own did:web lives on 127.0.0.1, over plain HTTP.
            allow_http_did_web: true,
            ..defaults.trust.clone()
        },
        // The Métropole de Lyon sits on the demo's committee (CTD): its members read the
        // whole log, and the pages' demo sign-in is one of them.
        auth: crate::config::AuthConfig {
            committee_sirens: vec![crate::demo::COMMITTEE_MEMBER.0.to_owned()],
            ..defaults.auth.clone()
        },
        // The demo platform invoices in its own name (a fictitious operator entity).
        invoicing: crate::billing::invoicing::InvoicingSettings {
            seller: Some(crate::billing::invoicing::SellerConfig {
                name: "Plateforme régionale des données (démonstration)".into(),
                siren: "180020026".into(),
                siret: None,
                vat_id: "FR77180020026".into(),
                address: crate::billing::invoicing::AddressConfig {
                    line: "1 place de la Donnée".into(),
                    city: "Lyon".into(),
                    postcode: "69002".into(),
                    country_code: "FR".into(),
                },
            }),
            ..defaults.invoicing.clone()
        },
        ..defaults
    }
}

/// Read a secret from `path`, creating it (mode 0600) with a random value if missing.
fn demo_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return Ok(text.trim().to_owned());
    }
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode_private()
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(secret)
}

trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for std::fs::OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

async fn demo(file: Option<&Path>, args: ServerArgs) -> anyhow::Result<ExitCode> {
    let config = load(demo_config(), file, args.listen, &args.data)?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    // A fresh demo replays last month's activity first, so the figures span two billing
    // periods: the clock is set back before anything is logged (log times stay in order)
    // and comes back to now during seeding.
    let fresh = !config.key_file().exists();
    if fresh {
        crate::clock::set_now(crate::demo::history_start());
    }
    let token_file = config.data_dir.join("operator-token");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    let service = demo_service(&config, address).await?;
    let vkey = service.state.journal.verifier().vkey();
    let seeded = if fresh {
        crate::demo::seed_two_periods(&service.state, &config.data_dir).await?
    } else {
        crate::demo::seed(&service.state, &config.data_dir).await?
    };
    crate::clock::reset();
    let base = format!("http://{address}");
    let size = service.state.journal.reader().head().head.size;
    say("Clearing house demo (embedded SQLite; stop with Ctrl-C, data persist)");
    say(&format!("  data directory   {}", config.data_dir.display()));
    say(&format!(
        "  log              {size} entries{}",
        if seeded > 0 {
            format!(" ({seeded} demo entries just seeded)")
        } else {
            String::new()
        }
    ));
    say(&format!("  log verifier key {vkey}"));
    say(&format!(
        "  issuer           {}",
        service.state.trust.issuer().did()
    ));
    say(&format!("  operator token   in {}", token_file.display()));
    say(&format!(
        "Pages (committee and operator; demo sign-in, no ProConnect): {base}/ui"
    ));
    say("Open:");
    say(&format!("  {base}/log/checkpoint"));
    say(&format!("  {base}/log/proof/inclusion?index=0"));
    say(&format!("  {base}/log/entries/0"));
    say(&format!("  {base}/v1/participants"));
    say(&format!("  {base}/v1/trust/anchors"));
    say(&format!("  {base}/.well-known/did.json"));
    say(&format!("  {base}/readyz"));
    say("Audit and billing (bearer: the operator token):");
    let this_month = crate::billing::statement::Month::of(crate::clock::now());
    let last_month = crate::billing::statement::Month::of(crate::demo::history_start());
    for period in [last_month, this_month] {
        say(&format!("  {base}/v1/billing/statements?period={period}"));
    }
    say(&format!("  {base}/v1/billing/periods/{last_month}/bundle"));
    say(&format!(
        "  {base}/v1/billing/financing-report?period={last_month}&format=csv"
    ));
    say(&format!(
        "  {base}/v1/indicators?period={this_month}&by=dataset"
    ));
    say("Verify the log from outside:");
    say(&format!(
        "  cargo run --release -- verify --url {base}/log --key '{vkey}'"
    ));
    say(&format!("clearinghouse listening on {base}"));
    service.run(listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(file: Option<&Path>, args: DataArgs) -> anyhow::Result<ExitCode> {
    let config = load(Config::default(), file, None, &args)?;
    std::fs::create_dir_all(&config.data_dir).ok();
    let store =
        crate::store::Store::connect(&crate::store::StoreOptions::new(config.database_url()))
            .await?;
    store.migrate().await?;
    say(&format!(
        "database schema is up to date ({})",
        store.backend_name()
    ));
    Ok(ExitCode::SUCCESS)
}

fn keygen(file: Option<&Path>, args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let config = load(Config::default(), file, None, &args.data)?;
    let (default_name, default_out) = if args.issuer {
        (ISSUER_KEY_NAME.to_owned(), config.issuer_key_file())
    } else {
        (config.log.origin.clone(), config.key_file())
    };
    let name = args.name.unwrap_or(default_name);
    let out = args.out.unwrap_or(default_out);
    let alg = if args.witness {
        ALG_COSIGNATURE_V1
    } else {
        ALG_ED25519
    };
    let signer = NoteSigner::generate(&name, alg)?;
    write_key_file(&out, &signer, args.force)?;
    eprintln!("private key written to {} (mode 0600)", out.display());
    say(&signer.verifier().vkey());
    Ok(ExitCode::SUCCESS)
}

/// A verifier key given inline or as a file.
fn read_vkey(arg: &str) -> anyhow::Result<NoteVerifier> {
    let path = Path::new(arg);
    let text = if !arg.contains('+') && path.exists() {
        std::fs::read_to_string(path).with_context(|| format!("reading {arg}"))?
    } else {
        arg.to_owned()
    };
    Ok(NoteVerifier::from_vkey(&text)?)
}

/// `erase --url URL --email E`: ask the service to erase a person.
async fn erase(args: EraseArgs) -> anyhow::Result<ExitCode> {
    let token = std::env::var("CLEARINGHOUSE_OPERATOR_TOKEN")
        .context("CLEARINGHOUSE_OPERATOR_TOKEN must hold the operator's token")?;
    let url = format!("{}/v1/privacy/erasures", args.url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token.trim())
        .json(&serde_json::json!({"email": args.email, "reason": args.reason}))
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status.is_success() {
        let erased = &body["erased"];
        say(&format!(
            "erased: {} person record(s), {} credential(s) revoked and deleted, {} mandate grant(s); logged at index {}",
            erased["persons"], erased["credentials"], erased["grants"], body["log"]["index"]
        ));
        Ok(ExitCode::SUCCESS)
    } else {
        say(&format!(
            "refused ({status}): {}",
            body["detail"].as_str().unwrap_or("no detail")
        ));
        Ok(ExitCode::FAILURE)
    }
}

/// `billing recompute FILE --key VKEY`: the period's figures, reproduced from the entries.
fn recompute(file: &Path, key: &str) -> anyhow::Result<ExitCode> {
    use crate::billing::money::format_cents;
    use crate::verify::bundle::Bundle;
    let verifier = read_vkey(key)?;
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle: Bundle = match serde_json::from_slice(&text) {
        Ok(bundle) => bundle,
        Err(e) => {
            say(&format!("FAIL bundle: not a period bundle ({e})"));
            return Ok(ExitCode::FAILURE);
        }
    };
    match crate::verify::billing::recompute(&bundle, &verifier) {
        Ok(done) => {
            say(&format!(
                "ok  bundle       {} entries in the log of size {} signed by the given key",
                done.bundle.entries, done.bundle.checkpoint.size
            ));
            say(&format!("period {}", done.period));
            say("  SIREN      class          lines      gross   financed participant");
            let (mut gross, mut financed, mut own) = (0, 0, 0);
            for s in &done.statements {
                let covered: i64 = s.financed_cents.values().sum();
                gross += s.gross_cents;
                financed += covered;
                own += s.participant_cents;
                say(&format!(
                    "  {:<10} {:<14} {:>5} {:>10} {:>10} {:>11}",
                    s.siren,
                    s.class,
                    s.lines.len(),
                    format_cents(s.gross_cents),
                    format_cents(covered),
                    format_cents(s.participant_cents)
                ));
            }
            say(&format!(
                "  {:<10} {:<14} {:>5} {:>10} {:>10} {:>11}",
                "total",
                "",
                "",
                format_cents(gross),
                format_cents(financed),
                format_cents(own)
            ));
            say(&format!(
                "VERDICT: OK: {} statements recomputed from the entries equal the service's to the cent{}",
                done.statements.len(),
                if done.closing_checked {
                    ", and the hashes its closing logged"
                } else {
                    " (the period is not closed)"
                }
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            say(&format!("FAIL {failure}"));
            say("VERDICT: FAILED: the figures are not reproduced by the log");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `verify bundle FILE --key VKEY`: every check offline; the first failure is named.
fn verify_bundle(file: &Path, key: &str) -> anyhow::Result<ExitCode> {
    use crate::verify::bundle::{Bundle, verify_bundle};
    let verifier = read_vkey(key)?;
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle: Bundle = match serde_json::from_slice(&text) {
        Ok(bundle) => bundle,
        Err(e) => {
            say(&format!("FAIL bundle: not an audit bundle ({e})"));
            say("VERDICT: FAILED: this bundle proves nothing");
            return Ok(ExitCode::FAILURE);
        }
    };
    match verify_bundle(&bundle, &verifier) {
        Ok(report) => {
            say(&format!(
                "ok  checkpoint   {} size {} root {} signed by {}",
                report.checkpoint.origin,
                report.checkpoint.size,
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    report.checkpoint.root
                ),
                verifier.vkey()
            ));
            let types: Vec<String> = report
                .types
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            say(&format!(
                "ok  entries      {} entries{} are in that log at their indexes{}, canonical and of known types",
                report.entries,
                if types.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", types.join(", "))
                },
                match (report.first_index, report.last_index) {
                    (Some(first), Some(last)) => format!(" ({first}…{last})"),
                    _ => String::new(),
                }
            ));
            if let Some((old_size, old_root, signed)) = report.consistent_with {
                say(&format!(
                    "ok  consistency  the log of size {} extends the tree of size {} with root {}{}",
                    report.checkpoint.size,
                    old_size,
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, old_root),
                    if signed {
                        " (signed by the same key at the time)"
                    } else {
                        " (compare this root with the one you kept)"
                    }
                ));
            }
            say(&format!(
                "ok  anchors      {} trust anchors in force, version {} recomputed from their definitions",
                report.anchors,
                report.anchors_version.as_deref().unwrap_or("(none)")
            ));
            say(&format!(
                "VERDICT: OK: {} entries are in the log of size {} signed by the given key \
                 (a bundle proves inclusion, not completeness: verify the whole log for that)",
                report.entries, report.checkpoint.size
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            say(&format!("FAIL {failure}"));
            say("VERDICT: FAILED: this bundle proves nothing");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn witness(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    use crate::witness::server::{Witness, router};
    let signer = read_key_file(&args.key_file, None).context("loading the witness key")?;
    let logs = args
        .log_vkeys
        .iter()
        .map(|key| read_vkey(key))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let witness = std::sync::Arc::new(Witness::open(signer, logs, &args.state_dir)?);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr()?;
    say(&format!("witness verifier key: {}", witness.vkey()));
    say(&format!("clearinghouse listening on http://{address}"));
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(ExitCode::SUCCESS)
}

/// Check the witnesses' cosignatures on a verified checkpoint; prints one line each.
fn check_witnesses(note: &str, witnesses: &[NoteVerifier], quorum: usize) -> Result<(), String> {
    let checks = crate::verify::witness::check_cosignatures(note, witnesses)
        .map_err(|e| format!("checkpoint: {e}"))?;
    let mut valid = 0;
    for check in &checks {
        match &check.result {
            Ok(timestamp) => {
                valid += 1;
                say(&format!(
                    "ok  witness     {} cosigned at {timestamp}",
                    check.witness
                ));
            }
            Err(e) => say(&format!("--  witness     {}: {e}", check.witness)),
        }
    }
    if valid < quorum {
        return Err(format!(
            "only {valid} of the {} given witnesses cosigned the checkpoint; {quorum} required",
            witnesses.len()
        ));
    }
    say(&format!(
        "ok  witnesses   {valid} of {} cosignatures verify (quorum {quorum})",
        witnesses.len()
    ));
    Ok(())
}

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    if let Some(VerifyCommand::Bundle { file, key }) = &args.what {
        return verify_bundle(file, key);
    }
    let key = args.key.as_deref().context("--key is required")?;
    let verifier = read_vkey(key)?;
    let witnesses = args
        .witnesses
        .iter()
        .map(|key| read_vkey(key))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(witness) = witnesses
        .iter()
        .find(|w| w.alg() != crate::ledger::note::ALG_COSIGNATURE_V1)
    {
        bail!("--witness {}: not a cosignature/v1 key", witness.vkey());
    }
    let quorum = args.witness_quorum.unwrap_or(witnesses.len());
    if quorum > witnesses.len() {
        bail!(
            "--witness-quorum {quorum} is more than the {} --witness keys given",
            witnesses.len()
        );
    }
    let origin = args
        .origin
        .clone()
        .unwrap_or_else(|| verifier.name().to_owned());
    let source = match (&args.url, &args.dir) {
        (Some(url), _) => LogSource::http(url)?,
        (None, Some(dir)) => LogSource::dir(dir),
        (None, None) => bail!("give --url or --dir"),
    };
    let previous = args
        .previous
        .as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    let options = VerifyOptions {
        verifier: verifier.clone(),
        origin,
        previous,
        concurrency: args.concurrency,
    };
    match verify_log(&source, &options).await {
        Ok(report) => {
            say(&format!(
                "ok  checkpoint  {} size {} signed by {}",
                report.checkpoint.origin,
                report.checkpoint.size,
                verifier.vkey()
            ));
            say(&format!(
                "ok  entries     {} entries in {} bundles match their leaf hashes{}",
                report.entries,
                report.bundles,
                if report.unknown_entries > 0 {
                    format!(
                        " ({} of types this verifier does not know)",
                        report.unknown_entries
                    )
                } else {
                    String::new()
                }
            ));
            say(&format!(
                "ok  tiles       {} hash tiles recomputed from the entries",
                report.hash_tiles
            ));
            say("ok  root        recomputed root equals the checkpoint's root");
            if let Some(previous) = &report.previous {
                say(&format!(
                    "ok  previous    the checkpoint of size {} is a prefix of this log{}",
                    previous.size,
                    if previous.proof_checked {
                        " (recomputed; the server's consistency proof also verifies)"
                    } else {
                        " (recomputed)"
                    }
                ));
            }
            if !witnesses.is_empty()
                && let Err(e) = check_witnesses(&report.note, &witnesses, quorum)
            {
                say(&format!("FAIL {e}"));
                say("VERDICT: FAILED: the checkpoint lacks the witness cosignatures required");
                return Ok(ExitCode::FAILURE);
            }
            if let Some(save) = &args.save {
                std::fs::write(save, &report.note)
                    .with_context(|| format!("saving the checkpoint to {}", save.display()))?;
                say(&format!("    saved checkpoint to {}", save.display()));
            }
            say(&format!(
                "VERDICT: OK: the log of {} entries is authentic and consistent",
                report.checkpoint.size
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            say(&format!("FAIL {e}"));
            say("VERDICT: FAILED: do not trust this log's current state");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn export(file: Option<&Path>, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let config = load(Config::default(), file, None, &args.data)?;
    let signer = read_key_file(&config.key_file(), Some(&config.log.origin))?;
    let vkey = signer.verifier().vkey();
    let store =
        crate::store::Store::connect(&crate::store::StoreOptions::new(config.database_url()))
            .await?;
    let head = crate::ledger::sequencer::load_head(&store)
        .await?
        .context("the log is empty: nothing to export")?;
    let (_publish, subscribe) = tokio::sync::watch::channel(std::sync::Arc::new(head));
    let reader = crate::ledger::reader::LogReader::new(
        std::sync::Arc::new(store),
        subscribe,
        std::num::NonZeroUsize::MIN,
    );
    let size = crate::export::export_log(&reader, &vkey, &args.out).await?;
    say(&format!(
        "exported {size} entries to {} (serve it as the log prefix)",
        args.out.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn odrl(command: OdrlCommand) -> anyhow::Result<ExitCode> {
    match command {
        OdrlCommand::Eval { policy, request } => {
            let evaluation = crate::odrl::eval_files(&policy, &request)?;
            say(&serde_json::to_string_pretty(&evaluation)?);
            Ok(ExitCode::SUCCESS)
        }
        OdrlCommand::Check { policy } => {
            let text = std::fs::read_to_string(&policy)
                .with_context(|| format!("reading {}", policy.display()))?;
            let document: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", policy.display()))?;
            match crate::odrl::Policy::validate_json(&document) {
                Ok(parsed) => {
                    say(&format!(
                        "ok  {} is a valid ODRL policy ({} permissions, {} prohibitions, {} obligations)",
                        policy.display(),
                        parsed.permissions().len(),
                        parsed.prohibitions().len(),
                        parsed.obligations().len()
                    ));
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for problem in problems {
                        say(&format!("FAIL {problem}"));
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
