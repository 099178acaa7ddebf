//! Switches the PostgreSQL variants of the tests on when `TEST_DATABASE_URL` is set at build
//! time; otherwise they are compiled as ignored tests whose reason says how to run them.
//! Also rebuilds the crate when a migration is added.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    // `sqlx::migrate!` embeds the migrations; a new file must rebuild the crate.
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
