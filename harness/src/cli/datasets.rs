//! `harbor datasets`: the formats harbor reads and what a dataset on disk holds.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::progress::BytesBar;
use super::{CliError, CliResult, Exit};
use crate::datasets::summary::Summary;
use crate::datasets::{
    self, BadLinePolicy, DatasetKind, LoadOptions, Pamap2Imu, fetch, plausibility,
};

#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// List the dataset formats harbor reads.
    List,
    /// Load a dataset and report subjects, recordings, samples, durations, rates and skipped lines.
    Inspect {
        #[command(flatten)]
        source: DatasetSource,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Fail (exit 2) when a plausibility check warns (units, rate).
        #[arg(long)]
        strict: bool,
    },
    /// Download and unpack the public datasets harbor reads, from a mirror or their publishers.
    Fetch {
        /// Dataset names (`wisdm2019`, `hapt`, `motionsense`, `basicmotions`, `uci-har`,
        /// `wisdm-v1.1`, `pamap2`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        names: Vec<String>,
        /// Every dataset in the registry.
        #[arg(long)]
        all: bool,
        /// Where to unpack (default: $HARBOR_DATA, else target/datasets).
        #[arg(long)]
        dest: Option<PathBuf>,
        /// A mirror of the archives: a folder, or an http(s):// URL serving them by file name
        /// (default: $HARBOR_DATA_MIRROR, else a shared/datasets folder beside the repository).
        #[arg(long, conflicts_with = "publisher")]
        mirror: Option<String>,
        /// Download from the publishers even when a mirror is found.
        #[arg(long)]
        publisher: bool,
        /// Download the publishers' archives from this base URL instead of their own hosts,
        /// keeping each URL's path (a local copy of the publishers' sites, or a test server).
        #[arg(long, value_name = "URL", conflicts_with = "mirror")]
        publisher_url: Option<String>,
    },
}

