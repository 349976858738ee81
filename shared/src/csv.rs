//! CSV as spreadsheet programs write and read it (RFC 4180): fields separated by commas,
//! quoted with `"` when they hold a comma, a quote or a line break, quotes doubled inside.
//!
//! Files are UTF-8. What Houqin writes starts with a byte-order mark, so that spreadsheet
//! programs open Chinese names as Chinese; what it reads may start with one or not.
//! A few dozen lines instead of a crate: the app carries this code to every phone.
//!
//! A field a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return, and not a plain number) is written with a `'` before it, which
//! spreadsheets show as text: a work order titled `=HYPERLINK(…)` must not run as one in a
//! manager's spreadsheet. Plain numbers are left alone because the exports' quantities
//! and measures (`-3` for stock issued) must stay numbers a spreadsheet adds up, and a
//! number runs nothing. Reading drops that `'` again, as spreadsheets do when they save;
//! a field that itself starts with `'` before such a value gets one more, so it reads
//! back as it was.

use std::fmt;

/// The byte-order mark spreadsheet programs look for to read a file as UTF-8.
pub const BOM: char = '\u{feff}';

/// A file that is not CSV; `line` counts from 1 as an editor shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub message: &'static str,
}

impl fmt::Display for CsvError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CsvError {}

/// One record and the line of the file it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits a file into records. Blank lines are skipped; line breaks inside quotes belong
/// to the field; `\r\n` and `\n` both end a record.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    // Whether the current field was quoted, and whether its quotes are still open.
    let mut quoted = false;
    let mut in_quotes = false;
    let mut end_record = |fields: &mut Vec<String>, field: &mut String, record_line: usize| {
        fields.push(unguarded(std::mem::take(field)));
        let blank = fields.len() == 1 && fields[0].is_empty();
        let fields = std::mem::take(fields);
        if !blank {
            records.push(Record { line: record_line, fields });
        }
    };
    while let Some(char) = chars.next() {
        if in_quotes {
            match char {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                other => field.push(other),
            }
            continue;
        }
        match char {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                in_quotes = true;
            }
            '"' => return Err(CsvError { line, message: "a quote inside a field that does not start with one" }),
            ',' => {
                fields.push(unguarded(std::mem::take(&mut field)));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut fields, &mut field, record_line);
                quoted = false;
                line += 1;
                record_line = line;
            }
            _ if quoted => return Err(CsvError { line, message: "text after a field's closing quote" }),
            other => field.push(other),
        }
    }
    if in_quotes {
        return Err(CsvError { line: record_line, message: "a quoted field is never closed" });
    }
    end_record(&mut fields, &mut field, record_line);
    Ok(records)
}

/// Whether a spreadsheet would read `field` as a formula.
fn formula_like(field: &str) -> bool {
    field.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(field.trim())
}

/// Whether `text` is a decimal number as a spreadsheet reads one: a sign, digits with at
/// most one point, and an exponent, each but the digits optional. Rust's own parser would
/// also take `-inf` and `-NaN`, which a spreadsheet reads as a formula naming a cell range.
fn plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent.strip_prefix(['+', '-']).unwrap_or(exponent))),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty())
        && digits(whole)
        && digits(fraction)
        && exponent.is_none_or(|exponent| !exponent.is_empty() && digits(exponent))
}

/// Whether `field` is written with a `'` before it: it is formula-like once the quotes it
/// starts with are set aside (so `'=1` becomes `''=1`, and reading gives back `'=1`).
fn needs_guard(field: &str) -> bool {
    formula_like(field.trim_start_matches('\''))
}

/// A field as written, with the `'` that kept a formula-like value text taken off.
fn unguarded(field: String) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest.to_owned(),
        _ => field,
    }
}

