//! Thin binary: parse the command line, run, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mfatrail::cli::Cli;
use mfatrail::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let result = mfatrail::commands::run(cli, &mut out, &mut err);
    let flushed = out.flush();
    let code = match (result, flushed) {
        (Ok(exit), Ok(())) => exit,
        (Err(e), _) if is_broken_pipe(&e) => Exit::Ok,
        (Ok(_), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        (Ok(_), Err(e)) => {
            let _ = writeln!(err, "mfatrail: cannot write output: {e}");
            Exit::Usage
        }
        (Err(e), _) => {
            let _ = writeln!(err, "mfatrail: {e:#}");
            Exit::Usage
        }
    };
    ExitCode::from(i32::from(code) as u8)
}

fn is_broken_pipe(e: &mfatrail::Error) -> bool {
    matches!(e, mfatrail::Error::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}
