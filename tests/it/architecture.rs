//! Architecture check: the library's modules must not import each other in a cycle.
//!
//! The check reads `src/` as text (it needs nothing from the crate and no external crates),
//! finds every reference one module makes to another, and looks for cycles (Tarjan's strongly
//! connected components) at two granularities:
//!
//! 1. Sibling level. A reference from module A to module B is lifted to the two children of
//!    their lowest common ancestor that hold A and B: `runtime::engine::saga` naming
//!    `runtime::contract::model` is the edge `engine -> contract` among the children of
//!    `runtime`; `agents::behaviour` naming `runtime::x` is `agents -> runtime` at the crate
//!    root. Each parent's children form one graph. This is the layering rule: siblings must not
//!    lean on each other both ways, even through different files.
//! 2. Module level. Every module (file) is a node and the references are edges as found. A
//!    cycle here is a plain import cycle; it always shows at level 1 too, and is reported with
//!    the exact modules involved.
//!
//! A module naming itself, its ancestor or its descendant is not an edge at either level (a
//! `mod.rs` re-exporting its child; a child using `super::Thing` defined in its parent).
//!
//! Heuristics (this is text scanning, not a Rust parser):
//! - Files: `src/lib.rs` is the crate root, `src/a/mod.rs` is `a`, `src/a/b.rs` is `a::b`.
//!   `src/main.rs` and `src/bin/` are the binaries, not the library, and are left out.
//! - Test-only modules are left out, with everything below them: a module declared
//!   `#[cfg(test)] mod name;` by its parent, a file starting with `#![cfg(test)]`, and any
//!   module named `tests` (`tests.rs`, `tests/mod.rs`), which by convention is test code.
//! - Comments (line, doc, nested block) and string and char literals (raw and byte strings
//!   too) are blanked first, keeping line numbers, so prose in docs never counts.
//! - Any item marked exactly `#[cfg(test)]` (usually `mod tests { .. }`) is blanked: from the
//!   attribute to the item's `;` or the end of its first `{ .. }` block.
//! - References are paths starting with `crate::`, `$crate::`, `super::` or `self::`, in `use`
//!   declarations (groups, nested and multi-line, are expanded) and anywhere in code. Paths
//!   starting with any other name are external crates or the module's own items or children,
//!   and are ignored; so is the path in a `pub(in path)` visibility.
//! - `super` and `self` count from the innermost inline `mod name { .. }` around them; the
//!   reference is counted for the file's module.
//! - A path resolves to the deepest module (file) it names: `crate::store::time::now()` is
//!   `store::time`. A path naming only the crate root (root-level items, `#[macro_export]`
//!   macros like `crate::failpoint!`) is ignored, as the root is everyone's ancestor.
//! - Whatever cannot be read or parsed is skipped, never a panic.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// A module's path below the crate root; the root itself is the empty path.
type ModPath = Vec<String>;

/// One source file: its path relative to the crate (`src/a/b.rs`) and its text.
struct SourceFile {
    path: String,
    text: String,
}

/// Where a dependency was seen, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Example {
    file: String,
    line: usize,
    path: String,
}

/// One module naming another.
#[derive(Clone, Debug)]
struct Dependency {
    from: ModPath,
    to: ModPath,
    example: Example,
}

/// A directed graph of named nodes; each edge keeps the first example seen for it.
#[derive(Default, Debug)]
struct Graph {
    edges: BTreeMap<String, BTreeMap<String, Example>>,
}

/// One cycle: where it lives, its nodes in order (the first repeated at the end), and one
/// example for each edge.
#[derive(Debug)]
struct Cycle {
    scope: String,
    nodes: Vec<String>,
    examples: Vec<Example>,
}

/// Every cycle found, at both granularities.
#[derive(Debug)]
struct Findings {
    sibling: Vec<Cycle>,
    module: Vec<Cycle>,
}

// ---------------------------------------------------------------------------------------------
// The check on the real tree
// ---------------------------------------------------------------------------------------------

#[test]
fn the_library_has_no_import_cycles() {
    let crate_dir = crate_dir();
    let files = read_sources(&crate_dir);
    assert!(
        !files.is_empty(),
        "no .rs files under {}",
        crate_dir.join("src").display()
    );

    let dependencies = dependencies(&files);
    let findings = find_cycles(&dependencies);
    println!(
        "architecture: {} files, {} cross-module references",
        files.len(),
        dependencies.len()
    );
    let report = report(&findings);
    if report.is_empty() {
        println!("architecture: no import cycles");
    } else {
        panic!("\n{report}");
    }
}

