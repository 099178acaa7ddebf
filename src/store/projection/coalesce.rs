//! Fewer statements per commit: a batch of entries yields a few projection statements per
//! entry, and on SQLite each statement is a round trip to the connection's worker thread
//! (tens of microseconds). Runs of `INSERT … ON CONFLICT DO NOTHING` with the same text
//! become multi-row statements, which changes no row.
//!
//! Order is kept wherever it could matter: what is pending is flushed (in the order the
//! texts first appeared) before an insert that reads a table a pending insert writes
//! (`INSERT … SELECT … FROM t`), before an insert into a table a pending insert reads, and
//! before any other statement (an update, an upsert). Pending inserts with different texts
//! into the same table are reordered only for tables whose rows are fixed by their key
//! ([`COMMUTING_TABLES`]): inserting the same key twice there writes the same row.

use std::borrow::Cow;

use super::{Bind, SqlOp};

/// A statement ready to run: a projection statement, or several merged into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub binds: Vec<Bind>,
}

/// Tables whose rows are determined by their key (`audit_index`: one entry's rows, keyed
/// by log index and SIREN, carry that entry's type, time, contract and asset).
const COMMUTING_TABLES: [&str; 1] = ["audit_index"];

const TAIL: &str = " ON CONFLICT DO NOTHING";
/// Rows per merged statement, largest first, under [`Chunking::PowersOfTwo`].
const CHUNKS: [usize; 9] = [256, 128, 64, 32, 16, 8, 4, 2, 1];

/// How runs of rows are cut into statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Powers of two: a run of `n` rows takes as many statements as `n` has one bits (10
    /// decisions: 8 + 2), from nine texts per shape. For PostgreSQL, where a text not yet
    /// prepared on the connection costs a round trip of its own.
    PowersOfTwo,
    /// One statement per run (up to the size limit), whatever its length. For SQLite, where
    /// preparing a new text is cheap but every statement is a trip to the connection's
    /// thread.
    Exact,
}

impl Chunking {
    /// The chunking that suits the backend.
    pub fn for_sqlite(sqlite: bool) -> Chunking {
        if sqlite {
            Chunking::Exact
        } else {
            Chunking::PowersOfTwo
        }
    }
}

/// How a mergeable insert is built: `head` + one row form per row + `TAIL`.
struct Shape {
    head: &'static str,
    row: &'static str,
    /// Between two rows: `, ` for VALUES tuples, ` UNION ALL ` for SELECTs.
    joiner: &'static str,
    writes: &'static str,
    reads: Option<&'static str>,
    /// Most rows one statement takes: SQLite refuses a compound SELECT of more than 500
    /// terms, so a row form that is itself a `UNION ALL` of two takes half as many.
    max_rows: usize,
}

/// Terms of a compound SELECT the merged statements stay within (SQLite's limit is 500).
const MAX_TERMS: usize = 256;

fn table_after<'a>(sql: &'a str, keyword: &str) -> Option<&'a str> {
    let start = sql.find(keyword)? + keyword.len();
    let rest = &sql[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

fn shape(sql: &'static str) -> Option<Shape> {
    let body = sql.strip_suffix(TAIL)?;
    if !body.starts_with("INSERT INTO ") {
        return None;
    }
    let writes = table_after(body, "INSERT INTO ")?;
    if let Some(at) = body.find(" VALUES (") {
        let (head, row) = body.split_at(at + " VALUES ".len());
        return (row.ends_with(')') && !row.contains("SELECT")).then_some(Shape {
            head,
            row,
            joiner: ", ",
            writes,
            reads: None,
            max_rows: CHUNKS[0],
        });
    }
    let at = body.find(" SELECT ")?;
    let (head, row) = body.split_at(at + 1);
    let terms = row.matches(" UNION ALL ").count() + 1;
    Some(Shape {
        head,
        row,
        joiner: " UNION ALL ",
        writes,
        reads: table_after(row, " FROM "),
        max_rows: (MAX_TERMS / terms).max(1),
    })
}

/// `$n` → `$(n + offset)` in one row form.
fn renumber(row: &str, offset: usize, out: &mut String) {
    let mut chars = row.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut number = 0usize;
        let mut digits = false;
        while let Some(&(_, d)) = chars.peek() {
            let Some(value) = d.to_digit(10) else { break };
            number = number * 10 + value as usize;
            digits = true;
            chars.next();
        }
        if digits {
            out.push_str(&(number + offset).to_string());
        }
    }
}

