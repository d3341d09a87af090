//! A minimal, bounds-checked, zero-copy FlatBuffers reader.
//!
//! Only what the TFLite schema needs: tables, scalars, sub-tables, vectors of scalars and of
//! tables, byte vectors. Every offset is checked against the buffer, so mutated or truncated
//! files give an error, never a panic and never `unsafe`.

/// Where and why a FlatBuffer could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlatBufferError {
    /// Byte offset in the file where the bad reference or value sits.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

type Result<T> = core::result::Result<T, FlatBufferError>;

fn err<T>(offset: usize, reason: &'static str) -> Result<T> {
    Err(FlatBufferError { offset, reason })
}

fn bytes_at(buf: &[u8], pos: usize, len: usize) -> Result<&[u8]> {
    match pos.checked_add(len) {
        Some(end) if end <= buf.len() => Ok(&buf[pos..end]),
        _ => err(pos, "reference past the end of the file"),
    }
}

fn read_u16(buf: &[u8], pos: usize) -> Result<u16> {
    let b = bytes_at(buf, pos, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(buf: &[u8], pos: usize) -> Result<u32> {
    let b = bytes_at(buf, pos, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Follows a `uoffset_t` stored at `pos` to the absolute position it points at.
fn follow(buf: &[u8], pos: usize) -> Result<usize> {
    let rel = read_u32(buf, pos)? as usize;
    match pos.checked_add(rel) {
        Some(target) if rel != 0 && target < buf.len() => Ok(target),
        _ => err(pos, "offset points outside the file"),
    }
}

/// A scalar type a FlatBuffer field or vector element can hold (little-endian on disk).
pub trait Scalar: Copy + 'static {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Decodes from exactly `SIZE` bytes.
    fn decode(bytes: &[u8]) -> Self;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            #[inline]
            fn decode(bytes: &[u8]) -> Self {
                let mut raw = [0u8; core::mem::size_of::<$t>()];
                raw.copy_from_slice(&bytes[..core::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(raw)
            }
        }
    )*};
}
scalar!(u8, i8, u16, i16, u32, i32, u64, i64, f32);

impl Scalar for bool {
    const SIZE: usize = 1;
    fn decode(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

/// A table: an object whose fields are located through its vtable.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
    object_len: usize,
}

impl<'a> Table<'a> {
    /// The root table of a FlatBuffer.
    pub fn root(buf: &'a [u8]) -> Result<Self> {
        let pos = follow(buf, 0)?;
        Self::at(buf, pos)
    }

    /// The table whose object starts at `pos`.
    pub fn at(buf: &'a [u8], pos: usize) -> Result<Self> {
        let soffset = read_u32(buf, pos)? as i32 as i64;
        let vtable = pos as i64 - soffset;
        if vtable < 0 || vtable as usize >= buf.len() {
            return err(pos, "table's vtable lies outside the file");
        }
        let vtable = vtable as usize;
        let vtable_len = usize::from(read_u16(buf, vtable)?);
        let object_len = usize::from(read_u16(buf, vtable + 2)?);
        if vtable_len < 4 || vtable_len % 2 != 0 {
            return err(vtable, "malformed vtable length");
        }
        bytes_at(buf, vtable, vtable_len)?;
        if object_len < 4 {
            return err(vtable, "malformed table size");
        }
        bytes_at(buf, pos, object_len)?;
        Ok(Self {
            buf,
            pos,
            vtable,
            vtable_len,
            object_len,
        })
    }

    /// Position of the table in the file (for error messages).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Absolute position of field `slot` (0-based field id), `None` if absent.
    fn field(&self, slot: usize, size: usize) -> Result<Option<usize>> {
        let entry = 4 + 2 * slot;
        if entry + 2 > self.vtable_len {
            return Ok(None);
        }
        let rel = usize::from(read_u16(self.buf, self.vtable + entry)?);
        if rel == 0 {
            return Ok(None);
        }
        if rel + size > self.object_len {
            return err(self.pos, "field lies outside its table");
        }
        Ok(Some(self.pos + rel))
    }

    /// A scalar field, or `default` when absent.
    pub fn scalar<T: Scalar>(&self, slot: usize, default: T) -> Result<T> {
        match self.field(slot, T::SIZE)? {
            Some(pos) => Ok(T::decode(bytes_at(self.buf, pos, T::SIZE)?)),
            None => Ok(default),
        }
    }

    /// A sub-table field.
    pub fn table(&self, slot: usize) -> Result<Option<Table<'a>>> {
        match self.field(slot, 4)? {
            Some(pos) => Ok(Some(Table::at(self.buf, follow(self.buf, pos)?)?)),
            None => Ok(None),
        }
    }

    /// A vector field whose elements are scalars of type `T`.
    pub fn vector<T: Scalar>(&self, slot: usize) -> Result<Option<Vector<'a, T>>> {
        match self.field(slot, 4)? {
            Some(pos) => Ok(Some(Vector::at(self.buf, follow(self.buf, pos)?)?)),
            None => Ok(None),
        }
    }

    /// A vector-of-tables field.
    pub fn tables(&self, slot: usize) -> Result<Option<Tables<'a>>> {
        match self.field(slot, 4)? {
            Some(pos) => {
                let start = follow(self.buf, pos)?;
                let offsets: Vector<'a, u32> = Vector::at(self.buf, start)?;
                Ok(Some(Tables { offsets }))
            }
            None => Ok(None),
        }
    }

    /// A string field (bytes; TFLite names are ASCII in practice).
    pub fn string(&self, slot: usize) -> Result<Option<&'a str>> {
        match self.vector::<u8>(slot)? {
            Some(v) => match core::str::from_utf8(v.bytes()) {
                Ok(s) => Ok(Some(s)),
                Err(_) => err(v.start, "string is not UTF-8"),
            },
            None => Ok(None),
        }
    }
}

