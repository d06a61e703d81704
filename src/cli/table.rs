//! Plain aligned tables for people: a header row and one row per item, each column as wide
//! as its widest cell (cells cut at 60 characters with `…`).

const MAX_CELL: usize = 60;

fn cut(cell: &str) -> String {
    let one_line = cell.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= MAX_CELL {
        one_line
    } else {
        let mut s: String = one_line.chars().take(MAX_CELL - 1).collect();
        s.push('…');
        s
    }
}

/// The table as text, one line per row, ending with a newline.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(c);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i].saturating_sub(c.chars().count())));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let t = render(
            &["ID", "STATUS"],
            &[
                vec!["a".into(), "completed".into()],
                vec!["bbbb".into(), "failed".into()],
            ],
        );
        assert_eq!(t, "ID    STATUS\na     completed\nbbbb  failed\n");
    }
}