/// The crate's directory: Cargo's `CARGO_MANIFEST_DIR`, else the current directory.
fn crate_dir() -> PathBuf {
    if let Some(dir) = option_env!("CARGO_MANIFEST_DIR") {
        return PathBuf::from(dir);
    }
    if let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// Every readable `.rs` file under `src/`, sorted, with paths relative to the crate.
fn read_sources(crate_dir: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect_rs_files(&crate_dir.join("src"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(crate_dir).ok()?;
            let relative: Vec<String> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            let text = std::fs::read_to_string(&path).ok()?;
            Some(SourceFile {
                path: relative.join("/"),
                text,
            })
        })
        .collect()
}

/// Walks `dir` recursively (not following symlinked directories) collecting `.rs` files.
fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().map(|kind| kind.is_dir()).unwrap_or(false);
        if is_dir {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files to modules
// ---------------------------------------------------------------------------------------------

/// A library file ready for scanning: its module and its code with comments, strings and
/// `#[cfg(test)]` items blanked.
struct ScannedFile {
    path: String,
    module: ModPath,
    code: String,
}

/// The module a file under `src/` defines; `None` for binaries and anything that is not a
/// library module file.
fn module_path_of(file: &str) -> Option<ModPath> {
    let stem = file.strip_prefix("src/")?.strip_suffix(".rs")?;
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    let is_top = parts.len() == 1;
    if parts.len() > 1 && parts[0] == "bin" {
        return None;
    }
    match parts.last().map(String::as_str) {
        Some("main") if is_top => return None,
        Some("lib") if is_top => return Some(Vec::new()),
        Some("mod") if !is_top => {
            parts.pop();
        }
        _ => {}
    }
    if parts.iter().all(|part| is_identifier(part)) {
        Some(parts)
    } else {
        None
    }
}

/// The library files to scan: binaries and test-only modules left out, code blanked.
fn scan_files(files: &[SourceFile]) -> Vec<ScannedFile> {
    let mut scanned = Vec::new();
    let mut test_only: BTreeSet<ModPath> = BTreeSet::new();
    for file in files {
        let Some(module) = module_path_of(&file.path) else {
            continue;
        };
        let code = blank_comments_and_strings(&file.text);
        for name in declared_test_modules(&code) {
            test_only.insert(child_of(&module, &name));
        }
        if is_test_only_file(&code) || module.last().is_some_and(|name| name == "tests") {
            test_only.insert(module.clone());
        }
        let code = blank_cfg_test_items(&code);
        scanned.push(ScannedFile {
            path: file.path.clone(),
            module,
            code,
        });
    }
    scanned.retain(|file| {
        !test_only
            .iter()
            .any(|test| is_ancestor_or_self(test, &file.module))
    });
    scanned.sort_by(|a, b| a.path.cmp(&b.path));
    scanned
}

fn child_of(module: &[String], name: &str) -> ModPath {
    let mut child = module.to_vec();
    child.push(name.to_string());
    child
}

// ---------------------------------------------------------------------------------------------
// Blanking comments and literals
// ---------------------------------------------------------------------------------------------

/// The code with comments and string/char literals replaced by spaces (newlines kept, so
/// line numbers stay right).
fn blank_comments_and_strings(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        let end = if bytes[i..].starts_with(b"//") {
            line_comment_end(bytes, i)
        } else if bytes[i..].starts_with(b"/*") {
            block_comment_end(bytes, i)
        } else if let Some(end) = raw_string_end(bytes, i) {
            end
        } else if bytes[i] == b'"' {
            quoted_string_end(bytes, i)
        } else if let Some(end) = char_literal_end(bytes, i) {
            end
        } else {
            i += 1;
            continue;
        };
        blank(&mut out, i, end);
        i = end.max(i + 1);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces `out[start..end]` with spaces, keeping newlines.
fn blank(out: &mut [u8], start: usize, end: usize) {
    let end = end.min(out.len());
    for byte in out.iter_mut().take(end).skip(start) {
        if *byte != b'\n' {
            *byte = b' ';
        }
    }
}

fn line_comment_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| start + n)
}

/// The end of a block comment at `start`; block comments nest in Rust.
fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The end of a `"..."` string at `start` (escapes honoured; unterminated runs to the end).
fn quoted_string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// If a raw string (`r"..."`, `r#"..."#`, `br#"..."#`, `cr"..."`) starts at `start`, its end.
fn raw_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    if start > 0 && is_identifier_byte(bytes[start - 1]) {
        return None;
    }
    let mut i = start;
    if matches!(bytes.get(i), Some(b'b') | Some(b'c')) {
        i += 1;
    }
    if bytes.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
    i += hashes;
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let mut closing = vec![b'"'];
    closing.extend(std::iter::repeat_n(b'#', hashes));
    let body = i + 1;
    Some(find(bytes, body, &closing).map_or(bytes.len(), |at| at + closing.len()))
}

/// If a char literal (`'x'`, `'\n'`, `'\u{1F600}'`, `b'x'`) starts at `start`, its end.
/// A lifetime or label (`'a`, `'static`) is not one.
fn char_literal_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'\'') {
        return None;
    }
    let first = *bytes.get(start + 1)?;
    if first == b'\\' {
        let close = bytes
            .iter()
            .skip(start + 3)
            .take(10)
            .position(|&b| b == b'\'')?;
        return Some(start + 3 + close + 1);
    }
    let width = utf8_width(first);
    (bytes.get(start + 1 + width) == Some(&b'\'')).then_some(start + 2 + width)
}

/// How many bytes the UTF-8 character starting with `first` takes.
fn utf8_width(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|n| from + n)
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

// ---------------------------------------------------------------------------------------------
// Test-only code
// ---------------------------------------------------------------------------------------------

/// An attribute in blanked code: `#[..]` or `#![..]`.
struct Attribute<'a> {
    start: usize,
    inner: bool,
    text: &'a str,
    end: usize,
}

/// The attribute starting at byte `i`, if any.
fn attribute_at(code: &str, i: usize) -> Option<Attribute<'_>> {
    let bytes = code.as_bytes();
    if bytes.get(i) != Some(&b'#') {
        return None;
    }
    let inner = bytes.get(i + 1) == Some(&b'!');
    let open = skip_whitespace(bytes, if inner { i + 2 } else { i + 1 });
    if bytes.get(open) != Some(&b'[') {
        return None;
    }
    let close = matching_close(bytes, open)?;
    Some(Attribute {
        start: i,
        inner,
        text: code.get(open + 1..close)?,
        end: close + 1,
    })
}

