//! `timeseries.csv` of an `authbench load` run, read by column name (order free, unknown columns
//! ignored, empty cells = not sampled), so the report follows the generator's columns as they grow.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Error;

/// The per-second rows of one load run, column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeseries {
    /// Seconds since the load started, one per row.
    pub t_s: Vec<f64>,
    columns: HashMap<String, Vec<Option<f64>>>,
}

impl Timeseries {
    pub fn read(path: &Path) -> Result<Timeseries, Error> {
        let csv_err = |source| Error::Csv { path: path.to_path_buf(), source };
        let file =
            std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Timeseries::from_reader(file).map_err(csv_err)
    }

    pub fn from_reader(r: impl std::io::Read) -> Result<Timeseries, csv::Error> {
        let mut reader = csv::Reader::from_reader(r);
        let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
        let mut columns: HashMap<String, Vec<Option<f64>>> =
            headers.iter().map(|h| (h.clone(), Vec::new())).collect();
        for record in reader.records() {
            let record = record?;
            for (h, cell) in headers.iter().zip(record.iter()) {
                let value = match cell.trim() {
                    "true" => Some(1.0),
                    "false" => Some(0.0),
                    c => c.parse::<f64>().ok(),
                };
                columns.get_mut(h).expect("every header has a column").push(value);
            }
        }
        let t_s =
            columns.get("t_s").map(|c| c.iter().map(|v| v.unwrap_or(f64::NAN)).collect()).unwrap_or_default();
        Ok(Timeseries { t_s, columns })
    }

    /// `(t, value)` of a column where it was sampled; empty if the column is absent.
    pub fn series(&self, column: &str) -> Vec<(f64, f64)> {
        self.columns
            .get(column)
            .map(|c| {
                self.t_s
                    .iter()
                    .zip(c)
                    .filter_map(|(&t, v)| v.filter(|v| v.is_finite()).map(|v| (t, v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a column has any sample other than 0.
    pub fn has_nonzero(&self, column: &str) -> bool {
        self.series(column).iter().any(|&(_, v)| v != 0.0)
    }

    /// Column names starting with `prefix`, in a stable order.
    pub fn columns_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self.columns.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        names.sort();
        names
    }

    pub fn rows(&self) -> usize {
        self.t_s.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_name_with_gaps() {
        let text = "t_s,me_rps,server_rss_bytes,gen_saturated\n1.0,10,,false\n2.0,12.5,4096,true\n";
        let ts = Timeseries::from_reader(text.as_bytes()).unwrap();
        assert_eq!(ts.rows(), 2);
        assert_eq!(ts.series("me_rps"), vec![(1.0, 10.0), (2.0, 12.5)]);
        assert_eq!(ts.series("server_rss_bytes"), vec![(2.0, 4096.0)]);
        assert!(ts.has_nonzero("gen_saturated"));
        assert!(ts.series("absent").is_empty());
    }
}
