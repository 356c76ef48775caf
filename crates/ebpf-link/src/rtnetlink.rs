//! The rtnetlink transport shared by `tc` and the netlink path of
//! `xdp`: one `NETLINK_ROUTE` socket (netlink-sys), requests
//! built from netlink-packet-route's message types, answers returned as
//! message payloads for the caller to read with the same crate's parsers.
//!
//! The socket is opened in the calling thread's network namespace and stays
//! bound to it, so an attachment that keeps its `Rtnl` can clean up from any
//! thread. Extended acks are turned on, so a refusal carries the kernel's
//! own words (`"Exclusivity flag on, cannot modify"`).
//!
//! Answers are read selectively (the header, then only the attributes a
//! caller asks for) rather than as whole typed messages: a kernel newer than
//! the crate may add attributes it cannot parse, and a query must not fail
//! for an attribute nobody asked about.

use netlink_packet_core::{
    DoneBuffer, DoneMessage, ErrorBuffer, ErrorMessage, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
    NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NetlinkBuffer, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NlasIterator, Parseable, parse_string,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};

use ebpf_syscall::Errno;

use crate::error::{Error, Result};

/// `NLM_F_CAPPED` on an `NLMSG_ERROR`: the echoed request is its header only.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLMSGERR_ATTR_MSG`: the extended ack's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A `NETLINK_ROUTE` socket in the network namespace it was opened in.
#[derive(Debug)]
pub(crate) struct Rtnl {
    socket: Socket,
    seq: u32,
}

impl Rtnl {
    /// Opens a socket in the calling thread's network namespace.
    pub(crate) fn open() -> Result<Rtnl> {
        let mut socket =
            Socket::new(NETLINK_ROUTE).map_err(Error::io("socket(AF_NETLINK, NETLINK_ROUTE)"))?;
        socket
            .bind_auto()
            .map_err(Error::io("bind the rtnetlink socket"))?;
        // Both options are best effort: 4.12 (extended acks) and 4.2 (capped
        // acks); without them errors carry no text and acks echo the request.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Rtnl { socket, seq: 0 })
    }

    /// Sends `msg` with `flags` (`NLM_F_REQUEST` and `NLM_F_ACK` are added)
    /// and waits for the kernel's ack, returning the payloads of the messages
    /// that came before it (an `NLM_F_ECHO`ed object, a `GET`'s answer).
    /// `op` names the request in errors.
    pub(crate) fn request(
        &mut self,
        op: &'static str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<Vec<u8>>> {
        self.exchange(op, msg, flags | NLM_F_ACK)
    }

    /// Sends a dump request (`NLM_F_DUMP`) and returns every object's payload.
    pub(crate) fn dump(
        &mut self,
        op: &'static str,
        msg: RouteNetlinkMessage,
    ) -> Result<Vec<Vec<u8>>> {
        self.exchange(op, msg, NLM_F_DUMP)
    }

    fn exchange(
        &mut self,
        op: &'static str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<Vec<u8>>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = flags | NLM_F_REQUEST;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket
            .send(&buf, 0)
            .map_err(Error::io(format!("send {op}")))?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut out = Vec::new();
        loop {
            let (datagram, _) = self
                .socket
                .recv_from_full()
                .map_err(Error::io(format!("receive the answer to {op}")))?;
            if let Some(done) = read_datagram(op, &datagram, seq, dump, &mut out)? {
                return done.map(|()| out);
            }
        }
    }
}

