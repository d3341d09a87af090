//! The public datasets harbor reads: where their publishers put them, and the archives of a
//! local mirror (name, size, sha256) that `harbor datasets fetch` checks every byte against.

/// One archive file of a mirror; an archive may be split into parts joined in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// File name in the mirror.
    pub file: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// sha256, lowercase hex.
    pub sha256: &'static str,
}

/// One step that maps a publisher's unpacked archive onto the folder the loader reads;
/// `__MACOSX/` folders are dropped after every step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Unzip the archive at this path (inside the unpacked one) in place, then delete it.
    UnzipInner(&'static str),
    /// If everything sits in one top folder, whatever its name, move its content up.
    StripTop,
    /// Move everything into a new folder of this name.
    Into(&'static str),
}

/// A public dataset and where to get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name `harbor datasets fetch` takes.
    pub name: &'static str,
    /// What it is.
    pub title: &'static str,
    /// The folder it unpacks to under the destination (the loaders' root).
    pub folder: &'static str,
    /// The publisher's download (an archive in the publisher's own layout).
    pub publisher_url: &'static str,
    /// Steps that turn the publisher's archive into the loader's layout under `folder`
    /// (the same layout the mirror's archive unpacks to).
    pub publisher_layout: &'static [Step],
    /// A path under `folder` that the loader needs; its absence after the layout steps
    /// means the publisher changed the archive.
    pub loader_reads: &'static str,
    /// The `harbor datasets inspect` kind that reads `folder`.
    pub inspect_kind: &'static str,
    /// Terms of use, in short.
    pub license: &'static str,
    /// The mirror's `.tar.zst` archive, in parts; several datasets may share one archive.
    pub mirror: &'static [Part],
}

const WISDM2019_PARTS: &[Part] = &[
    Part {
        file: "wisdm2019-watch.tar.zst.part00",
        size: 52_428_800,
        sha256: "86c1ad1388bdfdf995e9d30a76b34944d2c2b567628d93e1f056e59df9ccdbeb",
    },
    Part {
        file: "wisdm2019-watch.tar.zst.part01",
        size: 45_767_715,
        sha256: "698fa37dcb5ce81f23ba1858c999f6b8195a60eab86b9abac5a105278f71a058",
    },
];

/// The metadata and documentation of the datasets whose recordings a mirror does not hold.
const DOCS_PARTS: &[Part] = &[Part {
    file: "docs-only.tar.zst",
    size: 420_123,
    sha256: "8085ce1e21eb4b3fb4ef97a12cfa2b320b299c88052f2f1d2c225a98d74676eb",
}];