/// Every attribute in the code, in order.
fn attributes(code: &str) -> Vec<Attribute<'_>> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < code.len() {
        match attribute_at(code, i) {
            Some(attribute) => {
                i = attribute.end;
                found.push(attribute);
            }
            None => i += 1,
        }
    }
    found
}

fn is_cfg_test(attribute: &Attribute) -> bool {
    let compact: String = attribute
        .text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    compact == "cfg(test)"
}

/// The byte ranges of the items marked `#[cfg(test)]`, from the attribute to the item's end.
fn cfg_test_items(code: &str) -> Vec<(usize, usize)> {
    let bytes = code.as_bytes();
    let mut items: Vec<(usize, usize)> = Vec::new();
    for attribute in attributes(code) {
        let inside_previous = items.last().is_some_and(|&(_, end)| attribute.start < end);
        if attribute.inner || !is_cfg_test(&attribute) || inside_previous {
            continue;
        }
        let item = skip_outer_attributes(code, attribute.end);
        items.push((attribute.start, item_end(bytes, item)));
    }
    items
}

/// The code with every `#[cfg(test)]` item blanked.
fn blank_cfg_test_items(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    for (start, end) in cfg_test_items(code) {
        blank(&mut out, start, end);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The names of child modules declared `#[cfg(test)] mod name;` (their files are test code).
fn declared_test_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (start, end) in cfg_test_items(code) {
        let Some(item) = code.get(start..end) else {
            continue;
        };
        let tokens = tokenize(item);
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        let Some(mod_at) = texts.iter().position(|&t| t == "mod") else {
            continue;
        };
        if let [name, ";"] = &texts[mod_at + 1..] {
            names.push(name.to_string());
        }
    }
    names
}

/// Whether the file marks itself test-only with an inner `#![cfg(test)]`.
fn is_test_only_file(code: &str) -> bool {
    attributes(code)
        .iter()
        .any(|attribute| attribute.inner && is_cfg_test(attribute))
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

fn skip_outer_attributes(code: &str, mut i: usize) -> usize {
    loop {
        i = skip_whitespace(code.as_bytes(), i);
        match attribute_at(code, i) {
            Some(attribute) if !attribute.inner => i = attribute.end,
            _ => return i,
        }
    }
}

/// The index of the bracket closing the one at `open` (any of `()[]{}`).
fn matching_close(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &byte) in bytes.iter().enumerate().skip(open) {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The end of the item starting at `start`: just after its `;` or its first `{ .. }` block,
/// or at a bracket closing something that encloses it.
fn item_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, &byte) in bytes.iter().enumerate().skip(start) {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
                if depth == 0 && byte == b'}' {
                    return i + 1;
                }
            }
            b';' if depth == 0 => return i + 1,
            _ => {}
        }
    }
    bytes.len()
}

// ---------------------------------------------------------------------------------------------
// Tokens and paths
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct Token {
    text: String,
    line: usize,
}

/// Splits blanked code into identifiers (`$crate` included), `::`, and single punctuation.
fn tokenize(code: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut chars = code.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c == '\n' {
            line += 1;
        } else if c.is_whitespace() {
            continue;
        } else if c == '$' || is_identifier_char(c) {
            let mut end = start + c.len_utf8();
            while let Some((at, next)) = chars.next_if(|&(_, next)| is_identifier_char(next)) {
                end = at + next.len_utf8();
            }
            tokens.push(Token {
                text: code[start..end].to_string(),
                line,
            });
        } else if c == ':' && chars.next_if(|&(_, next)| next == ':').is_some() {
            tokens.push(Token {
                text: "::".to_string(),
                line,
            });
        } else {
            tokens.push(Token {
                text: c.to_string(),
                line,
            });
        }
    }
    tokens
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    let first = chars.next();
    first.is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(is_identifier_char)
}

/// A path found in the code, not yet resolved: its segments, its line, and the module that
/// `self` means where it was found.
#[derive(Debug)]
struct RawPath {
    segments: Vec<String>,
    line: usize,
    scope: ModPath,
}

/// The words a path to another module of this crate can start with.
const PATH_ROOTS: [&str; 4] = ["crate", "$crate", "super", "self"];

/// Tracks which inline `mod name { .. }` blocks the scan is inside.
struct Scopes {
    file: ModPath,
    inline: Vec<(String, usize)>,
    depth: usize,
}

impl Scopes {
    fn new(file: &[String]) -> Self {
        Scopes {
            file: file.to_vec(),
            inline: Vec::new(),
            depth: 0,
        }
    }

    fn open_brace(&mut self, inline_module: Option<&str>) {
        self.depth += 1;
        if let Some(name) = inline_module {
            self.inline.push((name.to_string(), self.depth));
        }
    }

