//! IP address sets for NetworkPolicy `ipBlock` peers.
//!
//! An `ipBlock { cidr, except }` selects `cidr` minus every `except` range.
//! Validation follows `ValidateIPBlock` in Kubernetes
//! (`pkg/apis/networking/validation`): each `except` must be a *strict* subset
//! of `cidr` (same address family, inside it, and a longer prefix).
//!
//! CIDR text is parsed in one of two modes ([`CidrParsing`]):
//!
//! * [`CidrParsing::Strict`] (the default) matches the `StrictIPCIDRValidation`
//!   rules (KEP-4858, beta from Kubernetes 1.36 and applied to every new
//!   NetworkPolicy `ipBlock` value): no bits set beyond the prefix length
//!   (`10.0.0.1/8` is an error), no leading zeros, no IPv4-mapped IPv6.
//! * [`CidrParsing::Legacy`] accepts what older API servers accepted through
//!   `netutils.ParseCIDRSloppy` (Go's pre-1.17 `net.ParseCIDR`): host bits are
//!   masked off (`10.0.0.1/8` means `10.0.0.0/8`), IPv4 octets and the prefix
//!   length may have leading zeros (read as decimal), and an IPv4-mapped IPv6
//!   prefix of length >= 96 means the corresponding IPv4 prefix. Use it to
//!   interpret objects stored before strict validation.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How CIDR text is validated; see the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CidrParsing {
    /// Current Kubernetes validation (StrictIPCIDRValidation).
    #[default]
    Strict,
    /// Pre-1.36 validation (`ParseCIDRSloppy`), host bits masked off.
    Legacy,
}

/// Why CIDR text or an `ipBlock` is invalid. Always carries the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The text is not a CIDR at all, or violates the validation mode.
    #[error("invalid CIDR `{text}`: {reason}")]
    Invalid {
        /// The text as written.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `ipBlock.cidr` is empty.
    #[error("ipBlock.cidr is required")]
    MissingCidr,
    /// An `except` entry is of the other address family than `cidr`.
    #[error("ipBlock except `{except}` is not the same address family as cidr `{cidr}`")]
    ExceptFamily {
        /// `ipBlock.cidr`.
        cidr: String,
        /// The offending `except` entry.
        except: String,
    },
    /// An `except` entry is not a strict subset of `cidr`.
    #[error("ipBlock except `{except}` must be a strict subset of cidr `{cidr}`")]
    ExceptOutside {
        /// `ipBlock.cidr`.
        cidr: String,
        /// The offending `except` entry.
        except: String,
    },
}

/// A network prefix (`10.0.0.0/8`, `fd00::/8`). Always valid and masked:
/// it can only be built by parsing or by [`Cidr::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr(Prefix);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Prefix {
    /// Network address and prefix length (0..=32).
    V4(u32, u8),
    /// Network address and prefix length (0..=128).
    V6(u128, u8),
}

const fn pfx4(net: u32, len: u8) -> Cidr {
    Cidr(Prefix::V4(net, len))
}

const fn pfx6(net: u128, len: u8) -> Cidr {
    Cidr(Prefix::V6(net, len))
}

fn mask_v4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

fn mask_v6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

fn invalid(text: &str, reason: impl Into<String>) -> CidrError {
    CidrError::Invalid {
        text: text.to_string(),
        reason: reason.into(),
    }
}

/// Decimal digits only, at least one; `allow_leading_zero` permits `024`.
/// Returns None on overflow past `max`.
fn parse_decimal(s: &str, allow_leading_zero: bool, max: u32) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !allow_leading_zero && s.len() > 1 && s.starts_with('0') {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
        if n > max {
            return None;
        }
    }
    Some(n)
}

