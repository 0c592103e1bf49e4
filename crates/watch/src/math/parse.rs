//! Metric math's lexer and recursive-descent parser: text -> [`Expr`], or a
//! [`ParseError`] saying what was expected where.
//!
//! Precedence, loosest first: `OR ||`, `AND &&`, comparisons, `+ -`, `* /`, unary
//! `- ! NOT`, `^` (right-associative, so `-2^2` is `-(2^2)` and `2^-1` works).

use std::fmt;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number literal.
    Number(f64),
    /// A string literal (`METRICS("prefix")`).
    Text(String),
    /// A reference to another query's `Id`.
    Id(String),
    /// `FILL`'s fill mode keyword (`REPEAT`, `LINEAR`).
    FillMode(Fill),
    /// `[a, b, ...]`: an array of series.
    Array(Vec<Expr>),
    /// `-x`.
    Negate(Box<Expr>),
    /// `!x` / `NOT x`: 1 where x is 0, else 0.
    Not(Box<Expr>),
    /// `left op right`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `FUNCTION(args)`.
    Call {
        /// Which function.
        function: Function,
        /// Its arguments (arity already checked).
        args: Vec<Expr>,
    },
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Subtract,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `^`
    Power,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `AND` / `&&`
    And,
    /// `OR` / `||`
    Or,
}

/// `FILL`'s non-numeric modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// The most recent real value before the gap.
    Repeat,
    /// Linear interpolation between the real values around the gap.
    Linear,
}

/// A supported function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// `SUM`
    Sum,
    /// `AVG`
    Avg,
    /// `MIN`
    Min,
    /// `MAX`
    Max,
    /// `METRICS`
    Metrics,
    /// `FILL`
    Fill,
    /// `IF`
    If,
    /// `ABS`
    Abs,
    /// `RATE`
    Rate,
    /// `DIFF`
    Diff,
    /// `PERIOD`
    Period,
}

impl Function {
    fn from_name(name: &str) -> Option<Function> {
        Some(match name.to_ascii_uppercase().as_str() {
            "SUM" => Function::Sum,
            "AVG" => Function::Avg,
            "MIN" => Function::Min,
            "MAX" => Function::Max,
            "METRICS" => Function::Metrics,
            "FILL" => Function::Fill,
            "IF" => Function::If,
            "ABS" => Function::Abs,
            "RATE" => Function::Rate,
            "DIFF" => Function::Diff,
            "PERIOD" => Function::Period,
            _ => return None,
        })
    }

    /// The function's name in upper case.
    pub fn name(self) -> &'static str {
        match self {
            Function::Sum => "SUM",
            Function::Avg => "AVG",
            Function::Min => "MIN",
            Function::Max => "MAX",
            Function::Metrics => "METRICS",
            Function::Fill => "FILL",
            Function::If => "IF",
            Function::Abs => "ABS",
            Function::Rate => "RATE",
            Function::Diff => "DIFF",
            Function::Period => "PERIOD",
        }
    }

    /// Allowed argument counts (inclusive).
    fn arity(self) -> (usize, usize) {
        match self {
            Function::Metrics => (0, 1),
            Function::Fill => (2, 2),
            Function::If => (2, 3),
            _ => (1, 1),
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An expression that does not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind} at position {position}")]
pub struct ParseError {
    /// 0-based character offset of the problem.
    pub position: usize,
    /// What went wrong.
    pub kind: ParseErrorKind,
}

/// What went wrong while parsing.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParseErrorKind {
    /// A character no token starts with.
    #[error("unexpected character {0:?}")]
    UnexpectedCharacter(char),
    /// A token where something else was expected.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What would have been valid.
        expected: &'static str,
        /// What was there.
        found: String,
    },
    /// A name followed by `(` that is not a supported function.
    #[error("unknown function {0}")]
    UnknownFunction(String),
    /// An upper-case word that is neither a function nor a keyword.
    #[error("unknown keyword {0} (query ids start with a lower-case letter)")]
    UnknownKeyword(String),
    /// A function called with the wrong number of arguments.
    #[error("{function} takes {expected} arguments, got {found}")]
    Arity {
        /// The function.
        function: Function,
        /// e.g. `1`, `2 or 3`.
        expected: String,
        /// How many were given.
        found: usize,
    },
    /// A string literal without its closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// A malformed number.
    #[error("invalid number {0:?}")]
    BadNumber(String),
    /// The expression is empty.
    #[error("empty expression")]
    Empty,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Word(String),
    Symbol(&'static str),
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Number(n) => write!(f, "number {n}"),
            Token::Text(t) => write!(f, "string {t:?}"),
            Token::Word(w) => write!(f, "{w:?}"),
            Token::Symbol(s) => write!(f, "{s:?}"),
            Token::End => f.write_str("end of expression"),
        }
    }
}

