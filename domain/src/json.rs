//! Reading the worker's JSON answers in the SPA with `serde_json`, objects as objects only.
//!
//! JSON allows a struct to arrive as an array of its fields (`[1, "x"]`), so for every struct
//! `serde_json` compiles a second reader next to the one for objects. The worker only ever
//! sends objects, and that unused reader was a large share of the SPA's wasm (which has a size
//! budget). [`from_str`] reads through [`Objects`], which passes every request on to
//! `serde_json` unchanged except one: a struct is read as a map. The array reader is then never
//! compiled; an array where a struct belongs is refused with serde's usual "invalid type" error.
//! (Types serde reads through its buffered form — internally tagged or untagged enums,
//! `flatten` — still accept either; none of the SPA's wire types is one.)

use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, Error, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use std::fmt;

/// Reads `text` as a `T`; the whole text must be one JSON value.
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Objects(&mut reader))?;
    reader.end()?;
    Ok(value)
}

/// Wraps each part of `serde_json`'s reading (the reader, visitors, seeds, map, sequence and
/// enum access) so that whatever is read inside a value is read through [`Objects`] too.
struct Objects<T>(T);

/// Passes `deserialize_*` calls on with the visitor wrapped.
macro_rules! pass_on {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method($($arg,)* Objects(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Objects<D> {
    type Error = D::Error;

    /// The one change: a struct is a map.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Objects(visitor))
    }

    pass_on! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Passes plain `visit_*` calls on unchanged.
macro_rules! visit_plain {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: Error>(self, v: $ty) -> Result<V::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Objects<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    visit_plain! {
        visit_bool(bool);
        visit_i64(i64);
        visit_i128(i128);
        visit_u64(u64);
        visit_u128(u128);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Objects(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Objects(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Objects(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Objects(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Objects(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Objects<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Objects(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Objects(seed))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Objects<A> {
    type Error = A::Error;
    type Variant = Objects<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Objects(seed))?;
        Ok((value, Objects(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(Objects(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Objects(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Objects(visitor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ErrorBody, Listing, ProductPage, Storefront};
    use std::fmt::Debug;

    /// Reads `text` both ways and expects the same value.
    fn reads_as_serde_json_does<T: DeserializeOwned + PartialEq + Debug>(text: &str) -> T {
        let ours: T = from_str(text).expect("reads");
        let theirs: T = serde_json::from_str(text).expect("serde_json reads it");
        assert_eq!(ours, theirs);
        ours
    }

    const PRODUCT: &str = r#"{"id":7,"sku":"MUG-1","name":"Mug \"large\" \u00e9","quantity":5.0,
        "auto_sync":true,"created_via":"file_upload","brand":"","supplier":"Acme",
        "tags":["kitchen","gift"],"version":3,"created_at":1,"updated_at":2,"unknown":[1,{"a":null}]}"#;

    #[test]
    fn nested_objects_arrays_enums_and_escapes_read_as_with_serde_json() {
        let page: ProductPage = reads_as_serde_json_does(&format!(
            r#"{{"items":[{PRODUCT},{PRODUCT}],"page":1,"per_page":25,"total":2}}"#
        ));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].name, "Mug \"large\" é");
        assert_eq!(page.items[0].quantity.get(), 5);
        assert_eq!(page.items[1].tags, ["kitchen", "gift"]);
    }

    #[test]
    fn options_defaults_and_rule_steps_read_as_with_serde_json() {
        let storefront: Storefront = reads_as_serde_json_does(
            r#"{"id":1,"name":"Shop","kind":"shopify","base_url":"https://x","store_ref":null,
                "rules":{"reserve":2},"active":true,"has_credential":false,"listings":0,
                "created_at":1,"updated_at":1}"#,
        );
        assert_eq!(storefront.rules.reserve, Some(2));
        assert_eq!(storefront.rules.maximum, None);
        let listing: Listing = reads_as_serde_json_does(
            r#"{"id":1,"product_id":7,"sku":"MUG-1","storefront_id":1,"storefront_name":"Shop",
                "kind":"ebay","external_id":"123","external_sub_id":"A","rules":{},"active":true,
                "channel_quantity":{"on_hand":12,"quantity":5,"steps":[
                    {"rule":"reserve","units":2,"after":10},{"rule":"percentage","percent":50,"after":5}]},
                "pushed_quantity":5,"pushed_at":null}"#,
        );
        assert_eq!(listing.channel_quantity.steps.len(), 2);
        let refusal: ErrorBody = reads_as_serde_json_does(
            r#"{"error":{"code":"bad_file","message":"2 rows","rows":[
                {"row":2,"column":"quantity","message":"not a number"}]}}"#,
        );
        assert_eq!(refusal.error.rows.unwrap()[0].row, 2);
    }

    #[test]
    fn a_struct_sent_as_an_array_is_refused() {
        let err = from_str::<ErrorBody>(r#"[{"code":"x","message":"y"}]"#).unwrap_err();
        assert!(err.to_string().contains("invalid type: sequence"), "{err}");
        assert!(serde_json::from_str::<ErrorBody>(r#"[{"code":"x","message":"y"}]"#).is_ok());
    }

    #[test]
    fn bad_json_is_refused_with_serde_json_s_message() {
        for text in [
            r#"{"error":{"code":"x","message":7}}"#,
            r#"{"error":{"code":"x"}}"#,
            r#"{"error":{"code":"x","message":"y"}} trailing"#,
            r#"{"error":"#,
        ] {
            let ours = from_str::<ErrorBody>(text).unwrap_err().to_string();
            let theirs = serde_json::from_str::<ErrorBody>(text)
                .unwrap_err()
                .to_string();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
