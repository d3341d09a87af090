//! NumPy `.npz` files: a zip of `.npy` v1.0 arrays, written and read without Python.
//!
//! Entries are stored uncompressed (`np.load` reads them; the arrays are small next to the
//! datasets they come from). Supported dtypes, C order: `|i1`, `<i2`, `<i4`, `<i8`, `<f4`,
//! `<f8` and little-endian unicode `<Un`. Single `.npy` files too ([`read_npy`], [`write_npy`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// An array's elements, flattened in C order.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// `|i1` elements (int8 tensors).
    I8(Vec<i8>),
    /// `<i4` elements.
    I32(Vec<i32>),
    /// `<f8` elements.
    F64(Vec<f64>),
    /// `<f4` elements.
    F32(Vec<f32>),
    /// `<i2` elements.
    I16(Vec<i16>),
    /// `<i8` elements.
    I64(Vec<i64>),
    /// `<U` strings (numpy's fixed-width unicode).
    Unicode(Vec<String>),
}

impl NpyData {
    fn len(&self) -> usize {
        match self {
            NpyData::I8(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::F32(v) => v.len(),
            NpyData::I16(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::Unicode(v) => v.len(),
        }
    }

    /// NumPy's name of the element type (`int8`, `float32`, …), for messages.
    pub fn dtype_name(&self) -> &'static str {
        match self {
            NpyData::I8(_) => "int8",
            NpyData::I32(_) => "int32",
            NpyData::F64(_) => "float64",
            NpyData::F32(_) => "float32",
            NpyData::I16(_) => "int16",
            NpyData::I64(_) => "int64",
            NpyData::Unicode(_) => "unicode",
        }
    }

    fn descr(&self) -> String {
        match self {
            NpyData::I8(_) => "|i1".into(),
            NpyData::I32(_) => "<i4".into(),
            NpyData::F64(_) => "<f8".into(),
            NpyData::F32(_) => "<f4".into(),
            NpyData::I16(_) => "<i2".into(),
            NpyData::I64(_) => "<i8".into(),
            // NumPy has no zero-width strings; `<U1` holds the empty string.
            NpyData::Unicode(v) => format!(
                "<U{}",
                v.iter()
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(1)
                    .max(1)
            ),
        }
    }
}

/// One array: shape (empty for a 0-d scalar) and data.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Dimensions, outermost first; empty for a scalar.
    pub shape: Vec<usize>,
    /// The elements in C order.
    pub data: NpyData,
}

impl NpyArray {
    /// An array of `shape`; errors if `data` does not have exactly that many elements.
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self, ShapeMismatch> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(ShapeMismatch {
                shape,
                elements: data.len(),
            });
        }
        Ok(NpyArray { shape, data })
    }

    /// A 0-d string array (how `meta` is stored).
    pub fn scalar_str(s: &str) -> Self {
        NpyArray {
            shape: Vec::new(),
            data: NpyData::Unicode(vec![s.to_string()]),
        }
    }
}

/// An array whose shape does not match its number of elements.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shape {shape:?} needs {} elements, data has {elements}", shape.iter().product::<usize>())]
pub struct ShapeMismatch {
    /// The shape asked for.
    pub shape: Vec<usize>,
    /// Elements the data has.
    pub elements: usize,
}

/// Why an `.npz` file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    /// The file could not be created, written or opened.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The zip container is broken.
    #[error("{}: {source}", path.display())]
    Zip {
        /// The file.
        path: PathBuf,
        /// The zip error.
        source: zip::result::ZipError,
    },
    /// An entry is not an array harbor reads.
    #[error("{}: entry {entry}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The entry's name.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Writes `arrays` as `<name>.npy` entries of an `.npz` at `path`, atomically: into a temp
