use super::*;

#[test]
fn due_deliveries_except_leaves_out_busy_sinks() {
    let s = Store::open_memory().unwrap();
    let to = |sink: SinkKind, target: &str| NewDelivery {
        sink,
        target: target.into(),
    };
    let to = vec![
        to(SinkKind::Console, "-"),
        to(SinkKind::Telegram, "1"),
        to(SinkKind::Telegram, "2"),
    ];
    s.insert_alert(&NewAlert::once(
        AlertKind::Unexpected,
        Severity::Critical,
        "t",
        to,
    ))
    .unwrap();
    let sinks = |skip: &[SinkKind]| -> Vec<SinkKind> {
        let due = s.due_deliveries_except(now() + 1, 10, skip).unwrap();
        due.into_iter().map(|d| d.sink).collect()
    };
    use SinkKind::{Console, Telegram};
    assert_eq!(sinks(&[]), [Console, Telegram, Telegram]);
    assert_eq!(sinks(&[Telegram]), [Console]);
    assert!(sinks(&[Telegram, Console]).is_empty());
}

/// Regression: a stored kind that did not parse became "unexpected", a severity "critical".
#[test]
fn a_stored_value_that_does_not_parse_is_an_error_naming_it() {
    let s = Store::open_memory().unwrap();
    let id = s
        .insert_alert(&NewAlert::once(
            AlertKind::Health,
            Severity::Info,
            "t",
            vec![],
        ))
        .unwrap();
    assert_eq!(s.alert(id).unwrap().unwrap().severity, Severity::Info);
    s.lock()
        .execute("UPDATE alerts SET severity='loud' WHERE id=?1", [id])
        .unwrap();
    let e = s.alert(id).unwrap_err().to_string();
    assert!(e.contains("`loud`"), "{e}");
    s.lock()
        .execute(
            "UPDATE alerts SET severity='info', kind='odd' WHERE id=?1",
            [id],
        )
        .unwrap();
    let e = s.alert(id).unwrap_err().to_string();
    assert!(e.contains("unknown alert kind `odd`"), "{e}");
}

fn ja_en(ja: &str, en: &str) -> Texts {
    let text = |t: &str| AlertText {
        title: format!("{t} title"),
        body: format!("{t} body"),
    };
    Texts {
        ja: Some(text(ja)),
        en: Some(text(en)),
    }
}

/// Appends the burst line "+own" / "+ja" / "+en" to alert `id`, committed.
fn join_burst(s: &Store, id: i64) {
    let line = AlertLine {
        line: "+own".into(),
        ja: "+ja".into(),
        en: "+en".into(),
    };
    let mut c = s.lock();
    let tx = c.transaction().unwrap();
    append_line(&tx, id, &line).unwrap();
    tx.commit().unwrap();
}

#[test]
fn an_alert_keeps_its_text_in_each_language_and_a_burst_line_joins_each() {
    let s = Store::open_memory().unwrap();
    let mut a = NewAlert::once(AlertKind::Unexpected, Severity::Critical, "own", vec![]);
    a.texts = ja_en("日本語", "English");
    let id = s.insert_alert(&a).unwrap();
    join_burst(&s, id);
    let row = s.alert(id).unwrap().unwrap();
    assert_eq!(row.title, "own");
    assert_eq!(row.body, "+own");
    assert_eq!(row.title_in(Language::Ja), "日本語 title");
    assert_eq!(row.body_in(Language::Ja), "日本語 body+ja");
    assert_eq!(row.title_in(Language::En), "English title");
    assert_eq!(row.body_in(Language::En), "English body+en");
}

/// A database written before texts were kept per language (schema 2) opens, and its alerts
/// read and deliver their own text in every language.
#[test]
fn an_old_database_opens_and_its_alerts_deliver_their_own_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for sql in &super::super::schema::MIGRATIONS[..2] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO alerts (id, created_at, kind, severity, title, body, actionable)
                VALUES (7, 1, 'unexpected', 'critical', 'SBI証券: 予定にない出金', '本文 <id>', 1);
             INSERT INTO deliveries (alert, sink, target, round, state, next_attempt_at)
                VALUES (7, 'telegram', '42', 0, 'pending', 1);",
        )
        .unwrap();
    }
    let s = Store::open(&path).unwrap();
    let version: i64 = s
        .lock()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, super::super::schema::VERSION);
    let due = s.due_deliveries(now(), 10).unwrap();
    assert_eq!(due.len(), 1, "the old delivery is still due");
    let row = s.alert(due[0].alert).unwrap().unwrap();
    assert_eq!(row.texts, Texts::default());
    for lang in [Language::Ja, Language::En] {
        let m = crate::alert::outbox::message(&row, 0, lang);
        assert_eq!(m.title, row.title);
        assert!(m.body.starts_with("本文 7"), "{}", m.body);
        assert!(m.actionable);
    }
    // A burst line joining the old alert goes to its own body, the only text it has.
    join_burst(&s, 7);
    let row = s.alert(7).unwrap().unwrap();
    assert_eq!(row.body_in(Language::En), "本文 <id>+own");
    assert_eq!(row.texts, Texts::default());
}
