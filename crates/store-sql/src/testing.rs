//! A throwaway PostgreSQL server for tests and benchmarks (feature `testing`), run from the
//! machine's own server binaries (`initdb`, `pg_ctl`: Debian's `postgresql` package), on a
//! unix socket only, in a temporary folder removed when it is dropped.
//!
//! `initdb` refuses to run as root: as root, the server runs as the `postgres` user (through
//! `runuser`), which the package creates.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Set to `1` to make a missing PostgreSQL a test failure instead of a skipped test (CI sets
/// it, so that the PostgreSQL tests never go quietly unrun).
pub const REQUIRE_ENV: &str = "BADGERY_REQUIRE_POSTGRES";

/// A PostgreSQL server of its own, stopped and deleted on drop.
#[derive(Debug)]
pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres_user: bool,
}

impl TempPostgres {
    /// Starts a server, or says why it cannot.
    ///
    /// # Errors
    /// Why no server could be started: no server binaries, or what `initdb` or `pg_ctl`
    /// printed.
    pub fn start() -> Result<Self, String> {
        let bin = server_binaries().ok_or_else(|| {
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin \
             (Debian: apt-get install postgresql)"
                .to_owned()
        })?;
        let as_postgres_user = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("badgery-pg")
            .tempdir()
            .map_err(|e| format!("creating a folder for the server: {e}"))?;
        let server = TempPostgres {
            dir,
            bin,
            as_postgres_user,
        };
        if as_postgres_user {
            server.run(
                "chown",
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:")
                    .arg(server.dir.path()),
            )?;
        }
        let data = server.data();
        server.run(
            "initdb",
            server
                .server_command("initdb")
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                    "-D",
                ])
                .arg(&data),
        )?;
        let socket_dir = server.dir.path().display().to_string();
        server.run(
            "pg_ctl start",
            server
                .server_command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(server.dir.path().join("server.log"))
                .arg("-o")
                .arg(format!(
                    "-k {socket_dir} -c listen_addresses='' -c max_connections=200"
                ))
                .args(["-w", "start"]),
        )?;
        Ok(server)
    }

    /// Starts a server, or prints one line saying why not and returns `None`; with
    /// [`REQUIRE_ENV`] set to `1` it panics instead, so that CI cannot skip the tests.
    ///
    /// # Panics
    /// When the server cannot start and [`REQUIRE_ENV`] is `1`.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start() {
            Ok(server) => Some(server),
            Err(why) if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") => {
                panic!("{test}: PostgreSQL is required ({REQUIRE_ENV}=1) but did not start: {why}")
            }
            Err(why) => {
                eprintln!("{test}: PostgreSQL tests not run: {why}");
                None
            }
        }
    }

    /// The URL of the server's `postgres` database (a unix socket, user `postgres`).
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The URL of a database on the server (create it with [`TempPostgres::create_database`]).
    pub fn url_of(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost/{database}?host={}",
            self.dir.path().display()
        )
    }

    /// Creates an empty database and returns its URL.
    ///
    /// # Errors
    /// What `createdb` printed.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        self.run(
            "createdb",
            self.server_command("createdb")
                .args(["-U", "postgres", "-h"])
                .arg(self.dir.path())
                .arg(name),
        )?;
        Ok(self.url_of(name))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run(&self, what: &str, command: &mut Command) -> Result<(), String> {
        let output = command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{what}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _stopped = self.run(
            "pg_ctl stop",
            self.server_command("pg_ctl").arg("-D").arg(&data).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]),
        );
    }
}

/// The folder holding `initdb` and `pg_ctl`: `BADGERY_PG_BIN`, else the one `initdb` on PATH is
/// in (following links), else the newest `/usr/lib/postgresql/*/bin` (Debian does not put it on PATH).
fn server_binaries() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("BADGERY_PG_BIN").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| has_server(dir))
        // Where the link on PATH points: the real folder also holds createdb and postgres.
        .and_then(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether this process runs as root (uid 0), read from `/proc` (no unsafe `getuid` call).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}
