//! Schema text -> [`Sproto`]: a small lexer and recursive descent over cloudwu's grammar.
//!
//! Naming follows cloudwu's `sprotoparser` so bundles match byte for byte: nested types are
//! `Outer.Inner`, inline protocol types are `proto.request` / `proto.response`, a type name
//! resolves from the innermost enclosing scope outwards, and types are numbered in byte order
//! of their full names.

use super::error::ParseError;
use super::schema::{Field, FieldType, Protocol, Sproto, Type, MAX_DECIMAL, MAX_TAG};
use std::collections::BTreeMap;

const BUILTINS: [&str; 5] = ["integer", "boolean", "string", "binary", "double"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A word, possibly dotted (`Outer.Inner`).
    Ident(String),
    Number(u64),
    LBrace,
    RBrace,
    Colon,
    Star,
    LParen,
    RParen,
    Dot,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Number(n) => format!("'{n}'"),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::Colon => "':'".into(),
            Tok::Star => "'*'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Dot => "'.'".into(),
            Tok::Eof => "end of input".into(),
        }
    }
}

fn fail<T>(line: usize, reason: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        reason: reason.into(),
    })
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let src = text.as_bytes();
    let (mut i, mut line) = (0, 1);
    let mut out = Vec::new();
    while i < src.len() {
        let c = src[i];
        let tok = match c {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b':' => Tok::Colon,
            b'*' => Tok::Star,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'.' => Tok::Dot,
            b'0'..=b'9' => {
                let start = i;
                while i < src.len() && src[i].is_ascii_digit() {
                    i += 1;
                }
                match text[start..i].parse() {
                    Ok(n) => out.push((Tok::Number(n), line)),
                    Err(_) => return fail(line, format!("number {} too large", &text[start..i])),
                }
                continue;
            }
            c if is_word_start(c) => {
                let start = i;
                loop {
                    while i < src.len() && is_word(src[i]) {
                        i += 1;
                    }
                    if i + 1 < src.len() && src[i] == b'.' && is_word_start(src[i + 1]) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push((Tok::Ident(text[start..i].to_string()), line));
                continue;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return fail(line, format!("unexpected character '{ch}'"));
            }
        };
        out.push((tok, line));
        i += 1;
    }
    out.push((Tok::Eof, line));
    Ok(out)
}

#[derive(Debug)]
enum Paren {
    /// `*Type(key)`, or `*Type()` when empty.
    Key(String),
    /// `integer(N)`.
    Decimal(u64),
}

#[derive(Debug)]
struct FieldDef {
    name: String,
    line: usize,
    tag: u64,
    array: bool,
    ty: String,
    paren: Option<Paren>,
}

#[derive(Debug, Default)]
struct TypeDef {
    name: String,
    line: usize,
    fields: Vec<FieldDef>,
    nested: Vec<TypeDef>,
}

#[derive(Debug)]
enum SubDef {
    Named(String, usize),
    Inline(TypeDef),
    Nil,
}

#[derive(Debug)]
struct ProtoDef {
    name: String,
    line: usize,
    tag: u64,
    request: Option<SubDef>,
    response: Option<SubDef>,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn line(&self) -> usize {
        self.toks[self.at].1
    }

    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn expect(&mut self, want: Tok, context: &str) -> Result<(), ParseError> {
        let (tok, line) = self.bump();
        if tok == want {
            Ok(())
        } else {
            fail(
                line,
                format!(
                    "expected {} {context}, found {}",
                    want.describe(),
                    tok.describe()
                ),
            )
        }
    }

    /// An identifier that may be dotted (type references).
    fn ident(&mut self, what: &str) -> Result<(String, usize), ParseError> {
        match self.bump() {
            (Tok::Ident(s), line) => Ok((s, line)),
            (tok, line) => fail(line, format!("expected {what}, found {}", tok.describe())),
        }
    }

    /// An identifier that names something new, so must not be dotted.
    fn name(&mut self, what: &str) -> Result<(String, usize), ParseError> {
        let (s, line) = self.ident(what)?;
        if s.contains('.') {
            return fail(line, format!("{what} '{s}' must not contain '.'"));
        }
        Ok((s, line))
    }

