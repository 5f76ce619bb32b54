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

/// Writes products as CSV rows (with the header when `header` is true).
pub fn write(products: &[Product], header: bool) -> String {
    let mut out = csv::WriterBuilder::new().from_writer(Vec::new());
    if header {
        // Writing to a Vec cannot fail.
        let _ = out.write_record(HEADER);
    }
    for p in products {
        let quantity = p.quantity.to_string();
        let tags = p.tags.join(",");
        let _ = out.write_record([
            p.sku.as_str(),
            &p.name,
            &quantity,
            if p.auto_sync { "on" } else { "off" },
            p.created_via.as_str(),
            &p.brand,
            &p.supplier,
            &tags,
        ]);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CreatedVia, ProductId, Quantity, Sku};

    #[test]
    fn products_export_with_quoting_where_needed() {
        let p = Product {
            id: ProductId(1),
            sku: Sku::parse("TEE-1").unwrap(),
            name: "Tee, \"classic\"".into(),
            quantity: Quantity::new(4).unwrap(),
            auto_sync: true,
            created_via: CreatedVia::FileUpload,
            brand: "Acme".into(),
            supplier: String::new(),
            tags: vec!["summer".into(), "sale".into()],
            version: 1,
            created_at: 0,
            updated_at: 0,
        };
        let csv = write(&[p], true);
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
}
