//! Writing into a results directory: whole files through a temporary name, so a reader (or an
//! interrupted run) never sees half a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use crate::data::write_csv;
use crate::error::Error;

/// Write `rows` as CSV to `dir/name` through `dir/.name.tmp` and a rename.
pub fn write_atomic<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<(), Error> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let file = File::create(&tmp).map_err(|source| Error::Io { path: tmp.clone(), source })?;
    write_csv(BufWriter::new(file), rows).map_err(|source| Error::Csv { path: dir.join(name), source })?;
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(|source| Error::Io { path, source })
}

/// Write `value` as pretty JSON (with a final newline) to `dir/name`, synced, through a rename.
pub fn write_json_atomic(dir: &Path, name: &str, value: &serde_json::Value) -> Result<(), Error> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let io = |source| Error::Io { path: tmp.clone(), source };
    let mut f = BufWriter::new(File::create(&tmp).map_err(io)?);
    serde_json::to_writer_pretty(&mut f, value)
        .map_err(|source| Error::Json { path: tmp.clone(), source })?;
    f.write_all(b"\n").map_err(io)?;
    f.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(|source| Error::Io { path, source })
}

/// Create `path` and fill it through `f` (buffered, flushed).
pub fn write_file(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut w = BufWriter::new(File::create(path).map_err(io)?);
    f(&mut w).map_err(io)?;
    w.flush().map_err(io)
}