    fn number(&mut self, what: &str) -> Result<u64, ParseError> {
        match self.bump() {
            (Tok::Number(n), _) => Ok(n),
            (tok, line) => fail(line, format!("expected {what}, found {}", tok.describe())),
        }
    }

    fn top(&mut self) -> Result<(Vec<TypeDef>, Vec<ProtoDef>), ParseError> {
        let (mut types, mut protos) = (Vec::new(), Vec::new());
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    let (name, line) = self.name("type name")?;
                    types.push(self.body(name, line)?);
                }
                Tok::Ident(_) => protos.push(self.protocol()?),
                Tok::Eof => return Ok((types, protos)),
                tok => {
                    let msg = format!("expected '.Type' or a protocol, found {}", tok.describe());
                    return fail(self.line(), msg);
                }
            }
        }
    }

    /// `{ field | .Nested ... }`
    fn body(&mut self, name: String, line: usize) -> Result<TypeDef, ParseError> {
        self.expect(Tok::LBrace, &format!("after type {name}"))?;
        let mut t = TypeDef {
            name,
            line,
            fields: Vec::new(),
            nested: Vec::new(),
        };
        loop {
            match self.peek() {
                Tok::RBrace => {
                    self.bump();
                    return Ok(t);
                }
                Tok::Dot => {
                    self.bump();
                    let (name, line) = self.name("type name")?;
                    t.nested.push(self.body(name, line)?);
                }
                Tok::Ident(_) => t.fields.push(self.field()?),
                Tok::Eof => return fail(t.line, format!("type {} is missing its '}}'", t.name)),
                tok => {
                    let msg = format!(
                        "expected a field or '.Type' in {}, found {}",
                        t.name,
                        tok.describe()
                    );
                    return fail(self.line(), msg);
                }
            }
        }
    }

    /// `name tag : [*]type[(key|N)]`
    fn field(&mut self) -> Result<FieldDef, ParseError> {
        let (name, line) = self.name("field name")?;
        let tag = self.number(&format!("a tag after field {name}"))?;
        self.expect(Tok::Colon, &format!("after the tag of field {name}"))?;
        let array = *self.peek() == Tok::Star;
        if array {
            self.bump();
        }
        let (ty, _) = self.ident(&format!("the type of field {name}"))?;
        let mut paren = None;
        if *self.peek() == Tok::LParen {
            self.bump();
            paren = Some(match self.peek().clone() {
                Tok::Ident(k) => {
                    self.bump();
                    Paren::Key(k)
                }
                Tok::Number(n) => {
                    self.bump();
                    Paren::Decimal(n)
                }
                _ => Paren::Key(String::new()),
            });
            self.expect(Tok::RParen, &format!("in the type of field {name}"))?;
        }
        Ok(FieldDef {
            name,
            line,
            tag,
            array,
            ty,
            paren,
        })
    }

    /// `name tag { request X|{...}|nil  response X|{...}|nil }`
    fn protocol(&mut self) -> Result<ProtoDef, ParseError> {
        let (name, line) = self.name("protocol name")?;
        let tag = self.number(&format!("a tag after protocol {name}"))?;
        self.expect(Tok::LBrace, &format!("after protocol {name} {tag}"))?;
        let mut p = ProtoDef {
            name,
            line,
            tag,
            request: None,
            response: None,
        };
        loop {
            let (tok, line) = self.bump();
            let kind = match tok {
                Tok::RBrace => return Ok(p),
                Tok::Ident(k) if k == "request" || k == "response" => k,
                Tok::Eof => {
                    return fail(p.line, format!("protocol {} is missing its '}}'", p.name))
                }
                tok => {
                    let msg = format!(
                        "expected request or response in protocol {}, found {}",
                        p.name,
                        tok.describe()
                    );
                    return fail(line, msg);
                }
            };
            let sub = match self.peek().clone() {
                Tok::LBrace => SubDef::Inline(self.body(format!("{}.{kind}", p.name), line)?),
                Tok::Ident(t) if t == "nil" => {
                    self.bump();
                    SubDef::Nil
                }
                Tok::Ident(t) => {
                    self.bump();
                    SubDef::Named(t, line)
                }
                tok => {
                    let msg = format!("expected a type after {kind}, found {}", tok.describe());
                    return fail(self.line(), msg);
                }
            };
            let slot = if kind == "request" {
                &mut p.request
            } else {
                &mut p.response
            };
            if slot.replace(sub).is_some() {
                return fail(line, format!("redefine {kind} in protocol {}", p.name));
            }
        }
    }
}

