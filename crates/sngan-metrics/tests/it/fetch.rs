//! The checked download, against a tiny HTTP server on 127.0.0.1 started by the test (no other
//! address is contacted).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};
use sngan_metrics::MetricsError;
use sngan_metrics::fetch::{fetch_checked, fetch_inception, sha256_file};
use sngan_metrics::inception::FID_WEIGHTS_FILE;

use crate::common::temp_dir;

/// Serves `requests` connections: `/weights.pth` -> 200 with `body`, `/moved` -> 302 to
/// `/weights.pth`, anything else -> 404. Returns the base URL and the thread.
fn serve(body: Vec<u8>, requests: usize) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut paths = Vec::new();
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.expect("connection");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).expect("header");
                if header.trim().is_empty() {
                    break;
                }
            }
            let head = |status: &str, extra: &str, len: usize| {
                format!(
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: {len}\r\nConnection: close\r\n\r\n"
                )
            };
            match path.as_str() {
                "/weights.pth" => {
                    stream
                        .write_all(head("200 OK", "", body.len()).as_bytes())
                        .expect("write");
                    stream.write_all(&body).expect("write");
                }
                "/moved" => {
                    let extra = "Location: /weights.pth\r\n";
                    stream
                        .write_all(head("302 Found", extra, 0).as_bytes())
                        .expect("write");
                }
                _ => stream
                    .write_all(head("404 Not Found", "", 0).as_bytes())
                    .expect("write"),
            }
            paths.push(path);
        }
        paths
    });
    (base, handle)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn downloads_follow_redirects_and_check_the_hash() {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let digest = sha256_hex(&body);
    let (base, server) = serve(body.clone(), 2);
    let dir = temp_dir("fetch-ok");
    let dest = dir.join("w.pth");
    let got = fetch_checked(&format!("{base}/moved"), &dest, &digest[..8]).expect("download");
    assert_eq!(std::fs::read(&got).expect("read"), body);
    assert_eq!(sha256_file(&got).expect("hash"), digest);
    assert_eq!(server.join().expect("server"), ["/moved", "/weights.pth"]);
    // Already present with the right hash: no request is made (no server is listening now).
    fetch_checked("http://127.0.0.1:9/never", &dest, &digest[..8]).expect("kept");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_wrong_hash_or_a_404_leaves_no_file_and_says_why() {
    let (base, server) = serve(b"not the inception weights".to_vec(), 2);
    let dir = temp_dir("fetch-bad");
    let e = fetch_inception(&dir, Some(&format!("{base}/weights.pth"))).expect_err("bad hash");
    assert!(matches!(e, MetricsError::Checksum { .. }), "{e}");
    assert!(e.to_string().contains("6726825d"), "{e}");
    assert!(!dir.join(FID_WEIGHTS_FILE).exists());
    assert_eq!(
        std::fs::read_dir(&dir).expect("dir").count(),
        0,
        "no partial file left"
    );
    let e = fetch_inception(&dir, Some(&format!("{base}/missing"))).expect_err("404");
    assert!(matches!(e, MetricsError::Http { .. }), "{e}");
    assert!(e.to_string().contains("404"), "{e}");
    server.join().expect("server");
    std::fs::remove_dir_all(dir).ok();
}
