//! The checked download, against a tiny HTTP server on 127.0.0.1 started by the test (no other
//! address is contacted).

#![allow(missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use sngan_core::{CoreError, Digests, download, file_digests};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sngan-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn sha256(prefix: &str) -> Digests {
    Digests {
        md5: None,
        sha256: Some(prefix.into()),
    }
}

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

#[test]
fn downloads_follow_redirects_and_check_the_hash() {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let dir = temp_dir("fetch-ok");
    let dest = dir.join("w.pth");
    std::fs::write(&dest, &body).expect("write");
    let (_, digest) = file_digests(&dest).expect("digests");
    std::fs::remove_file(&dest).expect("remove");
    let (base, server) = serve(body.clone(), 2);
    let got = download(
        &format!("{base}/moved"),
        &dest,
        &sha256(&digest[..8]),
        false,
    )
    .expect("download");
    assert_eq!(got, body.len() as u64);
    assert_eq!(std::fs::read(&dest).expect("read"), body);
    assert_eq!(server.join().expect("server"), ["/moved", "/weights.pth"]);
    // Already present with the right hash: no request is made (no server is listening now).
    let got = download(
        "http://127.0.0.1:9/never",
        &dest,
        &sha256(&digest[..8]),
        false,
    );
    assert_eq!(got.expect("kept"), 0);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_wrong_hash_or_a_404_leaves_no_file_and_says_why() {
    let (base, server) = serve(b"not the inception weights".to_vec(), 2);
    let dir = temp_dir("fetch-bad");
    let dest = dir.join("pt_inception-2015-12-05-6726825d.pth");
    let e = download(
        &format!("{base}/weights.pth"),
        &dest,
        &sha256("6726825d"),
        false,
    )
    .expect_err("bad hash");
    assert!(matches!(e, CoreError::Checksum { .. }), "{e}");
    assert!(e.to_string().contains("6726825d"), "{e}");
    assert!(!dest.exists());
    assert_eq!(
        std::fs::read_dir(&dir).expect("dir").count(),
        0,
        "no partial file left"
    );
    let e = download(
        &format!("{base}/missing"),
        &dest,
        &sha256("6726825d"),
        false,
    )
    .expect_err("404");
    assert!(matches!(e, CoreError::Download { .. }), "{e}");
    assert!(e.to_string().contains("404"), "{e}");
    server.join().expect("server");
    std::fs::remove_dir_all(dir).ok();
}
