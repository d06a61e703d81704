//! A graph drawn as a PNG on the server (the content pillar's lineage, the outcomes pillar's
//! workflow charts): the root on the left, each generation reached from it in the next
//! column, a box per node coloured by its kind and labelled with its name (an 8×8 bitmap
//! font), a line per edge. Bounded: at most
//! [`MAX_ROWS`] boxes a column (the rest are counted in the last box) and [`MAX_COLUMNS`]
//! columns, so the picture is at most about 2,600 × 2,300 pixels.

use std::collections::{HashMap, VecDeque};

use font8x8::legacy::BASIC_LEGACY;

pub const MAX_ROWS: usize = 40;
pub const MAX_COLUMNS: usize = 10;

const BOX_W: usize = 208;
const BOX_H: usize = 36;
const GAP_X: usize = 56;
const GAP_Y: usize = 20;
const MARGIN: usize = 20;
const LABEL_CHARS: usize = (BOX_W - 16) / 8;

/// A node to draw: its id, label and frontend type.
pub struct Node<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
}

type Rgb = [u8; 3];

fn colour(kind: &str) -> Rgb {
    match kind {
        "file" => [37, 99, 235],
        "parsed_result" => [22, 163, 74],
        "embedding" => [147, 51, 234],
        "interpretation" => [234, 88, 12],
        // Workflow charts: people's, Symphainy's and shared steps, and decisions.
        "human_focused" | "task" => [37, 99, 235],
        "ai_suitable" => [22, 163, 74],
        "hybrid" => [234, 88, 12],
        "gateway" => [202, 138, 4],
        _ => [75, 85, 99],
    }
}

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            px: vec![255; w * h * 3],
        }
    }

    fn set(&mut self, x: usize, y: usize, c: Rgb) {
        if x < self.w && y < self.h {
            let i = (y * self.w + x) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, c: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, c);
            }
        }
    }

    /// A line from (x0, y0) to (x1, y1), two pixels wide (Bresenham).
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            if x >= 0 && y >= 0 {
                self.set(x as usize, y as usize, c);
                self.set(x as usize, y as usize + 1, c);
            }
            if x == x1 && y == y1 {
                return;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    fn text(&mut self, x: usize, y: usize, s: &str, c: Rgb) {
        for (i, ch) in s.chars().enumerate() {
            let glyph = BASIC_LEGACY[if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            }];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.set(x + i * 8 + col, y + row, c);
                    }
                }
            }
        }
    }

    fn png(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.w as u32, self.h as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(|e| e.to_string())?;
            writer
                .write_image_data(&self.px)
                .map_err(|e| e.to_string())?;
        }
        Ok(out)
    }
}

/// A label that fits its box (cut with `…` shown as `~`).
fn fit(label: &str) -> String {
    let ascii: String = label
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if ascii.chars().count() <= LABEL_CHARS {
        ascii
    } else {
        let mut s: String = ascii.chars().take(LABEL_CHARS - 1).collect();
        s.push('~');
        s
    }
}

/// The graph as PNG bytes: `nodes[0]` is the root; `edges` are (source id, target id).
pub fn draw(nodes: &[Node<'_>], edges: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    // Each node's column: its distance from the root along the edges.
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut depth = vec![usize::MAX; nodes.len()];
    let mut queue = VecDeque::new();
    if !nodes.is_empty() {
        depth[0] = 0;
        queue.push_back(0);
    }
    while let Some(i) = queue.pop_front() {
        for (s, t) in edges {
            if *s == nodes[i].id {
                if let Some(&j) = index.get(t) {
                    if depth[j] == usize::MAX {
                        depth[j] = (depth[i] + 1).min(MAX_COLUMNS - 1);
                        queue.push_back(j);
                    }
                }
            }
        }
    }
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); MAX_COLUMNS];
    for (i, d) in depth.iter().enumerate() {
        columns[(*d).min(MAX_COLUMNS - 1)].push(i);
    }
    while columns.last().is_some_and(Vec::is_empty) {
        columns.pop();
    }
    let rows = columns
        .iter()
        .map(|c| c.len().min(MAX_ROWS))
        .max()
        .unwrap_or(1)
        .max(1);
    let w = 2 * MARGIN + columns.len().max(1) * (BOX_W + GAP_X) - GAP_X;
    let h = 2 * MARGIN + rows * (BOX_H + GAP_Y) - GAP_Y;
    let mut canvas = Canvas::new(w, h);
    let mut at: HashMap<usize, (usize, usize)> = HashMap::new();
    for (c, members) in columns.iter().enumerate() {
        for (r, &i) in members.iter().take(MAX_ROWS).enumerate() {
            at.insert(
                i,
                (MARGIN + c * (BOX_W + GAP_X), MARGIN + r * (BOX_H + GAP_Y)),
            );
        }
    }
    for (s, t) in edges {
        let (Some(a), Some(b)) = (index.get(s), index.get(t)) else {
            continue;
        };
        let (Some(&(x0, y0)), Some(&(x1, y1))) = (at.get(a), at.get(b)) else {
            continue;
        };
        let from = ((x0 + BOX_W) as i64, (y0 + BOX_H / 2) as i64);
        let to = (x1 as i64, (y1 + BOX_H / 2) as i64);
        canvas.line(from, to, [156, 163, 175]);
    }
    for members in &columns {
        for (r, &i) in members.iter().take(MAX_ROWS).enumerate() {
            let (x, y) = at[&i];
            let fill = colour(nodes[i].kind);
            canvas.rect(x, y, BOX_W, BOX_H, fill);
            let more = members.len() - MAX_ROWS.min(members.len());
            let label = if r + 1 == MAX_ROWS && more > 0 {
                format!("+{} more", more + 1)
            } else {
                fit(nodes[i].label)
            };
            canvas.text(x + 8, y + 6, &label, [255, 255, 255]);
            canvas.text(x + 8, y + 22, &fit(nodes[i].kind), [229, 231, 235]);
        }
    }
    canvas.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_is_drawn_in_columns_by_generation() {
        let nodes = [
            Node {
                id: "f",
                label: "sales.csv",
                kind: "file",
            },
            Node {
                id: "p",
                label: "sales.csv (parsed)",
                kind: "parsed_result",
            },
            Node {
                id: "e",
                label: "embeddings",
                kind: "embedding",
            },
        ];
        let png_bytes = draw(&nodes, &[("f", "p"), ("p", "e")]).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut px = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut px).unwrap();
        // Three columns of one row: 2 × 20 + 3 × 208 + 2 × 56 wide, 2 × 20 + 36 high.
        assert_eq!((info.width, info.height), (776, 76));
        let at = |x: usize, y: usize| px[(y * 776 + x) * 3..(y * 776 + x) * 3 + 3].to_vec();
        // Each box's corner has its type's colour; the margin is white.
        assert_eq!(at(21, 21), colour("file"));
        assert_eq!(at(20 + 264 + 1, 21), colour("parsed_result"));
        assert_eq!(at(20 + 2 * 264 + 1, 21), colour("embedding"));
        assert_eq!(at(5, 5), [255, 255, 255]);
        // The line between the first two boxes runs through the gap at mid-height.
        assert_eq!(at(20 + 208 + 28, 20 + 18), [156, 163, 175]);
    }
}