const SYMBOLS: [&str; 19] = [
    "&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "^", "(", ")", "[", "]",
    ",",
];

fn lex(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        if c.is_ascii_digit() || (c == '.' && chars.get(at + 1).is_some_and(char::is_ascii_digit)) {
            while at < chars.len() && (chars[at].is_ascii_digit() || chars[at] == '.') {
                at += 1;
            }
            if at < chars.len() && matches!(chars[at], 'e' | 'E') {
                let mut look = at + 1;
                if look < chars.len() && matches!(chars[look], '+' | '-') {
                    look += 1;
                }
                if look < chars.len() && chars[look].is_ascii_digit() {
                    at = look;
                    while at < chars.len() && chars[at].is_ascii_digit() {
                        at += 1;
                    }
                }
            }
            let literal: String = chars[start..at].iter().collect();
            let value = literal.parse::<f64>().map_err(|_| ParseError {
                position: start,
                kind: ParseErrorKind::BadNumber(literal.clone()),
            })?;
            tokens.push((start, Token::Number(value)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            while at < chars.len() && (chars[at].is_ascii_alphanumeric() || chars[at] == '_') {
                at += 1;
            }
            tokens.push((start, Token::Word(chars[start..at].iter().collect())));
        } else if c == '"' || c == '\'' {
            at += 1;
            let content_start = at;
            while at < chars.len() && chars[at] != c {
                at += 1;
            }
            if at >= chars.len() {
                return Err(ParseError {
                    position: start,
                    kind: ParseErrorKind::UnterminatedString,
                });
            }
            tokens.push((
                start,
                Token::Text(chars[content_start..at].iter().collect()),
            ));
            at += 1;
        } else {
            let rest: String = chars[at..chars.len().min(at + 2)].iter().collect();
            let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(ParseError {
                    position: start,
                    kind: ParseErrorKind::UnexpectedCharacter(c),
                });
            };
            at += symbol.chars().count();
            tokens.push((start, Token::Symbol(symbol)));
        }
    }
    tokens.push((chars.len(), Token::End));
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.next.min(self.tokens.len() - 1)].1
    }

    fn position(&self) -> usize {
        self.tokens[self.next.min(self.tokens.len() - 1)].0
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if self.next < self.tokens.len() - 1 {
            self.next += 1;
        }
        token
    }

    fn unexpected(&self, expected: &'static str) -> ParseError {
        ParseError {
            position: self.position(),
            kind: ParseErrorKind::Unexpected {
                expected,
                found: self.peek().to_string(),
            },
        }
    }

    fn expect(&mut self, symbol: &'static str, expected: &'static str) -> Result<(), ParseError> {
        if *self.peek() == Token::Symbol(symbol) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Whether the next token is `symbol` or the word `keyword` (any case); consumes it.
    fn eat(&mut self, symbol: &str, keyword: Option<&str>) -> bool {
        let hit = match self.peek() {
            Token::Symbol(s) => *s == symbol,
            Token::Word(w) => keyword.is_some_and(|k| w.eq_ignore_ascii_case(k)),
            _ => false,
        };
        if hit {
            self.bump();
        }
        hit
    }

    fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.eat("||", Some("OR")) {
            left = Parser::binary(BinaryOp::Or, left, self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.comparison()?;
        while self.eat("&&", Some("AND")) {
            left = Parser::binary(BinaryOp::And, left, self.comparison()?);
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.additive()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("==") => BinaryOp::Equal,
                Token::Symbol("!=") => BinaryOp::NotEqual,
                Token::Symbol("<") => BinaryOp::Less,
                Token::Symbol("<=") => BinaryOp::LessOrEqual,
                Token::Symbol(">") => BinaryOp::Greater,
                Token::Symbol(">=") => BinaryOp::GreaterOrEqual,
                _ => return Ok(left),
            };
            self.bump();
            left = Parser::binary(op, left, self.additive()?);
        }
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("+") => BinaryOp::Add,
                Token::Symbol("-") => BinaryOp::Subtract,
                _ => return Ok(left),
            };
            self.bump();
            left = Parser::binary(op, left, self.multiplicative()?);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("*") => BinaryOp::Multiply,
                Token::Symbol("/") => BinaryOp::Divide,
                _ => return Ok(left),
            };
            self.bump();
            left = Parser::binary(op, left, self.unary()?);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat("-", None) {
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        if self.eat("+", None) {
            return self.unary();
        }
        if self.eat("!", Some("NOT")) {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.primary()?;
        if self.eat("^", None) {
            return Ok(Parser::binary(BinaryOp::Power, base, self.unary()?));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let position = self.position();
        match self.peek().clone() {
            Token::Number(n) => {
                self.bump();
                Ok(Expr::Number(n))
            }
            Token::Text(t) => {
                self.bump();
                Ok(Expr::Text(t))
            }
            Token::Symbol("(") => {
                self.bump();
                let inner = self.or()?;
                self.expect(")", "')'")?;
                Ok(inner)
            }
            Token::Symbol("[") => {
                self.bump();
                let items = self.list("]")?;
                Ok(Expr::Array(items))
            }
            Token::Word(word) => {
                self.bump();
                if *self.peek() == Token::Symbol("(") {
                    self.bump();
                    let Some(function) = Function::from_name(&word) else {
                        return Err(ParseError {
                            position,
                            kind: ParseErrorKind::UnknownFunction(word),
                        });
                    };
                    let args = self.list(")")?;
                    let (min, max) = function.arity();
                    if args.len() < min || args.len() > max {
                        let expected = if min == max {
                            min.to_string()
                        } else {
                            format!("{min} or {max}")
                        };
                        return Err(ParseError {
                            position,
                            kind: ParseErrorKind::Arity {
                                function,
                                expected,
                                found: args.len(),
                            },
                        });
                    }
                    return Ok(Expr::Call { function, args });
                }
                match word.as_str() {
                    "REPEAT" => Ok(Expr::FillMode(Fill::Repeat)),
                    "LINEAR" => Ok(Expr::FillMode(Fill::Linear)),
                    _ if word.starts_with(|c: char| c.is_ascii_lowercase()) => Ok(Expr::Id(word)),
                    _ => Err(ParseError {
                        position,
                        kind: ParseErrorKind::UnknownKeyword(word),
                    }),
                }
            }
            _ => Err(self.unexpected("a number, an id, a function or '('")),
        }
    }

    /// Comma-separated expressions up to `close` (consumed).
    fn list(&mut self, close: &'static str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if self.eat(close, None) {
            return Ok(items);
        }
        loop {
            items.push(self.or()?);
            if self.eat(close, None) {
                return Ok(items);
            }
            let expected = if close == ")" {
                "',' or ')'"
            } else {
                "',' or ']'"
            };
            self.expect(",", expected)?;
        }
    }
}