    fn close_brace(&mut self) {
        if self
            .inline
            .last()
            .is_some_and(|&(_, depth)| depth == self.depth)
        {
            self.inline.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn current(&self) -> ModPath {
        let inline = self.inline.iter().map(|(name, _)| name.clone());
        self.file.iter().cloned().chain(inline).collect()
    }
}

/// Every `crate::`/`super::`/`self::` path in a file's tokens, `use` trees expanded.
fn find_paths(tokens: &[Token], file_module: &[String]) -> Vec<RawPath> {
    let mut paths = Vec::new();
    let mut scopes = Scopes::new(file_module);
    let mut i = 0;
    while i < tokens.len() {
        let text = tokens[i].text.as_str();
        if text == "use" {
            let (leaves, next) = parse_use_declaration(tokens, i + 1);
            for (segments, line) in leaves {
                paths.push(RawPath {
                    segments,
                    line,
                    scope: scopes.current(),
                });
            }
            i = next;
            continue;
        }
        if text == "{" {
            scopes.open_brace(inline_module_name(tokens, i));
        } else if text == "}" {
            scopes.close_brace();
        } else if starts_path(tokens, i) {
            let (segments, next) = read_path(tokens, i);
            paths.push(RawPath {
                segments,
                line: tokens[i].line,
                scope: scopes.current(),
            });
            i = next;
            continue;
        }
        i += 1;
    }
    paths
}

fn token(tokens: &[Token], i: usize) -> Option<&str> {
    tokens.get(i).map(|t| t.text.as_str())
}

/// The name of the inline module whose body the `{` at `i` opens, if it opens one.
fn inline_module_name(tokens: &[Token], i: usize) -> Option<&str> {
    let name = token(tokens, i.checked_sub(1)?)?;
    (token(tokens, i.checked_sub(2)?)? == "mod" && is_identifier(name)).then_some(name)
}

/// Whether a path to another module starts at `i` (and is not a `pub(in ..)` visibility).
fn starts_path(tokens: &[Token], i: usize) -> bool {
    let previous = |back: usize| i.checked_sub(back).and_then(|at| token(tokens, at));
    PATH_ROOTS.contains(&tokens[i].text.as_str())
        && token(tokens, i + 1) == Some("::")
        && previous(1) != Some("::")
        && !(previous(1) == Some("in") && previous(2) == Some("("))
}

/// The segments of the path starting at `i`, and the index after it.
fn read_path(tokens: &[Token], i: usize) -> (Vec<String>, usize) {
    let mut segments = vec![tokens[i].text.clone()];
    let mut j = i + 1;
    while token(tokens, j) == Some("::") {
        match token(tokens, j + 1) {
            Some(name) if is_identifier(name) => segments.push(name.to_string()),
            _ => break,
        }
        j += 2;
    }
    (segments, j)
}

/// The leaf paths (with lines) of the `use` declaration whose tree starts at `start`, and the
/// index after its `;`. A tree it cannot parse yields what it read so far.
fn parse_use_declaration(tokens: &[Token], start: usize) -> (Vec<(Vec<String>, usize)>, usize) {
    let mut leaves = Vec::new();
    let parsed_end = parse_use_tree(tokens, start, &[], &mut leaves);
    let next = match parsed_end {
        Some(end) if token(tokens, end) == Some(";") => end + 1,
        _ => (start..tokens.len())
            .find(|&j| token(tokens, j) == Some(";"))
            .map_or(tokens.len(), |j| j + 1),
    };
    (leaves, next)
}

/// Parses one use tree (`a::b`, `a::*`, `a::{..}`, `a as b`) under `prefix`; returns the index
/// after it.
fn parse_use_tree(
    tokens: &[Token],
    start: usize,
    prefix: &[String],
    leaves: &mut Vec<(Vec<String>, usize)>,
) -> Option<usize> {
    let mut path = prefix.to_vec();
    let mut j = start;
    if token(tokens, j) == Some("::") {
        j += 1;
    }
    loop {
        let text = token(tokens, j)?;
        if text == "{" {
            return parse_use_group(tokens, j, &path, leaves);
        }
        if text == "*" {
            leaves.push((path, tokens[j].line));
            return Some(j + 1);
        }
        if !is_identifier(text) {
            return None;
        }
        path.push(text.to_string());
        let line = tokens[j].line;
        j += 1;
        if token(tokens, j) == Some("::") {
            j += 1;
            continue;
        }
        if token(tokens, j) == Some("as") {
            j += 2;
        }
        if path.len() > 1 && path.last().is_some_and(|last| last == "self") {
            path.pop();
        }
        leaves.push((path, line));
        return Some(j);
    }
}

/// Parses `{ tree, tree, .. }` starting at the `{` at `open`; returns the index after `}`.
fn parse_use_group(
    tokens: &[Token],
    open: usize,
    prefix: &[String],
    leaves: &mut Vec<(Vec<String>, usize)>,
) -> Option<usize> {
    let mut j = open + 1;
    loop {
        if token(tokens, j)? == "}" {
            return Some(j + 1);
        }
        j = parse_use_tree(tokens, j, prefix, leaves)?;
        match token(tokens, j)? {
            "," => j += 1,
            "}" => return Some(j + 1),
            _ => return None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/// The deepest known module a path names; `None` if it does not start at this crate.
fn resolve(segments: &[String], scope: &[String], known: &BTreeSet<ModPath>) -> Option<ModPath> {
    let (first, rest) = segments.split_first()?;
    let mut module: ModPath = match first.as_str() {
        "crate" | "$crate" => Vec::new(),
        "self" => scope.to_vec(),
        "super" => {
            let mut parent = scope.to_vec();
            parent.pop()?;
            parent
        }
        _ => return None,
    };
    let mut rest = rest.iter().peekable();
    while let Some(word) = rest.next_if(|word| *word == "super" || *word == "self") {
        if word == "super" {
            module.pop()?;
        }
    }
    module.extend(rest.cloned());
    Some(deepest_known(&module, known))
}

/// The longest prefix of `path` that is a known module (the root if none).
fn deepest_known(path: &[String], known: &BTreeSet<ModPath>) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|len| path[..len].to_vec())
        .find(|prefix| known.contains(prefix))
        .unwrap_or_default()
}

fn is_ancestor_or_self(ancestor: &[String], module: &[String]) -> bool {
    module.starts_with(ancestor)
}

/// Every reference from one library module to another that is neither its ancestor nor its
/// descendant, in file and line order.
fn dependencies(files: &[SourceFile]) -> Vec<Dependency> {
    let scanned = scan_files(files);
    let mut known: BTreeSet<ModPath> = scanned.iter().map(|file| file.module.clone()).collect();
    known.insert(Vec::new());
    let mut found = Vec::new();
    for file in &scanned {
        for raw in find_paths(&tokenize(&file.code), &file.module) {
            let Some(to) = resolve(&raw.segments, &raw.scope, &known) else {
                continue;
            };
            if is_ancestor_or_self(&to, &file.module) || is_ancestor_or_self(&file.module, &to) {
                continue;
            }
            let example = Example {
                file: file.path.clone(),
                line: raw.line,
                path: raw.segments.join("::"),
            };
            found.push(Dependency {
                from: file.module.clone(),
                to,
                example,
            });
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Graphs
// ---------------------------------------------------------------------------------------------

impl Graph {
    fn add(&mut self, from: String, to: String, example: Example) {
        self.edges.entry(to.clone()).or_default();
        self.edges
            .entry(from)
            .or_default()
            .entry(to)
            .or_insert(example);
    }

    fn nodes(&self) -> impl Iterator<Item = &String> {
        self.edges.keys()
    }

    fn successors(&self, node: &str) -> impl Iterator<Item = &String> {
        self.edges
            .get(node)
            .into_iter()
            .flat_map(|targets| targets.keys())
    }

    fn example(&self, from: &str, to: &str) -> Option<&Example> {
        self.edges.get(from)?.get(to)
    }
}

/// The sibling-level edge for a dependency: the lowest common ancestor, and its children that
/// hold `from` and `to`. `None` when one is the other's ancestor.
fn lift(from: &[String], to: &[String]) -> Option<(ModPath, String, String)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let from_child = from.get(common)?;
    let to_child = to.get(common)?;
    Some((
        from[..common].to_vec(),
        from_child.clone(),
        to_child.clone(),
    ))
}

/// One graph per parent module, between its children.
fn sibling_graphs(dependencies: &[Dependency]) -> BTreeMap<ModPath, Graph> {
    let mut graphs: BTreeMap<ModPath, Graph> = BTreeMap::new();
    for dependency in dependencies {
        let Some((parent, from, to)) = lift(&dependency.from, &dependency.to) else {
            continue;
        };
        graphs
            .entry(parent)
            .or_default()
            .add(from, to, dependency.example.clone());
    }
    graphs
}

/// One graph with every module as a node.
fn module_graph(dependencies: &[Dependency]) -> Graph {
    let mut graph = Graph::default();
    for dependency in dependencies {
        let from = display_module(&dependency.from);
        graph.add(
            from,
            display_module(&dependency.to),
            dependency.example.clone(),
        );
    }
    graph
}

fn display_module(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

// ---------------------------------------------------------------------------------------------
// Cycles
// ---------------------------------------------------------------------------------------------

/// Tarjan's algorithm: the strongly connected components with more than one node, each sorted.
fn strongly_connected_components(graph: &Graph) -> Vec<Vec<String>> {
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.nodes() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    tarjan.components.sort();
    tarjan.components
}

struct Tarjan<'g> {
    graph: &'g Graph,
    index: BTreeMap<&'g str, usize>,
    low: BTreeMap<&'g str, usize>,
    stack: Vec<&'g str>,
    on_stack: BTreeSet<&'g str>,
    components: Vec<Vec<String>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, node: &'g str) {
        let index = self.index.len();
        self.index.insert(node, index);
        self.low.insert(node, index);
        self.stack.push(node);
        self.on_stack.insert(node);
        let graph = self.graph;
        for next in graph.successors(node) {
            let next = next.as_str();
            if !self.index.contains_key(next) {
                self.visit(next);
                self.lower(node, self.low.get(next).copied());
            } else if self.on_stack.contains(next) {
                self.lower(node, self.index.get(next).copied());
            }
        }
        if self.low.get(node) == self.index.get(node) {
            self.pop_component(node);
        }
    }

    fn lower(&mut self, node: &'g str, candidate: Option<usize>) {
        if let (Some(candidate), Some(low)) = (candidate, self.low.get_mut(node)) {
            *low = (*low).min(candidate);
        }
    }

    /// Pops the component rooted at `root`, keeping it if it has more than one node.
    fn pop_component(&mut self, root: &str) {
        let mut component = Vec::new();
        while let Some(member) = self.stack.pop() {
            self.on_stack.remove(member);
            component.push(member.to_string());
            if member == root {
                break;
            }
        }
        if component.len() > 1 {
            component.sort();
            self.components.push(component);
        }
    }
}

/// Simple cycles that together use every edge inside a component: for each edge `a -> b` not
/// yet shown, the cycle `a -> b -> .. -> a` back along a shortest path.
fn cycles_covering(graph: &Graph, component: &[String]) -> Vec<Vec<String>> {
    let members: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    let mut shown: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cycles = Vec::new();
    for from in component {
        for to in graph
            .successors(from)
            .filter(|to| members.contains(to.as_str()))
        {
            if shown.contains(&(from.clone(), to.clone())) {
                continue;
            }
            let Some(back) = shortest_path(graph, to, from, &members) else {
                continue;
            };
            let cycle: Vec<String> = std::iter::once(from.clone()).chain(back).collect();
            for pair in cycle.windows(2) {
                shown.insert((pair[0].clone(), pair[1].clone()));
            }
            cycles.push(cycle);
        }
    }
    cycles
}

/// A shortest path from `start` to `goal` through `members` only, both ends included.
fn shortest_path(
    graph: &Graph,
    start: &str,
    goal: &str,
    members: &BTreeSet<&str>,
) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        if node == goal {
            return Some(walk_back(&came_from, start, goal));
        }
        for next in graph.successors(node).map(String::as_str) {
            if members.contains(next) && next != start && !came_from.contains_key(next) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

fn walk_back(came_from: &BTreeMap<&str, &str>, start: &str, goal: &str) -> Vec<String> {
    let mut path = vec![goal.to_string()];
    let mut node = goal;
    while node != start {
        let Some(&previous) = came_from.get(node) else {
            break;
        };
        path.push(previous.to_string());
        node = previous;
    }
    path.reverse();
    path
}

/// The cycles of one graph, each labelled by `scope_of` its nodes.
fn cycles_in(graph: &Graph, scope_of: impl Fn(&[String]) -> String) -> Vec<Cycle> {
    let mut cycles = Vec::new();
    for component in strongly_connected_components(graph) {
        for nodes in cycles_covering(graph, &component) {
            let examples: Vec<Example> = nodes
                .windows(2)
                .filter_map(|pair| graph.example(&pair[0], &pair[1]).cloned())
                .collect();
            cycles.push(Cycle {
                scope: scope_of(&nodes),
                nodes,
                examples,
            });
        }
    }
    cycles
}

/// The lowest common ancestor of modules given by their display names.
fn common_ancestor(names: &[String]) -> String {
    let paths: Vec<Vec<&str>> = names
        .iter()
        .map(|name| name.split("::").collect())
        .collect();
    let Some(first) = paths.first() else {
        return display_module(&[]);
    };
    let common = (0..first.len())
        .take_while(|&k| paths.iter().all(|path| path.get(k) == first.get(k)))
        .count();
    let common: Vec<String> = first[..common].iter().map(|s| s.to_string()).collect();
    display_module(&common)
}

/// Cycles at both granularities.
fn find_cycles(dependencies: &[Dependency]) -> Findings {
    let mut sibling = Vec::new();
    for (parent, graph) in sibling_graphs(dependencies) {
        sibling.extend(cycles_in(&graph, |_| display_module(&parent)));
    }
    let module = cycles_in(&module_graph(dependencies), common_ancestor);
    Findings { sibling, module }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// A readable report of the cycles; empty when there are none.
fn report(findings: &Findings) -> String {
    let mut out = String::new();
    if !findings.sibling.is_empty() {
        out.push_str(
            "Import cycles between sibling modules (a reference from A to B counts for the \
             children of their lowest common ancestor that hold A and B):\n\n",
        );
        findings
            .sibling
            .iter()
            .for_each(|cycle| write_cycle(&mut out, cycle));
    }
    if !findings.module.is_empty() {
        out.push_str("Import cycles between individual modules:\n\n");
        findings
            .module
            .iter()
            .for_each(|cycle| write_cycle(&mut out, cycle));
    }
    out
}

/// `scope: a -> b -> a`, then each edge with the `file:line` and path that causes it.
fn write_cycle(out: &mut String, cycle: &Cycle) {
    out.push_str(&format!(
        "  {}: {}\n",
        cycle.scope,
        cycle.nodes.join(" -> ")
    ));
    let edges: Vec<String> = cycle
        .nodes
        .windows(2)
        .map(|pair| format!("{} -> {}", pair[0], pair[1]))
        .collect();
    let width = edges.iter().map(String::len).max().unwrap_or(0);
    for (edge, example) in edges.iter().zip(&cycle.examples) {
        out.push_str(&format!(
            "      {edge:<width$}   {}:{}   {}\n",
            example.file, example.line, example.path
        ));
    }
    out.push('\n');
}

// ---------------------------------------------------------------------------------------------
// The checker's own tests, on small in-memory trees
// ---------------------------------------------------------------------------------------------

fn sources(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(path, text)| SourceFile {
            path: path.to_string(),
            text: text.to_string(),
        })
        .collect()
}

fn cycles_of(files: &[(&str, &str)]) -> Findings {
    find_cycles(&dependencies(&sources(files)))
}

fn headlines(cycles: &[Cycle]) -> Vec<String> {
    cycles
        .iter()
        .map(|cycle| format!("{}: {}", cycle.scope, cycle.nodes.join(" -> ")))
        .collect()
}

/// `(from, to, line)` of every dependency found.
fn edges_of(files: &[(&str, &str)]) -> Vec<(String, String, usize)> {
    dependencies(&sources(files))
        .into_iter()
        .map(|d| {
            (
                display_module(&d.from),
                display_module(&d.to),
                d.example.line,
            )
        })
        .collect()
}

fn module(path: &str) -> ModPath {
    path.split("::").map(str::to_string).collect()
}

#[test]
fn checker_maps_files_to_modules() {
    assert_eq!(module_path_of("src/lib.rs"), Some(vec![]));
    assert_eq!(module_path_of("src/a/mod.rs"), Some(module("a")));
    assert_eq!(module_path_of("src/a/b.rs"), Some(module("a::b")));
    assert_eq!(module_path_of("src/a.rs"), Some(module("a")));
    assert_eq!(module_path_of("src/main.rs"), None);
    assert_eq!(module_path_of("src/bin/tool.rs"), None);
    assert_eq!(module_path_of("src/a/b.txt"), None);
    assert_eq!(module_path_of("src/a-b.rs"), None);
    assert_eq!(module_path_of("benches/x.rs"), None);
}

#[test]
fn checker_finds_a_two_cycle() {
    let findings = cycles_of(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        ("src/a.rs", "use crate::b::Thing;\npub fn f() {}\n"),
        (
            "src/b.rs",
            "pub struct Thing;\n\npub fn g() { crate::a::f() }\n",
        ),
    ]);
    assert_eq!(headlines(&findings.sibling), ["crate: a -> b -> a"]);
    assert_eq!(headlines(&findings.module), ["crate: a -> b -> a"]);
    let text = report(&findings);
    assert!(
        text.contains("a -> b   src/a.rs:1   crate::b::Thing"),
        "{text}"
    );
    assert!(text.contains("b -> a   src/b.rs:3   crate::a::f"), "{text}");
}

#[test]
fn checker_finds_a_three_cycle_inside_a_parent() {
    let findings = cycles_of(&[
        ("src/lib.rs", "pub mod p;\n"),
        ("src/p/mod.rs", "mod a;\nmod b;\nmod c;\npub use a::A;\n"),
        ("src/p/a.rs", "use super::b::B;\npub struct A;\n"),
        (
            "src/p/b.rs",
            "pub struct B;\nfn f() { crate::p::c::g(); }\n",
        ),
        ("src/p/c.rs", "pub fn g() { let _ = super::a::A; }\n"),
    ]);
    assert_eq!(headlines(&findings.sibling), ["p: a -> b -> c -> a"]);
    assert_eq!(
        headlines(&findings.module),
        ["p: p::a -> p::b -> p::c -> p::a"]
    );
}

#[test]
fn checker_lifts_deep_cycles_to_siblings_and_shows_each_edge() {
    // engine::saga -> contract::model -> engine::context: only the sibling level has a cycle.
    let findings = cycles_of(&[
        ("src/lib.rs", "pub mod runtime;\n"),
        ("src/runtime/mod.rs", "pub mod engine;\npub mod contract;\n"),
        (
            "src/runtime/engine/mod.rs",
            "pub mod saga;\npub mod context;\n",
        ),
        (
            "src/runtime/engine/saga.rs",
            "use crate::runtime::contract::model::Step;\n",
        ),
        ("src/runtime/engine/context.rs", "pub struct Ctx;\n"),
        ("src/runtime/contract/mod.rs", "pub mod model;\n"),
        (
            "src/runtime/contract/model.rs",
            "pub struct Step(super::super::engine::context::Ctx);\n",
        ),
    ]);
    assert_eq!(
        headlines(&findings.sibling),
        ["runtime: contract -> engine -> contract"]
    );
    assert!(findings.module.is_empty(), "{}", report(&findings));
}

#[test]
fn checker_passes_an_acyclic_tree() {
    let files = [
        (
            "src/lib.rs",
            "pub mod app;\npub mod runtime;\npub mod store;\npub use store::Config;\n",
        ),
        (
            "src/store/mod.rs",
            "pub mod time;\npub use time::now;\npub use self::time::Clock;\npub struct Config;\n",
        ),
        (
            "src/store/time.rs",
            "use super::Config;\npub struct Clock;\npub fn now() {}\n",
        ),
        ("src/runtime/mod.rs", "pub mod saga;\npub struct Runtime;\n"),
        (
            "src/runtime/saga.rs",
            "use crate::store::time::now;\nuse crate::store::Config;\nuse super::Runtime;\n",
        ),
        (
            "src/app.rs",
            "fn main() { crate::runtime::saga::run(); crate::store::time::now(); }\n",
        ),
    ];
    let findings = cycles_of(&files);
    assert!(
        findings.sibling.is_empty() && findings.module.is_empty(),
        "{}",
        report(&findings)
    );
    assert_eq!(
        edges_of(&files),
        [
            ("app".into(), "runtime::saga".into(), 1),
            ("app".into(), "store::time".into(), 1),
            ("runtime::saga".into(), "store::time".into(), 1),
            ("runtime::saga".into(), "store".into(), 2),
        ]
    );
}

#[test]
fn checker_expands_grouped_and_multi_line_uses() {
    let files = [
        ("src/lib.rs", ""),
        ("src/a/mod.rs", "pub mod x;\n"),
        ("src/a/x.rs", ""),
        ("src/b.rs", ""),
        ("src/c.rs", ""),
        (
            "src/d.rs",
            "use crate::{\n    a::{x::Item, Other},\n    b,\n    c::{self, More as M},\n};\nuse std::{fmt, io};\n",
        ),
    ];
    assert_eq!(
        edges_of(&files),
        [
            ("d".into(), "a::x".into(), 2),
            ("d".into(), "a".into(), 2),
            ("d".into(), "b".into(), 3),
            ("d".into(), "c".into(), 4),
            ("d".into(), "c".into(), 4),
        ]
    );
}

#[test]
fn checker_climbs_super_super() {
    let files = [
        ("src/lib.rs", ""),
        ("src/x/mod.rs", ""),
        ("src/x/w.rs", ""),
        ("src/x/y/mod.rs", ""),
        (
            "src/x/y/z.rs",
            "use super::super::w::Q;\nfn f() { super::super::super::root_item(); }\n",
        ),
    ];
    assert_eq!(edges_of(&files), [("x::y::z".into(), "x::w".into(), 1)]);
    let graphs = sibling_graphs(&dependencies(&sources(&files)));
    let within_x = graphs
        .get(&module("x"))
        .map(|g| g.example("y", "w").is_some());
    assert_eq!(within_x, Some(true));
}

#[test]
fn checker_ignores_comments_strings_and_test_code() {
    let a = r####"
// use crate::b::X;
/// Calls crate::b::doc_only() in the docs.
/* crate::b::x /* nested crate::b */ crate::b::still_comment */
fn f<'a>(s: &'a str) -> char {
    let _ = "crate::b::in_string \" crate::b::escaped";
    let _ = r#"crate::b::raw " crate::b::quoted"#;
    let _ = b"crate::b::bytes";
    let _ = '"';
    let _ = '\'';
    'x'
}
#[cfg(test)]
mod tests {
    use crate::b::TestOnly;
    fn g() { crate::b::helper() }
}
#[cfg(test)]
fn helper() { crate::b::helper(); }
pub(in crate::b) fn vis() {}
fn real() { crate::b::real(); }
"####;
    let files = [("src/lib.rs", ""), ("src/a.rs", a), ("src/b.rs", "")];
    assert_eq!(edges_of(&files), [("a".into(), "b".into(), 21)]);
}

#[test]
fn checker_resolves_to_the_deepest_existing_module() {
    let files = [
        ("src/lib.rs", "#[macro_export]\nmacro_rules! failpoint { () => {} }\n"),
        ("src/runtime/mod.rs", ""),
        ("src/runtime/engine/mod.rs", ""),
        ("src/runtime/engine/saga.rs", ""),
        ("src/failpoints.rs", ""),
        (
            "src/app.rs",
            "fn f() {\n    crate::runtime::engine::saga::panic_text();\n    \
             crate::runtime::engine::Missing::new();\n    crate::failpoint!(crate::failpoints::X);\n}\n",
        ),
    ];
    assert_eq!(
        edges_of(&files),
        [
            ("app".into(), "runtime::engine::saga".into(), 2),
            ("app".into(), "runtime::engine".into(), 3),
            ("app".into(), "failpoints".into(), 4),
        ]
    );
}

#[test]
fn checker_lifts_edges_as_the_rules_say() {
    let lifted = |from: &str, to: &str| lift(&module(from), &module(to));
    let edge = |parent: &str, a: &str, b: &str| {
        let parent = if parent.is_empty() {
            vec![]
        } else {
            module(parent)
        };
        Some((parent, a.to_string(), b.to_string()))
    };
    assert_eq!(
        lifted("runtime::engine::saga", "runtime::contract::model"),
        edge("runtime", "engine", "contract")
    );
    assert_eq!(
        lifted("runtime::engine::saga", "runtime::engine::context"),
        edge("runtime::engine", "saga", "context")
    );
    assert_eq!(
        lifted("agents::behaviour", "runtime::x"),
        edge("", "agents", "runtime")
    );
    assert_eq!(lifted("runtime", "runtime::engine"), None);
    assert_eq!(lifted("runtime::engine::saga", "runtime"), None);
}

#[test]
fn checker_leaves_out_test_only_modules() {
    let findings = cycles_of(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        (
            "src/a/mod.rs",
            "#[cfg(test)]\nmod checks;\n#[cfg(test)]\nmod tests;\npub struct Y;\n",
        ),
        ("src/a/checks.rs", "use crate::b::X;\n"),
        ("src/a/tests.rs", "use crate::b::X;\n"),
        ("src/a/only.rs", "#![cfg(test)]\nuse crate::b::X;\n"),
        ("src/b.rs", "use crate::a::Y;\npub struct X;\n"),
    ]);
    assert!(
        findings.sibling.is_empty() && findings.module.is_empty(),
        "{}",
        report(&findings)
    );
}

#[test]
fn checker_resolves_super_from_inline_modules() {
    let files = [
        ("src/lib.rs", ""),
        (
            "src/a.rs",
            "mod inner {\n    use super::super::b::X;\n}\nfn f() { self::inner::g(); }\n",
        ),
        ("src/b.rs", ""),
    ];
    assert_eq!(edges_of(&files), [("a".into(), "b".into(), 2)]);
}

#[test]
fn checker_finds_strongly_connected_components() {
    let mut graph = Graph::default();
    let example = || Example {
        file: "f".into(),
        line: 1,
        path: "p".into(),
    };
    for (from, to) in [
        ("a", "b"),
        ("b", "a"),
        ("b", "c"),
        ("c", "d"),
        ("d", "c"),
        ("e", "a"),
        ("d", "f"),
    ] {
        graph.add(from.into(), to.into(), example());
    }
    let components = strongly_connected_components(&graph);
    assert_eq!(components, [vec!["a", "b"], vec!["c", "d"]]);
    let cycles = cycles_covering(&graph, &components[0]);
    assert_eq!(cycles, [vec!["a", "b", "a"]]);
}

#[test]
fn checker_shows_every_edge_of_a_tangled_component() {
    // a <-> b and b -> c -> a: every edge inside the component appears in some cycle shown.
    let findings = cycles_of(&[
        ("src/lib.rs", ""),
        ("src/a.rs", "use crate::b::B;\n"),
        ("src/b.rs", "use crate::a::A;\nuse crate::c::C;\n"),
        ("src/c.rs", "use crate::a::A;\n"),
    ]);
    assert_eq!(
        headlines(&findings.sibling),
        ["crate: a -> b -> a", "crate: b -> c -> a -> b"]
    );
}

#[test]
fn checker_survives_odd_input() {
    let odd = "use crate::{a::{b, ;\nuse\n'\n\"unterminated\n/* open\n#[cfg(test)\nmod x {\n";
    let files = [
        ("src/lib.rs", odd),
        ("src/a.rs", "}}}} use crate:: ; super::"),
        ("src/b/c.rs", "r#\""),
    ];
    let findings = cycles_of(&files);
    assert!(findings.sibling.is_empty() && findings.module.is_empty());
}
