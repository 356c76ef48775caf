//! The rtnetlink messages of classic tc: the `clsact` qdisc (`RTM_*QDISC`)
//! and `cls_bpf` filters (`RTM_*TFILTER`), built from netlink-packet-route's
//! `TcMessage` and read back from the kernel's answers.
//!
//! Handles and `tcm_info` follow `include/uapi/linux/pkt_sched.h`: the clsact
//! qdisc is `ffff:` under parent `TC_H_CLSACT` (`ffff:fff1`); its ingress and
//! egress filter lists are the classes `ffff:fff2` and `ffff:fff3`; a
//! filter's `tcm_info` is `priority << 16 | htons(protocol)`.

use netlink_packet_core::{
    NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, NlasIterator, ParseableParametrized,
};
use netlink_packet_route::tc::{
    TcAttribute, TcBpfFlags, TcFilterBpfOption, TcHandle, TcHeader, TcMessage, TcOption,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use ebpf_syscall::Errno;

use super::{TcDirection, TcFilter, TcFilterId};
use crate::error::Result;
use crate::iface::Iface;
use crate::rtnetlink::Rtnl;

/// `TC_H_CLSACT` (also `TC_H_INGRESS`): the clsact qdisc's parent.
const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
/// The clsact qdisc's handle, `ffff:`.
const CLSACT_HANDLE: u32 = 0xFFFF_0000;
/// The qdisc kind.
pub(crate) const CLSACT: &str = "clsact";
/// The `cls_bpf` filter kind.
const BPF: &str = "bpf";
/// `sizeof(struct tcmsg)`.
const TCMSG_LEN: usize = 20;

impl TcDirection {
    /// The filter list's parent: `TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_{INGRESS,EGRESS})`.
    pub(crate) fn parent(self) -> u32 {
        match self {
            TcDirection::Ingress => 0xFFFF_FFF2,
            TcDirection::Egress => 0xFFFF_FFF3,
        }
    }
}

/// `tcm_info` of a filter: the priority above the protocol in network order.
pub(crate) fn info(priority: u16, protocol: u16) -> u32 {
    (u32::from(priority) << 16) | u32::from(protocol.to_be())
}

fn message(
    iface: &Iface,
    handle: u32,
    parent: u32,
    info: u32,
    attrs: Vec<TcAttribute>,
) -> TcMessage {
    let header = TcHeader {
        family: AddressFamily::Unspec,
        index: iface.index_i32(),
        handle: TcHandle::from(handle),
        parent: TcHandle::from(parent),
        info,
    };
    TcMessage::from_parts(header, attrs)
}

/// The kind of the qdisc at `ffff:` (clsact or ingress), if there is one.
pub(crate) fn ingress_qdisc_kind(rtnl: &mut Rtnl, iface: &Iface) -> Result<Option<String>> {
    let msg = message(iface, CLSACT_HANDLE, 0, 0, Vec::new());
    // The kernel answers a qdisc GET through its notification path, which
    // reaches the asking socket only with NLM_F_ECHO.
    let get = RouteNetlinkMessage::GetQueueDiscipline(msg);
    match rtnl.request("RTM_GETQDISC", get, NLM_F_ECHO) {
        Ok(answers) => Ok(answers.iter().find_map(|p| parse(p).map(|m| m.kind))),
        Err(e) if e.errno() == Some(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `RTM_NEWQDISC` for clsact, failing with `EEXIST` if a qdisc is at `ffff:`.
pub(crate) fn add_clsact(rtnl: &mut Rtnl, iface: &Iface) -> Result<()> {
    let msg = message(
        iface,
        CLSACT_HANDLE,
        TC_H_CLSACT,
        0,
        vec![TcAttribute::Kind(CLSACT.to_owned())],
    );
    let flags = NLM_F_CREATE | NLM_F_EXCL;
    rtnl.request(
        "RTM_NEWQDISC",
        RouteNetlinkMessage::NewQueueDiscipline(msg),
        flags,
    )?;
    Ok(())
}

/// `RTM_DELQDISC` for clsact; the kind is named so that an `ingress` qdisc
/// put there by someone else is refused (`EINVAL`) rather than deleted.
pub(crate) fn del_clsact(rtnl: &mut Rtnl, iface: &Iface) -> Result<()> {
    let msg = message(
        iface,
        CLSACT_HANDLE,
        TC_H_CLSACT,
        0,
        vec![TcAttribute::Kind(CLSACT.to_owned())],
    );
    rtnl.request(
        "RTM_DELQDISC",
        RouteNetlinkMessage::DelQueueDiscipline(msg),
        0,
    )?;
    Ok(())
}

/// `RTM_NEWTFILTER` for a direct-action cls_bpf filter running `prog_fd`;
/// without `replace`, an existing filter at the same priority and handle is
/// an `EEXIST`. Returns the filter as the kernel echoed it (`NLM_F_ECHO`),
/// with the priority and handle it chose when they were 0.
pub(crate) fn add_filter(
    rtnl: &mut Rtnl,
    iface: &Iface,
    direction: TcDirection,
    id: TcFilterId,
    prog_fd: u32,
    name: &str,
    replace: bool,
) -> Result<Option<TcFilter>> {
    let options = vec![
        TcOption::Bpf(TcFilterBpfOption::ProgFd(prog_fd)),
        TcOption::Bpf(TcFilterBpfOption::ProgName(name.to_owned())),
        TcOption::Bpf(TcFilterBpfOption::Flags(TcBpfFlags::DirectAction)),
    ];
    let msg = message(
        iface,
        id.handle,
        direction.parent(),
        info(id.priority, id.protocol),
        vec![
            TcAttribute::Kind(BPF.to_owned()),
            TcAttribute::Options(options),
        ],
    );
    let flags = NLM_F_CREATE | NLM_F_ECHO | if replace { 0 } else { NLM_F_EXCL };
    let answers = rtnl.request(
        "RTM_NEWTFILTER",
        RouteNetlinkMessage::NewTrafficFilter(msg),
        flags,
    )?;
    Ok(answers.iter().find_map(|p| filter(p)))
}

/// `RTM_DELTFILTER` for one cls_bpf filter.
pub(crate) fn del_filter(
    rtnl: &mut Rtnl,
    iface: &Iface,
    direction: TcDirection,
    id: TcFilterId,
) -> Result<()> {
    let msg = message(
        iface,
        id.handle,
        direction.parent(),
        info(id.priority, id.protocol),
        vec![TcAttribute::Kind(BPF.to_owned())],
    );
    rtnl.request(
        "RTM_DELTFILTER",
        RouteNetlinkMessage::DelTrafficFilter(msg),
        0,
    )?;
    Ok(())
}

/// `RTM_GETTFILTER` for one cls_bpf filter; `None` if it is gone.
pub(crate) fn get_filter(
    rtnl: &mut Rtnl,
    iface: &Iface,
    direction: TcDirection,
    id: TcFilterId,
) -> Result<Option<TcFilter>> {
    let msg = message(
        iface,
        id.handle,
        direction.parent(),
        info(id.priority, id.protocol),
        vec![TcAttribute::Kind(BPF.to_owned())],
    );
    match rtnl.request(
        "RTM_GETTFILTER",
        RouteNetlinkMessage::GetTrafficFilter(msg),
        0,
    ) {
        Ok(answers) => Ok(answers.iter().find_map(|p| filter(p))),
        // ENOENT: no such handle, priority or qdisc; EINVAL: another kind or
        // protocol at that priority, or no qdisc (older kernels).
        Err(e) if matches!(e.errno(), Some(Errno::NOENT | Errno::INVAL)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every filter (of any kind) on one direction of clsact, in priority
/// order; only those at `priority` when given. Empty without clsact.
pub(crate) fn dump_filters(
    rtnl: &mut Rtnl,
    iface: &Iface,
    direction: TcDirection,
    priority: Option<u16>,
) -> Result<Vec<TcFilter>> {
    let msg = message(
        iface,
        0,
        direction.parent(),
        priority.map_or(0, |p| info(p, 0)),
        Vec::new(),
    );
    let answers = rtnl.dump("RTM_GETTFILTER", RouteNetlinkMessage::GetTrafficFilter(msg))?;
    Ok(answers.iter().filter_map(|p| filter(p)).collect())
}

/// What an answer says: the header and the attributes tc code needs.
struct Parsed {
    header: TcHeader,
    kind: String,
    options: Vec<TcOption>,
}

/// Reads a `tcmsg`, its `TCA_KIND` and `TCA_OPTIONS`; other attributes
/// (statistics, ...) are skipped unread.
fn parse(payload: &[u8]) -> Option<Parsed> {
    let header = TcHeader::parse(payload).ok()?;
    let mut kind = String::new();
    let mut options = Vec::new();
    for nla in NlasIterator::new(payload.get(TCMSG_LEN..)?).flatten() {
        match TcAttribute::parse_with_param(&nla, kind.as_str()) {
            Ok(TcAttribute::Kind(k)) => kind = k,
            Ok(TcAttribute::Options(o)) => options = o,
            _ => {}
        }
    }
    Some(Parsed {
        header,
        kind,
        options,
    })
}

/// A filter from a `RTM_NEWTFILTER` answer; `None` for the entries without a
/// handle that a dump lists ahead of each priority's filters.
fn filter(payload: &[u8]) -> Option<TcFilter> {
    let m = parse(payload)?;
    let handle = u32::from(m.header.handle);
    if handle == 0 {
        return None;
    }
    let mut f = TcFilter {
        id: TcFilterId {
            priority: (m.header.info >> 16) as u16,
            handle,
            protocol: u16::from_be(m.header.info as u16),
        },
        kind: m.kind,
        name: None,
        program_id: None,
        direct_action: false,
        tag: None,
    };
    for o in m.options {
        match o {
            TcOption::Bpf(TcFilterBpfOption::ProgName(n)) => f.name = Some(n),
            TcOption::Bpf(TcFilterBpfOption::ProgId(id)) => f.program_id = Some(id),
            TcOption::Bpf(TcFilterBpfOption::ProgTag(t)) => f.tag = Some(t),
            TcOption::Bpf(TcFilterBpfOption::Flags(fl)) => {
                f.direct_action = fl.contains(TcBpfFlags::DirectAction);
            }
            _ => {}
        }
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    #[test]
    fn info_packs_priority_and_protocol() {
        // ETH_P_IP (0x0800) in network order on a little- or big-endian host.
        let i = info(0xC000, 0x0800);
        assert_eq!(i >> 16, 0xC000);
        assert_eq!(u16::from_be(i as u16), 0x0800);
    }

    #[test]
    fn filters_round_trip_through_the_crate() {
        let iface = Iface {
            name: "veth0".into(),
            index: 3,
        };
        let id = TcFilterId {
            priority: 7,
            handle: 2,
            protocol: 0x0003,
        };
        let mut msg = message(
            &iface,
            id.handle,
            TcDirection::Egress.parent(),
            info(id.priority, id.protocol),
            vec![
                TcAttribute::Kind(BPF.to_owned()),
                TcAttribute::Options(vec![
                    TcOption::Bpf(TcFilterBpfOption::ProgName("counter".into())),
                    TcOption::Bpf(TcFilterBpfOption::ProgId(42)),
                    TcOption::Bpf(TcFilterBpfOption::Flags(TcBpfFlags::DirectAction)),
                ]),
            ],
        );
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        let f = filter(&buf).unwrap();
        assert_eq!(f.id, id);
        assert_eq!(f.kind, "bpf");
        assert_eq!(f.name.as_deref(), Some("counter"));
        assert_eq!(f.program_id, Some(42));
        assert!(f.direct_action);
        // The entry a dump lists ahead of a priority's filters has no handle.
        msg.header.handle = TcHandle::from(0);
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        assert!(filter(&buf).is_none());
        assert_eq!(
            u32::from(TcHandle::from(TcDirection::Ingress.parent())),
            0xFFFF_FFF2
        );
    }
}
