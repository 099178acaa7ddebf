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
    /// Write the log as static tlog-tiles files, for a web server or CDN to serve.
    Export(ExportArgs),
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
#[command(group(clap::ArgGroup::new("source").required(true).args(["url", "dir"])))]
struct VerifyArgs {
    /// The log's URL prefix, where `checkpoint` and `tile/` live (e.g. http://host:8080/log).
    #[arg(long)]
    url: Option<String>,
    /// A directory in the tlog-tiles layout (e.g. from `clearinghouse export`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The log's verifier key (`name+id+key`), or a file holding it. Obtain it out of band.
    #[arg(long)]
    key: String,
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
    init_tracing(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = cli.config.as_deref();
    match cli.command {
        Command::Serve(args) => serve(file, args).await,
        Command::Demo(args) => demo(file, args).await,
        Command::Migrate(args) => migrate(file, args).await,
        Command::Keygen(args) => keygen(file, args),
        Command::Verify(args) => verify(args).await,
        Command::Export(args) => export(file, args).await,
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

/// Demo defaults: a data directory in the working directory and a demo origin.
fn demo_config() -> Config {
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
    let keys = Keys {
        log: ensure_key_file(&config.key_file(), &config.log.origin)?,
        issuer: ensure_key_file(&config.issuer_key_file(), ISSUER_KEY_NAME)?
            .signing_key()
            .clone(),
    };
    let token_file = config.data_dir.join("operator-token");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    let mut options = ServiceOptions::from_config(&config, address)?;
    if options.operator_token.is_none() {
        options.operator_token = Some(demo_secret(&token_file)?);
    }
    // No network in the demo: Sirene answers come from the demo's own fixture.
    options.sirene = crate::demo::sirene_fixture();
    let vkey = keys.log.verifier().vkey();
    let service = Service::start(&config, keys, options).await?;
    let seeded = crate::demo::seed(&service.state, &config.data_dir).await?;
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
    say("Open:");
    say(&format!("  {base}/log/checkpoint"));
    say(&format!("  {base}/log/proof/inclusion?index=0"));
    say(&format!("  {base}/log/entries/0"));
    say(&format!("  {base}/v1/participants"));
    say(&format!("  {base}/v1/trust/anchors"));
    say(&format!("  {base}/.well-known/did.json"));
    say(&format!("  {base}/readyz"));
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

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let verifier = read_vkey(&args.key)?;
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
