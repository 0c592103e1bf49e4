//! `${NAME}` placeholders in a stack file, filled from the environment when the command
//! runs: `${NAME}`, `${NAME:-default}`, and `$${` for a literal `${`. Anything else with
//! a `$` (`$AWS_ENDPOINT_URL`, `$1`) is left for the instance's shell.

use anyhow::{bail, ensure};

/// How placeholders without a value are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholders {
    /// An unset variable without a default is an error (`stack up`).
    Required,
    /// An unset variable without a default is left as written (`stack down` needs only
    /// names).
    Lenient,
}
/// Replaces `${NAME}` with the variable's value and `${NAME:-default}` with its value
/// or `default`; `$${` stands for a literal `${`. Anything else (`$NAME`, `$1`) is left
/// for the shell.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    placeholders: Placeholders,
) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                bail!("unterminated placeholder {tail:?}: expected ${{NAME}}");
            };
            let inside = &after[..end];
            let (name, default) = match inside.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inside, None),
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            ensure!(
                valid,
                "bad placeholder ${{{inside}}}: expected ${{NAME}} or ${{NAME:-default}} (write $${{ for a literal ${{)"
            );
            match (lookup(name), default, placeholders) {
                (Some(value), _, _) => out.push_str(&value),
                (None, Some(default), _) => out.push_str(default),
                (None, None, Placeholders::Lenient) => out.push_str(&tail[..end + 3]),
                (None, None, Placeholders::Required) => {
                    bail!("${{{name}}} is not set: export {name}=... before running the command")
                }
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TARGET_URL" => Some("http://127.0.0.1:8080/".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn placeholders_are_filled_from_the_environment() {
        let cases = [
            ("--url ${TARGET_URL} x", "--url http://127.0.0.1:8080/ x"),
            ("${MISSING:-fallback}", "fallback"),
            ("${TARGET_URL:-unused}", "http://127.0.0.1:8080/"),
            (
                "$${TARGET_URL} \"$AWS_ENDPOINT_URL\" $1 $",
                "${TARGET_URL} \"$AWS_ENDPOINT_URL\" $1 $",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                substitute(text, &env, Placeholders::Required).expect(text),
                want
            );
        }
    }

    #[test]
    fn a_missing_placeholder_is_an_error_only_when_required() {
        let error = substitute("${MISSING}", &env, Placeholders::Required)
            .expect_err("unset")
            .to_string();
        assert!(error.contains("${MISSING} is not set"), "{error}");
        assert_eq!(
            substitute("a ${MISSING} b", &env, Placeholders::Lenient).expect("lenient"),
            "a ${MISSING} b"
        );
        for bad in ["${", "${1X}", "${A B}"] {
            assert!(
                substitute(bad, &env, Placeholders::Lenient).is_err(),
                "{bad}"
            );
        }
    }
}
