//! Checked downloads against a tiny HTTP server on 127.0.0.1 started by each test (no other
//! address is ever contacted).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

use sngan_core::{md5_hex, sha256_hex};
use sngan_data::{
    CifarOptions, CifarSplit, CifarVariant, DatasetName, FetchOptions, MnistSplit, Remote,
    fetch_remotes, load_cifar, load_mnist, remotes,
};

use crate::fixtures::{TempDir, assert_contains, cifar_bin, err_msg, tar_gz};

#[derive(Clone)]
enum Route {
    /// 200 with the whole body.
    Full(Vec<u8>),
    /// 200 announcing the whole body, sending `n` bytes, then closing.
    Broken(Vec<u8>, usize),
}

/// Serves `routes` on 127.0.0.1 (any other path is a 404) from a detached thread; returns the
/// base URL.
fn serve(routes: HashMap<String, Route>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let _ = match routes.get(&path) {
                Some(Route::Full(body)) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(body)),
                Some(Route::Broken(body, n)) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(&body[..*n])),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
            let _ = stream.flush();
        }
    });
    format!("http://{addr}")
}

fn synthetic_cifar() -> Vec<u8> {
    let mut members: Vec<(String, Vec<u8>)> = (1..=5)
        .map(|b| {
            (
                format!("cifar-10-batches-bin/data_batch_{b}.bin"),
                cifar_bin(b, &[vec![b as u8]]),
            )
        })
        .collect();
    members.push((
        "cifar-10-batches-bin/test_batch.bin".into(),
        cifar_bin(0, &[vec![9]]),
    ));
    tar_gz(&members)
}

fn remote(
    base: &str,
    path: &str,
    file: &str,
    md5: Option<String>,
    sha: Option<String>,
    extract: bool,
) -> Remote {
    Remote {
        url: format!("{base}{path}"),
        file: file.into(),
        md5,
        sha256: sha,
        extract,
    }
}

/// Names in `dir` (hidden ones included).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const QUIET: FetchOptions = FetchOptions {
    progress: false,
    keep_archive: true,
};

#[test]
fn download_check_and_extract_then_skip_when_present() {
    let archive = synthetic_cifar();
    let base = serve(HashMap::from([(
        "/c10.tar.gz".to_string(),
        Route::Full(archive.clone()),
    )]));
    let dir = TempDir::new("fetch-ok");
    let r = remote(
        &base,
        "/c10.tar.gz",
        "cifar-10-binary.tar.gz",
        Some(md5_hex(&archive)),
        Some(sha256_hex(&archive)),
        true,
    );
    let done = fetch_remotes(std::slice::from_ref(&r), dir.path(), QUIET).expect("fetch");
    assert_eq!(done[0].downloaded, archive.len() as u64);
    assert_eq!(done[0].extracted, vec![dir.join("cifar-10-batches-bin")]);
    assert_eq!(
        listing(dir.path()),
        ["cifar-10-batches-bin", "cifar-10-binary.tar.gz"]
    );
    let lax = CifarOptions {
        check_counts: false,
        ..CifarOptions::default()
    };
    let train =
        load_cifar(dir.path(), CifarVariant::Cifar10, CifarSplit::Train, lax).expect("read");
    assert_eq!(train.labels, (1..=5).map(Some).collect::<Vec<_>>());
    // A second fetch finds the checked archive and downloads nothing.
    let again = fetch_remotes(&[r], dir.path(), QUIET).expect("again");
    assert_eq!(again[0].downloaded, 0);
}

#[test]
fn real_mnist_served_locally_and_checked_by_sha256() {
    let src = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mnist"
    ));
    let sums = std::fs::read_to_string(src.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut routes = HashMap::new();
    let mut list = Vec::new();
    for line in sums.lines() {
        let (sha, name) = line.split_once("  ").expect("sum line");
        routes.insert(
            format!("/mnist/{name}"),
            Route::Full(std::fs::read(src.join(name)).expect("mnist file")),
        );
        list.push((name.to_string(), sha.to_string()));
    }
    let base = serve(routes);
    let remotes: Vec<Remote> = list
        .iter()
        .map(|(name, sha)| {
            remote(
                &base,
                &format!("/mnist/{name}"),
                name,
                None,
                Some(sha.clone()),
                false,
            )
        })
        .collect();
    let dir = TempDir::new("fetch-mnist");
    fetch_remotes(&remotes, dir.path(), QUIET).expect("fetch");
    let train = load_mnist(dir.path(), MnistSplit::Train, true).expect("MNIST from the download");
    assert_eq!(train.len(), 60_000);
}