/// IPv4 as accepted by Go's old `parseIPv4`: four decimal fields, leading zeros
/// allowed and read as decimal.
fn parse_ipv4_sloppy(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut fields = s.split('.');
    for octet in &mut octets {
        let n = parse_decimal(fields.next()?, true, 255)?;
        *octet = u8::try_from(n).ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

impl Cidr {
    /// Parses CIDR text with [`CidrParsing::Strict`] validation.
    pub fn parse(text: &str) -> Result<Self, CidrError> {
        Self::parse_with(text, CidrParsing::Strict)
    }

    /// Parses CIDR text with [`CidrParsing::Legacy`] validation (host bits masked).
    pub fn parse_legacy(text: &str) -> Result<Self, CidrError> {
        Self::parse_with(text, CidrParsing::Legacy)
    }

    /// Parses CIDR text in the given validation mode.
    pub fn parse_with(text: &str, mode: CidrParsing) -> Result<Self, CidrError> {
        let legacy = mode == CidrParsing::Legacy;
        let Some((addr_text, len_text)) = text.split_once('/') else {
            return Err(invalid(text, "missing `/prefix-length`"));
        };
        let addr: IpAddr = if addr_text.contains(':') {
            match addr_text.parse::<Ipv6Addr>() {
                Ok(a) => IpAddr::V6(a),
                Err(_) => return Err(invalid(text, format!("`{addr_text}` is not an IP address"))),
            }
        } else {
            let parsed = if legacy {
                parse_ipv4_sloppy(addr_text)
            } else {
                addr_text.parse::<Ipv4Addr>().ok()
            };
            match parsed {
                Some(a) => IpAddr::V4(a),
                None if !legacy && parse_ipv4_sloppy(addr_text).is_some() => {
                    return Err(invalid(text, "must not have leading 0s in the IP address"));
                }
                None => return Err(invalid(text, format!("`{addr_text}` is not an IP address"))),
            }
        };
        let max_len: u32 = if addr.is_ipv4() { 32 } else { 128 };
        let Some(len) = parse_decimal(len_text, legacy, max_len) else {
            let reason = if parse_decimal(len_text, true, max_len).is_some() {
                "must not have leading 0s in the prefix length".to_string()
            } else {
                format!("prefix length `{len_text}` is not a number between 0 and {max_len}")
            };
            return Err(invalid(text, reason));
        };
        // `len <= 128` was checked by parse_decimal.
        let len = u8::try_from(len).map_err(|_| invalid(text, "prefix length out of range"))?;
        match addr {
            IpAddr::V4(a) => {
                let raw = u32::from(a);
                let net = raw & mask_v4(len);
                if net != raw && !legacy {
                    return Err(invalid(
                        text,
                        format!(
                            "must not have bits set beyond the prefix length (did you mean `{}/{len}`?)",
                            Ipv4Addr::from(net)
                        ),
                    ));
                }
                Ok(pfx4(net, len))
            }
            IpAddr::V6(a) => {
                let raw = u128::from(a);
                if !legacy && a.to_ipv4_mapped().is_some() {
                    return Err(invalid(text, "must not be an IPv4-mapped IPv6 address"));
                }
                let net = raw & mask_v6(len);
                if net != raw && !legacy {
                    return Err(invalid(
                        text,
                        format!(
                            "must not have bits set beyond the prefix length (did you mean `{}/{len}`?)",
                            Ipv6Addr::from(net)
                        ),
                    ));
                }
                // Go treats a masked IPv4-mapped network with a /96-or-longer
                // prefix as the IPv4 network (net.IPNet.Contains via To4()).
                if len >= 96
                    && let Some(v4) = Ipv6Addr::from(net).to_ipv4_mapped()
                {
                    return Ok(pfx4(u32::from(v4), len - 96));
                }
                Ok(pfx6(net, len))
            }
        }
    }

    /// The prefix of `prefix_len` bits containing `addr` (host bits are
    /// masked off; IPv4-mapped IPv6 addresses are treated as IPv4). None when
    /// `prefix_len` exceeds the family's width.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        match addr.to_canonical() {
            IpAddr::V4(a) if prefix_len <= 32 => {
                Some(pfx4(u32::from(a) & mask_v4(prefix_len), prefix_len))
            }
            IpAddr::V6(a) if prefix_len <= 128 => {
                Some(pfx6(u128::from(a) & mask_v6(prefix_len), prefix_len))
            }
            _ => None,
        }
    }

    /// The single-address prefix (`/32` or `/128`) of `addr`; IPv4-mapped IPv6
    /// addresses are treated as IPv4.
    pub fn host(addr: IpAddr) -> Self {
        match addr.to_canonical() {
            IpAddr::V4(a) => pfx4(u32::from(a), 32),
            IpAddr::V6(a) => pfx6(u128::from(a), 128),
        }
    }

    /// True for IPv4 prefixes.
    pub fn is_ipv4(&self) -> bool {
        matches!(self.0, Prefix::V4(..))
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        match self.0 {
            Prefix::V4(_, l) | Prefix::V6(_, l) => l,
        }
    }

    /// The network address.
    pub fn network(&self) -> IpAddr {
        match self.0 {
            Prefix::V4(n, _) => IpAddr::V4(Ipv4Addr::from(n)),
            Prefix::V6(n, _) => IpAddr::V6(Ipv6Addr::from(n)),
        }
    }

    /// Whether `addr` lies in this prefix (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.0, addr.to_canonical()) {
            (Prefix::V4(n, l), IpAddr::V4(a)) => u32::from(a) & mask_v4(l) == n,
            (Prefix::V6(n, l), IpAddr::V6(a)) => u128::from(a) & mask_v6(l) == n,
            _ => false,
        }
    }

    /// Whether `other` is inside this prefix and strictly smaller, the rule
    /// Kubernetes applies to `ipBlock.except`.
    pub fn strictly_contains(&self, other: &Cidr) -> bool {
        self.is_ipv4() == other.is_ipv4()
            && self.contains(other.network())
            && self.prefix_len() < other.prefix_len()
    }

    fn to_set(self) -> IpSet {
        match self.0 {
            Prefix::V4(n, l) => IpSet {
                v4: vec![(n, n | !mask_v4(l))],
                v6: Vec::new(),
            },
            Prefix::V6(n, l) => IpSet {
                v4: Vec::new(),
                v6: vec![(n, n | !mask_v6(l))],
            },
        }
    }
}

