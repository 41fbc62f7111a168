//! A local S3 protocol server (s3s-fs) for benchmarks and manual tries:
//! `cargo run --release --example s3_server -- ROOT PORT`. A bucket is a
//! folder under ROOT. Credentials: AKIAMFATRAILBENCH / mfatrail-bench-secret.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().ok_or("usage: s3_server ROOT PORT")?;
    let port: u16 = args.next().ok_or("usage: s3_server ROOT PORT")?.parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| format!("{root}: {e:?}"))?;
        let mut b = S3ServiceBuilder::new(fs);
        b.set_auth(SimpleAuth::from_single("AKIAMFATRAILBENCH", "mfatrail-bench-secret"));
        let service = b.build();
        eprintln!("s3_server: http://127.0.0.1:{port}, root {root}");
        loop {
            let (socket, _) = listener.accept().await?;
            let svc = service.clone();
            tokio::spawn(async move {
                let _ = ConnBuilder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    })
}
