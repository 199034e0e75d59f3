//! The walk over the tokens: the open elements as html5ever's tree builder keeps them, the
//! text written out, and what the tree builder would rearrange (the walk then declines).

use super::grid::Grid;
use super::refs::{decode_refs, is_html_ws};
use super::tokens::{Kind, Token, A, BLOCKS, P};
use super::Declined;
use crate::decode::{line_break, push_collapsed, span, MAX_COLS, MAX_ROWS};

/// Deepest stack of open elements this pass tracks; deeper pages go to the tree builder.
const MAX_OPEN: usize = 256;

/// Most formatting elements this pass keeps for one cell; a cell with more goes to the tree
/// builder (the list stays short, and so does the walk over it at each block).
const MAX_FORMATTING: usize = 64;

/// An element the walker keeps open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Open {
    /// A table; true when it is laid out on a grid (it holds no other table).
    Table(bool),
    /// thead, tbody or tfoot: an end tag closes only its own kind.
    Section(u8),
    Row,
    /// td or th: an end tag closes only its own kind.
    Cell {
        th: bool,
    },
    Block(u8),
    /// A heading; true once html5ever may have opened an element in it that this pass
    /// does not track (an inline element, or a formatting element it reopens for text or a
    /// `<br>`) and that may still be open: a heading start tag then nests in that element
    /// rather than closing this heading.
    Heading(bool),
}

pub(super) struct Walker {
    pub(super) out: String,
    /// Text since the last node boundary, references decoded.
    pub(super) pending: String,
    pub(super) open: Vec<Open>,
    pub(super) grid: Option<Grid>,
    pub(super) nested: Vec<bool>,
    pub(super) tables_seen: usize,
    /// True once an inline element has opened: html5ever keeps the formatting elements
    /// (b, font, ...) a block's end closed and reopens them for the next text or `<br>`.
    pub(super) reopens: bool,
    /// True for the token right after a `<pre>` start tag: html5ever drops a newline that
    /// starts it (which shows in a grid cell, where the pre breaks no line).
    pub(super) after_pre: bool,
    /// html5ever's active formatting elements in the open cells: see [`Formatting`].
    pub(super) formatting: Vec<Formatting>,
}

/// An entry of html5ever's list of active formatting elements, as far as this pass keeps
/// it: in table cells only. There an end tag that moves a block opened in its element (the
/// adoption agency algorithm's furthest block) can leave nodes whose parent link scraper's
/// tree does not update, and the tree walk's cell text (read through those links) then
/// skips part of the cell; this pass declines such pages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Formatting {
    /// Opened with a cell (html5ever's marker): the entries after it are that cell's.
    Cell,
    /// A formatting element opened in the cell; `depth` is at most the length of `open`
    /// when it (or the copy html5ever reopens of it) opened, so every block open at or above
    /// `depth` may have opened inside it.
    Element { name: u8, depth: usize },
}

impl Walker {
    /// The innermost table-structure element, if any: Table, Section, Row or Cell.
    fn structure(&self) -> Option<Open> {
        self.open
            .iter()
            .rev()
            .find(|o| !matches!(o, Open::Block(_) | Open::Heading(_)))
            .copied()
    }

    /// True when text here would be foster-parented: inside a table, outside its cells.
    fn in_table_body(&self) -> bool {
        matches!(
            self.open.last(),
            Some(Open::Table(_) | Open::Section(_) | Open::Row)
        )
    }

    fn in_grid(&self) -> bool {
        self.grid.is_some()
    }

    pub(super) fn token(&mut self, t: &Token<'_>) -> Result<(), Declined> {
        let after_pre = std::mem::take(&mut self.after_pre);
        match *t {
            Token::Text(raw) => {
                if self.reopens {
                    self.fill_heading();
                }
                if after_pre {
                    self.text_after_pre(raw)?;
                } else {
                    decode_refs(raw, &mut self.pending)?;
                }
                if self.in_table_body() && self.pending.contains(|c: char| !is_html_ws(c)) {
                    return Err(());
                }
                Ok(())
            }
            Token::Comment => self.flush(),
            Token::Start {
                kind,
                colspan,
                rowspan,
            } => self.start(kind, colspan, rowspan),
            Token::End(kind) => self.end(kind),
        }
    }