/// Reads the messages of one datagram answering request `seq`: objects are
/// appended to `out`; `Some(result)` once the request is complete.
fn read_datagram(
    op: &'static str,
    mut datagram: &[u8],
    seq: u32,
    dump: bool,
    out: &mut Vec<Vec<u8>>,
) -> Result<Option<Result<()>>> {
    let malformed = |why: String| Error::Io {
        what: format!("read the answer to {op}"),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    };
    while !datagram.is_empty() {
        let msg = NetlinkBuffer::new_checked(datagram)
            .map_err(|e| malformed(format!("malformed netlink message: {e}")))?;
        let len = msg.length() as usize;
        let next = len.next_multiple_of(4).min(datagram.len());
        if msg.sequence_number() == seq {
            match msg.message_type() {
                NLMSG_ERROR => {
                    let flags = msg.flags();
                    let payload = msg.payload();
                    let err = ErrorBuffer::new_checked(&payload)
                        .and_then(|b| ErrorMessage::parse(&b))
                        .map_err(|e| malformed(format!("malformed NLMSG_ERROR: {e}")))?;
                    return Ok(Some(match err.code {
                        None => Ok(()),
                        Some(code) => Err(netlink_error(
                            op,
                            Errno(-code.get()),
                            extack_message(&err.header, flags),
                        )),
                    }));
                }
                NLMSG_DONE if dump => {
                    // Since 4.x a dump that failed midway says so in DONE.
                    let payload = msg.payload();
                    let code = DoneBuffer::new_checked(&payload)
                        .and_then(|b| DoneMessage::parse(&b))
                        .map_or(0, |d| d.code);
                    return Ok(Some(if code < 0 {
                        Err(netlink_error(op, Errno(-code), None))
                    } else {
                        Ok(())
                    }));
                }
                NLMSG_NOOP => {}
                _ => out.push(msg.payload().to_vec()),
            }
        }
        datagram = &datagram[next..];
    }
    Ok(None)
}

/// The extended ack text after the echoed request in an `NLMSG_ERROR`.
fn extack_message(after_code: &[u8], flags: u16) -> Option<String> {
    let echoed = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        NetlinkBuffer::new_checked(after_code).map_or(after_code.len(), |b| b.length() as usize)
    };
    let tlvs = after_code.get(echoed.next_multiple_of(4)..)?;
    NlasIterator::new(tlvs)
        .filter_map(|nla| nla.ok())
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .and_then(|nla| parse_string(nla.value()).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The error for a refused request: `EPERM` is a refusal by policy.
fn netlink_error(op: &'static str, errno: Errno, message: Option<String>) -> Error {
    if errno == Errno::PERM || errno == Errno::ACCES {
        return Error::PermissionDenied {
            what: op.to_owned(),
            errno,
            hint: "rtnetlink changes need CAP_NET_ADMIN in the network namespace that owns the \
                   interface (or an LSM refused it)"
                .to_owned(),
        };
    }
    Error::Netlink { op, errno, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, NLM_F_ACK_TLVS};

    /// An `NLMSG_ERROR` answering `seq` with `code`, capped, carrying `text`
    /// as its extended ack.
    fn error_message(seq: u32, code: i32, text: &str) -> Vec<u8> {
        let mut payload = code.to_ne_bytes().to_vec();
        payload.extend([0u8; 16]); // the echoed request header
        let mut nla = Vec::new();
        let len = (4 + text.len() + 1) as u16;
        nla.extend(len.to_ne_bytes());
        nla.extend(NLMSGERR_ATTR_MSG.to_ne_bytes());
        nla.extend(text.as_bytes());
        nla.push(0);
        nla.resize(nla.len().next_multiple_of(4), 0);
        payload.extend(nla);
        let mut header = NetlinkHeader::default();
        header.message_type = NLMSG_ERROR;
        header.flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
        header.sequence_number = seq;
        header.length = (16 + payload.len()) as u32;
        let mut buf = vec![0u8; 16];
        header.emit(&mut buf);
        buf.extend(payload);
        buf
    }

    #[test]
    fn errors_carry_the_extended_ack() {
        let mut out = Vec::new();
        let dgram = error_message(7, -17, "Filter already exists");
        let res = read_datagram("RTM_NEWTFILTER", &dgram, 7, false, &mut out).unwrap();
        let err = res.unwrap().unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EXIST));
        assert_eq!(
            err.to_string(),
            "RTM_NEWTFILTER: File exists (EEXIST): Filter already exists"
        );
        // An ack for another request is not ours.
        let other = error_message(6, 0, "");
        assert!(
            read_datagram("x", &other, 7, false, &mut out)
                .unwrap()
                .is_none()
        );
        // EPERM is a refusal by policy.
        let eperm = error_message(7, -1, "");
        let err = read_datagram("RTM_SETLINK", &eperm, 7, false, &mut out)
            .unwrap()
            .unwrap()
            .unwrap_err();
        assert!(err.is_permission_denied(), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn truncated_messages_are_errors() {
        let mut out = Vec::new();
        let mut dgram = error_message(7, -17, "x");
        dgram.truncate(10);
        assert!(read_datagram("x", &dgram, 7, false, &mut out).is_err());
    }
}