/// Which dataset to read, shared by the commands that load one.
#[derive(Debug, Args)]
pub struct DatasetSource {
    /// Dataset format (see `harbor datasets list`).
    pub kind: DatasetKind,
    /// The dataset's folder as published (for `custom`: the spec YAML file).
    pub root: PathBuf,
    /// Only these subjects (the dataset's own ids), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub subjects: Vec<String>,
    /// PAMAP2: which IMU to read.
    #[arg(long, value_enum, default_value_t = ImuPosition::Hand)]
    pub pamap2_imu: ImuPosition,
    /// custom: stop at the first malformed line, or skip it and count it by cause.
    #[arg(long, value_enum, default_value_t = OnBadLine::Error)]
    pub on_bad_line: OnBadLine,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OnBadLine {
    Error,
    Skip,
}

impl OnBadLine {
    /// The loaders' policy for this choice.
    pub fn policy(self) -> BadLinePolicy {
        match self {
            OnBadLine::Error => BadLinePolicy::Error,
            OnBadLine::Skip => BadLinePolicy::Skip,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ImuPosition {
    Hand,
    Chest,
    Ankle,
}

impl DatasetSource {
    pub fn options(&self) -> LoadOptions {
        let pamap2_imu = match self.pamap2_imu {
            ImuPosition::Hand => Pamap2Imu::Hand,
            ImuPosition::Chest => Pamap2Imu::Chest,
            ImuPosition::Ankle => Pamap2Imu::Ankle,
        };
        LoadOptions {
            pamap2_imu,
            subjects: self.subjects.clone(),
            on_bad_line: self.on_bad_line.policy(),
        }
    }

    /// Loads the dataset with a progress bar.
    pub fn load(&self) -> Result<datasets::Loaded, datasets::DatasetError> {
        let bar = BytesBar::new("loading");
        let loaded = datasets::load(self.kind, &self.root, &self.options(), &bar);
        bar.finish();
        let loaded = loaded?;
        if loaded.recordings.is_empty() {
            return Err(datasets::DatasetError::Empty {
                root: self.root.clone(),
                what: "recordings".into(),
                expected: if self.subjects.is_empty() {
                    format!("a {} dataset", self.kind)
                } else {
                    format!("subjects {}", self.subjects.join(","))
                },
            });
        }
        Ok(loaded)
    }
}

pub fn run(cmd: DatasetsCommand) -> CliResult {
    match cmd {
        DatasetsCommand::Fetch {
            names,
            all,
            dest,
            mirror,
            publisher,
            publisher_url,
        } => {
            let source = match (publisher || publisher_url.is_some(), mirror) {
                (true, _) => fetch::Source::Publisher {
                    base_url: publisher_url,
                },
                (false, Some(m)) => fetch::mirror_source(&m),
                (false, None) => fetch::default_mirror().map_or(
                    fetch::Source::Publisher { base_url: None },
                    fetch::Source::MirrorDir,
                ),
            };
            return fetch_datasets(&names, all, dest, &source);
        }
        DatasetsCommand::List => {
            for kind in DatasetKind::ALL {
                println!("{:<16} {}", kind.name(), kind.description());
            }
        }
        DatasetsCommand::Inspect {
            source,
            json,
            strict,
        } => {
            let loaded = source.load()?;
            let summary = Summary::of(&loaded);
            let warnings = plausibility::check(&loaded, &loaded.units);
            if json {
                let mut value = serde_json::to_value(&summary).expect("summary serializes");
                value["warnings"] = serde_json::to_value(&warnings).expect("warnings serialize");
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).expect("summary serializes")
                );
            } else {
                print!("{summary}");
            }
            report_warnings(&warnings, strict)?;
        }
    }
    Ok(Exit::Ok)
}

/// Prints plausibility warnings to stderr; with `strict`, any warning is an input error.
pub fn report_warnings(warnings: &[plausibility::Warning], strict: bool) -> Result<(), CliError> {
    for w in warnings {
        eprintln!("warning: {w}");
    }
    match (warnings.len(), strict) {
        (0, _) => Ok(()),
        (n, true) => Err(CliError::usage(format!(
            "{n} plausibility warning(s) and --strict: fix the spec's units (see above)"
        ))),
        (_, false) => {
            eprintln!("(--strict turns these warnings into an error)");
            Ok(())
        }
    }
}

/// `harbor datasets fetch`.
fn fetch_datasets(
    names: &[String],
    all: bool,
    dest: Option<PathBuf>,
    source: &fetch::Source,
) -> CliResult {
    let entries: Vec<&fetch::Entry> = if all {
        fetch::REGISTRY.iter().collect()
    } else {
        names
            .iter()
            .map(|n| {
                fetch::registry::find(n).ok_or_else(|| {
                    CliError::usage(fetch::FetchError::UnknownName {
                        name: n.clone(),
                        known: fetch::registry::names(),
                    })
                })
            })
            .collect::<Result<_, _>>()?
    };
    let dest = dest.unwrap_or_else(datasets::data_root);
    let from = match source {
        fetch::Source::MirrorDir(d) => format!("mirror {}", d.display()),
        fetch::Source::MirrorUrl(u) => format!("mirror {u}"),
        fetch::Source::Publisher { base_url: None } => "publisher".to_string(),
        fetch::Source::Publisher {
            base_url: Some(base),
        } => format!("publisher paths under {base}"),
    };
    for entry in entries {
        let bar = BytesBar::new(entry.name);
        let fetched = fetch::fetch(entry, source, &dest, &bar);
        bar.finish();
        let fetched = fetched.map_err(|e| match e {
            fetch::FetchError::UnknownName { .. } => CliError::usage(e),
            e => CliError::infrastructure(e),
        })?;
        let how = if fetched.already_there {
            "already there, checked".to_string()
        } else {
            format!("from {from}")
        };
        println!("{:<13} {} ({how})", entry.name, fetched.folder.display());
        let publisher = matches!(source, fetch::Source::Publisher { .. });
        if publisher {
            println!(
                "              unchecked (the publisher gives no sha256); license: {}",
                entry.license
            );
        }
        if publisher || !fetch::registry::metadata_only(entry) {
            println!(
                "              next: harbor datasets inspect {} {}",
                entry.inspect_kind,
                shell_word(&fetched.folder.display().to_string())
            );
        } else {
            println!(
                "              documentation and labels only (the mirror has no recordings of it; --publisher fetches them)"
            );
        }
    }
    Ok(Exit::Ok)
}

/// `word` quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    let plain = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:=@".contains(&b));
    if plain && !word.is_empty() {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_word_quotes_only_what_a_shell_would_split_or_expand() {
        assert_eq!(shell_word("/data/uci_har"), "/data/uci_har");
        assert_eq!(shell_word("/data/UCI HAR"), "'/data/UCI HAR'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }
}
