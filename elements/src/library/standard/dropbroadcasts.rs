//! DropBroadcasts — drops packets that arrived as link-level broadcast or multicast.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 is push.
//! Arguments: none.
//! Handlers: `drops` (read) how many packets it took out.
//!
//! Looks at the packet-type annotation (`anno().packet_type`, see
//! [`packet_type`](crate::packet::packet_type)), which device elements set: `BROADCAST` and
//! `MULTICAST` packets go to output 1 if it is connected, else they are killed; all others go to
//! output 0. IP routers use it so as not to forward link-level broadcasts. The first such packet
//! is reported on the console, once.

use alloc::string::{String, ToString};

use crate::batch::Batch;
use crate::element::{Element, ElementClass, HandlerSpec};
use crate::packet::packet_type;
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("DropBroadcasts", "1/1-2", "a/ah", DropBroadcasts);

#[derive(Default)]
pub struct DropBroadcasts {
    drops: u64,
}

impl Element for DropBroadcasts {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let before = self.drops;
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let t = p.anno().packet_type;
            if t == packet_type::BROADCAST || t == packet_type::MULTICAST {
                *drops += 1;
                Some(1)
            } else {
                Some(0)
            }
        });
        if before == 0 && self.drops > 0 {
            let line = alloc::format!("{}: dropped a packet", cx.name());
            cx.platform().print(&line);
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("drops")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "drops").then(|| self.drops.to_string())
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use crate::batch::Batch;
    use crate::packet::{packet_type, Packet};
    use crate::testing::{captured, router};

    fn typed(data: &[u8], t: u8) -> Packet {
        let mut p = Packet::from_slice(data);
        p.anno_mut().packet_type = t;
        p
    }

    fn feed(r: &mut crate::Router, name: &str) {
        let e = r.find(name).unwrap();
        let b = Batch::from_vec(vec![
            typed(b"host", packet_type::HOST),
            typed(b"bcast", packet_type::BROADCAST),
            typed(b"mcast", packet_type::MULTICAST),
            typed(b"other", packet_type::OTHERHOST),
            typed(b"out", packet_type::OUTGOING),
        ]);
        r.inject(e, 0, b);
    }

    #[test]
    fn broadcast_and_multicast_go_to_output_1() {
        let mut r = router("Idle -> d :: DropBroadcasts -> a :: Capture; d[1] -> b :: Capture;");
        feed(&mut r, "d");
        assert_eq!(
            captured(&r, "a"),
            [b"host".to_vec(), b"other".to_vec(), b"out".to_vec()]
        );
        assert_eq!(captured(&r, "b"), [b"bcast".to_vec(), b"mcast".to_vec()]);
        assert_eq!(r.read_handler("d.drops").unwrap(), "2");
    }

    #[test]
    fn without_output_1_they_are_killed() {
        let mut r = router("Idle -> d :: DropBroadcasts -> a :: Capture;");
        feed(&mut r, "d");
        assert_eq!(captured(&r, "a").len(), 3);
        assert_eq!(r.read_handler("d.drops").unwrap(), "2");
        // Empty packets carry no special type and pass.
        let e = r.find("d").unwrap();
        r.inject(e, 0, Batch::from_vec(vec![Packet::from_slice(&[])]));
        assert_eq!(captured(&r, "a").len(), 4);
    }

    #[test]
    fn works_in_pull_paths() {
        let mut r = router(
            "Idle -> q :: Queue -> d :: DropBroadcasts -> u :: Unqueue(BURST 8) -> a :: Capture; d[1] -> b :: Capture;",
        );
        let e = r.find("q").unwrap();
        r.inject(
            e,
            0,
            Batch::from_vec(vec![
                typed(b"x", packet_type::BROADCAST),
                typed(b"y", packet_type::HOST),
            ]),
        );
        r.run_until_idle(8);
        assert_eq!(captured(&r, "a"), [b"y".to_vec()]);
        assert_eq!(captured(&r, "b"), [b"x".to_vec()]);
    }
}