    /// Text right after `<pre>`, whose leading LF html5ever's tree builder drops: its
    /// tokenizer reads CR LF and a lone CR as that LF, and `&#10;` too, not `&#13;` (CR).
    fn text_after_pre(&mut self, raw: &str) -> Result<(), Declined> {
        if let Some(rest) = raw.strip_prefix('\r') {
            return decode_refs(rest.strip_prefix('\n').unwrap_or(rest), &mut self.pending);
        }
        let from = self.pending.len();
        decode_refs(raw, &mut self.pending)?;
        if self.pending[from..].starts_with('\n') {
            self.pending.remove(from);
        }
        Ok(())
    }

    /// Ends the current text node.
    fn flush(&mut self) -> Result<(), Declined> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.pending);
        if self.in_table_body() {
            // Only whitespace reaches here; the tree keeps it inside the table, unread.
        } else if let Some(grid) = &mut self.grid {
            // In a grid table's cell (or caption, whose text the grid does not show).
            if let Some((cell, _, _)) = &mut grid.cell {
                push_collapsed(&text, cell);
            }
        } else {
            push_collapsed(&text, &mut self.out);
        }
        self.pending = text;
        self.pending.clear();
        Ok(())
    }

    /// Notes that html5ever may have opened an element (not tracked here) in the innermost
    /// open element, if that is a heading: see [`Open::Heading`].
    fn fill_heading(&mut self) {
        if let Some(Open::Heading(filled)) = self.open.last_mut() {
            *filled = true;
        }
    }

    fn push(&mut self, o: Open) -> Result<(), Declined> {
        if self.open.len() >= MAX_OPEN {
            return Err(());
        }
        if matches!(o, Open::Block(_) | Open::Heading(_)) {
            // The block may open in the cell's formatting elements even where they opened
            // deeper (a closed block took them along; html5ever reopens them here).
            let depth_now = self.open.len();
            for f in self.formatting.iter_mut().rev() {
                match f {
                    Formatting::Cell => break,
                    Formatting::Element { depth, .. } => *depth = (*depth).min(depth_now),
                }
            }
        }
        self.open.push(o);
        Ok(())
    }

    /// A formatting element's start tag in a cell; `<a>` first ends an open `a` as `</a>`
    /// does.
    fn open_formatting(&mut self, name: u8) -> Result<(), Declined> {
        if name == A {
            self.close_formatting(A)?;
        }
        if self.formatting.len() >= MAX_FORMATTING {
            return Err(());
        }
        self.formatting.push(Formatting::Element {
            name,
            depth: self.open.len(),
        });
        Ok(())
    }

    /// A formatting element's end tag in a cell: declines when a block that may have opened
    /// inside the element is open (html5ever would move it), else forgets the element.
    fn close_formatting(&mut self, name: u8) -> Result<(), Declined> {
        for k in (0..self.formatting.len()).rev() {
            match self.formatting[k] {
                Formatting::Cell => return Ok(()),
                Formatting::Element { name: n, depth } if n == name => {
                    let inside = &self.open[depth.min(self.open.len())..];
                    if inside
                        .iter()
                        .any(|o| matches!(o, Open::Block(_) | Open::Heading(_)))
                    {
                        return Err(());
                    }
                    if k + 1 == self.formatting.len() {
                        // The common case: the innermost entry, as the page nests it.
                        self.formatting.pop();
                    } else {
                        self.formatting.remove(k);
                    }
                    return Ok(());
                }
                Formatting::Element { .. } => {}
            }
        }
        Ok(())
    }

    fn start(
        &mut self,
        kind: Kind,
        colspan: Option<&str>,
        rowspan: Option<&str>,
    ) -> Result<(), Declined> {
        let structure = self.structure();
        if self.in_table_body() {
            // Inside a table, outside a cell: only table structure is read in place.
            self.flush()?;
            return match kind {
                Kind::Row => {
                    self.close_to_table_body(true)?;
                    self.open_row()
                }
                Kind::Cell { th } => {
                    if self.open.last() != Some(&Open::Row) {
                        self.open_row()?;
                    }
                    self.open_cell(th, colspan, rowspan)
                }
                Kind::Section(k) => {
                    self.close_to_table_body(false)?;
                    if !self.in_grid() {
                        line_break(&mut self.out);
                    }
                    self.push(Open::Section(k))
                }
                // html5ever closes the open row and section and opens a colgroup in the
                // table, which the next row or cell closes again: that starts a new row.
                Kind::Col => self.close_to_table_body(false),
                Kind::Hidden => Ok(()),
                _ => Err(()),
            };
        }
        let in_cell = matches!(structure, Some(Open::Cell { .. }));
        match kind {
            Kind::Table => {
                self.flush()?;
                let grid = !self.nested.get(self.tables_seen).copied().unwrap_or(false);
                self.tables_seen += 1;
                line_break(&mut self.out);
                if grid {
                    self.grid = Some(Grid::new());
                }
                self.push(Open::Table(grid))
            }
            Kind::Row | Kind::Cell { .. } | Kind::Section(_) | Kind::Caption | Kind::Col => {
                if !in_cell {
                    // Outside any table html5ever ignores these tags: no node, no break.
                    return if structure.is_none() { Ok(()) } else { Err(()) };
                }
                self.flush()?;
                self.close_cell()?;
                match kind {
                    Kind::Cell { th } => self.open_cell(th, colspan, rowspan),
                    Kind::Row => {
                        self.close_to_table_body(true)?;
                        self.open_row()
                    }
                    Kind::Section(k) => {
                        self.close_to_table_body(false)?;
                        if !self.in_grid() {
                            line_break(&mut self.out);
                        }
                        self.push(Open::Section(k))
                    }
                    // As in a row: the row and section close for a colgroup.
                    Kind::Col => self.close_to_table_body(false),
                    _ => Err(()),
                }
            }
            Kind::Br => {
                if self.reopens {
                    self.fill_heading();
                }
                self.flush()?;
                if !self.in_grid() {
                    line_break(&mut self.out);
                }
                Ok(())
            }
            Kind::Block(i) => {
                self.flush()?;
                self.close_implied(kind)?;
                if !self.in_grid() {
                    line_break(&mut self.out);
                }
                match BLOCKS[i as usize] {
                    // hr is void: no end tag will close it.
                    "hr" => return Ok(()),
                    "pre" => self.after_pre = true,
                    _ => {}
                }
                self.push(Open::Block(i))
            }
            Kind::Heading => {
                self.flush()?;
                self.close_implied(kind)?;
                if !self.in_grid() {
                    line_break(&mut self.out);
                }
                self.push(Open::Heading(false))
            }
            Kind::Root => Ok(()),
            Kind::Hidden => {
                if self.in_grid() {
                    // A cell's text would include it.
                    return Err(());
                }
                self.flush()
            }
            Kind::Inline | Kind::Formatting(_) => {
                if let Kind::Formatting(name) = kind {
                    if in_cell {
                        self.open_formatting(name)?;
                    }
                }
                self.reopens = true;
                self.fill_heading();
                self.flush()
            }
        }
    }

    fn end(&mut self, kind: Kind) -> Result<(), Declined> {
        let structure = self.structure();
        match kind {
            Kind::Table => {
                if !self.open.iter().any(|o| matches!(o, Open::Table(_))) {
                    return Ok(());
                }
                self.flush()?;
                self.close_cell()?;
                loop {
                    match self.open.pop() {
                        Some(Open::Table(grid)) => {
                            if grid {
                                self.close_row();
                                self.grid = None;
                            }
                            line_break(&mut self.out);
                            return Ok(());
                        }
                        Some(Open::Row) => self.close_row(),
                        Some(Open::Section(_)) => {
                            if !self.in_grid() {
                                line_break(&mut self.out);
                            }
                        }
                        _ => return Err(()),
                    }
                }
            }
            Kind::Cell { th } => {
                match structure {
                    // html5ever ignores `</th>` in a td and `</td>` in a th: the cell, the
                    // innermost in table scope, is the only one it could close.
                    Some(Open::Cell { th: open }) if open != th => return Ok(()),
                    Some(Open::Cell { .. }) => {}
                    None => return Ok(()),
                    Some(_) => return Err(()),
                }
                self.flush()?;
                self.close_cell()
            }
            Kind::Row | Kind::Section(_) => {
                let Some(_) = structure else {
                    return Ok(());
                };
                let target = match kind {
                    Kind::Section(k) => Open::Section(k),
                    _ => Open::Row,
                };
                // The element must be open in the current table.
                let table_at = self
                    .open
                    .iter()
                    .rposition(|o| matches!(o, Open::Table(_)))
                    .ok_or(())?;
                if !self.open[table_at..].contains(&target) {
                    return Err(());
                }
                self.flush()?;
                self.close_cell()?;
                if kind == Kind::Row {
                    if self.open.last() != Some(&Open::Row) {
                        return Err(());
                    }
                    self.open.pop();
                    self.close_row();
                    Ok(())
                } else {
                    // Closes the rows and the section.
                    self.close_to_table_body(false)
                }
            }
            Kind::Caption => Err(()),
            // html5ever ignores `</col>`, and `</colgroup>` too but in a colgroup, which holds
            // no text: neither changes what is read.
            Kind::Col => Ok(()),
            Kind::Br => self.start(Kind::Br, None, None),
            Kind::Block(i) => self.end_block(Open::Block(i), BLOCKS[i as usize]),
            Kind::Heading => self.end_block(Open::Heading(false), "h1"),
            Kind::Root => Ok(()),
            // The start tag already separated the text around the element.
            Kind::Hidden => Ok(()),
            // A formatting element's end tag can make html5ever open a copy of it here.
            Kind::Inline | Kind::Formatting(_) => {
                if let Kind::Formatting(name) = kind {
                    // Outside its cell (in a table in it) html5ever ignores the end tag.
                    if matches!(structure, Some(Open::Cell { .. })) {
                        self.close_formatting(name)?;
                    }
                }
                self.fill_heading();
                self.flush()
            }
        }
    }

    /// What html5ever closes when a block opens: an open `p`, an open `li` (or `dd`/`dt`)
    /// when another starts, a heading when another heading starts.
    fn close_implied(&mut self, kind: Kind) -> Result<(), Declined> {
        let top = self.open.last().copied();
        if top == Some(Open::Block(P)) {
            self.open.pop();
        }
        let siblings: &[&str] = match kind {
            Kind::Block(i) if BLOCKS[i as usize] == "li" => &["li"],
            Kind::Block(i) if matches!(BLOCKS[i as usize], "dd" | "dt") => &["dd", "dt"],
            // html5ever closes only a heading that is its current node, which an element
            // this pass does not track may hide.
            Kind::Heading => {
                return match self.open.last() {
                    Some(Open::Heading(true)) => Err(()),
                    Some(Open::Heading(false)) => {
                        self.open.pop();
                        Ok(())
                    }
                    _ => Ok(()),
                };
            }
            _ => return Ok(()),
        };
        for k in (0..self.open.len()).rev() {
            match self.open[k] {
                Open::Block(i) if siblings.contains(&BLOCKS[i as usize]) => {
                    self.open.truncate(k);
                    return Ok(());
                }
                Open::Block(i) if matches!(BLOCKS[i as usize], "div" | "p") => {}
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// `</p>`, `</div>`, ...: closes the element if it is open in scope; `</p>` with no p
    /// open makes an empty paragraph; any other end tag of an element not open is ignored.
    fn end_block(&mut self, which: Open, name: &str) -> Result<(), Declined> {
        let mut found = None;
        for (k, o) in self.open.iter().enumerate().rev() {
            // Any heading's end tag closes any heading, whatever may be open in it.
            let heading = matches!((o, which), (Open::Heading(_), Open::Heading(_)));
            if *o == which || heading {
                found = Some(k);
                break;
            }
            let list_scope = name == "li"
                && matches!(o, Open::Block(i) if matches!(BLOCKS[*i as usize], "ul" | "ol"));
            if matches!(
                o,
                Open::Table(_) | Open::Cell { .. } | Open::Section(_) | Open::Row
            ) || list_scope
            {
                break;
            }
        }
        match found {
            Some(k) => {
                self.flush()?;
                self.open.truncate(k);
                if !self.in_grid() {
                    line_break(&mut self.out);
                }
                Ok(())
            }
            None if name == "p" => {
                if self.in_table_body() {
                    return Err(());
                }
                self.flush()?;
                if !self.in_grid() {
                    line_break(&mut self.out);
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Closes the open row, and the open section too unless `rows`, back to the table (or
    /// its section when `rows`).
    fn close_to_table_body(&mut self, rows: bool) -> Result<(), Declined> {
        loop {
            match self.open.last() {
                Some(Open::Row) => {
                    self.open.pop();
                    self.close_row();
                }
                Some(Open::Section(_)) if !rows => {
                    self.open.pop();
                    if !self.in_grid() {
                        line_break(&mut self.out);
                    }
                }
                Some(Open::Table(_) | Open::Section(_)) => return Ok(()),
                _ => return Err(()),
            }
        }
    }

    fn open_row(&mut self) -> Result<(), Declined> {
        match &mut self.grid {
            Some(grid) => {
                if grid.rows_left > 0 {
                    grid.rows_left -= 1;
                    grid.cells = Some(Vec::new());
                    grid.col = 0;
                }
            }
            None => line_break(&mut self.out),
        }
        self.push(Open::Row)
    }

    fn open_cell(
        &mut self,
        th: bool,
        colspan: Option<&str>,
        rowspan: Option<&str>,
    ) -> Result<(), Declined> {
        if let Some(grid) = &mut self.grid {
            if grid.cells.is_some() {
                let colspan = span(colspan, MAX_COLS.saturating_sub(grid.col).max(1));
                let rowspan = span(rowspan, MAX_ROWS);
                grid.cell = Some((String::new(), colspan, rowspan));
            }
        }
        self.formatting.push(Formatting::Cell);
        self.push(Open::Cell { th })
    }

    /// Closes the open cell, if any (and blocks inside it), placing it on the grid.
    fn close_cell(&mut self) -> Result<(), Declined> {
        // The current table's cell: none when a table is open inside the last cell.
        let Some(at) = self
            .open
            .iter()
            .rposition(|o| matches!(o, Open::Cell { .. } | Open::Table(_)))
        else {
            return Ok(());
        };
        if !matches!(self.open[at], Open::Cell { .. }) {
            return Ok(());
        }
        self.open.truncate(at);
        // html5ever clears its formatting elements back to the cell's marker.
        if let Some(m) = self
            .formatting
            .iter()
            .rposition(|f| matches!(f, Formatting::Cell))
        {
            self.formatting.truncate(m);
        }
        match &mut self.grid {
            Some(grid) => grid.place_cell(),
            // A layout table's cell keeps its words apart from the next cell's.
            None => line_break(&mut self.out),
        }
        Ok(())
    }

    /// Ends the grid's current row and writes it.
    fn close_row(&mut self) {
        if let Some(grid) = &mut self.grid {
            grid.place_cell();
            if let Some(mut cells) = grid.cells.take() {
                grid.cover(&mut cells);
                line_break(&mut self.out);
                for (k, cell) in cells.iter().enumerate() {
                    if k > 0 {
                        self.out.push('\t');
                    }
                    self.out.push_str(cell);
                }
                line_break(&mut self.out);
            }
        } else {
            line_break(&mut self.out);
        }
    }

    pub(super) fn finish(&mut self) -> Result<(), Declined> {
        self.flush()?;
        while let Some(o) = self.open.last().copied() {
            match o {
                Open::Cell { .. } => self.close_cell()?,
                Open::Row => {
                    self.open.pop();
                    self.close_row();
                }
                Open::Table(grid) => {
                    self.open.pop();
                    if grid {
                        self.close_row();
                        self.grid = None;
                    }
                    line_break(&mut self.out);
                }
                _ => {
                    self.open.pop();
                    if !self.in_grid() {
                        line_break(&mut self.out);
                    }
                }
            }
        }
        line_break(&mut self.out);
        Ok(())
    }
}
