//! Parquet: one column per field, strings as UTF-8 (null where the report has none: no agency,
//! no place, no date), finding counts as INT64, count metrics as INT64 and amounts as DOUBLE,
//! absent metrics and reports without a year as nulls; zstd-compressed. Rows are gathered
//! into row groups of [`ROW_GROUP_ROWS`] and written group by group, so memory stays flat.

use std::fs::File;
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::Type;

use super::{MetricColumn, Row, Sink, COLUMNS};
use crate::model::catalogue::MetricKind;

/// Reports per row group: with ~160 metric columns about 20 MB gathered at once.
const ROW_GROUP_ROWS: usize = 16_384;

/// What a column holds, in the file and while gathered.
enum Gathered {
    /// Required UTF-8 text.
    Text(Vec<ByteArray>),
    /// Optional INT32 (the year): the values present, and a definition level per row.
    OptionalInt32(Vec<i32>, Vec<i16>),
    /// Required BOOLEAN.
    Flag(Vec<bool>),
    /// Required INT64 (finding counts).
    Int64(Vec<i64>),
    /// Optional DOUBLE (the amounts).
    OptionalDouble(Vec<f64>, Vec<i16>),
    /// Optional UTF-8 text (agency, places, date, source: null when empty).
    OptionalText(Vec<ByteArray>, Vec<i16>),
    /// Optional INT64 (the count metrics).
    OptionalInt64(Vec<i64>, Vec<i16>),
}

pub struct Parquet {
    writer: SerializedFileWriter<File>,
    columns: Vec<Gathered>,
    rows: usize,
}

fn io(e: parquet::errors::ParquetError) -> std::io::Error {
    std::io::Error::other(e)
}

fn field(
    name: &str,
    physical: Physical,
    repetition: Repetition,
    text: bool,
) -> std::io::Result<Arc<Type>> {
    let logical = text.then_some(LogicalType::String);
    Ok(Arc::new(
        Type::primitive_type_builder(name, physical)
            .with_repetition(repetition)
            .with_logical_type(logical)
            .build()
            .map_err(io)?,
    ))
}

impl Parquet {
    pub fn new(file: File, metrics: Vec<MetricColumn>) -> std::io::Result<Parquet> {
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for name in COLUMNS {
            let (physical, repetition, text, gathered) = match name {
                "year" => (
                    Physical::INT32,
                    Repetition::OPTIONAL,
                    false,
                    Gathered::OptionalInt32(Vec::new(), Vec::new()),
                ),
                "latest" => (
                    Physical::BOOLEAN,
                    Repetition::REQUIRED,
                    false,
                    Gathered::Flag(Vec::new()),
                ),
                "errors" | "warnings" | "infos" => (
                    Physical::INT64,
                    Repetition::REQUIRED,
                    false,
                    Gathered::Int64(Vec::new()),
                ),
                "compliance_score" | "compliance_coverage" => (
                    Physical::DOUBLE,
                    Repetition::OPTIONAL,
                    false,
                    Gathered::OptionalDouble(Vec::new(), Vec::new()),
                ),
                "id" | "template" => (
                    Physical::BYTE_ARRAY,
                    Repetition::REQUIRED,
                    true,
                    Gathered::Text(Vec::new()),
                ),
                _ => (
                    Physical::BYTE_ARRAY,
                    Repetition::OPTIONAL,
                    true,
                    Gathered::OptionalText(Vec::new(), Vec::new()),
                ),
            };
            fields.push(field(name, physical, repetition, text)?);
            columns.push(gathered);
        }
        for metric in &metrics {
            let (physical, gathered) = match metric.kind {
                MetricKind::Count | MetricKind::SignedCount => (
                    Physical::INT64,
                    Gathered::OptionalInt64(Vec::new(), Vec::new()),
                ),
                MetricKind::Amount => (
                    Physical::DOUBLE,
                    Gathered::OptionalDouble(Vec::new(), Vec::new()),
                ),
            };
            fields.push(field(&metric.path, physical, Repetition::OPTIONAL, false)?);
            columns.push(gathered);
        }
        let schema = Type::group_type_builder("report")
            .with_fields(fields)
            .build()
            .map_err(io)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer =
            SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties)).map_err(io)?;
        Ok(Parquet {
            writer,
            columns,
            rows: 0,
        })
    }

    /// Writes the gathered rows as one row group.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group().map_err(io)?;
        for gathered in &mut self.columns {
            let mut column = group
                .next_column()
                .map_err(io)?
                .ok_or_else(|| std::io::Error::other("fewer Parquet columns than fields"))?;
            write_column(&mut column, gathered).map_err(io)?;
            column.close().map_err(io)?;
        }
        group.close().map_err(io)?;
        self.rows = 0;
        Ok(())
    }
}

