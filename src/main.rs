//! The `resplica` binary: `resplica [/path/to/redis.conf] [--directive value ...]`, the argument
//! style of redis-server.

use clap::{Arg, ArgAction, Command};

/// Counted, so INFO `used_memory` and `maxmemory` see what the dataset takes.
#[global_allocator]
static ALLOCATOR: resplica::server::memory::CountingAllocator =
    resplica::server::memory::CountingAllocator;

/// The usage text, in the shape redis-server prints.
const USAGE: &str = "Usage: resplica [/path/to/redis.conf] [options] [-]
       resplica - (read config from stdin)
       resplica -v or --version
       resplica -h or --help

Examples:
       resplica (run the server with default config)
       resplica /etc/redis/6379.conf
       resplica --port 7777
       resplica --port 7777 --replicaof 127.0.0.1 8888
       resplica /etc/myredis.conf --loglevel verbose --save 60 1000

Every redis.conf directive can be given as --directive value; see redis.conf.example.";

fn cli() -> Command {
    Command::new("resplica")
        .disable_version_flag(true)
        .disable_help_flag(true)
        .arg(
            Arg::new("version")
                .short('v')
                .long("version")
                .action(ArgAction::SetTrue),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::SetTrue),
        )
        .arg(
            Arg::new("args")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true),
        )
}

fn main() {
    resplica::store::lazyfree::tune_allocator();
    let matches = match cli().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if matches.get_flag("version") {
        println!(
            "Resplica server v={} (Redis {} compatible) bits=64",
            resplica::server::RESPLICA_VERSION,
            resplica::server::REDIS_VERSION
        );
        return;
    }
    if matches.get_flag("help") {
        println!("{USAGE}");
        return;
    }
    let args: Vec<String> = matches
        .get_many::<String>("args")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let config = match resplica::config::parse_startup(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = resplica::logging::init(config.get("logfile"), config.get("loglevel")) {
        eprintln!("Can't open the log file: {e}");
        std::process::exit(1);
    }
    let dir = config.get("dir");
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!("Can't chdir to '{dir}': {e}");
            std::process::exit(1);
        }
    }
    let threads = config.int("io-threads").max(1) as usize;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Can't start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(resplica::server::run(config));
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}