struct Group {
    sql: &'static str,
    shape: Shape,
    rows: Vec<Vec<Bind>>,
}

fn flush(pending: &mut Vec<Group>, chunking: Chunking, out: &mut Vec<Statement>) {
    for group in pending.drain(..) {
        let mut rows = group.rows.into_iter();
        let mut left = rows.len();
        while left > 0 {
            let take = match chunking {
                Chunking::Exact => left.min(group.shape.max_rows),
                Chunking::PowersOfTwo => CHUNKS
                    .into_iter()
                    .find(|&c| c <= left && c <= group.shape.max_rows)
                    .unwrap_or(1),
            };
            left -= take;
            if take == 1 {
                let binds = rows.next().unwrap_or_default();
                out.push(Statement {
                    sql: Cow::Borrowed(group.sql),
                    binds,
                });
                continue;
            }
            let mut sql = String::from(group.shape.head);
            let mut binds = Vec::new();
            for n in 0..take {
                if n > 0 {
                    sql.push_str(group.shape.joiner);
                }
                renumber(group.shape.row, binds.len(), &mut sql);
                binds.extend(rows.next().unwrap_or_default());
            }
            sql.push_str(TAIL);
            out.push(Statement {
                sql: Cow::Owned(sql),
                binds,
            });
        }
    }
}

impl Statement {
    /// The same statement with SQLite's anonymous `?` parameters: each `$n` occurrence
    /// becomes `?` and its value is bound at that position. SQLite looks a numbered
    /// parameter up by name in a list, per parameter; over the thousands of parameters of a
    /// merged insert that lookup, not the insert, took most of the commit's time.
    /// (Projection statements have no `$` followed by digits inside string literals.)
    pub fn positional(self) -> Statement {
        if !self.sql.contains('$') {
            return self;
        }
        let mut sql = String::with_capacity(self.sql.len());
        let mut binds = Vec::with_capacity(self.binds.len());
        let mut chars = self.sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '$' || !chars.peek().is_some_and(char::is_ascii_digit) {
                sql.push(c);
                continue;
            }
            let mut number = 0usize;
            while let Some(value) = chars.peek().and_then(|d| d.to_digit(10)) {
                number = number * 10 + value as usize;
                chars.next();
            }
            sql.push('?');
            binds.push(
                self.binds
                    .get(number.wrapping_sub(1))
                    .cloned()
                    .unwrap_or(Bind::OptText(None)),
            );
        }
        Statement {
            sql: Cow::Owned(sql),
            binds,
        }
    }
}

