//! Inventory file (CSV) uploads: the file is read whole, every row checked, and errors named by
//! row and column, before anything is stored. Rows are numbered as a spreadsheet shows them:
//! the header is row 1.

use crate::filter::clean_tags;
use crate::product::clean_name;
use crate::quantity::Quantity;
use crate::sku::Sku;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The most data rows one file may have.
pub const MAX_ROWS: usize = 100_000;
/// The largest file accepted, in bytes.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Errors reported in full; past this many the count still says how many there were.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// One checked row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRow {
    pub row: u32,
    pub sku: Sku,
    pub quantity: Quantity,
    /// Empty when the file has no name column (or the cell is blank).
    pub name: String,
    pub brand: String,
    pub supplier: String,
    pub tags: String,
}

/// What is wrong with one cell (or the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellError {
    /// 1 is the header row; 0 means the file as a whole.
    pub row: u32,
    pub column: String,
    pub message: String,
}

/// A file that cannot be applied: every problem found (up to [`MAX_REPORTED_ERRORS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileErrors {
    pub errors: Vec<CellError>,
    pub total: usize,
}

/// A file that can be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub rows: Vec<UploadRow>,
    /// Columns the file has that Tally does not read (e.g. an export's `auto_sync`).
    pub ignored_columns: Vec<String>,
}

const KNOWN: [&str; 6] = ["sku", "quantity", "name", "brand", "supplier", "tags"];

fn file_error(message: impl Into<String>) -> FileErrors {
    FileErrors {
        errors: vec![CellError {
            row: 0,
            column: String::new(),
            message: message.into(),
        }],
        total: 1,
    }
}

