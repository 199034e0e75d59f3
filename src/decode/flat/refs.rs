//! Character references in text: the common set decoded, the rest declined.

use super::Declined;

pub(super) fn is_html_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{000C}')
}

/// Appends `raw` with its character references decoded; declines on references outside
/// the common set, which html5ever reads by rules (legacy names without `;`, C1 code
/// points) this pass does not repeat.
pub(super) fn decode_refs(raw: &str, to: &mut String) -> Result<(), Declined> {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        to.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let b = rest.as_bytes();
        match b.first() {
            Some(b'#') => {
                let (digits, radix) = match b.get(1) {
                    Some(b'x' | b'X') => (&rest[2..], 16),
                    _ => (&rest[1..], 10),
                };
                let len = digits
                    .bytes()
                    .position(|c| !c.is_ascii_hexdigit() || (radix == 10 && !c.is_ascii_digit()))
                    .unwrap_or(digits.len());
                if len == 0 || len > 7 || digits.as_bytes().get(len) != Some(&b';') {
                    return Err(());
                }
                let code = u32::from_str_radix(&digits[..len], radix).map_err(|_| ())?;
                if code == 0 || (0x80..=0x9F).contains(&code) {
                    return Err(());
                }
                to.push(char::from_u32(code).ok_or(())?);
                rest = &digits[len + 1..];
            }
            Some(c) if c.is_ascii_alphanumeric() => {
                let len = b
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .unwrap_or(b.len());
                if b.get(len) != Some(&b';') {
                    return Err(());
                }
                let c = named(&rest[..len]).ok_or(())?;
                to.push(c);
                rest = &rest[len + 1..];
            }
            _ => to.push('&'),
        }
    }
    to.push_str(rest);
    Ok(())
}

/// The common named references (HTML's names are case-sensitive).
fn named(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" => '\u{A0}',
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "thinsp" => '\u{2009}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "middot" => '·',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "times" => '×',
        "divide" => '÷',
        "yen" => '¥',
        "copy" => '©',
        "reg" => '®',
        "deg" => '°',
        "plusmn" => '±',
        "permil" => '‰',
        "bull" => '•',
        "sect" => '§',
        "laquo" => '«',
        "raquo" => '»',
        _ => return None,
    })
}