/// Writes one gathered column and empties it for the next row group.
fn write_column(
    column: &mut SerializedColumnWriter<'_>,
    gathered: &mut Gathered,
) -> parquet::errors::Result<()> {
    match gathered {
        Gathered::Text(v) => column.typed::<ByteArrayType>().write_batch(v, None, None)?,
        Gathered::OptionalInt32(v, d) => {
            column.typed::<Int32Type>().write_batch(v, Some(d), None)?
        }
        Gathered::Flag(v) => column.typed::<BoolType>().write_batch(v, None, None)?,
        Gathered::Int64(v) => column.typed::<Int64Type>().write_batch(v, None, None)?,
        Gathered::OptionalDouble(v, d) => {
            column.typed::<DoubleType>().write_batch(v, Some(d), None)?
        }
        Gathered::OptionalText(v, d) => {
            column
                .typed::<ByteArrayType>()
                .write_batch(v, Some(d), None)?
        }
        Gathered::OptionalInt64(v, d) => {
            column.typed::<Int64Type>().write_batch(v, Some(d), None)?
        }
    };
    match gathered {
        Gathered::Text(v) => v.clear(),
        Gathered::OptionalInt32(v, d) => (v.clear(), d.clear()).1,
        Gathered::Flag(v) => v.clear(),
        Gathered::Int64(v) => v.clear(),
        Gathered::OptionalDouble(v, d) => (v.clear(), d.clear()).1,
        Gathered::OptionalText(v, d) => (v.clear(), d.clear()).1,
        Gathered::OptionalInt64(v, d) => (v.clear(), d.clear()).1,
    }
    Ok(())
}

/// Appends an optional value and its definition level.
fn push_optional<T>(values: &mut Vec<T>, levels: &mut Vec<i16>, value: Option<T>) {
    match value {
        Some(v) => {
            values.push(v);
            levels.push(1);
        }
        None => levels.push(0),
    }
}

impl Sink for Parquet {
    fn row(&mut self, row: &Row<'_>) -> std::io::Result<()> {
        let r = row.row;
        let (fixed, metrics) = self.columns.split_at_mut(COLUMNS.len());
        for (i, gathered) in fixed.iter_mut().enumerate() {
            match gathered {
                Gathered::Text(v) => v.push(ByteArray::from(row.text(i).as_bytes().to_vec())),
                Gathered::OptionalText(v, d) => {
                    let text = row.text(i);
                    let text =
                        (!text.is_empty()).then(|| ByteArray::from(text.as_bytes().to_vec()));
                    push_optional(v, d, text)
                }
                Gathered::OptionalInt32(v, d) => push_optional(v, d, r.year),
                Gathered::OptionalDouble(v, d) => push_optional(v, d, row.double(i)),
                Gathered::Flag(v) => v.push(r.latest),
                Gathered::Int64(v) => v.push(i64::from(match COLUMNS[i] {
                    "errors" => r.errors,
                    "warnings" => r.warnings,
                    _ => r.infos,
                })),
                _ => unreachable!("the fixed columns are made in new()"),
            }
        }
        for (gathered, value) in metrics.iter_mut().zip(&row.values) {
            match gathered {
                Gathered::OptionalDouble(v, d) => push_optional(v, d, *value),
                // A count is a whole number; one printed otherwise is not a count to keep.
                Gathered::OptionalInt64(v, d) => {
                    let whole = value.filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15);
                    push_optional(v, d, whole.map(|x| x as i64))
                }
                _ => unreachable!("the metric columns are made in new()"),
            }
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.flush()?;
        let file = self.writer.into_inner().map_err(io)?;
        file.sync_all()
    }
}
