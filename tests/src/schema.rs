//! A small JSON Schema check for the OpenAPI test: types (including `["string", "null"]`),
//! required properties, array items, enums and `$ref` into `components/schemas`. Enough to catch
//! a document that drifts from what the worker really answers.

use serde_json::Value;

/// Checks `value` against `schema`; returns every mismatch with its JSON path.
pub fn check(doc: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, path);
    }
    let mut problems = Vec::new();
    if let Some(t) = schema.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits =
            allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !fits {
            problems.push(format!(
                "{path}: {actual} where the document says {allowed:?}"
            ));
            return problems;
        }
    }
    if let (Some(options), Some(v)) = (schema.get("enum").and_then(Value::as_array), Some(value)) {
        if !options.contains(v) {
            problems.push(format!("{path}: {v} is not one of {options:?}"));
        }
    }
    if let Value::Object(map) = value {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap_or_default();
            if !map.contains_key(key) {
                problems.push(format!("{path}.{key}: missing"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (key, sub) in props {
                if let Some(v) = map.get(key) {
                    problems.extend(check(doc, sub, v, &format!("{path}.{key}")));
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            problems.extend(check(doc, item_schema, item, &format!("{path}[{i}]")));
        }
    }
    problems
}
