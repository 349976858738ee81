//! CSV as spreadsheet programs write and read it (RFC 4180): fields separated by commas,
//! quoted with `"` when they hold a comma, a quote or a line break, quotes doubled inside.
//!
//! Files are UTF-8. What Houqin writes starts with a byte-order mark, so that spreadsheet
//! programs open Chinese names as Chinese; what it reads may start with one or not.
//! A few dozen lines instead of a crate: the app carries this code to every phone.

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
        fields.push(std::mem::take(field));
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
                fields.push(std::mem::take(&mut field));
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

/// Writes records as a file: byte-order mark, `\r\n` line ends, quotes where needed.
pub fn write<'a>(records: impl IntoIterator<Item = Vec<&'a str>>) -> String {
    let mut out = String::from(BOM);
    for record in records {
        for (index, field) in record.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
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
    fn broken_quoting_names_its_line() {
        assert_eq!(parse("a,b\n1,2\n3,\"open").unwrap_err(), CsvError { line: 3, message: "a quoted field is never closed" });
        assert_eq!(parse("a\nx\"y").unwrap_err().to_string(), "line 2: a quote inside a field that does not start with one");
        assert_eq!(parse("\"a\"b").unwrap_err().line, 1);
    }
}
