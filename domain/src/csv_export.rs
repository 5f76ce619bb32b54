//! CSV export of products: the columns an inventory file upload reads back, so an export can be
//! edited and uploaded again.

use crate::api::Product;

/// The header row.
pub const HEADER: [&str; 8] = [
    "sku",
    "name",
    "quantity",
    "auto_sync",
    "created_via",
    "brand",
    "supplier",
    "tags",
];

/// How cells that a spreadsheet would run as a formula are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formulas {
    /// Prefixed with `'` (a cell starting `=`, `+`, `-`, `@`, tab or carriage return), so
    /// opening the file in a spreadsheet shows the text instead of running it (CSV injection).
    Escape,
    /// As stored, for a file meant to be uploaded again unchanged.
    Keep,
}

/// How a cell a spreadsheet would run as a formula starts.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as `formulas` says to write it.
fn cell(text: &str, formulas: Formulas) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(FORMULA_STARTS);
    if formulas == Formulas::Escape && risky {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell as an export escaped it, back as stored: one leading `'` before what a spreadsheet
/// would run is dropped, so a file exported (safe to open in a spreadsheet) uploads unchanged.
pub fn unescape_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Writes products as CSV rows (with the header when `header` is true).
pub fn write(products: &[Product], header: bool, formulas: Formulas) -> String {
    let mut out = csv::WriterBuilder::new().from_writer(Vec::new());
    if header {
        // Writing to a Vec cannot fail.
        let _ = out.write_record(HEADER);
    }
    for p in products {
        let quantity = p.quantity.to_string();
        let tags = p.tags.join(",");
        let _ = out.write_record([
            cell(p.sku.as_str(), formulas).as_ref(),
            &cell(&p.name, formulas),
            &quantity,
            if p.auto_sync { "on" } else { "off" },
            p.created_via.as_str(),
            &cell(&p.brand, formulas),
            &cell(&p.supplier, formulas),
            &cell(&tags, formulas),
        ]);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CreatedVia, ProductId, Quantity, Sku};

    /// A product with these texts, 4 on hand.
    fn product(sku: &str, name: &str, brand: &str, supplier: &str, tags: &[&str]) -> Product {
        Product {
            id: ProductId(1),
            sku: Sku::parse(sku).unwrap(),
            name: name.into(),
            quantity: Quantity::new(4).unwrap(),
            auto_sync: false,
            created_via: CreatedVia::Manual,
            brand: brand.into(),
            supplier: supplier.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            version: 1,
            archived: false,
            listings: 0,
            last_push: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn products_export_with_quoting_where_needed() {
        let p = Product {
            auto_sync: true,
            created_via: CreatedVia::FileUpload,
            ..product("TEE-1", "Tee, \"classic\"", "Acme", "", &["summer", "sale"])
        };
        let csv = write(&[p], true, Formulas::Escape);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("sku,name,quantity,auto_sync,created_via,brand,supplier,tags")
        );
        assert_eq!(
            lines.next(),
            Some("TEE-1,\"Tee, \"\"classic\"\"\",4,on,file_upload,Acme,,\"summer,sale\"")
        );
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_escaped_unless_kept_for_reupload() {
        let p = product(
            "-MUG",
            "=HYPERLINK(\"http://evil.example\",\"Click\")",
            "@acme",
            "+1 supplies",
            &["safe"],
        );
        let escaped = write(std::slice::from_ref(&p), false, Formulas::Escape);
        assert_eq!(
            escaped.trim_end(),
            "'-MUG,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",4,off,manual,'@acme,'+1 supplies,safe"
        );
        let kept = write(&[p], false, Formulas::Keep);
        assert!(kept.starts_with("-MUG,\"=HYPERLINK("), "{kept}");
        // Uploaded again, the escaped cells read as stored.
        assert_eq!(unescape_formula("'-MUG"), "-MUG");
        assert_eq!(unescape_formula("'@acme"), "@acme");
        assert_eq!(unescape_formula("'quoted"), "'quoted");
        assert_eq!(unescape_formula("plain"), "plain");
    }
}
