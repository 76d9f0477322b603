//! `cirrus sproto check FILE` and `cirrus sproto dump FILE`.

use super::schema::{FieldType, Sproto};
use anyhow::{anyhow, Context};
use std::fmt::Write;
use std::path::Path;

/// Load a schema file: text is parsed; anything that is not UTF-8 text is read as a
/// binary bundle (the output of `sprotoparser.parse`).
fn load(path: &Path) -> anyhow::Result<Sproto> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match String::from_utf8(raw) {
        Ok(text) => Sproto::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display())),
        Err(e) => Sproto::from_bundle(e.as_bytes()).map_err(|e| anyhow!("{}: {e}", path.display())),
    }
}

/// Validate a schema; the summary names counts and the bundle size.
pub fn cli_check(path: &Path) -> anyhow::Result<String> {
    let sp = load(path)?;
    Ok(format!(
        "{}: ok ({} types, {} protocols, {} byte bundle)",
        path.display(),
        sp.types().len(),
        sp.protocols().len(),
        sp.to_bundle().len()
    ))
}

/// Print every type and protocol in readable form.
pub fn cli_dump(path: &Path) -> anyhow::Result<String> {
    Ok(dump(&load(path)?))
}

/// Types (full names, fields by tag) then protocols (by tag).
pub fn dump(sp: &Sproto) -> String {
    let mut s = String::new();
    let name = |ty: FieldType| match ty {
        FieldType::Integer => "integer",
        FieldType::Boolean => "boolean",
        FieldType::String => "string",
        FieldType::Double => "double",
        FieldType::Struct(i) => &sp.types()[i].name,
    };
    let _ = writeln!(s, "=== {} types ===", sp.types().len());
    for t in sp.types() {
        let _ = writeln!(s, "{}", t.name);
        for f in &t.fields {
            let ty = if f.binary { "binary" } else { name(f.ty) };
            let star = if f.array { "*" } else { "" };
            let extra = match (f.decimal, f.key, f.map) {
                (Some(d), _, _) => format!("({d})"),
                (_, Some(_), true) => "()".to_string(),
                (_, Some(k), false) => match f.ty {
                    FieldType::Struct(i) => sp.types()[i]
                        .fields
                        .iter()
                        .find(|g| g.tag == k)
                        .map_or(String::new(), |g| format!("({})", g.name)),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            let _ = writeln!(s, "    {} {} : {star}{ty}{extra}", f.name, f.tag);
        }
    }
    let _ = writeln!(s, "=== {} protocols ===", sp.protocols().len());
    for p in sp.protocols() {
        let _ = write!(s, "{} {}", p.name, p.tag);
        if let Some(t) = p.request {
            let _ = write!(s, "  request {}", sp.types()[t].name);
        }
        match p.response {
            Some(t) => {
                let _ = write!(s, "  response {}", sp.types()[t].name);
            }
            None if p.confirm => s.push_str("  response nil"),
            None => {}
        }
        s.push('\n');
    }
    s
}
