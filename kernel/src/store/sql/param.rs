//! Query parameters: Lua values become owned, typed values that are always bound, never spliced
//! into SQL text. `?` placeholders work on every backend (rewritten to `$n` for PostgreSQL).

use mlua::Value;

/// One bound parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// A Lua string that is not UTF-8, or one wrapped with `sql.blob`.
    Bytes(Vec<u8>),
}

/// Marks a Lua string as binary (BLOB / BYTEA / VARBINARY) even when it is valid UTF-8.
pub struct Blob(pub Vec<u8>);

impl mlua::UserData for Blob {}

impl Param {
    pub fn from_lua(v: &Value, index: usize) -> mlua::Result<Param> {
        Ok(match v {
            Value::Nil => Param::Null,
            Value::Boolean(b) => Param::Bool(*b),
            Value::Integer(i) => Param::Int(*i),
            Value::Number(n) => Param::Float(*n),
            Value::String(s) => match std::str::from_utf8(&s.as_bytes()) {
                Ok(t) => Param::Text(t.to_string()),
                Err(_) => Param::Bytes(s.as_bytes().to_vec()),
            },
            Value::UserData(ud) if ud.is::<Blob>() => Param::Bytes(ud.borrow::<Blob>()?.0.clone()),
            other => {
                return Err(mlua::Error::runtime(format!(
                "sql parameter #{index} is a {} (use nil, booleans, numbers, strings or sql.blob)",
                other.type_name()
            )))
            }
        })
    }
}

/// Rewrite `?` placeholders to `$1, $2, ...` for PostgreSQL, leaving string literals, quoted
/// identifiers, dollar-quoted bodies and comments alone. SQL that already uses `$n` is returned
/// unchanged, so PostgreSQL's own `?` operators (jsonb) stay usable with `$n` parameters.
pub fn dollar_placeholders(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut i, mut n, mut copied) = (0, 0, 0);
    let mut saw_dollar_param = false;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => i = skip_quoted(b, i, q),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p + 1)
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2)
            }
            b'$' => match dollar_tag(b, i) {
                Some(tag_end) => {
                    let tag = &b[i..tag_end];
                    i = find(b, tag_end, tag).map_or(b.len(), |p| p + tag.len());
                }
                None => {
                    saw_dollar_param |= b.get(i + 1).is_some_and(u8::is_ascii_digit);
                    i += 1;
                }
            },
            b'?' => {
                n += 1;
                out.push_str(&sql[copied..i]);
                out.push('$');
                out.push_str(&n.to_string());
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    if saw_dollar_param || n == 0 {
        return sql.to_string();
    }
    out.push_str(&sql[copied..]);
    out
}

/// End of a quoted run starting at `i` (a doubled quote is an escaped quote).
fn skip_quoted(b: &[u8], mut i: usize, q: u8) -> usize {
    i += 1;
    while i < b.len() {
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// `$tag$` or `$$` at `i`: returns the index just past the opening tag.
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        if j == i + 1 && b[j].is_ascii_digit() {
            return None;
        }
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::dollar_placeholders as d;

    #[test]
    fn rewrites_only_real_placeholders() {
        assert_eq!(
            d("SELECT * FROM t WHERE a = ? AND b = ?"),
            "SELECT * FROM t WHERE a = $1 AND b = $2"
        );
        assert_eq!(
            d("SELECT '?', \"a?\" FROM t WHERE x = ?"),
            "SELECT '?', \"a?\" FROM t WHERE x = $1"
        );
        assert_eq!(
            d("SELECT 'it''s ?' -- why?\n, ? /* ? */"),
            "SELECT 'it''s ?' -- why?\n, $1 /* ? */"
        );
        assert_eq!(
            d("SELECT $$ ? $$, $q$ ? $q$, ?"),
            "SELECT $$ ? $$, $q$ ? $q$, $1"
        );
        assert_eq!(
            d("SELECT data ? 'k' FROM t WHERE id = $1"),
            "SELECT data ? 'k' FROM t WHERE id = $1"
        );
        assert_eq!(d("SELECT 1"), "SELECT 1");
    }
}