impl fmt::Display for Cidr {
    /// Canonical form (`10.0.0.0/8`, `fd00:ec2::254/128`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix_len())
    }
}

impl std::str::FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cidr::parse(s)
    }
}

/// Unsigned address integers (u32 for IPv4, u128 for IPv6).
trait Addr: Copy + Ord + fmt::Debug {
    const ZERO: Self;
    const MAX: Self;
    const BITS: u32;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
    fn trailing_zeros_(self) -> u32;
    fn leading_zeros_(self) -> u32;
    fn saturating_sub_(self, o: Self) -> Self;
    fn saturating_add_(self, o: Self) -> Self;
    /// `2^k - 1` (all ones when `k >= BITS`).
    fn low_mask(k: u32) -> Self;
}

macro_rules! impl_addr {
    ($t:ty) => {
        impl Addr for $t {
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;
            const BITS: u32 = <$t>::BITS;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
            fn trailing_zeros_(self) -> u32 {
                self.trailing_zeros()
            }
            fn leading_zeros_(self) -> u32 {
                self.leading_zeros()
            }
            fn saturating_sub_(self, o: Self) -> Self {
                self.saturating_sub(o)
            }
            fn saturating_add_(self, o: Self) -> Self {
                self.saturating_add(o)
            }
            fn low_mask(k: u32) -> Self {
                if k >= <$t>::BITS {
                    <$t>::MAX
                } else {
                    (1 << k) - 1
                }
            }
        }
    };
}
impl_addr!(u32);
impl_addr!(u128);

/// Sorts and merges overlapping or adjacent inclusive ranges.
fn normalize<T: Addr>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        if let Some(last) = out.last_mut() {
            // Adjacent when last.1 + 1 == lo; overlapping when lo <= last.1.
            let touches = lo <= last.1 || last.1.succ() == Some(lo);
            if touches {
                if hi > last.1 {
                    last.1 = hi;
                }
                continue;
            }
        }
        out.push((lo, hi));
    }
    out
}

fn union_ranges<T: Addr>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    normalize(a.iter().chain(b).copied().collect())
}

