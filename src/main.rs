use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use rongcuo::cli::{Cli, Command, run};
use rongcuo::settings::Settings;
use rongcuo::telemetry;

/// Transparent huge pages off for this process, first thing: mimalloc asks for them on its
/// arenas (`MADV_HUGEPAGE`), and each touched 2 MiB became resident whole; with them the
/// service's anonymous memory under sixteen clients was twice what it used (BENCHMARKS.md).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer; it sets a flag of this process only.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rongcuo: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log.format, &settings.log.filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rongcuo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rongcuo: {e:#}");
            ExitCode::FAILURE
        }
    }
}