/// Parses a metric math expression.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let tokens = lex(text)?;
    if tokens.len() == 1 {
        return Err(ParseError {
            position: 0,
            kind: ParseErrorKind::Empty,
        });
    }
    let mut parser = Parser { tokens, next: 0 };
    let expr = parser.or()?;
    if *parser.peek() != Token::End {
        return Err(parser.unexpected("an operator or the end of the expression"));
    }
    Ok(expr)
}

impl Expr {
    /// Every query id the expression refers to, in order of appearance (with repeats).
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Id(id) => out.push(id),
            Expr::Number(_) | Expr::Text(_) | Expr::FillMode(_) => {}
            Expr::Array(items) | Expr::Call { args: items, .. } => {
                items.iter().for_each(|item| item.collect_references(out));
            }
            Expr::Negate(inner) | Expr::Not(inner) => inner.collect_references(out),
            Expr::Binary { left, right, .. } => {
                left.collect_references(out);
                right.collect_references(out);
            }
        }
    }

    /// Whether the expression calls `METRICS()` (and so depends on every metric).
    pub fn uses_metrics(&self) -> bool {
        match self {
            Expr::Call {
                function: Function::Metrics,
                ..
            } => true,
            Expr::Array(items) | Expr::Call { args: items, .. } => {
                items.iter().any(Expr::uses_metrics)
            }
            Expr::Negate(inner) | Expr::Not(inner) => inner.uses_metrics(),
            Expr::Binary { left, right, .. } => left.uses_metrics() || right.uses_metrics(),
            Expr::Number(_) | Expr::Text(_) | Expr::Id(_) | Expr::FillMode(_) => false,
        }
    }
}