/// A vector of little-endian scalars, read in place.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a, T: Scalar> {
    buf: &'a [u8],
    start: usize,
    len: usize,
    _marker: core::marker::PhantomData<T>,
}

impl<'a, T: Scalar> Vector<'a, T> {
    fn at(buf: &'a [u8], pos: usize) -> Result<Self> {
        let len = read_u32(buf, pos)? as usize;
        let start = pos + 4;
        match len.checked_mul(T::SIZE) {
            Some(bytes) => {
                bytes_at(buf, start, bytes)?;
            }
            None => return err(pos, "vector length overflows"),
        }
        Ok(Self {
            buf,
            start,
            len,
            _marker: core::marker::PhantomData,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `i`, `None` when out of range.
    pub fn get(&self, i: usize) -> Option<T> {
        if i >= self.len {
            return None;
        }
        let pos = self.start + i * T::SIZE;
        Some(T::decode(&self.buf[pos..pos + T::SIZE]))
    }

    /// The raw little-endian bytes of the elements.
    pub fn bytes(&self) -> &'a [u8] {
        &self.buf[self.start..self.start + self.len * T::SIZE]
    }

    /// Position of the first element in the file.
    pub fn position(&self) -> usize {
        self.start
    }

    /// Iterates over the elements.
    pub fn iter(&self) -> impl Iterator<Item = T> + 'a {
        let this = *self;
        (0..this.len).filter_map(move |i| this.get(i))
    }
}

/// A vector of tables.
#[derive(Clone, Copy, Debug)]
pub struct Tables<'a> {
    offsets: Vector<'a, u32>,
}

impl<'a> Tables<'a> {
    /// Number of tables.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True when the vector has no tables.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Table `i`.
    pub fn get(&self, i: usize) -> Result<Table<'a>> {
        if i >= self.len() {
            return err(self.offsets.start, "table index out of range");
        }
        let pos = self.offsets.start + 4 * i;
        Table::at(self.offsets.buf, follow(self.offsets.buf, pos)?)
    }
}