/// A type under its full name, fields still unresolved.
struct Flat {
    fields: Vec<FieldDef>,
}

fn flatten(
    t: TypeDef,
    prefix: Option<&str>,
    out: &mut BTreeMap<String, Flat>,
) -> Result<(), ParseError> {
    let full = match prefix {
        Some(p) => format!("{p}.{}", t.name),
        None => t.name,
    };
    if BUILTINS.contains(&full.as_str()) {
        return fail(t.line, format!("type name {full} is a builtin type"));
    }
    if out.contains_key(&full) {
        return fail(t.line, format!("redefined type {full}"));
    }
    for (i, f) in t.fields.iter().enumerate() {
        if let Some(g) = t.fields[..i].iter().find(|g| g.name == f.name) {
            return fail(
                f.line,
                format!(
                    "redefine field {} in type {full} (first at line {})",
                    f.name, g.line
                ),
            );
        }
        if let Some(g) = t.fields[..i].iter().find(|g| g.tag == f.tag) {
            return fail(
                f.line,
                format!("redefine tag {} in type {full} (field {})", f.tag, g.name),
            );
        }
    }
    for n in t.nested {
        flatten(n, Some(&full), out)?;
    }
    out.insert(full, Flat { fields: t.fields });
    Ok(())
}

/// Resolve `name` seen inside type `scope`: innermost enclosing scope first, then global.
fn resolve<'a>(types: &'a BTreeMap<String, Flat>, scope: &str, name: &str) -> Option<&'a str> {
    let mut scope = Some(scope);
    while let Some(s) = scope {
        if let Some((k, _)) = types.get_key_value(format!("{s}.{name}").as_str()) {
            return Some(k);
        }
        scope = s.rsplit_once('.').map(|(outer, _)| outer);
    }
    types.get_key_value(name).map(|(k, _)| k.as_str())
}

fn builtin(name: &str) -> Option<(FieldType, bool)> {
    Some(match name {
        "integer" => (FieldType::Integer, false),
        "boolean" => (FieldType::Boolean, false),
        "string" => (FieldType::String, false),
        "binary" => (FieldType::String, true),
        "double" => (FieldType::Double, false),
        _ => return None,
    })
}

fn tag16(tag: u64, line: usize, what: &str) -> Result<u16, ParseError> {
    if tag > u64::from(MAX_TAG) {
        return fail(line, format!("{what} tag {tag} too large (max {MAX_TAG})"));
    }
    Ok(tag as u16)
}

/// The main index of `*Type(key)` / `*Type()`: (key tag, is two-field map).
fn main_index(
    types: &BTreeMap<String, Flat>,
    elem: &str,
    key: &str,
    f: &FieldDef,
) -> Result<(u16, bool), ParseError> {
    let fields = &types[elem].fields;
    let scalar = |g: &FieldDef| !g.array && builtin(&g.ty).is_some();
    if key.is_empty() {
        if fields.len() != 2 {
            let msg = format!(
                "{}: *{elem}() needs {elem} to have exactly two fields",
                f.name
            );
            return fail(f.line, msg);
        }
        let k = fields.iter().min_by_key(|g| g.tag).expect("two fields");
        if !scalar(k) {
            let msg = format!(
                "{}: map key {elem}.{} must be a non-array builtin",
                f.name, k.name
            );
            return fail(f.line, msg);
        }
        return Ok((k.tag as u16, true));
    }
    match fields.iter().find(|g| g.name == key) {
        Some(k) if scalar(k) => Ok((k.tag as u16, false)),
        Some(_) => fail(
            f.line,
            format!(
                "{}: main index {elem}.{key} must be a non-array builtin",
                f.name
            ),
        ),
        None => fail(
            f.line,
            format!("{}: {elem} has no field {key} to use as main index", f.name),
        ),
    }
}

