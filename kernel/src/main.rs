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
