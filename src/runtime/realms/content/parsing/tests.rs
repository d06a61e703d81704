use serde_json::{json, Map, Value};

use super::*;

fn run(input: &[u8], ty: ParsingType) -> Result<(ParseSummary, Vec<Value>), ParseError> {
    run_with(input, ty, &ParseOptions::default())
}

fn run_with(
    input: &[u8],
    ty: ParsingType,
    options: &ParseOptions,
) -> Result<(ParseSummary, Vec<Value>), ParseError> {
    let mut out = Vec::new();
    let mut sink = |m: Map<String, Value>| {
        out.push(Value::Object(m));
        Ok(())
    };
    let summary = parse(input, ty, options, &mut sink)?;
    Ok((summary, out))
}

fn types(s: &ParseSummary) -> Vec<(String, ColumnType, u64)> {
    s.columns
        .iter()
        .map(|c| (c.name.clone(), c.column_type, c.null_count))
        .collect()
}

#[test]
fn csv_with_quotes_commas_newlines_bom_and_types() {
    let input = "\u{feff}id,name,price,active,joined,seen_at,code\n\
                 1,\"Smith, Ada\",9.5,true,2024-01-31,2024-01-31T10:00:00Z,007\n\
                 2,\"multi\nline\",,false,2024-02-01,2024-02-01 11:30:00,008\n"
        .as_bytes();
    let (s, records) = run(input, ParsingType::Auto).unwrap();
    assert_eq!(s.parsing_type, "csv");
    assert_eq!(s.record_count, 2);
    assert_eq!(records[0]["name"], "Smith, Ada");
    assert_eq!(records[1]["name"], "multi\nline");
    assert_eq!(records[0]["id"], 1);
    assert_eq!(records[1]["price"], Value::Null);
    assert_eq!(records[0]["code"], "007", "leading zeros stay text");
    assert_eq!(
        types(&s),
        vec![
            ("id".into(), ColumnType::Integer, 0),
            ("name".into(), ColumnType::String, 0),
            ("price".into(), ColumnType::Float, 1),
            ("active".into(), ColumnType::Boolean, 0),
            ("joined".into(), ColumnType::Date, 0),
            ("seen_at".into(), ColumnType::Datetime, 0),
            ("code".into(), ColumnType::String, 0),
        ]
    );
}

#[test]
fn tsv_semicolons_and_headerless_files() {
    let (s, r) = run(b"a\tb\n1\t2\n3\t4\n", ParsingType::Auto).unwrap();
    assert_eq!((s.parsing_type, s.record_count), ("tsv", 2));
    assert_eq!(r[1], json!({"a": 3, "b": 4}));
    let (s, r) = run(b"x;y\n1;2\n", ParsingType::Auto).unwrap();
    assert_eq!((s.parsing_type, s.record_count), ("csv", 1));
    assert_eq!(r[0], json!({"x": 1, "y": 2}));
    let (s, r) = run(b"1,2\n3,4\n", ParsingType::Csv).unwrap();
    assert_eq!(s.record_count, 2);
    assert_eq!(r[0], json!({"column_1": 1, "column_2": 2}));
    let forced = ParseOptions {
        header: Some(false),
        ..ParseOptions::default()
    };
    let (s, _) = run_with(b"name,city\nAda,London\n", ParsingType::Csv, &forced).unwrap();
    assert_eq!(s.record_count, 2);
}

#[test]
fn a_ragged_csv_fails_with_its_line_number() {
    let err = run(b"a,b,c\n1,2,3\n4,5\n", ParsingType::Csv).unwrap_err();
    assert_eq!(err.message, "line 3: expected 3 fields, found 2");
}