/// Every dataset `harbor datasets fetch` knows, in the order `--all` fetches them.
pub const REGISTRY: &[Entry] = &[
    Entry {
        name: "wisdm2019",
        title: "WISDM Smartphone and Smartwatch Activity and Biometrics (Weiss et al., 2019)",
        folder: "wisdm2019",
        publisher_url: "https://archive.ics.uci.edu/static/public/507/wisdm+smartphone+and+smartwatch+activity+and+biometrics+dataset.zip",
        publisher_layout: &[Step::UnzipInner("wisdm-dataset.zip")],
        loader_reads: "wisdm-dataset/raw",
        inspect_kind: "wisdm2019-watch",
        license: "UCI repository; cite Weiss, Yoneda, Hayajneh, IEEE Access 7, 2019",
        mirror: WISDM2019_PARTS,
    },
    Entry {
        name: "hapt",
        title: "Smartphone-Based Recognition of Human Activities and Postural Transitions (HAPT v2.1)",
        folder: "hapt",
        publisher_url: "https://archive.ics.uci.edu/static/public/341/smartphone+based+recognition+of+human+activities+and+postural+transitions.zip",
        publisher_layout: &[Step::StripTop, Step::Into("HAPT Data Set")],
        loader_reads: "HAPT Data Set/RawData/labels.txt",
        inspect_kind: "hapt",
        license: "as-is, no commercial use; cite Reyes-Ortiz et al., Neurocomputing 2015",
        mirror: &[Part {
            file: "hapt.tar.zst",
            size: 13_528_934,
            sha256: "5f07254348adf5f9bcc5b0e3cc7ca115ac220937c872151e3e436dcd743a23d1",
        }],
    },
    Entry {
        name: "motionsense",
        title: "MotionSense (Malekzadeh et al., IoTDI 2019)",
        folder: "motionsense",
        publisher_url: "https://github.com/mmalekzadeh/motion-sense/raw/master/data/A_DeviceMotion_data.zip",
        publisher_layout: &[Step::StripTop, Step::Into("A_DeviceMotion_data")],
        loader_reads: "A_DeviceMotion_data",
        inspect_kind: "motionsense",
        license: "MIT",
        mirror: &[Part {
            file: "motionsense.tar.zst",
            size: 61_220_819,
            sha256: "8d34e6bb2bbaf66d9d169b23ecabac24d7a9e547eb9b584ab415f859c5bfbb6c",
        }],
    },
    Entry {
        name: "basicmotions",
        title: "BasicMotions (UEA multivariate time-series archive)",
        folder: "basicmotions",
        publisher_url: "https://www.timeseriesclassification.com/aeon-toolkit/BasicMotions.zip",
        publisher_layout: &[Step::StripTop, Step::Into("BasicMotions")],
        loader_reads: "BasicMotions/BasicMotions_TRAIN.ts",
        inspect_kind: "basicmotions",
        license: "UEA archive; cite Bagnall et al., 2018",
        mirror: &[Part {
            file: "basicmotions.tar.zst",
            size: 153_537,
            sha256: "d0062b2e47bcdf38eb3096818cd38dbec437286b027aa164d7d147a8baaf545b",
        }],
    },
    Entry {
        name: "uci-har",
        title: "UCI HAR: Human Activity Recognition Using Smartphones (Anguita et al., 2013)",
        folder: "uci_har",
        publisher_url: "https://archive.ics.uci.edu/static/public/240/human+activity+recognition+using+smartphones.zip",
        publisher_layout: &[Step::UnzipInner("UCI HAR Dataset.zip")],
        loader_reads: "UCI HAR Dataset/activity_labels.txt",
        inspect_kind: "uci-har",
        license: "as-is, no commercial use; cite Anguita et al., ESANN 2013",
        mirror: DOCS_PARTS,
    },
    Entry {
        name: "wisdm-v1.1",
        title: "WISDM Activity Prediction v1.1 (Kwapisz et al., 2010)",
        folder: "wisdm_v1.1",
        publisher_url: "https://www.cis.fordham.edu/wisdm/includes/datasets/latest/WISDM_ar_latest.tar.gz",
        publisher_layout: &[Step::StripTop, Step::Into("WISDM_ar_v1.1")],
        loader_reads: "WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt",
        inspect_kind: "wisdm-v1.1",
        license: "cite Kwapisz, Weiss, Moore, SIGKDD Explorations 2011; keep its readme.txt",
        mirror: DOCS_PARTS,
    },
    Entry {
        name: "pamap2",
        title: "PAMAP2 Physical Activity Monitoring (Reiss & Stricker, 2012)",
        folder: "pamap2",
        publisher_url: "https://archive.ics.uci.edu/static/public/231/pamap2+physical+activity+monitoring.zip",
        publisher_layout: &[Step::UnzipInner("PAMAP2_Dataset.zip")],
        loader_reads: "PAMAP2_Dataset/Protocol",
        inspect_kind: "pamap2",
        license: "free for academic research; cite Reiss & Stricker, ISWC 2012",
        mirror: DOCS_PARTS,
    },
];

/// The entry called `name`.
pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.name == name)
}

/// Whether the mirror holds only the documentation and labels of `entry`, not its recordings.
pub fn metadata_only(entry: &Entry) -> bool {
    entry.mirror == DOCS_PARTS
}

/// The names, for error messages.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_folders_and_hashes_are_well_formed() {
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
        for e in REGISTRY {
            assert!(e.publisher_url.starts_with("https://"), "{}", e.name);
            assert!(!e.mirror.is_empty());
            for p in e.mirror {
                assert_eq!(p.sha256.len(), 64, "{}", p.file);
                assert!(p.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
                assert!(p.file.contains(".tar.zst"));
            }
        }
    }
}
