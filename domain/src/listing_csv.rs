//! Linking many listings at once from a CSV file: `sku,storefront,external_id,external_sub_id`.
//!
//! Like inventory files, a listings file is linked whole or not at all, and every problem is
//! reported by row and column so the seller can fix the file in one pass.

use crate::csv_import::{CellError, FileErrors};
use crate::storefront::{ListingRef, StorefrontKind};

/// The most rows one file may link.
pub const MAX_ROWS: usize = 5_000;

/// Errors listed per file (all are counted).
const MAX_REPORTED: usize = 100;

/// One row as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingLine {
    /// The file's row number (1 is the header).
    pub row: u32,
    pub sku: String,
    /// A storefront's name (as in Settings › Storefronts) or its id.
    pub storefront: String,
    pub external_id: String,
    pub external_sub_id: Option<String>,
}

/// A row with its product and storefront found and its ids checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingLink {
    pub row: u32,
    pub product_id: i64,
    pub storefront_id: i64,
    pub ids: ListingRef,
}

struct Errors(Vec<CellError>, usize);

impl Errors {
    fn add(&mut self, row: u32, column: &str, message: impl Into<String>) {
        self.1 += 1;
        if self.0.len() < MAX_REPORTED {
            self.0.push(CellError {
                row,
                column: column.to_owned(),
                message: message.into(),
            });
        }
    }

    fn finish<T>(self, value: T) -> Result<T, FileErrors> {
        if self.1 == 0 {
            Ok(value)
        } else {
            Err(FileErrors {
                errors: self.0,
                total: self.1,
            })
        }
    }
}

/// Reads the file: a header with at least `sku`, `storefront` and `external_id` (any order,
/// any case), then one listing per row.
pub fn parse(bytes: &[u8]) -> Result<Vec<ListingLine>, FileErrors> {
    let mut errors = Errors(Vec::new(), 0);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(_) => {
            errors.add(
                0,
                "",
                "The file is not readable CSV (save it as UTF-8 CSV).",
            );
            return errors.finish(Vec::new());
        }
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(sku), Some(store), Some(id)) =
        (column("sku"), column("storefront"), column("external_id"))
    else {
        errors.add(
            1,
            "",
            "The header needs the columns sku, storefront and external_id.",
        );
        return errors.finish(Vec::new());
    };
    let sub = column("external_sub_id");
    let mut lines = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = u32::try_from(i + 2).unwrap_or(u32::MAX);
        let Ok(record) = record else {
            errors.add(row, "", "This row is not readable CSV.");
            continue;
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |c: usize| record.get(c).unwrap_or("").to_owned();
        let line = ListingLine {
            row,
            sku: cell(sku),
            storefront: cell(store),
            external_id: cell(id),
            external_sub_id: sub.map(cell).filter(|s| !s.is_empty()),
        };
        if line.sku.is_empty() {
            errors.add(row, "sku", "The SKU is empty.");
        }
        if line.storefront.is_empty() {
            errors.add(
                row,
                "storefront",
                "Name the storefront (as in Settings › Storefronts).",
            );
        }
        lines.push(line);
    }
    if lines.is_empty() && errors.1 == 0 {
        errors.add(0, "", "The file has no listings.");
    }
    if lines.len() > MAX_ROWS {
        errors.add(
            0,
            "",
            format!("A file may link at most {MAX_ROWS} listings; split it."),
        );
    }
    errors.finish(lines)
}

/// Finds each row's product and storefront and checks its ids for the platform. `product` maps
/// a SKU to a product id; `storefront` maps a name or id to the storefront's id and kind.
/// Two rows naming the same storefront item are refused.
pub fn resolve(
    lines: &[ListingLine],
    product: impl Fn(&str) -> Option<i64>,
    storefront: impl Fn(&str) -> Option<(i64, StorefrontKind)>,
) -> Result<Vec<ListingLink>, FileErrors> {
    let mut errors = Errors(Vec::new(), 0);
    let mut links: Vec<ListingLink> = Vec::new();
    for line in lines {
        let product_id = product(&line.sku);
        if product_id.is_none() {
            errors.add(
                line.row,
                "sku",
                format!("No product has the SKU {}.", line.sku),
            );
        }
        let Some((storefront_id, kind)) = storefront(&line.storefront) else {
            errors.add(
                line.row,
                "storefront",
                format!("No storefront is called {}.", line.storefront),
            );
            continue;
        };
        let ids = match ListingRef::parse(kind, &line.external_id, line.external_sub_id.as_deref())
        {
            Ok(ids) => ids,
            Err(e) => {
                errors.add(line.row, e.field(), e.to_string());
                continue;
            }
        };
        if let Some(first) = links
            .iter()
            .find(|l| l.storefront_id == storefront_id && l.ids == ids)
        {
            errors.add(
                line.row,
                "external_id",
                format!("Row {} already links this storefront item.", first.row),
            );
            continue;
        }
        if let Some(product_id) = product_id {
            links.push(ListingLink {
                row: line.row,
                product_id,
                storefront_id,
                ids,
            });
        }
    }
    errors.finish(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str) -> Option<i64> {
        (sku == "MUG-1").then_some(7)
    }

    fn storefront(name: &str) -> Option<(i64, StorefrontKind)> {
        match name {
            "Main Shopify" | "3" => Some((3, StorefrontKind::Shopify)),
            "Woo" => Some((4, StorefrontKind::Woocommerce)),
            _ => None,
        }
    }

    #[test]
    fn a_good_file_links_every_row_by_name_or_id() {
        let file = b"SKU,Storefront,External_ID,External_Sub_ID\nMUG-1,Main Shopify,401,77\nMUG-1,Woo,55,\n";
        let lines = parse(file).unwrap();
        assert_eq!(lines.len(), 2);
        let links = resolve(&lines, product, storefront).unwrap();
        assert_eq!(links[0].storefront_id, 3);
        assert_eq!(links[0].ids.external_sub_id.as_deref(), Some("77"));
        assert_eq!(links[1].ids.external_sub_id, None);
        assert_eq!(links[1].row, 3);
    }

    #[test]
    fn every_bad_cell_is_reported_by_row_and_column() {
        let file = b"sku,storefront,external_id,external_sub_id\nNOPE,Woo,5,\nMUG-1,Etsy,5,\nMUG-1,3,401,\nMUG-1,Woo,abc,\nMUG-1,Woo,9,\nMUG-1,Woo,9,\n";
        let lines = parse(file).unwrap();
        let errors = resolve(&lines, product, storefront).unwrap_err();
        let cells: Vec<(u32, &str)> = errors
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(
            cells,
            [
                (2, "sku"),
                (3, "storefront"),
                (4, "external_sub_id"),
                (5, "external_id"),
                (7, "external_id")
            ]
        );
        assert!(errors.errors[4].message.contains("Row 6"));
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_at_the_header() {
        let errors = parse(b"sku,quantity\nA,1\n").unwrap_err();
        assert_eq!(errors.errors[0].row, 1);
        assert!(errors.errors[0].message.contains("storefront"));
        assert_eq!(parse(b"sku,storefront,external_id\n").unwrap_err().total, 1);
    }
}