/// Writes records as a file: byte-order mark, `\r\n` line ends, quotes where needed, a `'`
/// before what a spreadsheet would run as a formula.
pub fn write<'a>(records: impl IntoIterator<Item = Vec<&'a str>>) -> String {
    let mut out = String::from(BOM);
    for record in records {
        for (index, field) in record.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let guarded;
            let field = if needs_guard(field) {
                guarded = format!("'{field}");
                guarded.as_str()
            } else {
                field
            };
            if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
                out.push('"');
                out.push_str(&field.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(field);
            }
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(records: &[Record]) -> Vec<Vec<&str>> {
        records.iter().map(|record| record.fields.iter().map(String::as_str).collect()).collect()
    }

    #[test]
    fn what_is_written_reads_back() {
        let rows = vec![
            vec!["code", "name", "note"],
            vec!["HQ-A", "行政楼", ""],
            vec!["HQ-B", "食堂, 一楼", "say \"hi\""],
            vec!["HQ-C", "two\nlines", " padded "],
        ];
        let text = write(rows.clone());
        assert!(text.starts_with(BOM));
        let read = parse(&text).unwrap();
        assert_eq!(fields(&read), rows);
        assert_eq!(read.iter().map(|record| record.line).collect::<Vec<_>>(), [1, 2, 3, 4]);
    }

    #[test]
    fn spreadsheet_files_read_with_or_without_bom_and_blank_lines() {
        let read = parse("a,b\n\n1,2\r\n3,\"x\ny\"\n4,5").unwrap();
        assert_eq!(fields(&read), [vec!["a", "b"], vec!["1", "2"], vec!["3", "x\ny"], vec!["4", "5"]]);
        assert_eq!(read.iter().map(|record| record.line).collect::<Vec<_>>(), [1, 3, 4, 6]);
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn formulas_are_written_as_text_and_read_back_as_they_were() {
        let rows = vec![
            vec!["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"],
            vec!["-5", "+3.5", "a=b", "'quoted", "", "1e3"],
        ];
        let text = write(rows.clone());
        let lines: Vec<&str> = text.trim_start_matches(BOM).split("\r\n").collect();
        assert!(
            lines[0].starts_with("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1+cmd|' /C calc'!A0,'-2+3,'@SUM(A1),'\tx,\"'\rx\""),
            "{:?}",
            lines[0]
        );
        assert_eq!(lines[1], "-5,+3.5,a=b,'quoted,,1e3", "numbers and ordinary text stay as they are");
        assert_eq!(fields(&parse(&text).unwrap()), rows, "reading gives back what was written");
    }

    #[test]
    fn numbers_stay_numbers_and_what_only_looks_like_one_is_guarded() {
        for number in ["-3", "-3.25", "+0.5", "-.5", "-2.", "-1e3", "-1.5E-2", "+7e+2"] {
            assert!(!needs_guard(number), "{number} is a quantity a spreadsheet adds up");
        }
        for formula in ["-inf", "-NaN", "+infinity", "-", "-.", "-1e", "-1e+", "-1-1", "-1,5", "- 3", "-0x1F", "@1"] {
            assert!(needs_guard(formula), "{formula} is not a plain number");
        }
    }

    #[test]
    fn fields_that_start_with_a_quote_read_back_as_they_were() {
        let rows = vec![vec!["'=1+1", "''-inf", "'", "'plain", "'-3"]];
        let text = write(rows.clone());
        assert_eq!(text.trim_start_matches(BOM), "''=1+1,'''-inf,','plain,'-3\r\n");
        assert_eq!(fields(&parse(&text).unwrap()), rows);
    }

    #[test]
    fn broken_quoting_names_its_line() {
        assert_eq!(parse("a,b\n1,2\n3,\"open").unwrap_err(), CsvError { line: 3, message: "a quoted field is never closed" });
        assert_eq!(parse("a\nx\"y").unwrap_err().to_string(), "line 2: a quote inside a field that does not start with one");
        assert_eq!(parse("\"a\"b").unwrap_err().line, 1);
    }
}