/// The statements to run for `ops`, in an order with the same effect, merged where they can be.
pub fn coalesce(ops: Vec<SqlOp>, chunking: Chunking) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut pending: Vec<Group> = Vec::new();
    for op in ops {
        let Some(shape) = shape(op.sql) else {
            flush(&mut pending, chunking, &mut out);
            out.push(Statement {
                sql: Cow::Borrowed(op.sql),
                binds: op.binds,
            });
            continue;
        };
        let must_flush = pending.iter().any(|g| {
            shape.reads == Some(g.shape.writes)
                || g.shape.reads == Some(shape.writes)
                || (g.shape.writes == shape.writes
                    && g.sql != op.sql
                    && !COMMUTING_TABLES.contains(&shape.writes))
        });
        if must_flush {
            flush(&mut pending, chunking, &mut out);
        }
        match pending.iter_mut().find(|g| g.sql == op.sql) {
            Some(group) => group.rows.push(op.binds),
            None => pending.push(Group {
                sql: op.sql,
                shape,
                rows: vec![op.binds],
            }),
        }
    }
    flush(&mut pending, chunking, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: &str = "INSERT INTO decisions (id, n) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    const SELECT: &str = "INSERT INTO audit_index (log_index, siren) \
         SELECT $1, assigner FROM contracts WHERE id = $2 ON CONFLICT DO NOTHING";
    const CONTRACT: &str = "INSERT INTO contracts (id) VALUES ($1) ON CONFLICT DO NOTHING";
    const UPDATE: &str = "UPDATE contracts SET state = $1 WHERE id = $2";

    fn op(sql: &'static str, n: i64) -> SqlOp {
        SqlOp {
            sql,
            binds: vec![Bind::Int(n), Bind::Text(format!("v{n}"))],
        }
    }

    #[test]
    fn runs_of_inserts_become_multi_row_statements() {
        let merged = coalesce(
            (0..5).map(|n| op(VALUES, n)).collect(),
            Chunking::PowersOfTwo,
        );
        assert_eq!(merged.len(), 2, "4 rows, then 1");
        assert_eq!(
            merged[0].sql,
            "INSERT INTO decisions (id, n) VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8) \
             ON CONFLICT DO NOTHING"
        );
        assert_eq!(merged[0].binds.len(), 8);
        assert_eq!(merged[0].binds[6], Bind::Int(3));
        assert_eq!(merged[1].sql, VALUES);
        assert_eq!(merged[1].binds[0], Bind::Int(4));
    }

    #[test]
    fn selects_merge_with_union_all_and_parameters_renumbered() {
        let merged = coalesce(
            (0..4).map(|n| op(SELECT, n)).collect(),
            Chunking::PowersOfTwo,
        );
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].sql,
            "INSERT INTO audit_index (log_index, siren) SELECT $1, assigner FROM contracts \
             WHERE id = $2 UNION ALL SELECT $3, assigner FROM contracts WHERE id = $4 UNION ALL \
             SELECT $5, assigner FROM contracts WHERE id = $6 UNION ALL SELECT $7, assigner \
             FROM contracts WHERE id = $8 ON CONFLICT DO NOTHING"
        );
    }

    #[test]
    fn order_is_kept_where_a_statement_reads_or_updates_what_another_writes() {
        // The audit insert reads `contracts`: the contract's insert runs first.
        let merged = coalesce(
            vec![
                op(CONTRACT, 1),
                op(SELECT, 1),
                op(CONTRACT, 2),
                op(SELECT, 2),
            ],
            Chunking::PowersOfTwo,
        );
        let texts: Vec<&str> = merged.iter().map(|s| s.sql.as_ref()).collect();
        assert_eq!(texts, [CONTRACT, SELECT, CONTRACT, SELECT]);
        // An update flushes what is pending and runs in its place.
        let merged = coalesce(
            vec![op(VALUES, 1), op(UPDATE, 1), op(VALUES, 2)],
            Chunking::PowersOfTwo,
        );
        let texts: Vec<&str> = merged.iter().map(|s| s.sql.as_ref()).collect();
        assert_eq!(texts, [VALUES, UPDATE, VALUES]);
    }

    #[test]
    fn sqlite_gets_one_anonymous_parameter_per_occurrence() {
        let statement = Statement {
            sql: Cow::Borrowed(SELECT),
            binds: vec![Bind::Int(7), Bind::Text("c".into())],
        }
        .positional();
        assert_eq!(
            statement.sql,
            "INSERT INTO audit_index (log_index, siren) SELECT ?, assigner FROM contracts \
             WHERE id = ? ON CONFLICT DO NOTHING"
        );
        assert_eq!(statement.binds, [Bind::Int(7), Bind::Text("c".into())]);
        let repeated = Statement {
            sql: Cow::Borrowed("SELECT $2, $1, $2"),
            binds: vec![Bind::Int(1), Bind::Int(2)],
        }
        .positional();
        assert_eq!(repeated.sql, "SELECT ?, ?, ?");
        assert_eq!(repeated.binds, [Bind::Int(2), Bind::Int(1), Bind::Int(2)]);
    }

    #[test]
    fn parameters_past_nine_are_renumbered_whole() {
        let mut out = String::new();
        renumber("($1, $10, '$x')", 12, &mut out);
        assert_eq!(out, "($13, $22, '$x')");
    }

    /// Against a real SQL engine: any sequence of inserts (plain, and reading another
    /// table), upserts and updates leaves the same rows whether run one by one or
    /// coalesced.
    mod same_rows {
        use super::*;
        use proptest::prelude::*;
        use sqlx::Row;

        const A_INSERT: &str = "INSERT INTO a (id, v) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        const B_FROM_A: &str = "INSERT INTO b (id, v) SELECT $1, v FROM a WHERE id = $2 \
             ON CONFLICT DO NOTHING";
        const B_INSERT: &str = "INSERT INTO b (id, v) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        const A_UPDATE: &str = "UPDATE a SET v = $1 WHERE id = $2";

        fn ops() -> impl Strategy<Value = Vec<SqlOp>> {
            let one = (0..4u8, 0..6i64, 0..6i64).prop_map(|(kind, x, y)| match kind {
                0 => SqlOp {
                    sql: A_INSERT,
                    binds: vec![Bind::Int(x), Bind::Text(format!("a{y}"))],
                },
                1 => SqlOp {
                    sql: B_FROM_A,
                    binds: vec![Bind::Int(x), Bind::Int(y)],
                },
                2 => SqlOp {
                    sql: B_INSERT,
                    binds: vec![Bind::Int(x), Bind::Text(format!("b{y}"))],
                },
                _ => SqlOp {
                    sql: A_UPDATE,
                    binds: vec![Bind::Text(format!("u{y}")), Bind::Int(x)],
                },
            });
            proptest::collection::vec(one, 0..40)
        }

        async fn rows_after(statements: Vec<Statement>) -> Vec<(String, i64, String)> {
            // One connection: each in-memory connection is a database of its own.
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect("sqlite::memory:")
                .await
                .unwrap();
            for table in ["a", "b"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)"
                )))
                .execute(&pool)
                .await
                .unwrap();
            }
            for statement in statements {
                crate::bound_query!(statement).execute(&pool).await.unwrap();
            }
            sqlx::query("SELECT 'a', id, v FROM a UNION ALL SELECT 'b', id, v FROM b ORDER BY 1, 2")
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        }

        /// A row form that is itself a compound of two SELECTs (the audit index's two
        /// parties) merges into statements SQLite accepts: at most 256 terms, not 512.
        #[test]
        fn two_term_rows_stay_within_sqlites_compound_limit() {
            const BOTH: &str = "INSERT INTO b (id, v) SELECT $1, v FROM a WHERE id = $2 \
                 UNION ALL SELECT $1 + 1000, v FROM a WHERE id = $2 ON CONFLICT DO NOTHING";
            let ops: Vec<SqlOp> = (0..300)
                .map(|n| SqlOp {
                    sql: BOTH,
                    binds: vec![Bind::Int(n), Bind::Int(n % 6)],
                })
                .collect();
            let rows_per_statement = |chunking| {
                coalesce(ops.clone(), chunking)
                    .iter()
                    .map(|s| s.binds.len() / 2)
                    .collect::<Vec<_>>()
            };
            assert_eq!(rows_per_statement(Chunking::Exact), vec![128, 128, 44]);
            assert_eq!(
                rows_per_statement(Chunking::PowersOfTwo),
                vec![128, 128, 32, 8, 4]
            );
            let merged = coalesce(ops.clone(), Chunking::PowersOfTwo);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let one_by_one = ops
                .iter()
                .map(|op| Statement {
                    sql: Cow::Borrowed(op.sql),
                    binds: op.binds.clone(),
                })
                .collect();
            let seeded = |statements: Vec<Statement>| {
                let mut all: Vec<Statement> = (0..6)
                    .map(|n| Statement {
                        sql: Cow::Borrowed(A_INSERT),
                        binds: vec![Bind::Int(n), Bind::Text(format!("a{n}"))],
                    })
                    .collect();
                all.extend(statements);
                all
            };
            let expected = runtime.block_on(rows_after(seeded(one_by_one)));
            assert_eq!(expected.len(), 6 + 600);
            let got = runtime.block_on(rows_after(seeded(
                merged.into_iter().map(Statement::positional).collect(),
            )));
            assert_eq!(got, expected);
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn coalesced_statements_leave_the_same_rows(ops in ops()) {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let one_by_one: Vec<Statement> = ops
                    .iter()
                    .map(|op| Statement { sql: Cow::Borrowed(op.sql), binds: op.binds.clone() })
                    .collect();
                let expected = runtime.block_on(rows_after(one_by_one));
                for chunking in [Chunking::PowersOfTwo, Chunking::Exact] {
                    let merged = runtime.block_on(rows_after(
                        coalesce(ops.clone(), chunking).into_iter().map(Statement::positional).collect(),
                    ));
                    prop_assert_eq!(&merged, &expected, "{:?}", chunking);
                }
            }
        }
    }
}