fn compile_field(
    types: &BTreeMap<String, Flat>,
    index: &BTreeMap<&str, usize>,
    scope: &str,
    f: &FieldDef,
) -> Result<Field, ParseError> {
    let tag = tag16(f.tag, f.line, "field")?;
    let (mut field, elem) = match builtin(&f.ty) {
        Some((ty, binary)) => {
            let mut field = Field::new(&f.name, tag, ty);
            field.binary = binary;
            (field, None)
        }
        None => {
            let Some(full) = resolve(types, scope, &f.ty) else {
                return fail(f.line, format!("undefined type {} in type {scope}", f.ty));
            };
            (
                Field::new(&f.name, tag, FieldType::Struct(index[full])),
                Some(full),
            )
        }
    };
    field.array = f.array;
    match (&f.paren, elem) {
        (None, _) => {}
        (Some(Paren::Decimal(d)), _) if field.ty == FieldType::Integer => {
            if *d > u64::from(MAX_DECIMAL) {
                return fail(
                    f.line,
                    format!("{}: precision {d} too large (max {MAX_DECIMAL})", f.name),
                );
            }
            field.decimal = Some(*d as u8);
        }
        (Some(Paren::Decimal(_)), _) => {
            return fail(
                f.line,
                format!("{}: a precision (N) only applies to integer", f.name),
            );
        }
        (Some(Paren::Key(key)), Some(elem)) if f.array => {
            let (k, map) = main_index(types, elem, key, f)?;
            field.key = Some(k);
            field.map = map;
        }
        (Some(Paren::Key(key)), _) => {
            let msg = format!("{}: a main index ({key}) needs an array of structs", f.name);
            return fail(f.line, msg);
        }
    }
    Ok(field)
}

fn proto_type(
    index: &BTreeMap<&str, usize>,
    p: &ProtoDef,
    kind: &str,
    sub: &Option<SubDef>,
) -> Result<Option<usize>, ParseError> {
    match sub {
        None | Some(SubDef::Nil) => Ok(None),
        Some(SubDef::Inline(_)) => Ok(Some(index[format!("{}.{kind}", p.name).as_str()])),
        Some(SubDef::Named(t, line)) => match index.get(t.as_str()) {
            Some(&i) => Ok(Some(i)),
            None => fail(
                *line,
                format!("undefined {kind} type {t} in protocol {}", p.name),
            ),
        },
    }
}

/// Parse and compile schema text.
pub fn parse(text: &str) -> Result<Sproto, ParseError> {
    let mut parser = Parser {
        toks: lex(text)?,
        at: 0,
    };
    let (typedefs, mut protodefs) = parser.top()?;

    let mut flats = BTreeMap::new();
    for t in typedefs {
        flatten(t, None, &mut flats)?;
    }
    for p in &mut protodefs {
        for sub in [&mut p.request, &mut p.response] {
            if let Some(SubDef::Inline(t)) = sub {
                flatten(std::mem::take(t), None, &mut flats)?;
            }
        }
    }
    let index: BTreeMap<&str, usize> = flats
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();

    let mut types = Vec::with_capacity(flats.len());
    for (name, flat) in &flats {
        let mut fields = Vec::with_capacity(flat.fields.len());
        for f in &flat.fields {
            fields.push(compile_field(&flats, &index, name, f)?);
        }
        fields.sort_by_key(|f| f.tag);
        types.push(Type::new(name, fields));
    }

    let mut protocols: Vec<Protocol> = Vec::with_capacity(protodefs.len());
    for p in &protodefs {
        let tag = tag16(p.tag, p.line, "protocol")?;
        if let Some(q) = protocols.iter().find(|q| q.tag == tag) {
            return fail(
                p.line,
                format!(
                    "redefined protocol tag {tag} at {} (already {})",
                    p.name, q.name
                ),
            );
        }
        if protocols.iter().any(|q| q.name == p.name) {
            return fail(p.line, format!("redefined protocol {}", p.name));
        }
        let response = proto_type(&index, p, "response", &p.response)?;
        protocols.push(Protocol {
            name: p.name.clone(),
            tag,
            request: proto_type(&index, p, "request", &p.request)?,
            response,
            confirm: response.is_none() && matches!(p.response, Some(SubDef::Nil)),
        });
    }
    Sproto::build(types, protocols).map_err(|e| ParseError {
        line: 0,
        reason: e.0,
    })
}
