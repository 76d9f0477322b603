//! `cirrus CONFIG` starts a node; `cirrus sproto check|dump FILE` helps designers with schemas.

use clap::{Parser, Subcommand};

// Lua states allocate many small objects and grow steadily as services spawn; mimalloc avoids
// glibc arenas growing page by page (one mprotect syscall per step) on worker threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cirrus",
    version,
    about = "Cirrus: a skynet-style game-server microkernel (Lua services on a Rust scheduler)",
    long_about = "Starts a node from a Lua-syntax config file, read the way skynet reads one \
                  (thread, start, luaservice, lua_path, logger, logpath, harbor, $ENV substitution).\n\
                  Example: cirrus config/node.lua",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Node config file (Lua syntax, as for skynet)
    config: Option<PathBuf>,
    /// Start from the snapshot a frozen node wrote (SIGHUP / console `freeze`): services get
    /// their state back through `skynet.restore`
    #[arg(long)]
    restore: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check or print sproto schema files
    Sproto {
        #[command(subcommand)]
        action: SprotoCmd,
    },
}

#[derive(Subcommand)]
enum SprotoCmd {
    /// Parse a schema and report errors with line numbers
    Check { file: PathBuf },
    /// Print the types and protocols of a schema
    Dump { file: PathBuf },
}

/// mimalloc settings for many Lua states (`MIMALLOC_*` in the environment wins):
/// - arenas are committed page by page as used, not eagerly: eager commit on Linux maps them
///   with transparent huge pages, and a burst of new states (10k spawns, 100k coroutines) then
///   spent most of its time in the kernel zeroing 2 MB pages (perf: clear_page_erms from
///   do_huge_pmd_anonymous_page); lazy commit halves spawn time and lowers RSS;
/// - freed pages go back to the OS after a second of disuse, not 10 ms, so memory freed and
///   reused within a burst is not returned and zeroed again.
extern "C" fn tune_allocator() {
    // mimalloc v3's option numbers (mimalloc.h's mi_option_e; the -sys crate names neither).
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    for (env, option, value) in [
        (c"MIMALLOC_ARENA_EAGER_COMMIT", ARENA_EAGER_COMMIT, 0),
        (c"MIMALLOC_PURGE_DELAY", PURGE_DELAY, 1000),
    ] {
        // SAFETY: getenv of a C string and a plain option setter; this runs as a constructor
        // (below), before main and before anything allocates, so before mimalloc reserves its
        // first arena with the defaults.
        unsafe {
            if libc::getenv(env.as_ptr()).is_null() {
                libmimalloc_sys::mi_option_set(option, value);
            }
        }
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Cmd::Sproto { action }) = cli.cmd {
        return sproto_cmd(action);
    }
    let Some(config) = cli.config else {
        eprintln!("cirrus: missing CONFIG (try `cirrus --help`)");
        return ExitCode::from(2);
    };
    match cirrus::lifecycle::boot_with(&config, cli.restore) {
        Ok(_) => ExitCode::from(cirrus::lifecycle::wait() as u8),
        Err(cirrus::lifecycle::BootError::Config(msg)) => {
            eprintln!("cirrus: config error: {msg}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("cirrus: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn sproto_cmd(action: SprotoCmd) -> ExitCode {
    let r = match &action {
        SprotoCmd::Check { file } => cirrus::sproto::cli_check(file),
        SprotoCmd::Dump { file } => cirrus::sproto::cli_dump(file),
    };
    match r {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cirrus: {e:#}");
            ExitCode::from(2)
        }
    }
}