#[test]
fn json_arrays_single_objects_and_lines() {
    let (s, r) = run(
        br#"[{"a": 1, "b": "x"}, {"a": 2.5, "c": [1]}]"#,
        ParsingType::Auto,
    )
    .unwrap();
    assert_eq!((s.parsing_type, s.record_count), ("json", 2));
    assert_eq!(r[1]["c"], json!([1]));
    assert_eq!(
        types(&s),
        vec![
            ("a".into(), ColumnType::Float, 0),
            ("b".into(), ColumnType::String, 1),
            ("c".into(), ColumnType::Json, 1),
        ]
    );
    let (s, _) = run(br#"{"only": true}"#, ParsingType::Auto).unwrap();
    assert_eq!((s.parsing_type, s.record_count), ("json", 1));
    let (s, r) = run(b"{\"a\":1}\n\n{\"a\":2}\n", ParsingType::Auto).unwrap();
    assert_eq!((s.parsing_type, s.record_count), ("jsonl", 2));
    assert_eq!(r[1]["a"], 2);
    let err = run(b"{\"a\":1}\n{\"a\":\n", ParsingType::Jsonl).unwrap_err();
    assert!(err.message.starts_with("line 2: "), "{}", err.message);
    let err = run(b"[{\"a\":1},\n 5]", ParsingType::Json).unwrap_err();
    assert_eq!(
        err.message,
        "line 2: element 2 of the array is not an object"
    );
    let err = run(b"[{\"a\":1},\n{\"a\": }]", ParsingType::Json).unwrap_err();
    assert!(err.message.starts_with("line 2: "), "{}", err.message);
}

#[test]
fn text_empty_and_binary_files() {
    let (s, r) = run(b"first line\r\nsecond\n", ParsingType::Auto).unwrap();
    assert_eq!((s.parsing_type, s.record_count), ("text", 2));
    assert_eq!(r[0], json!({"text": "first line"}));
    let (s, r) = run(b"", ParsingType::Auto).unwrap();
    assert_eq!((s.record_count, r.len()), (0, 0));
    assert!(s.columns.is_empty());
    let (s, _) = run(b"", ParsingType::Csv).unwrap();
    assert_eq!(s.record_count, 0);
    let err = run(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ParsingType::Auto).unwrap_err();
    assert!(err.message.contains("binary"), "{}", err.message);
    let err = run(b"caf\xe9,x\n", ParsingType::Auto).unwrap_err();
    assert!(err.message.contains("not UTF-8"), "{}", err.message);
}

#[test]
fn a_sink_error_stops_the_parse() {
    let mut n = 0;
    let mut sink = |_m: Map<String, Value>| {
        n += 1;
        if n == 2 {
            Err(ParseError::new("consumer gone"))
        } else {
            Ok(())
        }
    };
    let err = parse(
        &b"a\n1\n2\n3\n"[..],
        ParsingType::Csv,
        &ParseOptions::default(),
        &mut sink,
    )
    .unwrap_err();
    assert_eq!(err.message, "consumer gone");
    let mut m = 0;
    let mut sink = |_m: Map<String, Value>| {
        m += 1;
        Err(ParseError::new("stop"))
    };
    let err = parse(
        &br#"[{"a":1},{"a":2}]"#[..],
        ParsingType::Json,
        &ParseOptions::default(),
        &mut sink,
    )
    .unwrap_err();
    assert_eq!(err.message, "stop");
    assert_eq!(m, 1);
}

#[test]
fn review_regressions_numbers_nuls_lines_and_many_columns() {
    let (_, r) = run(b"id,big\n+007,123456789012345678901234\n", ParsingType::Csv).unwrap();
    assert_eq!(r[0]["id"], "+007");
    assert_eq!(r[0]["big"], "123456789012345678901234");
    // A NUL byte past the sniffed head still fails the parse.
    let mut data = b"a,b\n".to_vec();
    for i in 0..20_000 {
        data.extend_from_slice(format!("{i},x\n").as_bytes());
    }
    data.extend_from_slice(b"1,\0\n");
    let err = run(&data, ParsingType::Csv).unwrap_err();
    assert_eq!(err.message, "line 20002: binary content (a NUL byte)");
    // Line numbers count leading blank lines.
    let err = run(b"\n\n\n[{\"a\":1},\n\n{\"a\": }]", ParsingType::Json).unwrap_err();
    assert!(err.message.starts_with("line 6: "), "{}", err.message);
    // Each record bringing a new key: linear, and the column list is capped.
    let mut lines = String::new();
    for i in 0..20_000 {
        lines.push_str(&format!("{{\"k{i}\": {i}}}\n"));
    }
    let started = std::time::Instant::now();
    let (s, _) = run(lines.as_bytes(), ParsingType::Jsonl).unwrap();
    assert_eq!(s.columns.len(), super::infer::MAX_COLUMNS);
    assert_eq!(s.columns[0].null_count, 19_999);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // Thousands of repeated header names are named in linear time.
    let header = vec!["a"; 4000].join(",");
    let row = vec!["1"; 4000].join(",");
    let input = format!("{header}\n{row}\n");
    let opts = ParseOptions {
        header: Some(true),
        ..ParseOptions::default()
    };
    let (s, _) = run_with(input.as_bytes(), ParsingType::Csv, &opts).unwrap();
    assert_eq!(s.columns[3999].name, "a_4000");
}

#[test]
fn a_column_takes_its_dominant_type_when_few_values_break_it() {
    let mut input = String::from("n,label\n");
    for i in 0..19 {
        input.push_str(&format!("{i},x\n"));
    }
    input.push_str("oops,x\n");
    let (s, _) = run(input.as_bytes(), ParsingType::Csv).unwrap();
    // 19 of 20 values are integers (95% >= 90%): integer, with one break.
    assert_eq!(s.columns[0].column_type, ColumnType::Integer);
    let (s, _) = run(b"n\n1\nx\n2\ny\n", ParsingType::Csv).unwrap();
    assert_eq!(
        s.columns[0].column_type,
        ColumnType::String,
        "half and half stays text"
    );
    assert!(fits(ColumnType::Integer, &serde_json::json!(3)));
    assert!(!fits(ColumnType::Integer, &serde_json::json!("oops")));
    assert!(fits(ColumnType::Date, &serde_json::json!("2024-02-29")));
    assert!(!fits(ColumnType::Date, &serde_json::json!("2024-02-30")));
}

/// A customer file in EBCDIC, laid out by a copybook, each value worked out by hand.
#[test]
fn copybook_records_are_decoded_field_by_field() {
    let copybook = "\
       01  CUSTOMER.
           05  CUST-ID      PIC 9(3).
           05  CUST-NAME    PIC X(4).
           05  BALANCE      PIC S9(3)V99 COMP-3.
           05  VISITS       PIC 9(4) COMP.
";
    // 3 + 4 + 3 + 2 = 12 bytes a record. "007", "ADA ", -123.45 packed (12 34 5D), 258.
    let mut data = vec![
        0xF0, 0xF0, 0xF7, 0xC1, 0xC4, 0xC1, 0x40, 0x12, 0x34, 0x5D, 0x01, 0x02,
    ];
    // "042", "BOB ", +0.5 (00 05 0C), 7.
    data.extend([
        0xF0, 0xF4, 0xF2, 0xC2, 0xD6, 0xC2, 0x40, 0x00, 0x05, 0x0C, 0x00, 0x07,
    ]);
    let opts = ParseOptions {
        copybook: Some(copybook.into()),
        ..ParseOptions::default()
    };
    let (s, r) = run_with(&data, ParsingType::Auto, &opts).unwrap();
    assert_eq!(s.parsing_type, "copybook");
    assert_eq!(
        r,
        [
            json!({"CUST-ID": 7, "CUST-NAME": "ADA", "BALANCE": -123.45, "VISITS": 258}),
            json!({"CUST-ID": 42, "CUST-NAME": "BOB", "BALANCE": 0.5, "VISITS": 7}),
        ]
    );
    let names: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["CUST-ID", "CUST-NAME", "BALANCE", "VISITS"]);
    // The same records in ASCII, one per line.
    let ascii = b"007ADA \x12\x34\x5d\x01\x02\n042BOB \x00\x05\x0c\x00\x07\n";
    let (_, r) = run_with(ascii, ParsingType::Auto, &opts).unwrap();
    assert_eq!(r[1]["CUST-NAME"], "BOB");
    assert_eq!(r[1]["BALANCE"], 0.5);
    // A short last record is named.
    let err = run_with(&data[..20], ParsingType::Auto, &opts).unwrap_err();
    assert!(
        err.message.contains("record 2: the file ends with 8 bytes"),
        "{err}"
    );
}
