use super::*;
use crate::audit::model::{ActorKind, Outcome};

fn event(i: usize) -> NewAuditEvent {
    NewAuditEvent::new(ActorKind::User, Some(format!("user-{i}")), "auth.login")
        .outcome(if i.is_multiple_of(2) {
            Outcome::Success
        } else {
            Outcome::Failure
        })
        .details(serde_json::json!({"attempt": i}))
}

fn stored(count: usize) -> (Vec<AuditEvent>, (i64, [u8; 32])) {
    let news: Vec<NewAuditEvent> = (0..count).map(event).collect();
    let (linked, head) = link((0, GENESIS), &news);
    let events = linked
        .into_iter()
        .map(|l| AuditEvent {
            seq: l.seq,
            at: l.event.at,
            tenant_id: l.event.tenant,
            actor_kind: l.event.actor_kind,
            actor_id: l.event.actor_id.clone(),
            action: l.event.action.clone(),
            target_type: l.event.target_type.clone(),
            target_id: l.event.target_id.clone(),
            source_ip: l.event.source_ip.clone(),
            user_agent: l.event.user_agent.clone(),
            outcome: l.event.outcome,
            details: l.event.details.clone(),
            details_json: l.details,
            prev_hash: l.prev_hash,
            hash: l.hash,
        })
        .collect();
    (events, head)
}

fn verify(events: &[AuditEvent], head: (i64, [u8; 32])) -> Result<u64, Broken> {
    let mut verifier = Verifier::from_genesis();
    for event in events {
        verifier.check(event)?;
    }
    verifier.finish(head)
}

#[test]
fn an_intact_chain_verifies_and_counts_its_events() {
    let (events, head) = stored(5);
    assert_eq!(head.0, 5);
    assert_eq!(events[0].prev_hash, GENESIS);
    assert_eq!(events[3].prev_hash, events[2].hash);
    assert_eq!(verify(&events, head), Ok(5));
    assert_eq!(verify(&[], (0, GENESIS)), Ok(0));
}

#[test]
fn changed_content_is_named_by_seq() {
    let (mut events, head) = stored(5);
    events[2].details_json = r#"{"attempt":99}"#.to_owned();
    assert_eq!(
        verify(&events, head),
        Err(Broken {
            seq: 3,
            why: Break::Content
        })
    );
    let (mut events, head) = stored(5);
    events[1].actor_id = None;
    assert_eq!(verify(&events, head).unwrap_err().seq, 2);
}

#[test]
fn absent_and_empty_fields_hash_differently() {
    let (mut events, head) = stored(2);
    events[1].target_type = Some(String::new());
    assert_eq!(verify(&events, head).unwrap_err().why, Break::Content);
}

#[test]
fn reordering_is_detected_at_the_first_moved_event() {
    let (mut events, head) = stored(5);
    // Swap the content of events 2 and 3, keeping seq in place (as swapping rows' seq would).
    let (a, b) = (events[1].clone(), events[2].clone());
    events[1] = AuditEvent { seq: 2, ..b };
    events[2] = AuditEvent { seq: 3, ..a };
    let broken = verify(&events, head).unwrap_err();
    assert_eq!(broken.seq, 2);
    assert_eq!(broken.why, Break::Link);
    assert!(broken.to_string().contains("reordered"), "{broken}");
}

#[test]
fn deleting_any_event_is_detected() {
    for removed in 0..5 {
        let (mut events, head) = stored(5);
        events.remove(removed);
        let broken = verify(&events, head).unwrap_err();
        let seq = removed as i64 + 1;
        if removed == 4 {
            assert_eq!(broken.why, Break::Truncated { head: 5 });
            assert_eq!(broken.seq, 5);
        } else {
            assert_eq!(broken.why, Break::Gap { expected: seq });
        }
        assert!(broken
            .to_string()
            .contains(&format!("event {seq} is missing")));
    }
}

#[test]
fn a_deleted_event_whose_successors_were_renumbered_is_a_broken_link() {
    let (mut events, head) = stored(5);
    events.remove(1);
    for (i, event) in events.iter_mut().enumerate() {
        event.seq = i as i64 + 1;
    }
    let broken = verify(&events, (4, head.1)).unwrap_err();
    assert_eq!(broken.seq, 2);
}

#[test]
fn events_beyond_the_head_are_refused() {
    let (events, head) = stored(5);
    assert_eq!(
        verify(&events, (4, events[3].hash)).unwrap_err(),
        Broken {
            seq: 5,
            why: Break::Unrecorded { head: 4 }
        }
    );
    assert_eq!(
        verify(&events, (5, [1; 32])).unwrap_err().why,
        Break::Content
    );
    let _ = head;
}

#[test]
fn verification_can_start_after_a_checkpoint() {
    let (events, head) = stored(6);
    let mut verifier = Verifier::after(3, events[2].hash);
    for event in &events[3..] {
        verifier.check(event).unwrap();
    }
    assert_eq!(verifier.finish(head), Ok(3));
    let mut wrong = Verifier::after(3, [7; 32]);
    assert_eq!(wrong.check(&events[3]).unwrap_err().why, Break::Link);
}