fn intersect_ranges<T: Addr>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(&(alo, ahi)), Some(&(blo, bhi))) = (a.get(i), b.get(j)) {
        let lo = alo.max(blo);
        let hi = ahi.min(bhi);
        if lo <= hi {
            out.push((lo, hi));
        }
        if ahi < bhi {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn subtract_ranges<T: Addr>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut j = 0;
    for &(lo, hi) in a {
        let mut cur = Some(lo);
        // Skip holes entirely before this range.
        while b.get(j).is_some_and(|&(_, bhi)| bhi < lo) {
            j += 1;
        }
        let mut k = j;
        while let (Some(start), Some(&(blo, bhi))) = (cur, b.get(k)) {
            if blo > hi {
                break;
            }
            if blo > start
                && let Some(end) = blo.pred()
            {
                out.push((start, end));
            }
            cur = if bhi >= hi { None } else { bhi.succ() };
            k += 1;
        }
        if let Some(start) = cur {
            out.push((start, hi));
        }
    }
    out
}

fn contains_range<T: Addr>(ranges: &[(T, T)], x: T) -> bool {
    // Index of the first range whose start is > x; the candidate is the one before.
    let idx = ranges.partition_point(|&(lo, _)| lo <= x);
    idx.checked_sub(1)
        .and_then(|i| ranges.get(i))
        .is_some_and(|&(_, hi)| x <= hi)
}

/// Splits an inclusive range into the minimal list of aligned prefixes.
fn range_to_prefixes<T, F>(lo: T, hi: T, mut emit: F)
where
    T: Addr,
    F: FnMut(T, u8),
{
    if lo == T::ZERO && hi == T::MAX {
        emit(lo, 0);
        return;
    }
    let mut lo = lo;
    loop {
        let align = lo.trailing_zeros_().min(T::BITS - 1);
        // hi - lo + 1 cannot overflow: the full range was handled above.
        let span = hi.saturating_sub_(lo).succ().unwrap_or(T::MAX);
        let fit = T::BITS - 1 - span.leading_zeros_();
        let k = align.min(fit);
        let len = u8::try_from(T::BITS - k).unwrap_or(0);
        emit(lo, len);
        let block_end = lo.saturating_add_(T::low_mask(k));
        if block_end >= hi {
            return;
        }
        match block_end.succ() {
            Some(next) => lo = next,
            None => return,
        }
    }
}

/// A set of IPv4 and IPv6 addresses, kept as sorted, disjoint, non-adjacent
/// inclusive ranges. This is what an `ipBlock` peer selects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpSet {
    /// The empty set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every IPv4 and IPv6 address (`0.0.0.0/0` and `::/0`).
    pub fn all() -> Self {
        Self {
            v4: vec![(0, u32::MAX)],
            v6: vec![(0, u128::MAX)],
        }
    }

    /// The addresses of one prefix.
    pub fn from_cidr(cidr: Cidr) -> Self {
        cidr.to_set()
    }

    /// Parses one CIDR (strict validation) into a set.
    pub fn parse_cidr(text: &str) -> Result<Self, CidrError> {
        Ok(Cidr::parse(text)?.to_set())
    }

    /// A single address.
    pub fn from_addr(addr: IpAddr) -> Self {
        Cidr::host(addr).to_set()
    }

    /// Builds the set selected by `ipBlock { cidr, except }`: `cidr` minus every
    /// `except`. Each `except` must be the same family as `cidr` and a strict
    /// subset of it, else an error naming it (Kubernetes `ValidateIPBlock`).
    pub fn from_ip_block<S: AsRef<str>>(
        cidr: &str,
        except: &[S],
        mode: CidrParsing,
    ) -> Result<Self, CidrError> {
        if cidr.is_empty() {
            return Err(CidrError::MissingCidr);
        }
        let outer = Cidr::parse_with(cidr, mode)?;
        let mut holes = IpSet::empty();
        for e in except {
            let e = e.as_ref();
            let inner = Cidr::parse_with(e, mode)?;
            if inner.is_ipv4() != outer.is_ipv4() {
                return Err(CidrError::ExceptFamily {
                    cidr: cidr.to_string(),
                    except: e.to_string(),
                });
            }
            if !outer.strictly_contains(&inner) {
                return Err(CidrError::ExceptOutside {
                    cidr: cidr.to_string(),
                    except: e.to_string(),
                });
            }
            holes = holes.union(&inner.to_set());
        }
        Ok(outer.to_set().subtract(&holes))
    }

    /// [`IpSet::from_ip_block`] for the k8s-openapi type.
    pub fn from_k8s_ip_block(
        block: &k8s_openapi::api::networking::v1::IPBlock,
        mode: CidrParsing,
    ) -> Result<Self, CidrError> {
        Self::from_ip_block(
            &block.cidr,
            block.except.as_deref().unwrap_or_default(),
            mode,
        )
    }

    /// Addresses in either set.
    pub fn union(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: union_ranges(&self.v4, &other.v4),
            v6: union_ranges(&self.v6, &other.v6),
        }
    }

    /// Addresses in `self` but not in `other`.
    pub fn subtract(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: subtract_ranges(&self.v4, &other.v4),
            v6: subtract_ranges(&self.v6, &other.v6),
        }
    }

    /// Addresses in both sets.
    pub fn intersect(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: intersect_ranges(&self.v4, &other.v4),
            v6: intersect_ranges(&self.v6, &other.v6),
        }
    }

    /// Whether `addr` is in the set (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr.to_canonical() {
            IpAddr::V4(a) => contains_range(&self.v4, u32::from(a)),
            IpAddr::V6(a) => contains_range(&self.v6, u128::from(a)),
        }
    }

    /// True when no address is in the set.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The IPv4 ranges, sorted, inclusive.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4
    }

    /// The IPv6 ranges, sorted, inclusive.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6
    }

    /// The set as the minimal list of prefixes, IPv4 first, each in address order.
    pub fn to_cidrs(&self) -> Vec<Cidr> {
        let mut out = Vec::new();
        for &(lo, hi) in &self.v4 {
            range_to_prefixes(lo, hi, |n, l| out.push(pfx4(n, l)));
        }
        for &(lo, hi) in &self.v6 {
            range_to_prefixes(lo, hi, |n, l| out.push(pfx6(n, l)));
        }
        out
    }
}

