//! `harbor datasets fetch --publisher-url` end to end, per registry entry: a small archive of
//! fixtures/ files or hand-made ones, in that publisher's exact structure (nested zips, top folders, `__MACOSX/`, flat files, a
//! tar.gz) is served on 127.0.0.1, fetched, and `harbor datasets inspect` run exactly as
//! fetch prints it must read the same subjects, recordings and samples as the loader's own
//! layout of the same files.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use harbor::datasets::fetch::{self, Entry};

/// Files by path relative to the dataset's folder, as the loader reads them.
type Files = Vec<(String, Vec<u8>)>;

struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

/// Serves `files` by URL path on 127.0.0.1 (404 for anything else).
fn serve(files: BTreeMap<String, Vec<u8>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if request.is_empty() {
                    request = line;
                }
            }
            let path = request.split(' ').nth(1).unwrap_or("").to_string();
            seen.lock().unwrap().push(path.clone());
            let Some(body) = files.get(&path) else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
                continue;
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    Server { base, requests }
}

fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A `.tar.gz` of `files`, made with the system's tar as the publisher did.
fn tar_gz(files: &Files) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    let out = dir.path().join("out.tar.gz");
    let mut tar = Command::new("tar");
    tar.arg("-czf").arg(&out).arg("-C").arg(dir.path());
    for (name, _) in files {
        tar.arg(name);
    }
    assert!(tar.status().unwrap().success());
    std::fs::read(out).unwrap()
}

