//! Rules of the staff sign-in at the organisation (OpenID Connect): which Mijn CJG role the
//! organisation's groups give, and where the app may receive the handoff.

use serde::Deserialize;

use crate::staff::StaffRole;

/// One line of the role map: members of `group` get `role`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    pub group: String,
    pub role: StaffRole,
}

/// The organisation's groups mapped to Mijn CJG roles, in the order of the configuration: a
/// person in several mapped groups gets the role of the first line that matches, so the
/// administrator decides, not the order the provider lists groups in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap(pub Vec<RoleMapping>);

impl RoleMap {
    pub fn role_for(&self, groups: &[String]) -> Option<StaffRole> {
        self.0.iter().find(|m| groups.contains(&m.group)).map(|m| m.role)
    }
}

/// Why a `return_to` address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReturnToError {
    #[error("return_to must be http://127.0.0.1:PORT/PATH or http://[::1]:PORT/PATH (RFC 8252 loopback)")]
    NotLoopback,
}

/// The app receives the handoff on its own loopback address (RFC 8252 §7.3): an IP literal,
/// not `localhost` (which a hosts file could point elsewhere), any port, a plain path without
/// query or fragment, so the server's redirect cannot be steered anywhere else.
pub fn check_return_to(url: &str) -> Result<(), ReturnToError> {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .or_else(|| url.strip_prefix("http://[::1]:"))
        .ok_or(ReturnToError::NotLoopback)?;
    let (port, path) = rest.split_at(rest.find('/').ok_or(ReturnToError::NotLoopback)?);
    let port_ok = !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok_and(|p| p > 0);
    let path_ok = url.len() <= 200
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        && !path.contains("..");
    if port_ok && path_ok {
        Ok(())
    } else {
        Err(ReturnToError::NotLoopback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_mapped_group_in_the_configuration_gives_the_role() {
        let map = RoleMap(vec![
            RoleMapping { group: "cjg-beheer".into(), role: StaffRole::FunctioneelBeheerder },
            RoleMapping { group: "cjg-coaches".into(), role: StaffRole::Coach },
        ]);
        let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(map.role_for(&groups(&["cjg-coaches"])), Some(StaffRole::Coach));
        assert_eq!(
            map.role_for(&groups(&["cjg-coaches", "cjg-beheer"])),
            Some(StaffRole::FunctioneelBeheerder),
            "the configuration's order, not the provider's"
        );
        assert_eq!(map.role_for(&groups(&["cjg-receptie"])), None);
        assert_eq!(map.role_for(&[]), None);
        assert_eq!(map.role_for(&groups(&["CJG-COACHES"])), None, "group names match exactly");
    }

    #[test]
    fn the_handoff_goes_only_to_a_loopback_address() {
        for ok in ["http://127.0.0.1:53121/klaar", "http://[::1]:8080/", "http://127.0.0.1:1/a-b_c.d"] {
            assert_eq!(check_return_to(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://localhost:53121/klaar",
            "https://127.0.0.1:53121/klaar",
            "http://127.0.0.1.evil.example/klaar",
            "http://127.0.0.1:53121@evil.example/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:/",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/klaar?x=1",
            "http://127.0.0.1:8080/klaar#x",
            "http://127.0.0.1:8080/../x",
            "http://10.0.0.1:8080/klaar",
            "",
        ] {
            assert_eq!(check_return_to(bad), Err(ReturnToError::NotLoopback), "{bad}");
        }
    }
}
