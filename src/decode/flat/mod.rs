//! HTML to text in one pass over the tags, without a tree. PURE.
//!
//! Gives exactly the text of the tree walk in [`super::html_to_text`] for the pages it
//! understands, and declines (`None`) on anything whose tree html5ever would rearrange or
//! whose text it would read differently: content foster-parented out of a table, a table
//! opened directly in a table, character references outside a small known set, raw-text
//! elements other than script/style/title/noscript, unterminated tags and comments, a
//! heading opened in a heading that may hold an open inline element, a block in a table
//! cell that a formatting element's end tag would move. The caller then builds the tree. A
//! test compares both on generated tag soup.
//!
//! Its parts: [`tokens`] splits the page into text, tags and comments; [`walker`] follows
//! the open elements as html5ever's tree builder would, declining what it would rearrange;
//! [`grid`] lays a table's cells out on rows and columns, spans and all; [`refs`] decodes
//! the character references of the text.

mod grid;
mod refs;
mod tokens;
mod walker;

use tokens::{nested_tables, tokenize};
use walker::Walker;

/// Why the one-pass flattener handed the page on (not an error: the tree walk reads it).
type Declined = ();

/// The text of `html` as [`super::html_to_text`] gives it, or `None` where this pass
/// cannot be sure of giving the same.
pub(super) fn flatten(html: &str) -> Option<String> {
    if html.as_bytes().contains(&0) {
        return None;
    }
    let tokens = tokenize(html).ok()?;
    let nested = nested_tables(&tokens);
    let mut w = Walker {
        out: String::with_capacity(html.len() / 2),
        pending: String::new(),
        open: Vec::new(),
        grid: None,
        nested,
        tables_seen: 0,
        reopens: false,
        after_pre: false,
        formatting: Vec::new(),
    };
    for t in &tokens {
        w.token(t).ok()?;
    }
    w.finish().ok()?;
    Some(w.out)
}

#[cfg(test)]
mod tests {
    use super::super::html_tree_to_text;
    use super::*;
    use proptest::prelude::*;

    /// Pages as report sites write them: the flattener must read them itself, and read
    /// them as the tree does.
    #[test]
    fn reads_common_pages_like_the_tree() {
        let pages = [
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>年报</title>\
             <style>td{border:1px}</style><script>var a = '<td>';</script></head>\
             <body><div class=\"main\"><h2>二、主动公开政府信息情况</h2>\
             <table border=1><tbody><tr><td rowspan=\"2\">规章</td><td colspan='2'>3</td></tr>\
             <tr><TD>行政&nbsp;许可</TD><td>&#20;5</td></tr></tbody></table>\
             <p>五、存在的<span>主要</span>问题<br>改进情况</p></div></body></html>",
            "<p>一<p>二<div>三</div>四</p>五",
            "<table><tr><td><table><tr><td>a</td><td>1</td></tr></table></td><td>x\
             <p>y</td></tr></table>tail",
            "<ul><li>a<li>b<ol><li>c</ol></ul><dl><dt>d<dd>e</dl><h1>f<h2>g</h2>",
            "<table><tr><td>1<td>2<tr><td>3</table><table><td>4</table>",
            "<p><o:p>&nbsp;</o:p></p><p>&ldquo;引&rdquo; &amp; 1 &lt; 2</p>",
        ];
        for page in pages {
            let flat = flatten(page).unwrap_or_else(|| panic!("declined: {page}"));
            assert_eq!(flat, html_tree_to_text(page), "{page}");
        }
    }

