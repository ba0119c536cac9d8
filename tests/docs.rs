//! The documents in `workflows/` must say what the code does.

use rongcuo::domain::describe;
use rongcuo::domain::exoneration::{DEF, Exoneration};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn exoneration_md_matches_the_code_table() {
    let expected = describe::markdown(&DEF);
    let actual = read("workflows/exoneration.md");
    assert!(
        actual == expected,
        "workflows/exoneration.md is out of date: regenerate it with\n  cargo run -- workflows markdown exoneration > workflows/exoneration.md"
    );
    for row in DEF.rows {
        assert!(
            actual.contains(&format!("`{}`", row.event)),
            "{} missing",
            row.event
        );
    }
}

#[test]
fn clarification_md_matches_the_code_table() {
    let expected = describe::markdown(&rongcuo::domain::clarification::DEF);
    assert!(
        read("workflows/clarification.md") == expected,
        "workflows/clarification.md is out of date: regenerate it with\n  cargo run -- workflows markdown clarification > workflows/clarification.md"
    );
}

#[test]
fn the_diagram_has_an_edge_for_every_row() {
    let diagram = describe::mermaid(&DEF);
    assert!(diagram.starts_with("stateDiagram-v2\n"));
    for row in DEF.rows {
        for from in row.from {
            assert!(diagram.contains(&format!("    {from} --> ")), "{from}");
            assert!(
                diagram.contains(&format!(": {}\n", row.event)),
                "{}",
                row.event
            );
        }
    }
}

#[test]
fn the_catalogue_file_loads_with_sanming_and_the_general_rule() {
    let calendar = std::sync::Arc::new(rongcuo::domain::calendar::Calendar::weekdays_only());
    let wf = Exoneration::load(
        std::path::Path::new(&format!("{}/workflows", env!("CARGO_MANIFEST_DIR"))),
        0,
        calendar.clone(),
    )
    .unwrap();
    let cat = rongcuo::domain::workflow::Workflow::catalogues(&wf);
    let codes: Vec<&str> = cat["circumstances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for i in 1..=8 {
        assert!(
            codes.contains(&format!("sanming-{i}").as_str()),
            "sanming-{i}"
        );
    }
    assert!(codes.contains(&"general-1"));
    for c in cat["circumstances"].as_array().unwrap() {
        assert!(
            !c["text"].as_str().unwrap().is_empty() && !c["source"].as_str().unwrap().is_empty()
        );
    }
    assert_eq!(wf.appeal_window().days, 30);
    assert!(
        Exoneration::from_toml(
            "[deadlines]\nappeal_window_days = 30\n[catalogue]\nversion = \"x\"\ncirculars = []\n",
            0,
            calendar
        )
        .is_err()
    );
}

#[test]
fn api_md_names_every_path_error_code_event_and_field() {
    let api = read("docs/API.md");
    let settings = rongcuo::settings::Workflows {
        dir: format!("{}/workflows", env!("CARGO_MANIFEST_DIR")),
        appeal_window_days: 0,
    };
    let sealer =
        rongcuo::seal::Sealer::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    let registry =
        rongcuo::domain::registry::Registry::load(&settings, std::sync::Arc::new(sealer)).unwrap();
    for endpoint in rongcuo::http::routes::endpoints(&registry) {
        // A workflow's resources are named once per collection.
        let path = match endpoint.workflow {
            Some(name) => registry.get(name).unwrap().def().path(),
            None => rongcuo::http::docs::openapi_path(&endpoint.path),
        };
        assert!(api.contains(&path), "docs/API.md does not name {path}");
    }
    for kind in rongcuo::error::ErrorKind::ALL {
        let row = format!("| {} | `{}` |", kind.status(), kind.code());
        assert!(api.contains(&row), "docs/API.md's error table lacks {row}");
    }
    // Every event a client may send, each with a row naming each of its fields, and each
    // filing's fields, as the workflows parse them.
    let fields = |schema: &serde_json::Value| -> Vec<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().filter(|k| *k != "event").cloned().collect())
            .unwrap_or_default()
    };
    for wf in registry.all() {
        let spec = wf.api();
        for (event, schema) in &spec.events {
            let prefix = format!("| `{event}` | ");
            let row = api
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("docs/API.md has no row for `{event}`"));
            for field in fields(&serde_json::to_value(schema).unwrap()) {
                assert!(
                    row.contains(&format!("`{field}`")),
                    "docs/API.md's row for `{event}` lacks `{field}`"
                );
            }
        }
        let filing = serde_json::to_value(&spec.filing.1).unwrap();
        let line = api.lines().find(|l| {
            l.starts_with("Filing: ")
                && fields(&filing)
                    .iter()
                    .all(|f| l.contains(&format!("`{f}`")))
        });
        assert!(
            line.is_some(),
            "docs/API.md names no filing of {} with all of {:?}",
            wf.def().name,
            fields(&filing)
        );
    }
}
