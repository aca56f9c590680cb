use super::*;
use crate::library;

use crate::testing::{build_errors, router};

#[test]
fn source_counter_discard() {
    let mut r = router("s :: InfiniteSource(LENGTH 60, LIMIT 1000, BURST 32, STOP true) -> c :: Counter -> d :: Discard;");
    r.run_until_idle(10);
    assert!(r.is_stopped());
    assert_eq!(r.read_handler("c.count").unwrap(), "1000");
    assert_eq!(r.read_handler("c.byte_count").unwrap(), "60000");
    assert_eq!(r.read_handler("d.count").unwrap(), "1000");
    assert_eq!(r.read_handler("s.count").unwrap(), "1000");
}

#[test]
fn steady_state_allocates_no_packets() {
    let mut r = router(
        "InfiniteSource(LENGTH 60, LIMIT 100000, BURST 32, STOP true) -> Counter -> Discard;",
    );
    r.run_until_idle(10);
    let s = r.pool_stats();
    assert_eq!(s.made, 100_000);
    assert!(s.records_allocated <= 32, "{s:?}");
    assert!(s.buffers_allocated <= 32, "{s:?}");
}

#[test]
fn queue_and_unqueue() {
    let mut r = router(
        "s :: InfiniteSource(LIMIT 500, BURST 7) -> q :: Queue(1000) -> u :: Unqueue(BURST 16) -> c :: Counter -> Discard;",
    );
    r.run_until_idle(10);
    assert_eq!(r.read_handler("c.count").unwrap(), "500");
    assert_eq!(r.read_handler("q.length").unwrap(), "0");
    assert_eq!(r.read_handler("q.drops").unwrap(), "0");
}

#[test]
fn queue_drops_when_full_and_pull_passes_through_agnostic_elements() {
    // Counter between Queue and Unqueue runs in pull mode.
    let mut r = router(
        "s :: InfiniteSource(LIMIT 100, BURST 100) -> q :: Queue(10) -> pc :: Counter -> u :: Unqueue(BURST 4) -> c :: Counter -> Discard;",
    );
    r.run_until_idle(10);
    assert_eq!(r.read_handler("q.drops").unwrap(), "90");
    assert_eq!(r.read_handler("pc.count").unwrap(), "10");
    assert_eq!(r.read_handler("c.count").unwrap(), "10");
    assert_eq!(r.elements()[r.find("pc").unwrap()].input_push, [false]);
}

#[test]
fn tee_copies_to_every_output() {
    let mut r = router("InfiniteSource(LIMIT 10, STOP true) -> t :: Tee; t[0] -> a :: Counter -> Discard; t[1] -> b :: Counter -> Discard; t[2] -> Discard;");
    r.run_until_idle(10);
    assert_eq!(r.read_handler("a.count").unwrap(), "10");
    assert_eq!(r.read_handler("b.count").unwrap(), "10");
}

#[test]
fn compound_elements_run() {
    let mut r = router(
        "elementclass Stage { $n | input -> c :: Counter -> Queue($n) -> Unqueue(BURST 8) -> output }\n\
         InfiniteSource(LIMIT 50) -> st :: Stage(100) -> out :: Counter -> Discard;",
    );
    r.run_until_idle(10);
    assert_eq!(r.read_handler("st/c.count").unwrap(), "50");
    assert_eq!(r.read_handler("out.count").unwrap(), "50");
}

#[test]
fn pull_source_feeds_unqueue() {
    let mut r = router("s :: InfiniteSource(LIMIT 20, BURST 5) -> u :: Unqueue(BURST 3) -> c :: Counter -> Discard;");
    r.run_until_idle(10);
    assert_eq!(r.read_handler("c.count").unwrap(), "20");
}