/// file beside it, renamed over `path` only once complete, so a full disk or a failure
/// leaves no partial `.npz` (and an older one untouched).
pub fn write(path: &Path, arrays: &[(&str, &NpyArray)]) -> Result<(), NpzError> {
    let io = |source| NpzError::Io {
        path: path.to_path_buf(),
        source,
    };
    let zip_err = |source| NpzError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".harbor-npz-")
        .tempfile_in(dir)
        .map_err(io)?;
    let mut zip = zip::ZipWriter::new(BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, array) in arrays {
        let expected: usize = array.shape.iter().product();
        if expected != array.data.len() {
            return Err(NpzError::Format {
                path: path.to_path_buf(),
                entry: name.to_string(),
                reason: format!(
                    "shape {:?} does not match {} elements",
                    array.shape,
                    array.data.len()
                ),
            });
        }
        zip.start_file(format!("{name}.npy"), options)
            .map_err(zip_err)?;
        zip.write_all(&header(array)).map_err(io)?;
        write_data(&mut zip, &array.data).map_err(io)?;
    }
    let file = zip
        .finish()
        .map_err(zip_err)?
        .into_inner()
        .map_err(|e| io(e.into_error()))?;
    let mut perms = file.as_file().metadata().map_err(io)?.permissions();
    // Temp files start private (0600); the result is an ordinary readable file.
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    file.as_file().set_permissions(perms).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

fn header(array: &NpyArray) -> Vec<u8> {
    let shape = match array.shape.as_slice() {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        array.data.descr()
    );
    // Pad with spaces and end with a newline so the data starts 64-byte aligned.
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    dict.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

fn write_data(w: &mut impl Write, data: &NpyData) -> std::io::Result<()> {
    // Convert in chunks: no copy of the whole array, no per-element write call.
    fn chunks<T, const B: usize>(
        w: &mut impl Write,
        v: &[T],
        bytes: impl Fn(&T) -> [u8; B],
    ) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(B * 8192);
        for chunk in v.chunks(8192) {
            buf.clear();
            chunk.iter().for_each(|x| buf.extend_from_slice(&bytes(x)));
            w.write_all(&buf)?;
        }
        Ok(())
    }
    match data {
        NpyData::I8(v) => chunks(w, v, |x| x.to_le_bytes()),
        NpyData::I32(v) => chunks(w, v, |x| x.to_le_bytes()),
        NpyData::F64(v) => chunks(w, v, |x| x.to_le_bytes()),
        NpyData::F32(v) => chunks(w, v, |x| x.to_le_bytes()),
        NpyData::I16(v) => chunks(w, v, |x| x.to_le_bytes()),
        NpyData::I64(v) => chunks(w, v, |x| x.to_le_bytes()),
        NpyData::Unicode(v) => {
            let width = v
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(1)
                .max(1);
            let mut buf = Vec::with_capacity(width * 4);
            for s in v {
                buf.clear();
                s.chars()
                    .for_each(|c| buf.extend_from_slice(&u32::from(c).to_le_bytes()));
                buf.resize(width * 4, 0);
                w.write_all(&buf)?;
            }
            Ok(())
        }
    }
}

