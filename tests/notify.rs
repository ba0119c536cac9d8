//! Notification rules and templates are data; a bad edit stops the start with a reason.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rongcuo::domain::registry::Registry;
use rongcuo::notify::Notifier;
use rongcuo::seal::Sealer;

fn workflows() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows")
}

/// A copy of `workflows/` with `edit` applied to one file.
fn load_with(file: &str, edit: impl Fn(String) -> String) -> Result<Notifier, String> {
    let dir = tempfile::tempdir().unwrap();
    let src = workflows();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    for sub in ["templates", "calendar"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(src.join(sub)).unwrap().flatten() {
            std::fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name())).unwrap();
        }
    }
    let path = dir.path().join(file);
    std::fs::write(&path, edit(std::fs::read_to_string(&path).unwrap())).unwrap();
    let sealer =
        Arc::new(Sealer::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap());
    let settings = rongcuo::settings::Workflows {
        dir: dir.path().to_string_lossy().into_owned(),
        appeal_window_days: 0,
    };
    let registry = Registry::load(&settings, sealer)?;
    Notifier::load(dir.path(), &registry, "http://x.test")
}

#[test]
fn every_event_of_both_machines_has_a_rule_with_a_known_template() {
    let n = load_with("exoneration.toml", |s| s).expect("the shipped rules load");
    for def in [
        &rongcuo::domain::exoneration::DEF,
        &rongcuo::domain::clarification::DEF,
    ] {
        let mut events = def.events();
        events.push("create");
        for e in events {
            let rule = n
                .rules()
                .get(def.name, e)
                .unwrap_or_else(|| panic!("{} `{e}` has no rule", def.name));
            assert!(n.templates().names().contains(&rule.template));
            assert!(
                !rule.label_zh().is_empty() && rule.label_en() != rule.label_zh(),
                "{e}: bilingual label"
            );
        }
    }
}

#[test]
fn a_missing_rule_is_refused() {
    let block = "[[notifications]]\nevent = \"clarify\"\nlabel = \"澄清正名 / publicly cleared\"\ntemplate = \"notice\"\nrecipients = [\"subject\", \"unit_contact\", \"reviewers\"]\n";
    let err = load_with("clarification.toml", |s| {
        assert!(s.contains(block));
        s.replace(block, "")
    })
    .err()
    .unwrap();
    assert!(
        err.contains("no notification rule for event `clarify`"),
        "{err}"
    );
    let err = load_with("clarification.toml", |s| {
        s.replace(block, &format!("{block}\n{block}"))
    })
    .err()
    .unwrap();
    assert!(err.contains("two rules for `clarify`"), "{err}");
}

#[test]
fn a_rule_for_an_unknown_event_or_template_is_refused() {
    let err = load_with("exoneration.toml", |s| {
        s.replace("event = \"appeal\"\n", "event = \"apeal\"\n")
    })
    .err()
    .unwrap();
    assert!(err.contains("unknown event `apeal`"), "{err}");
    let err = load_with("exoneration.toml", |s| {
        s.replacen("template = \"decision\"", "template = \"verdict\"", 1)
    })
    .err()
    .unwrap();
    assert!(err.contains("unknown template `verdict`"), "{err}");
    let err = load_with("exoneration.toml", |s| {
        s.replacen("recipients = [\"subject\"", "recipients = [\"boss\"", 1)
    })
    .err()
    .unwrap();
    assert!(err.contains("boss"), "{err}");
}
