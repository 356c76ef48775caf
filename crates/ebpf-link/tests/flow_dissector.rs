//! A flow dissector attached to a private network namespace runs on real
//! traffic: with RPS on a veth's receive queue, the receive path hashes each
//! packet through the dissector (testdata/freplace.c `count_dissect`, which
//! counts UDP datagrams to port 40404).

mod common;

use std::net::UdpSocket;
use std::process::Command;

use common::fixture_spec;
use ebpf::{Collection, CollectionOptions};
use ebpf_link::{Link, LinkInfoData, netns};
use ebpf_test_support::{NetNs, kernel_test};

/// The port the fixture counts.
const PORT: u16 = 40404;

fn sh(cmd: &str) {
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{cmd}: {st}");
}

/// In the current (test) namespace: `fd0` 10.78.0.1/24 and its peer `fd1`
/// (no address, MAC 02:00:00:00:78:02, RPS on CPU 0), and a permanent
/// neighbour 10.78.0.2 at `fd1`'s MAC, so datagrams sent to 10.78.0.2 cross
/// the pair and are received (then dropped by IP) on `fd1`.
fn veth_with_rps() {
    sh("ip link add fd0 type veth peer name fd1 address 02:00:00:00:78:02");
    sh("ip addr add 10.78.0.1/24 dev fd0");
    sh("ip link set fd0 up");
    sh("ip link set fd1 up");
    sh("ip neigh add 10.78.0.2 lladdr 02:00:00:00:78:02 dev fd0 nud permanent");
    // /sys shows the namespace of whoever mounted it: mount our own view.
    let dir = std::env::temp_dir().join(format!("ebpf-rs-sysfs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    sh(&format!("mount -t sysfs sysfs {d}"));
    let rps = dir.join("class/net/fd1/queues/rx-0/rps_cpus");
    let written = std::fs::write(&rps, "1");
    sh(&format!("umount {d}"));
    std::fs::remove_dir(&dir).unwrap();
    written.unwrap();
}

/// Sends `n` datagrams to 10.78.0.2:`port` across the pair.
fn send(n: usize, port: u16) {
    let tx = UdpSocket::bind("10.78.0.1:0").unwrap();
    for _ in 0..n {
        tx.send_to(b"dissect me", ("10.78.0.2", port)).unwrap();
    }
}

#[test]
fn flow_dissector_runs_on_received_packets() {
    kernel_test(|| {
        let spec = fixture_spec("freplace");
        let only = spec
            .programs
            .keys()
            .filter(|n| *n != "count_dissect")
            .cloned()
            .collect();
        let coll = Collection::load(
            &spec,
            CollectionOptions {
                skip_programs: only,
                ..Default::default()
            },
        )
        .unwrap();
        let prog = &coll.programs["count_dissect"];
        let dissected = &coll.variables["dissected"];
        let count = || dissected.get::<u64>().unwrap();

        let ns = NetNs::new().unwrap();
        ns.run(veth_with_rps).unwrap();
        ns.run(|| send(5, PORT)).unwrap();
        assert_eq!(count(), 0, "not attached yet");

        let link = netns::attach(prog, &ns).unwrap();
        let info = link.info().unwrap();
        assert!(matches!(info.data, LinkInfoData::Netns { .. }), "{info:?}");
        ns.run(|| send(10, PORT)).unwrap();
        // Delivery to the queue of another CPU is asynchronous: wait a little.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while count() < 10 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(count(), 10, "each datagram to port {PORT} dissected once");
        ns.run(|| send(10, PORT + 1)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(count(), 10, "other ports are dissected but not counted");

        drop(link);
        ns.run(|| send(10, PORT)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(count(), 10, "detached with the link");
        Ok(())
    });
}
