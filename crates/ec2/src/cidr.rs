//! IPv4 CIDR blocks: parsing AWS's `a.b.c.d/n` text, containment and overlap, and the
//! host addresses a subnet hands out (EC2 reserves the first four and the last one).

use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 network: a base address with its host bits clear, and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    base: u32,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/16`. Host bits must be clear.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.trim().split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let base = u32::from(addr);
        let cidr = Cidr { base, prefix };
        (base & !cidr.mask() == 0).then_some(cidr)
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// The prefix length.
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    /// Addresses in the block.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && other.base & self.mask() == self.base
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(self, other: Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// The `n`-th address EC2 may assign to an instance (from the fifth address on,
    /// never the last), or `None` past the end.
    pub fn host(self, n: u64) -> Option<Ipv4Addr> {
        let usable = self.size().checked_sub(5)?;
        (n < usable).then(|| Ipv4Addr::from(self.base + 4 + n as u32))
    }

    /// Addresses EC2 can assign in the block.
    pub fn usable(self) -> u64 {
        self.size().saturating_sub(5)
    }

    /// The `i`-th block of prefix `prefix` inside this one.
    pub fn nth_subnet(self, prefix: u8, i: u32) -> Option<Cidr> {
        if prefix < self.prefix || prefix > 32 {
            return None;
        }
        let step = 1u64 << (32 - u32::from(prefix));
        let offset = step.checked_mul(u64::from(i))?;
        (offset < self.size()).then(|| Cidr {
            base: self.base + offset as u32,
            prefix,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_contains_and_hands_out_hosts() {
        let vpc = Cidr::parse("10.0.0.0/16").expect("vpc");
        let subnet = Cidr::parse("10.0.1.0/24").expect("subnet");
        assert!(vpc.contains(subnet) && !subnet.contains(vpc));
        assert!(vpc.overlaps(subnet));
        assert!(!subnet.overlaps(Cidr::parse("10.0.2.0/24").expect("other")));
        assert_eq!(Cidr::parse("10.0.0.1/16"), None, "host bits set");
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(subnet.host(0), Some(Ipv4Addr::new(10, 0, 1, 4)));
        assert_eq!(subnet.usable(), 251);
        assert_eq!(subnet.host(250), Some(Ipv4Addr::new(10, 0, 1, 254)));
        assert_eq!(subnet.host(251), None);
        assert_eq!(
            Cidr::parse("172.31.0.0/16")
                .and_then(|c| c.nth_subnet(20, 1))
                .map(|c| c.to_string()),
            Some("172.31.16.0/20".to_owned())
        );
        assert_eq!(subnet.to_string(), "10.0.1.0/24");
    }
}
