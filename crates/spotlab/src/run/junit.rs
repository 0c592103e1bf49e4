//! JUnit XML of a run's verdict, for CI systems: one test suite per run, one test case
//! per expectation (named by its step), a failure element with the message for each
//! that did not hold, and an error for a run that stopped before its end.

use super::expect::Outcome;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The document.
pub fn render(suite: &str, outcomes: &[Outcome], error: Option<&str>, seconds: f64) -> String {
    let failures = outcomes.iter().filter(|o| !o.passed).count();
    let errors = usize::from(error.is_some());
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{seconds:.3}\">\n",
        escape(suite),
        outcomes.len() + errors,
    );
    for o in outcomes {
        let name = format!("{}: {}", o.step, o.what);
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n",
            escape(suite),
            escape(&name)
        ));
        xml.push_str(&format!(
            "      <system-out>expected {}, measured {}</system-out>\n",
            escape(&o.expected),
            escape(&o.measured)
        ));
        if !o.passed {
            let message = o.message.clone().unwrap_or_default();
            xml.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                escape(&message),
                escape(&message)
            ));
        }
        xml.push_str("    </testcase>\n");
    }
    if let Some(error) = error {
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"the run\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
            escape(suite),
            escape(error),
            escape(error)
        ));
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_errors_are_counted_and_escaped() {
        let outcomes = vec![
            Outcome {
                step: "8 units".into(),
                what: "alarm state".into(),
                expected: "ALARM".into(),
                measured: "OK".into(),
                passed: false,
                message: Some("alarm state was OK, expected ALARM <&>".into()),
            },
            Outcome {
                step: "4 units".into(),
                what: "error rate".into(),
                expected: "0..1%".into(),
                measured: "0%".into(),
                passed: true,
                message: None,
            },
        ];
        let xml = render("demo", &outcomes, Some("step 3 failed"), 1.5);
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" errors=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("expected ALARM &lt;&amp;&gt;"), "{xml}");
        assert!(xml.contains("<error message=\"step 3 failed\">"), "{xml}");
    }
}