impl fmt::Display for IpSet {
    /// Comma-separated prefixes, or `no addresses`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no addresses");
        }
        for (i, c) in self.to_cidrs().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidrs(set: &IpSet) -> Vec<String> {
        set.to_cidrs().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn parses_canonical_cidrs() {
        assert_eq!(Cidr::parse("10.0.0.0/8").unwrap(), pfx4(0x0a00_0000, 8));
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap(), pfx4(0, 0));
        assert_eq!(Cidr::parse("1.2.3.4/32").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(Cidr::parse("::/0").unwrap(), pfx6(0, 0));
        assert_eq!(
            Cidr::parse("fd00:ec2::254/128").unwrap().to_string(),
            "fd00:ec2::254/128"
        );
        assert_eq!("2001:db8::/32".parse::<Cidr>().unwrap().prefix_len(), 32);
    }

    #[test]
    fn rejects_garbage_with_offending_text() {
        for bad in [
            "",
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0.0/8",
            "256.0.0.0/8",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/8/8",
            "x/8",
            "10.0.0.0/ 8",
            "fe80::1%eth0/64",
            "10.0.0.0/99999999999999999999",
        ] {
            let err = Cidr::parse(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
            assert!(Cidr::parse_legacy(bad).is_err(), "legacy accepted {bad:?}");
        }
    }

    #[test]
    fn strict_rejects_host_bits_legacy_masks_them() {
        let err = Cidr::parse("10.1.2.3/8").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`10.1.2.3/8`") && msg.contains("10.0.0.0/8"),
            "{msg}"
        );
        assert_eq!(
            Cidr::parse_legacy("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(Cidr::parse("fd00::1/8").is_err());
        assert_eq!(
            Cidr::parse_legacy("fd00::1/8").unwrap().to_string(),
            "fd00::/8"
        );
    }

    #[test]
    fn strict_rejects_leading_zeros_legacy_reads_decimal() {
        assert!(
            Cidr::parse("010.0.0.0/8")
                .unwrap_err()
                .to_string()
                .contains("leading 0s")
        );
        assert!(
            Cidr::parse("10.0.0.0/08")
                .unwrap_err()
                .to_string()
                .contains("leading 0s")
        );
        assert_eq!(
            Cidr::parse_legacy("010.0.0.0/08").unwrap().to_string(),
            "10.0.0.0/8"
        );
    }

    #[test]
    fn ipv4_mapped_ipv6() {
        assert!(Cidr::parse("::ffff:10.0.0.0/104").is_err());
        // Go's net.IPNet treats it as the IPv4 network 10.0.0.0/8.
        assert_eq!(
            Cidr::parse_legacy("::ffff:10.0.0.0/104").unwrap(),
            Cidr::parse("10.0.0.0/8").unwrap()
        );
        // Shorter than /96 the mapping prefix is masked away: plain IPv6.
        assert_eq!(
            Cidr::parse_legacy("::ffff:0:0/80").unwrap().to_string(),
            "::/80"
        );
        // Queried addresses in mapped form count as IPv4.
        let set = IpSet::parse_cidr("10.0.0.0/8").unwrap();
        assert!(set.contains(ip("::ffff:10.1.2.3")));
    }

    #[test]
    fn cidr_new_masks_and_bounds() {
        assert_eq!(
            Cidr::new(ip("10.1.2.3"), 8)
                .map(|c| c.to_string())
                .as_deref(),
            Some("10.0.0.0/8")
        );
        assert_eq!(
            Cidr::new(ip("fd00::1"), 128)
                .map(|c| c.to_string())
                .as_deref(),
            Some("fd00::1/128")
        );
        assert!(Cidr::new(ip("10.0.0.0"), 33).is_none());
        assert!(Cidr::new(ip("::"), 129).is_none());
        assert_eq!(
            Cidr::new(ip("::ffff:10.0.0.1"), 32),
            Cidr::parse("10.0.0.1/32").ok()
        );
        assert!(Cidr::parse("10.0.0.0/8").unwrap().is_ipv4());
        assert_eq!(Cidr::parse("10.0.0.0/8").unwrap().network(), ip("10.0.0.0"));
        let outer = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(outer.strictly_contains(&Cidr::parse("10.1.0.0/16").unwrap()));
        assert!(!outer.strictly_contains(&outer));
    }

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("192.168.0.0/16").unwrap();
        assert!(c.contains(ip("192.168.255.255")));
        assert!(!c.contains(ip("192.169.0.0")));
        assert!(!c.contains(ip("::1")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("255.255.255.255"))
        );
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().contains(ip("::")));
    }

    #[test]
    fn ipv4_except_punches_holes() {
        let set = IpSet::from_ip_block(
            "0.0.0.0/0",
            &[
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "169.254.169.254/32",
            ],
            CidrParsing::Strict,
        )
        .unwrap();
        assert!(set.contains(ip("8.8.8.8")));
        assert!(set.contains(ip("1.1.1.1")));
        assert!(!set.contains(ip("10.0.0.1")));
        assert!(!set.contains(ip("10.255.255.255")));
        assert!(set.contains(ip("11.0.0.0")));
        assert!(set.contains(ip("9.255.255.255")));
        assert!(!set.contains(ip("172.16.0.0")));
        assert!(!set.contains(ip("172.31.255.255")));
        assert!(set.contains(ip("172.32.0.0")));
        assert!(!set.contains(ip("192.168.1.1")));
        assert!(!set.contains(ip("169.254.169.254")));
        assert!(set.contains(ip("169.254.169.253")));
        assert!(set.contains(ip("169.254.169.255")));
        assert!(set.contains(ip("0.0.0.0")));
        assert!(set.contains(ip("255.255.255.255")));
        // IPv6 is not part of an IPv4 block.
        assert!(!set.contains(ip("2001:4860:4860::8888")));
        let listed = cidrs(&set);
        assert!(listed.contains(&"0.0.0.0/5".to_string()), "{listed:?}");
        assert!(
            listed.contains(&"169.254.169.255/32".to_string()),
            "{listed:?}"
        );
        assert!(!listed.iter().any(|c| c.starts_with("10.")), "{listed:?}");
        // Round trip: the listed prefixes rebuild the same set.
        let rebuilt = set
            .to_cidrs()
            .into_iter()
            .fold(IpSet::empty(), |acc, c| acc.union(&IpSet::from_cidr(c)));
        assert_eq!(rebuilt, set);
    }

    #[test]
    fn ipv6_except_punches_holes() {
        let set =
            IpSet::from_ip_block("::/0", &["fd00:ec2::254/128"], CidrParsing::Strict).unwrap();
        assert!(!set.contains(ip("fd00:ec2::254")));
        assert!(set.contains(ip("fd00:ec2::253")));
        assert!(set.contains(ip("fd00:ec2::255")));
        assert!(set.contains(ip("2001:4860:4860::8888")));
        assert!(set.contains(ip("::")));
        assert!(set.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!set.contains(ip("8.8.8.8")));
        let listed = cidrs(&set);
        assert_eq!(listed.len(), 128, "a /128 hole in ::/0 leaves 128 prefixes");
        assert_eq!(listed.first().map(String::as_str), Some("::/1"));
        assert!(listed.contains(&"fd00:ec2::255/128".to_string()));
    }

    #[test]
    fn except_must_be_strict_subset_of_same_family() {
        let err = IpSet::from_ip_block("10.0.0.0/8", &["192.168.0.0/16"], CidrParsing::Strict)
            .unwrap_err();
        assert!(matches!(err, CidrError::ExceptOutside { .. }));
        assert!(err.to_string().contains("`192.168.0.0/16`"));
        // Equal to cidr: not a strict subset.
        assert!(matches!(
            IpSet::from_ip_block("10.0.0.0/8", &["10.0.0.0/8"], CidrParsing::Strict),
            Err(CidrError::ExceptOutside { .. })
        ));
        // Larger than cidr.
        assert!(IpSet::from_ip_block("10.0.0.0/8", &["0.0.0.0/0"], CidrParsing::Strict).is_err());
        let err =
            IpSet::from_ip_block("0.0.0.0/0", &["fd00::/8"], CidrParsing::Strict).unwrap_err();
        assert!(matches!(err, CidrError::ExceptFamily { .. }));
        assert!(err.to_string().contains("`fd00::/8`"));
        assert_eq!(
            IpSet::from_ip_block::<&str>("", &[], CidrParsing::Strict),
            Err(CidrError::MissingCidr)
        );
        let err =
            IpSet::from_ip_block("0.0.0.0/0", &["10.0.0.1/8"], CidrParsing::Strict).unwrap_err();
        assert!(err.to_string().contains("`10.0.0.1/8`"));
        assert!(IpSet::from_ip_block("0.0.0.0/0", &["10.0.0.1/8"], CidrParsing::Legacy).is_ok());
    }

    #[test]
    fn overlapping_excepts_are_fine() {
        let set = IpSet::from_ip_block(
            "10.0.0.0/8",
            &["10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16"],
            CidrParsing::Strict,
        )
        .unwrap();
        assert_eq!(cidrs(&set).len(), cidrs(&set.union(&set)).len());
        assert!(!set.contains(ip("10.1.2.3")));
        assert!(!set.contains(ip("10.2.200.1")));
        assert!(set.contains(ip("10.3.0.0")));
        assert!(set.contains(ip("10.0.255.255")));
    }

    #[test]
    fn union_intersect_subtract() {
        let a = IpSet::parse_cidr("10.0.0.0/24").unwrap();
        let b = IpSet::parse_cidr("10.0.1.0/24").unwrap();
        let u = a.union(&b);
        assert_eq!(cidrs(&u), ["10.0.0.0/23"], "adjacent ranges merge");
        assert_eq!(u.v4_ranges(), &[(0x0a00_0000, 0x0a00_01ff)]);
        assert_eq!(u.intersect(&b), b);
        assert!(a.intersect(&b).is_empty());
        assert_eq!(u.subtract(&a), b);
        assert!(a.subtract(&u).is_empty());
        assert!(IpSet::empty().is_empty());
        assert!(!IpSet::all().is_empty());
        assert_eq!(cidrs(&IpSet::all()), ["0.0.0.0/0", "::/0"]);
        assert_eq!(IpSet::all().subtract(&IpSet::all()), IpSet::empty());
        let v6 = IpSet::parse_cidr("fd00::/8").unwrap();
        assert_eq!(IpSet::all().intersect(&v6), v6);
        assert!(v6.intersect(&a).is_empty());
        assert_eq!(a.union(&v6).subtract(&a), v6);
        assert_eq!(IpSet::from_addr(ip("1.2.3.4")).to_string(), "1.2.3.4/32");
        assert_eq!(IpSet::empty().to_string(), "no addresses");
    }

    #[test]
    fn subtract_many_holes_in_one_range_and_edges() {
        let base = IpSet::parse_cidr("10.0.0.0/29").unwrap(); // .0 - .7
        let holes = ["10.0.0.0/32", "10.0.0.2/31", "10.0.0.7/32"]
            .iter()
            .fold(IpSet::empty(), |acc, c| {
                acc.union(&IpSet::parse_cidr(c).unwrap())
            });
        let rest = base.subtract(&holes);
        assert_eq!(cidrs(&rest), ["10.0.0.1/32", "10.0.0.4/31", "10.0.0.6/32"]);
        // Holes at the very ends of the address space.
        let all4 = IpSet::parse_cidr("0.0.0.0/0").unwrap();
        let ends = IpSet::parse_cidr("0.0.0.0/32")
            .unwrap()
            .union(&IpSet::parse_cidr("255.255.255.255/32").unwrap());
        let mid = all4.subtract(&ends);
        assert!(!mid.contains(ip("0.0.0.0")));
        assert!(!mid.contains(ip("255.255.255.255")));
        assert!(mid.contains(ip("0.0.0.1")));
        assert_eq!(mid.v4_ranges(), &[(1, u32::MAX - 1)]);
        assert_eq!(mid.union(&ends), all4);
    }

    #[test]
    fn to_cidrs_of_odd_ranges() {
        let set =
            IpSet::from_ip_block("10.0.0.0/24", &["10.0.0.0/32"], CidrParsing::Strict).unwrap();
        assert_eq!(
            cidrs(&set),
            [
                "10.0.0.1/32",
                "10.0.0.2/31",
                "10.0.0.4/30",
                "10.0.0.8/29",
                "10.0.0.16/28",
                "10.0.0.32/27",
                "10.0.0.64/26",
                "10.0.0.128/25"
            ]
        );
        let full6 = IpSet::parse_cidr("::/0").unwrap();
        assert_eq!(cidrs(&full6), ["::/0"]);
        let top = IpSet::parse_cidr("ffff::/16").unwrap();
        assert_eq!(cidrs(&top), ["ffff::/16"]);
    }

    /// Cross-checks the range algebra against a brute-force bitmap over the
    /// 256 addresses of 10.0.0.0/24, with pseudo-random prefixes.
    #[test]
    fn algebra_matches_brute_force() {
        let mut seed: u64 = 0x5eed;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
        let random_set = |next: &mut dyn FnMut() -> u64| {
            let mut set = IpSet::empty();
            let mut bits = [false; 256];
            for _ in 0..(next() % 5) {
                let len = 24 + (next() % 9) as u8; // /24 ../32
                let host = (next() % 256) as u32;
                let cidr = Cidr::new(IpAddr::V4(Ipv4Addr::from(base + host)), len).unwrap();
                set = set.union(&IpSet::from_cidr(cidr));
                for (i, b) in bits.iter_mut().enumerate() {
                    if cidr.contains(IpAddr::V4(Ipv4Addr::from(base + i as u32))) {
                        *b = true;
                    }
                }
            }
            (set, bits)
        };
        for _ in 0..300 {
            let (a, abits) = random_set(&mut next);
            let (b, bbits) = random_set(&mut next);
            type Op = fn(bool, bool) -> bool;
            let ops: [(IpSet, Op); 3] = [
                (a.union(&b), |x, y| x || y),
                (a.intersect(&b), |x, y| x && y),
                (a.subtract(&b), |x, y| x && !y),
            ];
            for (set, op) in ops {
                for i in 0..256u32 {
                    let addr = IpAddr::V4(Ipv4Addr::from(base + i));
                    let want = op(abits[i as usize], bbits[i as usize]);
                    assert_eq!(set.contains(addr), want, "{a} / {b} at {addr}");
                }
                let rebuilt = set
                    .to_cidrs()
                    .into_iter()
                    .fold(IpSet::empty(), |acc, c| acc.union(&IpSet::from_cidr(c)));
                assert_eq!(rebuilt, set);
                // Ranges stay sorted, disjoint and non-adjacent.
                for w in set.v4_ranges().windows(2) {
                    if let [x, y] = w {
                        assert!(x.1.checked_add(1).is_some_and(|e| e < y.0), "{w:?}");
                    }
                }
            }
        }
    }
}