/// Reads and checks a whole file.
pub fn parse(bytes: &[u8]) -> Result<ParsedFile, FileErrors> {
    if bytes.len() > MAX_BYTES {
        return Err(file_error(format!(
            "the file is over the {} MB limit",
            MAX_BYTES / 1024 / 1024
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        file_error("the file is not UTF-8 text: save it as \"CSV UTF-8\" and upload again")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| file_error(format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(sku_col), Some(qty_col)) = (column("sku"), column("quantity")) else {
        return Err(FileErrors {
            errors: vec![CellError {
                row: 1,
                column: String::new(),
                message: format!(
                    "the header must name the columns sku and quantity (it has: {})",
                    header.join(", ")
                ),
            }],
            total: 1,
        });
    };
    let optional = |name: &str| column(name);
    let (name_col, brand_col, supplier_col, tags_col) = (
        optional("name"),
        optional("brand"),
        optional("supplier"),
        optional("tags"),
    );
    let ignored_columns = header
        .iter()
        .filter(|h| !KNOWN.contains(&h.as_str()))
        .cloned()
        .collect();

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut total_errors = 0;
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |errors: &mut Vec<CellError>, row: u32, column: &str, message: String| {
        total_errors += 1;
        if errors.len() < MAX_REPORTED_ERRORS {
            errors.push(CellError {
                row,
                column: column.to_owned(),
                message,
            });
        }
    };
    for (i, record) in reader.records().enumerate() {
        let row = i as u32 + 2;
        if rows.len() + 1 > MAX_ROWS {
            push(
                &mut errors,
                row,
                "",
                format!("the file has more than {MAX_ROWS} rows; split it"),
            );
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                push(
                    &mut errors,
                    row,
                    "",
                    format!("this row cannot be read: {e}"),
                );
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue; // Blank lines at the end of spreadsheets are common and mean nothing.
        }
        let cell = |c: Option<usize>| {
            let text = c.and_then(|c| record.get(c)).unwrap_or("").trim();
            crate::csv_export::unescape_formula(text).to_owned()
        };
        let sku = match Sku::parse(&cell(Some(sku_col))) {
            Ok(s) => Some(s),
            Err(e) => {
                push(&mut errors, row, "sku", e.to_string());
                None
            }
        };
        let quantity = match Quantity::parse(&cell(Some(qty_col))) {
            Ok(q) => Some(q),
            Err(e) => {
                push(&mut errors, row, "quantity", format!("quantity {e}"));
                None
            }
        };
        let raw_name = cell(name_col);
        let name = if raw_name.is_empty() {
            Ok(String::new())
        } else {
            clean_name(&raw_name).map_err(|e| e.to_string())
        };
        let name = match name {
            Ok(n) => n,
            Err(message) => {
                push(&mut errors, row, "name", message);
                String::new()
            }
        };
        let tags = match clean_tags(&[cell(tags_col)]) {
            Ok(t) => t.join(","),
            Err(e) => {
                push(&mut errors, row, "tags", e.message);
                String::new()
            }
        };
        let (Some(sku), Some(quantity)) = (sku, quantity) else {
            continue;
        };
        if !seen.insert(sku.as_str().to_owned()) {
            push(
                &mut errors,
                row,
                "sku",
                format!("SKU {sku} appears more than once in the file"),
            );
            continue;
        }
        rows.push(UploadRow {
            row,
            sku,
            quantity,
            name,
            brand: cell(brand_col).chars().take(100).collect(),
            supplier: cell(supplier_col).chars().take(100).collect(),
            tags,
        });
    }
    if total_errors > 0 {
        return Err(FileErrors {
            errors,
            total: total_errors,
        });
    }
    if rows.is_empty() {
        return Err(file_error("the file has a header but no rows"));
    }
    Ok(ParsedFile {
        rows,
        ignored_columns,
    })
}

/// The share of stocked products a file may set to 0 before applying it needs an explicit
/// confirmation (beyond ecomdash: a truncated export must not wipe a catalogue), unless the
/// account set its own (Settings › Inventory).
pub const DEFAULT_WIPE_GUARD_PERCENT: u64 = 20;

/// Whether setting `zeroing` of `stocked` products to 0 needs the seller to confirm, with the
/// guard at `percent` (100: never).
pub fn needs_wipe_confirmation(zeroing: u64, stocked: u64, percent: u64) -> bool {
    zeroing > 0 && zeroing * 100 > stocked * percent
}

/// Checks a wipe-guard share a seller entered: a whole percentage from 1 to 100.
pub fn check_wipe_guard_percent(percent: u64) -> Result<u64, &'static str> {
    if (1..=100).contains(&percent) {
        Ok(percent)
    } else {
        Err("The wipe guard is a percentage from 1 to 100 (100 turns it off).")
    }
}

fn default_wipe_guard() -> u64 {
    DEFAULT_WIPE_GUARD_PERCENT
}

/// `POST /api/v1/uploads/{id}/apply`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyUpload {
    /// Required when the preview's wipe guard is on.
    #[serde(default)]
    pub confirm_wipe: bool,
}

/// What applying a staged file will do, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPreview {
    pub id: i64,
    pub rows: u64,
    pub to_update: u64,
    pub to_create: u64,
    pub unchanged: u64,
    /// Products in stock now that the file sets to 0.
    pub zeroing: u64,
    /// Products in stock now, in the whole account.
    pub stocked: u64,
    /// True when applying needs `confirm_wipe`.
    pub wipe_guard: bool,
    /// The account's guard: the share of stocked products a file may zero unconfirmed.
    #[serde(default = "default_wipe_guard")]
    pub wipe_guard_percent: u64,
    pub ignored_columns: Vec<String>,
    /// `ready`, `applying` (a background job, see [`next_chunk`]) or `applied`.
    pub status: String,
    /// Rows applied so far: the job's progress (equal to `rows` once applied).
    #[serde(default)]
    pub applied_rows: u64,
}

/// Rows one step of applying a file writes in one transaction. A step is atomic and runs behind
/// a compare-and-set on the upload's cursor, so a repeated step writes nothing; small enough that
/// other writes to the database are never held up for long.
pub const APPLY_CHUNK_ROWS: u64 = 5_000;

/// The file lines (1-based, inclusive) the next step applies, or `None` when every row is applied.
pub fn next_chunk(applied_rows: u64, rows: u64) -> Option<(u64, u64)> {
    (applied_rows < rows).then(|| {
        (
            applied_rows + 1,
            (applied_rows + APPLY_CHUNK_ROWS).min(rows),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_applies_in_chunks_that_cover_every_line_once() {
        let mut applied = 0;
        let mut lines = Vec::new();
        while let Some((first, last)) = next_chunk(applied, 12_345) {
            assert!(last - first < APPLY_CHUNK_ROWS);
            lines.extend(first..=last);
            applied = last;
        }
        assert_eq!(lines, (1..=12_345).collect::<Vec<_>>());
        assert_eq!(next_chunk(0, 0), None);
        assert_eq!(next_chunk(3, 3), None);
        assert_eq!(next_chunk(0, 1), Some((1, 1)));
    }

    fn errors(csv: &str) -> Vec<(u32, String)> {
        parse(csv.as_bytes())
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| (e.row, e.column))
            .collect()
    }

    #[test]
    fn a_good_file_parses_with_optional_columns_and_ignores_unknown_ones() {
        let f =
            parse(b"\xef\xbb\xbfSKU, Quantity ,name,auto_sync\nA-1,5,Apple,on\nB-2, 0 ,,off\n\n")
                .unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].row, 2);
        assert_eq!(f.rows[0].name, "Apple");
        assert_eq!(f.rows[1].quantity.get(), 0);
        assert_eq!(f.ignored_columns, vec!["auto_sync"]);
    }

    #[test]
    fn every_bad_cell_is_named_by_row_and_column() {
        let csv = "sku,quantity\nA,1\n,2\nB,-1\nC,1.5\nA,3\nD,\n";
        assert_eq!(
            errors(csv),
            vec![
                (3, "sku".into()),
                (4, "quantity".into()),
                (5, "quantity".into()),
                (6, "sku".into()),
                (7, "quantity".into())
            ]
        );
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_at_the_header() {
        assert_eq!(errors("code,count\nA,1\n"), vec![(1, String::new())]);
    }

    #[test]
    fn binary_empty_and_headless_files_are_refused() {
        assert!(parse(&[0xff, 0xfe, 0x00]).is_err());
        assert!(parse(b"sku,quantity\n").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn only_the_first_hundred_errors_are_listed_but_all_are_counted() {
        let mut csv = String::from("sku,quantity\n");
        for i in 0..150 {
            csv.push_str(&format!("S{i},x\n"));
        }
        let e = parse(csv.as_bytes()).unwrap_err();
        assert_eq!(e.errors.len(), 100);
        assert_eq!(e.total, 150);
    }

    #[test]
    fn the_wipe_guard_trips_past_a_fifth_of_stocked_products() {
        assert!(!needs_wipe_confirmation(0, 100, 20));
        assert!(!needs_wipe_confirmation(20, 100, 20));
        assert!(needs_wipe_confirmation(21, 100, 20));
        assert!(!needs_wipe_confirmation(50, 100, 50));
        assert!(needs_wipe_confirmation(51, 100, 50));
        assert!(
            !needs_wipe_confirmation(100, 100, 100),
            "100% turns the guard off"
        );
        assert!(check_wipe_guard_percent(0).is_err());
        assert!(check_wipe_guard_percent(101).is_err());
        assert_eq!(check_wipe_guard_percent(35), Ok(35));
        assert!(
            needs_wipe_confirmation(1, 1, 20),
            "the only stocked product set to 0"
        );
    }
}
