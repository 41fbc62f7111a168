//! `mfatrail inflate` (hidden): the inflate-only baseline for the speed
//! comparison: same listing, reads, threads and inflater as the real run.

use std::io::Write;

use crate::cli::InflateArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::pipeline::inflate_only;
use crate::source::Window;

pub fn run(a: InflateArgs, out: &mut dyn Write) -> Result<Exit> {
    let (files, c, d, failed, el) = inflate_only(&a.sources, &Window::open(0), a.threads, 2 << 30)?;
    let secs = el.as_secs_f64();
    writeln!(
        out,
        "inflate-only: {files} files, {c} bytes compressed, {d} bytes decompressed, {failed} failed, {secs:.3} s, {:.1} MB/s",
        d as f64 / 1e6 / secs.max(1e-9)
    )?;
    Ok(Exit::Ok)
}