#[test]
fn handlers_and_their_errors() {
    let mut r = router("s :: InfiniteSource(LIMIT 3) -> c :: Counter -> Discard;");
    r.run_until_idle(10);
    assert_eq!(r.read_handler("c.class").unwrap(), "Counter");
    assert_eq!(r.read_handler("s.config").unwrap(), "LIMIT 3");
    assert!(r.read_handler("c.handlers").unwrap().contains("count\tr"));
    assert!(r.read_handler("c.ports").unwrap().contains("push"));
    assert_eq!(r.read_handler("list").unwrap(), "3\ns\nc\nDiscard@3\n");
    let e = r.read_handler("nope.count").unwrap_err();
    assert!(
        alloc::format!("{e}").contains("elements: s, c, Discard@3"),
        "{e}"
    );
    let e = r.read_handler("c.cuont").unwrap_err();
    assert!(
        alloc::format!("{e}").contains("its handlers: count, byte_count"),
        "{e}"
    );
    r.write_handler("c.reset", "").unwrap();
    assert_eq!(r.read_handler("c.count").unwrap(), "0");
    assert!(r.write_handler("c.count", "5").is_err());
    r.write_handler("stop", "").unwrap();
    assert!(r.is_stopped());
}

#[test]
fn writing_a_handler_changes_behaviour() {
    let mut r = router("s :: InfiniteSource(LIMIT 5, ACTIVE false) -> c :: Counter -> Discard;");
    r.run_until_idle(5);
    assert_eq!(r.read_handler("c.count").unwrap(), "0");
    r.write_handler("s.active", "true").unwrap();
    r.run_until_idle(5);
    assert_eq!(r.read_handler("c.count").unwrap(), "5");
}

#[test]
fn unknown_classes_are_reported_with_suggestions() {
    let loaded = config_lang::load("t.click", "Idle -> Countr -> Discard;", &[]);
    let e = build(
        loaded.graph.as_ref().unwrap(),
        &library::registry(),
        None,
        "",
    )
    .err()
    .unwrap();
    assert_eq!(
        e.diagnostics[0].one_line(&loaded.sources),
        "t.click:1:9: error: unknown element class 'Countr'"
    );
    assert_eq!(e.diagnostics[0].notes, ["did you mean 'Counter'?"]);
}

#[test]
fn port_errors() {
    assert_eq!(
        build_errors("Idle -> c :: Counter; c [1] -> Discard; c -> Discard;"),
        ["t.click:1:9: error: 'c' :: Counter has 1 output port, but output 1 is connected"]
    );
    assert_eq!(
        build_errors("c :: Counter -> Discard;"),
        ["t.click:1:1: error: 'c' :: Counter input 0 is not connected"]
    );
}

#[test]
fn push_pull_mismatch() {
    let e = build_errors("Idle -> q1 :: Queue -> q2 :: Queue -> Unqueue -> Discard;");
    assert_eq!(
        e,
        ["t.click:1:9: error: 'q1' pull output 0 is connected to 'q2' push input 0"]
    );
    let e = build_errors("i :: Idle; i -> Discard; i [1] -> Discard; s :: InfiniteSource -> t :: Counter; t -> Discard; t -> Discard;");
    assert_eq!(
        e,
        ["t.click:1:95: error: 't' push output 0 is connected more than once"]
    );
}

#[test]
fn argument_errors_point_into_the_configuration() {
    let e = build_errors(
        "InfiniteSource(LIMIT lots) -> Discard;\nIdle -> Queue(CAPACTY 5) -> Unqueue -> Discard;",
    );
    assert_eq!(
        e,
        [
            "t.click:1:22: error: 'InfiniteSource@1' :: InfiniteSource: argument LIMIT: expected an integer: 'lots' is not a number",
            "t.click:2:15: error: 'Queue@4' :: Queue: unknown keyword argument 'CAPACTY'"
        ]
    );
}

#[test]
fn a_filter_between_queue_and_unqueue_does_not_stall_the_pull() {
    // Strip(100) drops the first (short) packets it is pulled through; Unqueue must keep going.
    let mut r = router("s :: InfiniteSource(LIMIT 3, LENGTH 10, BURST 3) -> q :: Queue; l :: InfiniteSource(LIMIT 4, LENGTH 200, BURST 4, ACTIVE false) -> q;\n\
                        q -> Strip(100) -> u :: Unqueue(BURST 1) -> c :: Counter -> Discard;");
    r.write_handler("u.active", "false").unwrap();
    r.run_until_idle(5);
    r.write_handler("l.active", "true").unwrap();
    r.run_until_idle(5);
    r.write_handler("u.active", "true").unwrap();
    r.run_until_idle(10);
    assert_eq!(r.read_handler("c.count").unwrap(), "4");
    assert_eq!(r.read_handler("q.length").unwrap(), "0");
}