    #[test]
    fn declines_what_the_tree_would_rearrange() {
        for page in [
            "<table>stray text<tr><td>1</td></tr></table>",
            "<table><tr><td>1</td></tr><table>",
            "<p>&copy 2024</p>",
            "<p>&#150;</p>",
            "<textarea><p>x</textarea>",
            "<div a='1>",
            "<!-- open",
        ] {
            assert_eq!(flatten(page), None, "{page}");
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        let tags = [
            "p", "div", "table", "tr", "td", "th", "tbody", "thead", "br", "span", "b", "h2", "h3",
            "li", "ul", "ol", "dd", "dt", "center", "body", "html", "head", "hr", "script",
            "title", "caption", "col", "font", "pre", "colgroup", "tfoot", "a",
        ];
        let texts = [
            "规章",
            "3",
            " ",
            "\n",
            "  x ",
            "&nbsp;",
            "&amp;",
            "&#12354;",
            "a\tb",
            "<",
            "&",
            " 行政\n许可 ",
            "\r\n",
            "&#10;",
        ];
        prop_oneof![
            3 => proptest::sample::select(tags.to_vec()).prop_map(|t| format!("<{t}>")),
            2 => proptest::sample::select(tags.to_vec()).prop_map(|t| format!("</{t}>")),
            1 => (proptest::sample::select(vec!["td", "th"]), 1usize..4, 1usize..4)
                .prop_map(|(t, c, r)| format!("<{t} colspan=\"{c}\" rowspan={r}>")),
            1 => Just("<!-- c -->".to_owned()),
            1 => Just("<TD>".to_owned()),
            4 => proptest::sample::select(texts.to_vec()).prop_map(str::to_owned),
        ]
    }

    /// Found by the property below: an end tag of another section kind (`</thead>` while a
    /// tbody is open) is ignored by the tree builder; the flattener closed the row.
    #[test]
    fn section_end_tag_of_another_kind() {
        let page = r#"<table><td colspan="1" rowspan=1><tbody><td colspan="2" rowspan=1></thead><td colspan="1" rowspan=1>"#;
        if let Some(flat) = flatten(page) {
            assert_eq!(flat, html_tree_to_text(page));
        }
    }

    /// Found by the property below: html5ever closes an open heading at another heading's
    /// start tag only when the heading is its current node; here the font in it is, so the
    /// second h2 nests in the font and the first stays open to the last `</h2>`.
    #[test]
    fn heading_in_an_inline_in_a_heading() {
        let page = "<h2><font><h2></h2>规章</h2>  x ";
        if let Some(flat) = flatten(page) {
            assert_eq!(flat, html_tree_to_text(page));
        }
        assert_eq!(html_tree_to_text(page), "规章\nx\n");
    }

    /// Found by the property below: html5ever ignores `</th>` while a td is the open cell
    /// (and `</td>` in a th), so the script after it is in the cell, whose text the grid
    /// reads; the flattener closed the cell and skipped the script.
    #[test]
    fn cell_end_tag_of_the_other_kind() {
        let page = "<table><TD></th><script><p>";
        if let Some(flat) = flatten(page) {
            assert_eq!(flat, html_tree_to_text(page));
        }
        let page = "<table><tr><th>a</td>b</th><td>c</table>";
        assert_eq!(
            flatten(page).as_deref(),
            Some(html_tree_to_text(page).as_str())
        );
        assert_eq!(html_tree_to_text(page), "ab\tc\n");
    }

    /// Found by the property below: `<col>` in a row (or cell) closes the row and its
    /// section and opens a colgroup in the table, so the next cell starts a new row; the
    /// flattener ignored it and put the cell in the same row.
    #[test]
    fn col_in_a_row_ends_the_row() {
        for page in [
            "<table><td></td><col><td>",
            "<table><tbody><tr><td>1</td><col><td>2</table>",
            "<table><tr><td>1<colgroup><col></colgroup><td>2</table>",
        ] {
            let flat = flatten(page).unwrap_or_else(|| panic!("declined: {page}"));
            assert_eq!(flat, html_tree_to_text(page), "{page}");
        }
        assert_eq!(html_tree_to_text("<table><td>1</td><col><td>2"), "1\n2\n");
    }

    /// Found by the property below: html5ever drops a newline right after `<pre>`, which
    /// shows in a grid cell, where the pre breaks no line: "&&", not "& &".
    #[test]
    fn newline_after_pre_in_a_cell() {
        for page in [
            "<table><td>&amp;<pre>\n&amp;",
            "<table><td>a<pre>\r\nb</pre></td><td>c<pre>&#10;d<pre>\n\ne</table>",
            "<table><td>a<pre>\rb<pre><b>\nc</table>",
        ] {
            let flat = flatten(page).unwrap_or_else(|| panic!("declined: {page}"));
            assert_eq!(flat, html_tree_to_text(page), "{page:?}");
        }
        assert_eq!(html_tree_to_text("<table><td>&amp;<pre>\n&amp;"), "&&\n");
    }

    /// Found by the property below: `</font>` with a block open inside the font makes
    /// html5ever move the block out of it (twice here: the li, then the h2), and scraper's
    /// tree keeps a stale parent link to "规章", so the grid's cell text skips the h2 with
    /// "&". The flattener declines a block moved in a cell; elsewhere, and where no block
    /// is open inside the formatting element, it reads on.
    #[test]
    fn formatting_end_tag_moving_a_block_in_a_cell() {
        let page = "<table><td><font><li><hr>规章<h2>&amp;</font>";
        assert_eq!(html_tree_to_text(page), "规章\n");
        assert_eq!(flatten(page), None);
        for page in [
            "<table><tr><td><b><p>x</p></b>y<p><b>z</b></p><a>1<a>2</a></td></tr></table>",
            "<table><td><b>x</b><div>y<i>z</i></div><b>w<td><b><font>v</font></b>",
            "<font><li><hr>规章<h2>&amp;</font><table><td><p><font>x</font>",
        ] {
            let flat = flatten(page).unwrap_or_else(|| panic!("declined: {page}"));
            assert_eq!(flat, html_tree_to_text(page), "{page}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Whatever the flattener does not decline, it reads exactly as the tree walk does.
        #[test]
        fn agrees_with_the_tree_walk(parts in proptest::collection::vec(piece(), 0..40)) {
            let page = parts.concat();
            if let Some(flat) = flatten(&page) {
                prop_assert_eq!(flat, html_tree_to_text(&page), "{}", page);
            }
        }
    }
}