#[test]
fn bad_checksum_leaves_nothing_behind() {
    let archive = synthetic_cifar();
    let base = serve(HashMap::from([(
        "/a.tar.gz".to_string(),
        Route::Full(archive.clone()),
    )]));
    let dir = TempDir::new("fetch-badsum");
    let wrong = "0123456789abcdef0123456789abcdef".to_string();
    let r = remote(&base, "/a.tar.gz", "a.tar.gz", Some(wrong), None, true);
    let e = err_msg(fetch_remotes(&[r], dir.path(), QUIET));
    assert_contains(&e, "a.tar.gz: md5 ");
    assert_contains(
        &e,
        &format!(
            "md5 {} does not match the published 0123456789abcdef0123456789abcdef (corrupted download)",
            md5_hex(&archive)
        ),
    );
    assert!(
        listing(dir.path()).is_empty(),
        "left: {:?}",
        listing(dir.path())
    );
    let r = remote(
        &base,
        "/a.tar.gz",
        "a.tar.gz",
        None,
        Some("ff".repeat(32)),
        true,
    );
    assert_contains(&err_msg(fetch_remotes(&[r], dir.path(), QUIET)), "sha256");
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn broken_transfer_and_http_errors_leave_nothing_behind() {
    let archive = synthetic_cifar();
    let base = serve(HashMap::from([(
        "/cut.tar.gz".to_string(),
        Route::Broken(archive.clone(), archive.len() / 2),
    )]));
    let dir = TempDir::new("fetch-broken");
    let r = remote(
        &base,
        "/cut.tar.gz",
        "cut.tar.gz",
        Some(md5_hex(&archive)),
        None,
        true,
    );
    let e = err_msg(fetch_remotes(&[r], dir.path(), QUIET));
    assert_contains(&e, "/cut.tar.gz -> ");
    assert_contains(&e, "download failed: expected");
    assert!(
        listing(dir.path()).is_empty(),
        "left: {:?}",
        listing(dir.path())
    );
    let r = remote(
        &base,
        "/nothing.tar.gz",
        "nothing.tar.gz",
        None,
        None,
        false,
    );
    let e = err_msg(fetch_remotes(&[r], dir.path(), QUIET));
    assert_contains(
        &e,
        "download failed: expected an HTTP 200 response, found http status: 404",
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn corrupt_archive_with_matching_digest_leaves_no_partial_extraction() {
    let mut archive = synthetic_cifar();
    let n = archive.len();
    archive.truncate(n - n / 3);
    let base = serve(HashMap::from([(
        "/t.tar.gz".to_string(),
        Route::Full(archive.clone()),
    )]));
    let dir = TempDir::new("fetch-extract");
    let r = remote(
        &base,
        "/t.tar.gz",
        "t.tar.gz",
        Some(md5_hex(&archive)),
        None,
        true,
    );
    let e = err_msg(fetch_remotes(&[r], dir.path(), QUIET));
    assert_contains(&e, "t.tar.gz: truncated: expected a complete gzip stream");
    // the checked archive stays; no half-extracted folder does
    assert_eq!(listing(dir.path()), ["t.tar.gz"]);
}

#[test]
fn canonical_remotes() {
    let m = remotes(DatasetName::Mnist).expect("mnist");
    assert_eq!(m.len(), 4);
    assert_eq!(m[0].file, "train-images-idx3-ubyte.gz");
    assert_eq!(
        m[0].md5.as_deref(),
        Some("f68b3c2dcbeaaa9fbdd348bbdeb94873")
    );
    let c = remotes(DatasetName::Cifar10).expect("cifar10");
    assert_eq!(
        c[0].url,
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    );
    assert!(c[0].extract);
    let s = remotes(DatasetName::Stl10).expect("stl10");
    assert_eq!(
        s[0].md5.as_deref(),
        Some("91f7769df0f17e558f3565bffb0c7dfb")
    );
    assert!(remotes(DatasetName::Cifar100).is_ok());
    assert_contains(&err_msg(remotes(DatasetName::CelebA)), "Google Drive");
    assert_contains(
        &err_msg(remotes(DatasetName::ImageNet)),
        "registered account",
    );
}