/// Reads a bare `.npy` file (one array).
pub fn read_npy(path: &Path) -> Result<NpyArray, NpzError> {
    let bytes = std::fs::read(path).map_err(|source| NpzError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(&bytes).map_err(|reason| NpzError::Format {
        path: path.to_path_buf(),
        entry: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        reason,
    })
}

/// Writes one array as a bare `.npy` file: to a temporary name beside it, then renamed, so a failed write
/// never leaves a half-written array under `path`.
pub fn write_npy(path: &Path, array: &NpyArray) -> Result<(), NpzError> {
    let io = |source| NpzError::Io {
        path: path.to_path_buf(),
        source,
    };
    let expected: usize = array.shape.iter().product();
    if expected != array.data.len() {
        return Err(NpzError::Format {
            path: path.to_path_buf(),
            entry: "the array".into(),
            reason: format!(
                "shape {:?} does not match {} elements",
                array.shape,
                array.data.len()
            ),
        });
    }
    let tmp = path.with_extension("npy.partial");
    let write = || -> std::io::Result<()> {
        let mut w = BufWriter::new(File::create(&tmp)?);
        w.write_all(&header(array))?;
        write_data(&mut w, &array.data)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// Reads every `.npy` entry of the `.npz` at `path`, keyed by name without `.npy`.
pub fn read(path: &Path) -> Result<BTreeMap<String, NpyArray>, NpzError> {
    let io = |source| NpzError::Io {
        path: path.to_path_buf(),
        source,
    };
    let zip_err = |source| NpzError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
    let mut arrays = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        let name = entry.name().map_err(zip_err)?.to_string();
        // The entry's size is the file's claim: a corrupt one must not reserve memory.
        let mut bytes = Vec::with_capacity(entry.size().min(1 << 24) as usize);
        entry.read_to_end(&mut bytes).map_err(io)?;
        let format = |reason: String| NpzError::Format {
            path: path.to_path_buf(),
            entry: name.clone(),
            reason,
        };
        let array = parse_npy(&bytes).map_err(format)?;
        arrays.insert(
            name.strip_suffix(".npy").unwrap_or(&name).to_string(),
            array,
        );
    }
    Ok(arrays)
}

fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not an .npy array (bad magic)".into());
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let dict = bytes
        .get(header_start..header_start + header_len)
        .ok_or("header runs past the end of the entry")?;
    let dict = std::str::from_utf8(dict).map_err(|_| "header is not text")?;
    let descr = quoted_value(dict, "descr").ok_or("header has no 'descr'")?;
    if dict_value(dict, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape_text = dict_value(dict, "shape").ok_or("header has no 'shape'")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("malformed 'shape'")?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("malformed shape dimension `{s}`"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A corrupt shape may multiply past usize: that is a malformed header, not an overflow.
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} has more elements than memory can hold"))?;
    let data = &bytes[header_start + header_len..];
    let need = |width: usize| match count.checked_mul(width) {
        Some(bytes) if bytes == data.len() => Ok(()),
        bytes => Err(format!(
            "{count} elements of {width} bytes need {} bytes, entry has {}",
            bytes.map_or_else(|| "more than usize::MAX".to_string(), |b| b.to_string()),
            data.len()
        )),
    };
    let data = match descr.as_str() {
        "|i1" | "<i1" | "i1" => {
            need(1)?;
            NpyData::I8(data.iter().map(|&b| b as i8).collect())
        }
        "<i4" => {
            need(4)?;
            NpyData::I32(
                data.chunks_exact(4)
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            )
        }
        "<f8" => {
            need(8)?;
            NpyData::F64(
                data.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                    .collect(),
            )
        }
        "<f4" => {
            need(4)?;
            NpyData::F32(
                data.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            )
        }
        "<i2" => {
            need(2)?;
            NpyData::I16(
                data.chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect(),
            )
        }
        "<i8" => {
            need(8)?;
            NpyData::I64(
                data.chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                    .collect(),
            )
        }
        d if d.starts_with("<U") => {
            let width: usize = d[2..]
                .parse()
                .map_err(|_| format!("malformed dtype `{d}`"))?;
            need(width * 4)?;
            let strings = data
                .chunks_exact((width * 4).max(1))
                .map(|item| {
                    item.chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .take_while(|&c| c != 0)
                        .map(|c| char::from_u32(c).ok_or(format!("invalid code point {c:#x}")))
                        .collect::<Result<String, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            NpyData::Unicode(strings)
        }
        d => return Err(format!("unsupported dtype `{d}`")),
    };
    NpyArray::new(shape, data).map_err(|e| e.to_string())
}

/// The raw text after `'key':` in a header dict.
fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let at = dict.find(&format!("'{key}':"))?;
    Some(dict[at + key.len() + 3..].trim_start())
}

fn quoted_value(dict: &str, key: &str) -> Option<String> {
    let v = dict_value(dict, key)?.strip_prefix('\'')?;
    Some(v[..v.find('\'')?].to_string())
}
