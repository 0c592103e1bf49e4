//! Metric math: CloudWatch's expression language over aligned series (fact sheet 2.4,
//! the useful subset).
//!
//! [`parse`] turns an expression into an [`Expr`] or a [`ParseError`] with its position;
//! [`evaluate_all`] evaluates a request's expressions over its metrics' [`Series`]
//! (references between expressions allowed, cycles refused).
//!
//! Supported: numbers, query ids, `"strings"` (as `METRICS` arguments), `[a, b]` arrays,
//! `+ - * / ^`, unary `-`, comparisons `== != < <= > >=`, `AND`/`&&`, `OR`/`||`,
//! `NOT`/`!`, parentheses, and the functions `SUM AVG MIN MAX` (one series -> a scalar,
//! an array -> a series per timestamp), `METRICS()` / `METRICS("prefix")`,
//! `FILL(m, value | REPEAT | LINEAR)`, `IF(cond, a[, b])`, `ABS`, `RATE`, `DIFF`,
//! `PERIOD(m)`.
//!
//! Semantics: a scalar applies to every point; two series combine where both have a
//! point (timestamps intersect); a result that is NaN or infinite (0 / 0, x / 0) is no
//! point at all, as empty periods are. Function names are case-insensitive.
//!
//! [`Series`]: crate::metrics::Series

mod eval;
mod parse;

pub use eval::{EvalError, Grid, Value, evaluate, evaluate_all};
pub use parse::{BinaryOp, Expr, Fill, Function, ParseError, ParseErrorKind, parse};