fn write_tree(root: &Path, files: &Files) {
    for (name, bytes) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Every file under `dir`, as `prefix/relative path`.
fn read_tree(dir: &Path, prefix: &str) -> Files {
    fn walk(dir: &Path, rel: &str, out: &mut Files) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = format!("{rel}/{}", path.file_name().unwrap().to_string_lossy());
            if path.is_dir() {
                walk(&path, &name, out);
            } else {
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, prefix, &mut out);
    out
}

fn fixture(rel: &str) -> PathBuf {
    harbor::datasets::workspace_root()
        .join("fixtures")
        .join(rel)
}

fn strip(files: &Files, prefix: &str) -> Files {
    files
        .iter()
        .map(|(n, b)| (n.strip_prefix(prefix).unwrap().to_string(), b.clone()))
        .collect()
}

fn with(mut files: Files, extra: &[(&str, &[u8])]) -> Files {
    files.extend(extra.iter().map(|(n, b)| (n.to_string(), b.to_vec())));
    files
}

/// WISDM 2019: the fixture's phone files, also as the watch's (same line format).
fn wisdm2019_files() -> Files {
    let phone = read_tree(&fixture("wisdm2019/wisdm-dataset"), "wisdm-dataset");
    let watch: Files = phone
        .iter()
        .map(|(n, b)| (n.replace("phone", "watch"), b.clone()))
        .collect();
    phone.into_iter().chain(watch).collect()
}

/// `n` rows of `row(i)`, one per line.
fn rows(n: usize, row: impl Fn(usize) -> String) -> Vec<u8> {
    (0..n)
        .map(|i| row(i) + "\n")
        .collect::<String>()
        .into_bytes()
}

/// A small wobble, so rows differ.
fn wobble(i: usize, k: usize) -> f64 {
    ((i * 7 + k * 13) % 17) as f64 / 1000.0
}

/// HAPT, hand-made: experiments 1 and 2 of user 1 at 50 Hz, accel in g and gyro in rad/s
/// (space-separated), labelled by `exp user activity first last` rows.
fn hapt_files() -> Files {
    let mut files = vec![(
        "HAPT Data Set/RawData/labels.txt".to_string(),
        b"1 1 5 1 200\n1 1 4 201 400\n2 1 1 1 400\n".to_vec(),
    )];
    for exp in ["exp01", "exp02"] {
        let acc = rows(400, |i| {
            format!(
                "{} {} {}",
                0.98 + wobble(i, 0),
                wobble(i, 1),
                0.1 + wobble(i, 2)
            )
        });
        let gyro = rows(400, |i| {
            format!("{} {} {}", wobble(i, 3), -wobble(i, 4), wobble(i, 5))
        });
        files.push((format!("HAPT Data Set/RawData/acc_{exp}_user01.txt"), acc));
        files.push((format!("HAPT Data Set/RawData/gyro_{exp}_user01.txt"), gyro));
    }
    files
}

/// MotionSense, hand-made: two subjects in two trials, 300 rows of the device-motion CSV.
fn motionsense_files() -> Files {
    let header = ",attitude.roll,attitude.pitch,attitude.yaw,gravity.x,gravity.y,gravity.z,\
rotationRate.x,rotationRate.y,rotationRate.z,userAcceleration.x,userAcceleration.y,userAcceleration.z";
    let mut files = Vec::new();
    for trial in ["dws_1", "wlk_7"] {
        for sub in ["sub_1", "sub_2"] {
            let mut csv = format!("{header}\n").into_bytes();
            csv.extend(rows(300, |i| {
                format!(
                    "{i},1.5,-0.7,0.7,0.1,0.99,-0.03,{},{},{},{},{},{}",
                    wobble(i, 0),
                    wobble(i, 1),
                    -wobble(i, 2),
                    wobble(i, 3),
                    -wobble(i, 4),
                    wobble(i, 5)
                )
            }));
            files.push((format!("A_DeviceMotion_data/{trial}/{sub}.csv"), csv));
        }
    }
    files
}

/// BasicMotions, hand-made: `.ts` files of 6-dimension cases, 100 points each.
fn basicmotions_files() -> Files {
    let split = |labels: &[&str]| {
        let mut ts = String::from(
            "#Hand-made cases in the UEA .ts format.\n@problemName BasicMotions\n@timeStamps false\n\
@missing false\n@univariate false\n@dimensions 6\n@equalLength true\n@seriesLength 100\n\
@classLabel true Standing Running Walking Badminton\n@data\n",
        );
        for (case, label) in labels.iter().enumerate() {
            let dims: Vec<String> = (0..6)
                .map(|d| {
                    (0..100)
                        .map(|i| {
                            let gravity = if d == 2 { 9.8 } else { 0.0 };
                            format!("{}", gravity + wobble(i + case, d))
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            ts.push_str(&format!("{}:{label}\n", dims.join(":")));
        }
        ts.into_bytes()
    };
    vec![
        (
            "BasicMotions/BasicMotions_TRAIN.ts".into(),
            split(&["Standing", "Walking"]),
        ),
        (
            "BasicMotions/BasicMotions_TEST.ts".into(),
            split(&["Running", "Badminton"]),
        ),
    ]
}

const MAC: &[u8] = b"\x00\x05\x16\x07 resource fork";

/// The files the loader reads under the entry's folder, and the archive its publisher
/// serves with them.
fn publisher_archive(entry: &Entry) -> (Files, Vec<u8>) {
    match entry.name {
        // A zip holding `wisdm-dataset.zip`, which holds the top folder.
        "wisdm2019" => {
            let files = wisdm2019_files();
            let inner = zip(&with(
                files.clone(),
                &[("__MACOSX/wisdm-dataset/._raw", MAC)],
            ));
            let outer = zip(&[("wisdm-dataset.zip".into(), inner)]);
            (files, outer)
        }
        // Flat: RawData/, README.txt and the rest at the top.
        "hapt" => {
            let files = hapt_files();
            let flat = with(
                strip(&files, "HAPT Data Set/"),
                &[("README.txt", b"HAPT v2.1\n")],
            );
            (files, zip(&flat))
        }
        // The `A_DeviceMotion_data/` top folder, with Mac resource forks.
        "motionsense" => {
            let files = motionsense_files();
            let archive = zip(&with(
                files.clone(),
                &[("__MACOSX/A_DeviceMotion_data/._dws_1", MAC)],
            ));
            (files, archive)
        }
        // Flat .ts and .arff files.
        "basicmotions" => {
            let files = basicmotions_files();
            let flat = with(
                strip(&files, "BasicMotions/"),
                &[("BasicMotions_TRAIN.arff", b"@relation BasicMotions\n")],
            );
            (files, zip(&flat))
        }
        // A zip holding `UCI HAR Dataset.zip` (top folder and `__MACOSX/`) and a `.names`.
        "uci-har" => {
            let files = read_tree(&fixture("uci_har/UCI HAR Dataset"), "UCI HAR Dataset");
            let inner = zip(&with(
                files.clone(),
                &[("__MACOSX/UCI HAR Dataset/._activity_labels.txt", MAC)],
            ));
            let outer = zip(&[
                ("UCI HAR Dataset.zip".into(), inner),
                ("UCI HAR Dataset.names".into(), b"UCI HAR\n".to_vec()),
            ]);
            (files, outer)
        }
        // A tar.gz with the `WISDM_ar_v1.1/` top folder.
        "wisdm-v1.1" => {
            let files = read_tree(&fixture("wisdm_v1.1/WISDM_ar_v1.1"), "WISDM_ar_v1.1");
            let archive = tar_gz(&files);
            (files, archive)
        }
        // A zip holding `PAMAP2_Dataset.zip`, which holds the top folder.
        "pamap2" => {
            let files = read_tree(&fixture("pamap2/PAMAP2_Dataset"), "PAMAP2_Dataset");
            let outer = zip(&[("PAMAP2_Dataset.zip".into(), zip(&files))]);
            (files, outer)
        }
        other => panic!("no publisher archive for registry entry `{other}`: add one here"),
    }
}

fn harbor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fetch_from(base: &str, name: &str, dest: &Path) -> Output {
    harbor(&[
        "datasets",
        "fetch",
        name,
        "--publisher-url",
        base,
        "--dest",
        dest.to_str().unwrap(),
    ])
}

/// The `(kind, folder)` of the `next: harbor datasets inspect KIND FOLDER` line.
fn printed_inspect(stdout: &str) -> (String, String) {
    let line = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("next: harbor datasets inspect "))
        .unwrap_or_else(|| panic!("no inspect command printed:\n{stdout}"));
    let (kind, folder) = line.split_once(' ').unwrap();
    (kind.to_string(), folder.trim_matches('\'').to_string())
}

/// Subjects, recordings and samples that `harbor datasets inspect --json` reports.
fn inspect(kind: &str, folder: &str) -> (u64, u64, u64) {
    let out = harbor(&["datasets", "inspect", kind, folder, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "inspect {kind} {folder}: {}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (n("subjects"), n("recordings"), n("samples"))
}

/// Subjects, recordings and samples of each archive's files in the loader's layout.
const KNOWN_COUNTS: &[(&str, (u64, u64, u64))] = &[
    // Subject 1601 has no gyro file, so only 1600 is read.
    ("wisdm2019", (1, 2, 9)),
    ("hapt", (1, 2, 800)),
    ("motionsense", (2, 4, 1200)),
    ("basicmotions", (1, 4, 400)),
    ("uci-har", (3, 4, 704)),
    ("wisdm-v1.1", (2, 4, 15)),
    ("pamap2", (2, 4, 16)),
];

fn url_path(entry: &Entry) -> String {
    fetch::publisher_url(entry, Some("")).to_string()
}

#[test]
fn every_publisher_archive_lands_where_its_loader_reads() {
    let mut served = BTreeMap::new();
    let mut expected = BTreeMap::new();
    let sources = tempfile::tempdir().unwrap();
    for entry in fetch::REGISTRY {
        let (files, archive) = publisher_archive(entry);
        let source = sources.path().join(entry.folder);
        write_tree(&source, &files);
        let counts = inspect(entry.inspect_kind, source.to_str().unwrap());
        let known = KNOWN_COUNTS.iter().find(|(n, _)| *n == entry.name);
        assert_eq!(known.map(|k| k.1), Some(counts), "{}", entry.name);
        expected.insert(entry.name, counts);
        served.insert(url_path(entry), archive);
    }
    let server = serve(served);
    for entry in fetch::REGISTRY {
        let dest = tempfile::tempdir().unwrap();
        let out = fetch_from(&server.base, entry.name, dest.path());
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}{stdout}",
            entry.name,
            text(&out.stderr)
        );
        let (kind, folder) = printed_inspect(&stdout);
        assert_eq!(kind, entry.inspect_kind);
        assert_eq!(
            Path::new(&folder),
            dest.path().join(entry.folder),
            "{stdout}"
        );
        assert!(
            Path::new(&folder).join(entry.loader_reads).exists(),
            "{}: no {}",
            entry.name,
            entry.loader_reads
        );
        assert!(
            !Path::new(&folder).join("__MACOSX").exists(),
            "{}: __MACOSX kept",
            entry.name
        );
        assert_eq!(
            inspect(&kind, &folder),
            expected[entry.name],
            "{}: the fetched folder reads differently from the loader's layout",
            entry.name
        );
    }
    let asked = server.requests.lock().unwrap().clone();
    let wanted: Vec<String> = fetch::REGISTRY.iter().map(url_path).collect();
    assert_eq!(
        asked, wanted,
        "one download per dataset, at the publisher's path"
    );
}

#[test]
fn an_archive_without_the_known_layout_is_an_error_that_leaves_nothing() {
    let entry = fetch::registry::find("wisdm2019").unwrap();
    // The top folder directly, without the inner `wisdm-dataset.zip`.
    let archive = zip(&wisdm2019_files());
    let server = serve(BTreeMap::from([(url_path(entry), archive)]));
    let dest = tempfile::tempdir().unwrap();
    let out = fetch_from(&server.base, entry.name, dest.path());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("wisdm-dataset.zip") && err.contains("found at the top: wisdm-dataset"),
        "{err}"
    );
    assert!(!dest.path().join(entry.folder).exists());
    let left: Vec<_> = std::fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec![".downloads".to_string()], "staging folder left");
}
